"""``Module`` (alias ``Layer``), ``Parameter``, ``Sequential``, ``ModuleList`` and ``ModuleDict``.

A Module finds its parameters by itself: assigning a ``Parameter`` or another
Module to an attribute registers it (in insertion order, in dicts), so
``parameters()``, ``state_dict()``, ``train()``/``eval()`` reach everything
inside without the model listing it a second time.
"""

from __future__ import annotations

import inspect
import math
import threading
import warnings
from typing import Any, Callable, Iterator, NamedTuple, Optional, Union

import numpy as np

from tinygrad_edu._config import _check_flag, get_default_dtype
from tinygrad_edu.autograd import mark_modified
from tinygrad_edu.tensor import Tensor, _check_conversion, _names_the_cpu, _zero_grad_in_place


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad=True``, registered when assigned to a Module.

    ``Parameter(data, dtype=None)`` copies ``data`` (a Tensor, ndarray, list or
    number), so updating the parameter in place never writes into the caller's
    array. A float ndarray or Tensor keeps its dtype; anything else gets the
    default dtype.
    """

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = True, name: Optional[str] = None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is None:
            is_float_array = isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f"
            dtype = data.dtype if is_float_array else get_default_dtype()
        try:
            values = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Parameter: cannot make a {np.dtype(dtype)} array from {type(data).__name__}: {exc}"
            ) from None
        if values.dtype.kind != "f":
            raise TypeError(f"Parameter: dtype must be floating, got {values.dtype}")
        array = _BLOCKS.take(values.shape, values.dtype)
        array[...] = values  # the copy: the caller's array is never written into
        super().__init__(array, name=name)  # (without requires_grad, which would copy it again)
        self.requires_grad = _check_flag(requires_grad, "requires_grad", "Parameter")

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Parameter(")
        extra = f", dtype={self.dtype}" if self.dtype != get_default_dtype() else ""
        extra += "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter({body}{extra})"


class _Blocks:
    """Where new Parameters get their arrays: consecutive slices of shared blocks, one dtype each.

    A model's parameters, made one after another, then lie side by side in memory, and a
    built-in optimizer can update them as one flat array in place, with no gathering and
    copying back (``tinygrad_edu/optim/flat.py``): on a small network that is most of the
    step's Python work. Each parameter is still a C-contiguous array of its own shape. A
    block lives as long as any parameter cut from it; a large parameter gets an array of
    its own.
    """

    BLOCK = 1 << 16  # elements per block (the size of the optimizers' flat groups)
    LARGE = 1 << 13  # a parameter with more elements than this is not cut from a block

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[np.dtype, tuple[np.ndarray, int]] = {}  # dtype -> (block, first free element)

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of this shape and dtype."""
        size = math.prod(shape)
        if size > self.LARGE or size == 0:
            return np.empty(shape, dtype=dtype)
        with self._lock:  # two threads must not be given the same slice
            block, start = self._current.get(dtype, (None, self.BLOCK))
            if block is None or start + size > block.size:
                block, start = np.empty(self.BLOCK, dtype=dtype), 0
            self._current[dtype] = (block, start + size)
        return block[start : start + size].reshape(shape)


_BLOCKS = _Blocks()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` could not match: unpacks as ``missing, unexpected = ...``."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _holds_modules(value: Any) -> bool:
    """Whether a plain list, tuple or dict holds a Module or a Parameter, at any depth."""
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        return False
    return any(isinstance(v, (Module, Parameter)) or _holds_modules(v) for v in value)


def _load_problem(key: str, array: np.ndarray, target: Tensor) -> Optional[str]:
    """Why ``array`` cannot be loaded into ``target`` (None: it can): not numbers, another shape,
    or values the target's dtype would change beyond rounding (2.7 or nan into an int64 buffer,
    1e300 into float32)."""
    if array.dtype.kind not in "fiub":
        return f"'{key}' has dtype {array.dtype}; expected numbers"
    if array.shape != target.shape:
        return (
            f"size mismatch for '{key}': the state_dict has shape {array.shape}, "
            f"the model has shape {target.shape}"
        )
    try:
        _check_conversion(array, target.dtype, f"'{key}'")
    except (ValueError, OverflowError) as exc:
        return str(exc)
    return None


def _check_constructor_arguments(cls: type, args: tuple, kwargs: dict) -> None:
    """Arrays or tensors that the module's ``__init__`` cannot take were meant for the module
    itself: say to make it first, then call it (Python's own error names ``__init__``'s arguments)."""
    try:
        inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError as exc:
        if "too many positional arguments" not in str(exc):
            return  # a missing or a wrong keyword argument: Python's own error says it best
        data = next(a for a in args if isinstance(a, (Tensor, np.ndarray)))
        inputs = ", ".join(list(inspect.signature(cls.forward).parameters)[1:]) or "x"
        kind = "an ndarray" if isinstance(data, np.ndarray) else f"a {type(data).__name__}"
        raise TypeError(
            f"{cls.__name__}(...) was given {kind} of shape {data.shape}, which its "
            f"__init__ does not take: make the module first, then call it on the data, "
            f"{cls.__name__}()({inputs})"
        ) from None


def _refuse_arguments(cls: type, args: tuple, kwargs: dict) -> None:
    """A module that takes no arguments was given some (``nn.ReLU(inplace=True)``, PyTorch's
    ``nn.Flatten(start_dim=1)``): name the module, not Module.__init__ it inherits."""
    given = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    hint = (
        "; PyTorch's inplace=True only saves memory, leave it out" if "inplace" in kwargs
        else "; see docs/interop.md for what a PyTorch argument becomes here"
    )
    raise TypeError(f"{cls.__name__}() takes no arguments, got {', '.join(given)}{hint}")


class Module:
    """Base class of layers, losses and models: write ``__init__`` (call ``super().__init__()``
    first) and ``forward``; call the module like a function.

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(2, 5)      # registered as 'hidden'
                self.out = nn.Linear(5, 1)
            def forward(self, x):
                return self.out(self.hidden(x).relu())
    """

    training: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> "Module":
        # nn.ReLU(x) or nn.MSELoss(pred, y): data given to the constructor, not to the module
        if any(isinstance(a, (Tensor, np.ndarray)) for a in args):
            _check_constructor_arguments(cls, args, kwargs)
        if (args or kwargs) and cls.__init__ is Module.__init__:  # (Python's error would name Module)
            _refuse_arguments(cls, args, kwargs)
        return super().__new__(cls)

    def __init__(self) -> None:
        # object.__setattr__: the registries must exist before our __setattr__ can use them.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # An empty **kwargs passed on costs as much as a small op: skip it when there are none.
        return self.forward(*args, **kwargs) if kwargs else self.forward(*args)

    # --- registration --------------------------------------------------------------
    def _registries(self) -> tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"{type(self).__name__}: assign attributes only after calling super().__init__() "
                "at the top of __init__ (it creates the registries of parameters and sub-modules)"
            )
        return d["_parameters"], d["_buffers"], d["_modules"]

    def __setattr__(self, name: str, value: Any) -> None:
        params, buffers, modules = self._registries()
        # Parameters, sub-modules and buffers are kept in their ordered registry and, for a
        # fast ``self.weight`` in every forward, as plain attributes too.
        if isinstance(value, Parameter):
            self._forget(name, keep=params)  # a replaced parameter keeps its place in the order
            params[name] = self.__dict__[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = self.__dict__[name] = value
        elif name in params and value is not None:
            raise TypeError(
                f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter '{name}'; "
                "assign an nn.Parameter (or None), or change the values in place with "
                f"self.{name}.data[...] = ..."
            )
        elif name in modules and value is not None:
            raise TypeError(
                f"{type(self).__name__}: cannot assign a {type(value).__name__} to sub-module '{name}'; "
                "expected an nn.Module (or None)"
            )
        elif name in buffers:  # None too: the name stays a buffer, saved again once it holds an array
            buffers[name] = self.__dict__[name] = _as_buffer(value, type(self).__name__, name)
        else:
            if isinstance(value, Tensor) and value.requires_grad and value._ctx is None:
                warnings.warn(
                    f"{type(self).__name__}: attribute '{name}' is a Tensor that requires grad (shape "
                    f"{value.shape}, {value.dtype}) but not an nn.Parameter, so parameters() and "
                    "state_dict() leave it out and no optimizer updates it (PyTorch ignores it the same "
                    f"way). For a weight, write self.{name} = nn.Parameter(values)",
                    UserWarning,
                    stacklevel=2,
                )
            if _holds_modules(value):
                raise TypeError(
                    f"{type(self).__name__}: attribute '{name}' is a {type(value).__name__} holding modules "
                    "or parameters, which a Module does not look into: their parameters would be missing "
                    "from parameters() and state_dict(). Use nn.Sequential(*items) or nn.ModuleList(items) "
                    "(a dict: nn.ModuleDict(items); nested as needed), or give each one an attribute "
                    "of its own"
                )
            self._forget(name)
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: Optional[dict] = None) -> None:
        """Remove ``name`` from the registries (except ``keep``) and from the plain attributes."""
        for registry in self._registries():
            if registry is not keep:
                registry.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries, else a clear AttributeError.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        params, buffers, modules = self._registries()
        for registry in (params, buffers, modules):
            if name in registry:
                del registry[name]
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        params, buffers, modules = self._registries()
        return sorted(set(super().__dir__()) | set(params) | set(buffers) | set(modules))

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """``self.name = param``, spelled out; None leaves an attribute that is None."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be an nn.Parameter or None, got {type(param).__name__}"
            )
        setattr(self, name, param)

    def register_buffer(self, name: str, value: Any) -> None:
        """State that is saved in ``state_dict`` but not learned (BatchNorm's running statistics).

        Stored as a Tensor without grad; assigning to ``self.name`` later replaces it.
        None keeps the name as a buffer that is None for now (as in PyTorch): ``state_dict``
        and ``buffers()`` leave it out until an array is assigned to it.
        """
        self._forget(name)
        self._registries()[1][name] = self.__dict__[name] = _as_buffer(value, type(self).__name__, name)

    # --- walking the tree ------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        yield from self._registries()[2].items()

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module ('') and every module inside it, depth first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """('0.weight', p), ... with dotted paths; a parameter shared by two modules appears once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or id(value) in seen:  # a buffer registered as None is not yet there
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (elements of all parameters, shared ones counted once)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # --- training helpers ---------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to None (the next backward starts afresh), or with
        ``set_to_none=False`` fill it with zeros in place, as in PyTorch."""
        set_to_none = _check_flag(set_to_none, "set_to_none", f"{type(self).__name__}.zero_grad")
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            else:
                _zero_grad_in_place(p)

    def train(self, mode: bool = True) -> "Module":
        """Training mode for this module and every module inside (Dropout drops, BatchNorm uses
        batch statistics); returns self."""
        mode = _check_flag(mode, "mode", f"{type(self).__name__}.train")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode everywhere inside (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter; returns self."""
        requires_grad = _check_flag(requires_grad, "requires_grad", f"{type(self).__name__}.requires_grad_")
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn(m)`` on every module inside, as PyTorch does: each child in registration order,
        recursively (its own children first), then this module last; returns self.

        The order matters for a custom init drawing from one rng: the layers get their draws
        in the order they were written, first layer first. A module shared by two parents is
        visited once (PyTorch visits it under each).
        """
        if not callable(fn):
            raise TypeError(
                f"{type(self).__name__}.apply: fn must be a function of one module, called on every "
                f"module inside, got {type(fn).__name__} {fn!r:.60}"
            )
        seen: set[int] = set()

        def visit(module: Module) -> None:
            if id(module) in seen:
                return
            seen.add(id(module))
            for child in module.children():
                visit(child)
            fn(module)

        visit(self)
        return self

    def to(self, dtype: Any) -> "Module":
        """Cast every parameter (and its grad) and every float buffer to a float dtype; returns self.
        ``to("cpu")``, PyTorch's ``model.to(device)`` on the CPU, changes nothing (numpy computes
        on the CPU only); another device is refused."""
        where = f"{type(self).__name__}.to"
        if _names_the_cpu(dtype, where):
            return self
        try:
            dt = np.dtype(dtype)
        except TypeError:
            expected = "expected a float dtype (np.float32, np.float64) or 'cpu'"
            raise TypeError(f"{where}: {expected}, got {dtype!r}") from None
        if dt.kind != "f":
            raise TypeError(f"{where}: expected a float dtype, got {dt}")
        for p in self.parameters():
            p.data = p.data.astype(dt)
            if p.grad is not None:
                p.grad = Tensor(p.grad.data.astype(dt))
        for b in self.buffers():
            if b.dtype.kind == "f":
                b.data = b.data.astype(dt)
        return self

    # --- saving and loading --------------------------------------------------------------
    def _state_tensors(self) -> dict[str, Tensor]:
        """Every parameter and buffer by dotted name, in order (a shared one under each of its names)."""
        out: dict[str, Tensor] = {}
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            params, buffers, modules = module._registries()
            for name, t in list(params.items()) + list(buffers.items()):
                if t is not None:  # a buffer that is None (registered so, not yet assigned) is not saved
                    out[prefix + name] = t
            stack.extend(reversed([(f"{prefix}{k}.", m) for k, m in modules.items()]))
        return out

    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name -> a copy of the array, for every parameter and buffer ('0.weight', ...)."""
        return {name: t.data.copy() for name, t in self._state_tensors().items()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into this model's parameters and buffers.

        Every key is checked before anything is copied, so a failed load leaves
        the model untouched. A key the model lacks (unexpected), a parameter or
        buffer the dict lacks (missing) -- both errors with ``strict=True`` --
        and an array of the wrong shape or with values the model's dtype would
        change beyond rounding (2.7 or nan into an int64 buffer, 1e300 into
        float32: always errors) are all reported at once. Float64 values go into
        float32 parameters rounded, as in PyTorch. Returns ``(missing_keys,
        unexpected_keys)``.
        """
        strict = _check_flag(strict, "strict", "load_state_dict")
        if not hasattr(state_dict, "items"):
            raise TypeError(
                f"load_state_dict: expected a dict of name -> array, got {type(state_dict).__name__}"
            )
        targets = self._state_tensors()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        arrays = {}
        for key, value in state_dict.items():
            if key not in targets:
                continue
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            problem = _load_problem(key, array, targets[key])
            if problem is None:
                arrays[key] = array
            else:
                problems.append(problem)
        if strict:
            if missing:
                problems.append("missing keys (in the model, not in the state_dict): " + _names(missing))
            if unexpected:
                problems.append(
                    "unexpected keys (in the state_dict, not in the model): " + _names(unexpected)
                )
        if problems:
            raise RuntimeError(
                f"load_state_dict: cannot load into {type(self).__name__} (nothing was changed):\n  "
                + "\n  ".join(problems)
            )
        for key, array in arrays.items():
            target = targets[key]
            if target.data.flags.writeable:
                np.copyto(target.data, array, casting="unsafe")  # in place: optimizers keep their references
            else:
                target.data = np.array(array, dtype=target.dtype)
            mark_modified(target)  # changed in place: a graph recorded before cannot backpropagate now
        return IncompatibleKeys(missing, unexpected)

    # --- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (its settings)."""
        return ""

    def __repr__(self) -> str:
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, module in self.named_children():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not self._registries()[2]:
            return f"{type(self).__name__}({', '.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


Layer = Module
"""DeZero's and Keras's word for Module; the same class."""


def _names(keys: list[str]) -> str:
    return ", ".join(f"'{k}'" for k in keys)


def _as_buffer(value: Any, owner: str, name: str) -> Optional[Tensor]:
    if value is None:
        return None
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: buffer '{name}' must be a numeric array, got dtype {array.dtype}")
    return Tensor(array)


def _check_module(m: Any, where: str, i: Union[int, str]) -> "Module":
    if isinstance(m, Module):
        return m
    if isinstance(m, type) and issubclass(m, Module):
        raise TypeError(f"{where}: item {i} is the class {m.__name__}, not a module; write {m.__name__}()")
    raise TypeError(f"{where}: item {i} is a {type(m).__name__}; expected an nn.Module")


def _located(exc: Exception, seq: "Sequential", i: int) -> Exception:
    """``exc`` with ``Sequential[i] <the module>: `` in front of its message, as the same type.

    Inside a nested Sequential the message already starts with its own place, so the
    places chain: ``Sequential[1] > Sequential[0] Linear(...): ...``. An exception
    type that cannot be rebuilt from one message keeps its message and gets a note.
    """
    name, module = list(seq._modules.items())[i]
    where = f"Sequential[{i}]" if name == str(i) else f"Sequential[{i}] ({name!r})"
    message = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
    if isinstance(module, Sequential) and getattr(exc, "_in_sequential", False):
        text = f"{where} > {message}"
    else:
        shown = repr(module)
        shown = shown if "\n" not in shown else type(module).__name__
        text = f"{where} {shown}: {message}"
    try:
        located = type(exc)(text)
    except Exception:  # a constructor that wants more than a message (UnicodeDecodeError, ...)
        if hasattr(exc, "add_note"):  # Python 3.11 and later
            exc.add_note(text)
        return exc
    located.__dict__.update(exc.__dict__)  # any attributes the original carried
    located._in_sequential = True  # type: ignore[attr-defined]
    return located.with_traceback(exc.__traceback__)


def _list_key(container: Module, kind: str, index: Any) -> str:
    """The name of the module at integer position ``index`` of a Sequential or ModuleList."""
    n = len(container._modules)
    if isinstance(index, slice):  # only __setitem__ gets here with one: the others read slices
        raise TypeError(
            f"{kind}[a:b] = ... is not supported (nor in PyTorch); assign one module per index, "
            f"or build a new {kind} from the modules you want"
        )
    if not isinstance(index, (int, np.integer)) or isinstance(index, (bool, np.bool_)):
        hint = f"; a module by its name is getattr(model, {index!r})" if isinstance(index, str) else ""
        raise TypeError(f"{kind} indices must be integers or slices, got {type(index).__name__}{hint}")
    if not -n <= index < n:
        raise IndexError(f"{kind} index {index} is out of range for {n} modules")
    return list(container._modules)[index % n]


def _renumber(container: Module, modules: Optional[list] = None) -> None:
    """Hold ``modules`` (default: its own), named '0', '1', ... in order: PyTorch's numbering
    after a del or an insert."""
    modules = list(container._modules.values()) if modules is None else modules
    for key in list(container._modules):
        delattr(container, key)
    for i, m in enumerate(modules):
        setattr(container, str(i), m)


def _insert(container: Module, kind: str, index: Any, module: Any) -> None:
    n = len(container._modules)
    if not isinstance(index, (int, np.integer)) or isinstance(index, (bool, np.bool_)):
        raise TypeError(f"{kind}.insert: index must be an integer, got {type(index).__name__} {index!r:.40}")
    if not -n <= index <= n:
        raise IndexError(f"{kind}.insert: index {index} is out of range for {n} modules")
    modules = list(container._modules.values())
    modules.insert(index, _check_module(module, f"{kind}.insert", index))  # before index, as list.insert
    _renumber(container, modules)


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 5), ReLU(), Linear(5, 1))``.

    Children are named '0', '1', ... (or by the keys of a single dict argument).
    ``len``, ``seq[i]`` (a module), ``seq[a:b]`` (a Sequential sharing the
    same modules), iteration and ``append`` work like a list.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, m in modules[0].items():
                setattr(self, str(name), _check_module(m, "Sequential", name))
        else:
            for i, m in enumerate(modules):
                setattr(self, str(i), _check_module(m, "Sequential", i))

    def forward(self, x: Any) -> Any:
        """Each module in turn, exactly the ones ``repr`` shows: ``x = module(x)``.

        An error inside a module is raised again (same type, same message) with the
        layer's place in front: ``Sequential[2] Linear(...): x has shape ...``.
        """
        i = 0
        try:
            for module in self._modules.values():
                x = module(x)
                i += 1
        except Exception as exc:
            raise _located(exc, self, i) from exc.__cause__  # the message already holds exc's
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def _key(self, index: int) -> str:
        return _list_key(self, "Sequential", index)

    def __getitem__(self, index: Union[int, slice]) -> Module:
        if isinstance(index, slice):
            return Sequential(dict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, self._key(index), _check_module(module, "Sequential", index))

    def __delitem__(self, index: Union[int, slice]) -> None:
        """Remove a module (or a slice of them); the rest are numbered '0', '1', ... again, as
        PyTorch does, so that ``append`` after a ``del`` adds a new name."""
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in keys:
            delattr(self, key)
        _renumber(self)

    def insert(self, index: int, module: Module) -> "Sequential":
        """Put ``module`` before position ``index`` (``len(self)``: at the end); the modules are
        numbered '0', '1', ... again, as in PyTorch; returns self."""
        _insert(self, "Sequential", index, module)
        return self

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (the last by default)."""
        module = self[index]
        del self[index]
        return module

    def append(self, module: Module) -> "Sequential":
        """Add a module at the end (named str(len(self))); returns self."""
        key = str(len(self))
        if key in self._modules:
            raise ValueError(f"Sequential.append: a module named '{key}' already exists")
        setattr(self, key, _check_module(module, "Sequential.append", key))
        return self

    def extend(self, modules: Any) -> "Sequential":
        for m in modules:
            self.append(m)
        return self


# inspect.signature(nn.ReLU) reads __new__ before an inherited __init__: show __init__'s arguments
Module.__new__.__signature__ = inspect.signature(Module.__init__)  # type: ignore[attr-defined]


class ModuleList(Module):
    """A list of modules that registers them (a plain list would hide their parameters).

    It has no forward: the owning module decides how to call them.
    """

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[_list_key(self, "ModuleList", index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, _list_key(self, "ModuleList", index), _check_module(module, "ModuleList", index))

    def __delitem__(self, index: Union[int, slice]) -> None:
        """Remove a module (or a slice); the rest are numbered '0', '1', ... again, as in PyTorch."""
        if isinstance(index, slice):
            keys = list(self._modules)[index]
        else:
            keys = [_list_key(self, "ModuleList", index)]
        for key in keys:
            delattr(self, key)
        _renumber(self)

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``, as ``list.insert`` does."""
        _insert(self, "ModuleList", index, module)

    def __iadd__(self, modules: Any) -> "ModuleList":
        return self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        setattr(self, str(len(self)), _check_module(module, "ModuleList.append", len(self)))
        return self

    def extend(self, modules: Any) -> "ModuleList":
        if isinstance(modules, ModuleDict):
            raise TypeError(
                "ModuleList.extend: a ModuleDict iterates over its keys; pass its .values() for the modules"
            )
        if isinstance(modules, Module) and not hasattr(modules, "__iter__"):
            raise TypeError(
                f"ModuleList.extend: expected an iterable of modules, got one {type(modules).__name__}; "
                "use append for one module"
            )
        try:
            modules = iter(modules)
        except TypeError:
            raise TypeError(
                f"ModuleList: expected an iterable of modules (a list, a tuple, ...), got "
                f"{type(modules).__name__}"
            ) from None
        for m in modules:
            self.append(m)
        return self


def _dict_key(container: Module, key: Any, where: str) -> str:
    """``key`` if a ModuleDict can hold a module under it, as PyTorch's add_module checks: a non-empty
    string without '.' (the separator of named_parameters and state_dict) that is not an attribute
    the ModuleDict already has (``keys``, ``train``: the module would hide the method)."""
    if not isinstance(key, str):
        raise TypeError(f"{where}: keys must be strings (module names), got {type(key).__name__} {key!r:.40}")
    if key == "":
        raise KeyError(f"{where}: a module name cannot be the empty string")
    if "." in key:
        raise KeyError(
            f"{where}: module name {key!r} contains '.', which separates the names in named_parameters() "
            f"and state_dict(); write it with '_' ({key.replace('.', '_')!r}) or nest a ModuleDict"
        )
    if key not in container._modules and hasattr(container, key):
        raise KeyError(
            f"{where}: {key!r} is already an attribute of ModuleDict (a method or a setting), which a "
            "module of that name would hide; choose another name"
        )
    return key


class ModuleDict(Module):
    """A dict of modules that registers them under their keys, as PyTorch's ``nn.ModuleDict``:
    ``ModuleDict({"encoder": nn.Linear(2, 4), "head": nn.Linear(4, 1)})`` has the parameters
    'encoder.weight', 'encoder.bias', ... (a plain dict would hide them).

    Keys are strings without '.', kept in insertion order; ``md[key]``, ``md[key] = module``,
    ``del md[key]``, ``len``, ``in``, iteration (over the keys), ``keys()``, ``values()``,
    ``items()``, ``update``, ``pop`` and ``clear`` work like a dict's. It has no forward: the
    owning module decides how to call them.
    """

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r:.60}; its keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        key = _dict_key(self, key, "ModuleDict")
        setattr(self, key, _check_module(module, "ModuleDict", repr(key)))

    def __delitem__(self, key: str) -> None:
        self[key]  # (a KeyError naming the keys for a missing one)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: Any) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        """Remove and return the module under ``key``."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def update(self, modules: Any) -> "ModuleDict":
        """Add or replace modules from a dict (a ModuleDict too) or from (key, module) pairs, in
        their order; returns self."""
        if hasattr(modules, "items") and callable(modules.items):
            pairs = list(modules.items())
        elif isinstance(modules, Module):
            raise TypeError(
                f"ModuleDict.update: expected a dict of name -> module, got one {type(modules).__name__}; "
                "write md[name] = module"
            )
        else:
            try:
                pairs = list(modules)
            except TypeError:
                raise TypeError(
                    "ModuleDict: expected a dict of name -> module or (name, module) pairs, got "
                    f"{type(modules).__name__}"
                ) from None
            for i, pair in enumerate(pairs):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise TypeError(
                        f"ModuleDict.update: element #{i} is {type(pair).__name__} {pair!r:.40}, not a "
                        "(name, module) pair"
                    )
        for key, module in pairs:  # every key and module checked before any is added
            _check_module(module, "ModuleDict", repr(_dict_key(self, key, "ModuleDict")))
        for key, module in pairs:
            self[key] = module
        return self
