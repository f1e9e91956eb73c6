"""``save_safetensors`` and ``load_safetensors``: weights in the format PyTorch and Netron read."""

from __future__ import annotations

import errno
import json
import os
import re
from typing import Any

import numpy as np

from tinygrad_edu import _files, nn
from tinygrad_edu.interop._common import require
from tinygrad_edu.serialization import CheckpointError
from tinygrad_edu.tensor import Tensor

_SAVED_DTYPES = tuple(
    np.dtype(d) for d in ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
                          "float16", "float32", "float64")
)
"""The dtypes ``save_safetensors`` writes (safetensors' own that numpy has, without complex)."""

# safetensors' float dtypes that numpy has no type for (bfloat16, float8, ...), by their header names
_NOT_NUMPY = re.compile(r"BF16|F8_\w+|F6_\w+|F4|E8M0")


def save_safetensors(model_or_state_dict: Any, path: Any) -> str:
    """Write a model's ``state_dict()`` (or a dict of name -> array) as a .safetensors file; return the path.

    The names are PyTorch's ('0.weight', '2.running_mean', ...) and the dtypes are kept, so for
    ``torch_model = to_torch(model)``::

        torch_model.load_state_dict(safetensors.torch.load_file(path))

    loads the same values. safetensors stores raw arrays and a JSON header, nothing that runs.
    An array that is not bool, an integer or float16/32/64 (float128, complex) raises
    ``TypeError`` naming it, before anything is written.
    """
    safetensors = require("safetensors", "save_safetensors")
    from safetensors.numpy import save_file

    if isinstance(model_or_state_dict, nn.Module):
        state = model_or_state_dict.state_dict()
    elif isinstance(model_or_state_dict, dict):
        state = model_or_state_dict
    else:
        raise TypeError(
            "save_safetensors: expected an nn.Module or a dict of name -> array, got "
            f"{type(model_or_state_dict).__name__}"
        )
    arrays = {}
    for name, value in state.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if not isinstance(name, str):
            raise TypeError(
                f"save_safetensors: entry {name!r} must have a str name (PyTorch's '0.weight'), got "
                f"{type(name).__name__}"
            )
        if array.dtype.newbyteorder("=") in _SAVED_DTYPES:
            array = array.astype(array.dtype.newbyteorder("="), copy=False)  # safetensors is little-endian
        if array.dtype not in _SAVED_DTYPES:
            raise TypeError(
                f"save_safetensors: entry {name!r} has dtype {array.dtype}, which save_safetensors does not "
                f"write (it writes {', '.join(str(d) for d in _SAVED_DTYPES)}); {_conversion(array)}"
            )
        arrays[name] = np.array(array, order="C")  # (not ascontiguousarray, which makes 0-d arrays 1-d)
    path = os.fspath(path)
    with _files.atomic_path(path, where="save_safetensors") as tmp:  # all or nothing
        try:
            save_file(arrays, tmp, metadata={"format": "pt", "producer": "tinygrad_edu"})
        except safetensors.SafetensorError as exc:
            io_error = _as_os_error(exc)
            if io_error is None:
                raise
            raise io_error from None  # atomic_path names the file and says what is left
    return path


def _as_os_error(exc: Exception) -> Any:
    """The OSError inside a SafetensorError of a failed write ("I/O error: No space left on
    device (os error 28)"), or None when it is no I/O error."""
    text = str(exc)
    number = re.search(r"\(os error (\d+)\)", text)
    if number:
        return OSError(int(number.group(1)), os.strerror(int(number.group(1))))
    if "I/O error" in text:
        return OSError(errno.EIO, text)
    return None


def _conversion(array: np.ndarray) -> str:
    """How to make ``array`` one that save_safetensors writes."""
    if array.dtype.kind == "c":
        return "save its .real and .imag as two float arrays"
    if array.dtype.kind in "fV":  # float128; bfloat16 and float8 of ml_dtypes
        wider = "float64" if array.dtype.kind == "f" else "float32"
        return f"convert it first: .astype(np.{wider})"
    return "it must be a numeric array"


def load_safetensors(path: Any) -> dict[str, np.ndarray]:
    """The arrays of a .safetensors file by name (ready for ``model.load_state_dict``).

    A file that is empty, truncated or not a .safetensors file raises ``CheckpointError``
    (as ``tg.load`` does) naming the file; so does a file with tensors of a dtype numpy has no
    type for (bfloat16, float8), naming them and how to convert the file to float32. A missing
    file raises ``FileNotFoundError``.
    """
    safetensors = require("safetensors", "load_safetensors")
    from safetensors.numpy import load_file

    path = os.fspath(path)
    if os.path.isdir(path):
        message = f"load_safetensors: {path!r} is a folder, not a .safetensors file"
        raise IsADirectoryError(errno.EISDIR, message)
    _check_dtypes(path)
    try:
        return dict(load_file(path))
    except safetensors.SafetensorError as exc:
        raise CheckpointError(
            f"load_safetensors: {path!r} is not a readable .safetensors file: expected an 8-byte "
            "header size, a JSON header and the arrays it lists, as save_safetensors writes "
            f"({exc})"
        ) from exc


def _check_dtypes(path: str) -> None:
    """Refuse a file with a tensor that numpy has no dtype for (bfloat16, common on the Hugging Face
    hub, float8), naming the tensors and how to convert them. A header that cannot be read is left
    to safetensors, which names what is wrong with it."""
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size <= min(os.fstat(f.fileno()).st_size - 8, 100 << 20):
                return
            header = json.loads(f.read(size))
    except (OSError, ValueError):
        return
    if not isinstance(header, dict):
        return
    found = [
        (name, entry["dtype"]) for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and isinstance(entry.get("dtype"), str)
        and _NOT_NUMPY.fullmatch(entry["dtype"])
    ]
    if not found:
        return
    listed = ", ".join(f"{name!r} ({dtype})" for name, dtype in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    bf16 = "BF16 is bfloat16; " if any(dtype == "BF16" for _, dtype in found) else ""
    only_bf16 = all(dtype == "BF16" for _, dtype in found)
    also = (
        "; or read it with ml_dtypes imported (safetensors.numpy.load_file then knows bfloat16) and "
        ".astype(np.float32) each array" if only_bf16 else ""
    )
    raise CheckpointError(
        f"load_safetensors: {path!r} holds {'tensors' if len(found) > 1 else 'tensor'} {listed}{more} "
        f"of a dtype numpy has no type for ({bf16}this library computes in float32 and float64). "
        "Convert the file to float32 first, in PyTorch: from safetensors.torch import load_file, "
        f"save_file; save_file({{k: v.float() if v.is_floating_point() else v for k, v in "
        f"load_file({path!r}).items()}}, 'float32.safetensors'){also}"
    )
