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
``_update`` is called once per parameter with that parameter's own arrays. The built-in
optimizers, whose rules are elementwise, opt into updating a small group as one flat
array (``elementwise = True``, see ``tinygrad_edu/optim/flat.py``): the same numbers, fewer
numpy calls.
"""

from __future__ import annotations

import copy
import inspect
import math
from typing import Any, Callable, Iterable, Optional, Union

import numpy as np

from tinygrad_edu._config import _check_flag, enable_grad
from tinygrad_edu.autograd import mark_modified
from tinygrad_edu.optim import flat, schedules
from tinygrad_edu.tensor import Tensor, _zero_grad_in_place

LearningRate = Union[float, Callable[[int], float]]


class _Required:
    """The default of an option that has none (``lr`` of SGD and Momentum)."""

    def __repr__(self) -> str:
        return "<required>"


required: Any = _Required()


def _empty_params_message(name: str, params: Any, fresh: bool) -> str:
    """Why an optimizer got no parameters: most often a ``model.parameters()`` generator that an
    earlier optimizer (or loop) already went through, since a generator can be iterated only once.
    ``fresh``: params is a generator that had not started before the optimizer read it."""
    if iter(params) is not params:  # a list, a tuple: really empty
        return f"{name}: got an empty parameter list"
    if fresh:
        return f"{name}: params is a generator that gave no parameters: the model has none"
    fix = "call model.parameters() again for each optimizer, or keep params = list(model.parameters())"
    if inspect.isgenerator(params):
        return (
            f"{name}: params is a generator that was already used up, so it gave no parameters: "
            f"model.parameters() can be iterated only once; {fix}"
        )
    return (
        f"{name}: params is a {type(params).__name__} that gave no parameters: either there are "
        "none, or it is an iterator that was already used up (model.parameters() can be iterated "
        f"only once; {fix})"
    )


def _lr_before_init(name: str) -> str:
    return (
        f"{name}: the learning rate is kept in param_groups, which Optimizer.__init__ makes: call "
        "super().__init__(params, dict(lr=lr, ...)) first, and read or set self.lr after it"
    )


def _same_number(a: Any, b: Any) -> bool:
    """Whether two group learning rates are the same number (schedules: only the same object)."""
    numbers = (int, float, np.number)
    return isinstance(a, numbers) and isinstance(b, numbers) and a == b


def _dict_params_message(name: str, params: dict[Any, Any]) -> str:
    """Why a dict is not what ``params`` takes: iterating it gives its keys, which read as parameters
    (``SGD({"params": ps, "lr": 0.1})`` would be two "parameters", 'params' and 'lr')."""
    keys = sorted(str(k) for k in params)
    shown = ", ".join(repr(k) for k in keys[:6]) + (f", ... ({len(keys)} keys)" if len(keys) > 6 else "")
    expected = (
        "expected an iterable of Tensors, such as model.parameters(), or a list of dicts each with "
        "'params' (param groups)"
    )
    start = f"{name}: params is a dict with keys [{shown}]"
    if "params" in params:
        return f"{start}, one param group; {expected}: wrap it in a list, [{{'params': ..., 'lr': ...}}]"
    if params and all(isinstance(v, Tensor) for v in params.values()):
        return f"{start}; {expected}: for the Tensors it holds, pass list(params.values())"
    return (
        f"{start}; {expected}. A model's state_dict() holds copies of the arrays, not the Tensors "
        "to update: pass model.parameters()"
    )


def _check_takes_a_step(schedule: Callable[..., Any], where: str) -> None:
    """A schedule is called with the step count, ``lr(step)``: say so now, not at the first step."""
    try:
        inspect.signature(schedule).bind(0)
    except TypeError:
        raise TypeError(
            f"{where} is a callable that cannot be called with one argument; a schedule is called "
            "with the step number, lr(step) -> learning rate (e.g. lambda step: 0.1 * 0.95 ** step)"
        ) from None
    except ValueError:  # no signature to read (some builtins): it is called as it is
        pass


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

    elementwise: bool = False
    """True in a class whose ``_update`` is elementwise (each number updated from the same-position
    numbers of its gradient and state, with group-wide scalars): a small group is then updated as
    one flat array (``optim/flat.py``), with the same results. Read from the class's own body
    only, so a subclass gets the per-parameter loop unless it writes ``elementwise = True`` too."""

    made_on_first_use: tuple[str, ...] = ()
    """State buffers that ``_init_state`` makes for some options and ``_update`` makes, from 0, when
    they are missing (the option was turned on between steps): a saved state may lack them."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self.step_count = 0
        self.last_lr: list[float] = []  # (add_param_group adds one per group)
        self._options_seen: list[dict[str, Any]] = []  # each group's options as last checked
        self._flat = flat.FlatGroups() if flat.enabled_for(type(self)) else None
        name = type(self).__name__
        if "lr" not in self.defaults:
            raise ValueError(
                f"{name}: the defaults given to Optimizer.__init__ have no 'lr' (they have "
                f"{sorted(self.defaults)}); every optimizer needs one, for example "
                "super().__init__(params, dict(lr=lr, ...)), even if _update does not use it"
            )
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
        if isinstance(params, dict):
            raise TypeError(_dict_params_message(name, params))
        fresh = inspect.isgenerator(params) and inspect.getgeneratorstate(params) == inspect.GEN_CREATED
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError(_empty_params_message(name, params, fresh))
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

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
        self._check_params(params, index)
        self._check_known(group, index)
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
        self._options_seen.append(_options_of(group))
        self.last_lr.append(self._lr_at(group, self.step_count))  # what its first step will use

    def _check_known(self, group: dict[str, Any], index: int) -> None:
        """Every key of the group is an option of this optimizer (or 'params')."""
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown option(s) {unknown} in param group {index}; "
                f"the options are {sorted(self.defaults)}"
            )

    def _check_params(self, params: list[Any], index: int) -> None:
        """Each entry of group ``index`` is a leaf Tensor that requires grad, and no tensor is given twice."""
        name = type(self).__name__
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

    @property
    def lr(self) -> Any:
        """The learning rate (a number or a schedule) of every param group, when they share one.

        ``optimizer.lr = 0.01`` sets it in every group, checked as the constructor checks it,
        and the next ``step()`` uses it (``param_groups[i]["lr"] = ...`` sets one group's).
        Keras's name, ``learning_rate``, is the same property."""
        groups = self.__dict__.get("param_groups")
        if not groups:
            raise AttributeError(_lr_before_init(type(self).__name__))
        lrs = [g["lr"] for g in groups]
        if any(lr is not lrs[0] and not _same_number(lr, lrs[0]) for lr in lrs):
            raise AttributeError(
                f"{type(self).__name__}: the param groups have different learning rates "
                f"({', '.join(map(repr, lrs))}); read one group's as param_groups[i]['lr']"
            )
        return lrs[0]

    @lr.setter
    def lr(self, value: Any) -> None:
        groups = self.__dict__.get("param_groups")
        if groups is None:
            raise AttributeError(_lr_before_init(type(self).__name__))
        for i in range(len(groups)):
            self._check_lr(value, i)
        for group in groups:
            group["lr"] = value
        if self.step_count == 0:  # last_lr is what the first step will use until it has run
            self.last_lr = [self._lr_at(g, 0) for g in groups]

    learning_rate = lr

    def _check_lr(self, lr: Any, index: int) -> None:
        if callable(lr):
            _check_takes_a_step(lr, f"{type(self).__name__}: lr of group {index}")
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

    def _check_flag(self, group: dict[str, Any], index: int, key: str) -> None:
        """A yes/no option must be True or False (a numpy bool too, kept as a bool): a string
        such as "False" is not empty, so it would count as True."""
        group[key] = _check_flag(group[key], f"{key} of group {index}", type(self).__name__)

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
        """The group's learning rate at a step count: the number itself, or the schedule's value,
        checked each time (``param_groups[i]["lr"]`` may have been changed since the start)."""
        lr = group["lr"]
        value = lr(step) if callable(lr) else lr
        if type(value) is float and 0 <= value < math.inf:  # the usual case, at once
            return value
        where = f"the learning-rate schedule returned {value!r} at step {step}" if callable(lr) else (
            f"a group's lr is {value!r} (was param_groups[i]['lr'] changed?)"
        )
        if isinstance(value, (np.ndarray, Tensor)) and value.size == 1 and value.dtype.kind in "iuf":
            value = value.item()  # a schedule computed with numpy or tensors
        if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{type(self).__name__}: {where}; expected a number")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{type(self).__name__}: {where}; expected a finite number >= 0")
        return float(value)

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Update every parameter that has a gradient, in place; return ``closure()`` if given.

        ``closure`` (optional) recomputes the loss and its gradients; it is called first.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Everything is checked before anything is updated: a bad option or schedule in a later
        # group must not leave the earlier groups one step ahead.
        self._check_changed_options()
        lrs = [self._lr_at(group, self.step_count) for group in self.param_groups]
        for group, lr in zip(self.param_groups, lrs):
            if self._flat is None or not self._flat.step(self, group, lr):
                self._step_each(group, lr)
        self.last_lr = lrs
        self.step_count += 1
        return loss

    def _check_changed_options(self) -> None:
        """The options of a group changed since they were last checked (``group["amsgrad"] = True``
        between steps) are checked again, as the constructor checks them: a string "False" or a
        misspelt choice would otherwise be taken silently."""
        seen = self._options_seen
        for i, group in enumerate(self.param_groups):
            if i < len(seen) and _same_options(group, seen[i]):
                continue
            missing = sorted(set(self.defaults) - set(group))
            if missing:
                raise ValueError(f"{type(self).__name__}: param group {i} has no option(s) {missing}")
            self._check_known(group, i)
            self._check_options(group, i)
            if i < len(seen):
                seen[i] = _options_of(group)
            else:  # (a group appended to param_groups by hand)
                seen.append(_options_of(group))

    def _step_each(self, group: dict[str, Any], lr: float) -> None:
        """The update loop: ``_update`` once per parameter that has a gradient, on its own arrays."""
        for p in group["params"]:
            if p.grad is None:
                continue
            param, grad = p.data, self._grad_of(p)
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = self._init_state(param, group)
            state["step"] += 1
            self._update(param, grad, state, group, lr)
            mark_modified(p)  # changed in place: a graph recorded before cannot backpropagate now

    def _grad_of(self, p: Tensor) -> np.ndarray:
        """``p.grad``'s array, checked against the parameter and cast to its dtype."""
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
        return grad if grad.dtype == param.dtype else grad.astype(param.dtype)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: every parameter's ``grad`` becomes None, or with
        ``set_to_none=False`` zeros, filled in place (PyTorch's two choices)."""
        set_to_none = _check_flag(set_to_none, "set_to_none", f"{type(self).__name__}.zero_grad")
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                else:
                    _zero_grad_in_place(p)

    # --- state dicts ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: PyTorch's ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their position (counting across groups in order), arrays are
        copies, and only ndarrays, numbers, bools, strings, None, lists and dicts appear, so
        ``tg.save`` can write it to .npz without pickle. ``"step_count"`` is the optimizer's own
        step count, and ``"optimizer"`` its class name (Adam and AdamW keep the same options, so
        without it one would load the other's state and silently change algorithm). A schedule
        ``lr`` is stored as ``{"schedule": name, "config": {...}}``
        (a custom callable as ``{"schedule": "custom", ...}``, which needs an optimizer built
        with that callable to load into).
        """
        name = type(self).__name__
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
        return {"state": state, "param_groups": groups, "step_count": self.step_count, "optimizer": name}

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
            return schedule if schedule is not None else schedules.rebuild_custom(saved, current, where)
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
                if arr.dtype.kind != "b":  # bool(np.array("False")) is True
                    raise ValueError
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
        self._check_saved_by(state_dict, name)
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
        step_count = _loaded_step(state_dict.get("step_count", max_step), f"{name}: 'step_count'")
        self.param_groups = new_groups
        self._options_seen = [_options_of(g) for g in new_groups]
        self.state = new_state
        self.step_count = step_count
        if self._flat is not None:
            self._flat.clear()  # rebuilt from the loaded per-parameter state at the next step
        self.last_lr = [self._lr_at(g, max(step_count - 1, 0)) for g in new_groups]

    def _check_saved_by(self, state_dict: Any, name: str) -> None:
        """A state dict, saved by this class of optimizer (when it says: older ones do not)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' (what "
                             f"optimizer.state_dict() returns), got {_describe_dict(state_dict)}")
        saved_by = str(np.asarray(state_dict.get("optimizer", type(self).__name__)))
        if saved_by != type(self).__name__:
            raise ValueError(
                f"{name}: the state was saved by {saved_by}, whose steps differ; to resume it, build "
                f"{saved_by}(params, ...) instead of {type(self).__name__}"
            )

    def _load_param_state(
        self, p: Tensor, group: dict[str, Any], entry: dict[str, Any], k: int, name: str
    ) -> dict[str, Any]:
        """The saved ``entry`` checked against what ``_init_state`` makes (every key it makes must be
        there); keys beyond those are state that ``_update`` makes on first use, taken as saved."""
        state = self._init_state(p.data, group)  # (a buffer made on first use stays as it starts, 0)
        lacking = sorted(set(state) - set(entry) - set(self.made_on_first_use))
        if lacking:
            raise ValueError(
                f"{name}: the saved state of parameter {k} has {sorted(entry)}, but {type(self).__name__} "
                f"with these options keeps {sorted(state)} (the saved state lacks {lacking})"
            )
        for key, value in entry.items():
            if key == "step":
                state["step"] = _loaded_step(value, f"{name}: 'step' of parameter {k}")
            else:
                where = f"{name}: {key!r} of parameter {k}"
                state[key] = _loaded_entry(value, state.get(key, _LAZY), p.data, where)
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


_LAZY: Any = object()  # in place of an initial value: a state key that _update makes, not _init_state


def _options_of(group: dict[str, Any]) -> dict[str, Any]:
    """A group's options (everything but its parameters), as they were when checked."""
    return {k: v for k, v in group.items() if k != "params"}


def _same_options(group: dict[str, Any], seen: dict[str, Any]) -> bool:
    """Whether ``group`` holds exactly the option objects ``seen`` (compared by identity: cheap,
    and a value replaced by an equal one is merely checked again)."""
    if len(group) != len(seen) + 1:
        return False
    for key, value in seen.items():
        if group.get(key, _LAZY) is not value:
            return False
    return True


def _is_scalar(value: Any) -> bool:
    """A Python or numpy number (bools too), or a 0-d array."""
    return isinstance(value, (int, float, np.number, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    )


def _loaded_entry(value: Any, initial: Any, param: np.ndarray, where: str) -> Any:
    """A copy of a saved state entry, checked against its ``initial`` value from ``_init_state``
    (``_LAZY``: a key made on first use; None: a buffer made on first use, of the parameter's shape)."""
    if value is None and (initial is None or initial is _LAZY):
        return None
    if initial is None or (initial is _LAZY and isinstance(value, np.ndarray) and value.shape == param.shape):
        return _loaded_array(value, param, where)  # a buffer like the parameter: in its dtype
    if initial is _LAZY:
        if isinstance(value, np.ndarray) and value.dtype.kind not in "fiub":
            raise ValueError(f"{where} should hold numbers, got {_describe(value)}")
        return copy.deepcopy(value)  # anything else made on first use: as saved
    if isinstance(initial, np.ndarray) and initial.ndim > 0:
        return _loaded_array(value, initial, where)
    if _is_scalar(initial):
        return _loaded_scalar(value, initial, where)
    if not isinstance(value, type(initial)):
        raise ValueError(f"{where} should be a {type(initial).__name__}, got {_describe(value)}")
    return copy.deepcopy(value)


def _loaded_step(value: Any, where: str) -> int:
    """A saved step count: a whole number >= 0 (Python's or numpy's; PyTorch saves 3.0), as an int.
    A negative or fractional count would shift Adam's bias correction silently."""
    if not _is_scalar(value) or np.asarray(value).dtype.kind not in "iuf":
        raise ValueError(f"{where} should be a whole number >= 0, got {_describe(value)}")
    number = np.asarray(value).item()
    if not (float(number).is_integer() and number >= 0):
        raise ValueError(f"{where} should be a whole number >= 0, got {number!r}")
    return int(number)


def _describe_dict(value: Any) -> str:
    """What was given in place of an optimizer's state dict, with the way to the right one."""
    if not isinstance(value, dict):
        return _describe(value)
    keys = sorted(map(str, value))
    shown = ", ".join(repr(k) for k in keys[:6]) + (", ..." if len(keys) > 6 else "")
    if "optimizer" in value and isinstance(value["optimizer"], dict):
        return f"a dict with keys {shown}: a checkpoint? Pass its optimizer entry, checkpoint['optimizer']"
    if value and all(isinstance(v, np.ndarray) for v in value.values()):
        return f"a dict of arrays with keys {shown}: a model's state_dict, which model.load_state_dict takes"
    return f"a dict with keys {shown}"


def _loaded_array(value: Any, like: np.ndarray, where: str) -> np.ndarray:
    """``value`` as an array of ``like``'s shape and dtype (a float buffer takes ints too)."""
    arr = None if value is None else np.asarray(value)
    if (
        arr is None
        or arr.shape != like.shape
        or arr.dtype.kind not in "fiub"
        or not np.can_cast(arr.dtype, like.dtype, casting="same_kind")
    ):
        kind = "a float" if like.dtype.kind == "f" else f"a {like.dtype}"
        raise ValueError(f"{where} should be {kind} array of shape {like.shape}, got {_describe(value)}")
    return arr.astype(like.dtype, copy=True)


def _loaded_scalar(value: Any, initial: Any, where: str) -> Any:
    """A saved number (Python, numpy or a 0-d array) where ``_init_state`` makes one: kept as saved
    (``_update`` may have turned 0.0 into a numpy float), if ``initial``'s kind can take it."""
    if not _is_scalar(value) or not np.can_cast(
        np.asarray(value).dtype, np.asarray(initial).dtype, casting="same_kind"
    ):
        raise ValueError(f"{where} should be a number like {initial!r}, got {_describe(value)}")
    return value.copy() if isinstance(value, np.ndarray) else value


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    return f"a {type(value).__name__}"
