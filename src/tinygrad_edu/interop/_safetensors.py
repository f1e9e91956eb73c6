"""``save_safetensors`` and ``load_safetensors``: weights in the format PyTorch and Netron read."""

from __future__ import annotations

import errno
import os
import re
from typing import Any

import numpy as np

from tinygrad_edu import _files, nn
from tinygrad_edu.interop._common import require
from tinygrad_edu.serialization import CheckpointError
from tinygrad_edu.tensor import Tensor


def save_safetensors(model_or_state_dict: Any, path: Any) -> str:
    """Write a model's ``state_dict()`` (or a dict of name -> array) as a .safetensors file; return the path.

    The names are PyTorch's ('0.weight', '2.running_mean', ...) and the dtypes are kept, so for
    ``torch_model = to_torch(model)``::

        torch_model.load_state_dict(safetensors.torch.load_file(path))

    loads the same values. safetensors stores raw arrays and a JSON header, nothing that runs.
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
        if not isinstance(name, str) or array.dtype.kind not in "fiub":
            raise TypeError(
                f"save_safetensors: entry {name!r} must be a str name with a numeric array, got "
                f"{type(name).__name__} -> dtype {array.dtype}"
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


def load_safetensors(path: Any) -> dict[str, np.ndarray]:
    """The arrays of a .safetensors file by name (ready for ``model.load_state_dict``).

    A file that is empty, truncated or not a .safetensors file raises ``CheckpointError``
    (as ``tg.load`` does) naming the file; a missing file raises ``FileNotFoundError``.
    """
    safetensors = require("safetensors", "load_safetensors")
    from safetensors.numpy import load_file

    path = os.fspath(path)
    if os.path.isdir(path):
        message = f"load_safetensors: {path!r} is a folder, not a .safetensors file"
        raise IsADirectoryError(errno.EISDIR, message)
    try:
        return dict(load_file(path))
    except safetensors.SafetensorError as exc:
        raise CheckpointError(
            f"load_safetensors: {path!r} is not a readable .safetensors file: expected an 8-byte "
            "header size, a JSON header and the arrays it lists, as save_safetensors writes "
            f"({exc})"
        ) from exc
