"""The flat fast path: a small group of parameters updated as one array, for the built-in optimizers.

A small network's optimizer step is dominated by Python and numpy call overhead per
parameter, not by arithmetic. An optimizer whose update rule is *elementwise* (each number
of a parameter is updated from the same-position numbers of its gradient and state only,
with scalars that are the same for the whole group) gives exactly the same numbers when it
runs once on all the parameters of a group laid end to end. So for such an optimizer, and a
group of at most ``LIMIT`` elements of one float dtype, this module keeps the state buffers
as one flat array each, gathers the gradients into one flat array and calls ``_update``
once for the whole group: a handful of numpy calls update every parameter, whatever the
number of layers (on the seeds' [2, 5, 2, 1] network, six arrays, Adam's step took about
12 µs this way and about 55 µs one parameter at a time).

Only a class that says so takes this path: ``elementwise = True`` written in the class's own
body (``SGD``, ``Momentum``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``). A subclass does not
inherit it, so an optimizer a user writes gets one ``_update`` call per parameter, with that
parameter's arrays, unless it restates ``elementwise = True``.

The parameters' arrays stay the same objects, updated in place. Parameters made by
``nn.Parameter`` lie side by side in memory (``nn.module._Blocks``), so ``_update`` usually
works on them directly; otherwise they are gathered into a flat array and the result is
copied back. ``optimizer.state[p]`` holds views of the flat buffers; if a user replaces one of
them, the step count, a parameter's dict or the whole ``optimizer.state``, the next step lays
the group out again from what ``optimizer.state`` holds (``FlatGroup.holds``). Whenever the group
does not fit (some grads are None, shapes or dtypes differ, step counts differ, two parameters
share memory, or a 0-d parameter would be computed in another precision: see ``_make_flat``)
the per-parameter path runs. ``tests/test_optim_flat.py`` checks that both paths give the same
numbers bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from tinygrad_edu.autograd import mark_modified
from tinygrad_edu.tensor import Tensor

if TYPE_CHECKING:
    from tinygrad_edu.optim.optimizer import Optimizer

LIMIT = 1 << 16
"""The largest group (in elements) updated as one array; larger ones gain nothing from it."""


def enabled_for(cls: type) -> bool:
    """Whether instances of ``cls`` may take the flat path: ``elementwise = True`` in its own body."""
    return cls.__dict__.get("elementwise", False) is True


class FlatGroups:
    """An optimizer's flat buffers, one ``FlatGroup`` per param group that qualifies."""

    def __init__(self) -> None:
        # id(group) -> its FlatGroup; None: per parameter from now on; missing: not looked at yet
        self._groups: dict[int, Optional[FlatGroup]] = {}

    def clear(self) -> None:
        """Forget every layout (after ``load_state_dict``: rebuilt from the loaded state)."""
        self._groups.clear()

    def get(self, group: dict[str, Any]) -> Optional["FlatGroup"]:
        return self._groups.get(id(group))

    def step(self, opt: "Optimizer", group: dict[str, Any], lr: float) -> bool:
        """Update the whole group as one flat array if it qualifies; False means "do it per parameter"."""
        key = id(group)
        if key not in self._groups:
            self._groups[key] = _make_flat(opt, group)
        flat = self._groups[key]
        if flat is None:
            return False
        if not flat.holds(opt.state):  # opt.state was changed from outside: lay the group out from it
            del self._groups[key]
            return self.step(opt, group, lr)
        grads = flat.gradients(group["params"])
        if isinstance(grads, str):
            if grads == "relayout":  # a new array was assigned to p.data: lay the group out again
                del self._groups[key]
                return self.step(opt, group, lr)
            if grads == "per parameter":  # per parameter from now on (until the next load_state_dict)
                self._groups[key] = None
            return False  # ("no grads": the loop skips every parameter; the layout stays)
        flat.update(opt, group, lr, grads)
        return True


def _make_flat(opt: "Optimizer", group: dict[str, Any]) -> Optional["FlatGroup"]:
    """The group's flat layout, or None if it cannot be updated as one array.

    Besides sizes and dtypes, two things keep a group per parameter:

    * parameters whose arrays share memory (tied weights, ``b.data = a.data``, views of one
      array): one ``_update`` after the other updates the shared numbers twice, which one
      flat copy of each cannot do;
    * a 0-d parameter where numpy combines a 0-d array with a Python float in another
      precision than a 1-d one: numpy 1 computes ``x * 0.9`` for a 0-d float32 ``x`` in
      float64 (both are "scalars" there; numpy 2 keeps float32), so its updates differ
      from those of the same number inside a flat float32 array by a rounding.
    """
    params = group["params"]
    dtype = params[0].data.dtype
    if len(params) < 2 or sum(p.data.size for p in params) > LIMIT:
        return None
    if any(p.data.dtype != dtype or p.data.dtype.kind != "f" for p in params):
        return None
    if any(p.data.ndim == 0 for p in params) and np.result_type(np.zeros((), dtype), 1.0) != dtype:
        return None
    if _any_overlap([p.data for p in params]):
        return None
    states = [opt.state.get(p) for p in params]
    if any(st is None for st in states):
        return FlatGroup(params, None) if all(st is None for st in states) else None
    return FlatGroup(params, states) if _states_match(states, params, dtype) else None


def _byte_range(a: np.ndarray) -> tuple[int, int]:
    """The first byte of ``a`` and one past its last (for any strides)."""
    low = high = _address(a)
    for n, stride in zip(a.shape, a.strides):
        if stride < 0:
            low += (n - 1) * stride
        else:
            high += (n - 1) * stride
    return low, high + a.itemsize


def _any_overlap(arrays: list[np.ndarray]) -> bool:
    """Whether two of ``arrays`` may share memory: their byte ranges overlap (sorted, one pass)."""
    end = None
    for low, high in sorted(_byte_range(a) for a in arrays if a.size):
        if end is not None and low < end:
            return True
        end = high if end is None else max(end, high)
    return False


def _states_match(states: list[dict[str, Any]], params: list[Tensor], dtype: np.dtype) -> bool:
    """Every state has the same keys and step count, each buffer the parameter's shape and dtype."""
    first = states[0]
    for st, p in zip(states, params):
        if set(st) != set(first) or st["step"] != first["step"]:
            return False
        for k, v0 in first.items():
            v = st[k]
            if isinstance(v0, np.ndarray) != isinstance(v, np.ndarray):
                return False
            if isinstance(v, np.ndarray) and (v.shape != p.shape or v.dtype != dtype):
                return False
            if not isinstance(v, np.ndarray) and k != "step" and v != v0:
                return False
    return True


class FlatGroup:
    """Flat work arrays for a group's parameters and gradients, and its state as flat buffers.

    ``param`` is the parameters' memory itself when they lie side by side (``views`` is then
    None); otherwise a copy, with ``views[i]`` the slice that belongs to parameter i, in its
    shape. ``datas`` are the parameters' arrays it was laid out for. Existing per-parameter
    state is concatenated into the flat buffers.
    """

    def __init__(self, params: list[Tensor], states: Optional[list[dict[str, Any]]]) -> None:
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
        if states is not None:
            self.state = {
                k: np.concatenate([st[k].reshape(-1) for st in states]) if isinstance(v, np.ndarray) else v
                for k, v in states[0].items()
            }
        self._shared: Optional[dict[str, Any]] = None  # the entries the per-parameter views were cut from
        self._state_size = 0  # how many entries the state had then
        # what optimizer.state was given: (parameter, its state dict, its entries other than "step")
        self._handed: list[tuple[Tensor, dict[str, Any], list[tuple[str, Any]]]] = []

    def holds(self, per_param: dict[Tensor, dict[str, Any]]) -> bool:
        """Whether ``optimizer.state`` still holds, for every parameter, the dict and the arrays (or
        None) handed out, and the flat step count: if not, the flat buffers are not what it says."""
        if not self._handed:
            return True
        step = self.state["step"]
        try:  # a plain loop with st[k] (measured: about 0.7 µs per step of bench_optim's Adam)
            for p, st, entries in self._handed:
                if per_param.get(p) is not st or st["step"] != step:
                    return False
                for k, v in entries:
                    if st[k] is not v:
                        return False
        except KeyError:  # an entry was deleted
            return False
        return True

    def gradients(self, params: list[Tensor]) -> Union[list[np.ndarray], str]:
        """Each parameter's gradient, raveled; or why not: "per parameter", "relayout", or
        "no grads" (no parameter of the group has one: nothing to update, nothing changes).
        "relayout" also when the group's parameters are not the ones laid out."""
        dtype = self.dtype
        if len(params) != len(self.datas):  # group["params"] was edited: a parameter added or removed
            return "relayout"
        grads = []
        for p, shape, data in zip(params, self.shapes, self.datas):
            g = p._grad  # (the attribute behind the grad property: this loop runs every step)
            if g is None and all(q._grad is None for q in params):
                return "no grads"
            if g is None or type(g) is not Tensor:
                return "per parameter"
            g = g.data
            if g.shape != shape or (g.dtype is not dtype and g.dtype != dtype):
                return "per parameter"
            if p.data is not data:
                return "relayout"
            grads.append(g.ravel())  # a view (ravel is quicker than reshape(-1) or axis=None)
        return grads

    def update(self, opt: "Optimizer", group: dict[str, Any], lr: float, grads: list[np.ndarray]) -> None:
        """One ``_update`` on the whole group; then the parameters are marked modified and the
        per-parameter state views brought up to date."""
        params = group["params"]
        np.concatenate(grads, out=self.grad)
        if self.views is not None:  # the parameters are not side by side: gather them
            np.concatenate([d.ravel() for d in self.datas], out=self.param)
        state = self.state
        if state is None:
            state = self.state = opt._init_state(self.param, group)
        state["step"] += 1
        opt._update(self.param, self.grad, state, group, lr)
        if self.views is not None:  # and copy the result back
            for d, view in zip(self.datas, self.views):
                np.copyto(d, view)
        mark_modified(*params)
        self.share_state(opt.state, params)

    def share_state(self, per_param: dict[Tensor, dict[str, Any]], params: list[Tensor]) -> None:
        """Keep ``optimizer.state[p]`` in step: views of the flat buffers, and the step count."""
        state = self.state
        if self._new_buffers():  # first step, or one made on first use such as SGD's momentum buffer
            self._handed = []
            for p, sl, shape in zip(params, self.slices, self.shapes):
                st = per_param[p] = {
                    k: v[sl].reshape(shape) if isinstance(v, np.ndarray) else v for k, v in state.items()
                }
                self._handed.append((p, st, [(k, v) for k, v in st.items() if k != "step"]))
            # every entry but the step, None too: a buffer made on first use (SGD's momentum
            # buffer once momentum is turned on) replaces a None and keeps the number of entries
            self._shared = {k: v for k, v in state.items() if k != "step"}
            self._state_size = len(state)
            return
        step = state["step"]
        for p in params:
            per_param[p]["step"] = step

    def _new_buffers(self) -> bool:
        """Whether the state holds entries (buffers, or a buffer in place of None) that the
        per-parameter views were not cut from."""
        shared, state = self._shared, self.state
        if shared is None or len(state) != self._state_size:
            return True
        # a plain loop, not any(<generator>): creating the generator costs more than the check
        # (measured: 2,200 of 114,000 instructions per step of bench_optim's Adam)
        for k, v in shared.items():
            if state[k] is not v:
                return True
        return False


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
