"""``to_torch`` and ``from_torch``: the same network, module for module, in the other framework."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu.interop._common import float_dtype, require

SUPPORTED = (
    "Sequential", "Linear", "LinearReLU", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax",
    "LogSoftmax", "Flatten", "Dropout", "BatchNorm1d", "Identity",
)
"""The modules that convert, by class name (the same in both frameworks, except LinearReLU,
which PyTorch lacks: it becomes a Linear and a ReLU)."""

# What each model made by to_torch or from_torch was made from, so that the optimizer conversions
# can match parameters by name or identity. Kept beside the modules, not on them, so that a torch
# module still pickles (torch.save); weak on both sides, so it keeps nothing alive.
_SOURCES: "weakref.WeakKeyDictionary[Any, weakref.ref]" = weakref.WeakKeyDictionary()


def source_of(converted: Any) -> Any:
    """The model that ``to_torch`` or ``from_torch`` made ``converted`` from, or None."""
    ref = _SOURCES.get(converted)
    return ref() if ref is not None else None


def refuse_unscaled_dropout(m: Any, where: str, path: str) -> None:
    """``Dropout(p, inverted=False)`` (seed 002's form: eval multiplies by 1 - p) has no PyTorch or
    ONNX counterpart, whose dropout is inverted: converted as one, its eval output would be wrong."""
    if type(m) is nn.Dropout and not m.inverted:
        place = f" at '{path}'" if path else ""
        raise TypeError(
            f"{where}: Dropout(p={m.p}, inverted=False){place} cannot convert: PyTorch's and ONNX's "
            "dropout scale by 1 / (1 - p) in training and are the identity in eval, where this one "
            f"multiplies by 1 - p. Train with nn.Dropout({m.p}) (inverted, the default) to convert"
        )


def _unsupported(where: str, module: Any, path: str) -> TypeError:
    place = f" at '{path}'" if path else ""
    names = [n for n in SUPPORTED if n != "LinearReLU"] if where == "from_torch" else SUPPORTED
    return TypeError(
        f"{where}: cannot convert {type(module).__name__}{place}; the modules that convert are "
        f"{', '.join(names)} (Sequential nested too). Write the rest of the model in the other "
        "framework by hand, or build it from these modules"
    )


# --- ours -> torch ----------------------------------------------------------------------------------


def to_torch(model: nn.Module) -> Any:
    """The same network as a ``torch.nn.Module``: the same modules, names, values, dtypes and modes.

    Every parameter and buffer (BatchNorm1d's running statistics and ``num_batches_tracked``)
    is copied bit for bit, keeping its dtype (float32 or float64) and ``requires_grad``, and
    each module keeps its train/eval mode, so ``to_torch(model)(x)`` computes ``model(x)``.
    A module used twice (``Sequential(lin, act, lin)``) becomes one torch module used twice,
    and a parameter shared by two modules (``b.weight = a.weight``) one torch Parameter, so
    the weights stay tied as they are here. An ``nn.LinearReLU`` in a Sequential becomes a
    torch ``Linear`` under its name and a ``ReLU`` after it named ``'<name>_relu'`` (so the
    parameter names stay ``'0.weight'``); on its own it becomes
    ``torch.nn.Sequential(Linear, ReLU)``, whose parameters are ``'0.weight'`` and
    ``'0.bias'``. The two models share no memory. The result pickles (``torch.save``). A
    Dropout's own ``rng`` does not carry over (PyTorch draws its masks from
    ``torch.manual_seed``). A module that does not convert raises a TypeError naming it and
    listing ``SUPPORTED``.
    """
    return convert_to_torch(model, "to_torch")


def convert_to_torch(model: nn.Module, where: str) -> Any:
    """``to_torch(model)``, its errors starting with ``where`` (the function the user called)."""
    torch = require("torch", where)
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: expected a tinygrad_edu nn.Module, got {type(model).__name__}")
    if type(model) is nn.LinearReLU:
        out = _lone_linear_relu_to_torch(model, torch, where)
    else:
        out = _module_to_torch(model, torch, "", {}, where)
    _SOURCES[out] = weakref.ref(model)
    return out


def torch_name(model: nn.Module, name: str) -> str:
    """The name in ``to_torch(model)`` of ``model``'s parameter or buffer ``name``: the same name,
    except for a LinearReLU on its own, whose Linear is child '0' there ('weight' -> '0.weight')."""
    return f"0.{name}" if type(model) is nn.LinearReLU else name


def _lone_linear_relu_to_torch(m: nn.LinearReLU, torch: Any, where: str) -> Any:
    """A LinearReLU outside a Sequential: ``torch.nn.Sequential(Linear, ReLU)``, which is what it
    computes; PyTorch has no single module for it, and a Linear alone would drop the ReLU."""
    relu = torch.nn.ReLU()
    relu.training = m.training
    out = torch.nn.Sequential(_module_to_torch(m, torch, "", {}, where), relu)
    out.training = m.training
    return out


def _module_to_torch(m: nn.Module, torch: Any, path: str, done: dict[int, Any], where: str) -> Any:
    """``m`` in torch. ``done`` maps the id of each module and parameter converted so far to its
    torch counterpart, so that one used in two places stays one (ids of live objects never clash)."""
    if id(m) in done:
        return done[id(m)]
    tnn = torch.nn
    kind = type(m)
    refuse_unscaled_dropout(m, where, path)
    if kind is nn.Sequential:
        out = tnn.Sequential(_children_to_torch(m, torch, path, done, where))
    elif kind in _SIMPLE_TO_TORCH:
        out = _SIMPLE_TO_TORCH[kind](m, tnn)
    elif kind in (nn.Linear, nn.LinearReLU):  # a LinearReLU's ReLU is added by its Sequential
        dtype = _torch_dtype(m.weight.dtype, torch, where, _quoted(path, "weight"))
        # skip_init: no random initial values (which would use up torch's random numbers)
        out = torch.nn.utils.skip_init(
            tnn.Linear, m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype
        )
        _copy_state_to_torch(m, out, torch, done)
    elif kind is nn.BatchNorm1d:
        dtype = _bn_dtype(m, torch, path, where)
        out = tnn.BatchNorm1d(
            m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
            track_running_stats=m.track_running_stats, dtype=dtype,
        )
        _copy_state_to_torch(m, out, torch, done)
    else:
        raise _unsupported(where, m, path)
    out.training = m.training
    done[id(m)] = out
    return out


def _children_to_torch(m: nn.Sequential, torch: Any, path: str, done: dict[int, Any], where: str) -> Any:
    """A Sequential's children in torch; a LinearReLU 'k' becomes a Linear 'k' and a ReLU 'k_relu'."""
    prefix = f"{path}." if path else ""
    named = list(m.named_children())
    taken = {name for name, _ in named}
    children: OrderedDict[str, Any] = OrderedDict()
    for name, child in named:
        children[name] = _module_to_torch(child, torch, prefix + name, done, where)
        if type(child) is nn.LinearReLU:
            relu_name = f"{name}_relu"
            while relu_name in taken:
                relu_name += "_"
            taken.add(relu_name)
            children[relu_name] = torch.nn.ReLU()
            children[relu_name].training = child.training
    return children


_SIMPLE_TO_TORCH: dict[type, Callable[[Any, Any], Any]] = {
    nn.ReLU: lambda m, tnn: tnn.ReLU(),
    nn.Sigmoid: lambda m, tnn: tnn.Sigmoid(),
    nn.Tanh: lambda m, tnn: tnn.Tanh(),
    nn.LeakyReLU: lambda m, tnn: tnn.LeakyReLU(m.negative_slope),
    nn.Softmax: lambda m, tnn: tnn.Softmax(dim=m.axis),
    nn.LogSoftmax: lambda m, tnn: tnn.LogSoftmax(dim=m.axis),
    nn.Flatten: lambda m, tnn: tnn.Flatten(),
    nn.Dropout: lambda m, tnn: tnn.Dropout(m.p),
    nn.Identity: lambda m, tnn: tnn.Identity(),
}


def _torch_dtype(dtype: np.dtype, torch: Any, where: str, what: str) -> Any:
    dt = float_dtype(dtype, where, what)
    return torch.float32 if dt == np.float32 else torch.float64


def _bn_dtype(m: nn.BatchNorm1d, torch: Any, path: str, where: str) -> Any:
    arrays = [t for t in (m.weight, m.bias, m.running_mean, m.running_var) if t is not None]
    if not arrays:
        return torch.get_default_dtype()  # no parameters and no statistics: nothing to keep
    return _torch_dtype(arrays[0].dtype, torch, where, f"'{path}' (BatchNorm1d)")


def _quoted(path: str, name: str) -> str:
    """``'0.weight'`` for parameter ``weight`` of the module at ``path`` (``'weight'`` at the top)."""
    return f"'{path}.{name}'" if path else f"'{name}'"


def _copy_state_to_torch(m: nn.Module, out: Any, torch: Any, done: dict[int, Any]) -> None:
    """Our leaf module's parameters and buffers into the torch module's, bit for bit. A parameter
    already converted (tied: another module holds it too) becomes that same torch Parameter, so
    that training updates one tensor, as here; ``done`` records the new ones."""
    state = m._state_tensors()
    out.load_state_dict({name: torch.tensor(np.array(t.data)) for name, t in state.items()}, strict=True)
    for name, p in state.items():
        if not isinstance(p, nn.Parameter):
            continue  # a buffer: assigning one to a module copies it here, so buffers are never shared
        if id(p) in done:
            setattr(out, name, done[id(p)])
        else:
            getattr(out, name).requires_grad_(p.requires_grad)
            done[id(p)] = getattr(out, name)


# --- torch -> ours ----------------------------------------------------------------------------------


def from_torch(module: Any) -> nn.Module:
    """The same network as a tinygrad_edu ``nn.Module`` (the reverse of ``to_torch``).

    Values are copied bit for bit (from any device) with their dtype (float32 or float64),
    names, ``requires_grad`` and train/eval modes; a module used twice stays one module, and
    a parameter shared by two modules one Parameter. A Linear followed by a ReLU comes back
    as those two (``to_torch`` of an ``nn.LinearReLU`` too: the values and gradients are the
    same). A module that does not convert raises a TypeError naming it and listing
    ``SUPPORTED``; an option ours lacks (BatchNorm1d's ``bias=False``) and a buffer that two
    modules hold (assigning a buffer here copies it) raise a ValueError naming them.
    """
    torch = require("torch", "from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    _refuse_shared_buffers(module)
    out = _module_from_torch(module, torch, "", {})
    _SOURCES[out] = weakref.ref(module)
    return out


def _refuse_shared_buffers(module: Any) -> None:
    """A buffer that two torch modules hold (``bn2.running_mean = bn1.running_mean``) has no
    counterpart here, where assigning a buffer copies it: converted, the two copies would drift
    apart in training while PyTorch's one tensor takes both updates."""
    seen: dict[int, str] = {}
    for path, m in module.named_modules():  # each module once: a module used twice is fine
        for name, b in m._buffers.items():
            if b is None:
                continue
            where = f"{path}.{name}" if path else name
            if id(b) in seen:
                raise ValueError(
                    f"from_torch: buffer '{where}' is the same tensor as '{seen[id(b)]}'; a buffer "
                    "here belongs to one module. Give each module its own (a clone) or use the same "
                    "module in both places"
                )
            seen[id(b)] = where


def _module_from_torch(m: Any, torch: Any, path: str, done: dict[int, Any]) -> nn.Module:
    """``m`` here. ``done`` maps the id of each torch module and parameter converted so far to
    ours, so that one used in two places stays one."""
    if id(m) in done:
        return done[id(m)]
    tnn = torch.nn
    kind = type(m)
    if kind is tnn.Sequential:
        prefix = f"{path}." if path else ""
        # _modules, not named_children(), which lists a module used twice only once
        children = m._modules.items()
        out: nn.Module = nn.Sequential(
            {name: _module_from_torch(child, torch, prefix + name, done) for name, child in children}
        )
    elif kind in _simple_from_torch(tnn):
        out = _simple_from_torch(tnn)[kind](m, path)
    elif kind is tnn.Linear:
        dtype = _numpy_dtype(m.weight, torch, path)
        out = nn.Linear(
            m.in_features, m.out_features, bias=m.bias is not None, init=_no_init, dtype=dtype
        )
        _copy_state_from_torch(m, out, done)
    elif kind is tnn.BatchNorm1d:
        _check_batch_norm_options(m, path)
        sample = next((t for t in (m.weight, m.running_mean) if t is not None), None)
        dtype = None if sample is None else _numpy_dtype(sample, torch, path)
        out = nn.BatchNorm1d(
            m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
            track_running_stats=m.track_running_stats, dtype=dtype,
        )
        _copy_state_from_torch(m, out, done)
    else:
        raise _unsupported("from_torch", m, path)
    object.__setattr__(out, "training", bool(m.training))  # this module only: children have their own
    done[id(m)] = out
    return out


def _check_batch_norm_options(m: Any, path: str) -> None:
    """Refuse PyTorch's ``bias=False`` (a learned scale without a shift): ours has both or neither."""
    if m.affine and m.bias is None:
        place = f" at '{path}'" if path else ""
        raise ValueError(
            f"from_torch: BatchNorm1d{place} has bias=False (a learned scale without a shift); "
            "nn.BatchNorm1d has both weight and bias (affine=True) or neither (affine=False)"
        )


def _softmax_dim(m: Any, path: str) -> int:
    if m.dim is None:
        raise ValueError(
            f"from_torch: {type(m).__name__} at '{path}' has dim=None (PyTorch guesses the axis from "
            "the input's rank); give it dim=-1 or the class axis explicitly"
        )
    return int(m.dim)


def _flatten(m: Any, path: str) -> nn.Module:
    if (m.start_dim, m.end_dim) != (1, -1):
        raise ValueError(
            f"from_torch: Flatten at '{path}' has start_dim={m.start_dim}, end_dim={m.end_dim}; "
            "nn.Flatten keeps the batch axis and flattens all the rest (start_dim=1, end_dim=-1)"
        )
    return nn.Flatten()


def _simple_from_torch(tnn: Any) -> dict[type, Callable[[Any, str], nn.Module]]:
    return {
        tnn.ReLU: lambda m, path: nn.ReLU(),
        tnn.Sigmoid: lambda m, path: nn.Sigmoid(),
        tnn.Tanh: lambda m, path: nn.Tanh(),
        tnn.LeakyReLU: lambda m, path: nn.LeakyReLU(m.negative_slope),
        tnn.Softmax: lambda m, path: nn.Softmax(_softmax_dim(m, path)),
        tnn.LogSoftmax: lambda m, path: nn.LogSoftmax(_softmax_dim(m, path)),
        tnn.Flatten: _flatten,
        tnn.Dropout: lambda m, path: nn.Dropout(m.p),
        tnn.Identity: lambda m, path: nn.Identity(),
    }


def _no_init(shape: tuple[int, ...], rng: Any = None, dtype: Any = None) -> np.ndarray:
    # The values are overwritten at once; zeros avoid drawing (and using up) random numbers.
    return np.zeros(shape, dtype=dtype)


def _numpy_dtype(t: Any, torch: Any, path: str) -> np.dtype:
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"from_torch: '{path}' has dtype {t.dtype}; expected torch.float32 or torch.float64 "
            "(convert with module.float() or module.double())"
        )
    return np.dtype(np.float32 if t.dtype == torch.float32 else np.float64)


def _copy_state_from_torch(m: Any, out: nn.Module, done: dict[int, Any]) -> None:
    """The torch leaf module's parameters and buffers into ours, bit for bit; a parameter already
    converted (tied: another module holds it too) becomes that same Parameter of ours."""
    state = {name: t.detach().cpu().numpy().copy() for name, t in m.state_dict().items()}
    out.load_state_dict(state, strict=True)
    for name, p in m._parameters.items():  # _parameters: named_parameters() lists a tied one once
        if p is None:
            continue
        if id(p) in done:
            setattr(out, name, done[id(p)])
        else:
            getattr(out, name).requires_grad = p.requires_grad
            done[id(p)] = getattr(out, name)
