"""The command line's messages: options that would be ignored are refused, repeated options add up,
the two graph engines agree on a value that is not finite, and a folder that cannot be written is
explained with the real reason."""

from __future__ import annotations

import errno
import os
import shutil
import sys

import pytest

from tinygrad_edu import cli
from tinygrad_edu.cli import common
from tinygrad_edu.cli.parser import build_parser

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz's dot is not installed"
)


def run(argv, capsys):
    """main(argv) -> (status, stdout, stderr)."""
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(status, err, *words):
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("tinygrad-edu") and "Traceback" not in err, err
    for word in words:
        assert word in err, err


# --- graph --values ------------------------------------------------------------------------------


def test_repeated_values_add_up():
    args = build_parser().parse_args(["graph", "a*b", "--values", "a=2", "--values", "b=3,c=1"])
    assert args.values == {"a": 2.0, "b": 3.0, "c": 1.0}


@needs_dot
def test_graph_with_values_given_twice_draws_with_both(tmp_path, capsys):
    status, out, err = run(
        ["graph", "a*b", "--values", "a=2", "--values", "b=3", "--out", str(tmp_path), "--formats", "svg"],
        capsys,
    )
    assert status == 0, err
    assert "value 6" in out


@pytest.mark.parametrize(
    "values",
    [["--values", "a=2", "--values", "a=3,b=1"], ["--values", "a=2,a=3,b=1"]],
    ids=["two options", "one option"],
)
def test_a_variable_given_twice_is_refused(values, tmp_path, capsys):
    status, _, err = run(["graph", "a*b", *values, "--out", str(tmp_path)], capsys)
    one_error_line(status, err, "--values", "a is given twice")


# --- graph: a value that is not finite -----------------------------------------------------------


@pytest.mark.parametrize("engine", ["value", "tensor"])
@pytest.mark.parametrize(
    "expression, values, words",
    [
        ("log(a)", "a=-1", "log"),
        ("a / b", "a=1,b=0", "division by zero|a / b is inf"),
        ("exp(a)", "a=1000", "exp"),
        ("exp(log(a))", "a=0", "log"),
        ("a * b", "a=1e300,b=1e300", "a * b is inf"),
    ],
)
def test_both_engines_refuse_a_value_that_is_not_finite(engine, expression, values, words, tmp_path, capsys):
    status, out, err = run(
        ["graph", expression, "--values", values, "--engine", engine, "--out", str(tmp_path)], capsys
    )
    one_error_line(status, err, "cannot compute the expression")
    assert any(w in err for w in words.split("|")), err
    assert "value" not in out


def test_the_tensor_engine_names_the_part_and_the_values(tmp_path, capsys):
    status, _, err = run(
        ["graph", "tanh(log(a) + b)", "--values", "a=-1,b=2", "--engine", "tensor", "--out", str(tmp_path)],
        capsys,
    )
    one_error_line(status, err, "log(a) is nan with a=-1")


# --- graph: the network's options with an expression ---------------------------------------------


@pytest.mark.parametrize(
    "options, words",
    [
        (["--layers", "2,4,1"], "--layers describes the network"),
        (["--seed", "3", "--samples", "5"], "--samples, --seed describe"),
        (["--expand"], "--expand describes"),
    ],
)
def test_network_options_with_an_expression_are_refused(options, words, tmp_path, capsys):
    status, _, err = run(["graph", "a*b", "--values", "a=1,b=2", *options, "--out", str(tmp_path)], capsys)
    one_error_line(status, err, words, "leave them out")


@needs_dot
def test_the_network_graph_still_takes_its_options(tmp_path, capsys):
    argv = ["graph", "--layers", "2,4,1", "--seed", "3", "--samples", "5", "--expand"]
    status, _, err = run([*argv, "--out", str(tmp_path), "--formats", "svg", "--quiet"], capsys)
    assert status == 0, err


# --- train and gradcheck: options that would do nothing ------------------------------------------


@pytest.mark.parametrize("command", ["train", "gradcheck"])
@pytest.mark.parametrize("dataset", ["moons", "circles"])
def test_classes_with_a_two_class_data_set_is_refused(command, dataset, capsys):
    status, _, err = run([command, "--dataset", dataset, "--classes", "3"], capsys)
    one_error_line(status, err, "--classes is for --dataset spirals", f"the {dataset} data set always has 2")


@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_dropout_without_a_hidden_layer_is_refused(command, capsys):
    status, _, err = run([command, "--dropout", "0.5", "--layers", "2,1"], capsys)
    one_error_line(status, err, "--dropout: the network 2-1 has no hidden layer", "--layers 2,16,1")


def test_spirals_without_classes_still_has_three(capsys):
    status, out, err = run(
        ["train", "--dataset", "spirals", "--layers", "2,8,3", "--epochs", "1", "--samples", "30", "--quiet"],
        capsys,
    )
    assert status == 0, err


def test_a_network_without_hidden_layers_trains_without_dropout(capsys):
    status, _, err = run(["train", "--layers", "2,1", "--epochs", "1", "--quiet"], capsys)
    assert status == 0, err


# --- a folder where nothing can be created -------------------------------------------------------


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.isdir("/proc/self"), reason="needs Linux's /proc"
)
@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--checkpoint", "/proc/x.npz"], "cannot write in the folder '/proc': it is on a proc"),
        (["graph", "a", "--values", "a=1", "--out", "/proc/x/y"], "'/proc' is on a proc file system"),
    ],
)
def test_proc_is_named_as_a_file_system_where_nothing_can_be_created(argv, words, capsys):
    status, _, err = run(argv, capsys)
    one_error_line(status, err, words, "choose another folder")
    assert "No such file or directory" in err  # the system's own answer, explained


def test_an_enoent_in_a_folder_that_exists_names_its_file_system(tmp_path, monkeypatch):
    def no_file_here(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(common.tempfile, "TemporaryFile", no_file_here)
    monkeypatch.setattr(common, "file_system_type", lambda path: "fuse.odd")
    with pytest.raises(common.UsageError, match="it is on a fuse.odd file system, where nothing can be"):
        common.check_output_folder(str(tmp_path), "--out")
    monkeypatch.setattr(common, "file_system_type", lambda path: None)
    with pytest.raises(common.UsageError, match=r"probably a virtual file system \(such as /proc\)"):
        common.check_output_folder(str(tmp_path), "--out")


def test_other_reasons_are_the_systems_own_words(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(common.tempfile, "TemporaryFile", refused)
    with pytest.raises(common.UsageError, match=r"cannot write in the folder .*: Permission denied$"):
        common.check_output_folder(str(tmp_path), "--out")


def test_file_system_type_reads_the_longest_mount_point(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 0\n"
        "tmp /my\\040disk tmpfs rw 0 0\n"
    )
    assert common.file_system_type("/proc", str(mounts)) == "proc"
    assert common.file_system_type("/proc/1/fd", str(mounts)) == "proc"
    assert common.file_system_type("/procx", str(mounts)) == "ext4"
    assert common.file_system_type("/my disk/a", str(mounts)) == "tmpfs"
    assert common.file_system_type("/", str(tmp_path / "no mounts")) is None


# --- graph --html and --frames -------------------------------------------------------------------


@pytest.mark.parametrize("option", [["--html", "p.html"], ["--frames"]])
def test_a_variable_alone_has_no_backward_step_to_show(option, tmp_path, capsys):
    status, out, err = run(["graph", "a", "--values", "a=1", "--out", str(tmp_path / "o"), *option], capsys)
    one_error_line(status, err, f"{option[0]}: the expression is the variable a alone", "no step to show")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())  # nothing was drawn


@pytest.mark.parametrize("name", ["player", "x.svg", "out.pdf"])
def test_the_player_file_must_end_in_html(name, tmp_path, capsys):
    page = tmp_path / name
    argv = ["graph", "a*2", "--values", "a=1", "--out", str(tmp_path), "--html", str(page)]
    status, out, err = run(argv, capsys)
    one_error_line(status, err, "--html", "ending in .html", repr(str(page)))
    assert not page.exists()


def test_the_player_file_must_not_be_a_folder(tmp_path, capsys):
    (tmp_path / "q.html").mkdir()
    status, out, err = run(["graph", "a*2", "--values", "a=1", "--out", str(tmp_path), "--html",
                            str(tmp_path / "q.html")], capsys)
    one_error_line(status, err, "--html", "is a folder")
    assert list((tmp_path / "q.html").iterdir()) == []
