"""The command line: every command on tiny settings, its files, its exit statuses and its errors."""

from __future__ import annotations

import builtins
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli
from tinygrad_edu.cli import common, compare, graph

# In CI the real `dot` must be there (the test command installs it): never skip there.
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz's dot is not installed"
)

COMMANDS = ["compare", "train", "graph", "gradcheck"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, capsys):
    """main(argv) -> (status, stdout, stderr)."""
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def table_rows(out: str) -> dict[str, list[str]]:
    """The result table's rows as {optimizer: [loss, accuracy, epochs, time]}."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:3] == ["optimizer", "loss", "accuracy"])
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        name, *cells = line.split()
        if name.endswith(":"):  # the notes under the table: a run that errored or was stopped
            continue
        rows[name] = cells
    return rows


# --- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    status, out, _ = run([command, "--help"], capsys)
    assert status == 0
    assert out.startswith(f"usage: tinygrad-edu {command}")
    assert "--" in out  # lists its options


def test_top_level_help_lists_the_commands(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    for command in COMMANDS:
        assert command in out


def test_no_command_is_a_usage_error(capsys):
    status, _, err = run([], capsys)
    assert status == 2
    assert "usage: tinygrad-edu" in err


def test_python_dash_m_help_in_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "compare" in done.stdout and "gradcheck" in done.stdout


def test_a_reader_that_goes_away_stops_the_command_quietly():
    """`tinygrad-edu exercise list | head -1`: the pipe closes before the output is written; the
    command stops with status 1 and says nothing (before: a BrokenPipeError at exit)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_edu", "exercise", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child.stdout.close()  # long before the child has imported numpy and written anything
    err = child.stderr.read()
    child.stderr.close()
    assert child.wait(timeout=60) == 1
    assert err == ""


def test_python_dash_m_bad_argument_in_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "train", "--lr", "-0.5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--lr" in done.stderr
    assert "Traceback" not in done.stderr


# --- compare -------------------------------------------------------------------------------------


def test_compare_prints_the_table_and_writes_png_and_svg(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "pictures"
    status, out, _ = run(["compare", "--epochs", "3", "--jobs", "1", "--out", str(out_dir)], capsys)
    assert status == 0
    rows = table_rows(out)
    assert list(rows) == ["gd", "momentum", "adam"]
    for loss, accuracy, epochs, seconds in rows.values():
        assert 0 < float(loss) < 1 and 0 <= float(accuracy) <= 1
        assert epochs == "3" and float(seconds) >= 0
    for stem in ("costs", "decision_boundaries"):
        png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text()
        assert str(png) in out and str(svg) in out


def test_compare_options_reach_the_runs(capsys):
    status, out, _ = run(
        [
            "compare",
            "--epochs",
            "2",
            "--optimizers",
            "adam,rmsprop",
            "--no-plots",
            "--quiet",
            "--jobs",
            "1",
            "--dataset",
            "circles",
            "--samples",
            "40",
            "--batch-size",
            "16",
        ],
        capsys,
    )
    assert status == 0
    rows = table_rows(out)
    assert list(rows) == ["adam", "rmsprop"]
    assert all(cells[2] == "2" for cells in rows.values())
    assert "wrote" not in out and "best" not in out  # --quiet: the table only


def test_compare_in_worker_processes_gives_the_same_table_as_in_one(capsys):
    argv = ["compare", "--epochs", "4", "--optimizers", "gd,adam", "--no-plots", "--quiet"]
    status_1, out_1, _ = run([*argv, "--jobs", "1"], capsys)
    status_2, out_2, _ = run([*argv, "--jobs", "2"], capsys)
    assert status_1 == status_2 == 0
    rows_1, rows_2 = table_rows(out_1), table_rows(out_2)
    assert list(rows_2) == ["gd", "adam"]
    for name in rows_1:  # loss, accuracy and epochs agree; time differs
        assert rows_1[name][:3] == rows_2[name][:3]


def test_compare_without_matplotlib_still_prints_the_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(compare, "pyplot", lambda: None)
    status, out, err = run(["compare", "--epochs", "2", "--jobs", "1", "--out", str(tmp_path / "p")], capsys)
    assert status == 0
    assert list(table_rows(out)) == ["gd", "momentum", "adam"]
    assert "pip install matplotlib" in err
    assert not (tmp_path / "p").exists()


def test_compare_uses_the_course_batches_and_initial_weights():
    # The course: He init from np.random.seed(3) in layer order; shuffles with seeds 11, 12, ...
    args = cli.build_parser().parse_args(["compare"])
    make_model, _, X, Y, batches = compare._compare_setup(args)
    rng = np.random.RandomState(3)
    expected_w1 = rng.randn(5, 2) * np.sqrt(2 / 2)
    expected_w2 = rng.randn(2, 5) * np.sqrt(2 / 5)
    state = make_model().state_dict()
    np.testing.assert_array_equal(state["0.weight"], expected_w1)
    np.testing.assert_array_equal(state["2.weight"], expected_w2)
    first = batches(0)
    order = np.random.RandomState(11).permutation(300)
    assert [len(b[0]) for b in first] == [64, 64, 64, 64, 44]
    np.testing.assert_array_equal(first[0][0], X[order[:64]])
    assert Y.shape == (300, 1)


# --- train ---------------------------------------------------------------------------------------


def test_train_writes_a_checkpoint_that_load_reads(tmp_path, capsys):
    path = tmp_path / "ckpt" / "model.npz"
    status, out, _ = run(
        [
            "train",
            "--epochs",
            "7",
            "--layers",
            "2,8,1",
            "--optimizer",
            "momentum",
            "--lr",
            "0.05",
            "--checkpoint",
            str(path),
            "--quiet",
        ],
        capsys,
    )
    assert status == 0
    state = tg.load(str(path))
    assert set(state) == {"model", "optimizer", "epoch", "architecture", "training"}
    assert state["epoch"] == 7
    assert state["model"]["0.weight"].shape == (8, 2) and state["model"]["2.weight"].shape == (1, 8)
    model = common.make_network([2, 8, 1], seed=0)
    model.load_state_dict(state["model"])  # the saved weights fit the same architecture
    assert not np.array_equal(
        model.state_dict()["0.weight"], common.make_network([2, 8, 1], 0).state_dict()["0.weight"]
    )
    assert "epochs 7" in out and "accuracy" in out


def test_train_says_when_its_checkpoint_replaces_one(tmp_path, capsys):
    path = tmp_path / "model.npz"
    argv = ["train", "--epochs", "2", "--layers", "2,4,1", "--samples", "64", "--checkpoint", str(path)]
    status, out, _ = run(argv, capsys)
    assert status == 0 and out.splitlines()[-1] == f"wrote {path}"
    status, out, _ = run([*argv, "--lr", "0.02"], capsys)
    assert status == 0 and out.splitlines()[-1] == f"wrote {path}, replacing the checkpoint there"
    assert tg.load(str(path))["training"]["lr"] == 0.02

def test_train_with_a_schedule_saves_it_in_the_optimizer_state(tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, _, _ = run(
        ["train", "--epochs", "2", "--schedule", "exponential:0.5:10", "--checkpoint", str(path), "--quiet"],
        capsys,
    )
    assert status == 0
    text = repr(tg.load(str(path))["optimizer"])
    assert "ExponentialDecay" in text


def test_train_spirals_with_dropout_and_softmax(capsys):
    status, out, _ = run(
        [
            "train",
            "--dataset",
            "spirals",
            "--classes",
            "4",
            "--layers",
            "2,16,4",
            "--dropout",
            "0.2",
            "--epochs",
            "3",
            "--quiet",
        ],
        capsys,
    )
    assert status == 0
    accuracy = float(out.split("accuracy")[1].split()[0])
    assert 0 <= accuracy <= 1


def test_train_that_diverges_exits_1_with_one_line(capsys):
    status, _, err = run(["train", "--lr", "1e300", "--optimizer", "gd", "--epochs", "5", "--quiet"], capsys)
    if status == 0:
        pytest.skip("this learning rate did not produce a non-finite loss here")
    assert status == 1
    assert err.count("\n") == 1 and "--lr" in err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("exponential:0.96:1000", 0.1 * 0.96 ** (2500 / 1000)),
        ("exponential:0.96:1000:staircase", 0.1 * 0.96**2),
        ("inverse-time:0.5:1000", 0.1 / (1 + 0.5 * 2500 / 1000)),
        ("cosine:5000", 0.1 * 0.5 * (1 + math.cos(math.pi * 2500 / 5000))),
        ("piecewise:1000,2000:0.3,0.2,0.1", 0.1),
    ],
)
def test_schedule_specs(text, expected):
    schedule = common.schedule(text)(0.1)
    assert float(schedule(2500)) == pytest.approx(expected, rel=1e-6)


# --- graph ---------------------------------------------------------------------------------------


@needs_dot
def test_graph_of_an_expression_has_labels_values_and_gradients(tmp_path, capsys):
    status, out, _ = run(
        ["graph", "tanh(a*b + c)", "--values", "a=2,b=-3,c=10", "--out", str(tmp_path)], capsys
    )
    assert status == 0
    svg = (tmp_path / "graph.svg").read_text()
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
    for label in (">a<", ">b<", ">c<", ">tanh<", ">*<", ">+<"):
        assert label in svg
    # d/dc tanh(a*b + c) = 1 - tanh(4)**2 = 0.0013; d/da = b * that
    dc = 1 - math.tanh(4.0) ** 2
    assert f"grad {dc:.4f}" in svg
    assert f"grad {-3 * dc:.4f}".replace("-", "&#45;") in svg
    assert f"value {math.tanh(4.0):.6g}" in out


@needs_dot
def test_graph_frames_one_per_op(tmp_path, capsys):
    status, _, _ = run(
        [
            "graph",
            "relu(x*y) + exp(x)",
            "--values",
            "x=0.5,y=2",
            "--engine",
            "tensor",
            "--frames",
            "--formats",
            "svg",
            "--out",
            str(tmp_path),
            "--name",
            "g",
            "--quiet",
        ],
        capsys,
    )
    assert status == 0
    frames = sorted(os.listdir(tmp_path / "g_frames"))
    assert frames == [f"frame_{i:03d}.svg" for i in range(4)]  # *, relu, exp, +
    assert not (tmp_path / "g.png").exists()


@needs_dot
def test_graph_of_a_small_network_names_its_parameters(tmp_path, capsys):
    status, _, _ = run(["graph", "--layers", "2,3,1", "--out", str(tmp_path), "--formats", "svg"], capsys)
    assert status == 0
    svg = (tmp_path / "graph.svg").read_text()
    assert "0.weight" in svg and "2.bias" in svg and "loss" in svg


def test_graph_never_evaluates_the_expression(tmp_path, capsys, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must not be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    marker = tmp_path / "pwned"
    for expression in (
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        "__import__('os')",
        "a.__class__",
        "tanh.__globals__",
        "(lambda: 1)()",
        "[a for a in (1, 2)]",
        "open('x')",
        "a if a else a",
        "a < 1",
        "True + a",
        "1j * a",
        "'text'",
    ):
        status, out, err = run(["graph", expression, "--values", "a=1", "--out", str(tmp_path)], capsys)
        assert status == 2, expression
        assert err.count("\n") == 1 and "not allowed" in err and "Traceback" not in err, expression
        assert out == ""
    assert not marker.exists()
    assert os.listdir(tmp_path) == []


def test_expression_parser_accepts_the_grammar():
    tree = graph.parse_expression("-tanh(a*b + c) / 2 ** x - sigmoid(+a) + log(exp(relu(b)))")
    root = graph.build_expression(tree, {"a": 0.5, "b": 2.0, "c": -1.0, "x": 3.0}, "tensor")
    expected = (
        -math.tanh(0.5 * 2.0 - 1.0) / 2**3 - 1 / (1 + math.exp(-0.5)) + math.log(math.exp(max(2.0, 0.0)))
    )
    assert float(root.data) == pytest.approx(expected, rel=1e-12)
    value = graph.build_expression(graph.parse_expression("a*a + 3"), {"a": 2.0}, "value")
    value.backward()
    assert value.data == 7.0


@pytest.mark.parametrize(
    "argv, words",
    [
        (["graph", "a*b", "--values", "a=1"], "unknown variable 'b'"),
        (["graph", "a*2", "--values", "a=1,z=3"], "does not use"),
        (["graph", "a +", "--values", "a=1"], "cannot parse"),
        (["graph", "2 + 3"], "no variables"),
        (["graph", "a / 0", "--values", "a=1"], "division by zero"),
        (["graph", "tanh + a", "--values", "a=1"], "is a function"),
        (["graph", "a", "--values", "a=two"], "--values"),
        (["graph", "a", "--values", "a=1", "--formats", "gif"], "--formats"),
        (["graph", "a" * 600, "--values", "a=1"], "longer than"),
        (["train", "--lr", "0"], "--lr"),
        (["train", "--lr", "nan"], "--lr"),
        (["train", "--layers", "2,x,1"], "--layers"),
        (["train", "--layers", "2"], "--layers"),
        (["train", "--layers", "3,4,1"], "first size must be 2"),
        (["train", "--layers", "2,4,3"], "last size"),
        (["train", "--optimizer", "sgdd"], "unknown optimizer 'sgdd'"),
        (["train", "--schedule", "cosine"], "--schedule"),
        (["train", "--schedule", "exponential:0.9:0"], "--schedule"),
        (["train", "--dropout", "1"], "--dropout"),
        (["train", "--epochs", "0"], "--epochs"),
        (["compare", "--optimizers", "gd,nope"], "unknown optimizer 'nope'"),
        (["compare", "--optimizers", "gd,gd"], "twice"),
        (["compare", "--batch-size", "0"], "--batch-size"),
        (["compare", "--dataset", "spirals"], "--dataset"),
        (["gradcheck", "--layers", "2,3,5", "--dataset", "moons"], "last size"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, words, capsys):
    status, out, err = run(argv, capsys)
    assert status == 2
    assert err.count("\n") == 1, err
    assert words in err
    assert err.startswith("tinygrad-edu")
    assert "Traceback" not in err


# --- gradcheck -----------------------------------------------------------------------------------


def test_gradcheck_passes_on_a_correct_network(capsys):
    status, out, _ = run(["gradcheck", "--layers", "2,4,3,1", "--samples", "8"], capsys)
    assert status == 0
    assert "0.weight" in out and "4.bias" in out
    assert out.rstrip().splitlines()[-1].startswith("PASSED")


def test_gradcheck_with_dropout_and_classes(capsys):
    status, out, _ = run(
        [
            "gradcheck",
            "--dataset",
            "spirals",
            "--classes",
            "3",
            "--layers",
            "2,4,3",
            "--dropout",
            "0.3",
            "--samples",
            "9",
        ],
        capsys,
    )
    assert status == 0, out


def test_gradcheck_exits_1_when_it_does_not_pass(capsys):
    # A threshold below float64 rounding cannot be met: the verdict, and so the status, is "failed".
    status, out, _ = run(["gradcheck", "--threshold", "1e-300"], capsys)
    assert status == 1
    assert out.rstrip().splitlines()[-1].startswith("FAILED")


def test_gradcheck_that_compared_only_zeros_says_nothing_was_tested_and_exits_1(capsys):
    # Dropout 0.99 drops every hidden unit of the 16 samples: every derivative is 0 both ways.
    status, out, err = run(["gradcheck", "--dropout", "0.99"], capsys)
    assert status == 1
    assert "great" not in out and "PASSED" not in out
    lines = out.rstrip().splitlines()
    rows = [line for line in lines if line.split()[0] in ("0.weight", "0.bias", "3.weight", "6.bias")]
    assert len(rows) == 4 and all("only zeros compared" in row for row in rows)
    assert "note: every derivative of every parameter is exactly 0" in out
    assert lines[-1] == (
        "NOT TESTED: relative error 0.000e+00, but the check compared zeros with zeros, which a wrong "
        "backward would pass as well"
    )
    assert err.count("\n") == 1 and "nothing was tested" in err and "use a smaller --dropout" in err


def test_gradcheck_tells_exact_zeros_from_derivatives_too_small_to_resolve(capsys):
    """One spiral point: the weights get exactly 0 and the biases derivatives below the resolution; the
    last line said the loss did not depend on any parameter."""
    argv = ["gradcheck", "--dataset", "spirals", "--layers", "2,5,3", "--samples", "1"]
    status, out, err = run(argv, capsys)
    assert status == 1 and "NOT TESTED" in out
    assert err == (
        "tinygrad-edu gradcheck: nothing was tested: the derivatives of 0.weight, 2.weight are exactly 0 and "
        "those of 0.bias, 2.bias are below the finite-difference resolution (the notes above say more); "
        "try another --seed or --layers\n"
    )

def test_gradcheck_names_the_parameters_that_compared_only_zeros(capsys):
    # With these masks only 3.bias has a derivative that is not 0: it is checked, the others are named.
    status, out, err = run(["gradcheck", "--dropout", "0.9", "--seed", "1"], capsys)
    assert status == 0 and err == ""
    zeros = ["0.weight", "0.bias", "3.weight", "6.weight", "6.bias"]
    for line in out.splitlines():
        if line.split() and line.split()[0] in zeros:
            assert "only zeros compared" in line and "great" not in line, line
    assert next(ln for ln in out.splitlines() if ln.startswith("3.bias ")).split()[3] == "great"
    assert out.rstrip().splitlines()[-1].endswith(
        "(great); only zeros compared for 0.weight, 0.bias, 3.weight, 6.weight, 6.bias (not tested)"
    )
    status, out, _ = run(["gradcheck", "--dropout", "0.99", "--quiet"], capsys)
    assert status == 1 and out.startswith("NOT TESTED") and len(out.splitlines()) == 1


@pytest.mark.parametrize(
    "cpus, optimizers, expected",
    [(1, 3, 1), (None, 3, 1), (2, 3, 3), (2, 1, 1), (8, 3, 3), (2, 20, 8)],
)
def test_compare_trains_each_optimizer_in_a_process_of_its_own_when_there_are_cpus_to_share(
    monkeypatch, cpus, optimizers, expected
):
    """Three equally long runs sharing two CPUs end after 1.5 runs' time; two processes take 2."""
    monkeypatch.setattr(compare.os, "cpu_count", lambda: cpus)
    assert compare._default_jobs(optimizers) == expected


# --- where results go is checked before any work -----------------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Make any training fail loudly: the errors below must come before it."""

    def trained(*args, **kwargs):
        raise AssertionError("the command trained before checking its output path")

    monkeypatch.setattr(tg.train, "fit", trained)
    monkeypatch.setattr(tg.train, "compare_optimizers", trained)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--checkpoint", "{file}/model.npz"], ["--checkpoint", "is a file, not a folder"]),
        (["train", "--checkpoint", "{dir}"], ["--checkpoint", "is a folder", "model.npz"]),
        (["train", "--checkpoint", "{pipe}"], ["--checkpoint", "not a regular file"]),
        (["train", "--checkpoint", ""], ["--checkpoint", "expected a file or folder name, got ''"]),
        (["train", "--checkpoint", "  "], ["--checkpoint", "expected a file or folder name"]),
        (["compare", "--jobs", "1", "--out", "{file}"], ["--out", "is a file, not a folder"]),
        (["compare", "--jobs", "1", "--out", "{file}/sub"], ["--out", "cannot create the folder"]),
        (["compare", "--out", ""], ["--out", "expected a file or folder name"]),
        (["graph", "a*b", "--values", "a=1,b=2", "--out", "{file}"], ["--out", "is a file"]),
        (["graph", "a*b", "--values", "a=1,b=2", "--name", "x/y"], ["--name", "without a folder"]),
        (["graph", "a*b", "--values", "a=1,b=2", "--name", ""], ["--name", "without a folder"]),
        (["train", "--seed", "4294967296"], ["--seed", "[0, 4294967295]"]),
        (["gradcheck", "--seed", "-1"], ["--seed", "[0, 4294967295]"]),
        (["graph", "--seed", "99999999999"], ["--seed", "[0, 4294967295]"]),
        (["compare", "--jobs", "1", "--seed", "4294967290", "--epochs", "5"], ["--seed", "+ 8 + epoch"]),
    ],
)
def test_output_paths_and_seeds_are_checked_before_any_training(argv, words, tmp_path, capsys, no_training):
    (tmp_path / "afile").write_text("not a folder")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")  # not a regular file, as /dev/null is not
    argv = [a.format(file=tmp_path / "afile", dir=tmp_path, pipe=tmp_path / "pipe") for a in argv]
    status, out, err = run(argv, capsys)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("tinygrad-edu") and "Traceback" not in err, err
    for word in words:
        assert word in err


@pytest.mark.parametrize("name, words", [
    ("model.pt", ["ends in .pt", "torch.load cannot read", "--checkpoint {d}/model.npz",
                  "tinygrad-edu export {d}/model.npz {d}/model.pt"]),
    ("model.pth", ["ends in .pth", "torch.load", "export {d}/model.npz {d}/model.pth"]),
    ("model.onnx", ["ends in .onnx", "Netron", "export {d}/model.npz {d}/model.onnx"]),
    ("model.safetensors", ["ends in .safetensors", "export {d}/model.npz {d}/model.safetensors"]),
    ("model.ckpt", ["ends in .ckpt", "such as {d}/model.npz"]),
    ("model", ["has no suffix", "such as {d}/model.npz"]),
    (".npz", ["is a suffix with no name before it", "such as {d}/model.npz "]),
    ("model.npz.bak", ["ends in .bak", "such as {d}/model.npz "]),
    ("sub/model.pt", ["ends in .pt"]),
])
def test_train_refuses_a_checkpoint_name_of_another_format_before_training(tmp_path, capsys, monkeypatch,
                                                                          name, words):
    from tinygrad_edu import train as train_module

    def no_training(*args, **kwargs):
        raise AssertionError("trained before refusing the checkpoint name")

    monkeypatch.setattr(train_module, "fit", no_training)
    status, out, err = run(["train", "--checkpoint", str(tmp_path / name)], capsys)
    assert status == 2 and out == ""
    assert err.startswith(f"tinygrad-edu train: error: --checkpoint: {str(tmp_path / name)!r} ")
    assert err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word.format(d=tmp_path) in err, err
    assert os.listdir(tmp_path) == []  # nothing written, no folder made


@pytest.mark.parametrize("name", ["model.npz", "MODEL.NPZ", "run.v2.npz"])
def test_train_takes_a_checkpoint_name_ending_in_npz(tmp_path, capsys, name):
    status, _, err = run(["train", "--epochs", "1", "--checkpoint", str(tmp_path / name), "--quiet"], capsys)
    assert status == 0, err
    assert os.listdir(tmp_path) == [name]


def test_a_save_that_fails_after_training_is_one_line_and_status_1(tmp_path, capsys, monkeypatch):
    from tinygrad_edu import serialization

    def full_disk(obj, path):
        raise OSError(28, f"save: cannot write {path!r}: No space left on device")

    monkeypatch.setattr(serialization, "save", full_disk)
    argv = ["train", "--epochs", "2", "--checkpoint", str(tmp_path / "c.npz"), "--quiet"]
    status, _, err = run(argv, capsys)
    assert status == 1
    assert err.count("\n") == 1 and "No space left" in err and "c.npz" in err and "Traceback" not in err


# --- diverged: a non-finite loss, or a final loss above DIVERGENCE_FACTOR times the initial one ----


def bce_of_the_initial_network(sizes, seed):
    """The initial network's loss on the moons, written out with numpy: mean of
    log(1 + exp(z)) - y z (binary cross-entropy of the logits z)."""
    X, y = tg.data.make_moons(300, noise=0.2, seed=seed)
    model = common.make_network(sizes, seed)
    h = X
    weights = model.state_dict()
    for i in range(0, 2 * (len(sizes) - 1), 2):
        h = h @ weights[f"{i}.weight"].T + weights[f"{i}.bias"]
        if i < 2 * (len(sizes) - 2):
            h = np.maximum(h, 0)
    z = h[:, 0]
    return float(np.mean(np.logaddexp(0, z) - y * z))


def test_train_that_diverges_to_a_large_loss_exits_1(tmp_path, capsys):
    path = tmp_path / "c.npz"
    status, out, err = run(
        ["train", "--lr", "1e6", "--optimizer", "gd", "--epochs", "50", "--checkpoint", str(path)], capsys
    )
    final = float(out.split("loss ")[1].split()[0])
    initial = bce_of_the_initial_network([2, 16, 16, 1], 0)
    assert final > common.DIVERGENCE_FACTOR * initial  # what docs/cli.md calls diverged
    assert status == 1
    assert err.count("\n") == 1 and "diverged" in err and "--lr" in err and f"{initial:.6g}" in err
    assert not path.exists()  # a diverged run does not overwrite a checkpoint


def test_the_diverging_run_of_cli_md_gives_the_numbers_it_states(capsys):
    """docs/cli.md's example of a diverged run, with the numbers it prints (the doc once stated another)."""
    with open(os.path.join(ROOT, "docs", "cli.md"), encoding="utf-8") as f:
        doc = " ".join(f.read().split())
    assert (
        "For example `tinygrad-edu train --lr 1e6 --optimizer gd` ends with a loss of 111287.95 "
        "against 0.777492 at the start: status 1." in doc
    )
    status, out, err = run(["train", "--lr", "1e6", "--optimizer", "gd"], capsys)
    assert status == 1
    assert out.splitlines()[-1].startswith("epochs 1000  loss 111287.95")
    assert "the final loss 111288 is more than 2 times the initial network's loss 0.777492" in err


def test_a_run_that_converges_is_not_diverged(capsys):
    status, out, err = run(["train", "--epochs", "20", "--quiet"], capsys)
    assert status == 0 and err == ""


def test_compare_reports_every_diverged_run_and_exits_1(capsys):
    argv = ["compare", "--lr", "1e6", "--epochs", "20", "--no-plots", "--quiet", "--jobs", "1"]
    argv += ["--optimizers", "gd,adam"]
    status, out, err = run(argv, capsys)
    assert status == 1
    assert set(table_rows(out)) == {"gd", "adam"}  # the table is still printed
    lines = err.splitlines()
    assert len(lines) == 2 and "gd diverged" in lines[0] and "adam diverged" in lines[1]


def test_compare_names_no_best_run_when_every_run_diverged(capsys):
    # before: "best (lowest final loss): gd", a run that had just been reported as diverged
    argv = ["compare", "--lr", "1e6", "--epochs", "20", "--no-plots", "--jobs", "1"]
    argv += ["--optimizers", "gd,adam"]
    status, out, err = run(argv, capsys)
    assert status == 1 and "gd diverged" in err and "adam diverged" in err
    assert "best (lowest final loss): none (every run diverged);" in out


def test_divergence_rule():
    assert common.divergence(0.7, 0.7 * common.DIVERGENCE_FACTOR) is None
    assert "more than 2 times" in common.divergence(0.7, 1.41)
    assert common.divergence(0.7, 0.01) is None
    assert "nan" in common.divergence(0.7, float("nan"))
    assert "inf" in common.divergence(0.7, float("inf"))


def test_no_raw_numpy_warning_before_the_non_finite_loss_error():
    for argv in (
        ["train", "--lr", "1e300", "--optimizer", "gd", "--epochs", "5", "--quiet"],
        ["compare", "--lr", "1e300", "--epochs", "3", "--no-plots", "--quiet", "--optimizers", "gd,adam"],
    ):
        done = subprocess.run(
            [sys.executable, "-W", "always", "-m", "tinygrad_edu", *argv],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert "RuntimeWarning" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert all(line.startswith("tinygrad-edu") for line in done.stderr.splitlines()), done.stderr


# --- a value that starts with '-' ---------------------------------------------------------------


def test_an_expression_starting_with_a_dash_gets_a_hint(capsys):
    status, _, err = run(["graph", "-a*b", "--values", "a=1,b=2"], capsys)
    assert status == 2
    assert err.count("\n") == 1 and "'--'" in err and "quote" in err and "-a*b" in err


@needs_dot
def test_the_hinted_spellings_work(tmp_path, capsys):
    for argv in (
        ["graph", "--values", "a=1,b=2", "--out", str(tmp_path), "--formats", "svg", "--", "-a*b"],
        ["graph", " -a*b", "--values", "a=1,b=2", "--out", str(tmp_path), "--formats", "svg"],
    ):
        status, out, _ = run(argv, capsys)
        assert status == 0 and "value -2" in out


# --- --quiet: only the result, in every command ---------------------------------------------------


@needs_dot
def test_quiet_prints_only_the_result_in_every_command(tmp_path, capsys):
    argv = ["train", "--epochs", "3", "--quiet", "--checkpoint", str(tmp_path / "c.npz")]
    status, out, _ = run(argv, capsys)
    assert status == 0 and len(out.splitlines()) == 1 and out.startswith("epochs 3  loss")
    argv = ["compare", "--epochs", "2", "--quiet", "--jobs", "1", "--out", str(tmp_path)]
    argv += ["--optimizers", "gd"]
    status, out, _ = run(argv, capsys)
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == ["optimizer", "---------", "gd"]
    argv = ["graph", "a*b", "--values", "a=2,b=3", "--quiet", "--out", str(tmp_path), "--formats", "svg"]
    status, out, _ = run(argv, capsys)
    assert status == 0 and out == "value 6\n"
    status, out, _ = run(["gradcheck", "--quiet"], capsys)
    assert status == 0 and len(out.splitlines()) == 1 and out.startswith("PASSED")
    for command in COMMANDS + ["export", "parity"]:
        _, help_text, _ = run([command, "--help"], capsys)
        text = " ".join(help_text.split())
        assert "--quiet print only" in text or "--quiet print nothing" in text, command
        assert "errors, still go to stderr" in text or "errors still go to stderr" in text, command


def test_graph_without_the_graphviz_package_says_what_to_install(tmp_path, monkeypatch, capsys):
    """The graphviz Python package missing (a --no-deps install): one line and status 1, no traceback."""
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` now fails
    status, out, err = run(["graph", "a*b", "--values", "a=2,b=3", "--out", str(tmp_path)], capsys)
    assert status == 1
    hint = "viz: graph pictures need the graphviz Python package: pip install graphviz"
    assert err == f"tinygrad-edu graph: {hint}\n"
    assert list(tmp_path.iterdir()) == []


# --- Ctrl-C ------------------------------------------------------------------------------------
# A terminal's Ctrl-C sends SIGINT to the whole foreground process group: the command and, for
# compare, its worker processes. Each test starts the command in a group of its own, waits until
# it says training started, sends SIGINT to the group and checks the status, stderr and files.

needs_process_groups = pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
TIMEOUT = 180  # seconds: a hang fails the test instead of blocking the suite


def ctrl_c(argv, cwd, started, times=1):
    """Run ``tinygrad-edu argv`` in its own process group; once ``started`` (a line's text) has been
    printed ``times`` times, send SIGINT to the group. -> (status, stdout, stderr)."""
    import signal
    import threading
    import time

    child = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_edu", *argv],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    out, ready = [], threading.Event()

    def read():
        for line in child.stdout:
            out.append(line)
            if sum(started in seen for seen in out) >= times:
                ready.set()
        ready.set()  # the end of the output: the command ended before it was interrupted

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(TIMEOUT), f"no {started!r} within {TIMEOUT} s: {''.join(out)}"
        assert child.poll() is None, f"it ended before Ctrl-C: {''.join(out)}{child.stderr.read()}"
        time.sleep(0.5)  # the line comes just before the first step: let some steps be done
        os.killpg(child.pid, signal.SIGINT)
        status = child.wait(TIMEOUT)
        reader.join(TIMEOUT)
        err = child.stderr.read()
        assert_group_ended(child.pid)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        child.stdout.close()
        child.stderr.close()
    return status, "".join(out), err


def assert_group_ended(group):
    """No process of the group is left (compare's workers have stopped, not been orphaned)."""
    import signal
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("a process of the command was still running after it exited")


@needs_process_groups
def test_ctrl_c_in_train_exits_130_and_writes_the_checkpoint_of_the_model_trained_so_far(tmp_path):
    argv = ["train", "--layers", "2,4,1", "--samples", "64", "--epochs", "10000000", "--checkpoint", "c.npz"]
    status, out, err = ctrl_c(argv, tmp_path, "moons: 64 points; network 2-4-1; adam")
    assert status == 130, out + err
    assert "(interrupted)" not in out
    epochs = int(out.split("epochs ")[1].split()[0])
    assert 0 < epochs < 10_000_000
    assert err.count("\n") == 1 and err.startswith("tinygrad-edu train: interrupted after "), err
    assert f"({epochs} complete epochs); wrote c.npz with the model trained so far" in err
    assert "Traceback" not in err
    state = tg.load(str(tmp_path / "c.npz"))
    assert int(state["epoch"]) == epochs
    model = common.make_network([2, 4, 1], seed=0)
    model.load_state_dict(state["model"])


@needs_process_groups
def test_ctrl_c_in_a_diverging_train_exits_130_and_writes_no_checkpoint(tmp_path):
    argv = ["train", "--lr", "1e6", "--optimizer", "gd", "--epochs", "10000000", "--checkpoint", "c.npz"]
    status, out, err = ctrl_c(argv, tmp_path, "moons: 300 points; network 2-16-16-1; gd")
    assert status == 130, out + err
    assert err.count("\n") == 1 and "interrupted after " in err and "the run so far diverged" in err
    assert err.rstrip().endswith("; no checkpoint written")
    assert not (tmp_path / "c.npz").exists()


@needs_process_groups
def test_ctrl_c_in_compare_prints_the_runs_so_far_and_stops_its_worker_processes(tmp_path):
    argv = ["compare", "--epochs", "10000000", "--jobs", "3", "--out", "pictures"]
    status, out, err = ctrl_c(argv, tmp_path, " started", times=3)  # one line from each worker
    assert status == 130, out + err
    rows = table_rows(out)
    assert list(rows) == ["gd", "momentum", "adam"]
    assert all(0 <= int(cells[2]) < 10_000_000 for cells in rows.values())
    assert sorted(line.split()[0] for line in out.splitlines() if "stopped: accuracy" in line) == [
        "adam", "gd", "momentum"
    ]
    assert err == (
        "tinygrad-edu compare: interrupted: the table shows the runs completed or stopped so far; "
        "no pictures written\n"
    )
    assert not any((tmp_path / "pictures").glob("*"))  # (the folder is made, if matplotlib is there)


@needs_process_groups
def test_ctrl_c_in_compare_in_one_process_prints_the_runs_so_far(tmp_path):
    argv = ["compare", "--epochs", "10000000", "--jobs", "1", "--no-plots"]
    status, out, err = ctrl_c(argv, tmp_path, "[1/3] gd")
    assert status == 130, out + err
    rows = table_rows(out)
    assert list(rows) == ["gd"] and 0 <= int(rows["gd"][2]) < 10_000_000
    assert "[2/3]" not in out
    assert "best (lowest final loss): none (no run finished);" in out  # it named gd, cut short
    assert "\ngd: stopped by Ctrl-C after " in out and "epoch(s), not counted as best\n" in out
    assert err == (
        "tinygrad-edu compare: interrupted: the table shows the runs completed or stopped so far; "
        "no pictures written\n"
    )


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_while_compare_writes_its_pictures(tmp_path, monkeypatch, capsys, presses):
    """The four pictures belong together: a first Ctrl-C while they are written lets them finish; a
    second stops at once, and the message says which of them are new."""
    import contextlib
    import signal

    pytest.importorskip("matplotlib")
    from tinygrad_edu import _files

    real, done = _files.atomic_path, []

    @contextlib.contextmanager
    def ctrl_c_after_each_file(path, **kwargs):
        with real(path, **kwargs) as tmp:
            yield tmp
        done.append(os.path.basename(path))
        if len(done) <= presses:
            os.kill(os.getpid(), signal.SIGINT)  # (the handler runs in this, the main, thread)

    monkeypatch.setattr(_files, "atomic_path", ctrl_c_after_each_file)
    out_dir = tmp_path / "pictures"
    status = cli.main(["compare", "--epochs", "2", "--samples", "64", "--out", str(out_dir)])
    err = capsys.readouterr().err
    assert status == 130
    if presses == 1:
        assert sorted(p.name for p in out_dir.iterdir()) == [
            "costs.png", "costs.svg", "decision_boundaries.png", "decision_boundaries.svg"
        ]
        assert err == "tinygrad-edu compare: interrupted: the pictures were finished first\n"
    else:
        assert sorted(p.name for p in out_dir.iterdir()) == ["costs.png", "costs.svg"]
        assert err == (
            f"tinygrad-edu compare: interrupted while writing the pictures: new in {out_dir}: costs.png, "
            "costs.svg; any other picture there is from an earlier run\ntinygrad-edu compare: interrupted\n"
        )

def test_cli_md_names_every_command_of_the_parser():
    """docs/cli.md's count and list of commands, and its sections, are the parser's commands in order."""
    import re

    from tinygrad_edu.cli import parser

    names = [command.__name__.rsplit(".", 1)[1] for command in parser.COMMANDS]
    assert names == ["compare", "train", "graph", "gradcheck", "exercise", "export", "parity"]
    with open(os.path.join(ROOT, "docs", "cli.md"), encoding="utf-8") as f:
        text = f.read()
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    match = re.search(r"It has (\w+) commands \(([^)]*)\)", text)
    assert match, "cli.md should say 'It has N commands (a, b, ...)'"
    assert match.group(1) == words[len(names) - 1]
    assert [n.strip() for n in " ".join(match.group(2).split()).split(",")] == names
    assert re.findall(r"^## `(\w+)`", text, flags=re.M) == names


# --- exercise grade: where the tables go is checked before anyone is graded -----------------------


@pytest.fixture
def a_class(tmp_path, monkeypatch):
    """class/alice/lr_decay.py and class/bob/; grading anyone fails the test."""
    from tinygrad_edu import exercises

    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "bob").mkdir()
    (tmp_path / "class" / "alice" / "lr_decay.py").write_text("alice's work\n")
    (tmp_path / "mine.py").write_text("my work\n")
    (tmp_path / "out").mkdir()

    def no_grading(*args, **kwargs):
        raise AssertionError("graded before checking the output paths")

    monkeypatch.setattr(exercises, "grade", no_grading)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("options, words", [
    (["--csv", "class/alice/lr_decay.py"],
     ["--csv: 'class/alice/lr_decay.py' would replace a file in 'class/alice', a student's folder",
      "outside the student folders"]),
    (["--csv", "class/alice/lr_decay.py", "--force"], ["would replace a file in 'class/alice'"]),
    (["--json", "class/alice/grades.json"], ["--json: 'class/alice/grades.json' is in 'class/alice'"]),
    (["--csv", "class/dave/g.csv"],
     ["would make a folder 'class/dave', which grade would take for a student's"]),
    (["--csv", "class/../class/bob/g.csv"], ["is in 'class/bob', a student's folder"]),
    (["--csv", "g.csv", "--json", "g.csv"], ["--csv 'g.csv' and --json 'g.csv' are the same file",
                                             "one table would be lost"]),
    (["--csv", "g.csv", "--json", "./out/../g.csv"], ["are the same file"]),
    (["--csv", "out"], ["--csv: 'out' is a folder", "out/grades.csv"]),
    (["--json", "out"], ["--json: 'out' is a folder", "out/grades.json"]),
    (["--json", "mine.py"], ["--json: 'mine.py' exists and is a Python file", "--force"]),
])
def test_grade_refuses_an_output_before_grading_anyone(a_class, capsys, options, words):
    status, out, err = run(["exercise", "grade", "class", *options], capsys)
    assert status == 2, err
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("tinygrad-edu exercise grade: error: ")
    for word in words:
        assert word in err, err
    assert (a_class / "class" / "alice" / "lr_decay.py").read_text() == "alice's work\n"
    assert (a_class / "mine.py").read_text() == "my work\n"
    assert sorted(os.listdir(a_class / "class")) == ["alice", "bob"]
    assert os.listdir(a_class / "out") == [] and not (a_class / "g.csv").exists()


def test_grade_writes_over_a_py_file_with_force_and_beside_the_class(a_class, capsys, monkeypatch):
    from tinygrad_edu import exercises

    rows = [{"student": "alice", "exercise": "lr_decay", "score": 1.0, "passed": True, "checks_passed": 3,
             "checks": 3, "status": "passed", "feedback": ""}]
    monkeypatch.setattr(exercises, "grade", lambda *args, **kwargs: rows)
    argv = ["exercise", "grade", "class", "--json", "mine.py", "--csv", "class/grades.csv", "--force"]
    status, _, err = run(argv, capsys)
    assert status == 0, err
    assert (a_class / "mine.py").read_text().startswith("[")
    assert (a_class / "class" / "grades.csv").read_text() == exercises.rows_to_csv(rows)


def test_what_cli_md_says_of_loading_a_float64_checkpoint_into_a_model_built_by_hand(tmp_path, capsys):
    """The checkpoint is float64; a model built with the default dtype rounds it to float32, one
    built after tg.set_default_dtype(np.float64) keeps it exactly (docs/cli.md, docs/modules.md)."""
    from tinygrad_edu import nn

    path = tmp_path / "c.npz"
    assert run(["train", "--layers", "2,4,1", "--epochs", "2", "--checkpoint", str(path), "--quiet"],
               capsys)[0] == 0
    weights = tg.load(path)["model"]
    assert weights["0.weight"].dtype == np.float64

    def by_hand():
        return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))

    rounded = by_hand()
    rounded.load_state_dict(weights)
    assert rounded[0].weight.dtype == np.float32
    assert not np.array_equal(rounded[0].weight.data, weights["0.weight"])
    before = tg.get_default_dtype()
    tg.set_default_dtype(np.float64)
    try:
        kept = by_hand()
    finally:
        tg.set_default_dtype(before)
    kept.load_state_dict(weights)
    assert kept[0].weight.dtype == np.float64 and np.array_equal(kept[0].weight.data, weights["0.weight"])
    with open(os.path.join(ROOT, "docs", "cli.md"), encoding="utf-8") as f:
        text = " ".join(f.read().split())
    assert "The checkpoint is float64" in text and "tg.set_default_dtype(np.float64)` before building" in text


def test_exercise_errors_name_the_action_and_what_to_write(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x\n")
    status, out, err = run(["exercise", "start", "backward_tanh", "afile"], capsys)
    assert status == 2 and err == "tinygrad-edu exercise start: error: DIR: 'afile' is a file, not a folder\n"
    status, out, err = run(["exercise", "check", "exercises/bug_value_engine.py"], capsys)
    assert status == 2 and err.startswith("tinygrad-edu exercise check: error: no exercise ")
    assert err.rstrip().endswith(
        "looks like a file: the id comes first, check bug_value_engine exercises/bug_value_engine.py"
    )
    _, help_text, _ = run(["exercise", "--help"], capsys)
    assert "check ID [PATH]" in help_text


def test_train_refused_for_its_layers_makes_no_checkpoint_folder(tmp_path, capsys):
    folder = tmp_path / "nd1" / "a"
    status, _, err = run(["train", "--layers", "3,4,1", "--checkpoint", str(folder / "m.npz")], capsys)
    assert status == 2 and "--layers" in err
    assert not (tmp_path / "nd1").exists()
