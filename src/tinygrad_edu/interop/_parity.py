"""``compare_with_torch``: train the same network here and in PyTorch, step by step, and compare."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from tinygrad_edu import nn, optim
from tinygrad_edu.interop._common import model_dtype, require
from tinygrad_edu.interop._modules import convert_to_torch, torch_name
from tinygrad_edu.interop._optim import (
    check_convertible,
    check_group,
    optimizer_to_torch,
    scheduler_to_torch,
)
from tinygrad_edu.tensor import Tensor

LOSSES = ("MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss")
WHERE = "compare_with_torch"


@dataclass
class ParityStep:
    """One training step in both frameworks: the two losses and the largest absolute differences."""

    step: int
    loss: float  # ours, on this step's batch, before the update
    torch_loss: float
    loss_diff: float  # |loss - torch_loss|
    grad_diff: float  # max over parameters and elements of |our grad - PyTorch's grad|
    param_diff: float  # the same for the parameters after the update


@dataclass
class ParityReport:
    """What ``compare_with_torch`` found: one ``ParityStep`` per step; ``str(report)`` is the table."""

    steps: list[ParityStep] = field(default_factory=list)
    dtype: str = "float64"
    optimizer: str = ""

    @property
    def max_loss_diff(self) -> float:
        """The largest loss difference over the steps (nan if any step's is nan)."""
        return _nan_max(s.loss_diff for s in self.steps)

    @property
    def max_grad_diff(self) -> float:
        """The largest gradient difference over the steps (nan if any step's is nan)."""
        return _nan_max(s.grad_diff for s in self.steps)

    @property
    def max_param_diff(self) -> float:
        """The largest parameter difference over the steps (nan if any step's is nan)."""
        return _nan_max(s.param_diff for s in self.steps)

    @property
    def max_diff(self) -> float:
        """The largest of all the differences; nan when a step produced a NaN in either framework."""
        return _nan_max((self.max_loss_diff, self.max_grad_diff, self.max_param_diff))

    def passed(self, tolerance: float) -> bool:
        """True when every difference is at most ``tolerance``; False when any is larger or nan."""
        return bool(self.max_diff <= tolerance)  # nan <= tolerance is False

    def __str__(self) -> str:
        lines = [
            f"tinygrad_edu vs PyTorch, {self.dtype}, {self.optimizer}: the same weights, the same batches",
            f"{'step':>4}  {'loss':>12}  {'|loss diff|':>11}  {'max |grad diff|':>15}  "
            f"{'max |param diff|':>16}",
        ]
        for s in self.steps:
            lines.append(
                f"{s.step:>4}  {s.loss:>12.8f}  {s.loss_diff:>11.3e}  {s.grad_diff:>15.3e}  "
                f"{s.param_diff:>16.3e}"
            )
        eps = float(np.finfo(np.dtype(self.dtype)).eps)
        lines.append(f"largest difference {self.max_diff:.3e} (machine epsilon of {self.dtype}: {eps:.3e})")
        if math.isnan(self.max_diff):
            lines.append("nan: a loss, gradient or parameter became NaN, so the two cannot be shown to agree")
        return "\n".join(lines)


def _nan_max(values: Any) -> float:
    """The largest value, or nan if any is nan (Python's max keeps whichever of x and nan came first)."""
    largest = 0.0
    for v in values:
        if math.isnan(v):
            return float("nan")
        largest = max(largest, float(v))
    return largest


def _loss_to_torch(loss_fn: Any, torch: Any) -> Any:
    name = type(loss_fn).__name__
    if name not in LOSSES or type(loss_fn) is not getattr(nn, name):
        raise TypeError(
            f"compare_with_torch: cannot convert the loss {name}; the losses that convert are "
            f"{', '.join(LOSSES)}"
        )
    if loss_fn.reduction not in ("mean", "sum"):
        raise ValueError(
            f"compare_with_torch: the loss {name} has reduction={loss_fn.reduction!r}, one loss per "
            "element; compare_with_torch needs one number per step to call backward() on and compare: "
            f"use {name}(reduction='mean') (the default) or {name}(reduction='sum')"
        )
    return getattr(torch.nn, name)(reduction=loss_fn.reduction)


def _target_to_torch(yb: np.ndarray, loss_fn: Any, dtype: np.dtype, torch: Any) -> Any:
    """The targets for PyTorch: class indices as int64 for CrossEntropyLoss, else the model's float
    dtype (0/1 integer labels for the binary losses, which PyTorch takes as floats only)."""
    if type(loss_fn) is nn.CrossEntropyLoss and yb.dtype.kind in "iu":
        return torch.tensor(yb, dtype=torch.long)
    return torch.tensor(yb.astype(dtype))


def _check_deterministic(model: nn.Module) -> None:
    for path, m in model.named_modules():
        if type(m) is nn.Dropout and m.training and m.p > 0:
            raise ValueError(
                f"compare_with_torch: Dropout(p={m.p}) at '{path}' is in training mode; the two frameworks "
                "draw different random masks, so the steps could not agree. Compare without it "
                "(p=0, or put that module in eval mode with model[i].eval())"
            )


def copy_optimizer(optimizer: optim.Optimizer, model: nn.Module, twin: nn.Module) -> optim.Optimizer:
    """The same optimizer (class, groups, options, state) for ``twin``, a copy of ``model``."""
    names = {id(p): name for name, p in model.named_parameters()}
    params = dict(twin.named_parameters())
    groups = []
    for i, group in enumerate(optimizer.param_groups):
        missing = [p.shape for p in group["params"] if id(p) not in names]
        if missing:
            raise ValueError(
                f"compare_with_torch: parameter(s) of shape {missing} in group {i} of the optimizer are "
                "not parameters of the model; build the optimizer with model.parameters()"
            )
        options = {k: v for k, v in group.items() if k != "params"}
        groups.append({"params": [params[names[id(p)]] for p in group["params"]], **options})
    new = type(optimizer)(groups)
    new.load_state_dict(optimizer.state_dict())
    return new


def _batches(n: int, batch_size: Optional[int], steps: int, seed: int) -> list[np.ndarray]:
    if batch_size is None or batch_size >= n:
        return [np.arange(n)] * steps
    rng = np.random.default_rng(seed)
    order: list[np.ndarray] = []
    while len(order) < steps:
        perm = rng.permutation(n)
        order += [perm[i : i + batch_size] for i in range(0, n, batch_size)]
    return order[:steps]


def compare_with_torch(
    model: nn.Module,
    loss_fn: Any,
    optimizer: optim.Optimizer,
    X: Any,
    y: Any,
    steps: int = 5,
    batch_size: Optional[int] = None,
    seed: int = 0,
    verbose: bool = True,
) -> ParityReport:
    """Train a copy of ``model`` here and one in PyTorch for ``steps`` steps; print and return the report.

    Both copies start from ``model``'s weights and ``optimizer``'s state (neither is changed)
    and see the same batches: all of ``X``/``y`` each step, or mini-batches of ``batch_size``
    from a permutation drawn with ``seed``. ``X`` is cast to the model's dtype; integer ``y``
    are class indices for CrossEntropyLoss and 0/1 labels, sent as floats, for the other
    losses, whose ``reduction`` must be "mean" or "sum". Per step the report gives our loss,
    the loss difference, and the largest absolute gradient and parameter differences; at
    float64 they are at rounding level (about 1e-16 times the values). A NaN anywhere makes
    that difference nan, and ``report.passed(tolerance)`` False.
    """
    torch = require("torch", "compare_with_torch")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"compare_with_torch: steps must be an integer >= 1, got {steps!r}")
    _check_deterministic(model)
    dtype = model_dtype(model, "compare_with_torch")
    X = np.asarray(X.data if isinstance(X, Tensor) else X).astype(dtype)
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if len(X) != len(y):
        raise ValueError(f"compare_with_torch: X has {len(X)} rows but y has {len(y)}")
    torch_loss = _loss_to_torch(loss_fn, torch)
    ours, our_opt, theirs, their_opt, scheduler = _copies(model, optimizer)
    report = ParityReport(dtype=str(dtype), optimizer=type(optimizer).__name__)
    torch_named = dict(theirs.named_parameters())
    for step, rows in enumerate(_batches(len(X), batch_size, steps, seed), start=1):
        xb, yb = X[rows], y[rows]
        yb_torch = _target_to_torch(yb, loss_fn, dtype, torch)
        our_opt.zero_grad()
        loss = loss_fn(ours(Tensor(xb)), yb)
        loss.backward()
        their_opt.zero_grad()
        their_loss = torch_loss(theirs(torch.tensor(xb)), yb_torch)
        their_loss.backward()
        grad_diff = _largest_diff(ours, torch_named, grads=True)
        our_opt.step()
        their_opt.step()
        if scheduler is not None:
            scheduler.step()
        report.steps.append(
            ParityStep(
                step, float(loss.item()), float(their_loss.item()),
                abs(float(loss.item()) - float(their_loss.item())),
                grad_diff, _largest_diff(ours, torch_named, grads=False),
            )
        )
    if verbose:
        print(report)
    return report


def _copies(model: nn.Module, optimizer: optim.Optimizer) -> tuple[Any, Any, Any, Any, Any]:
    """A copy of the model and optimizer here, one in PyTorch, and a scheduler when lr is a schedule."""
    check_convertible(optimizer, WHERE)  # before anything: the errors name compare_with_torch
    for i, group in enumerate(optimizer.param_groups):
        check_group(optimizer, group, i, allow_schedule=True, where=WHERE)
    ours = copy.deepcopy(model)  # the same modules (a LinearReLU stays one), values and modes
    theirs = convert_to_torch(ours, WHERE)
    our_opt = copy_optimizer(optimizer, model, ours)
    scheduled = any(callable(g["lr"]) for g in our_opt.param_groups)
    their_opt = optimizer_to_torch(our_opt, theirs, allow_schedule=scheduled)
    scheduler = scheduler_to_torch(our_opt, their_opt) if scheduled else None
    return ours, our_opt, theirs, their_opt, scheduler


def _largest_diff(ours: nn.Module, torch_named: dict[str, Any], grads: bool) -> float:
    largest = 0.0
    for name, p in ours.named_parameters():
        t = torch_named[torch_name(ours, name)]
        if grads:
            if p.grad is None and t.grad is None:
                continue
            if p.grad is None or t.grad is None:
                return float("inf")  # one framework computed a gradient, the other did not
            a, b = p.grad.data, t.grad.detach().numpy()
        else:
            a, b = p.data, t.detach().numpy()
        diff = float(np.max(np.abs(a - b), initial=0.0))  # np.max gives nan when any element is nan
        if math.isnan(diff):
            return diff
        largest = max(largest, diff)
    return largest
