"""tinygrad_edu: a small, readable deep-learning framework on numpy.

    import tinygrad_edu as tg
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad   # Tensor([2., 4., 6.])
"""

from tinygrad_edu._config import (
    enable_grad,
    get_default_dtype,
    get_rng,
    is_grad_enabled,
    manual_seed,
    no_grad,
    set_default_dtype,
    set_grad_enabled,
)

# isort: off
# Order matters: autograd.py imports tensor.py at its end (they need each other), so
# autograd comes first; the submodules below build on both.
from tinygrad_edu.autograd import OPS, AnomalyError, Function, OpError, detect_anomaly, grad
from tinygrad_edu.tensor import (
    Tensor,
    arange,
    cat,
    concatenate,
    maximum,
    minimum,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    where,
    zeros,
    zeros_like,
)

from tinygrad_edu.scalar import Value
from tinygrad_edu.serialization import load, save
from tinygrad_edu import data, gradcheck, interop, nn, optim, plot, train, viz

# isort: on

__version__ = "0.1.0"

__all__ = [
    "OPS",
    "AnomalyError",
    "Function",
    "OpError",
    "Tensor",
    "Value",
    "arange",
    "cat",
    "data",
    "gradcheck",
    "interop",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "get_default_dtype",
    "get_rng",
    "grad",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "optim",
    "ones",
    "ones_like",
    "plot",
    "rand",
    "save",
    "randn",
    "set_default_dtype",
    "set_grad_enabled",
    "stack",
    "train",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
