"""The built-in ops, one ``Function`` subclass each, grouped by kind.

``tinygrad_edu.autograd.OPS`` lists them all by name.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """Every op by its name from here too, ``from tinygrad_edu.ops import Tanh``, wherever it lives
    (``ops.elementwise.Tanh``): what a backward needs for ``run(Tanh, x)``."""
    from tinygrad_edu.autograd import OPS

    if name in OPS:
        return OPS[name]
    raise AttributeError(f"module 'tinygrad_edu.ops' has no attribute {name!r} (the ops: tinygrad_edu.OPS)")
