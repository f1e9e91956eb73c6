"""``tinygrad-edu export`` and ``tinygrad-edu parity`` on checkpoints written by ``tinygrad-edu train``."""

from __future__ import annotations

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor, cli, interop
from tinygrad_edu.cli import common


def run(argv, capsys):
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def checkpoint(tmp_path, capsys):
    """A [2, 5, 2, 1] tanh network with dropout trained 3 epochs with PyTorch's Adam and a schedule."""
    path = tmp_path / "ckpt.npz"
    status, _, err = run(
        ["train", "--layers", "2,5,2,1", "--activation", "tanh", "--dropout", "0.1", "--epochs", "3",
         "--optimizer", "adam-pytorch", "--schedule", "exponential:0.5:10", "--checkpoint", str(path),
         "--quiet"],
        capsys,
    )
    assert status == 0, err
    return path


@pytest.mark.parametrize("command", ["export", "parity"])
def test_help(command, capsys):
    status, out, _ = run([command, "--help"], capsys)
    assert status == 0 and out.startswith(f"usage: tinygrad-edu {command}") and "checkpoint" in out


def test_the_top_level_help_lists_export_and_parity(capsys):
    _, out, _ = run(["--help"], capsys)
    assert "export" in out and "parity" in out


def test_train_records_the_architecture(checkpoint):
    ckpt = tg.load(str(checkpoint))
    arch = ckpt["architecture"]
    assert [int(n) for n in arch["layers"]] == [2, 5, 2, 1]
    assert (arch["activation"], float(arch["dropout"]), arch["dtype"]) == ("tanh", 0.1, "float64")
    assert ckpt["training"]["optimizer"] == "adam-pytorch"


def _saved_model(checkpoint):
    ckpt = tg.load(str(checkpoint))
    model = common.make_network([2, 5, 2, 1], 0, "tanh", 0.1)
    model.load_state_dict(ckpt["model"])
    return model.eval()


def test_export_onnx_runs_in_onnxruntime(checkpoint, tmp_path, capsys):
    ort = need("onnxruntime")
    need("onnx")
    out_path = tmp_path / "out" / "model.onnx"
    status, out, err = run(["export", str(checkpoint), str(out_path)], capsys)
    assert status == 0, err
    assert "wrote" in out and out_path.exists()
    X, _ = common.load_dataset("moons", 300, None, 0)
    session = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": X})[0]
    np.testing.assert_allclose(got, _saved_model(checkpoint)(Tensor(X)).data, rtol=1e-10, atol=1e-10)


def test_export_safetensors_and_pytorch(checkpoint, tmp_path, capsys):
    torch = need("torch")
    need("safetensors")
    from safetensors.torch import load_file

    model = _saved_model(checkpoint)
    status, _, err = run(["export", str(checkpoint), str(tmp_path / "m.safetensors")], capsys)
    assert status == 0, err
    theirs = interop.to_torch(common.make_network([2, 5, 2, 1], 1, "tanh", 0.1))
    theirs.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    for name, value in model.state_dict().items():
        assert np.array_equal(theirs.state_dict()[name].numpy(), value), name
    status, out, err = run(["export", str(checkpoint), str(tmp_path / "m.pt")], capsys)
    assert status == 0, err
    assert "schedule" in out  # says that the file holds the next lr, not the schedule
    saved = torch.load(str(tmp_path / "m.pt"))
    assert saved["optimizer_class"] == "Adam" and saved["architecture"]["activation"] == "tanh"
    fresh = interop.to_torch(common.make_network([2, 5, 2, 1], 1, "tanh", 0.1))
    fresh.load_state_dict(saved["model"])
    optimizer = torch.optim.Adam(fresh.parameters())
    optimizer.load_state_dict(saved["optimizer"])
    steps = {float(s["step"]) for s in optimizer.state_dict()["state"].values()}
    assert steps == {15.0}  # 3 epochs of 5 mini-batches


def test_parity_on_the_checkpoint_passes(checkpoint, capsys):
    need("torch")
    status, out, err = run(["parity", str(checkpoint), "--steps", "4"], capsys)
    assert status == 0, err + out
    assert "dropout (p=0.1) is switched off" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"], ["4"])]
    assert len(rows) == 4 and all(float(r[2]) < 1e-12 for r in rows)
    assert "PASSED" in out


def test_parity_of_the_course_adam_says_why_and_what_to_use(tmp_path, capsys):
    need("torch")
    path = tmp_path / "adam.npz"
    assert run(["train", "--epochs", "1", "--checkpoint", str(path), "--quiet"], capsys)[0] == 0
    status, _, err = run(["parity", str(path)], capsys)
    assert status == 2 and "eps_mode='inside'" in err and "--optimizer adam-pytorch" in err
    assert "Build the optimizer" not in err and "compare_with_torch" not in err  # no Python advice
    status, out, err = run(["parity", str(path), "--optimizer", "adam-pytorch", "--steps", "2"], capsys)
    assert status == 0, err
    assert "PASSED" in out


@pytest.mark.parametrize(
    "optimizer, option", [("adam", "--optimizer adam-pytorch"), ("momentum", "--optimizer nesterov")]
)
def test_export_says_on_stderr_even_quiet_that_the_optimizer_is_left_out(tmp_path, capsys, optimizer, option):
    torch = need("torch")
    path = tmp_path / "m.npz"
    argv = ["train", "--epochs", "1", "--optimizer", optimizer, "--checkpoint", str(path), "--quiet"]
    assert run(argv, capsys)[0] == 0
    status, out, err = run(["export", str(path), str(tmp_path / "m.pt"), "--quiet"], capsys)
    assert status == 0 and out == ""
    assert err.startswith("tinygrad-edu export: note: the optimizer is not included: ")
    assert err.count("\n") == 1
    assert f"a run trained with {option}" in err and "exports its optimizer too" in err
    assert "Build the optimizer" not in err and "optimizer_to_torch" not in err
    assert "optimizer" not in torch.load(str(tmp_path / "m.pt"))

def test_an_old_checkpoint_and_bad_paths_are_clear_errors(tmp_path, capsys):
    old = tmp_path / "old.npz"
    model = common.make_network([2, 3, 1], 0)
    tg.save({"model": model.state_dict(), "epoch": 1}, str(old))
    for command in (["export", str(old), str(tmp_path / "x.onnx")], ["parity", str(old)]):
        status, _, err = run(command, capsys)
        assert status == 2 and "older tinygrad-edu train" in err and "architecture" in err
    status, _, err = run(["export", str(tmp_path / "missing.npz"), "x.onnx"], capsys)
    assert status == 2 and "no checkpoint" in err


def test_export_needs_a_known_suffix_or_format(checkpoint, tmp_path, capsys):
    need("onnx")
    status, _, err = run(["export", str(checkpoint), str(tmp_path / "x.txt")], capsys)
    assert status == 2 and "cannot tell the format" in err and ".onnx" in err
    status, _, err = run(["export", str(checkpoint), str(tmp_path / "x.txt"), "--format", "onnx"], capsys)
    assert status == 0, err
    onnx = need("onnx")
    onnx.checker.check_model(onnx.load(str(tmp_path / "x.txt")))


def test_parity_with_a_nan_weight_fails(checkpoint, tmp_path, capsys):
    need("torch")
    ckpt = tg.load(str(checkpoint))
    ckpt["model"]["0.weight"][0, 0] = np.nan
    path = tmp_path / "nan.npz"
    tg.save(ckpt, str(path))
    status, out, _ = run(["parity", str(path), "--steps", "2"], capsys)
    assert status == 1
    assert "FAILED: the run gave NaN" in out and "PASSED" not in out


def _report(*diffs):
    """A ParityReport with one step per difference (loss, gradient and parameter all that value)."""
    from tinygrad_edu.interop import _parity

    return _parity.ParityReport([_parity.ParityStep(i + 1, 0.5, 0.5, d, d, d) for i, d in enumerate(diffs)])


def test_parity_verdict_fails_on_nan_and_passes_at_the_tolerance(capsys):
    from tinygrad_edu.cli import parity

    assert parity._verdict(_report(float("nan"), 0.0), 1e-10) == 1  # a NaN that is not the first step
    assert "FAILED: the run gave NaN" in capsys.readouterr().out
    assert parity._verdict(_report(1e-12, 1e-10), 1e-10) == 0  # at most the tolerance passes
    assert parity._verdict(_report(2e-10), 1e-10) == 1


def test_parity_lr_replaces_the_checkpoint_optimizers_lr(checkpoint, capsys):
    need("torch")
    status, out, err = run(["parity", str(checkpoint), "--steps", "2"], capsys)
    assert status == 0, err
    status, out_lr, err = run(["parity", str(checkpoint), "--steps", "2", "--lr", "0.5"], capsys)
    assert status == 0, err
    assert "--lr 0.5 replaces the checkpoint's lr and schedule" in out_lr and "PASSED" in out_lr

    def losses(text):
        return [line.split()[1] for line in text.splitlines() if line.split()[:1] in (["1"], ["2"])]

    first, first_lr = losses(out), losses(out_lr)
    assert first[0] == first_lr[0] and first[1] != first_lr[1]  # the same start, another step


def test_parity_lr_is_set_on_every_group_and_the_state_kept(checkpoint):
    import argparse

    from tinygrad_edu.cli import export, parity

    ckpt = tg.load(str(checkpoint))
    model = export.rebuild_model(ckpt)
    args = argparse.Namespace(optimizer=None, lr=0.5, quiet=True)
    optimizer = parity._optimizer(ckpt, model, args)
    assert [g["lr"] for g in optimizer.param_groups] == [0.5]
    assert optimizer.step_count == 15  # 3 epochs of 5 mini-batches, as saved


def test_parity_of_momentum_names_the_command_line_option(tmp_path, capsys):
    need("torch")
    path = tmp_path / "momentum.npz"
    assert run(["train", "--epochs", "1", "--optimizer", "momentum", "--checkpoint", str(path), "--quiet"],
               capsys)[0] == 0
    status, _, err = run(["parity", str(path)], capsys)
    assert status == 2 and "--optimizer nesterov" in err and "--optimizer gd" in err
    assert "optim.SGD(" not in err and len(err.strip().splitlines()) == 1
    status, out, err = run(["parity", str(path), "--optimizer", "nesterov", "--steps", "2"], capsys)
    assert status == 0, err
    assert "PASSED" in out


def test_export_refuses_to_overwrite_its_checkpoint(checkpoint, tmp_path, capsys, monkeypatch):
    before = checkpoint.read_bytes()
    link = tmp_path / "link.onnx"
    link.symlink_to(checkpoint)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    for output in (str(checkpoint), "ckpt.npz", "sub/../ckpt.npz", str(link)):
        status, out, err = run(["export", str(checkpoint), output, "--format", "onnx"], capsys)
        assert status == 2 and "is the checkpoint itself" in err, output
        assert len(err.strip().splitlines()) == 1 and "wrote" not in out
    assert checkpoint.read_bytes() == before


@pytest.mark.parametrize("damage", ["shape", "class"])
def test_an_optimizer_state_that_does_not_fit_is_one_line_for_parity_and_a_note_for_export(
    checkpoint, tmp_path, capsys, damage
):
    torch = need("torch")
    ckpt = tg.load(str(checkpoint))
    if damage == "shape":
        ckpt["optimizer"]["state"][0]["exp_avg"] = np.zeros((3, 3))
    else:
        ckpt["optimizer"]["optimizer"] = "RMSprop"
    path = tmp_path / "edited.npz"
    tg.save(ckpt, str(path))
    status, out, err = run(["parity", str(path), "--steps", "2"], capsys)
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "optimizer state does not fit" in err
    status, out, err = run(["export", str(path), str(tmp_path / "m.pt")], capsys)
    assert status == 0, err
    assert "the optimizer is not included" in err and "optimizer state does not fit" in err
    saved = torch.load(str(tmp_path / "m.pt"))
    assert "optimizer" not in saved and set(saved["model"]) == set(ckpt["model"])


def test_export_refuses_a_format_that_the_suffix_contradicts(checkpoint, tmp_path, capsys):
    output = tmp_path / "m.onnx"
    status, out, err = run(["export", str(checkpoint), str(output), "--format", "pytorch"], capsys)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"--format pytorch for {str(output)!r}, a name of the onnx format" in err and "m.pt" in err
    assert not output.exists()
