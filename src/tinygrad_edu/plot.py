"""Pictures of training: loss curves, decision boundaries, optimizer paths, schedules, moving averages.

matplotlib is an optional extra (``pip install matplotlib``, or ``.[plot]``). It is imported inside
each function, so ``import tinygrad_edu`` never needs it. Every ``plot_*`` function

* returns the matplotlib ``Figure``; in a notebook it shows once, as the cell's result (make
  the call the cell's last line, or ``display(fig)``): a figure made here is closed under the
  inline backend so that it is not shown a second time when the cell ends,
* draws into ``ax=`` when you give one (an ``Axes``), otherwise on a new figure,
* writes the picture to ``save=`` when you give a path (``.png``, ``.svg`` or ``.pdf``, by suffix);
  a path that cannot be written is refused before anything is drawn.

The numbers behind the pictures come from helpers that need numpy alone and return
arrays, so they can be checked and reused: ``optimizer_trajectory``,
``optimizer_trajectories``, ``decision_grid``, ``schedule_values`` and ``ema_curves``.

    from tinygrad_edu import plot
    fig = plot.plot_trajectories()                       # seed 002's four optimizers on x**2/20 + y**2
    fig = plot.plot_history(history, save="loss.png")    # History from train.fit, or a dict of them
"""

from __future__ import annotations

import errno
import functools
import math
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import _files, autograd, optim
from tinygrad_edu._config import enable_grad, no_grad
from tinygrad_edu.tensor import Tensor

PathLike = Union[str, Path]
INSTALL_HINT = "pip install matplotlib, or in a checkout: pip install -e '.[plot]'"

__all__ = [
    "FUNCTIONS",
    "SEED_002_OPTIMIZERS",
    "Surface",
    "decision_grid",
    "ema_curves",
    "optimizer_trajectories",
    "optimizer_trajectory",
    "plot_decision_boundary",
    "plot_ema",
    "plot_history",
    "plot_schedules",
    "plot_trajectories",
    "schedule_values",
    "gradient_flow",
]


# --- matplotlib, lazily ------------------------------------------------------------------


def _pyplot(where: str) -> Any:
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"tinygrad_edu.plot.{where} needs matplotlib, an optional extra; install it with: "
            f"{INSTALL_HINT}"
        ) from error
    return plt


def _figure_and_axes(
    where: str, ax: Any, nrows: int = 1, ncols: int = 1, figsize: Any = None
) -> tuple[Any, Any]:
    """The figure and a flat array of axes: the given ``ax`` or a new ``nrows x ncols`` grid."""
    plt = _pyplot(where)
    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) != nrows * ncols:
            raise ValueError(
                f"{where}: this picture needs {nrows * ncols} axes, got {len(axes)} in ax=; "
                "pass that many (for example from plt.subplots) or leave ax out"
            )
        return axes[0].figure, axes
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, constrained_layout=True)
    return fig, axes.ravel()


def _check_save(save: Optional[PathLike], where: str) -> None:
    """Refuse a ``save=`` path that cannot be written, before anything is drawn: a suffix other
    than .png, .svg or .pdf, or a folder on the way that is a file (in viz.render's words)."""
    if save is None:
        return
    path = Path(save)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(
            f"{where}: save={str(save)!r} must end in .png, .svg or .pdf (the format is the suffix)"
        )
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:  # the folders that exist on the way
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"{where}: cannot write {str(save)!r}: {str(folder)!r} is not a folder"
        )
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"{where}: cannot write {str(save)!r}: it is a folder")


def _save(fig: Any, save: Optional[PathLike], where: str) -> None:
    """Write the figure to ``save`` (format by suffix), creating the folder if needed.

    All or nothing: the picture is written to a temporary file that replaces ``save`` at the end.
    """
    if save is None:
        return
    _check_save(save, where)
    path = Path(save)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _files.atomic_path(path, where=where) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=120, bbox_inches="tight")


def _finish(fig: Any, ax: Any, save: Optional[PathLike], where: str) -> Any:
    """Save the figure if asked; in a notebook, hand a figure made here over to the cell's result.

    With the inline backend a pyplot figure is shown when the cell ends, and a Figure
    returned as the cell's last value is shown as well: twice. So a figure this module
    made itself (no ``ax=`` given) is closed there, and shows exactly once, as the
    returned value (or with ``display(fig)``). Elsewhere it stays open for ``plt.show()``.
    A figure made here whose save fails is closed too: the error is the result.
    """
    try:
        _save(fig, save, where)
    except BaseException:
        if ax is None:
            _pyplot(where).close(fig)
        raise
    if ax is None and "inline" in str(_pyplot(where).get_backend()).lower():
        _pyplot(where).close(fig)
    return fig


# --- loss and accuracy curves ------------------------------------------------------------


def _is_series(value: Any) -> bool:
    """A list/array of numbers (a metric's values), as opposed to a History or a dict."""
    if isinstance(value, (str, bytes, Mapping)) or hasattr(value, "history"):
        return False
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 1


def _as_curves(history: Any, where: str, per: str) -> tuple[dict[str, np.ndarray], Optional[np.ndarray]]:
    """A history's metric lists as arrays, and its x values (epoch numbers) when it has them."""
    if per == "step":
        steps = getattr(history, "steps", None)
        if not isinstance(steps, Mapping):
            raise TypeError(f"{where}: per='step' needs histories with a .steps dict (train.fit's History)")
        return {k: np.asarray(v, dtype=np.float64) for k, v in steps.items() if k != "epoch"}, None
    curves = getattr(history, "history", history)
    if not isinstance(curves, Mapping) or not all(_is_series(v) for v in curves.values()):
        raise TypeError(
            f"{where}: expected a History (anything with a .history dict of lists) or a dict of lists of "
            f"numbers, got {type(history).__name__}"
        )
    epochs = getattr(history, "epoch", None)
    epochs = None if epochs is None else np.asarray(epochs, dtype=np.float64)
    return {k: np.asarray(v, dtype=np.float64) for k, v in curves.items()}, epochs


def _histories(history_or_histories: Any, labels: Any, where: str) -> list[tuple[Optional[str], Any]]:
    """(label, history) pairs from one history, a list of them, or a dict name -> history."""
    h = history_or_histories
    if labels is not None:
        labels = [labels] if isinstance(labels, str) else list(labels)
    if hasattr(h, "history") or (isinstance(h, Mapping) and all(_is_series(v) for v in h.values())):
        if labels is not None and len(labels) != 1:
            raise ValueError(f"{where}: 1 history but {len(labels)} labels {labels}; give one label")
        return [(None if labels is None else str(labels[0]), h)]
    if isinstance(h, Mapping):
        names, items = [str(k) for k in h], list(h.values())
    elif isinstance(h, (list, tuple)):
        names, items = [f"run {i}" for i in range(len(h))], list(h)
    else:
        raise TypeError(
            f"{where}: expected a History, a dict of lists, a list of histories or a dict name -> history, "
            f"got {type(h).__name__}"
        )
    if not items:
        raise ValueError(f"{where}: got no histories")
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"{where}: {len(items)} histories but {len(labels)} labels {labels}")
        names = [str(label) for label in labels]
    return list(zip(names, items))


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _run_markers(i: int, n_runs: int, n_points: int) -> dict[str, Any]:
    """With several runs, run ``i`` gets a marker of its own, placed between the other runs' markers,
    so that curves lying on top of each other can still be told apart."""
    if n_runs < 2:
        return {}
    every = max(1, n_points // 10)
    return {
        "marker": MARKERS[i % len(MARKERS)],
        "markevery": ((i * every) // n_runs % every, every),
        "markersize": 5,
        "markerfacecolor": "none",
    }


def _span(curves: Sequence[np.ndarray]) -> float:
    """The range of the finite values of some curves: the height of their panel."""
    values = np.concatenate([np.ravel(c) for c in curves]) if curves else np.zeros(0)
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if finite.size else 0.0


def _coincide(a: np.ndarray, b: np.ndarray, span: float) -> bool:
    """Two curves a reader cannot tell apart: the same length, NaN (and inf) in the same places,
    and everywhere else within 0.5% of the panel's height ``span`` of each other. (A run that
    diverged to NaN is not hidden by one that goes on.)"""
    if len(a) != len(b) or len(a) == 0:
        return False
    odd = ~np.isfinite(a) | ~np.isfinite(b)
    if not np.all((a[odd] == b[odd]) | (np.isnan(a[odd]) & np.isnan(b[odd]))):
        return False
    if odd.all():
        return False
    gap = float(np.max(np.abs(a[~odd] - b[~odd])))
    return gap == 0.0 or gap <= 0.005 * span


def plot_history(
    history_or_histories: Any,
    metrics: Optional[Sequence[str]] = None,
    labels: Any = None,
    *,
    per: str = "epoch",
    validation: bool = True,
    title: Optional[str] = None,
    ax: Any = None,
    save: Optional[PathLike] = None,
) -> Any:
    """Loss / accuracy curves, one panel per metric; several histories are overlaid in each panel.

    Args:
        history_or_histories: a ``train.History`` (or anything with a ``.history`` dict of lists),
            a plain dict ``{"loss": [...], ...}``, or several of them as a list or a dict
            ``{"adam": history, "momentum": history}`` (the keys become the labels).
        metrics: the panels; default ``("loss", "accuracy")``, keeping those that some history has.
            A named metric that no history has is an error.
        labels: names for the histories, one per history (a list, or one string for a single
            history, which then has a legend with its name).
        per: ``"epoch"`` (the ``.history`` lists) or ``"step"`` (``History.steps``: loss and lr per update).
        validation: also draw ``"val_<metric>"`` (dashed, same colour) where present.

        ax: one Axes per shown metric (a single Axes when one metric is shown).

    With several histories each run has its own marker, set between the others' markers, and a
    curve that lies on another (within 0.5% of the panel's range) says so in the legend,
    ``"gd (on top of momentum)"``: no run disappears under another.
    """
    where = "plot_history"
    _check_save(save, where)
    if per not in ("epoch", "step"):
        raise ValueError(f"{where}: per must be 'epoch' or 'step', got {per!r}")
    pairs = _histories(history_or_histories, labels, where)
    runs = [(label, *_as_curves(h, where, per)) for label, h in pairs]
    available = sorted({k for _, curves, _ in runs for k in curves})
    if metrics is None:
        shown = [m for m in ("loss", "accuracy") if m in available]
        if not shown:
            raise ValueError(
                f"{where}: the histories have neither 'loss' nor 'accuracy'; they have {available}"
            )
    else:
        shown = [metrics] if isinstance(metrics, str) else list(metrics)
        missing = [m for m in shown if m not in available]
        if missing:
            raise ValueError(f"{where}: no history has {missing}; they have {available}")
    fig, axes = _figure_and_axes(where, ax, 1, len(shown), figsize=(5.0 * len(shown), 3.8))
    for panel, metric in zip(axes, shown):
        _history_panel(panel, runs, metric, validation)
        panel.set_xlabel(per)
        _whole_number_ticks(panel)
        panel.set_ylabel(metric)
        panel.set_title(metric if title is None else f"{title}: {metric}")
        panel.grid(True, alpha=0.3)
        if len(panel.get_lines()) > 1 or runs[0][0] is not None:  # (one labelled history: its name)
            panel.legend()
    return _finish(fig, ax, save, where)


def _whole_number_ticks(panel: Any) -> None:
    """Epochs and steps are counted: no tick at epoch 0.25 on a short history's x axis."""
    from matplotlib.ticker import MaxNLocator

    panel.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def _x_values(epochs: Any, n: int) -> np.ndarray:
    """A curve's x values: the history's epoch numbers (a resumed run's start at its
    ``initial_epoch``) when there is one per value, else 0..n-1."""
    return np.asarray(epochs, dtype=np.float64) if epochs is not None and len(epochs) == n else np.arange(n)


def _history_panel(panel: Any, runs: list, metric: str, validation: bool) -> None:
    """One metric of every run: its own colour and marker, a legend note on a curve hiding another."""
    drawn: list[tuple[str, np.ndarray]] = []  # (legend name, values) of the curves so far
    keys = (metric, f"val_{metric}") if validation else (metric,)
    span = _span([curves[k] for _, curves, _ in runs for k in keys if k in curves])
    for i, (label, curves, epochs) in enumerate(runs):
        for key, style in zip(keys, ("-", "--")):
            if key not in curves:
                continue
            values = curves[key]
            x = _x_values(epochs, len(values))
            name = key if label is None else (label if key == metric else f"{label} ({key})")
            under = [other for other, v in drawn if _coincide(v, values, span)]
            drawn.append((name, values))
            if under:
                name += f" (on top of {', '.join(under)})"
            markers = _run_markers(i, len(runs), len(values))
            panel.plot(x, values, style, color=f"C{i}", label=name, **markers)
            alone = _alone(np.asarray(values, dtype=np.float64))  # (one epoch: a dot, not nothing)
            if alone.any() and not markers:
                panel.plot(x[alone], np.asarray(values)[alone], "o", markersize=3, color=f"C{i}")


def _grad_norms(records: Any, where: str) -> dict[str, np.ndarray]:
    norms = getattr(records, "grad_norms", records)
    if not isinstance(norms, Mapping) or not all(_is_series(v) for v in norms.values()):
        raise TypeError(
            f"{where}: expected a History from fit(..., record_grad_norms=True) or a dict "
            f"parameter name -> per-epoch gradient norms, got {type(records).__name__}"
        )
    if not norms:
        raise ValueError(
            f"{where}: no gradient norms were recorded: train with fit(..., record_grad_norms=True)"
        )
    return {str(k): np.asarray(v, dtype=np.float64) for k, v in norms.items()}


def gradient_flow(
    history_or_records: Any,
    parameters: Optional[Sequence[str]] = None,
    *,
    log: bool = True,
    title: Optional[str] = None,
    ax: Any = None,
    save: Optional[PathLike] = None,
) -> Any:
    """Each layer's gradient norm ``||dL/dW||`` over training: vanishing and exploding gradients.

    One line per parameter (weights solid, biases dashed, one colour per layer), on a log
    scale by default: gradients that shrink by a factor at every layer towards the input
    (vanishing) lie in evenly spaced bands far below the last layer's; exploding ones grow.
    A norm of 0 (a dead layer) has no place on a log axis: it is a gap in its line and a
    marker at the bottom edge ("0 (not on a log axis)" in the legend), with a warning naming
    the parameter and the epochs; ``log=False`` draws a linear axis. The x values are the
    history's epoch numbers (a resumed run's go on from its ``initial_epoch``).

    Args:
        history_or_records: the ``History`` of ``fit(..., record_grad_norms=True)`` (its
            ``grad_norms``), or a dict ``{"0.weight": [norm per epoch], ...}``.
        parameters: the names to draw (default all, in the model's order).
    """
    where = "gradient_flow"
    _check_save(save, where)
    norms = _grad_norms(history_or_records, where)
    names = list(norms) if parameters is None else list(parameters)
    missing = [n for n in names if n not in norms]
    if missing:
        raise ValueError(f"{where}: no gradient norms for {missing}; recorded: {list(norms)}")
    epochs = getattr(history_or_records, "epoch", None)  # a resumed run's go on from initial_epoch
    fig, (panel,) = _figure_and_axes(where, ax, figsize=(6.5, 4.0))
    layers = list(dict.fromkeys(n.rsplit(".", 1)[0] for n in names))
    zeros_labelled = False
    for name in names:
        values = norms[name]
        x = _x_values(epochs, len(values))
        style = "--" if name.endswith("bias") else "-"
        color = f"C{layers.index(name.rsplit('.', 1)[0]) % 10}"
        zero = np.isfinite(values) & (values <= 0) if log else np.zeros(len(values), bool)
        drawn = np.where(zero, np.nan, values)
        panel.plot(x, drawn, style, color=color, label=name)
        alone = _alone(drawn)  # a norm with no neighbour to draw a line to: a dot, or it is not seen
        if alone.any():
            panel.plot(x[alone], drawn[alone], "o", markersize=3, color=color, label="_nolegend_")
        if zero.any():
            _mark_zero_norms(panel, name, x[zero], color, label=not zeros_labelled)
            zeros_labelled = True
    if log:
        panel.set_yscale("log")
    panel.set_xlabel("epoch")
    _whole_number_ticks(panel)
    panel.set_ylabel("gradient norm (mean over the epoch's steps)")
    panel.set_title("gradient flow" if title is None else title)
    panel.grid(True, alpha=0.3)
    panel.legend(fontsize="small", ncol=2 if len(names) > 6 else 1)
    return _finish(fig, ax, save, where)


def _alone(values: np.ndarray) -> np.ndarray:
    """Where a finite value has no finite neighbour: a line through it has no length to draw."""
    finite = np.isfinite(values)
    padded = np.concatenate([[False], finite, [False]])
    return finite & ~padded[:-2] & ~padded[2:]


ZERO_NORMS = "0 (not on a log axis)"
"""The legend's words for the markers of gradient norms of 0 on ``gradient_flow``'s log axis."""


def _mark_zero_norms(panel: Any, name: str, epochs: np.ndarray, color: str, label: bool) -> None:
    """Norms of 0 (or less) have no place on a log axis: a marker at its bottom edge for each, in the
    curve's colour, and a warning naming the parameter and the epochs."""
    panel.plot(
        epochs,
        np.zeros(len(epochs)),
        "v",
        color=color,
        transform=panel.get_xaxis_transform(),  # x in epochs, y in axes units: 0 is the bottom edge
        clip_on=False,
        label=ZERO_NORMS if label else "_nolegend_",
    )
    shown = ", ".join(str(int(e)) if float(e).is_integer() else str(e) for e in epochs[:10])
    shown = ("epoch " if len(epochs) == 1 else "epochs ") + shown
    shown += f" and {len(epochs) - 10} more" if len(epochs) > 10 else ""
    warnings.warn(
        f"gradient_flow: the gradient norm of {name} is 0 at {shown}; a log axis has no 0, "
        f"so it is drawn as a marker at the bottom edge ('{ZERO_NORMS}' in the legend); log=False "
        "draws a linear axis",
        UserWarning,
        stacklevel=3,
    )


# --- decision boundaries -----------------------------------------------------------------


def _predict(model: Any, points: np.ndarray, where: str, see_op: bool = False) -> tuple[np.ndarray, Any]:
    """The model's output on ``points`` (n, 2) as an ndarray, and the op that made it (None when
    none can be seen). A Module runs in eval mode, without grad, and every module inside gets its
    own training flag back; with ``see_op`` it also runs on two of the points to see that op
    (``_output_op``). A function's output shows its op when it is a Tensor with a graph."""
    from tinygrad_edu import nn
    from tinygrad_edu.train import _modes, _restore_modes

    op = None
    if isinstance(model, nn.Module):
        params = list(model.parameters())
        dtype = params[0].dtype if params else points.dtype
        modes = _modes(model)  # each module's own flag: a Dropout left in eval mode stays so
        model.eval()
        try:
            with no_grad():
                out = model(Tensor(points.astype(dtype)))
            if see_op:
                op = _output_op(model, points[:2].astype(dtype))
        finally:
            _restore_modes(modes)
    elif callable(model):
        out = model(points)
        op = out._ctx if isinstance(out, Tensor) else None
    else:
        raise TypeError(
            f"{where}: expected an nn.Module or a function of an (n, 2) array, got {type(model).__name__}"
        )
    return np.asarray(out.data if isinstance(out, Tensor) else out), op


def _output_op(model: Any, points: np.ndarray) -> Any:
    """The op that made a Module's output on a few ``points``, run with the graph recorded (the
    input requiring grad, so that frozen parameters record it too; no backward runs, no ``.grad``
    changes); None when none is recorded or the run raises (the output is then read by its values)."""
    try:
        with enable_grad():
            out = model(Tensor(points, requires_grad=True))
    except Exception:  # noqa: BLE001 (the run on the whole grid worked: only the op is not seen)
        return None
    return out._ctx if isinstance(out, Tensor) else None


OUTPUTS = ("auto", "probability", "logit")
"""How ``decision_grid`` reads one float output column (its ``output=`` argument)."""


def _check_output(output: Any, where: str) -> str:
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ValueError(f"{where}: output must be 'auto', 'probability' or 'logit', got {output!r}")
    return output


def _ends_in_probability(module: Any) -> bool:
    """Whether a module's output is a probability: its last module (inside nested Sequentials, past
    an Identity or a Dropout, which pass values on in eval mode) is a Sigmoid or a Softmax."""
    from tinygrad_edu import nn

    if isinstance(module, nn.Sequential):
        inner = [m for m in module if not isinstance(m, (nn.Identity, nn.Dropout))]
        return bool(inner) and _ends_in_probability(inner[-1])
    return isinstance(module, (nn.Sigmoid, nn.Softmax))


def _beneath_reshaping(op: Any) -> Any:
    """The op beneath any that only moves, picks, casts or clips values (``reshape``, ``[:, 0]``,
    ``Flatten``, ``.T``, ``astype``, ``clip(eps, 1 - eps)``): they keep probabilities probabilities."""
    from tinygrad_edu.ops.elementwise import Cast, Clip
    from tinygrad_edu.ops.shape import BroadcastTo, GetItem, Reshape, Transpose

    while isinstance(op, (Reshape, Transpose, GetItem, BroadcastTo, Cast, Clip)) and op.inputs:
        op = op.inputs[0]._ctx
    return op


def _auto_reading(model: Any, out: np.ndarray, op: Any, where: str) -> str:
    """How ``output="auto"`` reads one float column, ``"probability"`` or ``"logit"``:

    1. made by a Sigmoid or Softmax op (``op``, when it can be seen, or the op beneath a
       reshape, an index, a cast or a clip of its result): probabilities;
    2. some value outside [0, 1]: logits, whatever made them;
    3. all in [0, 1] (logits can lie there too), no such op seen: a function's plain array, and
       a Module ending in a Sigmoid or Softmax layer, are probabilities; any other output (a seen
       op's, a Module's) is logits, with a warning: their sigmoids all lie in [0.5, 0.731].
    """
    from tinygrad_edu import nn
    from tinygrad_edu.ops.elementwise import Sigmoid
    from tinygrad_edu.ops.nn import Softmax

    op = _beneath_reshaping(op)
    if isinstance(op, (Sigmoid, Softmax)):
        return "probability"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (all NaN: no min, no max)
        low, high = np.nanmin(out), np.nanmax(out)
    if low < 0 or high > 1:
        return "logit"
    if op is None and not isinstance(model, nn.Module):
        return "probability"  # a function's array: as documented, output="logit" says otherwise
    if op is None and _ends_in_probability(model):
        return "probability"
    if op is not None:
        cause = f"was made by {type(op).__name__}, not by a Sigmoid or Softmax"
    else:
        cause = (
            "the op that made it cannot be seen (no graph was recorded) and the module does not end in "
            "a Sigmoid or Softmax layer"
        )
    _, steps = autograd._outside_package(sys._getframe(0))
    warnings.warn(
        f"{where}: the model's output is in [0, 1] at every grid point and {cause}; it is read as "
        "logits, whose sigmoids (the probabilities used) all lie in [0.5, 0.731]. If it is a "
        "probability, pass output='probability'; output='logit' says it is logits",
        UserWarning,
        stacklevel=steps + 1,  # (1 is this function)
    )
    return "logit"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), written with tanh so that a large |z| does not overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _classes_and_probability(
    out: np.ndarray, n: int, threshold: float, where: str, output: str = "auto"
) -> tuple[np.ndarray, Any]:
    """Turn a model output into predicted classes and (binary models only) the probability of class 1.

    Several columns are per-class scores (the class is the argmax). One column is read as
    ``output`` says: ``"probability"``, ``"logit"`` (passed through the sigmoid), or ``"auto"``:
    integers/bools are classes (``decision_grid`` turns "auto" for one float column into one of
    the other two first, see ``_auto_reading``; left "auto", floats all in [0, 1] are probabilities,
    other floats logits).
    """
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape[:1] != (n,) or out.ndim > 2:
        raise ValueError(
            f"{where}: the model returned shape {out.shape} for {n} grid points; expected ({n},), "
            f"({n}, 1) or ({n}, n_classes)"
        )
    if out.ndim == 2:
        if threshold != 0.5:
            raise ValueError(
                f"{where}: threshold={threshold!r} applies to one output column, and the model returned "
                f"{out.shape[1]} per point (the class is their argmax); leave threshold out"
            )
        return np.argmax(out, axis=1), None
    if output == "auto" and out.dtype.kind in "biu":
        return out.astype(np.int64), None
    prob = out.astype(np.float64)
    outside = bool(np.nanmin(prob) < 0 or np.nanmax(prob) > 1)
    if output == "probability" and outside:
        raise ValueError(
            f"{where}: output='probability' but the model returned values from {np.nanmin(prob):.4g} to "
            f"{np.nanmax(prob):.4g}, outside [0, 1]; if they are logits, pass output='logit'"
        )
    if output == "logit" or (output == "auto" and outside):
        prob = _sigmoid(prob)
    return (prob > threshold).astype(np.int64), prob


def decision_grid(
    model: Any,
    X: Any,
    resolution: int = 200,
    margin: float = 1.0,
    threshold: float = 0.5,
    output: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Evaluate a 2-D classifier on a grid covering the data: ``(xx, yy, classes, probability)``.

    The grid spans each feature's range widened by ``margin`` (the course uses 1) with
    ``resolution`` points per axis; ``classes`` has the grid's shape, ``probability`` too for a
    binary model with one output column (else None). ``model`` is an ``nn.Module`` or a function
    of an ``(n, 2)`` ndarray.

    ``output`` says what one float output column is: ``"probability"``, ``"logit"``, or
    ``"auto"``, which looks at the op that made the output: a probability when it is a Sigmoid or
    a Softmax (``x.sigmoid()``, ``nn.Sigmoid``, in any Module or in the Tensor a function returns;
    a Module is run once more on two points, with the graph recorded, to see it), and a logit when
    some value is outside [0, 1] (the course's BCEWithLogits networks end in Linear). Values all
    in [0, 1] without a Sigmoid or Softmax op to be seen could be either: a function's plain array
    is read as probabilities (a function returning logits should say ``output="logit"``), any
    other output as logits, and then a warning says so (their sigmoids are all at least 0.5).
    """
    return _decision_grid(model, X, resolution, margin, threshold, output, "decision_grid")


def _decision_grid(
    model: Any, X: Any, resolution: int, margin: float, threshold: float, output: str, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]:
    output = _check_output(output, where)
    X = _points(X, where)
    _check_threshold(threshold, where)
    if not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"{where}: resolution must be an int >= 2, got {resolution!r}")
    (x_min, y_min), (x_max, y_max) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    out, op = _predict(model, grid, where, see_op=output == "auto")
    _check_prediction(out, len(grid), where)
    one_column = out.shape in ((len(grid),), (len(grid), 1))
    if output == "auto" and out.dtype.kind == "f" and one_column and _whole_classes(out):
        out = out.astype(np.int64)  # np.sign's -1.0 / 1.0, or float labels 0, 1, 2: classes
    if output == "auto" and out.dtype.kind == "f" and one_column:
        output = _auto_reading(model, out, op, where)
    classes, prob = _classes_and_probability(out, len(grid), threshold, where, output)
    return xx, yy, classes.reshape(xx.shape), None if prob is None else prob.reshape(xx.shape)


def _check_threshold(threshold: Any, where: str) -> None:
    """The probability of class 1 above which a point is class 1: a number strictly between 0 and 1."""
    number = isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool)
    if not (number and 0 < threshold < 1):
        raise ValueError(
            f"{where}: threshold must be a number between 0 and 1 (a probability of class 1, also for "
            f"logits: they pass through the sigmoid first), got {threshold!r}"
        )


def _check_prediction(out: np.ndarray, n: int, where: str) -> None:
    """The model's output on the grid: numbers, without NaN (a NaN has no class, and read as one it
    would paint a diverged model's plane in the colour of class 0)."""
    if out.dtype.kind not in "biuf":
        kind = {"U": "strings", "S": "bytes", "O": "Python objects"}.get(out.dtype.kind, "values")
        raise TypeError(
            f"{where}: the model returned {kind} (dtype {out.dtype}, shape {out.shape}); expected "
            "numbers: classes, probabilities, logits or (n, C) scores"
        )
    if out.dtype.kind == "f" and out.size and np.isnan(out).any():
        bad = int(np.isnan(out.reshape(len(out), -1)).any(axis=1).sum())
        raise ValueError(
            f"{where}: the model returned NaN at {bad} of {n} grid points, so they have no class to "
            "draw; a model whose training diverged returns NaN (see its loss history)"
        )


def _whole_classes(out: np.ndarray) -> bool:
    """Whether one float column holds class labels rather than probabilities or logits: at most 20
    distinct values, all finite whole numbers (logits of ±inf are not), some outside [0, 1] (a 0/1
    column reads the same either way)."""
    values = np.unique(out)
    whole = len(values) <= 20 and bool(np.all(np.isfinite(values) & (values == np.round(values))))
    return whole and (values[0] < 0 or values[-1] > 1)


def _points(X: Any, where: str) -> np.ndarray:
    """``X`` as an ``(n, 2)`` float64 array of finite points (a NaN would make the grid, and so
    the picture, empty)."""
    X = np.asarray(X.data if isinstance(X, Tensor) else X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        hint = " (samples are rows: pass X.T)" if X.ndim == 2 and X.shape[0] == 2 else ""
        hint = " (no points: X is empty)" if X.size == 0 else hint
        raise ValueError(f"{where}: X must have shape (n_samples, 2), got {X.shape}{hint}")
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        raise ValueError(
            f"{where}: X has {bad.size} rows with NaN or inf, the first row {bad[0]}: {X[bad[0]].tolist()}; "
            "drop or fill them first (e.g. X[np.isfinite(X).all(axis=1)])"
        )
    return X


def plot_decision_boundary(
    predict_fn_or_model: Any,
    X: Any,
    y: Any,
    *,
    fill: str = "class",
    resolution: int = 200,
    margin: float = 1.0,
    threshold: float = 0.5,
    output: str = "auto",
    cmap: str = "Spectral",
    title: Optional[str] = None,
    ax: Any = None,
    save: Optional[PathLike] = None,
) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data points coloured by label.

    The course's ``plot_decision_boundary`` (with samples as rows): the predicted class on a grid
    as filled contours, then ``X`` scattered with colour ``y``, in the same colour map.
    ``fill="probability"`` shades a binary model's probability of class 1 instead, with the
    ``threshold`` contour drawn as a black line.

    Args:
        predict_fn_or_model: an ``nn.Module`` (run in eval mode, without grad) or a function
            ``(n, 2) ndarray -> classes, probabilities, logits or (n, C) scores``.
        X: ``(n, 2)`` points; y: ``n`` integer labels (any shape with n entries).
        output: how one float output column is read, ``"auto"``, ``"probability"`` or
            ``"logit"`` (see ``decision_grid``); a function returning logits should say ``"logit"``.
    """
    where = "plot_decision_boundary"
    _check_save(save, where)
    if fill not in ("class", "probability"):
        raise ValueError(f"{where}: fill must be 'class' or 'probability', got {fill!r}")
    output = _check_output(output, where)
    X = _points(X, where)
    y = _labels(y, len(X), where)
    model = predict_fn_or_model
    xx, yy, classes, prob = _decision_grid(model, X, resolution, margin, threshold, output, where)
    if fill == "probability" and prob is None:
        raise ValueError(f"{where}: fill='probability' needs a binary model with one output column")
    shown = classes if fill == "class" else None
    present = _places(shown, y)
    fig, (panel,) = _figure_and_axes(where, ax, figsize=(5.5, 4.5))
    _draw_regions(panel, (xx, yy, shown, prob), present, threshold, cmap)
    _draw_points(panel, X, y, present, cmap)
    panel.set_xlabel("x1")
    panel.set_ylabel("x2")
    if title is not None:
        panel.set_title(title)
    return _finish(fig, ax, save, where)


def _labels(y: Any, n: int, where: str) -> np.ndarray:
    """``y`` as ``n`` class labels (whole numbers or bools, any shape with n entries), or a clear error:
    a string or a fraction has no colour place beside the predicted classes."""
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.ndim == 2 and y.shape[0] == n and y.shape[1] > 1:
        raise ValueError(
            f"{where}: y has shape {y.shape}, {y.shape[1]} columns per point; expected one label per point "
            "(for one-hot labels, pass y.argmax(axis=1))"
        )
    y = y.ravel()
    if len(y) != n:
        raise ValueError(f"{where}: X has {n} points but y has {len(y)} labels")
    if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.all(y == np.round(y))):
        raise TypeError(
            f"{where}: y must hold class labels, whole numbers such as 0 and 1 (or -1 and 1); got dtype "
            f"{y.dtype}, e.g. {y[:3].tolist()}"
        )
    return y


def _places(classes: Optional[np.ndarray], y: np.ndarray) -> np.ndarray:
    """The classes that get a colour, sorted: every class present, predicted or a label, takes a
    place 0..k-1, so that its region and its points share one colour whatever the labels are
    (-1/+1, 1..3, a class never predicted). Over a probability (``classes`` None), the labels'
    own: two labels take the colours of probability 0 and 1."""
    return np.unique(y) if classes is None else np.union1d(np.unique(classes), np.unique(y))


def _draw_regions(panel: Any, grid: tuple, present: np.ndarray, threshold: float, cmap: str) -> None:
    """``grid`` is ``(xx, yy, classes, prob)``: the classes as filled contours, one band per place in
    ``present``; or, with ``classes`` None, the probability of class 1 shaded, the ``threshold``
    contour in black."""
    xx, yy, classes, prob = grid
    if classes is None:
        panel.contourf(xx, yy, prob, levels=np.linspace(0, 1, 11), cmap=cmap, vmin=0, vmax=1, alpha=0.8)
        panel.contour(xx, yy, prob, levels=[threshold], colors="k", linewidths=1.0)
        return
    levels = np.arange(len(present) + 1) - 0.5
    vmax = max(len(present) - 1, 1)
    panel.contourf(xx, yy, np.searchsorted(present, classes), levels=levels, cmap=cmap, vmin=0, vmax=vmax)


def _draw_points(panel: Any, X: np.ndarray, y: np.ndarray, present: np.ndarray, cmap: str) -> None:
    """The data points, each in the colour of its label's place (that of its class's region)."""
    colour = {"cmap": cmap, "vmin": 0, "vmax": max(len(present) - 1, 1)}
    labels = np.searchsorted(present, y)
    panel.scatter(X[:, 0], X[:, 1], c=labels, edgecolors="k", linewidths=0.4, s=18, **colour)


# --- optimizer trajectories on a 2-D function --------------------------------------------


class Surface:
    """A named 2-D test function: ``f(x, y)``, the window to draw, its minimum and contour levels."""

    def __init__(
        self,
        f: Callable[[Any, Any], Any],
        xlim: tuple[float, float],
        ylim: tuple[float, float],
        minimum: tuple[float, float],
        levels: Any,
    ) -> None:
        self.f, self.xlim, self.ylim, self.minimum, self.levels = f, xlim, ylim, minimum, levels

    def __call__(self, x: Any, y: Any) -> Any:
        return self.f(x, y)


FUNCTIONS: dict[str, Surface] = {
    # seed 002: long in x, steep in y; its minimum (0, 0) is where plain SGD zig-zags towards.
    "elongated_bowl": Surface(
        lambda x, y: x**2 / 20.0 + y**2,
        (-10.0, 10.0),
        (-10.0, 10.0),
        (0.0, 0.0),
        [0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    ),
    "bowl": Surface(
        lambda x, y: x**2 + y**2,
        (-10.0, 10.0),
        (-10.0, 10.0),
        (0.0, 0.0),
        [1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0, 64.0],
    ),
    "rosenbrock": Surface(
        lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2,
        (-2.0, 2.0),
        (-1.0, 3.0),
        (1.0, 1.0),
        np.logspace(-1, 3, 12),
    ),
}

# Seed 002's comparison (the settings of "Deep Learning from Scratch", chapter 6): 30 steps from
# (-7, 2). Each entry maps its name to a factory ``params -> optimizer`` with the same update rule:
# * SGD: p -= 0.95 * g.
# * Momentum, there v = 0.9 * v - 0.1 * g; p += v. That is exactly PyTorch's form
#   SGD(lr=0.1, momentum=0.9) (its buffer b = 0.9 * b + g is -v / 0.1), and equally the course's
#   Momentum(lr=1.0, beta=0.9) (v = 0.9 v + 0.1 g; p -= 1.0 * v). Same path, three spellings.
# * AdaGrad: h += g * g; p -= 1.5 * g / (sqrt(h) + 1e-7)  ->  Adagrad(lr=1.5, eps=1e-7).
# * Adam: Kingma & Ba's efficient form with eps 1e-7  ->  Adam(lr=0.3, eps=1e-7, eps_mode="hat").
SEED_002_OPTIMIZERS: dict[str, Callable[[list], Any]] = {
    "SGD": functools.partial(optim.SGD, lr=0.95),
    "Momentum": functools.partial(optim.SGD, lr=0.1, momentum=0.9),
    "AdaGrad": functools.partial(optim.Adagrad, lr=1.5, eps=1e-7),
    "Adam": functools.partial(optim.Adam, lr=0.3, eps=1e-7, eps_mode="hat"),
}


def _surface(f_or_name: Any, where: str) -> Callable[[Any, Any], Any]:
    if isinstance(f_or_name, str):
        if f_or_name not in FUNCTIONS:
            raise ValueError(
                f"{where}: unknown function {f_or_name!r}; the named ones are {sorted(FUNCTIONS)}"
            )
        return FUNCTIONS[f_or_name]
    if not callable(f_or_name):
        raise TypeError(
            f"{where}: expected a function f(x, y) or a name in {sorted(FUNCTIONS)}, "
            f"got {type(f_or_name).__name__}"
        )
    return f_or_name


def optimizer_trajectory(
    f: Any, optimizer_factory: Callable[[list], Any], start: Sequence[float] = (-7.0, 2.0), steps: int = 30
) -> np.ndarray:
    """The points an optimizer visits minimising ``f(x, y)``: an array of shape ``(steps + 1, 2)``.

    The point is one 2-element float64 parameter ``p``; each step is the usual loop
    ``zero_grad(); f(p[0], p[1]).backward(); step()``, so the gradient comes from autodiff and
    the update from the real optimizer. Row 0 is ``start``, row ``k`` the point after ``k`` steps.

    Args:
        f: a function of two scalar Tensors returning a scalar Tensor (operators and Tensor
            methods both work), or a name in ``FUNCTIONS`` (default picture: ``"elongated_bowl"``).
        optimizer_factory: ``params -> optimizer``, e.g. ``functools.partial(optim.Adam, lr=0.3)``
            or ``lambda ps: optim.SGD(ps, lr=0.95)``.
    """
    where = "optimizer_trajectory"
    f = _surface(f, where)
    start_arr = np.asarray(start, dtype=np.float64)
    if start_arr.shape != (2,) or not np.all(np.isfinite(start_arr)):
        raise ValueError(f"{where}: start must be two finite numbers (x, y), got {start!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"{where}: steps must be an int >= 0, got {steps!r}")
    p = Tensor(start_arr.copy(), requires_grad=True, name="p")
    optimizer = optimizer_factory([p])
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
        raise TypeError(
            f"{where}: optimizer_factory([p]) returned {type(optimizer).__name__}; expected an optimizer"
        )
    path = np.full((steps + 1, 2), np.nan)
    path[0] = p.data
    for k in range(1, steps + 1):
        optimizer.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # (a diverging path is named below)
            loss = f(p[0], p[1])
            if not isinstance(loss, Tensor) or loss.size != 1:
                shape = loss.shape if isinstance(loss, Tensor) else type(loss).__name__
                raise TypeError(f"{where}: f(x, y) must return a scalar Tensor, got {shape}")
            loss.backward()
            optimizer.step()
        path[k] = p.data
        if not np.all(np.isfinite(p.data)):
            _warn_diverged(where, type(optimizer).__name__, k, path[k - 1])
            break
    return path


def _warn_diverged(where: str, optimizer: str, k: int, last: np.ndarray) -> None:
    """A path that left the finite numbers: say at which step, from where; its later rows are NaN."""
    _, steps = autograd._outside_package(sys._getframe(0))
    warnings.warn(
        f"{where}: {optimizer}'s path diverged: step {k} left the finite numbers, from the point "
        f"({last[0]:.4g}, {last[1]:.4g}); rows {k} and after are NaN. A smaller lr keeps it finite",
        UserWarning,
        stacklevel=steps + 1,
    )


def optimizer_trajectories(
    f: Any = "elongated_bowl",
    optimizers: Optional[Mapping[str, Callable[[list], Any]]] = None,
    start: Sequence[float] = (-7.0, 2.0),
    steps: int = 30,
) -> dict[str, np.ndarray]:
    """``optimizer_trajectory`` for each ``name -> factory`` (default: seed 002's four)."""
    optimizers = SEED_002_OPTIMIZERS if optimizers is None else optimizers
    return {name: optimizer_trajectory(f, make, start, steps) for name, make in optimizers.items()}


def _evaluate_on_grid(f: Callable[[Any, Any], Any], xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """f on a meshgrid, through Tensors (so functions written with Tensor methods work too)."""
    with no_grad():
        z = f(Tensor(xx), Tensor(yy))
    return np.asarray(z.data if isinstance(z, Tensor) else z, dtype=np.float64)


WINDOW_LIMIT = 1e6
"""For a function of one's own, ``plot_trajectories``' window covers the points of the paths within
this distance of 0 on each axis: a diverging path's 1e300 would leave no picture to see."""


def plot_trajectories(
    f_or_name: Any = "elongated_bowl",
    optimizers: Optional[Mapping[str, Callable[[list], Any]]] = None,
    start: Sequence[float] = (-7.0, 2.0),
    steps: int = 30,
    *,
    overlay: bool = False,
    xlim: Optional[tuple[float, float]] = None,
    ylim: Optional[tuple[float, float]] = None,
    levels: Any = None,
    resolution: int = 300,
    ax: Any = None,
    save: Optional[PathLike] = None,
) -> Any:
    """Optimizer paths over the contour plot of a 2-D function; seed 002's figure by default.

    One panel per optimizer (a 2-column grid, as in the seed), each with the contours of ``f``,
    the path as red dots joined by lines and a ``+`` at the minimum; ``overlay=True`` draws every
    path in one panel in its own colour. The numbers are ``optimizer_trajectories(...)``.

    Args:
        f_or_name: ``f(x, y)`` (scalar Tensors in, scalar Tensor out) or a name in ``FUNCTIONS``.
        optimizers: ``name -> factory(params)``; default ``SEED_002_OPTIMIZERS``.
        xlim, ylim, levels: the window and contour levels (defaults from a named function;
            for your own ``f``, the range of the paths within ``WINDOW_LIMIT`` plus a margin,
            and 12 levels).
        ax: one Axes per optimizer (one Axes with ``overlay=True``).
    """
    where = "plot_trajectories"
    _check_save(save, where)
    f = _surface(f_or_name, where)
    paths = optimizer_trajectories(f, optimizers, start, steps)
    if not paths:
        raise ValueError(f"{where}: optimizers is empty")
    if xlim is None or ylim is None:
        if isinstance(f, Surface):
            auto_x, auto_y = f.xlim, f.ylim
        else:
            pts = np.concatenate([p[np.all(np.abs(p) < WINDOW_LIMIT, axis=1)] for p in paths.values()])
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            pad = np.maximum(0.2 * (hi - lo), 1.0)
            auto_x, auto_y = (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])
        xlim, ylim = xlim or auto_x, ylim or auto_y
    if levels is None:
        levels = f.levels if isinstance(f, Surface) else 12
    xx, yy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    zz = _evaluate_on_grid(f, xx, yy)
    n = 1 if overlay else len(paths)
    ncols = min(n, 2)
    nrows = math.ceil(n / ncols)
    fig, axes = _figure_and_axes(where, ax, nrows, ncols, figsize=(5.0 * ncols, 4.2 * nrows))
    panels = [axes[0]] * len(paths) if overlay else list(axes[: len(paths)])
    for extra in axes[len(paths) :] if not overlay else []:
        extra.set_visible(False)
    for panel in dict.fromkeys(panels):  # each distinct panel once
        panel.contour(xx, yy, zz, levels=levels, cmap="viridis", linewidths=0.8)
        if isinstance(f, Surface):
            panel.plot(*f.minimum, "+", color="k", markersize=10, label="_minimum")
        panel.set_xlim(*xlim)
        panel.set_ylim(*ylim)
        panel.set_xlabel("x")
        panel.set_ylabel("y")
    for i, (panel, (name, path)) in enumerate(zip(panels, paths.items())):
        color = f"C{i}" if overlay else "red"
        panel.plot(path[:, 0], path[:, 1], "o-", color=color, markersize=3, linewidth=1, label=name)
        if not overlay:
            panel.set_title(name)
    if overlay:
        axes[0].legend()
    return _finish(fig, ax, save, where)


# --- learning-rate schedules -------------------------------------------------------------


def _steps(steps: Any, where: str) -> np.ndarray:
    """``steps`` as an int64 array: an int n is 0..n-1 (n >= 1); an array of steps must be 1-D,
    not empty, of whole numbers >= 0 (a schedule counts updates; 1.5 is none of them)."""
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool):
        if steps < 1:
            raise ValueError(
                f"{where}: steps must be an int >= 1 (steps 0..n-1) or an array of steps, got {steps}"
            )
        return np.arange(int(steps))
    array = np.asarray(steps)
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise ValueError(
            f"{where}: steps must be an int n (steps 0..n-1) or a 1-D array of integer steps, got "
            f"shape {array.shape} of {array.dtype}"
        )
    if array.size == 0:
        raise ValueError(f"{where}: got no steps (an empty array); pass an int n or some steps")
    whole = np.isfinite(array) & (array == np.round(array))
    if not whole.all():
        i = int(np.argmin(whole))
        raise ValueError(f"{where}: steps must be whole numbers; got {array[i]} (at index {i})")
    if (array < 0).any():
        i = int(np.argmax(array < 0))
        raise ValueError(f"{where}: steps must be >= 0; got {array[i]:g} (at index {i})")
    return array.astype(np.int64)


def schedule_values(schedule: Callable[[Any], Any], steps: Any) -> np.ndarray:
    """A schedule's learning rate at each step (``steps`` an int n >= 1 for 0..n-1, or a 1-D array
    of whole-number steps >= 0).

    The library's schedules take the whole array at once; any other callable ``step -> lr`` is
    called once per step.
    """
    where = "schedule_values"
    if not callable(schedule):
        raise TypeError(
            f"{where}: expected a schedule (a callable step -> lr), got {type(schedule).__name__}"
        )
    steps = _steps(steps, where)
    if isinstance(schedule, optim.schedules.LearningRateSchedule):
        return np.asarray(schedule(steps), dtype=np.float64)
    return np.array([float(schedule(int(s))) for s in steps], dtype=np.float64)


def plot_schedules(
    schedules: Any,
    steps: Any = 100,
    *,
    logy: bool = False,
    title: Optional[str] = None,
    ax: Any = None,
    save: Optional[PathLike] = None,
) -> Any:
    """Learning rate against step, one line per schedule.

    Args:
        schedules: a dict ``label -> schedule`` (or one schedule); a schedule is any callable
            ``step -> lr``, e.g. ``optim.schedules.ExponentialDecay(0.1, 10, 0.5)``.
        steps: an int n >= 1 (steps 0..n-1) or a 1-D array of whole-number steps >= 0, checked
            as ``schedule_values`` checks them, before anything is drawn.
    """
    where = "plot_schedules"
    _check_save(save, where)
    if not isinstance(schedules, Mapping):
        schedules = {repr(schedules): schedules}
    if not schedules:
        raise ValueError(f"{where}: schedules is empty")
    steps = _steps(steps, where)
    fig, (panel,) = _figure_and_axes(where, ax, figsize=(6.5, 4.0))
    for label, schedule in schedules.items():
        panel.plot(steps, schedule_values(schedule, steps), label=str(label))
    panel.set_xlabel("step")
    panel.set_ylabel("learning rate")
    if logy:
        panel.set_yscale("log")
    panel.grid(True, alpha=0.3)
    panel.legend()
    if title is not None:
        panel.set_title(title)
    return _finish(fig, ax, save, where)


# --- exponentially weighted averages -----------------------------------------------------


def ema_curves(
    series: Any, betas: Sequence[float] = (0.5, 0.9, 0.98), bias_correction: bool = True, start: str = "zero"
) -> dict[float, np.ndarray]:
    """``beta -> smoothed series``, by ``optim.ExponentialMovingAverage``: ``v_t = b v_{t-1} + (1 - b) x_t``.

    ``start="zero"`` begins at ``v_0 = 0`` (then ``bias_correction`` divides by ``1 - beta**t``);
    ``start="first"`` begins at ``v_1 = x_1`` (seed 001's ``S1 = Y1``; no correction).
    """
    values = np.asarray(series, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(
            f"ema_curves: series must be a non-empty 1-D sequence of numbers, got shape {values.shape}"
        )
    return {
        beta: optim.ExponentialMovingAverage(beta, bias_correction=bias_correction, start=start).smooth(
            values
        )
        for beta in betas
    }


# The colours of seed 001's figure: red beta=0.9, green 0.98, yellow 0.5.
_EMA_COLORS = {0.9: "red", 0.98: "green", 0.5: "gold"}
# For any other beta, in turn: each far (in RGB) from those, from the data's blue and from each other.
_EMA_SPARE_COLORS = ("purple", "black", "deeppink", "saddlebrown", "gray", "lime", "navy")


def _ema_colors(betas: Sequence[float]) -> dict[float, str]:
    """beta -> its colour: seed 001's for 0.5, 0.9 and 0.98, the next spare colour for any other
    (after seven others, the spare colours come round again)."""
    spare = iter(_EMA_SPARE_COLORS * (1 + len(betas) // len(_EMA_SPARE_COLORS)))
    return {float(b): _EMA_COLORS.get(float(b)) or next(spare) for b in dict.fromkeys(map(float, betas))}


def plot_ema(
    series: Any,
    betas: Sequence[float] = (0.5, 0.9, 0.98),
    bias_correction: Union[bool, str] = True,
    *,
    start: str = "zero",
    x: Any = None,
    xlabel: str = "day",
    ylabel: str = "temperature",
    title: Optional[str] = None,
    ax: Any = None,
    save: Optional[PathLike] = None,
) -> Any:
    """A noisy series as dots with its exponentially weighted averages for several ``beta`` (seed 001).

    Larger ``beta`` averages over about ``1 / (1 - beta)`` values: smoother and later.
    ``bias_correction=True`` divides by ``1 - beta**t`` (the curves start at the data);
    ``False`` shows the raw average, which starts near 0; ``"both"`` draws the corrected curves
    solid and the raw ones dashed, the lecture's picture of why the correction exists.
    ``start="first"`` uses ``S1 = Y1`` instead (needs ``bias_correction=False``).
    """
    where = "plot_ema"
    _check_save(save, where)
    if bias_correction not in (True, False, "both"):
        raise ValueError(f"{where}: bias_correction must be True, False or 'both', got {bias_correction!r}")
    values = np.asarray(series, dtype=np.float64)
    variants = [(True, "-"), (False, "--")] if bias_correction == "both" else [(bool(bias_correction), "-")]
    curves = [(corr, style, ema_curves(values, betas, corr, start)) for corr, style in variants]
    x = np.arange(1, len(values) + 1) if x is None else np.asarray(x)
    if x.shape != values.shape:
        raise ValueError(f"{where}: x has shape {x.shape} but the series has shape {values.shape}")
    fig, (panel,) = _figure_and_axes(where, ax, figsize=(8.0, 4.5))
    panel.scatter(x, values, s=6, color="tab:blue", alpha=0.6, label="data")
    colors = _ema_colors(betas)
    for corr, style, smoothed in curves:
        for beta, curve in smoothed.items():
            color = colors[float(beta)]
            label = f"beta = {beta}"
            if bias_correction == "both":
                label += ", bias-corrected" if corr else ", no correction"
            panel.plot(x, curve, style, color=color, linewidth=1.5, label=label)
    panel.set_xlabel(xlabel)
    panel.set_ylabel(ylabel)
    panel.legend()
    if title is not None:
        panel.set_title(title)
    return _finish(fig, ax, save, where)
