"""The course's gradient check for a whole model: ``check_model(model, loss_fn, X, y)``.

Every parameter element theta_i is nudged both ways and the loss J recomputed:

    g_num_i = (J(theta_i + eps) - J(theta_i - eps)) / (2 eps)          (central difference)

and compared with the gradient g that one backward of ``loss_fn(model(X), y)``
gives, by the course's relative error

    relative_error = ||g - g_num|| / (||g|| + ||g_num||)               (Euclidean norms)

per parameter and over all parameters concatenated. The course reads it as
(Improving Deep Neural Networks, week 1, "Gradient checking"): about 1e-7 or
less is great, about 1e-5 needs a second look, about 1e-3 or more is very
likely a bug.

Three things break a finite difference, and the check handles them:

* randomness: dropout draws a new mask on every forward. The library's random
  Generator (and any Generator a module holds, ``Dropout(rng=...)``) is put
  back to the same state before every evaluation, so every forward draws the
  same mask and the loss is one deterministic function of the parameters.
* kinks: relu, abs, max, ... have no derivative at their kink. When a nudge
  of +eps and -eps puts an op's input on different sides of its kink (the
  op's saved pattern, such as relu's mask ``x > 0``, differs between the two
  evaluations), the difference quotient measures neither side's slope. Those
  elements are listed and, by default, left out of the relative error.
* zeros: a derivative that is zero up to rounding is ~1e-18 from backprop
  and 0 or ~1e-10 from the finite difference, a relative error of 1. Where
  both are below what the finite difference can resolve at the loss's scale
  (a few eps_float64 * |J| / eps), both count as 0. A parameter with nothing
  but zeros to compare (the loss does not depend on it, as when dropout drops
  every unit it feeds, or its derivatives are too small to resolve at this
  loss scale) is reported as "only zeros compared", not as great: a backward
  that returned zeros would agree too. A check that compared only zeros
  tested nothing and does not pass. Likewise a parameter whose relative
  error is 1e-3 or more but whose every |analytic - numerical| is below the
  resolution is reported as "below the resolution (not tested)", not as a
  bug and not as fine: at that loss scale a wrong backward gives the same
  differences as rounding.

It also checks the tensors that the loss depends on, that require grad and
that are not the model's parameters (a module-level ``nn.Parameter``, a plain
Tensor attribute): each is an extra row named ``(not a parameter) ...``, and
a note and the summary line say that ``model.parameters()``, so an
optimizer, leaves it out. Frozen parameters (``requires_grad=False``) are
listed as not checked.

The check runs in float64 on a copy of the parameters and restores the model
(parameters, their ``.grad``, buffers, the random Generators) afterwards.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from tinygrad_edu.autograd import grad as autograd_grad
from tinygrad_edu.graph import toposort
from tinygrad_edu.ops.elementwise import Abs, Clip, LeakyReLU, Maximum, Minimum, ReLU, Where
from tinygrad_edu.ops.fused import LinearReLU
from tinygrad_edu.ops.reduce import Max, Min
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.train import _check_model_and_loss, _random_sources, _rewind

# The built-in ops with kinks. Each saves the pattern that decides its
# piece of the function (relu: x > 0; abs: sign(x); max: which element won).
KINK_OPS: tuple[type, ...] = (ReLU, LinearReLU, LeakyReLU, Abs, Clip, Maximum, Minimum, Max, Min, Where)

# A finite difference cannot see a derivative much smaller than the rounding error of the loss
# divided by the step, about eps_float64 * |J| / eps. Where backprop's and the finite difference's
# derivatives are both below NOISE_FLOOR times that, both are read as 0. Measured on about 230
# correct float64 models (MLPs with tanh, sigmoid and relu under cross-entropy, MSE with targets
# up to 1e6 (|J| up to 1e13), BCE after batch norm, up to 200 samples and 4 layers), the largest
# |g_num - g| was 1.3 times eps_float64 * |J| / eps, and the median 0.8: 4 leaves a margin of 3
# while still resolving a derivative of 0.05 at |J| = 6e6 (eps = 1e-7). The estimate assumes the
# loss is not a small difference of large numbers: a confident classifier's cross-entropy near 0
# rounds more than its |J| says, and its tiny derivatives can then differ by more than this.
NOISE_FLOOR = 4.0

# The course's reading of the relative error: (upper bound, verdict), first match wins.
# The lecture calls about 1e-7 great; the programming exercise's gradient_check_n accepts a
# difference up to 2e-7 ("works perfectly fine") and prints 1.19e-7 on its own correct network.
VERDICTS: tuple[tuple[float, str], ...] = (
    (1e-7, "great"),
    (2e-7, "fine (below the course's 2e-7)"),
    (1e-5, "probably fine, double-check"),
    (1e-3, "suspicious"),
    (math.inf, "likely a bug"),
)

# One parameter this far off is a bug even when the overall difference, dominated by larger
# gradients elsewhere, looks fine.
BUG_BOUND = 1e-3

NOT_CHECKED = "not checked (kink)"

# The row name of a tensor that the loss depends on and that requires grad, but that is not one
# of the model's parameters (an optimizer given model.parameters() leaves it out).
NOT_A_PARAMETER = "(not a parameter)"

# A parameter whose derivatives are all 0 both ways (after reading tiny ones as 0): the two
# agree, but a backward that returned zeros would agree too, so nothing was tested.
ZEROS_ONLY = "only zeros compared"
NOTHING_TESTED = "nothing tested: only zeros compared"

# A parameter whose relative error is BUG_BOUND or more, yet every |analytic - numerical| of which is
# below the finite-difference resolution: its derivatives are too small at this loss scale for the
# differences to tell a bug from rounding (a factor-2 bug on a derivative of 0.03 at a loss of 6e6
# differs by about 2 rounding steps), so its backward was not tested (as with zeros only). Rounding
# does not make such a row fine: no difference below the resolution tells a bug from noise.
UNRESOLVED = "below the resolution (not tested)"
NOTHING_RESOLVED = "nothing tested: differences below the resolution"


def verdict(relative_error: float) -> str:
    """The course's words for a relative error: < 1e-7 great, < 2e-7 fine ... >= 1e-3 likely a bug."""
    if not math.isfinite(relative_error):
        return "not finite: NaN/Inf in the loss or gradient"
    for bound, words in VERDICTS:
        if relative_error < bound:
            return words
    return VERDICTS[-1][1]


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """||g - g_num|| / (||g|| + ||g_num||); 0.0 when both are zero (nothing to disagree on)."""
    g = np.asarray(analytic, dtype=np.float64).ravel()
    g_num = np.asarray(numerical, dtype=np.float64).ravel()
    denominator = np.linalg.norm(g) + np.linalg.norm(g_num)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(g - g_num) / denominator)


# --- the report ---------------------------------------------------------------------


@dataclass
class ElementCheck:
    """One parameter element: its index, both derivatives, and whether it sits on a kink."""

    index: tuple[int, ...]
    analytic: float
    numerical: float
    kink: bool = False

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numerical)


@dataclass
class ParameterCheck:
    """The check of one parameter: both gradients, the relative error, the worst elements."""

    name: str
    shape: tuple[int, ...]
    analytic: np.ndarray
    numerical: np.ndarray
    kinks: np.ndarray  # bool, True where a nudge crossed a kink
    relative_error: float
    worst: list[ElementCheck]
    exclude_kinks: bool = True
    zeros_only: bool = False  # every compared derivative is 0 from backprop and from the differences
    is_parameter: bool = True  # False for a tensor the loss depends on that is not the model's parameter
    within_resolution: bool = False  # every compared |analytic - numerical| is below the resolution

    @property
    def checked(self) -> bool:
        """False when every element sat on a kink and was left out: nothing was compared."""
        return not (self.exclude_kinks and self.kinks.size and self.kinks.all())

    @property
    def tested(self) -> bool:
        """True when something other than zeros, off the kinks, was compared."""
        return self.checked and not self.zeros_only

    @property
    def verdict(self) -> str:
        """The course's words for this parameter's error, "not checked (kink)", "only zeros compared" or
        "below the resolution (not tested)"."""
        if not self.checked:
            return NOT_CHECKED
        if self.zeros_only:
            return ZEROS_ONLY
        return UNRESOLVED if self.unresolved else verdict(self.relative_error)

    @property
    def exactly_zero(self) -> bool:
        """Only zeros compared, each exactly 0 from backprop and from the differences (not a tiny
        derivative read as 0): the loss does not depend on this parameter here."""
        keep = ~self.kinks if self.exclude_kinks else np.ones(self.shape, dtype=bool)
        nonzero = self.analytic[keep].any() or self.numerical[keep].any()
        return self.checked and self.zeros_only and not nonzero

    @property
    def unresolved(self) -> bool:
        """A relative error of ``BUG_BOUND`` or more with every difference below the resolution
        (``UNRESOLVED``): a wrong backward and rounding look alike, so it was not tested."""
        return self.tested and self.within_resolution and not self.relative_error < BUG_BOUND

    @property
    def n_kinks(self) -> int:
        return int(self.kinks.sum())


@dataclass
class ModelCheckReport:
    """Result of ``check_model``: per-parameter rows, the overall error, ``passed``; print it."""

    parameters: list[ParameterCheck]
    relative_error: float  # over all parameters concatenated (the course's single number)
    eps: float
    threshold: float
    exclude_kinks: bool
    notes: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)  # parameters with requires_grad=False: not checked
    # tensors the loss depends on that require grad, are not parameters and could not be checked
    # (made anew by every forward, so there is no one tensor to nudge): "shape (3,), float64", ...
    unchecked: list[str] = field(default_factory=list)

    @property
    def max_relative_error(self) -> float:
        """The largest of the overall and the per-parameter relative errors (NaN if any is NaN)."""
        return float(np.max([self.relative_error] + [p.relative_error for p in self.parameters]))

    @property
    def buggy_parameters(self) -> list[str]:
        """Parameters whose own relative error is ``BUG_BOUND`` (1e-3) or more: a bug, whatever the total
        (unless every difference is below the resolution: ``unresolved_parameters``)."""
        return [p.name for p in self.parameters if not p.relative_error < BUG_BOUND and not p.unresolved]

    @property
    def unresolved_parameters(self) -> list[str]:
        """Parameters with a large relative error whose every difference is below the resolution
        (``UNRESOLVED``): a bug and rounding look alike there, so their backward was not tested."""
        return [p.name for p in self.parameters if p.unresolved]

    @property
    def zero_parameters(self) -> list[str]:
        """Parameters where only zeros were compared (``ZEROS_ONLY``): their backward was not tested."""
        return [p.name for p in self.parameters if p.checked and p.zeros_only]

    @property
    def not_parameters(self) -> list[str]:
        """The rows of tensors that the loss depends on and that require grad but are not the model's
        parameters: ``model.parameters()``, so an optimizer, leaves them out."""
        return [p.name for p in self.parameters if not p.is_parameter]

    @property
    def tested(self) -> bool:
        """False when no parameter had anything to compare but zeros, kinks or differences below the
        resolution (``unresolved_parameters``): nothing was tested."""
        return any(p.tested and not p.unresolved for p in self.parameters)

    @property
    def passed(self) -> bool:
        """The course's test: ``relative_error < threshold``, no parameter alone at 1e-3 or more (other
        than the unresolved ones, below the resolution), and something was tested (``.tested``)."""
        return bool(self.relative_error < self.threshold) and not self.buggy_parameters and self.tested

    @property
    def verdict(self) -> str:
        """The course's words for ``relative_error``, "likely a bug in ..." naming a parameter, or
        "nothing tested: only zeros compared" (or "... differences below the resolution")."""
        if not self.tested:
            if self.zero_parameters:
                return NOTHING_TESTED
            return NOTHING_RESOLVED if self.unresolved_parameters else NOT_CHECKED
        if self.relative_error < BUG_BOUND and self.buggy_parameters:
            return f"likely a bug in {', '.join(self.buggy_parameters)}"
        return verdict(self.relative_error)

    @property
    def n_kinks(self) -> int:
        return sum(p.n_kinks for p in self.parameters)

    @property
    def kinks(self) -> list[tuple[str, tuple[int, ...]]]:
        """(parameter name, element index) of every element whose nudge crossed a kink."""
        return [(p.name, tuple(int(i) for i in idx)) for p in self.parameters for idx in np.argwhere(p.kinks)]

    def __getitem__(self, name: str) -> ParameterCheck:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"check_model report: no parameter named {name!r}")

    def __repr__(self) -> str:
        return (
            f"ModelCheckReport(max_relative_error={self.max_relative_error:.3e}, "
            f"passed={self.passed}, parameters={len(self.parameters)}, kinks={self.n_kinks})"
        )

    def __str__(self) -> str:
        header = ("parameter", "shape", "rel. error", "verdict", "kinks", "worst: analytic vs numerical")
        rows = [header]
        for p in self.parameters:
            w = p.worst[0] if p.worst else None
            worst = "-" if w is None else f"{w.index}: {w.analytic:.8g} vs {w.numerical:.8g}"
            error = f"{p.relative_error:.2e}" if p.tested else "-"
            rows.append((p.name, str(p.shape), error, p.verdict, str(p.n_kinks), worst))
        n = sum(int(np.prod(p.shape)) for p in self.parameters)
        overall = f"{self.relative_error:.2e}"
        rows.append(("all", f"{n} elements", overall, self.verdict, str(self.n_kinks), ""))
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]

        def line(r: tuple[str, ...]) -> str:
            return "  ".join(s.ljust(wd) for s, wd in zip(r, widths)).rstrip()

        out = [
            f"Gradient check, relative error ||g - g_num|| / (||g|| + ||g_num||), eps={self.eps:g}, float64",
            line(header),
            "  ".join("-" * wd for wd in widths),
        ]
        out += [line(r) for r in rows[1:-1]]
        out += ["  ".join("-" * wd for wd in widths), line(rows[-1])]
        for p in self.parameters:
            if p.relative_error >= self.threshold and p.worst:
                out.append(f"worst elements of {p.name}:")
                for e in p.worst:
                    mark = "  (on a kink)" if e.kink else ""
                    out.append(
                        f"  {e.index}: analytic {e.analytic:.10g}, numerical {e.numerical:.10g}, "
                        f"difference {e.abs_error:.3g}{mark}"
                    )
        if self.n_kinks:
            where = ", ".join(f"{p.name} ({p.n_kinks})" for p in self.parameters if p.n_kinks)
            action = "left out of" if self.exclude_kinks else "included in"
            out.append(f"{self.n_kinks} element(s) sit on a kink, {action} the relative error: {where}")
        out += self.notes
        if self.frozen:
            out.append(f"frozen, not checked: {', '.join(self.frozen)}")
        out.append(self._summary_line())
        return "\n".join(out)

    def _summary_line(self) -> str:
        """PASSED, FAILED or NOT TESTED, with the same number and words as the table's "all" row."""
        if not self.tested:
            what = " and ".join(
                ["zeros with zeros"] * bool(self.zero_parameters)
                + ["differences below the finite-difference resolution"] * bool(self.unresolved_parameters)
            ) or "nothing (every element is on a kink)"
            return (
                f"NOT TESTED: relative error {self.relative_error:.3e}, but the check compared {what}, "
                "which a wrong backward would pass as well"
            ) + self._outside_summary()
        below = bool(self.relative_error < self.threshold)
        words = self.verdict
        bound = VERDICTS[1][0]  # the course's
        if not below and self.relative_error < bound:  # failed, yet good in the course's words
            words += f"; the course's own bound is {bound:g}: pass threshold={bound:g} to use it"
        line = (
            f"{'PASSED' if self.passed else 'FAILED'}: relative error {self.relative_error:.3e} "
            f"{'<' if below else '>='} threshold {self.threshold:g} ({words})"
        )
        if below and self.buggy_parameters:
            worst = max((p for p in self.parameters), key=lambda p: p.relative_error)
            line += f"; {worst.name} alone is {worst.relative_error:.3e}"
        if self.zero_parameters:
            line += f"; only zeros compared for {', '.join(self.zero_parameters)} (not tested)"
        if self.unresolved_parameters:
            line += (
                f"; differences below the resolution for {', '.join(self.unresolved_parameters)} "
                "(not tested: a wrong backward would look the same at this loss scale)"
            )
        return line + self._outside_summary()

    def _outside_summary(self) -> str:
        """The summary line's warning about tensors that require grad and are not parameters."""
        n = len(self.not_parameters) + len(self.unchecked)
        if not n:
            return ""
        which = f"{n} tensor that requires" if n == 1 else f"{n} tensors that require"
        words = f"; the loss also depends on {which} grad and {'is' if n == 1 else 'are'} not a parameter"
        words += " of the model (no optimizer given model.parameters() updates "
        words += "it" if n == 1 else "them"
        if self.unchecked:
            words += f"; {len(self.unchecked)} of them not checked" if n > 1 else "; it was not checked"
        return words + ")"


# --- the check ----------------------------------------------------------------------


def check_model(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    X: Any,
    y: Any,
    eps: float = 1e-7,
    threshold: float = 1e-7,
    exclude_kinks: bool = True,
    worst: int = 3,
) -> ModelCheckReport:
    """Compare backprop's gradient of ``loss_fn(model(X), y)`` with central differences, per parameter.

    ``model`` has ``named_parameters()`` (an ``nn.Module``); ``X`` and ``y``
    are ndarrays or Tensors (floating ones are used in float64, integer labels
    stay integer). Costs two forwards per parameter element: use a small
    model and a few samples. Returns a ``ModelCheckReport``: ``.relative_error``
    is the course's ``difference`` over all parameters, ``.passed`` is
    ``relative_error < threshold`` (with no parameter alone at 1e-3 or more, and
    not only zeros compared: ``.tested``), ``print(report)`` shows the table.
    The course's gradient_check_n uses ``threshold=2e-7``.
    With ``exclude_kinks`` (default) elements whose nudge crosses a kink
    (relu at 0, ...) are left out of the relative errors and listed instead.
    """
    named = _parameters_to_check(model, loss_fn, eps)
    X64, y64 = _as_float64(X, "X"), _as_float64(y, "y")
    random_sources = _random_sources(model)
    saved = [(p, p.data, p.grad) for _, p in named]  # extended by the tensors outside the model
    saved_buffers = _buffers(model, {name for name, _ in named})
    try:
        _to_float64([p for _, p in named])  # float64 copies to nudge

        def loss_at_current_parameters() -> Tensor:
            _rewind(random_sources)  # the same dropout masks every time
            return _scalar_loss(loss_fn(model(X64), y64))

        loss = loss_at_current_parameters()
        outside, unchecked, outside_note, loss = _outside_tensors(
            loss, model, loss_fn, loss_at_current_parameters, saved
        )
        checked = named + outside
        notes = _dtype_notes(loss, checked)
        analytic = _backprop(loss, [p for _, p in checked])
        base = _deterministic_loss(loss, loss_at_current_parameters)
        resolution = NOISE_FLOOR * np.finfo(np.float64).eps * abs(base) / eps
        rows = [
            _check_parameter(name, p, g, eps, resolution, loss_at_current_parameters, exclude_kinks, worst)
            for (name, p), g in zip(checked, analytic)
        ]
        for row in rows[len(named):]:
            row.is_parameter = False  # a tensor outside the model
        notes += _zeros_notes(rows, resolution, base) + _rounding_notes(rows, resolution, base) + outside_note
        overall = _overall_error(rows, resolution, exclude_kinks)
    finally:
        for p, data, grad in saved:
            p.data, p.grad = data, grad
        if saved_buffers:
            model.load_state_dict(saved_buffers, strict=False)
        _rewind(random_sources)
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    return ModelCheckReport(rows, overall, eps, threshold, exclude_kinks, notes, frozen, unchecked)


def _to_float64(tensors: list[Tensor]) -> None:
    for t in tensors:
        t.data = np.array(t.data, dtype=np.float64, order="C")


def _backprop(loss: Tensor, tensors: list[Tensor]) -> list[np.ndarray]:
    """d loss / d each tensor by one backward, in float64 (zeros for a tensor the loss does not use)."""
    grads = autograd_grad(loss, tensors, allow_unused=True)  # the one backward
    as_arrays = [None if g is None else np.asarray(g.data, dtype=np.float64) for g in grads]
    return [np.zeros(t.shape) if g is None else g for t, g in zip(tensors, as_arrays)]


def _leaves_outside(loss: Tensor, model: Any) -> list[Tensor]:
    """The leaves of the loss's graph that require grad and are not parameters of ``model``."""
    own = {id(p) for p in model.parameters()}
    return [t for t in toposort([loss], _parents) if t._ctx is None and t.requires_grad and id(t) not in own]


def _outside_tensors(
    loss: Tensor, model: Any, loss_fn: Any, loss_at: Callable[[], Tensor], saved: list[Any]
) -> tuple[list[tuple[str, Tensor]], list[str], list[str], Tensor]:
    """The tensors outside the model that the loss depends on: (row name, tensor) of those to check;
    those that cannot be checked (a new tensor on every forward), described; the note about them;
    and the loss again. Each is put in float64 like the parameters, its data and grad first
    appended to ``saved``."""
    found = _leaves_outside(loss, model)
    if not found:
        return [], [], [], loss
    saved += [(t, t.data, t.grad) for t in found]
    paths = _attribute_paths(model, loss_fn)
    described = [
        f"{paths[id(t)] + ': ' if id(t) in paths else ''}shape {t.shape}, {t.dtype}" for t in found
    ]
    _to_float64(found)
    loss = loss_at()  # the loss from the float64 copies, and a second forward to compare with
    again = {id(t) for t in _leaves_outside(loss, model)}
    kept_found = [t for t in found if id(t) in again]
    names = [f"{NOT_A_PARAMETER} {paths.get(id(t), f'shape {t.shape}')}" for t in kept_found]
    repeated = {name for name in names if names.count(name) > 1}  # numbered among the rows kept
    names = [f"{n} #{names[:i].count(n) + 1}" if n in repeated else n for i, n in enumerate(names)]
    kept = list(zip(names, kept_found))
    unchecked = [what for what, t in zip(described, found) if id(t) not in again]
    checked = [what for what, t in zip(described, found) if id(t) in again]
    return kept, unchecked, _outside_note(kept, checked, unchecked), loss


def _attribute_paths(model: Any, loss_fn: Any) -> dict[int, str]:
    """id(tensor) -> "lin.scale" for every Tensor attribute of the model's modules ("loss_fn.scale"
    for the loss's, when it is a module)."""
    paths: dict[int, str] = {}
    for owner, prefix in ((model, ""), (loss_fn, "loss_fn.")):
        for path, module in owner.named_modules() if hasattr(owner, "named_modules") else ():
            for attr, value in vars(module).items():
                if isinstance(value, Tensor):
                    paths.setdefault(id(value), prefix + (f"{path}.{attr}" if path else attr))
    return paths


def _outside_note(kept: list[tuple[str, Tensor]], checked: list[str], unchecked: list[str]) -> list[str]:
    """What tensors that require grad but are not the model's parameters mean, and what to do."""
    n = len(checked) + len(unchecked)
    one = n == 1
    described = checked + [f"{what}, made anew by every forward" for what in unchecked]
    note = (
        f"note: the loss depends on {'1 tensor that requires' if one else f'{n} tensors that require'} grad "
        f"and {'is' if one else 'are'} not a parameter of the model ({'; '.join(described)}): "
        f"model.parameters() (so an optimizer) leaves {'it' if one else 'them'} out."
    )
    if kept:
        rows = ", ".join(f'"{name}"' for name, _ in kept)
        note += f" Checked above as {'the row' if len(kept) == 1 else 'the rows'} {rows}."
    if unchecked:
        which = "the one" if len(unchecked) == 1 else f"the {len(unchecked)}"
        note += (
            f" Not checked: {which} made anew by every forward, as nudging a tensor then does not "
            "change the next forward's loss."
        )
    note += (
        f" To train {'it' if one else 'them'}, make {'it' if one else 'each'} an nn.Parameter attribute of "
        "one of the model's modules (self.name = nn.Parameter(values)); a constant needs requires_grad=False"
    )
    return [note]


def _parameters_to_check(model: Any, loss_fn: Any, eps: float) -> list[tuple[str, Tensor]]:
    """The model's (name, parameter) pairs that require grad, after checking the arguments."""
    _check_model_and_loss(model, loss_fn, "check_model")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"check_model: eps must be a small positive number, got {eps!r}")
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("check_model: the model has no parameters that require grad; nothing to check")
    return named


def _overall_error(rows: list[ParameterCheck], resolution: float, exclude_kinks: bool) -> float:
    """The course's single number: the relative error over all parameters concatenated."""
    pairs = [_read_tiny_as_zero(r.analytic, r.numerical, resolution) for r in rows]
    keep_all = [~r.kinks if exclude_kinks else np.ones(r.shape, dtype=bool) for r in rows]
    return relative_error(
        np.concatenate([a[k] for (a, _), k in zip(pairs, keep_all)]),
        np.concatenate([n[k] for (_, n), k in zip(pairs, keep_all)]),
    )


def _check_parameter(
    name: str, p: Tensor, g: np.ndarray, eps: float, resolution: float,
    loss_at: Callable[[], Tensor], exclude_kinks: bool, worst: int,
) -> ParameterCheck:
    """One row of the report: ``p``'s central differences against its backprop gradient ``g``."""
    numerical, kinks = _central_differences(p, eps, loss_at)
    keep = ~kinks if exclude_kinks else np.ones(p.shape, dtype=bool)
    g_read, numerical_read = _read_tiny_as_zero(g, numerical, resolution)
    error = relative_error(g_read[keep], numerical_read[keep])
    at = _worst_elements(g, numerical, kinks, keep, worst)
    zeros_only = not (g_read[keep].any() or numerical_read[keep].any())
    row = ParameterCheck(name, tuple(p.shape), g, numerical, kinks, error, at, exclude_kinks, zeros_only)
    row.within_resolution = bool(np.all(np.abs(g_read - numerical_read)[keep] < resolution))
    return row


def _resolution(resolution: float, loss: float) -> str:
    return f"{resolution:.1e}, {NOISE_FLOOR:g} * eps_float64 * |loss| / eps with |loss| = {abs(loss):.3g}"


def _rounding_notes(rows: list[ParameterCheck], resolution: float, loss: float) -> list[str]:
    """What a large relative error whose every difference is below the resolution means."""
    names = [row.name for row in rows if row.unresolved]
    if not names:
        return []
    its = "its" if len(names) == 1 else "their"
    return [
        f"note: every |analytic - numerical| of {', '.join(names)} is below the finite-difference "
        f"resolution ({_resolution(resolution, loss)}): at this loss scale the rounding of the loss hides "
        f"the comparison, and a wrong backward (a factor 2, a sign) would give the same differences, so "
        f"{its} backward was not tested. To test it, check at a smaller loss scale (a loss with "
        "reduction='mean' instead of 'sum', fewer or normalised inputs and targets), with a larger eps, "
        "or check the op alone with gradcheck"
    ]


def _zeros_notes(rows: list[ParameterCheck], resolution: float, loss: float) -> list[str]:
    """What rows of only zeros mean: the loss does not depend on those parameters here, or their
    derivatives are too small to resolve at this loss scale."""
    notes, exact = [], []
    for row in rows:
        if not (row.checked and row.zeros_only):
            continue
        if not row.exactly_zero:
            notes.append(
                f"note: every derivative of {row.name} is below the finite-difference resolution "
                f"({_resolution(resolution, loss)}) and was read as 0: too small to resolve at this loss "
                "scale, so its backward was not tested. To test it, check at a smaller loss scale (a loss "
                "with reduction='mean' instead of 'sum', fewer or normalised inputs and targets), with a "
                "larger eps (it resolves smaller derivatives), or check the op alone with gradcheck"
            )
        else:
            exact.append(row.name)
    if exact:
        which = "every parameter" if len(exact) == len(rows) else ", ".join(exact)
        it, feeds, its = ("it", "it feeds", "its") if len(exact) == 1 else ("them", "they feed", "their")
        notes.append(
            f"note: every derivative of {which} is exactly 0, from backprop and from the finite "
            f"differences: the loss does not depend on {it} here (as when dropout drops every unit "
            f"{feeds}), so {its} backward was not tested"
        )
    return notes


def _scalar_loss(loss: Any) -> Tensor:
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        what = f"shape {loss.shape}" if isinstance(loss, Tensor) else f"a {type(loss).__name__}"
        raise ValueError(
            f"check_model: loss_fn(model(X), y) returned {what}; expected a scalar "
            "Tensor (a loss with reduction='mean' or 'sum')"
        )
    return loss


def _deterministic_loss(loss: Tensor, loss_at: Callable[[], Tensor]) -> float:
    """The loss value, after checking that a second evaluation gives exactly the same number."""
    base, again = loss.data.item(), loss_at().data.item()
    if base == again or (math.isnan(base) and math.isnan(again)):
        return base
    raise RuntimeError(
        "check_model: the loss changed between two evaluations at the same parameters "
        f"({base!r} then {again!r}): the model draws random numbers from a source other "
        "than the library's Generator (tinygrad_edu.manual_seed) or a Generator held by one of "
        "its modules, which check_model cannot replay. Use one of those, or call model.eval() "
        "to check without dropout."
    )


def _read_tiny_as_zero(
    analytic: np.ndarray, numerical: np.ndarray, resolution: float
) -> tuple[np.ndarray, np.ndarray]:
    """Both derivatives set to 0 where both are below what a finite difference can resolve.

    A derivative that is zero up to rounding (the bias of a layer followed by
    batch norm) comes out as ~1e-18 from backprop and as 0 or one rounding
    step of the loss (~1e-10) from the finite difference: a relative error of
    about 1 between two zeros.
    """
    tiny = (np.abs(analytic) < resolution) & (np.abs(numerical) < resolution)
    return np.where(tiny, 0.0, analytic), np.where(tiny, 0.0, numerical)


def _central_differences(
    p: Tensor, eps: float, loss_at: Callable[[], Tensor]
) -> tuple[np.ndarray, np.ndarray]:
    """(J(x + eps) - J(x - eps)) / (2 eps) for each element of ``p``, and where a kink was crossed."""
    numerical = np.zeros(p.shape, dtype=np.float64)
    kinks = np.zeros(p.shape, dtype=bool)
    flat = p.data.reshape(-1)  # a view: writing to it nudges the parameter
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        loss = loss_at()
        plus, pattern_plus = loss.data.item(), _kink_pattern(loss)
        flat[k] = original - eps
        loss = loss_at()
        minus, pattern_minus = loss.data.item(), _kink_pattern(loss)
        flat[k] = original
        # Over 2 eps, as the course divides: not over the step float64 actually took, which is
        # closer to the truth but gives another number than the course prints.
        numerical.reshape(-1)[k] = (plus - minus) / (2 * eps)
        kinks.reshape(-1)[k] = not _same_pattern(pattern_plus, pattern_minus)
    return numerical, kinks


def _parents(t: Tensor) -> tuple[Tensor, ...]:
    ctx = t._ctx
    return () if ctx is None or ctx.inputs is None else ctx.inputs


def _kink_pattern(loss: Tensor) -> list[np.ndarray]:
    """The saved patterns (relu masks, abs signs, max winners, ...) of every kink op behind ``loss``."""
    pattern = []
    for t in toposort([loss], _parents):
        if isinstance(t._ctx, KINK_OPS):
            pattern.extend(a for a in t._ctx.saved if isinstance(a, np.ndarray))
    return pattern


def _same_pattern(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _worst_elements(
    analytic: np.ndarray, numerical: np.ndarray, kinks: np.ndarray, keep: np.ndarray, n: int
) -> list[ElementCheck]:
    """The ``n`` counted elements with the largest |analytic - numerical|, largest first."""
    diff = np.where(keep, np.abs(analytic - numerical), -1.0).ravel()
    order = np.argsort(-diff, kind="stable")[: min(n, int(keep.sum()))]
    return [
        ElementCheck(
            index=tuple(int(i) for i in np.unravel_index(k, analytic.shape)),
            analytic=float(analytic.flat[k]),
            numerical=float(numerical.flat[k]),
            kink=bool(kinks.flat[k]),
        )
        for k in order
    ]


def _as_float64(value: Any, what: str) -> Any:
    """A Tensor of ``value``, in float64 when floating (integer labels stay integer)."""
    if value is None:
        return None
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    if data.dtype.kind == "f":
        data = data.astype(np.float64)
    elif data.dtype.kind not in "iub":
        raise TypeError(
            f"check_model: {what} has dtype {data.dtype}; expected a float, integer or bool array"
        )
    return Tensor(data)


def _buffers(model: Any, parameter_names: set[str]) -> Optional[dict[str, np.ndarray]]:
    """Copies of the model's non-parameter state (BatchNorm running statistics), to restore later."""
    if not (hasattr(model, "state_dict") and hasattr(model, "load_state_dict")):
        return None
    state = {k: np.array(v, copy=True) for k, v in model.state_dict().items() if k not in parameter_names}
    return state or None


def _dtype_notes(loss: Tensor, named: list[tuple[str, Tensor]]) -> list[str]:
    """A warning and a note when the loss, or any value it is computed from that depends on the
    parameters, is not float64: something casts down, and finite differences through it are mostly
    rounding error (the parameters before the cast look like bugs on a correct model)."""
    low = [
        t
        for t in toposort([loss], _parents)
        if t._ctx is not None and t.requires_grad and t.dtype.kind == "f" and t.dtype != np.float64
    ]
    if not low:
        return []
    first = low[0]  # inputs first: the value where the cast happened
    made_by = f"the output of {type(first._ctx).__name__} (shape {first.shape}) is the first"
    before = _parameters_before(low, named)
    where = f" ({', '.join(before)})" if before else ""
    if loss.dtype != np.float64:
        message = (
            f"the loss came out as {loss.dtype}, not float64 ({made_by} {first.dtype} value): something "
            "in the model or loss casts down, and finite differences in low precision give large errors "
            "on a correct model"
        )
    else:
        message = (
            f"a {first.dtype} value inside the model or loss: {made_by} that is {first.dtype}, not "
            f"float64. Something casts down (astype(np.{first.dtype}), a {first.dtype} buffer, ...), so "
            f"the finite differences of the parameters before it{where} are mostly rounding error, and a "
            "correct backward looks like a bug there; remove the cast to check the model"
        )
    warnings.warn(f"check_model: {message}", RuntimeWarning, stacklevel=3)
    return [f"note: {message}"]


def _parameters_before(values: list[Tensor], named: list[tuple[str, Tensor]]) -> list[str]:
    """The names of the parameters that any of ``values`` is computed from, in the model's order."""
    behind = {id(t) for t in toposort(values, _parents)}
    return [name for name, p in named if id(p) in behind]
