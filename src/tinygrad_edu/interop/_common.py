"""What the interop functions share: importing the optional packages, dtypes, the model's arrays."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from tinygrad_edu.nn.module import Module

# import name -> what pip installs
# PyTorch from its CPU index: from PyPI, pip picks a CUDA build of several GB.
PIP_NAMES = {
    "torch": "torch --index-url https://download.pytorch.org/whl/cpu",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "safetensors": "safetensors",
}


def require(package: str, where: str) -> Any:
    """``import package``, or an ImportError saying which function needs it and how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise ImportError(
            f"{where} needs the '{package}' package, which is not installed ({err}); install it with "
            f"pip install {PIP_NAMES.get(package, package)}, or all of interop's packages, in a "
            "checkout of tinygrad_edu, with bash dev.sh interop"
        ) from None


def float_dtype(dtype: Any, where: str, what: str) -> np.dtype:
    """float32 or float64, the two dtypes both frameworks and ONNX agree on; else a clear error."""
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"{where}: {what} has dtype {dt}; expected float32 or float64")
    return dt


def model_dtype(model: Module, where: str, default: Any = np.float64) -> np.dtype:
    """The one float dtype of a model's parameters and float buffers (``default`` for a model
    without any, which computes in whatever dtype its input has)."""
    dtypes = {t.dtype for t in model.parameters()} | {b.dtype for b in model.buffers() if b.dtype.kind == "f"}
    if not dtypes:
        return np.dtype(default)
    if len(dtypes) > 1:
        raise TypeError(
            f"{where}: the model mixes dtypes {sorted(str(d) for d in dtypes)}; make them one with "
            "model.to(np.float32) or model.to(np.float64)"
        )
    return float_dtype(dtypes.pop(), where, "the model")
