"""Training loops: ``fit``, ``evaluate``, ``predict``, callbacks and ``compare_optimizers``.

``fit`` is the loop every course writes by hand, once, with the bookkeeping
done right::

    for epoch in range(epochs):
        for X_batch, y_batch in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(X_batch), y_batch)
            loss.backward()
            optimizer.step()

It returns a ``History`` shaped like Keras's: ``history.epoch`` (0, 1, ...;
from ``initial_epoch`` on when a run is resumed) and ``history.history``, a
dict of per-epoch lists ("loss", "accuracy" for classifiers, "lr", "time",
"val_loss", ...). A non-finite loss stops training with ``NonFiniteLossError``
before the bad update, and Ctrl-C stops it between two steps, so the model is
never left half-updated.

In this file the loop reads from the top down: ``fit`` checks its arguments and
calls ``_train_epochs`` (the callbacks, Ctrl-C), which runs ``_train_one_epoch``
(the batches, the epoch's sums) and then ``_epoch_logs`` and ``_end_of_epoch``
(the logs, the progress bar, the callbacks' verdict); ``_train_one_epoch`` runs
``_train_one_step`` (forward, loss, backward) for each batch, and that ends in
``_update_or_roll_back`` (the finite checks and the undo of a bad update).
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import signal
import string
import sys
import threading
import time
import warnings
from contextlib import nullcontext
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu._config import STATE, _check_flag, no_grad
from tinygrad_edu.autograd import mark_modified
from tinygrad_edu.data import DataLoader
from tinygrad_edu.optim.flat import side_by_side as _find_side_by_side
from tinygrad_edu.tensor import Tensor

Array = Union[np.ndarray, Tensor]
Batches = Union[DataLoader, Callable[[int], Iterable[Any]]]
Metric = Callable[[np.ndarray, np.ndarray], float]

__all__ = [
    "Callback",
    "Comparison",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "compare_optimizers",
    "evaluate",
    "fit",
    "predict",
]


# --- results and errors -----------------------------------------------------------


class History:
    """What ``fit`` recorded, as Keras's ``History``.

    Attributes:
        epoch: the indices of the completed epochs, ``[0, 1, ...]``, counted from 0 (so epoch
            number n is index n - 1); a resumed run's go on from ``fit``'s ``initial_epoch``.
        history: per-epoch lists: "loss" (mean over the epoch's samples, i.e. batch losses
            weighted by batch size), "last_batch_loss" (the loss of the epoch's last batch,
            what the course prints), "accuracy" (classifiers), "lr" (the learning rate of
            the epoch's last step, first param group), "time" (seconds), and with validation
            data "val_loss", "val_accuracy".
        steps: per-step lists: "epoch", "loss", "lr", one entry per completed update.
        grad_norms: with ``fit(..., record_grad_norms=True)``, per parameter name (``"0.weight"``)
            a per-epoch list: the mean over the epoch's steps of the gradient's L2 norm
            ``||dL/dp||``. ``plot.gradient_flow`` draws it.
        interrupted: True when Ctrl-C (KeyboardInterrupt) ended training early.
        stopped_early: True when a callback asked to stop.
        total_time: wall time of the whole ``fit`` in seconds.
    """

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}
        self.steps: dict[str, list[float]] = {"epoch": [], "loss": [], "lr": []}
        self.grad_norms: dict[str, list[float]] = {}
        self._step_norms: dict[str, list[float]] = {}  # this epoch's, until it ends
        self.interrupted = False
        self.stopped_early = False
        self.total_time = 0.0

    def _record_grad_norms(self, model: Any) -> None:
        """One step's ||grad|| for every parameter of ``model`` that has a gradient."""
        for name, p in getattr(model, "named_parameters", lambda: ())():
            if p.grad is not None:
                self._step_norms.setdefault(name, []).append(float(np.linalg.norm(p.grad.data)))

    def _record_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        for name, norms in self._step_norms.items():
            self.grad_norms.setdefault(name, []).append(sum(norms) / len(norms))
        self._step_norms = {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def _record_step(self, epoch: int, loss: float, lr: Optional[float]) -> None:
        self.steps["epoch"].append(epoch)
        self.steps["loss"].append(loss)
        self.steps["lr"].append(math.nan if lr is None else lr)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        flags = " interrupted" if self.interrupted else (" stopped early" if self.stopped_early else "")
        return f"History(epochs={len(self.epoch)}, steps={len(self.steps['loss'])}{flags}, last={last})"


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss (or gradient).

    Raised before the bad update, so the parameters are those after the last finite step.
    ``epoch`` (as in ``history.epoch``) and ``step`` (within the epoch) count from 0,
    ``global_step`` counts every update of this ``fit`` call, and ``history`` holds what was
    recorded up to there.
    """

    def __init__(self, message: str, epoch: int, step: int, global_step: int, history: History) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.global_step = global_step
        self.history = history


# --- callbacks --------------------------------------------------------------------


class Callback:
    """Hooks that ``fit`` calls; subclass and override the ones you need.

    Before training, ``fit`` sets ``callback.model`` and ``callback.optimizer``.
    ``on_epoch_end`` returning True stops training after that epoch.
    """

    model: Any = None
    optimizer: Any = None

    def on_train_begin(self, history: History) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> Optional[bool]:
        """Called after each epoch with that epoch's logs ("loss", "accuracy", "val_loss", ...)."""
        return None

    def on_train_end(self, history: History) -> None:
        """Called once when training ends (normally, by a callback, or by Ctrl-C)."""


def _monitor_mode(monitor: str, mode: str, where: str) -> str:
    if not isinstance(monitor, str):
        raise TypeError(
            f"{where}: monitor must be the name of a logged value, a string such as 'val_loss' or "
            f"'loss', got {type(monitor).__name__} {monitor!r:.60}"
        )
    if mode == "auto":  # from the name, where it tells; else ask (Keras 3 asks too)
        if "acc" in monitor:
            return "max"
        if any(word in monitor for word in ("loss", "error", "mse", "mae")):
            return "min"
        raise ValueError(
            f"{where}: mode='auto' cannot tell whether a higher or a lower {monitor!r} is better (it "
            "knows losses, errors and accuracies by their names); pass mode='max' (an F1 score, an "
            "AUC) or mode='min'"
        )
    if mode not in ("min", "max"):
        raise ValueError(f"{where}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def _monitored(logs: Mapping[str, float], monitor: str, where: str) -> float:
    if monitor not in logs:
        hint = "; pass validation_data to fit, or monitor='loss'" if monitor.startswith("val_") else ""
        raise KeyError(f"{where}: monitor {monitor!r} is not in the epoch logs {sorted(logs)}{hint}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs in a row.

    "Improved" means lower for losses and higher for accuracies (``mode="auto"``). With
    ``restore_best_weights`` the model gets back the weights of its best epoch when
    training ends. Each ``fit`` starts it afresh, as in Keras: a resumed run's patience counts
    from its own first epoch; ``best_epoch`` and ``stopped_epoch`` are epoch indices, as
    ``history.epoch`` holds them.

    Keras's two other options: with a ``baseline``, an epoch counts as an improvement only when
    it also beats the baseline (by ``min_delta``), so a run that never reaches it stops after
    ``patience`` epochs (one for patience 0); epochs before ``start_from_epoch`` (a warm-up) are
    neither counted nor candidates for the best.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        baseline: Optional[float] = None,
        start_from_epoch: int = 0,
    ) -> None:
        self.monitor = monitor
        self.patience = _check_positive_int(patience, "patience", "EarlyStopping", minimum=0)
        self.min_delta = _check_min_delta(min_delta)
        self.mode = _monitor_mode(monitor, mode, "EarlyStopping")
        self.restore_best_weights = _check_flag(restore_best_weights, "restore_best_weights", "EarlyStopping")
        self.baseline = _check_threshold(baseline, "baseline", "EarlyStopping")
        self.start_from_epoch = _check_positive_int(start_from_epoch, "start_from_epoch", "EarlyStopping", 0)

    def on_train_begin(self, history: History) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: Optional[int] = None
        self.best_weights: Optional[dict[str, np.ndarray]] = None
        self.wait = 0
        self.stopped_epoch: Optional[int] = None

    def _better(self, value: float, than: float) -> bool:
        """Whether ``value`` improves on ``than`` by more than min_delta, in the monitor's direction."""
        if self.mode == "min":
            return value < than - self.min_delta
        return value > than + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> Optional[bool]:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if epoch < self.start_from_epoch:  # (the warm-up)
            return False
        if self._better(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
                return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, history: History) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model, the optimizer and where training is with ``tg.save`` after epochs.

    The file holds ``{"model": state_dict, "optimizer": state_dict, "epoch": n, "logs": logs,
    "rng": state}``: ``n`` is the number of the epoch just completed, counted from 1 (resume
    with ``fit(..., initial_epoch=n)``), ``logs`` that epoch's logs ("loss", "val_loss", ...)
    and ``rng`` the state of the library's Generator (``tg.get_rng().bit_generator.state``),
    which a resumed run puts back to draw the same shuffles and dropout masks. ``path`` may
    hold ``{epoch}`` (the same ``n``, as Keras counts) and log keys, e.g.
    ``"ckpt_{epoch:03d}_{val_loss:.3f}.npz"``.

    With ``save_best_only`` a file is written only when ``monitor`` improves on the best so
    far. At the start of each ``fit`` the best so far is ``initial_value_threshold`` (None:
    none yet) and, when ``path`` names one file (no ``{...}``) that already exists, the
    ``monitor`` value that file records, whichever is better: a resumed run replaces
    ``best.npz`` only with a better model (a run from epoch 0 that never does warns at its end).
    An existing file that records no such value (not written by ModelCheckpoint, or monitoring
    something else) or holds a model of other parameters or shapes is replaced by the first
    epoch, with a warning, unless ``initial_value_threshold`` is given.
    """

    def __init__(
        self,
        path: str,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        initial_value_threshold: Optional[float] = None,
    ) -> None:
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = _check_flag(save_best_only, "save_best_only", "ModelCheckpoint")
        self.mode = _monitor_mode(monitor, mode, "ModelCheckpoint")
        self.initial_value_threshold = _check_threshold(initial_value_threshold)
        self.saved: list[str] = []

    def on_train_begin(self, history: History) -> None:
        worst = math.inf if self.mode == "min" else -math.inf
        self.best = worst if self.initial_value_threshold is None else self.initial_value_threshold
        self.saved = []  # this run's files (a callback given to a second fit starts afresh)
        self._kept_from_before: Optional[float] = None  # the recorded value that guards the file
        if self.save_best_only and not _has_fields(self.path) and os.path.exists(self.path.format()):
            recorded = self._recorded_value(self.path.format())
            if recorded is not None and self._better(recorded, self.best):
                self.best = self._kept_from_before = recorded

    def on_train_end(self, history: History) -> None:
        fresh = history.epoch[:1] == [0]  # (a resumed run keeps a better file by design, silently)
        guarded = self.initial_value_threshold is not None  # (then the user chose what to beat)
        if fresh and not guarded and self._kept_from_before is not None and not self.saved:
            warnings.warn(
                f"ModelCheckpoint: no epoch of this run beat the {self.monitor} of "
                f"{self._kept_from_before:.6g} recorded in {self.path.format()!r}, so it still holds the "
                "model of an earlier run. To keep this run's best, delete the file, choose another name, "
                "or pass initial_value_threshold",
                stacklevel=4,  # (the fit call)
            )

    def _better(self, value: float, than: float) -> bool:
        return value < than if self.mode == "min" else value > than

    def _recorded_value(self, path: str) -> Optional[float]:
        """The ``monitor`` value that the checkpoint at ``path`` records, or None (with a warning
        that the file will be replaced, unless ``initial_value_threshold`` guards it)."""
        from tinygrad_edu.serialization import load

        try:
            state = load(path)
        except (OSError, ValueError) as exc:
            why = f"cannot be read as a checkpoint ({exc})"
        else:
            logs = state.get("logs") if isinstance(state, dict) else None
            value = logs.get(self.monitor) if isinstance(logs, dict) else None
            other = self._another_model(state)
            if other:
                why = other
            elif _is_real(value) and math.isfinite(value):
                return float(value)
            else:
                why = f"records no finite {self.monitor!r}"
        if self.initial_value_threshold is None:
            warnings.warn(
                f"ModelCheckpoint: {path!r} already exists and {why}; the first epoch of this run will "
                f"replace it, whatever its {self.monitor}. To keep it unless a model beats it, pass "
                f"initial_value_threshold=<its {self.monitor}>, or choose another file name",
                stacklevel=5,  # (the fit call)
            )
        return None

    def _another_model(self, state: Any) -> str:
        """Why the checkpoint ``state`` holds a model this run's cannot load ("" when it can)."""
        saved = state.get("model") if isinstance(state, dict) else None
        model = getattr(self, "model", None)
        if not isinstance(saved, dict) or model is None or not hasattr(model, "state_dict"):
            return ""
        mine = model.state_dict()
        if set(saved) != set(mine):
            return "holds a model with other parameters"
        shapes = [k for k in mine if np.shape(saved[k]) != np.shape(mine[k])]
        return f"holds a model of other shapes ({shapes[0]})" if shapes else ""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> Optional[bool]:
        from tinygrad_edu.serialization import save

        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._better(value, self.best):
                return False
            self.best = value
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except KeyError as exc:
            raise KeyError(
                f"ModelCheckpoint: the file name {self.path!r} uses {{{exc.args[0]}}}, which this epoch's "
                f"logs do not have (they have {', '.join(['epoch', *logs])}); for val_... pass "
                "validation_data to fit"
            ) from None
        state = {"model": self.model.state_dict(), "epoch": epoch + 1, "logs": dict(logs)}
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        state["rng"] = STATE.rng.bit_generator.state
        save(state, path)
        self.saved.append(path)
        return False


def _is_real(value: Any) -> bool:
    """A real number, Python's or numpy's, that is not a bool (which Python counts as 0 or 1)."""
    numbers, bools = (int, float, np.integer, np.floating), (bool, np.bool_)
    return isinstance(value, numbers) and not isinstance(value, bools)


def _check_min_delta(value: Any) -> float:
    """EarlyStopping's ``min_delta``: a finite real number >= 0 (not a bool, which Python counts
    as 1, nor a string); NaN would make no epoch an improvement."""
    if not _is_real(value):
        raise TypeError(
            f"EarlyStopping: min_delta must be a real number >= 0 (the least change that counts as an "
            f"improvement), got {type(value).__name__} {value!r:.40}"
        )
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"EarlyStopping: min_delta must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_threshold(
    value: Any, name: str = "initial_value_threshold", where: str = "ModelCheckpoint"
) -> Optional[float]:
    """ModelCheckpoint's ``initial_value_threshold``, EarlyStopping's ``baseline``: None or a
    finite number."""
    if value is None:
        return None
    if not _is_real(value):
        raise TypeError(f"{where}: {name} must be a number or None, got {type(value).__name__} {value!r:.40}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value!r}")
    return float(value)


def _has_fields(path: str) -> bool:
    """True when ``path`` has ``{...}`` fields to fill in (``{{`` is a plain brace)."""
    return any(field is not None for _, field, _, _ in string.Formatter().parse(path))


# --- helpers ----------------------------------------------------------------------


def _as_array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


_LOGITS_LOSSES = (nn.BCEWithLogitsLoss, nn.functional.binary_cross_entropy_with_logits)
_PROBABILITY_LOSSES = (nn.BCELoss, nn.functional.binary_cross_entropy)
_MULTICLASS_LOSSES = (nn.CrossEntropyLoss, nn.functional.cross_entropy, nn.functional.nll_loss)
_LABEL_LOSSES = (nn.MSELoss, nn.functional.mse_loss)  # the output predicts the label itself


def _loss_kind(loss_fn: Any) -> Optional[str]:
    """What the model's output means for a known loss: "logit", "probability", "multiclass",
    "label" (a regression loss: the output is the label itself) or None."""
    for kind, known in (
        ("logit", _LOGITS_LOSSES),
        ("probability", _PROBABILITY_LOSSES),
        ("multiclass", _MULTICLASS_LOSSES),
        ("label", _LABEL_LOSSES),
    ):
        if any(loss_fn is k or (isinstance(k, type) and isinstance(loss_fn, k)) for k in known):
            return kind
    return None


def _loss_name(loss_fn: Any) -> str:
    """``MSELoss`` for a loss module, ``mse_loss`` for a function: what the user wrote."""
    if loss_fn is None:
        return "this loss"
    if isinstance(loss_fn, nn.Module) or not hasattr(loss_fn, "__name__"):
        return type(loss_fn).__name__
    return loss_fn.__name__


def _ends_with_sigmoid(model: Any) -> bool:
    modules = list(model.modules()) if hasattr(model, "modules") else []
    return bool(modules) and isinstance(modules[-1], nn.Sigmoid)


def _listed(values: Sequence[float], most: int = 6) -> str:
    """``0.5, 1.5, 2.5`` (or the first few and how many there are): label values for a message."""
    shown = ", ".join(f"{v:g}" for v in list(values)[:most])
    return shown if len(values) <= most else f"{shown}, ... ({len(values)} values)"


class _Accuracy:
    """Fraction of correct predictions, read from the outputs as the loss dictates.

    One column: logit > 0 after BCEWithLogitsLoss, probability > 0.5 after BCELoss (the same
    decision, since sigmoid(z) > 0.5 exactly when z > 0) or for a model ending in Sigmoid.
    After MSELoss the output predicts the label itself, so the labels decide: 0/1 labels
    are predicted 1 when the output > 0.5, -1/+1 labels +1 when the output > 0; other labels
    are refused, and so is a single output column after a loss the library does not know
    (is it a logit, a probability or the label?).
    Several columns: after the two binary losses, each column is a yes/no label of its own
    (multi-label) and every element counts, as Keras's binary accuracy; otherwise the argmax
    is the class.

    ``labels`` collects the label values seen (MSELoss): ``observe`` is given the whole
    data set's labels when they are known, so one batch of 1s alone does not have to decide.
    """

    __name__ = "accuracy"

    def __init__(self, kind: Optional[str], model: Any, loss_fn: Any = None, where: str = "fit") -> None:
        self.kind = kind
        if kind is None and _ends_with_sigmoid(model):
            self.kind = "probability"
        self.loss = _loss_name(loss_fn)
        self.where = where
        self.labels: set[float] = set()

    def observe(self, target: Any) -> None:
        """Add ``target``'s values to the labels seen (MSELoss); refuse labels that are neither
        0/1 nor -1/+1, naming them."""
        if self.kind != "label":
            return
        target = _as_array(target)
        seen = self.labels | set(np.unique(target).tolist())
        if not (seen <= {0, 1} or seen <= {-1, 1}):
            raise ValueError(
                f"{self.where}: accuracy with {self.loss}: the model predicts the label itself, so the "
                "labels must be 0/1 (predicted 1 when the output > 0.5) or -1/+1 (predicted +1 when the "
                f"output > 0); found the labels {_listed(sorted(seen))} (targets of shape {target.shape}, "
                f"{target.dtype}). For such targets accuracy means nothing: leave 'accuracy' out of "
                "metrics, or pass a metric function f(output, target) -> float"
            )
        self.labels = seen

    def __call__(self, output: np.ndarray, target: np.ndarray) -> float:
        output, target = np.asarray(output), _as_array(target)
        self.check_output(output)
        self.observe(target)
        several = output.ndim == 2 and (output.shape[1] > 1 or self.kind == "multiclass")
        if several and self.kind in ("logit", "probability") and target.shape == output.shape:
            threshold = 0.0 if self.kind == "logit" else 0.5
            return np.count_nonzero((output > threshold) == target) / output.size  # (multi-label)
        if several:
            predicted = output.argmax(axis=1)
            labels = target.argmax(axis=1) if target.ndim == 2 and target.shape[1] > 1 else target.reshape(-1)
        else:
            predicted, labels = self._one_column(output.reshape(-1), target), target.reshape(-1)
        if labels.shape != predicted.shape:
            raise ValueError(
                f"{self.where}: accuracy: {predicted.shape[0]} predictions (model output {output.shape}) "
                f"but targets of shape {target.shape}"
            )
        return np.count_nonzero(predicted == labels) / len(labels)

    def check_output(self, output: np.ndarray) -> None:
        """Refuse one output column when the loss does not say what it is (a loss the library does
        not know): a logit, a probability or the label itself. fit asks before the first update."""
        if self.kind is None and not (output.ndim == 2 and output.shape[1] > 1):
            raise ValueError(
                f"{self.where}: accuracy with loss_fn {self.loss}: the model has one output column "
                f"(output of shape {output.shape}, {output.dtype}), and for this loss it is not known "
                "whether that is a logit (cut at 0), a probability (cut at 0.5) or the label itself. Use "
                "nn.BCEWithLogitsLoss, nn.BCELoss or nn.MSELoss, end the model in nn.Sigmoid, or pass a "
                "metric function, e.g. "
                "metrics={'accuracy': lambda output, y: float(np.mean((output > 0) == y))}"
            )

    def _one_column(self, output: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The predicted labels for one output per sample (bools compare equal to labels 1/0)."""
        if self.kind in ("logit", "probability"):
            return output > (0.0 if self.kind == "logit" else 0.5)
        if 0 in self.labels:  # 0/1 labels
            return output > 0.5
        if -1 in self.labels:  # -1/+1 labels
            return np.where(output > 0, 1, -1)
        # Every label so far is 1: both readings count the same unless an output lies in (0, 0.5].
        if not np.array_equal(output > 0.5, output > 0):
            remedy = "pass a metric function f(output, target) -> float"
            if self.where == "fit":
                remedy = f"give fit a DataLoader or validation_data, whose labels it reads whole, or {remedy}"
            raise ValueError(
                f"{self.where}: accuracy with {self.loss}: every label is 1, which does not tell 0/1 "
                "labels (predicted 1 when the output > 0.5) from -1/+1 labels (+1 when the output > 0), "
                f"and the two disagree on outputs in (0, 0.5] (targets of shape {target.shape}, "
                f"{target.dtype}); {remedy}"
            )
        return output > 0.5


def _make_metrics(metrics: Any, loss_fn: Any, model: Any, where: str = "fit") -> dict[str, Metric]:
    """Turn fit's ``metrics`` argument into {name: f(output, target) -> batch mean}."""
    kind = _loss_kind(loss_fn)
    if isinstance(metrics, str) and metrics == "auto":
        classifier = kind is not None and kind != "label"
        return {"accuracy": _Accuracy(kind, model, loss_fn, where)} if classifier else {}
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, Mapping) else [(None, m) for m in metrics]
    named: list[tuple[str, Metric]] = []
    for name, metric in items:
        if isinstance(metric, str) and metric == "accuracy":
            named.append(("accuracy" if name is None else name, _Accuracy(kind, model, loss_fn, where)))
        elif callable(metric):
            derived = getattr(metric, "__name__", f"metric_{len(named)}")
            named.append((derived if name is None else name, metric))
        else:
            raise ValueError(
                f"{where}: a metric must be 'accuracy' or a callable f(output, target) -> float, "
                f"got {metric!r}"
            )
    _check_metric_names([name for name, _ in named], where)
    return dict(named)


# The keys fit writes into an epoch's logs itself, and "epoch", which ModelCheckpoint's file
# names take beside them; with validation_data each score also appears as val_<name>.
_FIT_LOG_KEYS = ("loss", "last_batch_loss", "lr", "time", "epoch")

_NAMING_HINT = (
    "A metric in a list is named by its function's __name__ ('<lambda>' for every lambda; "
    "'metric_<i>', its position, for a functools.partial or an object without __name__); "
    "name them with a dict, metrics={'tpr': tpr, 'fpr': fpr}, or def functions of different names"
)


def _check_metric_names(names: list[str], where: str) -> None:
    """Refuse two metrics of one name and a metric named like a number fit (or evaluate) logs
    itself: one would silently replace the other in the logs."""
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: metrics item {i} is named {name!r}; a metric's name must be a "
                             f"non-empty str. {_NAMING_HINT}")
        if names.index(name) != i:
            raise ValueError(
                f"{where}: metrics items {names.index(name)} and {i} (counted from 0) are both named "
                f"{name!r}, so one's numbers would replace the other's. {_NAMING_HINT}"
            )
    reserved = _FIT_LOG_KEYS if where == "fit" else ("loss",)
    for i, name in enumerate(names):
        if name in reserved or (where == "fit" and name.startswith("val_")):
            own = ("fit logs itself (loss, last_batch_loss, lr, time, epoch, and val_<name> for each "
                   "score on validation_data)" if where == "fit" else "evaluate returns for the loss")
            raise ValueError(
                f"{where}: metrics item {i} is named {name!r}, a name {own}, so the two numbers would "
                f"be mixed up; rename the metric, e.g. metrics={{'my_{name}': ...}}. {_NAMING_HINT}"
            )


def _observe_labels(metric_fns: Mapping[str, Metric], *targets: Any) -> None:
    """Show every accuracy metric the labels of whole data sets (see ``_Accuracy.observe``)."""
    for fn in metric_fns.values():
        if isinstance(fn, _Accuracy):
            for target in targets:
                if target is not None:
                    fn.observe(target)


def _current_lr(optimizer: Any) -> Optional[float]:
    """The learning rate of the optimizer's first group: ``last_lr`` if it has one, else the number."""
    last = getattr(optimizer, "last_lr", None)
    if last:
        return float(last[0])
    groups = getattr(optimizer, "param_groups", None)
    if groups and not callable(groups[0].get("lr")):
        return float(groups[0]["lr"])
    return None


def _check_positive_int(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``: a Python int or a numpy integer, never a bool (True is
    an int in Python, and would count as 1). TypeError for another type, ValueError below ``minimum``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{where}: {name} must be an int >= {minimum} (a Python int or a numpy integer), got "
            f"{type(value).__name__} {value!r:.40}"
        )
    if value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_model_and_loss(model: Any, loss_fn: Any, where: str) -> None:
    """Refuse a class where an instance is wanted (the missing ``()`` of ``nn.BCEWithLogitsLoss()``)
    and a loss that cannot be called (a name such as "bce"), before they fail deep inside."""
    if isinstance(model, type):
        raise TypeError(
            f"{where}: model is the class {model.__name__}, not a model; create one first, "
            f"for example {_qualified(model)}(...) with its sizes"
        )
    if not hasattr(model, "named_parameters"):
        raise TypeError(
            f"{where}: model is a {type(model).__name__}; expected an nn.Module "
            "(something with named_parameters())"
        )
    if isinstance(loss_fn, type):
        raise TypeError(
            f"{where}: loss_fn is the class {loss_fn.__name__}, not a loss; pass an instance: "
            f"{_qualified(loss_fn)}() (with the parentheses)"
        )
    if not callable(loss_fn):
        raise TypeError(
            f"{where}: loss_fn is a {type(loss_fn).__name__} ({loss_fn!r:.40}); expected a loss "
            "to call as loss_fn(model(X), y), such as nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss() "
            "or a function returning a scalar Tensor"
        )


def _check_mean_reduction(loss_fn: Any, where: str) -> None:
    """Refuse a loss whose ``reduction`` (an attribute, or a functools.partial's keyword) is not
    'mean': fit and evaluate weight each batch's loss by its size to average over samples, so a
    summed loss makes every number they log depend on the batch size."""
    reduction = getattr(loss_fn, "reduction", None)
    if reduction is None and isinstance(loss_fn, functools.partial):
        reduction = loss_fn.keywords.get("reduction")
    if reduction is None or (isinstance(reduction, str) and reduction == "mean"):
        return
    name = _loss_name(loss_fn)
    if isinstance(loss_fn, functools.partial):
        name = f"functools.partial({_loss_name(loss_fn.func)}, reduction={reduction!r})"
    uses = "the loss it logs is" if where == "fit" else "the loss it returns is"
    if reduction == "none":
        why, hint = "it gives one loss per sample, not the scalar needed", ""
    else:
        why = "the numbers would depend on the batch size"
        hint = (
            "; for the same steps as with 'sum', multiply SGD's learning rate by the batch size "
            "(the gradient of a sum over a batch of B samples is B times the mean's)"
        ) if reduction == "sum" else ""
    raise ValueError(
        f"{where}: loss_fn {name} has reduction={reduction!r}, but {uses} a mean over "
        f"samples (each batch's loss weighted by its size), which needs reduction='mean'; with "
        f"{reduction!r} {why}. Use reduction='mean' (the default){hint}"
    )


def _qualified(cls: type) -> str:
    """``nn.BCEWithLogitsLoss`` for the library's modules, the plain class name for others."""
    return f"nn.{cls.__name__}" if cls.__module__.startswith("tinygrad_edu.nn") else cls.__name__


def _check_optimizer(optimizer: Any) -> None:
    """Refuse an optimizer class (``optim.Adam`` for ``optim.Adam(model.parameters())``)."""
    if isinstance(optimizer, type):
        raise TypeError(
            f"fit: optimizer is the class {optimizer.__name__}, not an optimizer; create one for "
            f"the model first: optim.{optimizer.__name__}(model.parameters(), lr=...)"
        )


def _scalar_loss(loss: Any, where: str) -> float:
    if not isinstance(loss, Tensor):
        raise TypeError(f"{where}: loss_fn returned a {type(loss).__name__}; expected a scalar Tensor")
    if loss.data.size != 1:
        raise ValueError(
            f"{where}: loss_fn returned shape {loss.shape}; expected a scalar (use reduction='mean')"
        )
    return float(loss.data.reshape(()))


class _DeferredInterrupt:
    """While training, the first Ctrl-C only sets a flag, which the loop checks between steps.

    So an update in progress always finishes and the model is never half-updated. A
    second Ctrl-C raises KeyboardInterrupt at once. Only installed in the main thread
    and only when nobody else has replaced Python's default SIGINT handler.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_DeferredInterrupt":
        if threading.current_thread() is threading.main_thread():
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _progress_bar(progress: bool, epochs: int, initial_epoch: int = 0) -> Any:
    """A tqdm bar over epochs (from ``initial_epoch`` to ``epochs`` when resuming), or None when
    off, when tqdm is missing or output is not a terminal.

    A Jupyter kernel counts as a terminal: ``tqdm.auto`` draws its notebook widget there.
    """
    if not progress:
        return None
    isatty = getattr(sys.stderr, "isatty", None)
    if not (isatty is not None and isatty()) and "ipykernel" not in sys.modules:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, initial=initial_epoch, desc="fit", unit="epoch", leave=True)


def _postfix(logs: Mapping[str, float]) -> dict[str, str]:
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    return {k.replace("accuracy", "acc"): f"{logs[k]:.4f}" for k in keys if k in logs}


# --- fit ----------------------------------------------------------------------------


def fit(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Any,
    X: Optional[Array],
    y: Optional[Array],
    epochs: int,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: Optional[int] = None,
    validation_data: Optional[tuple[Array, Array]] = None,
    callbacks: Union[Callback, Sequence[Callback], None] = (),
    progress: bool = True,
    batches: Optional[Batches] = None,
    metrics: Any = "auto",
    check_finite: bool = True,
    record_grad_norms: bool = False,
    initial_epoch: int = 0,
) -> History:
    """Train ``model`` up to epoch number ``epochs``; return the ``History``.

    Each step: ``optimizer.zero_grad()``, ``output = model(X_batch)``,
    ``loss = loss_fn(output, y_batch)``, ``loss.backward()``, ``optimizer.step()``. The grads of
    the model's parameters the optimizer does not hold (in its ``param_groups``) are cleared
    too, as ``model.zero_grad()`` would, so they never add up over steps.

    Args:
        loss_fn: a loss averaging over its batch; one with ``reduction`` other than 'mean' is refused.
        X, y: ndarrays or Tensors, samples as rows (may be None when ``batches`` is given).
        epochs: the number of the last epoch to train, counted from 1, as in Keras: fit trains
            epochs ``initial_epoch + 1`` .. ``epochs``.
        initial_epoch: the epochs already trained, to continue a run from a checkpoint:
            ``fit(..., epochs=35, initial_epoch=30)`` trains epochs 31 .. 35, with the batches of
            a run that never stopped (docs/training.md, "Continuing a run", says what to restore).
        batch_size, shuffle, seed: how the default ``DataLoader(X, y, ...)`` makes batches.
        batches: instead of that, a ``DataLoader`` or a callable ``batches(epoch)`` returning
            an iterable of ``(X_batch, y_batch)`` (ndarrays or Tensors); ``epoch`` counts from 0
            and goes on from ``initial_epoch`` when resuming. The course's batches:
            ``lambda epoch: data.random_mini_batches(X, y, 64, seed=10 + epoch + 1)``. With
            ``batches``, fit trains on those alone: X, y, batch_size, shuffle and seed are not
            used (passing X and y too is allowed, as in that example and ``compare_optimizers``).
        validation_data: a pair ``(X_val, y_val)`` (a tuple or a list), evaluated after every
            epoch ("val_loss", ...); checked before training starts.
        callbacks: a list of ``Callback`` instances, or one of them on its own (None: none); one
            returning True from ``on_epoch_end`` stops training.
        shuffle, progress, check_finite, record_grad_norms: True or False (a numpy bool too);
            anything else, such as the string "False", is a TypeError.
        progress: show a tqdm bar (epoch, loss, accuracy) if tqdm is installed and stderr is a
            terminal; otherwise nothing is printed.
        metrics: "auto" (accuracy when ``loss_fn`` is a classification loss), None, or a list
            of "accuracy" and callables ``f(output, target) -> float`` on ndarrays, logged under
            their ``__name__`` (a dict names them: ``{"tpr": f, "fpr": g}``); a repeated name or one
            that fit logs itself ("loss", "lr", "time", "val_...", ...) is refused. With
            ``MSELoss`` "accuracy" reads the labels: 0/1 labels are predicted 1 when the output
            > 0.5, -1/+1 labels +1 when the output > 0; other labels are refused.
        check_finite: stop with ``NonFiniteLossError`` on a NaN/Inf loss or gradient, before
            the update, or on an update that makes a parameter NaN/Inf (that update is undone),
            so the model keeps the parameters of the last finite step.
        record_grad_norms: record each parameter's gradient norm in ``history.grad_norms``
            (the mean over each epoch's steps, every norm one step's, for the parameters the
            optimizer does not hold too), to see vanishing or exploding gradients.

    Ctrl-C stops training after the step in progress and returns the history so far, with
    ``history.interrupted = True``. Epoch lists hold completed epochs only; ``history.steps``
    holds every completed step; both number the epochs from ``initial_epoch``. The model is in
    training mode while fitting (a submodule left in eval mode stays so) and every module gets
    its own mode back at the end.
    """
    epochs = _check_positive_int(epochs, "epochs", "fit", minimum=0)
    initial_epoch = _check_initial_epoch(initial_epoch, epochs)
    _check_model_and_loss(model, loss_fn, "fit")
    _check_mean_reduction(loss_fn, "fit")
    _check_optimizer(optimizer)
    shuffle, progress, check_finite, record_grad_norms = (
        _check_flag(value, name, "fit")
        for name, value in [("shuffle", shuffle), ("progress", progress), ("check_finite", check_finite),
                            ("record_grad_norms", record_grad_norms)]
    )
    validation_data = _validation_pair(validation_data, "fit")
    callbacks = _attach(_callback_list(callbacks, "fit"), model, optimizer)
    batch_maker = _batch_maker(X, y, batches, batch_size, shuffle, seed, initial_epoch)
    metric_fns = _make_metrics(metrics, loss_fn, model)
    # The labels of the whole data, where they are known, before the first update: MSELoss's
    # accuracy reads them (and refuses labels that are neither 0/1 nor -1/+1 here, not later).
    train_inputs = batches.X if isinstance(batches, DataLoader) else X if batches is None else None
    train_labels = batches.y if isinstance(batches, DataLoader) else y if batches is None else None
    _observe_labels(metric_fns, train_labels, None if validation_data is None else validation_data[1])
    _check_monitors(callbacks, _logged_keys(metric_fns, optimizer, validation_data is not None))
    if not _same_sample_shapes(validation_data, train_inputs, train_labels):
        _check_validation_forward(model, loss_fn, validation_data)
    modes = _modes(model)  # put back at the end (the run may switch an eval-mode model to training)
    run = _Run(model, loss_fn, optimizer, _parameter_names(model, optimizer), metric_fns, check_finite)
    run.record_grad_norms, run.initial_epoch = record_grad_norms, initial_epoch
    bar = _progress_bar(progress, epochs, initial_epoch)
    start = time.perf_counter()
    try:
        _train_epochs(run, range(initial_epoch, epochs), batch_maker, validation_data, callbacks, bar)
    finally:
        if bar is not None:
            bar.close()
        _restore_modes(modes)
        run.history.total_time = time.perf_counter() - start
    return run.history


def _train_epochs(
    run: "_Run",
    epochs: range,
    batch_maker: Callable[[int], Iterable[Any]],
    validation_data: Optional[tuple[Array, Array]],
    callbacks: list[Callback],
    bar: Any,
) -> None:
    """The ``epochs`` (their indices, counted from 0), between the callbacks' ``on_train_begin``
    and ``on_train_end``.

    Ctrl-C is held back until the step in progress is complete, then ends training.
    """
    # With check_finite a NaN/Inf stops training with NonFiniteLossError, so numpy's warnings on
    # the way there would only say the same thing less clearly.
    quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    with _DeferredInterrupt() as run.interrupt, quiet if run.check_finite else nullcontext():
        for cb in callbacks:
            cb.on_train_begin(run.history)
        try:
            for epoch in epochs:
                epoch_start = time.perf_counter()
                logs = _train_one_epoch(run, epoch, batch_maker)
                logs.update(_epoch_logs(run, validation_data, epoch_start))
                if _end_of_epoch(run, epoch, logs, bar, callbacks):
                    break
        except KeyboardInterrupt:
            run.history.interrupted = True
        for cb in callbacks:
            cb.on_train_end(run.history)


class _Run:
    """What one ``fit`` call works with: its arguments, the history so far, the step count."""

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[[Tensor, Any], Tensor],
        optimizer: Any,
        names: dict[int, str],
        metric_fns: dict[str, Metric],
        check_finite: bool,
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.names = names  # id(parameter) -> its name in the model, for error messages
        # The model's parameters the optimizer does not hold (a frozen layer that still has
        # requires_grad): optimizer.zero_grad() leaves their grads alone, so each step clears them.
        # An optimizer without param_groups (a wrapper that accumulates gradients over several
        # batches, say) says nothing of what it holds: its grads are left to it.
        self.unheld = []
        if hasattr(optimizer, "param_groups"):
            held = {id(p) for g in optimizer.param_groups for p in g["params"]}
            self.unheld = [p for _, p in model.named_parameters() if id(p) not in held]
        self.metric_fns = metric_fns
        self.check_finite = check_finite
        self.history = History()
        self.global_step = 0  # completed updates, over all epochs
        self.layout: list = []  # where the parameters lie in memory (see _side_by_side)
        self.interrupt: Any = None  # the _DeferredInterrupt, while training runs
        self.record_grad_norms = False  # keep every step's gradient norms in the history
        self.initial_epoch = 0  # the index of this call's first epoch (fit's initial_epoch)
        # Each module's flag while training: a model in eval mode trains in training mode; one in
        # training mode keeps the submodules it has in eval mode (a frozen BatchNorm, say).
        if not getattr(model, "training", True):
            _set_mode(model, True)
        self.training_modes = _modes(model)
        # What a forward changes besides the parameters (BatchNorm's running statistics): put back
        # with them when a step is refused, so the model is never left half-updated.
        self.buffers = list(model.buffers()) if hasattr(model, "buffers") else []


def _attach(callbacks: list[Callback], model: Any, optimizer: Any) -> list[Callback]:
    """The callbacks, each told the model and the optimizer."""
    for cb in callbacks:
        cb.model, cb.optimizer = model, optimizer
    return callbacks


def _callback_list(callbacks: Any, where: str) -> list[Callback]:
    """``callbacks`` as a list of Callback instances: None is none, and one callback not in a
    list is a list of one (as PyTorch Lightning's Trainer takes it); anything else is refused."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, type) and issubclass(callbacks, Callback):
        raise TypeError(
            f"{where}: callbacks is the class {callbacks.__name__}, not a train.Callback instance; "
            f"create one first: {callbacks.__name__}(...)"
        )
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(
            f"{where}: callbacks must be a train.Callback or a list of them, got "
            f"{type(callbacks).__name__} {callbacks!r:.60}"
        )
    listed = list(callbacks)
    for i, cb in enumerate(listed):
        if isinstance(cb, type) and issubclass(cb, Callback):
            raise TypeError(
                f"{where}: callbacks item {i} is the class {cb.__name__}, not a train.Callback "
                f"instance; create one first: {cb.__name__}(...)"
            )
        if not isinstance(cb, Callback):
            raise TypeError(
                f"{where}: callbacks item {i} must be a train.Callback instance, such as "
                f"train.EarlyStopping(...), got {type(cb).__name__} {cb!r:.40}"
            )
    return listed


def _validation_pair(validation_data: Any, where: str) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """``validation_data`` as two arrays of as many samples, or None; checked before training,
    not after the first epoch."""
    if validation_data is None:
        return None
    if isinstance(validation_data, (np.ndarray, Tensor)):
        raise TypeError(
            f"{where}: validation_data must be a pair (X_val, y_val), got one "
            f"{type(validation_data).__name__} of shape {validation_data.shape} ({validation_data.dtype}); "
            "pass validation_data=(X_val, y_val)"
        )
    if not isinstance(validation_data, (tuple, list)):
        raise TypeError(
            f"{where}: validation_data must be a pair (X_val, y_val), a tuple or a list, got "
            f"{type(validation_data).__name__} {validation_data!r:.60}"
        )
    if len(validation_data) != 2:
        n = len(validation_data)
        raise ValueError(
            f"{where}: validation_data must be a pair (X_val, y_val), got a {type(validation_data).__name__} "
            f"of {n} item{'' if n == 1 else 's'}"
        )
    X_val, y_val = (_as_array(a) for a in validation_data)
    if X_val.ndim == 0 or y_val.ndim == 0:
        raise ValueError(
            f"{where}: validation_data's X_val and y_val need a sample axis, got shapes {X_val.shape} "
            f"and {y_val.shape}"
        )
    if len(X_val) != len(y_val):
        raise ValueError(
            f"{where}: validation_data's X_val has {len(X_val)} samples (shape {X_val.shape}, {X_val.dtype}) "
            f"but y_val has {len(y_val)} (shape {y_val.shape}, {y_val.dtype}); samples are rows"
        )
    if len(X_val) == 0:
        raise ValueError(
            f"{where}: validation_data has no samples (X_val has shape {X_val.shape}); leave it out "
            "or give at least one sample"
        )
    return X_val, y_val


def _same_sample_shapes(validation_data: Any, X: Any, y: Any) -> bool:
    """Whether X_val and y_val have the training samples' shapes (and dtypes): then the first
    training step meets any mismatch with the model first, and names the training data."""
    if validation_data is None:
        return True
    return all(
        getattr(train, "shape", None) is not None and train.shape[1:] == val.shape[1:]
        and getattr(train, "dtype", None) == val.dtype
        for train, val in zip((X, y), validation_data)
    )


def _check_validation_forward(
    model: Any, loss_fn: Any, validation_data: Optional[tuple[np.ndarray, np.ndarray]]
) -> None:
    """The model and the loss on the first two validation samples, in eval mode without a graph,
    so an X_val or y_val that does not fit them is refused before the first update rather than
    after a whole epoch. Leaves no trace: every module's mode, the buffers (BatchNorm's running
    statistics) and the random generators (dropout masks, shuffles) are put back as they were."""
    if validation_data is None:
        return
    X_val, y_val = validation_data
    modes, sources = _modes(model), _random_sources(model)
    buffers = list(model.buffers()) if hasattr(model, "buffers") else []
    before = [b.data.copy() for b in buffers]
    _set_mode(model, False)
    try:
        with no_grad():
            output = model(Tensor(X_val[:2]))
            if _loss_kind(loss_fn) != "multiclass":  # (N,) class labels are right there
                _check_target_shape((len(X_val), *output.shape[1:]), y_val.shape, "y_val", "y_val")
            _scalar_loss(loss_fn(output, y_val[:2]), "fit")
    except Exception as exc:
        raise _about_validation(exc, X_val, y_val) from None
    finally:
        _restore_modes(modes)
        for b, data in zip(buffers, before):
            b.data[...] = data
        _rewind(sources)


def _about_validation(exc: Exception, X_val: np.ndarray, y_val: np.ndarray) -> Exception:
    """``exc`` as the same type, its message saying that validation_data is what failed (an
    exception type that cannot be rebuilt from one message keeps its own, with a note)."""
    message = str(exc.args[0]) if len(exc.args) == 1 else str(exc)
    text = (
        f"fit: validation_data (X_val of shape {X_val.shape}, y_val of shape {y_val.shape}), tried on "
        f"its first {min(len(X_val), 2)} sample(s) before training: {message.removeprefix('fit: ')}"
    )
    try:
        about = type(exc)(text)
    except Exception:
        if hasattr(exc, "add_note"):  # Python 3.11 and later
            exc.add_note(text)
        return exc
    about.__dict__.update(exc.__dict__)
    return about.with_traceback(exc.__traceback__)


def _logged_keys(metric_fns: Mapping[str, Metric], optimizer: Any, validation: bool) -> list[str]:
    """The keys every epoch's logs will hold (see ``_train_one_epoch`` and ``_epoch_logs``)."""
    scores = ["loss", *metric_fns]
    keys = ["loss", "last_batch_loss", *metric_fns]
    if _current_lr(optimizer) is not None or getattr(optimizer, "last_lr", None) is not None:
        keys.append("lr")
    if validation:
        keys += [f"val_{k}" for k in scores]
    return [*keys, "time"]


def _check_monitors(callbacks: list[Callback], keys: list[str]) -> None:
    """Refuse an EarlyStopping or ModelCheckpoint that watches a key, or a file name that uses a
    field, which the run will never log: found now, not after the first epoch has trained."""
    for i, cb in enumerate(callbacks):
        missing = []
        if isinstance(cb, EarlyStopping) or (isinstance(cb, ModelCheckpoint) and cb.save_best_only):
            if cb.monitor not in keys:
                missing.append(f"monitors {cb.monitor!r}")
        if isinstance(cb, ModelCheckpoint):
            fields = [f for _, f, _, _ in string.Formatter().parse(cb.path) if f]
            unknown = [f for f in fields if _field_key(f) not in (*keys, "epoch")]
            missing += [f"has {{{f}}} in its file name" for f in unknown]
        if missing:
            raise ValueError(
                f"fit: callbacks item {i}, {type(cb).__name__}, {missing[0]}, which this run will not log: "
                f"its epoch logs will hold {', '.join(keys)}{_missing_key_hint(missing[0], keys)}"
            )
        if isinstance(cb, ModelCheckpoint):
            _check_file_name_formats(i, cb.path, keys)


def _check_file_name_formats(i: int, path: str, keys: list[str]) -> None:
    """Format the file name as an epoch will, with an int epoch and float logs, so that a format
    code that does not fit (``{loss:03d}``) is refused before training, not after the first epoch."""
    try:
        path.format(epoch=1, **dict.fromkeys(keys, 0.5))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValueError(
            f"fit: callbacks item {i}, ModelCheckpoint, cannot format its file name {path!r} ({exc}): "
            "{epoch} is an int and the logged values are floats, e.g. {epoch:03d} and {val_loss:.3f}"
        ) from None


def _missing_key_hint(missing: str, keys: list[str]) -> str:
    """What to do about a key the run will not log: the close name it does log (Keras's old
    ``acc`` for ``accuracy``), validation data for a val_ key, or another metric."""
    name = missing.split("'")[1] if "'" in missing else missing.split("{")[-1].split("}")[0]
    if name.startswith("val_") and not any(k.startswith("val_") for k in keys):
        return "; pass validation_data to fit for the val_... keys"
    old_names = {"acc": "accuracy", "val_acc": "val_accuracy"}  # Keras 1's, still in tutorials
    if old_names.get(_field_key(name)) in keys:
        return f"; did you mean {old_names[_field_key(name)]!r}?"
    close = difflib.get_close_matches(_field_key(name), keys, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; watch one of them, or add a metric of that name to metrics"


def _field_key(field: str) -> str:
    """The log key a format field reads: ``val_loss`` for ``val_loss`` and ``val_loss.real``."""
    return field.split(".")[0].split("[")[0]


def _train_one_epoch(run: _Run, epoch: int, batch_maker: Callable[[int], Iterable[Any]]) -> dict[str, float]:
    """One pass over the epoch's batches, a step for each; its loss and metrics, sample-weighted."""
    _restore_modes(run.training_modes)  # (validation in the epoch before switched to eval)
    n_seen, loss_sum, last_loss = 0, 0.0, math.nan
    metric_sums = dict.fromkeys(run.metric_fns, 0.0)
    for step, batch in enumerate(batch_maker(epoch)):
        xb, yb = _unpack_batch(batch, epoch, step)
        output, value = _train_one_step(run, xb, yb, epoch, step)
        # The step is complete: only now does anything count.
        run.global_step += 1
        n = len(xb.data) if xb.data.ndim else 1
        n_seen += n
        loss_sum += value * n
        last_loss = value
        for name, fn in run.metric_fns.items():
            metric_sums[name] += _metric_value(name, fn, output.data, _as_array(yb), "fit") * n
        run.history._record_step(epoch, value, _current_lr(run.optimizer))
        if run.interrupt.requested:
            raise KeyboardInterrupt
    if n_seen == 0:
        hint = (
            "; if batches returns the same generator every epoch, it was used up by the first: "
            "return a new one each time, e.g. batches=lambda epoch: iter(make_batches(epoch))"
            if epoch > run.initial_epoch
            else ""
        )
        raise ValueError(f"fit: epoch {epoch} produced no batches{hint}")
    logs = {"loss": loss_sum / n_seen, "last_batch_loss": last_loss}
    # (floats, as the validation metrics are: a metric's np.float32 is no float for the callbacks)
    logs.update({name: float(s / n_seen) for name, s in metric_sums.items()})
    return logs


def _metric_value(name: str, fn: Callable[..., Any], output: np.ndarray, target: Any, where: str) -> float:
    """A metric's value on one batch, a real number: one per sample (``(out > 0) == t``) or None
    would be averaged into nonsense or fail in numpy's words after the epoch."""
    value = fn(output, target)
    if isinstance(value, (int, float, np.number, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiub"
    ):
        return float(value)
    shown = f"an array of shape {value.shape} ({value.dtype})" if isinstance(value, np.ndarray) else (
        f"a {type(value).__name__}")
    raise TypeError(
        f"{where}: the metric {name!r} returned {shown} for a batch of {len(output)}; a metric returns one "
        "number for the batch, e.g. float(np.mean((output > 0) == y)) rather than (output > 0) == y"
    )


def _train_one_step(run: _Run, xb: Tensor, yb: Any, epoch: int, step: int) -> tuple[Tensor, float]:
    """zero_grad, forward, loss, backward, update; returns the output and the loss's value.

    With ``check_finite`` a NaN/Inf loss stops training before backward, and a NaN/Inf
    gradient or update before anything is kept (``_update_or_roll_back``). A step that
    raises puts the model's buffers (BatchNorm's running statistics, which the forward
    updates) back as they were.
    """
    optimizer = run.optimizer
    optimizer.zero_grad()
    for p in run.unheld:  # as model.zero_grad() would: every gradient is this step's alone
        p.grad = None
    buffers_before = [b.data.copy() for b in run.buffers]
    try:
        output = run.model(xb)
        if run.global_step == 0 and _loss_kind(run.loss_fn) != "multiclass":  # (N,) labels are right there
            _check_target_shape(output.shape, getattr(yb, "shape", None))
        loss = run.loss_fn(output, yb)
        if run.global_step == 0:  # (an accuracy that cannot be read is refused before the first update)
            for fn in run.metric_fns.values():
                if isinstance(fn, _Accuracy):
                    fn.check_output(output.data)
        value = _scalar_loss(loss, "fit")
        if run.check_finite and not math.isfinite(value):
            _raise_nonfinite(f"the loss is {value}", epoch, step, run.global_step, run.history)
        loss.backward()
        if run.record_grad_norms:
            run.history._record_grad_norms(run.model)
        if run.check_finite:
            _update_or_roll_back(run, epoch, step)
        else:
            optimizer.step()
    except BaseException:  # a refused step (or any error) leaves the buffers as they were
        for b, before in zip(run.buffers, buffers_before):
            b.data[...] = before  # BatchNorm's running statistics before this batch
        raise
    return output, value


def _check_target_shape(
    output: tuple[int, ...],
    shape: Optional[tuple[int, ...]],
    targets: str = "the targets",
    y: str = "y",
    where: str = "fit",
) -> None:
    """Refuse targets of ``shape`` that an elementwise loss would broadcast against outputs of
    shape ``output`` into a bigger array: (n, 1) outputs with (n,) targets compare every output
    with every target, an (n, n) loss that trains without an error (the built-in losses check
    this; a hand-written one may not). A batch of one sample is judged as two would be: (1, 1)
    with (1,) agrees by chance, and the same targets go wrong in ``evaluate``. ``targets`` and ``y``
    name them in the message."""
    if shape is None or shape == output:
        return
    probe_output, probe_shape = output, shape
    if output[:1] == (1,) and shape[:1] == (1,):
        probe_output, probe_shape = (2, *output[1:]), (2, *shape[1:])
    try:
        both = np.broadcast_shapes(probe_output, probe_shape)
    except ValueError:
        return  # not broadcastable: class labels for cross-entropy, say
    if math.prod(both) > max(math.prod(probe_output), math.prod(probe_shape)):
        have = "have" if targets == "the targets" else "has"
        n = "" if probe_output is output else " for a batch of 2 (here 1 sample: the shapes agree by chance)"
        raise ValueError(
            f"{where}: the model's output has shape {output} and {targets} {have} shape {shape}; "
            f"an elementwise loss would broadcast them to {both}{n} and compare every output with every "
            f"target. Reshape {targets} to {output} (e.g. {y}.reshape(-1, 1))"
        )


def _update_or_roll_back(run: _Run, epoch: int, step: int) -> None:
    """``optimizer.step()`` only if every gradient is finite, undone if it made a parameter
    NaN/Inf; either way ``NonFiniteLossError`` then stops training."""
    params = [p for g in getattr(run.optimizer, "param_groups", []) for p in g["params"]]
    bad = _nonfinite_grad(params, run.names)
    bad = bad or _checked_step(run.optimizer, params, run.names, run.layout)
    if bad is not None:
        _raise_nonfinite(bad, epoch, step, run.global_step, run.history)


def _epoch_logs(run: _Run, validation: Optional[tuple[Array, Array]], epoch_start: float) -> dict[str, float]:
    """What an epoch's logs hold besides its loss and metrics: "lr", the validation scores, "time"."""
    logs: dict[str, float] = {}
    lr = _current_lr(run.optimizer)
    if lr is not None:
        logs["lr"] = lr
    if validation is not None:
        X_val, y_val = validation
        scores = evaluate(run.model, run.loss_fn, X_val, y_val, metrics=run.metric_fns)
        logs.update({f"val_{k}": v for k, v in scores.items()})
    logs["time"] = time.perf_counter() - epoch_start
    return logs


def _end_of_epoch(run: _Run, epoch: int, logs: dict[str, float], bar: Any, callbacks: list[Callback]) -> bool:
    """Record the epoch's logs, show them, ask the callbacks; True means stop training."""
    run.history._record_epoch(epoch, logs)
    if bar is not None:
        bar.set_postfix(_postfix(logs), refresh=False)
        bar.update(1)
    stop = [bool(cb.on_epoch_end(epoch, dict(logs))) for cb in callbacks]  # every callback hears of it
    if run.interrupt.requested:
        raise KeyboardInterrupt
    if any(stop):
        run.history.stopped_early = True
    return any(stop)


def _set_mode(model: Any, training: bool) -> None:
    if hasattr(model, "train"):
        model.train(training)


def _modes(model: Any) -> list[tuple[Any, bool]]:
    """Every module's own training flag, to put back afterwards: ``model.train(flag)`` would set
    them all alike, switching a Dropout or BatchNorm left in eval mode on purpose back on."""
    modules = model.modules() if hasattr(model, "modules") else [model]
    return [(m, m.training) for m in modules if hasattr(m, "training")]


def _restore_modes(modes: list[tuple[Any, bool]]) -> None:
    for module, training in modes:
        module.training = training


def _batch_maker(
    X: Any, y: Any, batches: Any, batch_size: int, shuffle: bool, seed: Optional[int], initial_epoch: int = 0
) -> Callable[[int], Iterable[Any]]:
    """``batches`` as a callable epoch -> batches; without it, the default DataLoader's."""
    if batches is None:
        if X is None or y is None:
            raise ValueError("fit: give X and y, or batches=")
        loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
        if shuffle and seed is not None:
            _skip_shuffles(loader, initial_epoch)
        return lambda epoch: loader
    if isinstance(batches, DataLoader):
        return lambda epoch: batches
    if callable(batches):
        return batches
    raise TypeError(
        f"fit: batches must be a DataLoader or a callable epoch -> iterable of (X, y), "
        f"got {type(batches).__name__}"
    )


def _skip_shuffles(loader: DataLoader, epochs: int) -> None:
    """Draw the shuffles of ``epochs`` passes over a new ``loader`` without training on them:
    each pass over a DataLoader starts with one shuffle, so the next pass gets the batches of
    epoch ``epochs`` of a run that trained from the first (a resumed run's, ``initial_epoch``)."""
    for _ in range(epochs):
        next(iter(loader))


def _check_initial_epoch(initial_epoch: Any, epochs: int) -> int:
    """fit's ``initial_epoch``: an int in [0, epochs), or 0 when there are no epochs at all."""
    if not isinstance(initial_epoch, (int, np.integer)) or isinstance(initial_epoch, (bool, np.bool_)):
        raise TypeError(
            f"fit: initial_epoch must be an int (the number of epochs already trained), got "
            f"{type(initial_epoch).__name__} {initial_epoch!r:.40}"
        )
    if initial_epoch < 0:
        raise ValueError(f"fit: initial_epoch must be >= 0 (epochs already trained), got {initial_epoch}")
    if initial_epoch and initial_epoch >= epochs:
        raise ValueError(
            f"fit: initial_epoch={initial_epoch} but epochs={epochs}: epochs is the number of the last "
            f"epoch to train, not how many more (as in Keras), so it must be > initial_epoch; to train "
            f"{max(epochs, 1)} more after epoch {initial_epoch}, pass epochs={initial_epoch + max(epochs, 1)}"
        )
    return int(initial_epoch)


def _unpack_batch(batch: Any, epoch: int, step: int) -> tuple[Tensor, Any]:
    try:
        xb, yb = batch
    except (TypeError, ValueError):
        raise ValueError(
            f"fit: batch {step} of epoch {epoch} is a {type(batch).__name__}; expected a pair (X, y)"
        ) from None
    return _as_tensor(xb), yb if isinstance(yb, Tensor) else np.asarray(yb)


def _parameter_names(model: Any, optimizer: Any) -> dict[int, str]:
    """id(parameter) -> its name in the model; checks the optimizer updates this model."""
    names = {}
    if hasattr(model, "named_parameters"):
        names = {id(p): name for name, p in model.named_parameters()}
    groups = getattr(optimizer, "param_groups", None)
    if names and groups:
        held = [p for g in groups for p in g["params"]]
        if not any(id(p) in names for p in held):
            raise ValueError(
                f"fit: the optimizer holds {len(held)} parameter(s), none of which belong to the model; "
                "build it from this model: optimizer = Adam(model.parameters())"
            )
    return names


def _all_finite(arrays: list[np.ndarray]) -> bool:
    """True when no array holds NaN or Inf; one numpy pass over all of them, not one per array."""
    if not arrays:
        return True
    flat = arrays[0].ravel() if len(arrays) == 1 else np.concatenate([a.ravel() for a in arrays])
    # A NaN or Inf makes the sum NaN or Inf; only a non-finite sum (which can also be an
    # overflow of finite values) needs the exact elementwise check.
    return math.isfinite(flat.sum()) or bool(np.isfinite(flat).all())


def _nonfinite_grad(params: list[Tensor], names: dict[int, str]) -> Optional[str]:
    """None when every gradient is finite; otherwise which parameter's is not."""
    if _all_finite([p.grad.data for p in params if p.grad is not None]):
        return None
    for i, p in enumerate(params):
        if p.grad is not None and not np.isfinite(p.grad.data).all():
            kind = "nan" if np.isnan(p.grad.data).any() else "inf"
            name = names.get(id(p), f"parameter {i}")
            return f"the gradient of '{name}' (shape {p.shape}) contains {kind}"
    return None


def _side_by_side(datas: list[np.ndarray], cache: list) -> Optional[np.ndarray]:
    """``optim.flat.side_by_side(datas)``, remembered in ``cache`` while the parameters
    keep their arrays (finding it takes longer than a small network's whole update)."""
    if cache and len(cache[0]) == len(datas) and all(a is b for a, b in zip(cache[0], datas)):
        return cache[1]
    cache[:] = [datas, _find_side_by_side(datas) if datas else None]
    return cache[1]


def _checked_step(optimizer: Any, params: list[Tensor], names: dict[int, str], layout: list) -> Optional[str]:
    """``optimizer.step()``, undone if it made a parameter NaN/Inf (finite loss and gradients can
    still overflow with a huge learning rate). Returns what went wrong, or None.

    The parameters are copied before the update and copied back in place; the optimizer's
    own state (moments, step count) is not rolled back.
    """
    # One copy of all parameters (cheaper than one per parameter on small networks); of one
    # array when they lie side by side, as nn.Parameter makes them.
    datas = [p.data for p in params]
    whole = _side_by_side(datas, layout)
    if whole is not None:
        before = whole.copy()
    else:
        before = np.concatenate([d.ravel() for d in datas]) if datas else None
    optimizer.step()
    in_place = whole is not None and all(p.data is d for p, d in zip(params, datas))
    if _all_finite([whole] if in_place else [p.data for p in params]):
        return None
    for p in params:
        if not np.isfinite(p.data).all():
            name = names.get(id(p), f"a parameter of shape {p.shape}")
            offset = 0
            for q in params:
                q.data[...] = before[offset : offset + q.data.size].reshape(q.data.shape)
                mark_modified(q)  # changed in place again
                offset += q.data.size
            return f"the update made '{name}' (shape {p.shape}) non-finite (the change was undone)"
    return None


def _raise_nonfinite(what: str, epoch: int, step: int, global_step: int, history: History) -> None:
    raise NonFiniteLossError(
        f"fit: {what} at epoch {epoch}, step {step} (global step {global_step}; all counted from 0). "
        "Training stopped before this update, so the parameters are those after the last finite "
        "step. Try a smaller learning rate, standardised inputs, or a with-logits loss.",
        epoch,
        step,
        global_step,
        history,
    )


# --- evaluate and predict -----------------------------------------------------------


def predict(model: Any, X: Array, batch_size: Optional[int] = None) -> np.ndarray:
    """The model's outputs for ``X`` as an ndarray: eval mode, no graph; the mode is restored.

    Outputs are what the model returns (logits or probabilities), not class labels.
    """
    X = _as_array(X)
    size = None if batch_size is None else _check_positive_int(batch_size, "batch_size", "predict")
    modes = _modes(model)
    _set_mode(model, False)
    try:
        with no_grad():
            if size is None or len(X) == 0:  # (no samples: the model's output for none)
                return _as_array(model(Tensor(X))).copy()
            parts = [_as_array(model(Tensor(X[k : k + size]))) for k in range(0, len(X), size)]
            return np.concatenate(parts, axis=0)
    finally:
        _restore_modes(modes)


def evaluate(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    X: Array,
    y: Array,
    batch_size: Optional[int] = None,
    metrics: Any = "auto",
) -> dict[str, float]:
    """Loss (and accuracy for classifiers) of ``model`` on ``(X, y)`` in eval mode, without a graph.

    Returns ``{"loss": ..., "accuracy": ...}``; batched results are averaged with the
    batch sizes as weights. ``metrics`` is as in ``fit``; a metric named "loss" is refused.
    """
    _check_mean_reduction(loss_fn, "evaluate")
    X, y = _as_array(X), _as_array(y)
    if len(X) != len(y):
        raise ValueError(f"evaluate: X has {len(X)} samples (shape {X.shape}) but y has {len(y)}")
    if len(X) == 0:
        raise ValueError(f"evaluate: X has no samples (shape {X.shape}); there is nothing to average")
    metric_fns = _make_metrics(metrics, loss_fn, model, "evaluate")
    _observe_labels(metric_fns, y)  # all of them, before a batch of 1s alone has to tell 0/1 from -1/+1
    size = len(X) if batch_size is None else _check_positive_int(batch_size, "batch_size", "evaluate")
    modes = _modes(model)
    _set_mode(model, False)
    totals = {"loss": 0.0, **dict.fromkeys(metric_fns, 0.0)}
    try:
        with no_grad():
            for k in range(0, len(X), size):
                xb, yb = X[k : k + size], y[k : k + size]
                output = model(Tensor(xb))
                if k == 0 and _loss_kind(loss_fn) != "multiclass":  # (N,) class labels are right there
                    _check_target_shape(output.shape, yb.shape, "y", "y", "evaluate")
                totals["loss"] += _scalar_loss(loss_fn(output, yb), "evaluate") * len(xb)
                for name, fn in metric_fns.items():
                    totals[name] += _metric_value(name, fn, output.data, yb, "evaluate") * len(xb)
    finally:
        _restore_modes(modes)
    return {name: float(total / len(X)) for name, total in totals.items()}


RandomSource = Union[np.random.Generator, np.random.RandomState]


def _random_sources(model: Any, *more: Any) -> list[tuple[RandomSource, Any]]:
    """The library's Generator, any Generator a module holds (``Dropout(rng=...)``) and those
    given (a DataLoader's), with their states: what a run draws from (see ``_rewind``)."""
    sources: list[RandomSource] = [STATE.rng, *(m for m in more if m is not None)]
    modules = model.modules() if hasattr(model, "modules") else [model]
    for m in modules:
        for value in getattr(m, "__dict__", {}).values():
            if isinstance(value, (np.random.Generator, np.random.RandomState)):
                if all(value is not s for s in sources):
                    sources.append(value)
    return [(s, _get_state(s)) for s in sources]


def _get_state(source: RandomSource) -> Any:
    if isinstance(source, np.random.RandomState):
        return source.get_state()
    return source.bit_generator.state


def _rewind(sources: list[tuple[RandomSource, Any]]) -> None:
    """Put every random source back where it was, so the next forward draws the same numbers."""
    for source, state in sources:
        if isinstance(source, np.random.RandomState):
            source.set_state(state)
        else:
            source.bit_generator.state = state


# --- comparing optimizers -----------------------------------------------------------


class Comparison:
    """The result of ``compare_optimizers``: one row per optimizer, the histories and the models.

    ``str(comparison)`` (or ``comparison.table()``) is a text table; ``rows`` holds the
    same numbers as dicts; ``best`` is the name with the lowest final loss among the runs that
    did not error (``errors``), None when every run did.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.histories: dict[str, History] = {}
        self.models: dict[str, Any] = {}
        self.errors: dict[str, Exception] = {}
        self.interrupted = False

    @property
    def best(self) -> Optional[str]:
        """The name with the lowest final loss, among the runs that did not error and were not
        stopped by Ctrl-C; None if none.

        A run stopped by ``NonFiniteLossError`` keeps the weights of its last finite step, whose
        loss may well be the lowest, but that run failed (the learning rate, say, was too large).
        A run that Ctrl-C cut short trained for fewer epochs than the others: no fair comparison.
        """
        healthy = [r for r in self.rows if self.finished(r["name"]) and math.isfinite(r["loss"])]
        return min(healthy, key=lambda r: r["loss"])["name"] if healthy else None

    def finished(self, name: str) -> bool:
        """True for a run that neither raised (diverged) nor was cut short by Ctrl-C: it trained all
        its epochs, or until a callback stopped it."""
        history = self.histories.get(name)
        return name not in self.errors and not (history is not None and history.interrupted)

    def table(self) -> str:
        columns = ["name", "loss", "accuracy", "val_loss", "val_accuracy", "epochs", "time"]
        columns = [c for c in columns if any(c in r for r in self.rows)]
        headers = {"name": "optimizer", "time": "time (s)"}

        def cell(row: dict[str, Any], c: str) -> str:
            value = row.get(c)
            if value is None:
                return "-"
            if isinstance(value, float):
                if c == "time":
                    return f"{value:.2f}"
                return f"{value:.6f}" if abs(value) < 1e6 else f"{value:.6g}"
            return str(value)

        grid = [[headers.get(c, c) for c in columns]] + [[cell(r, c) for c in columns] for r in self.rows]
        widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
        lines = [
            "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(line, widths)))
            for line in grid
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        for name, err in self.errors.items():
            lines.append(f"{name}: {str(err).split('. ')[0]}")  # the first sentence says what and where
        for name, history in self.histories.items():
            if history.interrupted and name not in self.errors:
                lines.append(
                    f"{name}: stopped by Ctrl-C after {len(history.epoch)} epoch(s), not counted as best"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"Comparison({[r['name'] for r in self.rows]}, best={self.best!r})"


def _final_scores(
    model: Any, loss_fn: Any, X: Array, y: Array, validation_data: Optional[tuple[Array, Array]], metrics: Any
) -> dict[str, float]:
    """A trained model's loss and metrics on the training data, and on validation_data as val_..."""
    scores = evaluate(model, loss_fn, X, y, metrics=metrics)
    if validation_data is not None:
        val = evaluate(model, loss_fn, *validation_data, metrics=metrics)
        scores.update({f"val_{k}": v for k, v in val.items()})
    return scores


def compare_optimizers(
    make_model: Callable[[], Any],
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizers: Mapping[str, Callable[[Any], Any]],
    X: Array,
    y: Array,
    epochs: int,
    batch_size: int = 64,
    seed: Optional[int] = 0,
    batches: Optional[Batches] = None,
    validation_data: Optional[tuple[Array, Array]] = None,
    progress: bool = True,
    metrics: Any = "auto",
) -> Comparison:
    """Train one architecture with several optimizers from identical initial weights.

    ``make_model()`` is called once for the starting weights and once per optimizer; every copy
    gets those weights (through ``state_dict``), and with the same ``seed`` every run sees the same
    batches, so only the optimizer differs. ``optimizers`` maps a name to a callable
    ``params -> optimizer``, e.g. ``{"adam": lambda p: optim.Adam(p, lr=0.01)}``. The table
    reports the final model's loss and accuracy on ``(X, y)`` and the training time.
    A run that diverges (NaN loss) is reported, not raised; Ctrl-C stops the comparison
    and returns what is done.
    """
    progress = _check_flag(progress, "progress", "compare_optimizers")
    if not optimizers:
        raise ValueError("compare_optimizers: give at least one optimizer, e.g. {'adam': lambda p: Adam(p)}")
    initial = make_model().state_dict()
    options = dict(batch_size=batch_size, seed=seed, batches=batches, validation_data=validation_data,
                   progress=progress, metrics=metrics)
    result = Comparison()
    # Every run draws the same random numbers (dropout masks, a DataLoader's shuffles): the
    # generators are put back where they were before each one.
    random_sources = None
    for name, make_optimizer in optimizers.items():
        model = make_model()
        model.load_state_dict(initial)
        if random_sources is None:
            random_sources = _random_sources(model, getattr(batches, "rng", None))
        _rewind(random_sources)
        optimizer = make_optimizer(model.parameters())
        row: dict[str, Any] = {"name": name}
        try:
            history = fit(model, loss_fn, optimizer, X, y, epochs, **options)
        except NonFiniteLossError as err:
            history = err.history
            result.errors[name] = err
        row.update(_final_scores(model, loss_fn, X, y, validation_data, metrics))
        row["epochs"] = len(history.epoch)
        row["time"] = history.total_time
        result.rows.append(row)
        result.histories[name] = history
        result.models[name] = model
        if history.interrupted:
            result.interrupted = True
            break
    return result
