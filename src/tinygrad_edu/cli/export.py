"""``tinygrad-edu export``: a checkpoint of ``train`` as ONNX, safetensors or a PyTorch file."""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import sys
from typing import Any

import numpy as np

from tinygrad_edu import _files, nn
from tinygrad_edu.cli.common import (
    ACTIVATIONS,
    OPTIMIZERS,
    PROG,
    UsageError,
    check_output_file,
    int_at_least,
    make_network,
    same_file,
    say,
    torch_optimizer_reason,
)

FORMATS = {".onnx": "onnx", ".safetensors": "safetensors", ".pt": "pytorch", ".pth": "pytorch"}
_SUFFIX = {"onnx": ".onnx", "safetensors": ".safetensors", "pytorch": ".pt"}


def load_checkpoint(path: str) -> dict[str, Any]:
    """A checkpoint written by ``tinygrad-edu train``, with the architecture it records, or a UsageError."""
    from tinygrad_edu.serialization import CheckpointError, load

    if not os.path.isfile(path):
        raise UsageError(f"no checkpoint at {path!r} (write one with tinygrad-edu train --checkpoint PATH)")
    try:
        ckpt = load(path)
    except CheckpointError as err:
        raise UsageError(f"{path!r} is not a readable checkpoint: {err}") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise UsageError(f"{path!r} is not a checkpoint of tinygrad-edu train (it has no 'model')")
    arch = ckpt.get("architecture")
    if not isinstance(arch, dict) or not {"layers", "activation", "dropout", "dtype"} <= set(arch):
        raise UsageError(
            f"{path!r} does not record the network's architecture (layers, activation, dropout, dtype): it "
            "was written by an older tinygrad-edu train. Train it again to export it or compare it"
        )
    if arch["activation"] not in ACTIVATIONS:
        raise UsageError(f"{path!r} records an unknown activation {arch['activation']!r}")
    return ckpt


def rebuild_model(ckpt: dict[str, Any]) -> nn.Sequential:
    """The checkpoint's network (``make_network`` of its architecture) with its saved weights."""
    arch = ckpt["architecture"]
    layers = [int(n) for n in np.asarray(arch["layers"]).ravel()]
    model = make_network(layers, 0, str(arch["activation"]), float(arch["dropout"]))
    model.to(np.dtype(str(arch["dtype"])))
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as err:
        raise UsageError(
            f"the checkpoint's weights do not fit its architecture {dict(arch)}: {err}"
        ) from None
    return model


def rebuild_optimizer(ckpt: dict[str, Any], model: nn.Module) -> Any:
    """The checkpoint's optimizer with its saved state, or None when the checkpoint does not say which."""
    training = ckpt.get("training") or {}
    name = training.get("optimizer")
    if name not in OPTIMIZERS or "optimizer" not in ckpt:
        return None
    optimizer = OPTIMIZERS[str(name)](list(model.parameters()), float(training.get("lr", 0.01)))
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
    except (TypeError, ValueError, KeyError) as err:  # (a file edited, or put together by hand)
        raise UsageError(f"the checkpoint's optimizer state does not fit its network: {err}") from None
    return optimizer


def run(args: argparse.Namespace) -> int:
    """Write the checkpoint's network in the format of OUTPUT's suffix (or --format)."""
    from tinygrad_edu import interop

    ckpt = load_checkpoint(args.checkpoint)
    suffix = os.path.splitext(args.output)[1].lower()
    fmt = args.format or FORMATS.get(suffix)
    if suffix in FORMATS and FORMATS[suffix] != fmt:  # a reader would take the file for the other format
        raise UsageError(
            f"--format {fmt} for {args.output!r}, a name of the {FORMATS[suffix]} format; name the file for "
            f"its format (e.g. {os.path.splitext(args.output)[0]}{_SUFFIX[fmt]}) or leave --format out"
        )
    if fmt is None:
        raise UsageError(
            f"cannot tell the format of {args.output!r}; end it in {', '.join(FORMATS)} or give --format"
        )
    check_output_file(args.output, "OUTPUT")
    if same_file(args.checkpoint, args.output):
        raise UsageError(f"OUTPUT {args.output!r} is the checkpoint itself; give another file name")
    model = rebuild_model(ckpt)
    try:
        if fmt == "onnx":
            layers = np.asarray(ckpt["architecture"]["layers"]).ravel()
            example = np.zeros((1, int(layers[0])), dtype=str(ckpt["architecture"]["dtype"]))
            interop.export_onnx(model, example, args.output, opset=args.opset)
        elif fmt == "safetensors":
            _save_safetensors(model, args.output)
        else:
            _save_pytorch(model, ckpt, args)
    except ImportError as err:
        raise UsageError(str(err)) from None
    say(args.quiet, f"wrote {args.output} ({fmt})")
    return 0


def _save_safetensors(model: nn.Module, output: str) -> None:
    """save_safetensors; an error of the safetensors library that is not an OSError, as one line."""
    from tinygrad_edu import interop

    safetensors = interop._common.require("safetensors", "tinygrad-edu export")
    try:
        interop.save_safetensors(model, output)
    except safetensors.SafetensorError as exc:  # save_safetensors makes its I/O errors OSErrors
        kept = "the previous file is kept" if os.path.lexists(output) else "no file was written"
        message = f"export: cannot write {output!r}: safetensors failed: {exc}; {kept}"
        raise OSError(errno.EIO, message) from None


def _save_pytorch(model: nn.Module, ckpt: dict[str, Any], args: argparse.Namespace) -> None:
    """torch.save of {"model": state_dict, "optimizer": state_dict (when it converts), "architecture"}."""
    from tinygrad_edu import interop

    torch = interop._common.require("torch", "tinygrad-edu export")
    torch_model = interop.to_torch(model)
    out: dict[str, Any] = {"model": torch_model.state_dict(), "architecture": dict(ckpt["architecture"])}
    try:
        optimizer = rebuild_optimizer(ckpt, model)
    except UsageError as err:
        optimizer = None
        _optimizer_left_out(str(err))
    if optimizer is not None:
        try:
            torch_optimizer = interop.optimizer_to_torch(optimizer, torch_model, allow_schedule=True)
            out["optimizer"] = torch_optimizer.state_dict()
            out["optimizer_class"] = type(optimizer).__name__
            if any(callable(g["lr"]) for g in optimizer.param_groups):
                say(args.quiet, "the optimizer's lr is its schedule's next value; the schedule is not "
                    "in the file (interop.scheduler_to_torch makes it a LambdaLR)")
        except (TypeError, ValueError) as err:
            reason = torch_optimizer_reason(str(err), "a run trained with {option} exports its optimizer too")
            _optimizer_left_out(reason)
    with _files.atomic_path(args.output, where="export") as tmp:  # all or nothing
        try:
            torch.save(out, tmp)
        except RuntimeError as exc:  # torch's zip writer reports a full disk so, without an errno
            raise _torch_save_failed(exc, tmp) from None  # atomic_path names the file and what is left


def _optimizer_left_out(reason: str) -> None:
    """The .pt file will hold no optimizer: said on stderr, with --quiet too (something is left out)."""
    print(f"{PROG} export: note: the optimizer is not included: {reason}", file=sys.stderr)


def _torch_save_failed(exc: RuntimeError, tmp: str) -> OSError:
    """The OSError for a RuntimeError of torch.save: a full disk when the disk has (nearly) no room."""
    try:
        full = shutil.disk_usage(os.path.dirname(os.path.abspath(tmp))).free < 1 << 20
    except OSError:
        full = False
    if full:
        return OSError(errno.ENOSPC, f"torch.save failed: {os.strerror(errno.ENOSPC)}")
    first = (str(exc).strip().splitlines() or [""])[0]
    return OSError(errno.EIO, f"torch.save failed: {type(exc).__name__}: {first}")


def add_parser(sub: Any) -> None:
    """The ``export`` subcommand and its options."""
    p = sub.add_parser(
        "export",
        help="write a train checkpoint's network as ONNX, safetensors or a PyTorch file",
        description="Rebuild the network of a checkpoint written by 'tinygrad-edu train --checkpoint' and "
        "write it as ONNX (.onnx: onnxruntime runs it, Netron draws it), safetensors (.safetensors: "
        "PyTorch's parameter names) or a PyTorch file (.pt: torch.save of the torch state dicts of the "
        "model and, when it converts, the optimizer). Needs the interop packages: "
        "bash dev.sh interop in a checkout (PyTorch's CPU wheel first).",
    )
    p.add_argument("checkpoint", help="the .npz written by tinygrad-edu train --checkpoint")
    p.add_argument("output", help="the file to write; its suffix chooses the format")
    p.add_argument(
        "--format", choices=sorted(set(FORMATS.values())), default=None, help="default: from the suffix"
    )
    p.add_argument("--opset", type=int_at_least(13), default=None, help="ONNX operator set (default 17)")
    p.add_argument(
        "--quiet", action="store_true",
        help="print nothing: the file is the result; a note of what is left out, and errors, "
        "still go to stderr",
    )
    p.set_defaults(run=run)
