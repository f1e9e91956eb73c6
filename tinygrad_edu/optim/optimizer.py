"""The optimizer base class: parameter groups, per-parameter state, learning-rate schedules, state dicts.

Shaped like PyTorch's ``torch.optim.Optimizer``. A subclass gives its defaults and
three small methods:

* ``_check_options(group, index)`` rejects bad hyperparameters with a clear message;
* ``_init_state(param, group)`` makes a parameter's state (its ``"step"`` count and buffers)
  the first time that parameter is updated;
* ``_update(param, grad, state, group, lr)`` applies one step of the update rule to the
  ndarray ``param`` in place (``grad`` is an ndarray of the same shape and dtype).

The base class walks the groups, skips parameters whose ``grad`` is None, evaluates a
schedule ``lr`` at the optimizer's own step count, and packs everything into a state dict.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Union

import numpy as np

from tinygrad_edu._config import enable_grad
from tinygrad_edu.optim import schedules
from tinygrad_edu.tensor import Tensor

LearningRate = Union[float, Callable[[int], float]]


class _Required:
    """The default of an option that has none (``lr`` of SGD and Momentum)."""

    def __repr__(self) -> str:
        return "<required>"


required: Any = _Required()


class Optimizer:
    """Base class of every optimizer.

    Attributes:
        param_groups: list of dicts ``{"params": [Tensor, ...], "lr": ..., other options}``.
        state: dict mapping a parameter (the Tensor itself) to its state: ``"step"`` (how many
            updates that parameter has had) and the buffers of the update rule. Filled the first
            time a parameter is updated.
        step_count: how many times ``step()`` has run. A schedule ``lr`` is evaluated at it,
            so the first step uses ``lr(0)`` (as Keras does).
        last_lr: one learning rate per group, the value used by the latest ``step()``
            (before the first step: the value the first step will use).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self.step_count = 0
        self._flat: dict[int, Optional[_FlatGroup]] = {}  # id(group) -> its flat buffers, or None
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors (or of dicts), got a single Tensor of "
                f"shape {params.shape}; wrap it in a list: [tensor]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: params is a set, whose order changes from run to run; pass a list instead, "
                "for example list(model.parameters())"
            )
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        self.last_lr = [self._lr_at(group, 0) for group in self.param_groups]

    # --- building groups -----------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options; missing options take the defaults."""
        name = type(self).__name__
        index = len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: param group {index} must be a dict like {{'params': [...], 'lr': 0.1}}, "
                f"got {type(param_group).__name__}"
            )
        group = dict(param_group)
        if "params" not in group:
            raise ValueError(f"{name}: param group {index} has no 'params' entry")
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: the params of group {index} are a set, whose order changes from run to run; "
                "pass a list"
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{name}: param group {index} has an empty parameter list")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            where = f"{name}: parameter {i} of group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{where} is a {type(p).__name__}; expected a Tensor")
            if not p.requires_grad:
                raise ValueError(
                    f"{where} (shape {p.shape}, {p.dtype}) does not require grad, so it would never "
                    "change; create it with requires_grad=True or leave it out"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{where} (shape {p.shape}) was computed by {type(p.grad_fn).__name__}; "
                    "an optimizer updates leaf tensors (the ones you created), not results of ops"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{where} (shape {p.shape}) appears more than once; give each parameter once"
                )
            seen.add(id(p))
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(
                f"{name}: unknown option(s) {unknown} in param group {index}; "
                f"the options are {sorted(self.defaults)}"
            )
        for key, default in self.defaults.items():
            if key not in group:
                if default is required:
                    raise ValueError(
                        f"{name}: param group {index} has no '{key}' and there is no default; "
                        f"pass {key}=... to {name} or in the group"
                    )
                group[key] = default
        group["params"] = params
        self._check_lr(group["lr"], index)
        self._check_options(group, index)
        self.param_groups.append(group)

    def _check_lr(self, lr: Any, index: int) -> None:
        if callable(lr):
            return
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)):
            raise TypeError(
                f"{type(self).__name__}: lr of group {index} must be a number or a schedule "
                f"(a callable step -> lr), got {type(lr).__name__}"
            )
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(f"{type(self).__name__}: lr of group {index} must be >= 0, got {lr}")

    def _check_options(self, group: dict[str, Any], index: int) -> None:
        """Subclasses reject bad hyperparameters here."""

    def _check_range(
        self,
        group: dict[str, Any],
        index: int,
        key: str,
        low: float,
        high: float = math.inf,
        high_open: bool = False,
    ) -> None:
        """A numeric option must lie in [low, high] (or [low, high) with ``high_open``)."""
        value = group[key]
        ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
        ok = ok and low <= value and (value < high if high_open else value <= high)
        if not ok:
            bracket = ")" if high_open else "]"
            raise ValueError(
                f"{type(self).__name__}: {key} of group {index} must be in [{low}, {high}{bracket}, "
                f"got {value!r}"
            )

    def _check_choice(self, group: dict[str, Any], index: int, key: str, choices: tuple[Any, ...]) -> None:
        if group[key] not in choices:
            raise ValueError(
                f"{type(self).__name__}: {key} of group {index} must be one of {choices}, got {group[key]!r}"
            )

    # --- the update loop -----------------------------------------------------------------
    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        """A parameter's state before its first update; subclasses add their buffers."""
        return {"step": 0}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    def _lr_at(self, group: dict[str, Any], step: int) -> float:
        """The group's learning rate at a step count: the number itself, or the schedule's value."""
        lr = group["lr"]
        if not callable(lr):
            return float(lr)
        value = lr(step)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(self).__name__}: the learning-rate schedule returned {value!r} at step {step}; "
                "expected a number"
            ) from None
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(
                f"{type(self).__name__}: the learning-rate schedule returned {value} at step {step}; "
                "expected a finite number >= 0"
            )
        return value

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Update every parameter that has a gradient, in place; return ``closure()`` if given.

        ``closure`` (optional) recomputes the loss and its gradients; it is called first.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        lrs = []
        for group in self.param_groups:
            lr = self._lr_at(group, self.step_count)
            lrs.append(lr)
            if self._flat_step(group, lr):
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not isinstance(p.grad, Tensor):
                    raise TypeError(
                        f"{type(self).__name__}.step: a parameter of shape {p.shape} has a grad of type "
                        f"{type(p.grad).__name__}; expected a Tensor or None"
                    )
                param, grad = p.data, p.grad.data
                if grad.shape != param.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: a parameter of shape {param.shape} ({param.dtype}) "
                        f"has a grad of shape {grad.shape} ({grad.dtype}); they must match"
                    )
                if grad.dtype != param.dtype:
                    grad = grad.astype(param.dtype)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self._init_state(param, group)
                state["step"] += 1
                self._update(param, grad, state, group, lr)
        self.last_lr = lrs
        self.step_count += 1
        return loss

    # --- one flat array per group: the fast path for small networks ------------------------
    # A small network's step is dominated by Python and numpy call overhead per parameter, not
    # by arithmetic. So for a group of at most FLAT_LIMIT elements of one float dtype, the
    # optimizer keeps the state buffers as one flat array each, gathers the gradients into one
    # flat array and runs ``_update`` once on the whole group: a handful of numpy calls update
    # every parameter, whatever the number of layers. The parameters' arrays stay the same
    # objects, updated in place. Parameters made by ``nn.Parameter`` lie side by side in memory
    # (``nn.module._Blocks``), so ``_update`` usually works on them directly; otherwise they are
    # gathered into a flat array and the result is copied back. ``optimizer.state[p]`` holds
    # views of the flat buffers. Whenever the group does not fit (a grad is None, shapes or
    # dtypes differ, step counts differ) the per-parameter path runs.

    FLAT_LIMIT = 1 << 16

    def _flat_step(self, group: dict[str, Any], lr: float) -> bool:
        """Update the whole group as one flat array if it qualifies; False means "do it per parameter"."""
        key = id(group)
        flat = self._flat.get(key, False)
        if flat is False:
            flat = self._flat[key] = self._make_flat(group)
        if flat is None:
            return False
        params = group["params"]
        dtype = flat.dtype
        grads = []
        for p, shape, data in zip(params, flat.shapes, flat.datas):
            g = p.grad
            if g is None or type(g) is not Tensor:
                self._flat[key] = None  # per parameter from now on (until the next load_state_dict)
                return False
            g = g.data
            if g.shape != shape or (g.dtype is not dtype and g.dtype != dtype):
                self._flat[key] = None
                return False
            if p.data is not data:  # a new array was assigned to p.data: lay the group out again
                self._flat[key] = False
                return self._flat_step(group, lr)
            grads.append(g.ravel())  # a view (ravel is quicker than reshape(-1) or axis=None)
        np.concatenate(grads, out=flat.grad)
        if flat.views is not None:  # the parameters are not side by side: gather them
            np.concatenate([d.ravel() for d in flat.datas], out=flat.param)
        state = flat.state
        if state is None:
            state = flat.state = self._init_state(flat.param, group)
        state["step"] += 1
        self._update(flat.param, flat.grad, state, group, lr)
        if flat.views is not None:  # and copy the result back
            for d, view in zip(flat.datas, flat.views):
                np.copyto(d, view)
        flat.share_state(self.state, params)
        return True

    def _make_flat(self, group: dict[str, Any]) -> Optional["_FlatGroup"]:
        params = group["params"]
        dtype = params[0].data.dtype
        if len(params) < 2 or sum(p.data.size for p in params) > self.FLAT_LIMIT:
            return None
        if any(p.data.dtype != dtype or p.data.dtype.kind != "f" for p in params):
            return None
        states = [self.state.get(p) for p in params]
        if any(st is None for st in states) and not all(st is None for st in states):
            return None
        if states[0] is not None:
            keys, step = set(states[0]), states[0]["step"]
            for st, p in zip(states, params):
                if set(st) != keys or st["step"] != step:
                    return None
                for k in keys:
                    v0, v = states[0][k], st[k]
                    arrays = isinstance(v0, np.ndarray), isinstance(v, np.ndarray)
                    if arrays[0] != arrays[1] or (arrays[1] and (v.shape != p.shape or v.dtype != dtype)):
                        return None
                    if not arrays[1] and k != "step" and v != v0:
                        return None
        return _FlatGroup(params, states)

    def zero_grad(self) -> None:
        """Forget the gradients: every parameter's ``grad`` becomes None (PyTorch's set_to_none)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    # --- state dicts ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: PyTorch's ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their position (counting across groups in order), arrays are
        copies, and only ndarrays, numbers, bools, strings, None, lists and dicts appear, so
        ``tg.save`` can write it to .npz without pickle. ``"step_count"`` is the optimizer's own
        step count. A schedule ``lr`` is stored as ``{"schedule": name, "config": {...}}``
        (a custom callable as ``{"schedule": "custom", ...}``, which needs an optimizer built
        with that callable to load into).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: self._pack_option(value) for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups, "step_count": self.step_count}

    @staticmethod
    def _pack_option(value: Any) -> Any:
        if isinstance(value, tuple):
            return list(value)
        if callable(value):
            return schedules.serialize(value)
        return value

    def _unpack_option(self, key: str, saved: Any, current: Any, index: int) -> Any:
        """Turn a saved option back into the type the optimizer uses (0-d arrays, lists -> tuples)."""
        where = f"{type(self).__name__}.load_state_dict: option {key!r} of group {index}"
        if key == "lr" and isinstance(saved, dict):
            schedule = schedules.deserialize(saved)
            if schedule is not None:
                return schedule
            if not callable(current):
                raise ValueError(
                    f"{where} was a custom schedule {saved.get('config')!r}, whose code is not stored; "
                    "build the optimizer with that schedule as lr before loading"
                )
            return current
        default = self.defaults.get(key)
        arr = np.asarray(saved)
        try:
            if isinstance(default, tuple):
                values = tuple(float(x) for x in arr.ravel())
                if len(values) != len(default):
                    raise ValueError
                return values
            if arr.ndim != 0:
                raise ValueError
            if isinstance(default, bool):
                return bool(arr)
            if isinstance(default, str):
                return str(arr)
            return float(arr) if arr.dtype.kind == "f" else arr.item()
        except (TypeError, ValueError):
            raise ValueError(f"{where} has the wrong kind of value: {saved!r}") from None

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` saved; continuing then gives the same steps as never stopping.

        The groups must hold the same numbers of parameters in the same order; the saved
        options replace the current ones. Nothing changes if anything does not match.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                f"{name}: expected a dict with 'state' and 'param_groups', got {_describe(state_dict)}"
            )
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the saved state has {len(saved_groups)} param group(s), "
                f"this optimizer has {len(self.param_groups)}"
            )
        new_groups = []
        owner: dict[int, tuple[Tensor, dict[str, Any]]] = {}  # saved index -> (parameter, its new group)
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_params = [int(k) for k in np.asarray(saved.get("params", [])).ravel()]
            if len(saved_params) != len(mine["params"]):
                raise ValueError(
                    f"{name}: saved param group {i} has {len(saved_params)} parameter(s), "
                    f"this optimizer's has {len(mine['params'])}"
                )
            keys, saved_keys = set(mine) - {"params"}, set(saved) - {"params"}
            if keys != saved_keys:
                raise ValueError(
                    f"{name}: saved param group {i} has options {sorted(saved_keys)}, "
                    f"{type(self).__name__} has {sorted(keys)}; was it saved by another optimizer?"
                )
            group = {"params": mine["params"]}
            for key in sorted(keys):
                group[key] = self._unpack_option(key, saved[key], mine[key], i)
            self._check_lr(group["lr"], i)
            self._check_options(group, i)
            new_groups.append(group)
            for k, p in zip(saved_params, mine["params"]):
                owner[k] = (p, group)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entry in dict(state_dict["state"]).items():
            try:
                k = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: state keys are parameter positions, got {key!r}") from None
            if k not in owner:
                raise ValueError(
                    f"{name}: the saved state has an entry for parameter {k}, which no group lists"
                )
            p, group = owner[k]
            new_state[p] = self._load_param_state(p, group, dict(entry), k, name)
        max_step = max((s["step"] for s in new_state.values()), default=0)
        step_count = int(np.asarray(state_dict.get("step_count", max_step)))
        self.param_groups = new_groups
        self.state = new_state
        self.step_count = step_count
        self._flat = {}  # rebuilt from the loaded per-parameter state at the next step
        self.last_lr = [self._lr_at(g, max(step_count - 1, 0)) for g in new_groups]

    def _load_param_state(
        self, p: Tensor, group: dict[str, Any], entry: dict[str, Any], k: int, name: str
    ) -> dict[str, Any]:
        state = self._init_state(p.data, group)
        if set(entry) != set(state):
            raise ValueError(
                f"{name}: the saved state of parameter {k} has {sorted(entry)}, but {type(self).__name__} "
                f"with these options keeps {sorted(state)}"
            )
        for key, value in entry.items():
            if key == "step":
                state["step"] = int(np.asarray(value))
            elif value is None and state[key] is None:
                continue  # a buffer that is made on first use (SGD's momentum buffer)
            else:
                arr = np.asarray(value) if value is not None else None
                if arr is None or arr.shape != p.shape or arr.dtype.kind not in "fiu":
                    raise ValueError(
                        f"{name}: {key!r} of parameter {k} should be a float array of shape {p.shape}, got "
                        f"{_describe(value)}"
                    )
                state[key] = arr.astype(p.dtype, copy=True)
        return state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    return f"a {type(value).__name__}"


class _FlatGroup:
    """Flat work arrays for a group's parameters and gradients, and its state as flat buffers.

    ``param`` is the parameters' memory itself when they lie side by side (``views`` is then
    None); otherwise a copy, with ``views[i]`` the slice that belongs to parameter i, in its
    shape. ``datas`` are the parameters' arrays it was laid out for. Existing per-parameter
    state is concatenated into the flat buffers.
    """

    def __init__(self, params: list[Tensor], states: list[Optional[dict[str, Any]]]) -> None:
        self.dtype = params[0].data.dtype
        self.datas = [p.data for p in params]
        self.shapes = [d.shape for d in self.datas]
        self.slices = []
        offset = 0
        for d in self.datas:
            self.slices.append(slice(offset, offset + d.size))
            offset += d.size
        whole = side_by_side(self.datas)
        self.views: Optional[list[np.ndarray]] = None
        if whole is not None:
            self.param = whole
        else:
            self.param = np.concatenate([d.reshape(-1) for d in self.datas])
            self.views = [self.param[sl].reshape(shape) for sl, shape in zip(self.slices, self.shapes)]
        self.grad = np.empty_like(self.param)
        self.state: Optional[dict[str, Any]] = None
        if states[0] is not None:
            self.state = {
                k: np.concatenate([st[k].reshape(-1) for st in states]) if isinstance(v, np.ndarray) else v
                for k, v in states[0].items()
            }
        self._shared: Optional[dict[str, Any]] = None  # flat arrays the per-parameter views were cut from
        self._state_size = 0  # how many entries the state had then

    def share_state(self, per_param: dict[Tensor, dict[str, Any]], params: list[Tensor]) -> None:
        """Keep ``optimizer.state[p]`` in step: views of the flat buffers, and the step count."""
        state = self.state
        shared = self._shared
        stale = shared is None or len(state) != self._state_size
        if stale or any(state[k] is not v for k, v in shared.items()):
            # new buffers (first step, or one made on first use such as SGD's momentum buffer)
            for p, sl, shape in zip(params, self.slices, self.shapes):
                per_param[p] = {
                    k: v[sl].reshape(shape) if isinstance(v, np.ndarray) else v for k, v in state.items()
                }
            self._shared = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
            self._state_size = len(state)
            return
        step = state["step"]
        for p in params:
            per_param[p]["step"] = step


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def side_by_side(arrays: list[np.ndarray]) -> Optional[np.ndarray]:
    """The 1-D array that ``arrays`` are consecutive pieces of, in this order, or None.

    True for the parameters of a model made with ``nn.Parameter`` (cut one after another
    from shared blocks): the whole is then one array that numpy can update in place.
    """
    first = arrays[0]
    base = first.base
    if base is None or base.ndim != 1 or base.dtype != first.dtype or not base.flags.c_contiguous:
        return None
    start = end = _address(first)
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or _address(a) != end:
            return None
        end += a.nbytes
    offset = (start - _address(base)) // base.itemsize
    return base[offset : offset + (end - start) // base.itemsize]
