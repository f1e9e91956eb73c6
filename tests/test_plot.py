"""tinygrad_edu.plot: the pictures' structure, the numbers behind them, and the three plotting examples.

Expected numbers are written out by hand here (the optimizers' update rules as plain numpy,
the moving-average recurrence as a loop), never computed with the code under test.
"""

from __future__ import annotations

import builtins
import functools
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tinygrad_edu import nn, optim, plot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _saved(fig: Figure, tmp_path: Path, fn, *args, **kwargs) -> None:
    """Call a plot function with save= for PNG and SVG and check both files are written."""
    for suffix in (".png", ".svg"):
        path = tmp_path / f"picture{suffix}"
        fn(*args, **kwargs, save=path)
        assert path.exists() and path.stat().st_size > 0
    head = (tmp_path / "picture.png").read_bytes()[:8]
    assert head == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "picture.svg").read_bytes()[:2000]


# --- the update rules of seed 002, written out -------------------------------------------


def grad_f(p: np.ndarray) -> np.ndarray:
    """Gradient of f(x, y) = x**2 / 20 + y**2, by hand."""
    return np.array([p[0] / 10.0, 2.0 * p[1]])


def numpy_sgd(start, lr, steps):
    p, path = np.array(start, dtype=float), [np.array(start, dtype=float)]
    for _ in range(steps):
        p = p - lr * grad_f(p)
        path.append(p.copy())
    return np.array(path)


def numpy_dlfs_momentum(start, lr, momentum, steps):
    """Deep Learning from Scratch's form: v = momentum * v - lr * g; p += v."""
    p, v, path = np.array(start, dtype=float), np.zeros(2), [np.array(start, dtype=float)]
    for _ in range(steps):
        v = momentum * v - lr * grad_f(p)
        p = p + v
        path.append(p.copy())
    return np.array(path)


def numpy_adagrad(start, lr, steps, eps=1e-7):
    p, h, path = np.array(start, dtype=float), np.zeros(2), [np.array(start, dtype=float)]
    for _ in range(steps):
        g = grad_f(p)
        h = h + g * g
        p = p - lr * g / (np.sqrt(h) + eps)
        path.append(p.copy())
    return np.array(path)


def numpy_adam(start, lr, steps, b1=0.9, b2=0.999, eps=1e-8):
    """PyTorch's Adam (eps outside the square root of the bias-corrected v)."""
    p, m, v, path = np.array(start, dtype=float), np.zeros(2), np.zeros(2), [np.array(start, dtype=float)]
    for t in range(1, steps + 1):
        g = grad_f(p)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        path.append(p.copy())
    return np.array(path)


def numpy_dlfs_adam(start, lr, steps, b1=0.9, b2=0.999):
    """Seed 002's Adam class: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); p -= lr_t m / (sqrt(v) + 1e-7)."""
    p, m, v, path = np.array(start, dtype=float), np.zeros(2), np.zeros(2), [np.array(start, dtype=float)]
    for t in range(1, steps + 1):
        g = grad_f(p)
        lr_t = lr * np.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        m += (1 - b1) * (g - m)
        v += (1 - b2) * (g**2 - v)
        p = p - lr_t * m / (np.sqrt(v) + 1e-7)
        path.append(p.copy())
    return np.array(path)


def bowl(x, y):
    return x**2 / 20.0 + y**2


def test_sgd_trajectory_equals_the_numpy_loop() -> None:
    path = plot.optimizer_trajectory(bowl, functools.partial(optim.SGD, lr=0.95), (-7.0, 2.0), 30)
    assert path.shape == (31, 2)
    np.testing.assert_allclose(path, numpy_sgd((-7.0, 2.0), 0.95, 30), rtol=1e-12, atol=1e-14)


def test_adam_trajectory_equals_the_numpy_loop() -> None:
    path = plot.optimizer_trajectory(bowl, lambda ps: optim.Adam(ps, lr=0.3), (-7.0, 2.0), 30)
    np.testing.assert_allclose(path, numpy_adam((-7.0, 2.0), 0.3, 30), rtol=1e-12, atol=1e-14)


def test_seed_002_settings_reproduce_the_seed_update_rules() -> None:
    paths = plot.optimizer_trajectories()  # the named function and seed 002's four optimizers
    assert list(paths) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    start = (-7.0, 2.0)
    np.testing.assert_allclose(paths["SGD"], numpy_sgd(start, 0.95, 30), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        paths["Momentum"], numpy_dlfs_momentum(start, 0.1, 0.9, 30), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(paths["AdaGrad"], numpy_adagrad(start, 1.5, 30), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(paths["Adam"], numpy_dlfs_adam(start, 0.3, 30), rtol=1e-12, atol=1e-14)


def test_course_momentum_is_the_same_path_as_dlfs_momentum() -> None:
    path = plot.optimizer_trajectory("elongated_bowl", lambda ps: optim.Momentum(ps, lr=1.0, beta=0.9))
    np.testing.assert_allclose(path, numpy_dlfs_momentum((-7.0, 2.0), 0.1, 0.9, 30), rtol=1e-10, atol=1e-12)


def test_trajectory_works_with_tensor_methods_and_zero_steps() -> None:
    path = plot.optimizer_trajectory(
        lambda x, y: (x * x).tanh() + (y * y).exp(), functools.partial(optim.SGD, lr=0.1), (0.5, 0.5), 3
    )
    assert path.shape == (4, 2) and np.all(np.abs(path[-1]) < 0.5)
    assert plot.optimizer_trajectory(bowl, functools.partial(optim.SGD, lr=0.1), (1.0, 2.0), 0).tolist() == [
        [1.0, 2.0]
    ]


def test_trajectory_bad_input() -> None:
    sgd = functools.partial(optim.SGD, lr=0.1)
    with pytest.raises(ValueError, match="start must be two finite numbers"):
        plot.optimizer_trajectory(bowl, sgd, (1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="unknown function 'nope'"):
        plot.optimizer_trajectory("nope", sgd)
    with pytest.raises(ValueError, match="steps must be an int >= 0"):
        plot.optimizer_trajectory(bowl, sgd, steps=-1)
    with pytest.raises(TypeError, match="scalar Tensor"):
        plot.optimizer_trajectory(lambda x, y: 3.0, sgd)


def test_plot_trajectories_figure(tmp_path: Path) -> None:
    fig = plot.plot_trajectories()
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["SGD", "Momentum", "AdaGrad", "Adam"]
    for a in axes:
        paths = [line for line in a.get_lines() if line.get_marker() == "o"]
        assert len(paths) == 1 and len(paths[0].get_xdata()) == 31
        assert len(a.collections) >= 1  # the contour set
    sgd_line = [line for line in axes[0].get_lines() if line.get_marker() == "o"][0]
    np.testing.assert_allclose(sgd_line.get_xydata(), numpy_sgd((-7.0, 2.0), 0.95, 30), rtol=1e-12)
    overlay = plot.plot_trajectories(overlay=True)
    assert len(overlay.axes) == 1
    assert [t.get_text() for t in overlay.axes[0].get_legend().get_texts()] == [
        "SGD",
        "Momentum",
        "AdaGrad",
        "Adam",
    ]
    _saved(
        fig, tmp_path, plot.plot_trajectories, bowl, {"sgd": functools.partial(optim.SGD, lr=0.5)}, steps=5
    )


def test_plot_trajectories_into_given_axes() -> None:
    fig, ax = plt.subplots()
    out = plot.plot_trajectories(optimizers={"sgd": functools.partial(optim.SGD, lr=0.5)}, steps=4, ax=ax)
    assert out is fig and len([line for line in ax.get_lines() if line.get_marker() == "o"]) == 1
    with pytest.raises(ValueError, match="needs 4 axes, got 1"):
        plot.plot_trajectories(ax=ax)


# --- moving averages ---------------------------------------------------------------------


def hand_ema(xs, beta, corrected):
    v, out = 0.0, []
    for t, x in enumerate(xs, start=1):
        v = beta * v + (1 - beta) * x
        out.append(v / (1 - beta**t) if corrected else v)
    return np.array(out)


def test_ema_curves_equal_the_recurrence() -> None:
    xs = np.random.default_rng(0).normal(10.0, 3.0, size=50)
    for corrected in (True, False):
        curves = plot.ema_curves(xs, (0.5, 0.9, 0.98), bias_correction=corrected)
        assert list(curves) == [0.5, 0.9, 0.98]
        for beta, curve in curves.items():
            np.testing.assert_allclose(curve, hand_ema(xs, beta, corrected), rtol=1e-12)
    first = plot.ema_curves([4.0, 8.0], (0.5,), bias_correction=False, start="first")[0.5]
    np.testing.assert_allclose(first, [4.0, 6.0])  # S1 = Y1, S2 = 0.5 * 4 + 0.5 * 8


def test_plot_ema_figure(tmp_path: Path) -> None:
    xs = np.random.default_rng(1).normal(10.0, 3.0, size=100)
    fig = plot.plot_ema(xs)
    (a,) = fig.axes
    assert len(a.get_lines()) == 3
    assert [c for c in a.collections if isinstance(c, PathCollection)][0].get_offsets().shape == (100, 2)
    labels = [t.get_text() for t in a.get_legend().get_texts()]
    assert labels == ["data", "beta = 0.5", "beta = 0.9", "beta = 0.98"]
    np.testing.assert_allclose(a.get_lines()[1].get_ydata(), hand_ema(xs, 0.9, True), rtol=1e-12)
    both = plot.plot_ema(xs, bias_correction="both")
    lines = both.axes[0].get_lines()
    assert len(lines) == 6 and [line.get_linestyle() for line in lines] == ["-"] * 3 + ["--"] * 3
    np.testing.assert_allclose(lines[5].get_ydata(), hand_ema(xs, 0.98, False), rtol=1e-12)
    _saved(fig, tmp_path, plot.plot_ema, xs)
    with pytest.raises(ValueError, match="bias_correction must be"):
        plot.plot_ema(xs, bias_correction="yes")


# --- schedules ---------------------------------------------------------------------------


def test_plot_schedules(tmp_path: Path) -> None:
    schedules = {
        "exponential": optim.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5),
        "1/t by hand": lambda step: 0.1 / (1 + 0.5 * step),
    }
    fig = plot.plot_schedules(schedules, 40)
    (a,) = fig.axes
    lines = a.get_lines()
    assert len(lines) == 2 and [t.get_text() for t in a.get_legend().get_texts()] == list(schedules)
    steps = np.arange(40)
    np.testing.assert_allclose(lines[0].get_ydata(), 0.1 * 0.5 ** (steps / 10), rtol=1e-12)
    np.testing.assert_allclose(lines[1].get_ydata(), 0.1 / (1 + 0.5 * steps), rtol=1e-12)
    assert a.get_xlabel() == "step" and a.get_ylabel() == "learning rate"
    _saved(fig, tmp_path, plot.plot_schedules, schedules, 40)
    with pytest.raises(TypeError, match="callable step -> lr"):
        plot.schedule_values(0.1, 10)


# --- history -----------------------------------------------------------------------------


class FakeHistory:
    """The shape of train.History: .epoch and .history."""

    def __init__(self, history: dict) -> None:
        self.history = history
        self.epoch = list(range(len(next(iter(history.values())))))


def test_plot_history_one_and_several(tmp_path: Path) -> None:
    h = FakeHistory(
        {"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8], "val_loss": [1.0, 0.7, 0.6], "lr": [1, 1, 1]}
    )
    fig = plot.plot_history(h)
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["loss", "val_loss"]
    assert loss_ax.get_lines()[1].get_linestyle() == "--"
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), [0.9, 0.5, 0.3])
    assert len(acc_ax.get_lines()) == 1 and acc_ax.get_ylabel() == "accuracy"
    several = plot.plot_history({"adam": h, "sgd": {"loss": [1.0, 0.9]}}, metrics=["loss"])
    (a,) = several.axes
    assert [line.get_label() for line in a.get_lines()] == ["adam", "adam (val_loss)", "sgd"]
    labelled = plot.plot_history([h, h], metrics="loss", labels=["a", "b"], validation=False)
    # the same history twice: the second curve lies on the first, and the legend says so
    assert [line.get_label() for line in labelled.axes[0].get_lines()] == ["a", "b (on top of a)"]
    _saved(fig, tmp_path, plot.plot_history, h)
    with pytest.raises(ValueError, match=r"no history has \['f1'\]"):
        plot.plot_history(h, metrics=["f1"])
    with pytest.raises(TypeError, match="plot_history: expected"):
        plot.plot_history(42)


def test_plot_history_with_train_fit() -> None:
    train = pytest.importorskip("tinygrad_edu.train")
    from tinygrad_edu import data

    X, y = data.make_moons(64, noise=0.2, seed=0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    history = train.fit(
        model,
        nn.BCELoss(),
        optim.Adam(model.parameters(), lr=0.01),
        X,
        y.reshape(-1, 1).astype(float),
        epochs=3,
        batch_size=32,
        progress=False,
    )
    fig = plot.plot_history(history)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), history.history["loss"])


def test_curves_that_coincide_stay_visible() -> None:
    gd = np.linspace(0.70, 0.60, 30)
    runs = {
        "gd": {"loss": gd},
        "momentum": {"loss": gd + 0.0001},  # within 0.5% of the panel's range of 0.5
        "adam": {"loss": np.linspace(0.70, 0.20, 30)},
    }
    (panel,) = plot.plot_history(runs, metrics="loss").axes
    lines = panel.get_lines()
    assert [line.get_label() for line in lines] == ["gd", "momentum (on top of gd)", "adam"]
    assert len({line.get_marker() for line in lines}) == 3  # each run its own marker
    assert lines[0].get_markevery() != lines[1].get_markevery()  # placed between each other's
    (single,) = plot.plot_history(runs["gd"]).axes
    assert single.get_lines()[0].get_marker() in ("None", None, "")  # one run: a plain line


def test_gradient_flow_draws_the_norms_fit_records() -> None:
    from tinygrad_edu import Tensor, train

    X = np.array([[1.0, 2.0], [0.0, -1.0], [2.0, 0.5]])
    y = np.array([[1.0], [0.0], [2.0]])
    model = nn.Linear(2, 1, dtype=np.float64)
    W, b = model.weight.data.copy(), model.bias.data.copy()
    history = train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.1),
        Tensor(X),
        Tensor(y),
        epochs=2,
        batch_size=3,
        shuffle=False,
        progress=False,
        record_grad_norms=True,
    )
    # by hand, the first (only) step of epoch 0: L = mean((X W^T + b - y)^2)
    dpred = 2 * (X @ W.T + b - y) / len(X)
    assert list(history.grad_norms) == ["weight", "bias"]
    np.testing.assert_allclose(history.grad_norms["weight"][0], np.linalg.norm(dpred.T @ X), rtol=1e-5)
    np.testing.assert_allclose(history.grad_norms["bias"][0], np.linalg.norm(dpred.sum(axis=0)), rtol=1e-5)
    assert len(history.grad_norms["weight"]) == 2
    fig = plot.gradient_flow(history)
    (panel,) = fig.axes
    assert [line.get_label() for line in panel.get_lines()] == ["weight", "bias"]
    assert panel.get_lines()[1].get_linestyle() == "--" and panel.get_yscale() == "log"
    np.testing.assert_allclose(panel.get_lines()[0].get_ydata(), history.grad_norms["weight"])
    assert (
        train.fit(
            model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), X, y, epochs=1, progress=False
        ).grad_norms
        == {}
    )  # not asked: nothing recorded
    with pytest.raises(ValueError, match="record_grad_norms=True"):
        plot.gradient_flow({})
    with pytest.raises(ValueError, match=r"no gradient norms for \['2.weight'\]"):
        plot.gradient_flow(history, parameters=["2.weight"])


# --- decision boundaries -----------------------------------------------------------------


def test_decision_grid_and_boundary(tmp_path: Path) -> None:
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [2.0, -1.0]])
    y = np.array([0, 1, 0, 1])
    xx, yy, classes, prob = plot.decision_grid(lambda P: P[:, 0] > 0, X, resolution=50, margin=1.0)
    assert (
        xx.shape == (50, 50) and xx.min() == -3.0 and xx.max() == 3.0 and yy.min() == -2.0 and yy.max() == 2.0
    )
    np.testing.assert_array_equal(classes, (xx > 0).astype(int))
    assert prob is None
    # logits in one column go through the sigmoid
    _, yy, classes, prob = plot.decision_grid(lambda P: P[:, 1:2] * 10.0, X, resolution=20)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-10.0 * yy)))
    np.testing.assert_array_equal(classes, (yy > 0).astype(int))
    fig = plot.plot_decision_boundary(lambda P: P[:, 0] > 0, X, y)
    (a,) = fig.axes
    scatters = [c for c in a.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 1 and scatters[0].get_offsets().shape == (4, 2)
    assert len(a.collections) == 2  # the filled contours and the points
    _saved(fig, tmp_path, plot.plot_decision_boundary, lambda P: P[:, 0] > 0, X, y)


def test_decision_boundary_of_a_module_in_eval_mode() -> None:
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.arange(30) % 3
    _, _, first, _ = plot.decision_grid(model, X, resolution=30)
    _, _, second, _ = plot.decision_grid(model, X, resolution=30)
    np.testing.assert_array_equal(first, second)  # dropout off: the same prediction twice
    assert model.training  # mode restored
    fig = plot.plot_decision_boundary(model, X, y, resolution=30)
    assert isinstance(fig, Figure)
    binary = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    fig = plot.plot_decision_boundary(binary, X, y % 2, fill="probability", resolution=30)
    assert len(fig.axes[0].collections) == 3  # probability shading, the 0.5 line, the points


def test_decision_boundary_bad_input() -> None:
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\), got \(2, 5\).*X\.T"):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, np.zeros((2, 5)), np.zeros(5))
    with pytest.raises(ValueError, match="X has 3 points but y has 2 labels"):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="the model returned shape"):
        plot.decision_grid(lambda P: np.zeros(3), np.zeros((3, 2)))


def test_save_rejects_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"must end in \.png, \.svg or \.pdf"):
        plot.plot_schedules({"c": lambda s: 0.1}, 5, save=tmp_path / "x.jpeg")


# --- matplotlib is optional --------------------------------------------------------------


def test_clear_error_when_matplotlib_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r"needs matplotlib.*pip install matplotlib"):
        plot.plot_schedules({"c": lambda s: 0.1}, 5)
    # the numbers need numpy alone
    assert plot.optimizer_trajectory(bowl, functools.partial(optim.SGD, lr=0.5), steps=2).shape == (3, 2)


def test_sys_modules_none_gives_the_same_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"plot_ema needs matplotlib.*pip install matplotlib"):
        plot.plot_ema([1.0, 2.0])


def test_import_tinygrad_edu_does_not_import_matplotlib() -> None:
    code = (
        "import sys, tinygrad_edu, tinygrad_edu.plot\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- the examples ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, files",
    [
        (
            "trajectories",
            ["trajectories.png", "trajectories.svg", "trajectories_overlay.png", "trajectories_overlay.svg"],
        ),
        ("ema", ["ema.png", "ema.svg", "ema_bias_correction.png", "ema_bias_correction.svg"]),
        (
            "lr_decay",
            ["schedules.png", "schedules.svg", "course_decay.png", "course_decay.svg", "fixed_vs_decay.png"],
        ),
    ],
)
def test_example_runs_and_writes_its_pictures(tmp_path: Path, name: str, files: list) -> None:
    out = tmp_path / name
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, f"{name}.py failed:\n{result.stdout}\n{result.stderr}"
    for file in files:
        assert (out / file).exists() and (out / file).stat().st_size > 0, file
    assert result.stdout.strip()


# --- how a decision plot reads a model's output ------------------------------------------


def _logit_line(weight: float = 0.1, bias: float = 0.5) -> nn.Linear:
    """z = weight * x1 + bias: sigmoid(z) = 0.5 exactly at x1 = -bias / weight."""
    lin = nn.Linear(2, 1, dtype=np.float64)
    lin.weight.data[...] = [[weight, 0.0]]
    lin.bias.data[...] = bias
    return lin


def test_a_module_ending_in_linear_is_read_as_logits_whatever_the_margin() -> None:
    X = np.array([[-3.0, 0.0], [3.0, 0.0], [-1.0, 1.0], [1.0, -1.0]])
    model = _logit_line()  # the true boundary is x1 = -5, outside the data
    in_0_1 = r"output is in \[0, 1\] at every grid point and was made by Linear.*read as logits"
    for margin in (1.0, 8.0):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            xx, _, classes, prob = plot.decision_grid(model, X, resolution=101, margin=margin)
        # with a margin of 1 every logit, 0.1 to 0.9, could be a probability: a warning says so
        assert [str(w.message)[:60] for w in said] == (
            [] if margin == 8.0 else ["decision_grid: the model's output is in [0, 1] at every grid"]
        )
        np.testing.assert_allclose(prob, 1 / (1 + np.exp(-(0.1 * xx + 0.5))))
        np.testing.assert_array_equal(classes, (xx > -5.0).astype(int))
    # wrapped in nested Sequentials, still the Linear's logits
    wrapped = nn.Sequential(nn.Sequential(model), nn.Identity())
    with pytest.warns(UserWarning, match=in_0_1):
        xx, _, classes, _ = plot.decision_grid(wrapped, X, resolution=101, margin=1.0)
    np.testing.assert_array_equal(classes, np.ones_like(classes))  # x1 >= -4 > -5 everywhere
    # ending in a Sigmoid (inside a nested Sequential): a probability, used as it is
    sig = nn.Sequential(nn.Sequential(_logit_line(1.0, -0.2), nn.Sigmoid()))
    xx, _, classes, prob = plot.decision_grid(sig, X, resolution=101, margin=1.0)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-(xx - 0.2))))
    np.testing.assert_array_equal(classes, (xx > 0.2).astype(int))


def test_output_says_how_a_function_s_column_is_read() -> None:
    X = np.array([[-1.0, 0.0], [1.0, 0.0]])

    def half(P: np.ndarray) -> np.ndarray:
        return 0.5 + 0.25 * np.tanh(P[:, 0])  # in [0.25, 0.75]: a probability, or a logit

    xx, _, classes, prob = plot.decision_grid(half, X, resolution=21)
    np.testing.assert_allclose(prob, 0.5 + 0.25 * np.tanh(xx))
    xx, _, classes, prob = plot.decision_grid(half, X, resolution=21, output="logit")
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-(0.5 + 0.25 * np.tanh(xx)))))
    np.testing.assert_array_equal(classes, np.ones_like(classes))  # every logit > 0
    fig = plot.plot_decision_boundary(half, X, [0, 1], output="logit", fill="probability")
    shading, line = fig.axes[0].collections[:2]
    bands = [len(path.vertices) > 0 for path in shading.get_paths()]  # [0, 0.1), [0.1, 0.2), ...
    assert bands == [False] * 5 + [True, True] + [False] * 3  # sigmoid of [0.25, 0.75]: 0.56 to 0.68
    assert all(len(path.vertices) == 0 for path in line.get_paths())  # no 0.5 boundary anywhere
    outside = r"decision_grid: output='probability'.* from -1 to 1, outside \[0, 1\]"
    with pytest.raises(ValueError, match=outside):
        plot.decision_grid(lambda P: P[:, 0] * 0.5, X, output="probability")  # the grid's x1: -2 to 2
    with pytest.raises(ValueError, match=r"output must be 'auto', 'probability' or 'logit', got 'logits'"):
        plot.decision_grid(half, X, output="logits")
    with pytest.raises(ValueError, match=r"plot_decision_boundary: output must be"):
        plot.plot_decision_boundary(half, X, [0, 1], output=None)


def test_a_decision_plot_gives_each_submodule_its_own_mode_back() -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 1))
    model[1].eval()  # dropout switched off on purpose, the rest training
    before = [m.training for m in model.modules()]
    assert before == [True, True, False, True, True]
    X = np.random.default_rng(0).normal(size=(20, 2))
    plot.plot_decision_boundary(model, X, (X[:, 0] > 0).astype(int), resolution=10)
    assert [m.training for m in model.modules()] == before
    model.eval()
    plot.decision_grid(model, X, resolution=10)
    assert not any(m.training for m in model.modules())


def _bands_and_points(fig: Figure) -> tuple[list[tuple], list[Any], np.ndarray]:
    """The filled contours' colour per band, the x range each band covers (None for no area; the
    regions here are split at x1 = 1), and each point's colour."""
    panel = fig.axes[0]
    filled = panel.collections[0]
    colours = [tuple(np.round(filled.cmap(filled.norm(layer)), 6)) for layer in filled.layers]
    drawn = [
        (round(p.vertices[:, 0].min(), 1), round(p.vertices[:, 0].max(), 1)) if len(p.vertices) else None
        for p in filled.get_paths()
    ]
    (points,) = [c for c in panel.collections if isinstance(c, PathCollection)]
    return colours, drawn, np.round(points.to_rgba(points.get_array()), 6)


def test_decision_regions_and_points_of_a_class_share_one_colour_whatever_the_labels() -> None:
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [0.5, 2.0]])
    y = np.array([-1, -1, 1, -1])
    fig = plot.plot_decision_boundary(lambda P: np.where(P[:, 0] > 1, 1, -1), X, y, resolution=30)
    colours, drawn, points = _bands_and_points(fig)
    assert drawn == [(-1.0, 1.0), (1.0, 3.0)]  # both classes' regions are filled (-1 was left white)
    assert colours[0] != colours[1]
    assert [tuple(p) for p in points] == [colours[0], colours[0], colours[1], colours[0]]
    # a class only among the labels (2) and one only among the predictions (0) get colours too
    y3 = np.array([1, 2, 1, 2])
    fig = plot.plot_decision_boundary(lambda P: (P[:, 0] > 1).astype(int), X, y3, resolution=30)
    colours, drawn, points = _bands_and_points(fig)
    assert drawn == [(-1.0, 1.0), (1.0, 3.0), None] and len(set(colours)) == 3  # classes 0, 1, 2
    assert [tuple(p) for p in points] == [colours[1], colours[2], colours[1], colours[2]]
    # over a probability, labels -1/+1 take the colours of probability 0 and 1
    fig = plot.plot_decision_boundary(lambda P: P[:, 0] / 2, X, y, fill="probability", resolution=30)
    filled = fig.axes[0].collections[0]
    (points,) = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    ends = np.round(filled.cmap([0.0, 1.0]), 6)
    np.testing.assert_array_equal(np.round(points.to_rgba(points.get_array()), 6), ends[[0, 0, 1, 0]])


def test_gradient_flow_keeps_its_log_axis_and_shows_zero_norms_at_the_bottom_edge() -> None:
    norms = {"0.weight": [1e-3, 0.0, 1e-4], "0.bias": [1e-2, 1e-3, 1e-3], "1.weight": [0.0, 0.0, 0.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a parameter not shown says nothing
        fig = plot.gradient_flow(norms, parameters=["0.bias"])
    assert fig.axes[0].get_yscale() == "log"
    said = r"gradient_flow: the gradient norm of 0\.weight is 0 at epoch 1; .*bottom edge.*log=False"
    with pytest.warns(UserWarning, match=said):
        fig = plot.gradient_flow(norms, parameters=["0.weight", "0.bias"])
    (panel,) = fig.axes
    assert panel.get_yscale() == "log"  # not switched to linear
    lines = {line.get_label(): line for line in panel.get_lines()}
    np.testing.assert_array_equal(lines["0.weight"].get_ydata(), [1e-3, np.nan, 1e-4])  # a gap at the 0
    zeros = lines["0 (not on a log axis)"]
    np.testing.assert_array_equal(zeros.get_xdata(), [1])
    np.testing.assert_array_equal(zeros.get_ydata(), [0])  # axes coordinates: the bottom edge
    assert zeros.get_marker() == "v" and zeros.get_color() == lines["0.weight"].get_color()
    assert "0 (not on a log axis)" in [t.get_text() for t in panel.get_legend().get_texts()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        linear = plot.gradient_flow(norms, log=False)  # asked for linear: zeros are plain points
    assert linear.axes[0].get_yscale() == "linear"
    np.testing.assert_array_equal(linear.axes[0].get_lines()[0].get_ydata(), [1e-3, 0.0, 1e-4])


def test_gradient_flow_uses_the_epoch_numbers_of_a_resumed_history() -> None:
    from tinygrad_edu import train

    history = train.History()
    history.epoch = [3, 4, 5]
    history.grad_norms = {"weight": [0.5, 0.25, 0.125]}
    (panel,) = plot.gradient_flow(history).axes
    np.testing.assert_array_equal(panel.get_lines()[0].get_xdata(), [3, 4, 5])
    (panel,) = plot.gradient_flow({"weight": [0.5, 0.25]}).axes  # a dict: epochs 0, 1, ...
    np.testing.assert_array_equal(panel.get_lines()[0].get_xdata(), [0, 1])


def _rgb_distance(a: Any, b: Any) -> float:
    return float(np.linalg.norm(np.subtract(matplotlib.colors.to_rgb(a), matplotlib.colors.to_rgb(b))))


@pytest.mark.parametrize("betas", [(0.8, 0.9, 0.98), (0.1, 0.2, 0.3, 0.4, 0.5), (0.95, 0.99, 0.9)])
def test_plot_ema_gives_every_beta_a_colour_far_from_the_others_and_the_data(betas: tuple) -> None:
    fig = plot.plot_ema(np.linspace(10.0, 20.0, 30), betas, bias_correction="both")
    (panel,) = fig.axes
    data = panel.collections[0].get_facecolor()[0]
    lines = panel.get_lines()
    colour = {}
    for line in lines:  # "beta = 0.8, bias-corrected" and "beta = 0.8, no correction": one colour
        beta = line.get_label().split(",")[0]
        assert colour.setdefault(beta, line.get_color()) == line.get_color()
    assert len(colour) == len(betas)
    used = [data, *colour.values()]
    gaps = [_rgb_distance(a, b) for i, a in enumerate(used) for b in used[i + 1 :]]
    assert min(gaps) > 0.3, dict(zip(colour, map(matplotlib.colors.to_hex, colour.values())))
    assert colour.get("beta = 0.9", "red") == "red"  # seed 001's colours stay


def test_a_curve_is_on_top_of_another_only_with_the_same_nans() -> None:
    nan = float("nan")
    diverged = {"a": {"loss": [1.0, 0.5, nan, nan]}, "b": {"loss": [1.0, 0.5, 0.3, 0.2]}}
    (panel,) = plot.plot_history(diverged, metrics="loss").axes
    assert [line.get_label() for line in panel.get_lines()] == ["a", "b"]  # b goes on where a stopped
    both = {"a": {"loss": [1.0, 0.5, nan]}, "b": {"loss": [1.0, 0.5, nan]}}
    (panel,) = plot.plot_history(both, metrics="loss").axes
    assert [line.get_label() for line in panel.get_lines()] == ["a", "b (on top of a)"]
    inf = float("inf")
    (panel,) = plot.plot_history({"a": {"loss": [1.0, inf]}, "b": {"loss": [1.0, -inf]}}, metrics="loss").axes
    assert [line.get_label() for line in panel.get_lines()] == ["a", "b"]


def test_one_history_takes_its_label_and_a_list_of_labels_must_match() -> None:
    (panel,) = plot.plot_history({"loss": [1.0, 0.5]}, labels="adam").axes
    assert [line.get_label() for line in panel.get_lines()] == ["adam"]
    assert [t.get_text() for t in panel.get_legend().get_texts()] == ["adam"]
    (panel,) = plot.plot_history({"loss": [1.0, 0.5]}, labels=["adam"]).axes
    assert [t.get_text() for t in panel.get_legend().get_texts()] == ["adam"]
    (panel,) = plot.plot_history({"loss": [1.0, 0.5]}).axes
    assert panel.get_legend() is None  # one unnamed curve: no legend, as before
    with pytest.raises(ValueError, match=r"plot_history: 1 history but 2 labels \['adam', 'gd'\]"):
        plot.plot_history({"loss": [1.0, 0.5]}, labels=["adam", "gd"])
    with pytest.raises(ValueError, match=r"plot_history: 2 histories but 1 labels"):
        plot.plot_history([{"loss": [1.0]}, {"loss": [2.0]}], labels=["adam"])


def test_nan_or_inf_in_the_points_is_refused_with_the_rows() -> None:
    X = np.array([[0.0, 0.0], [1.0, np.nan], [2.0, 1.0], [np.inf, 0.0]])
    said = r"plot_decision_boundary: X has 2 rows with NaN or inf, the first row 1: \[1\.0, nan\]"
    with pytest.raises(ValueError, match=said):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 1, X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"decision_grid: X has 2 rows with NaN or inf"):
        plot.decision_grid(lambda P: P[:, 0] > 1, X)
    assert plt.get_fignums() == []  # refused before a figure was made


def test_plot_schedules_checks_steps_as_schedule_values_does() -> None:
    decay = optim.schedules.ExponentialDecay(1.0, 10, 0.5)
    for fn in (plot.schedule_values, lambda s, steps: plot.plot_schedules({"s": s}, steps)):
        for steps in (0, -5):
            with pytest.raises(ValueError, match=rf"steps must be an int >= 1 .*got {steps}"):
                fn(decay, steps)
        with pytest.raises(ValueError, match=r"steps must be whole numbers; got 1\.5 \(at index 1\)"):
            fn(lambda s: 0.1 * s, np.array([1.0, 1.5]))
        with pytest.raises(ValueError, match=r"steps must be >= 0; got -2 \(at index 0\)"):
            fn(lambda s: 0.1, [-2, 3])
        with pytest.raises(ValueError, match=r"1-D array of integer steps, got shape \(\)"):
            fn(lambda s: 0.1, np.array(3.0))
        with pytest.raises(ValueError, match=r"got no steps"):
            fn(lambda s: 0.1, [])
    with pytest.raises(ValueError, match=r"^plot_schedules: steps"):
        plot.plot_schedules({"s": decay}, 0)
    assert plt.get_fignums() == []  # refused before drawing
    (line,) = plot.plot_schedules({"s": lambda s: 0.1 * s}, [0.0, 2.0, 5]).axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xydata(), [[0, 0.0], [2, 0.2], [5, 0.5]])


def test_a_bad_save_path_is_refused_before_drawing(tmp_path: Path) -> None:
    history = {"loss": [1.0, 0.5]}
    with pytest.raises(ValueError, match=r"plot_history: save=.*x\.jpg' must end in \.png, \.svg or \.pdf"):
        plot.plot_history(history, save=tmp_path / "x.jpg")
    assert plt.get_fignums() == []  # no figure left open (an inline backend would show it)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for save in (afile / "x.png", afile / "sub" / "x.svg"):
        said = rf"plot_ema: cannot write '{save}': '{afile}' is not a folder"
        with pytest.raises(NotADirectoryError, match=said):
            plot.plot_ema([1.0, 2.0, 3.0], save=save)
    assert plt.get_fignums() == []
    assert afile.read_text() == "x"
    with pytest.raises(ValueError, match=r"gradient_flow: save="):
        plot.gradient_flow({"w": [1.0]}, save=tmp_path / "g.gif")
    with pytest.raises(ValueError, match=r"plot_decision_boundary: save="):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, np.zeros((2, 2)), [0, 1], save="d.bmp")
    assert plt.get_fignums() == []


def test_a_figure_whose_save_fails_is_closed_unless_it_is_the_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, *args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="the disk is full"):
        plot.plot_schedules({"c": lambda s: 0.1}, 5, save=tmp_path / "s.png")
    assert plt.get_fignums() == []
    fig, ax = plt.subplots()
    with pytest.raises(RuntimeError, match="the disk is full"):
        plot.plot_schedules({"c": lambda s: 0.1}, 5, ax=ax, save=tmp_path / "s.png")
    assert plt.get_fignums() == [fig.number]  # the caller's figure stays theirs
    assert not (tmp_path / "s.png").exists()


# --- "auto" reads the op that made the output ----------------------------------------------


class _SigmoidNet(nn.Module):
    """A custom Module whose forward ends in .sigmoid(): no nn.Sigmoid layer to look for."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1, dtype=np.float64)
        self.fc.weight.data[...] = [[5.0, 0.0]]
        self.fc.bias.data[...] = 0.0

    def forward(self, x: Any) -> Any:
        return self.fc(x).sigmoid()


_FOUR = np.array([[-1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [2.0, 1.0]])


def test_probabilities_reshaped_indexed_or_clipped_after_the_sigmoid_are_read_as_probabilities() -> None:
    # before: only the last op was looked at, so .reshape(-1), [:, 0], a clip or a Flatten after
    # the sigmoid hid it: read as logits, through the sigmoid again, every point class 1
    from tinygrad_edu import Tensor

    model = _SigmoidNet()
    _, _, want, _ = plot.decision_grid(model, _FOUR, resolution=20)
    flattened = nn.Sequential(model.fc, nn.Sigmoid(), nn.Flatten())
    readings = [lambda P: model(Tensor(P)).reshape(-1), lambda P: model(Tensor(P))[:, 0],
                lambda P: model(Tensor(P)).clip(1e-7, 1 - 1e-7),
                lambda P: model(Tensor(P)).astype(np.float32), flattened]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the Sigmoid op is seen beneath them: nothing is ambiguous
        for f in readings:
            xx, _, classes, prob = plot.decision_grid(f, _FOUR, resolution=20)
            np.testing.assert_array_equal(classes, want)
            np.testing.assert_allclose(prob, 1 / (1 + np.exp(-5.0 * xx)), rtol=1e-6, atol=1e-7)


def test_a_custom_module_ending_in_sigmoid_is_read_as_probabilities_once() -> None:
    model = _SigmoidNet()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the Sigmoid op is seen: nothing is ambiguous
        xx, _, classes, prob = plot.decision_grid(model, _FOUR, resolution=20)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-5.0 * xx)))  # not the sigmoid of it again
    np.testing.assert_array_equal(classes, (xx > 0).astype(int))
    # frozen parameters record no graph; the op is still seen
    for p in model.parameters():
        p.requires_grad = False
    _, _, frozen, _ = plot.decision_grid(model, _FOUR, resolution=20)
    np.testing.assert_array_equal(frozen, classes)
    assert all(p.grad is None for p in model.parameters())
    # a function returning the Tensor the module made: the same op, the same reading
    from tinygrad_edu import Tensor

    model = _SigmoidNet()
    _, _, from_function, prob = plot.decision_grid(lambda P: model(Tensor(P)), _FOUR, resolution=20)
    np.testing.assert_array_equal(from_function, classes)
    fig = plot.plot_decision_boundary(model, _FOUR, [0, 1, 0, 1], fill="probability", resolution=20)
    line = fig.axes[0].collections[1]
    assert any(len(path.vertices) for path in line.get_paths())  # the 0.5 boundary is drawn


def test_a_softmax_output_is_read_as_probabilities() -> None:
    class Softmax1(nn.Module):  # one column whose softmax is all 1: class 1 everywhere, not sigmoid(1)
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 1, dtype=np.float64)

        def forward(self, x: Any) -> Any:
            return self.fc(x).softmax(axis=-1)

    _, _, classes, prob = plot.decision_grid(Softmax1(), _FOUR, resolution=10)
    np.testing.assert_allclose(prob, 1.0)


def test_an_output_in_0_1_with_no_sigmoid_seen_is_read_as_before_and_logits_say_so() -> None:
    from tinygrad_edu import Tensor, no_grad

    ambiguous = r"decision_grid: the model's output is in \[0, 1\] at every grid point"

    def squashed(P: np.ndarray) -> np.ndarray:
        return 0.5 + 0.1 * np.tanh(P[:, 0])

    # a Module whose output's op cannot be seen (made under no_grad): read by its last layer
    class Hidden(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(_logit_line(0.1, 0.5))

        def forward(self, x: Any) -> Any:
            with no_grad():
                return self.net(x)

    with pytest.warns(UserWarning, match=ambiguous + r".*read as logits.*pass output='probability'"):
        xx, _, classes, prob = plot.decision_grid(Hidden(), _FOUR, resolution=11)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-(0.1 * xx + 0.5))))
    # a Sequential ending in nn.Sigmoid whose op cannot be seen (nothing before it records): its layer says
    unseen = nn.Sequential(Hidden(), nn.Sigmoid())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xx, _, classes, prob = plot.decision_grid(unseen, _FOUR, resolution=11)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-(0.1 * xx + 0.5))))
    # plot_decision_boundary names itself
    with pytest.warns(UserWarning, match=r"plot_decision_boundary: the model's output is in \[0, 1\]"):
        plot.plot_decision_boundary(Hidden(), _FOUR, [0, 1, 0, 1], resolution=11)
    # an op that is seen but is no Sigmoid, all in [0, 1]: logits, with the warning
    sig = _SigmoidNet()
    with pytest.warns(UserWarning, match=ambiguous + r".*made by Mul.*read as logits"):
        plot.decision_grid(lambda P: sig(Tensor(P)) * 0.5, _FOUR, resolution=11)
    # values outside [0, 1] are logits whatever made them, and nothing is said; so is a stated output
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with no_grad():
            xx, _, classes, prob = plot.decision_grid(lambda P: sig.fc(Tensor(P)), _FOUR, resolution=11)
        np.testing.assert_allclose(prob, 1 / (1 + np.exp(-5.0 * xx)))
        plot.decision_grid(Hidden(), _FOUR, resolution=11, output="logit")
        # a function's plain array in [0, 1]: probabilities, as documented (output="logit" otherwise)
        xx, _, classes, prob = plot.decision_grid(squashed, _FOUR, resolution=11)
        np.testing.assert_allclose(prob, 0.5 + 0.1 * np.tanh(xx))


# --- what a boundary picture refuses, and what it draws that it did not before --------------------

_MOONS_LIKE = np.array([[0.0, 0.0], [1.0, 0.5], [2.0, -0.5], [-1.0, 1.0]])


def test_a_function_returning_whole_float_classes_draws_those_classes() -> None:
    grid_points = []

    def sign(P):
        grid_points.append(P)
        return np.sign(P[:, 1] - 0.25)  # -1.0 / +1.0, a perceptron's answer

    xx, yy, classes, prob = plot.decision_grid(sign, _MOONS_LIKE, resolution=30)
    assert prob is None and set(np.unique(classes)) == {-1, 1}
    np.testing.assert_array_equal(classes.ravel(), np.where(grid_points[0][:, 1] > 0.25, 1, -1))
    _, _, classes, _ = plot.decision_grid(lambda P: np.floor(np.clip(P[:, 0] + 1.0, 0, 2)), _MOONS_LIKE)
    assert set(np.unique(classes)) == {0, 1, 2}  # 0., 1., 2.: three classes, not logits
    _, _, classes, _ = plot.decision_grid(lambda P: np.where(P[:, 0] > 0.5, np.inf, -np.inf), _MOONS_LIKE)
    assert set(np.unique(classes)) == {0, 1}  # logits of ±inf: probabilities 1 and 0, not classes
    fig = plot.plot_decision_boundary(sign, _MOONS_LIKE, np.array([-1, 1, -1, 1]))
    assert fig is not None


def test_a_model_returning_nan_is_refused_not_drawn_as_class_0() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    for p in model.parameters():
        p.data[...] = np.nan
    with pytest.raises(ValueError, match=r"NaN at 400 of 400 grid points.*diverged"):
        plot.plot_decision_boundary(model, _MOONS_LIKE, [0, 1, 0, 1], resolution=20)

    def half_nan(P):
        return np.where(P[:, 0] > 0.5, np.nan, 0.9)

    with pytest.raises(ValueError, match=r"NaN at \d+ of 100 grid points"):
        plot.decision_grid(half_nan, _MOONS_LIKE, resolution=10)


def test_labels_and_predictions_that_are_not_classes_are_named() -> None:
    X = _MOONS_LIKE
    with pytest.raises(TypeError, match=r"returned strings \(dtype <U1"):
        plot.plot_decision_boundary(lambda P: np.array(["a"] * len(P)), X, [0, 1, 0, 1])
    with pytest.raises(TypeError, match=r"y must hold class labels.*<U1.*\['a', 'b', 'a'\]"):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, X, np.array(["a", "b", "a", "b"]))
    with pytest.raises(TypeError, match=r"y must hold class labels.*\[0.2, 0.7"):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, X, [0.2, 0.7, 0.1, 0.9])
    with pytest.raises(ValueError, match=r"shape \(4, 2\).*y.argmax\(axis=1\)"):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, X, np.eye(2)[[0, 1, 0, 1]])
    with pytest.raises(ValueError, match=r"got \(0, 2\) \(no points: X is empty\)"):
        plot.plot_decision_boundary(lambda P: P[:, 0] > 0, np.zeros((0, 2)), [])
    plot.plot_decision_boundary(lambda P: P[:, 0] > 0, X, [0.0, 1.0, 0.0, 1.0])  # whole floats are labels


def test_threshold_is_a_probability_and_only_for_one_column() -> None:
    for bad in (0, 1, 2, -0.5, "0.5", True, None):
        with pytest.raises(ValueError, match="threshold must be a number between 0 and 1"):
            plot.decision_grid(lambda P: P[:, 0] > 0, _MOONS_LIKE, threshold=bad)
    with pytest.raises(ValueError, match=r"threshold=0.9 applies to one output column.*returned 3 per point"):
        three_scores = lambda P: np.stack([P[:, 0], P[:, 1], -P[:, 0]], axis=1)  # noqa: E731
        plot.decision_grid(three_scores, _MOONS_LIKE, threshold=0.9)
    _, _, classes, _ = plot.decision_grid(lambda P: np.full(len(P), 0.8), _MOONS_LIKE, threshold=0.9)
    assert (classes == 0).all()  # 0.8 is not above 0.9


def test_a_gradient_norm_between_gaps_is_drawn_as_a_dot() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (the warning about the 0 is tested above)
        fig = plot.gradient_flow({"0.weight": [1.0, 0.0, 0.5], "0.bias": [1.0, 1.0, 1.0], "1.weight": [0.3]})
    dots = [line for line in fig.axes[0].get_lines() if line.get_marker() == "o"]
    drawn = sorted((float(x), float(y)) for line in dots for x, y in zip(line.get_xdata(), line.get_ydata()))
    assert drawn == [(0.0, 0.3), (0.0, 1.0), (2.0, 0.5)]  # 0.bias's line needs no dots


def test_a_one_epoch_history_shows_its_point_on_whole_epoch_ticks() -> None:
    fig = plot.plot_history({"loss": [0.7], "accuracy": [0.5]})
    for panel, value in zip(fig.axes, (0.7, 0.5)):
        dots = [line for line in panel.get_lines() if line.get_marker() == "o"]
        assert [list(line.get_ydata()) for line in dots] == [[value]]
        lo, hi = panel.get_xlim()
        assert [t for t in panel.get_xticks() if lo <= t <= hi] == [0.0]
    fig = plot.plot_history({"loss": [0.7, 0.5, 0.4]})
    assert all(float(t).is_integer() for t in fig.axes[0].get_xticks())


def test_a_diverging_path_is_named_and_ends_in_nan_and_the_picture_is_drawn(tmp_path: Path) -> None:
    bowl = lambda x, y: x * x + y * y  # noqa: E731
    with pytest.warns(UserWarning, match=r"SGD's path diverged: step \d+ left the finite numbers"):
        path = plot.optimizer_trajectory(bowl, lambda ps: optim.SGD(ps, lr=5.0), steps=500)
    finite = np.isfinite(path).all(axis=1)
    k = int(finite.sum())
    assert finite[:k].all() and np.isnan(path[k + 1 :]).all() and 300 < k < 340  # 9**k passes 1e308
    np.testing.assert_allclose(path[:4, 0], [-7.0, 63.0, -567.0, 5103.0])  # p - 5 * 2p = -9p
    with pytest.warns(UserWarning, match="diverged"):
        plot.plot_trajectories(bowl, {"sgd": lambda ps: optim.SGD(ps, lr=5.0)}, steps=500,
                               save=tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 0
