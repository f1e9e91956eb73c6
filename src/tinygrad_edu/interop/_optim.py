"""``optimizer_to_torch``, ``optimizer_from_torch`` and ``scheduler_to_torch``: the same optimizer,
options and state (buffers and step counts), so that the next step is the same step."""

from __future__ import annotations

import warnings
import weakref
from typing import Any, Optional

import numpy as np

from tinygrad_edu import nn, optim
from tinygrad_edu.interop._common import require
from tinygrad_edu.interop._modules import source_of, torch_name

# our class -> (torch class name, the options both have under the same names)
OPTIONS = {
    optim.SGD: ("SGD", ("lr", "momentum", "dampening", "nesterov", "weight_decay")),
    optim.Adagrad: ("Adagrad", ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")),
    optim.RMSprop: ("RMSprop", ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")),
    optim.Adam: ("Adam", ("lr", "betas", "eps", "weight_decay", "amsgrad")),
    optim.AdamW: ("AdamW", ("lr", "betas", "eps", "weight_decay", "amsgrad")),
}
SUPPORTED_OPTIMIZERS = tuple(cls.__name__ for cls in OPTIONS)

# PyTorch options that only choose how the same arithmetic runs (loops, kernels, graphs).
IMPLEMENTATION_FLAGS = {"foreach", "fused", "capturable", "differentiable", "param_names", "initial_lr"}

# What our schedules became, so that optimizer_from_torch can carry them back or say they are lost:
# LambdaLR made by scheduler_to_torch -> (our lr per group, the step count it started at), and
# torch optimizer made by optimizer_to_torch from a schedule -> our lr per group. Weak: they keep
# nothing alive, and the torch objects still pickle.
_SCHEDULERS: "weakref.WeakKeyDictionary[Any, tuple[list[Any], int]]" = weakref.WeakKeyDictionary()
_FLATTENED: "weakref.WeakKeyDictionary[Any, list[Any]]" = weakref.WeakKeyDictionary()


def check_convertible(optimizer: Any, where: str = "optimizer_to_torch") -> tuple[str, tuple[str, ...]]:
    """The torch class name and shared options of ``optimizer``'s class, or an error from ``where``."""
    if type(optimizer) is optim.Momentum:
        raise ValueError(
            f"{where}: optim.Momentum (the course's v = beta * v + (1 - beta) * grad) has no "
            "PyTorch class. Use optim.SGD(params, lr=lr * (1 - beta), momentum=beta) instead: it takes "
            "the same steps, and PyTorch's torch.optim.SGD is that rule (its buffer is v / (1 - beta))"
        )
    if type(optimizer) not in OPTIONS:
        raise TypeError(
            f"{where}: cannot convert {type(optimizer).__name__}; the optimizers that convert "
            f"are {', '.join(SUPPORTED_OPTIMIZERS)}"
        )
    return OPTIONS[type(optimizer)]


def check_group(
    optimizer: Any, group: dict[str, Any], i: int, allow_schedule: bool, where: str = "optimizer_to_torch"
) -> None:
    """Refuse a group PyTorch cannot hold (eps_mode, a schedule unless allowed), naming ``where``."""
    name = type(optimizer).__name__
    mode = group.get("eps_mode", "outside")
    if mode != "outside":
        formula = "m_hat / sqrt(v_hat + eps)" if mode == "inside" else "lr_t * m / (sqrt(v) + eps)"
        raise ValueError(
            f"{where}: {name} group {i} has eps_mode={mode!r} ({formula}), which PyTorch has no "
            f"option for: torch.optim.{name} always puts eps outside the square root. Build the optimizer "
            "with eps_mode='outside' (the default) to move it to PyTorch; the steps differ only where "
            "the squared-gradient average is near eps"
        )
    if callable(group["lr"]) and not allow_schedule:
        raise ValueError(
            f"{where}: {name} group {i} has a schedule as lr ({group['lr']!r}); a PyTorch "
            "optimizer's lr is a number, changed by a separate scheduler object. Pass "
            "allow_schedule=True (lr becomes the schedule's value at the next step) and then make the "
            "scheduler with interop.scheduler_to_torch(optimizer, torch_optimizer), a LambdaLR that "
            "gives every later step the same lr; or give the optimizer a constant lr"
        )


def _torch_names(optimizer: Any, torch_module: Any) -> list[list[str]]:
    """For each of our groups, the names in ``torch_module`` of the parameters that correspond to its
    parameters: by name when torch_module came from to_torch, else by position."""
    groups = [g["params"] for g in optimizer.param_groups]
    model = source_of(torch_module)
    torch_named = dict(torch_module.named_parameters())
    if model is not None:  # made by to_torch: match by name
        names = {id(p): torch_name(model, name) for name, p in model.named_parameters()}
        out = []
        for gi, params in enumerate(groups):
            for p in params:
                if id(p) not in names or names[id(p)] not in torch_named:
                    raise ValueError(
                        f"optimizer_to_torch: a parameter of shape {p.shape} in group {gi} is not a "
                        "parameter of the model that torch_module was converted from"
                    )
            out.append([names[id(p)] for p in params])
        return out
    # otherwise by position: the optimizer must hold the module's parameters in the module's order
    ours = [p for params in groups for p in params]
    _check_same_layout(ours, list(torch_named.values()), "optimizer_to_torch", "torch_module")
    theirs = list(torch_named)
    out, k = [], 0
    for params in groups:
        out.append(theirs[k : k + len(params)])
        k += len(params)
    return out


def _check_same_layout(ours: list[Any], theirs: list[Any], where: str, other: str) -> None:
    shapes = [tuple(p.shape) for p in ours]
    other_shapes = [tuple(p.shape) for p in theirs]
    if shapes != other_shapes:
        raise ValueError(
            f"{where}: cannot match parameters by position: the optimizer holds shapes {shapes}, "
            f"{other}'s parameters in order are {other_shapes}. Use the module made by to_torch/from_torch "
            "(matched by name), or give the optimizer all of the module's parameters in order"
        )


def optimizer_to_torch(optimizer: optim.Optimizer, torch_module: Any, allow_schedule: bool = False) -> Any:
    """The same optimizer for ``torch_module`` (usually ``to_torch(model)``), with its state.

    SGD (momentum, Nesterov, dampening, weight decay), Adagrad, RMSprop (centered, momentum),
    Adam and AdamW (amsgrad too) become their ``torch.optim`` class with the same options per
    parameter group, and every buffer (``momentum_buffer``, ``sum``, ``square_avg``,
    ``grad_avg``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) and step count is copied, so
    the next ``step()`` in PyTorch is the step this optimizer would take (a parameter with no
    state yet starts from the state ours would give it, as Adagrad's
    ``initial_accumulator_value``). Parameters are matched by name when ``torch_module`` came
    from ``to_torch``, else by position; the torch groups record the names as ``param_names``
    (PyTorch 2.6 and later). The course's ``Momentum``, ``eps_mode="inside"`` or ``"hat"``,
    and a schedule as ``lr`` (unless ``allow_schedule``; see ``scheduler_to_torch``) raise a
    ValueError saying what to use instead.
    """
    torch = require("torch", "optimizer_to_torch")
    if not isinstance(optimizer, optim.Optimizer):
        raise TypeError(
            f"optimizer_to_torch: expected a tinygrad_edu optimizer, got {type(optimizer).__name__}"
        )
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(
            f"optimizer_to_torch: torch_module must be a torch.nn.Module, got {type(torch_module).__name__}"
        )
    class_name, keys = check_convertible(optimizer)
    for i, group in enumerate(optimizer.param_groups):
        check_group(optimizer, group, i, allow_schedule)
    torch_named = dict(torch_module.named_parameters())
    torch_groups = []
    for group, names in zip(optimizer.param_groups, _torch_names(optimizer, torch_module)):
        options = {key: group[key] for key in keys}
        if callable(options["lr"]):
            options["lr"] = float(options["lr"](optimizer.step_count))
        torch_groups.append({"params": [(n, torch_named[n]) for n in names], **options})
    torch_optimizer = _make_torch_optimizer(getattr(torch.optim, class_name), torch_groups)
    if any(callable(g["lr"]) for g in optimizer.param_groups):
        _FLATTENED[torch_optimizer] = [g["lr"] for g in optimizer.param_groups]
    state = optimizer.state_dict()["state"]
    if class_name == "Adagrad":
        _add_initial_state(optimizer, state)
    packed = torch_optimizer.state_dict()
    converted = {k: _state_to_torch(entry, class_name, torch) for k, entry in state.items()}
    packed["state"] = {k: entry for k, entry in converted.items() if entry}  # SGD without momentum: none
    torch_optimizer.load_state_dict(packed)
    return torch_optimizer


def _make_torch_optimizer(cls: Any, groups: list[dict[str, Any]]) -> Any:
    """``cls(groups)``, whose params are (name, tensor) pairs: PyTorch 2.6 and later keep the names
    as ``param_names``, so that ``optimizer_from_torch`` can match by name wherever the groups go."""
    try:
        return cls(groups)
    except TypeError:  # an older PyTorch: its optimizers take tensors only
        return cls([{**g, "params": [t for _, t in g["params"]]} for g in groups])


def _add_initial_state(optimizer: Any, state: dict[int, Any]) -> None:
    """Give each parameter without state yet the state our Adagrad would start it with.

    PyTorch's Adagrad fills its ``sum`` when it is built, from the constructor's
    ``initial_accumulator_value`` (not the group's), and the state loaded below replaces that;
    written out, the first step in PyTorch starts from our group's value.
    """
    k = 0
    for group in optimizer.param_groups:
        for p in group["params"]:
            if k not in state:
                state[k] = optimizer._init_state(p.data, group)
            k += 1


def _state_to_torch(entry: dict[str, Any], class_name: str, torch: Any) -> dict[str, Any]:
    out = {}
    for key, value in entry.items():
        if key == "step":
            if class_name != "SGD":  # PyTorch's SGD keeps no step count
                out["step"] = torch.tensor(float(value), dtype=_step_dtype(torch))
        elif value is not None:
            out[key] = torch.tensor(np.array(value))
    return out


def _step_dtype(torch: Any) -> Any:
    # what torch.optim uses for its step counts (float32 unless the default dtype is float64)
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def scheduler_to_torch(optimizer: optim.Optimizer, torch_optimizer: Any) -> Any:
    """A ``torch.optim.lr_scheduler.LambdaLR`` that gives ``torch_optimizer`` our optimizer's lr.

    For each group, the lr of our optimizer's step ``optimizer.step_count + k`` is the lr of
    PyTorch's step k (call ``scheduler.step()`` after each ``torch_optimizer.step()``, as
    usual): any schedule (ExponentialDecay, InverseTimeDecay, CosineDecay,
    PiecewiseConstantDecay, or a function), with the same values bit for bit, because the
    LambdaLR's base lr is set to 1 and the lambda returns the lr itself. A constant lr stays
    constant. Use after ``optimizer_to_torch(optimizer, module, allow_schedule=True)``; pass
    the scheduler to ``optimizer_from_torch(..., scheduler=scheduler)`` to bring the schedule
    back.
    """
    torch = require("torch", "scheduler_to_torch")
    groups = optimizer.param_groups
    if len(groups) != len(torch_optimizer.param_groups):
        raise ValueError(
            f"scheduler_to_torch: the optimizer has {len(groups)} param group(s), torch_optimizer has "
            f"{len(torch_optimizer.param_groups)}"
        )
    start = optimizer.step_count
    lambdas = []
    for group, torch_group in zip(groups, torch_optimizer.param_groups):
        lr = group["lr"]
        lambdas.append((lambda k, s=lr: float(s(start + k))) if callable(lr) else (lambda k, c=float(lr): c))
        torch_group["lr"] = torch_group["initial_lr"] = 1.0  # the base lr the lambdas multiply
    scheduler = torch.optim.lr_scheduler.LambdaLR(torch_optimizer, lr_lambda=lambdas)
    _SCHEDULERS[scheduler] = ([g["lr"] for g in groups], start)
    return scheduler


# --- torch -> ours ----------------------------------------------------------------------------------


def _our_class(torch_optimizer: Any, torch: Any) -> type:
    kind = type(torch_optimizer)
    topt = torch.optim
    if kind is topt.AdamW or (kind is topt.Adam and torch_optimizer.defaults.get("decoupled_weight_decay")):
        return optim.AdamW
    found = {
        topt.SGD: optim.SGD, topt.Adagrad: optim.Adagrad, topt.RMSprop: optim.RMSprop, topt.Adam: optim.Adam
    }
    if kind not in found:
        raise TypeError(
            f"optimizer_from_torch: cannot convert torch.optim.{kind.__name__}; the optimizers that convert "
            f"are {', '.join(SUPPORTED_OPTIMIZERS)}"
        )
    return found[kind]


def _our_options(group: dict[str, Any], cls: type, i: int) -> dict[str, Any]:
    keys = OPTIONS[cls][1]
    if group.get("maximize"):
        raise ValueError(
            f"optimizer_from_torch: group {i} has maximize=True, which tinygrad_edu's optimizers have no "
            "option for; minimise the negated objective instead"
        )
    known = set(keys) | IMPLEMENTATION_FLAGS | {"params", "maximize", "decoupled_weight_decay"}
    unknown = sorted(set(group) - known)
    if unknown:
        raise ValueError(
            f"optimizer_from_torch: group {i} has option(s) {unknown}, which {cls.__name__} has no "
            f"equivalent for; the options that convert are {list(keys)}"
        )
    options = {key: group[key] for key in keys}
    options["lr"] = float(options["lr"])  # PyTorch allows a 0-d tensor
    if "betas" in options:
        options["betas"] = tuple(float(b) for b in options["betas"])
    return options


def _our_params(torch_optimizer: Any, model: nn.Module) -> list[list[Any]]:
    """For each torch group, our parameters: by identity, else by name, else by position."""
    named = dict(model.named_parameters())
    groups = torch_optimizer.param_groups
    source = source_of(model)  # the torch module from_torch made model from
    if source is not None:
        names = {id(p): name for name, p in source.named_parameters()}
        def found(p: Any) -> bool:
            return id(p) in names and names[id(p)] in named and named[names[id(p)]].shape == tuple(p.shape)

        if all(found(p) for g in groups for p in g["params"]):
            return [[named[names[id(p)]] for p in g["params"]] for g in groups]
    if all("param_names" in g for g in groups):  # built from named_parameters(): match by name
        out = []
        for gi, g in enumerate(groups):
            missing = [n for n in g["param_names"] if n not in named]
            if missing:
                raise ValueError(
                    f"optimizer_from_torch: group {gi} names parameter(s) {missing}, which the model "
                    f"does not have; its parameters are {list(named)}"
                )
            out.append([named[n] for n in g["param_names"]])
        return out
    ours = list(model.parameters())
    theirs = [p for g in groups for p in g["params"]]
    _check_same_layout(theirs, ours, "optimizer_from_torch", "the model")
    out, k = [], 0
    for g in groups:
        out.append(ours[k : k + len(g["params"])])
        k += len(g["params"])
    return out


def optimizer_from_torch(torch_optimizer: Any, model: nn.Module, scheduler: Any = None) -> optim.Optimizer:
    """Our optimizer for ``model`` (usually ``from_torch(module)``), with the torch optimizer's state.

    The reverse of ``optimizer_to_torch``: the same class, options per group, buffers and step
    counts, so our next ``step()`` is PyTorch's next step. Parameters are matched by identity
    when ``model`` is ``from_torch`` of the module the torch optimizer updates, else by name
    when its groups have ``param_names`` (built from ``named_parameters()``, or by
    ``optimizer_to_torch``), else by position (the model's parameters in order). PyTorch's
    SGD counts no steps, so an SGD's step counts start at 0 (its update does not use them).
    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` only choose how PyTorch runs
    the same arithmetic and are dropped; ``maximize=True`` raises. A torch lr is a number:
    ``scheduler``, the LambdaLR that ``scheduler_to_torch`` made, brings our schedule back
    (at the step the scheduler has reached); without it, an lr set by a scheduler or made
    from a schedule comes back as its current number, with a warning saying so.
    """
    torch = require("torch", "optimizer_from_torch")
    if not isinstance(torch_optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer_from_torch: expected a torch.optim optimizer, got {type(torch_optimizer).__name__}"
        )
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"optimizer_from_torch: model must be a tinygrad_edu nn.Module, got {type(model).__name__}"
        )
    cls = _our_class(torch_optimizer, torch)
    matched = _our_params(torch_optimizer, model)
    groups = [
        {"params": params, **_our_options(g, cls, i)}
        for i, (g, params) in enumerate(zip(torch_optimizer.param_groups, matched))
    ]
    lrs, scheduled_steps = _schedules_back(torch_optimizer, scheduler)
    for group, lr in zip(groups, lrs or []):
        group["lr"] = lr
    ours = cls(groups)
    ours_packed = ours.state_dict()
    state = {}
    for k, entry in torch_optimizer.state_dict()["state"].items():
        converted = {
            key: (value.detach().cpu().numpy().copy() if key != "step" else int(float(value)))
            for key, value in entry.items()
        }
        if cls is optim.SGD:
            converted["step"] = 0
            converted.setdefault("momentum_buffer", None)
        state[int(k)] = converted
    steps = [entry["step"] for entry in state.values()]
    step_count = max(steps, default=0) if scheduled_steps is None else scheduled_steps
    ours.load_state_dict(
        {"state": state, "param_groups": ours_packed["param_groups"], "step_count": step_count}
    )
    return ours


def _schedules_back(torch_optimizer: Any, scheduler: Any) -> tuple[Optional[list[Any]], Optional[int]]:
    """Our lr per group and the step count that continues the schedule, from a scheduler that
    ``scheduler_to_torch`` made; (None, None) without one, warning if a schedule is dropped."""
    groups = torch_optimizer.param_groups
    if scheduler is None:
        if torch_optimizer in _FLATTENED or any("initial_lr" in g for g in groups):
            warnings.warn(
                "optimizer_from_torch: torch_optimizer's lr was a schedule (it has "
                f"{[g['lr'] for g in groups]} now), and a torch lr is a number: the result keeps that "
                "number as a constant lr, without the schedule. Pass scheduler=the LambdaLR that "
                "interop.scheduler_to_torch made to bring the schedule back; for another PyTorch "
                "scheduler, set the result's param_groups[i]['lr'] to one of optim.schedules",
                UserWarning,
                stacklevel=3,
            )
        return None, None
    entry = _SCHEDULERS.get(scheduler) if _weakrefable(scheduler) else None
    if entry is None:
        raise ValueError(
            f"optimizer_from_torch: scheduler is a {type(scheduler).__name__} that "
            "interop.scheduler_to_torch did not make; only that LambdaLR can bring a schedule back "
            "(its lambdas hold ours). Leave scheduler out and set the result's param_groups[i]['lr'] "
            "to one of optim.schedules instead"
        )
    if getattr(scheduler, "optimizer", None) is not torch_optimizer:
        raise ValueError("optimizer_from_torch: scheduler belongs to another torch optimizer")
    lrs, start = entry
    if len(lrs) != len(groups):
        raise ValueError(
            f"optimizer_from_torch: the scheduler was made for {len(lrs)} param group(s), "
            f"torch_optimizer has {len(groups)} now"
        )
    return list(lrs), start + int(scheduler.last_epoch)


def _weakrefable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True
