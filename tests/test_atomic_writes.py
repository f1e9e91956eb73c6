"""Every file the library writes is all or nothing.

For each writer: a write that fails half-way (a few bytes reach the temporary file, then an
``OSError``, as a full disk does) leaves the previous file at the target unchanged and no
temporary file in the folder; a write that succeeds leaves the complete file (read back).
The writers that hand a path to a library (torch.save, onnx.save, safetensors' save_file,
matplotlib's savefig) are failed by monkeypatching that library call; the ones that write
through a file object of their own are failed by a "full disk" on the temporary file.
"""

from __future__ import annotations

import errno
import json
import os
import stat

import numpy as np
import pytest
from test_interop import need
from test_viz import needs_dot

import tinygrad_edu as tg
from tinygrad_edu import Tensor, _files, cli, exercises, nn, viz
from tinygrad_edu.exercises import _kit
from tinygrad_edu.serialization import CheckpointError

OLD = b"the previous, good file\n"


def no_space(*args):
    return OSError(errno.ENOSPC, "No space left on device", *args)


def old_file(folder, name):
    """A previous good file at ``folder/name``; returns its path."""
    path = folder / name
    path.write_bytes(OLD)
    return path


def assert_kept(path):
    """The previous file is unchanged and it is the only file in its folder."""
    assert path.read_bytes() == OLD
    assert sorted(os.listdir(path.parent)) == [path.name], "a temporary file was left behind"


def write_a_little_then_fail(target):
    """What a library call does on a full disk: some bytes reach the file, then OSError."""
    if hasattr(target, "write"):
        target.write(b"\x89PART")
    else:
        with open(target, "wb") as f:
            f.write(b"\x89PART")
    raise no_space()


class _FullDisk:
    """A file that takes the first few bytes (or characters) of a write, then fails as a full disk."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[:5])
        self._f.flush()
        raise no_space()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


@pytest.fixture
def full_disk(monkeypatch, tmp_path):
    """Files opened from a descriptor in ``tmp_path`` (the temporary files) fail after a few bytes."""
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        mine = os.fstat(fd)
        ours = [p for p in tmp_path.rglob("*") if p.is_file() and os.path.samestat(mine, os.stat(p))]
        return _FullDisk(f) if ours else f

    monkeypatch.setattr(os, "fdopen", fdopen)


def small_model():
    rng = np.random.RandomState(0)
    return nn.Sequential(nn.Linear(2, 3, rng=rng), nn.ReLU(), nn.Linear(3, 1, rng=rng))


# --- the helpers --------------------------------------------------------------------------------


def test_atomic_write_replaces_the_file_only_when_the_block_ends(tmp_path):
    path = old_file(tmp_path, "notes.txt")
    with _files.atomic_write(path, "w", encoding="utf-8") as f:
        f.write("new ✓\n")
        assert path.read_bytes() == OLD  # nothing visible until the end
    assert path.read_text(encoding="utf-8") == "new ✓\n"
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("helper", ["atomic_write", "atomic_path"])
def test_an_error_in_the_block_keeps_the_old_file(tmp_path, helper):
    path = old_file(tmp_path, "f.bin")
    with pytest.raises(KeyboardInterrupt):
        if helper == "atomic_write":
            with _files.atomic_write(path) as f:
                f.write(b"half")
                raise KeyboardInterrupt
        else:
            with _files.atomic_path(path) as tmp:
                assert os.path.dirname(tmp) == str(tmp_path) and tmp.endswith(".tmp")
                with open(tmp, "wb") as f:
                    f.write(b"half")
                raise KeyboardInterrupt
    assert_kept(path)


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
def test_atomic_path_keeps_the_permissions_and_follows_a_symlink(tmp_path):
    (tmp_path / "runs").mkdir()
    target = old_file(tmp_path / "runs", "model.bin")
    os.chmod(target, 0o600)
    link = tmp_path / "latest.bin"
    link.symlink_to(target)
    with _files.atomic_path(link) as tmp:
        os.remove(tmp)  # a library that makes the file anew
        with open(tmp, "wb") as f:
            f.write(b"new")
    assert target.read_bytes() == b"new" and link.is_symlink()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(tmp_path / "runs") == ["model.bin"]


@pytest.fixture
def umask():
    """Set the process's umask for the test (``umask(0o027)``); the old one is put back after it."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_atomic_path_gives_a_new_file_the_umask_mode_when_the_library_makes_it_anew(tmp_path, umask, mask,
                                                                                  mode):
    umask(mask)
    path = tmp_path / "new.bin"
    with _files.atomic_path(path) as tmp:
        os.remove(tmp)  # a library that makes the file anew, private, as safetensors does
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"new")
        os.close(fd)
    assert path.read_bytes() == b"new" and stat.S_IMODE(os.stat(path).st_mode) == mode
    with open(tmp_path / "plain.bin", "wb"):  # what a plain open() gives
        pass
    assert stat.S_IMODE(os.stat(tmp_path / "plain.bin").st_mode) == mode


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
def test_save_safetensors_gives_the_umask_mode_or_keeps_the_old_mode(tmp_path, umask):
    need("safetensors")
    path = tmp_path / "m.safetensors"
    tg.interop.save_safetensors(small_model(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # as tg.save's file
    tg.save({"w": np.ones(2)}, tmp_path / "c.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "c.npz").st_mode) == 0o644
    os.chmod(path, 0o640)
    tg.interop.save_safetensors(small_model(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    umask(0o077)
    tg.interop.save_safetensors(small_model(), tmp_path / "private.safetensors")
    assert stat.S_IMODE(os.stat(tmp_path / "private.safetensors").st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
@pytest.mark.parametrize("suffix, package", [(".safetensors", "safetensors"), (".pt", "torch"),
                                             (".onnx", "onnx")])
def test_export_gives_the_umask_mode_or_keeps_the_old_mode(tmp_path, umask, checkpoint, capsys, suffix,
                                                           package):
    need(package)
    path = tmp_path / f"m{suffix}"
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 0, capsys.readouterr().err
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    os.chmod(path, 0o600)
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 0, capsys.readouterr().err
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permission bits")
def test_atomic_path_replaces_a_read_only_file_and_keeps_it_read_only(tmp_path):
    path = old_file(tmp_path, "frozen.bin")
    os.chmod(path, 0o444)
    with _files.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:  # the library opens the temporary file by name: it must be writable
            f.write(b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(os.stat(path).st_mode) == 0o444


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe (POSIX)")
def test_a_pipe_is_written_directly_never_replaced(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    fd = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so that opening it to write does not block
    try:
        with _files.atomic_write(pipe, "w") as f:
            f.write("through")
        assert os.read(fd, 100) == b"through"
    finally:
        os.close(fd)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        with _files.atomic_write(tmp_path):
            pass


def test_an_unwritable_folder_names_the_path_not_the_temporary_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"to_html: cannot write .*nope.*does not exist") as info:
        with _files.atomic_write(tmp_path / "nope" / "page.html", "w", where="to_html"):
            pass
    assert ".tmp" not in str(info.value)


# --- tg.save ------------------------------------------------------------------------------------


def test_save_fails_half_way_keeps_the_old_file(tmp_path, full_disk):
    path = old_file(tmp_path, "c.npz")
    with pytest.raises(OSError, match="No space"):
        tg.save({"w": np.ones(10)}, path)
    assert_kept(path)


def test_save_writes_the_complete_file(tmp_path):
    path = old_file(tmp_path, "c.npz")
    tg.save({"w": np.arange(4.0)}, path)
    np.testing.assert_array_equal(tg.load(path)["w"], np.arange(4.0))


# --- interop: safetensors, ONNX, and export's PyTorch file -------------------------------------------


def test_save_safetensors_fails_half_way_keeps_the_old_file(tmp_path, monkeypatch):
    need("safetensors")
    import safetensors.numpy

    monkeypatch.setattr(safetensors.numpy, "save_file", lambda arrays, f, **kw: write_a_little_then_fail(f))
    path = old_file(tmp_path, "m.safetensors")
    with pytest.raises(OSError, match="No space"):
        tg.interop.save_safetensors(small_model(), path)
    assert_kept(path)


def test_save_safetensors_writes_the_complete_file(tmp_path):
    need("safetensors")
    path = old_file(tmp_path, "m.safetensors")
    model = small_model()
    assert tg.interop.save_safetensors(model, path) == str(path)
    back = tg.interop.load_safetensors(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(back[name], value)
    assert os.listdir(tmp_path) == ["m.safetensors"]


@pytest.mark.parametrize("content", [b"", b"hello, not a safetensors file", OLD * 3])
def test_load_safetensors_of_a_foreign_file_is_a_checkpoint_error_naming_it(tmp_path, content):
    need("safetensors")
    path = tmp_path / "notes.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        tg.interop.load_safetensors(path)
    message = str(info.value)
    assert message.startswith(f"load_safetensors: {str(path)!r} is not a readable .safetensors file")
    assert "expected" in message and "header" in message


def test_load_safetensors_of_a_truncated_file_is_a_checkpoint_error(tmp_path):
    need("safetensors")
    path = tmp_path / "m.safetensors"
    tg.interop.save_safetensors(small_model(), path)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(CheckpointError, match="m.safetensors' is not a readable"):
        tg.interop.load_safetensors(path)
    with pytest.raises(FileNotFoundError):
        tg.interop.load_safetensors(tmp_path / "missing.safetensors")


def test_export_onnx_fails_half_way_keeps_the_old_file(tmp_path, monkeypatch):
    onnx = need("onnx")
    monkeypatch.setattr(onnx, "save", lambda proto, f, *args, **kwargs: write_a_little_then_fail(f))
    path = old_file(tmp_path, "m.onnx")
    with pytest.raises(OSError, match="No space"):
        tg.interop.export_onnx(small_model(), np.zeros((1, 2), dtype=np.float32), path)
    assert_kept(path)


def test_export_onnx_writes_the_complete_file(tmp_path):
    onnx = need("onnx")
    path = old_file(tmp_path, "m.onnx")
    tg.interop.export_onnx(small_model(), np.zeros((1, 2), dtype=np.float32), path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert sorted(i.name for i in proto.graph.initializer) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert os.listdir(tmp_path) == ["m.onnx"]


@pytest.fixture
def checkpoint(tmp_path_factory, capsys):
    path = tmp_path_factory.mktemp("train") / "ckpt.npz"
    argv = ["train", "--layers", "2,3,1", "--epochs", "1", "--checkpoint", str(path), "--quiet"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    return path


def test_export_pytorch_fails_half_way_keeps_the_old_file(tmp_path, monkeypatch, checkpoint, capsys):
    torch = need("torch")
    monkeypatch.setattr(torch, "save", lambda obj, f, *args, **kwargs: write_a_little_then_fail(f))
    path = old_file(tmp_path, "m.pt")
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 1
    assert "No space" in capsys.readouterr().err
    assert_kept(path)


def test_export_pytorch_writes_the_complete_file(tmp_path, checkpoint, capsys):
    torch = need("torch")
    path = old_file(tmp_path, "m.pt")
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 0, capsys.readouterr().err
    saved = torch.load(str(path))
    assert sorted(saved["model"]) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert os.listdir(tmp_path) == ["m.pt"]


# --- pictures: viz.render, the HTML player, plot's save= and compare's pictures --------------------


def test_render_fails_half_way_keeps_the_old_file(tmp_path, monkeypatch, full_disk):
    monkeypatch.setattr(viz, "pipe", lambda digraph, format="svg": b"<svg>a whole picture</svg>")
    path = old_file(tmp_path, "g.svg")
    with pytest.raises(OSError, match="No space"):
        viz.render(viz.draw_graph(Tensor([1.0, 2.0]).sum()), path)
    assert_kept(path)


@needs_dot
def test_render_writes_the_complete_file(tmp_path):
    path = old_file(tmp_path, "g.svg")
    viz.render(viz.draw_graph((Tensor([1.0, 2.0], requires_grad=True) * 3).sum()), path)
    assert path.read_text().rstrip().endswith("</svg>")
    assert os.listdir(tmp_path) == ["g.svg"]


def traced_frames():
    x = Tensor([1.0, 2.0], requires_grad=True)
    return viz.trace_backward((x * x).sum())


@needs_dot
def test_to_html_fails_half_way_keeps_the_old_file(tmp_path, full_disk):
    path = old_file(tmp_path, "player.html")
    with pytest.raises(OSError, match="No space"):
        traced_frames().to_html(path)
    assert_kept(path)


@needs_dot
def test_to_html_and_save_frames_write_complete_files(tmp_path):
    frames = traced_frames()
    path = old_file(tmp_path, "player.html")
    frames.to_html(path)
    assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")
    (page,) = viz.save_frames(frames, tmp_path / "other.html", format="html")
    assert open(page, encoding="utf-8").read().rstrip().endswith("</html>")
    pictures = viz.save_frames(frames, tmp_path / "frames")
    assert all(open(p).read().rstrip().endswith("</svg>") for p in pictures)
    assert sorted(os.listdir(tmp_path / "frames")) == [os.path.basename(p) for p in pictures]


@pytest.fixture
def failing_savefig(monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    monkeypatch.setattr(Figure, "savefig", lambda self, fname, *a, **kw: write_a_little_then_fail(fname))


def test_plot_save_fails_half_way_keeps_the_old_file(tmp_path, failing_savefig):
    from tinygrad_edu import plot

    path = old_file(tmp_path, "loss.png")
    with pytest.raises(OSError, match="No space"):
        plot.plot_schedules({"constant": lambda s: 0.1}, 5, save=path)
    assert_kept(path)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_save_writes_the_complete_file(tmp_path, suffix):
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plot

    path = old_file(tmp_path, "lr" + suffix)
    plot.plot_schedules({"constant": lambda s: 0.1}, 5, save=path)
    data = path.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    else:
        assert data.rstrip().endswith(b"</svg>")
    assert os.listdir(tmp_path) == [path.name]


def test_compare_pictures_fail_half_way_keep_the_old_files(tmp_path, failing_savefig, capsys):
    out = tmp_path / "pictures"
    out.mkdir()
    path = old_file(out, "costs.png")
    argv = ["compare", "--epochs", "1", "--jobs", "1", "--optimizers", "gd", "--out", str(out), "--quiet"]
    assert cli.main(argv) == 1
    assert "No space" in capsys.readouterr().err
    assert_kept(path)


# --- the exercises: the report of a check, the files start/solution write, grade's --csv/--json -------


def test_exercise_files_and_reports_fail_half_way_keep_the_old_files(tmp_path, full_disk):
    work = old_file(tmp_path, "backward_mul.py")
    with pytest.raises(OSError, match="No space"):
        exercises.solution("backward_mul", tmp_path, overwrite=True)
    assert_kept(work)
    (tmp_path / "report").mkdir()
    report = old_file(tmp_path / "report", "report.json")
    with pytest.raises(OSError, match="No space"):
        _kit.run_file("backward_mul", str(work), str(report))
    assert_kept(report)


def test_exercise_files_and_reports_are_complete(tmp_path):
    work = old_file(tmp_path, "backward_mul.py")
    assert exercises.solution("backward_mul", tmp_path, overwrite=True) == work
    # the reference, its "Check it:" line naming the file it was written to
    reference = exercises.get("backward_mul").reference
    check_it = "tinygrad-edu exercise check backward_mul "
    assert work.read_text(encoding="utf-8") == reference.replace(
        f"{check_it}exercises/backward_mul.py", f"{check_it}{work}"
    )
    (tmp_path / "report").mkdir()
    report = old_file(tmp_path / "report", "report.json")
    _kit.run_file("backward_mul", str(work), str(report))
    assert _kit.Report.from_dict(json.loads(report.read_text())).passed
    assert sorted(os.listdir(tmp_path)) == ["backward_mul.py", "report"]
    assert os.listdir(tmp_path / "report") == ["report.json"]


ROWS = [{"student": "ada", "exercise": "backward_mul", "score": 1.0, "passed": True, "checks_passed": 3,
         "checks": 3, "status": "passed", "feedback": "ça marche"}]


@pytest.mark.parametrize("option", ["--csv", "--json"])
def test_grade_outputs_fail_half_way_keep_the_old_files(tmp_path, monkeypatch, capsys, full_disk, option):
    monkeypatch.setattr(exercises, "grade", lambda *args, **kwargs: ROWS)
    (tmp_path / "class").mkdir()
    (tmp_path / "out").mkdir()
    path = old_file(tmp_path / "out", "grades")
    assert cli.main(["exercise", "grade", str(tmp_path / "class"), option, str(path)]) == 1
    assert "No space" in capsys.readouterr().err
    assert_kept(path)


def test_grade_outputs_are_complete(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(exercises, "grade", lambda *args, **kwargs: ROWS)
    (tmp_path / "class").mkdir()
    csv_path, json_path = old_file(tmp_path, "g.csv"), old_file(tmp_path, "g.json")
    argv = ["exercise", "grade", str(tmp_path / "class"), "--csv", str(csv_path), "--json", str(json_path)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert csv_path.read_text(encoding="utf-8") == exercises.rows_to_csv(ROWS)
    assert json.loads(json_path.read_text(encoding="utf-8")) == ROWS
    assert sorted(os.listdir(tmp_path)) == ["class", "g.csv", "g.json"]


# --- a full disk on the command line: one line naming the file and saying what is left -------------


def assert_one_line_naming(err, path, left):
    assert err.count("\n") == 1 and "Traceback" not in err and "[Errno" not in err, err
    assert f"cannot write {str(path)!r}" in err and left in err, err


@pytest.mark.parametrize("existed", [True, False])
def test_export_pytorch_on_a_full_disk_is_one_line_naming_the_file(tmp_path, monkeypatch, checkpoint, capsys,
                                                                   existed):
    torch = need("torch")

    def torch_save_on_a_full_disk(obj, f, *args, **kwargs):  # what torch.save raises: no errno
        with open(f, "wb") as out:
            out.write(b"PK\x03\x04")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 3200 vs 3088")

    monkeypatch.setattr(torch, "save", torch_save_on_a_full_disk)
    path = old_file(tmp_path, "m.pt") if existed else tmp_path / "m.pt"
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    note = "tinygrad-edu export: note: the optimizer is not included: "  # (the course's Adam, eps inside)
    if err.startswith(note):
        err = err.split("\n", 1)[1]
    assert err.startswith(f"tinygrad-edu export: error: cannot write {str(path)!r}: torch.save failed: ")
    assert_one_line_naming(err, path, "the previous file is kept" if existed else "no file was written")
    if existed:
        assert_kept(path)
    else:
        assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("existed", [True, False])
def test_export_safetensors_on_a_full_disk_is_one_line_naming_the_file(tmp_path, monkeypatch, checkpoint,
                                                                       capsys, existed):
    library = need("safetensors")
    import safetensors.numpy

    def save_file_on_a_full_disk(arrays, f, **kwargs):  # what safetensors raises
        with open(f, "wb") as out:
            out.write(b"\x10\x00")
        raise library.SafetensorError(
            "Error while serializing: I/O error: No space left on device (os error 28)"
        )

    monkeypatch.setattr(safetensors.numpy, "save_file", save_file_on_a_full_disk)
    path = old_file(tmp_path, "m.safetensors") if existed else tmp_path / "m.safetensors"
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert_one_line_naming(err, path, "the previous file is kept" if existed else "no file was written")
    if existed:
        assert_kept(path)
    else:
        assert os.listdir(tmp_path) == []
    library_error = r"^\[Errno 28\] save_safetensors: cannot write .*No space left on device"
    with pytest.raises(OSError, match=library_error) as info:
        tg.interop.save_safetensors(small_model(), path)
    assert info.value.errno == errno.ENOSPC


def test_export_safetensors_another_library_error_is_one_line(tmp_path, monkeypatch, checkpoint, capsys):
    library = need("safetensors")
    import safetensors.numpy

    def save_file_fails(arrays, f, **kwargs):
        raise library.SafetensorError("Error while serializing: something else")

    monkeypatch.setattr(safetensors.numpy, "save_file", save_file_fails)
    path = old_file(tmp_path, "m.safetensors")
    assert cli.main(["export", str(checkpoint), str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "safetensors failed: Error while serializing: something else" in err
    assert_one_line_naming(err, path, "the previous file is kept")
    assert_kept(path)


def test_train_on_a_full_disk_names_the_checkpoint(tmp_path, capsys, full_disk):
    path = old_file(tmp_path, "c.npz")
    argv = ["train", "--layers", "2,3,1", "--epochs", "1", "--checkpoint", str(path), "--quiet"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tinygrad-edu train: error: save: cannot write {str(path)!r}: No space left on")
    assert_one_line_naming(err, path, "the previous file is kept")
    assert_kept(path)


def test_a_failed_write_names_the_file_in_the_library_too(tmp_path, full_disk):
    path = tmp_path / "c.npz"
    with pytest.raises(OSError) as info:
        tg.save({"w": np.ones(10)}, path)
    assert str(info.value) == (
        f"[Errno 28] save: cannot write {str(path)!r}: No space left on device; no file was written"
    )
    assert info.value.errno == errno.ENOSPC and os.listdir(tmp_path) == []
    with pytest.raises(OSError, match=r"notes.txt'.*the previous file is kept"):
        with _files.atomic_write(old_file(tmp_path, "notes.txt"), "w", where="notes"):
            raise no_space()
    other = OSError(errno.ENOENT, "No such file or directory", str(tmp_path / "elsewhere"))
    with pytest.raises(OSError) as info:  # an error about another file is left as it is
        with _files.atomic_write(tmp_path / "notes.txt", "w"):
            raise other
    assert info.value is other


def test_a_read_only_file_is_refused_as_open_refuses_it_and_kept(tmp_path, monkeypatch):
    # As root, open() writes a 0o444 file, and so does atomic_path (above); for its owner, open()
    # refuses it, and renaming over it must not succeed where open would not. os.access answers as
    # open would: here it is told the file is not writable, as it says to an ordinary user.
    path = old_file(tmp_path, "frozen.npz")
    monkeypatch.setattr(_files.os, "access", lambda p, mode: os.path.realpath(p) != str(path))
    with pytest.raises(PermissionError, match=r"save: cannot write '.*frozen.npz': the file is read-only"):
        tg.save({"w": np.zeros(2)}, str(path))
    assert path.read_bytes() == OLD and sorted(os.listdir(tmp_path)) == ["frozen.npz"]


def test_a_long_file_name_that_open_accepts_is_saved(tmp_path):
    name = "a" * 240 + ".npz"  # 244 bytes: legal, but not with the temporary name's 30 more
    path = tmp_path / name
    tg.save({"w": np.arange(3.0)}, str(path))
    assert np.array_equal(tg.load(str(path))["w"], np.arange(3.0))
    assert os.listdir(tmp_path) == [name]
    wide = "é" * 121 + ".npz"  # 246 bytes in UTF-8: cut between characters, never inside one
    tg.save({"w": np.arange(2.0)}, str(tmp_path / wide))
    assert sorted(os.listdir(tmp_path)) == sorted([name, wide])


def test_a_stale_temporary_file_of_a_long_name_is_removed_too(tmp_path):
    name = "b" * 240 + ".npz"
    digits = len(str(os.getpid()))  # a process that is gone, with a number as long as ours
    dead = next(p for p in range(10 ** digits - 1, 0, -1) if _files._process_is_gone(p))
    assert len(str(dead)) == digits
    stale = tmp_path / f".{_files._temporary_stem(name)}.{dead}-0123456789ab.tmp"
    stale.write_bytes(b"half")
    tg.save({"w": np.zeros(1)}, str(tmp_path / name))
    assert os.listdir(tmp_path) == [name]


def test_a_link_into_a_missing_folder_names_that_folder(tmp_path):
    link = tmp_path / "best.npz"
    link.symlink_to(tmp_path / "gone" / "best.npz")
    with pytest.raises(FileNotFoundError, match=r"the folder '.*gone' does not exist"):
        tg.save({"w": np.zeros(1)}, str(link))
