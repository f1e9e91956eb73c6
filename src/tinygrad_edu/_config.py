"""The library's settings: gradient mode, anomaly mode and the default dtype (per thread), and the
one random Generator (per process). The hot path reads one attribute of ``STATE``."""

from __future__ import annotations

import functools
import inspect
import operator
import threading
from typing import Any, Callable, Optional, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class _Settings(threading.local):
    """The settings, one copy per thread (as in PyTorch): a thread inside ``no_grad()`` stops
    recording for itself only, so two threads can train side by side.

    A new thread starts with gradients on, anomaly detection off and the default dtype most
    recently given to ``set_default_dtype``. The random Generator is one for the whole process
    (``manual_seed`` makes every thread's draws reproducible), so ``rng`` is not per thread.
    """

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.default_dtype: np.dtype = _NEW_THREADS["default_dtype"]

    @property
    def rng(self) -> np.random.Generator:
        return _NEW_THREADS["rng"]

    @rng.setter
    def rng(self, generator: np.random.Generator) -> None:
        _NEW_THREADS["rng"] = generator


# What a new thread's settings start from, and the process-wide random Generator.
_NEW_THREADS: dict[str, Any] = {"default_dtype": np.dtype(np.float32), "rng": np.random.default_rng()}

STATE = _Settings()


def _check_flag(value: Any, name: str, where: str) -> bool:
    """A yes/no argument as a bool: True, False or a numpy bool, never "no", "False", 1 or None
    (a non-empty string is truthy: ``shuffle="False"`` would shuffle)."""
    if value is True or value is False or isinstance(value, np.bool_):
        return bool(value)
    hint = " (a string is not read: any non-empty one would count as True)" if isinstance(value, str) else ""
    raise TypeError(f"{where}: {name} must be True or False, got {type(value).__name__} {value!r}{hint}")


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype that Python scalars, lists and new parameters get (float32 or float64),
    in this thread and in threads started after the call."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dt}")
    STATE.default_dtype = dt  # this thread's
    _NEW_THREADS["default_dtype"] = dt  # and the one threads started from now on begin with


def get_default_dtype() -> np.dtype:
    """The float dtype that Python scalars, lists and new parameters get."""
    return STATE.default_dtype


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library's one random Generator (used by randn, rand, nn.init, Dropout).

    ``seed`` is a non-negative integer: a Python int or a numpy integer, as PyTorch's
    ``torch.manual_seed`` takes. Unlike PyTorch, a negative seed (which PyTorch maps to
    2**64 + seed), a float (which PyTorch truncates: 1.5 would seed as 1) and a bool are
    refused, since each is more likely a mistake than a seed.
    """
    STATE.rng = np.random.default_rng(_seed_int(seed))
    return STATE.rng


def _seed_int(seed: Any) -> int:
    """``seed`` as a non-negative int, or a TypeError/ValueError saying what a seed must be."""
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"manual_seed: seed must be a non-negative integer, got the bool {seed!r}")
    if isinstance(seed, (float, np.floating)):
        hint = f"; use manual_seed({int(seed)})" if float(seed).is_integer() else ""
        raise TypeError(f"manual_seed: seed must be a non-negative integer, got the float {seed!r}{hint}")
    try:
        value = operator.index(seed)  # int, numpy integers: what torch.manual_seed takes
    except TypeError:
        raise TypeError(
            f"manual_seed: seed must be a non-negative integer, got a {type(seed).__name__} ({seed!r:.40})"
        ) from None
    if value < 0:
        raise ValueError(
            f"manual_seed: seed must be a non-negative integer, got {value} (numpy's Generator takes "
            "seeds >= 0)"
        )
    return value


def get_rng() -> np.random.Generator:
    """The library's random Generator."""
    return STATE.rng


class _GradMode:
    """Context manager and decorator that sets whether ops are recorded for backward."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(STATE.grad_enabled)
        STATE.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(func, self.enabled)  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(self.enabled):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _generator_in_mode(func: Callable[..., Any], enabled: bool) -> Callable[..., Any]:
    """A generator function whose body runs in the mode each time it resumes, while its caller
    has its own mode back at every ``yield`` (as PyTorch's decorators do; wrapping only the call
    would set the mode while the generator object is made, and never while its body runs)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        send, value = gen.send, None
        while True:
            try:
                with _GradMode(enabled):
                    response = send(value)
            except StopIteration as stop:
                return stop.value
            try:
                send, value = gen.send, (yield response)
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as exc:  # thrown in by the caller: pass it on, in the mode
                send, value = gen.throw, exc

    return wrapper


def no_grad(func: Optional[F] = None) -> Any:
    """Record nothing inside: ``with tg.no_grad(): ...``, ``@tg.no_grad()`` or ``@tg.no_grad``
    (functions and generator functions)."""
    return _GradMode(False) if func is None else _GradMode(False)(func)


def enable_grad(func: Optional[F] = None) -> Any:
    """Record ops again inside a ``no_grad`` block (used for ``create_graph=True``); as ``no_grad``."""
    return _GradMode(True) if func is None else _GradMode(True)(func)


class set_grad_enabled(_GradMode):
    """PyTorch's ``set_grad_enabled(mode)``: called alone it switches recording on or off for this
    thread at once; ``with tg.set_grad_enabled(False):`` switches back at the end of the block,
    and as a decorator it sets the mode while the function runs."""

    def __init__(self, mode: bool) -> None:
        super().__init__(_check_flag(mode, "mode", "set_grad_enabled"))
        self._before = STATE.grad_enabled
        STATE.grad_enabled = self.enabled

    def __enter__(self) -> None:
        self._previous.append(self._before)  # (the mode before the call, as PyTorch restores)
        STATE.grad_enabled = self.enabled

    def __call__(self, func: F) -> F:
        STATE.grad_enabled = self._before  # the mode applies while the function runs, not from now on
        return super().__call__(func)


def is_grad_enabled() -> bool:
    """Whether ops are being recorded for backward right now."""
    return STATE.grad_enabled
