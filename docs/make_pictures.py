"""Make every picture in docs/images/ from code: nothing in the documents is drawn by hand.

    python docs/make_pictures.py                   # all pictures, the full 10,000-epoch comparison (~1 min)
    python docs/make_pictures.py --quick --out /tmp/pictures   # the same files in a few seconds

Every picture is seeded, so running the script again gives the same numbers. It needs
matplotlib (``pip install -e '.[plot]'``) and Graphviz's ``dot`` program.

Pictures (file names are the ones the documents link to):

* ``neuron.svg``: micrograd's neuron o = tanh(x1 w1 + x2 w2 + b) with ``Value``, after backward.
* ``backprop_0.svg`` .. ``backprop_4.svg``: the backward pass through that neuron, one op per frame.
* ``player.png``: the step-through player of those frames (``Frames.to_html``), at step 4, as
  headless Chromium shows it (needs chromium, chromium-driver and selenium).
* ``network.svg``: a [2, 3, 1] network's loss on 4 moons points after backward, parameters named.
* ``network_expanded.svg``: the same with each ``Linear`` drawn as its matmul and bias add.
* ``gradient_flow.svg``: per-layer gradient norms of a deep sigmoid network (vanishing gradients).
* ``compare_costs.svg`` and ``compare_boundaries.png``: the course's optimizer experiment
  (gd, momentum, Adam on the moons, the [2, 5, 2, 1] network, lr 0.0007, batch 64).
* ``trajectories.png``: seed 002's four optimizers on f(x, y) = x²/20 + y² from (-7, 2).
* ``ema.svg``: exponentially weighted averages of a noisy year of temperatures (beta 0.5, 0.9, 0.98).
* ``schedules.svg``: the four learning-rate schedules, and ``course_decay.svg`` the course's per-epoch decays.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Optional, Sequence

import numpy as np

FULL_EPOCHS = 10_000  # the course's experiment
QUICK_EPOCHS = 20
EXPECTED = [
    "neuron.svg",
    *[f"backprop_{i}.svg" for i in range(5)],
    "player.png",
    "network.svg",
    "network_expanded.svg",
    "gradient_flow.svg",
    "compare_costs.svg",
    "compare_boundaries.png",
    "trajectories.png",
    "ema.svg",
    "schedules.svg",
    "course_decay.svg",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "tinygrad_edu"  # the same ids on every run
    plt.rcParams["svg.fonttype"] = "none"  # text as text: smaller files
    return plt


def _save(fig: Any, path: str, dpi: int = 80) -> str:
    metadata = {"Date": None} if path.endswith(".svg") else {"Software": None}
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata=metadata)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def neuron_pictures(out: str) -> list[str]:
    """micrograd's neuron, its graph after backward, and one picture per backward step."""
    from tinygrad_edu import Value, viz

    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    frames = viz.trace_backward(o)  # before backward: the frames show gradients arriving
    o.backward()
    paths = [viz.render(viz.draw_graph(o), os.path.join(out, "neuron.svg"))]
    for i, frame in enumerate(frames):
        paths.append(viz.render(frame.draw(), os.path.join(out, f"backprop_{i}.svg")))
    with tempfile.TemporaryDirectory() as tmp:
        page = frames.to_html(os.path.join(tmp, "player.html"))
        paths.append(screenshot(page, os.path.join(out, "player.png"), steps=3))
    return paths


BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1040,560",
)


def screenshot(page: str, path: str, steps: int = 0) -> str:
    """Open ``page`` in headless Chromium, press ArrowRight ``steps`` times, save the window as PNG."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
    except ImportError as exc:
        raise SystemExit(
            "make_pictures: the player's screenshot needs selenium: pip install -e '.[dev]'"
        ) from exc
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    driver_path = shutil.which("chromedriver")
    if browser is None or driver_path is None:
        raise SystemExit(
            "make_pictures: the player's screenshot needs apt-get install chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.get("file://" + os.path.abspath(page))
            for _ in range(steps):
                driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
            driver.save_screenshot(path)
        finally:
            driver.quit()
    return path


def network_pictures(out: str) -> list[str]:
    """A [2, 3, 1] network's loss on 4 moons points, after backward: folded, and with Linear expanded."""
    from tinygrad_edu import Tensor, data, nn, viz
    from tinygrad_edu.cli import common

    X, y = data.make_moons(4, noise=0.2, seed=0)
    model = common.make_network([2, 3, 1], 0)
    loss = nn.BCEWithLogitsLoss()(
        model(Tensor(X, name="X")), Tensor(y.reshape(-1, 1).astype(np.float32), name="y")
    )
    loss.name = "loss"
    loss.backward()
    return [
        viz.render(viz.draw_graph(loss, model=model), os.path.join(out, "network.svg")),
        viz.render(viz.draw_graph(loss, model=model, expand=True), os.path.join(out, "network_expanded.svg")),
    ]


def gradient_flow_picture(out: str) -> list[str]:
    """Six sigmoid layers on the moons: the gradient shrinks layer by layer towards the input."""
    from tinygrad_edu import data, manual_seed, nn, optim, plot, train

    _pyplot()
    X, y = data.make_moons(300, noise=0.2, seed=3)
    manual_seed(0)  # the initial weights: the same picture on every run
    layers = [nn.Linear(2, 8)] + [nn.Linear(8, 8) for _ in range(5)]
    model = nn.Sequential(*[m for layer in layers for m in (layer, nn.Sigmoid())], nn.Linear(8, 1))
    history = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.5),
        X,
        y.reshape(-1, 1).astype(np.float32),
        30,
        seed=0,
        progress=False,
        record_grad_norms=True,
    )
    weights = [name for name in history.grad_norms if name.endswith("weight")]
    fig = plot.gradient_flow(history, parameters=weights, title="gradient flow: 6 sigmoid layers")
    return [_save(fig, os.path.join(out, "gradient_flow.svg"))]


def compare_pictures(out: str, epochs: int) -> list[str]:
    """The course's experiment (what ``tinygrad-edu compare`` runs): cost curves and decision boundaries."""
    from tinygrad_edu import data, nn, plot, train
    from tinygrad_edu.cli import common

    plt = _pyplot()
    seed, lr, batch_size = 3, 0.0007, 64
    X, y = data.make_moons(300, noise=0.2, seed=seed)
    Y = y.reshape(-1, 1).astype(np.float64)

    def batches(epoch: int) -> list:
        # the course reshuffles with seed 11, 12, ... before each epoch
        return data.random_mini_batches(X, Y, batch_size, seed=seed + 8 + epoch)

    result = train.compare_optimizers(
        lambda: common.make_network([2, 5, 2, 1], seed),
        nn.BCEWithLogitsLoss(),
        {name: (lambda p, name=name: common.OPTIMIZERS[name](p, lr)) for name in ("gd", "momentum", "adam")},
        X,
        Y,
        epochs,
        batches=batches,
        progress=False,
    )
    print(result.table())
    fig = plot.plot_history(result.histories, metrics=("loss",), title=f"cost, {epochs} epochs")
    fig.set_size_inches(6.0, 3.6)
    paths = [_save(fig, os.path.join(out, "compare_costs.svg"))]
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.8), constrained_layout=True)
    for ax, row in zip(axes, result.rows):
        model = result.models[row["name"]]
        plot.plot_decision_boundary(
            model, X, y, ax=ax, resolution=150, title=f"{row['name']}: accuracy {row['accuracy']:.4f}"
        )
    paths.append(_save(fig, os.path.join(out, "compare_boundaries.png"), dpi=60))
    return paths


def trajectory_picture(out: str) -> list[str]:
    """Seed 002: SGD, Momentum, AdaGrad and Adam, 30 steps on x²/20 + y² from (-7, 2)."""
    from tinygrad_edu import plot

    _pyplot()
    fig = plot.plot_trajectories(resolution=150)
    return [_save(fig, os.path.join(out, "trajectories.png"), dpi=60)]


def temperatures(seed: int = 1) -> np.ndarray:
    """A synthetic year of daily temperatures (°F): 55 - 18 cos(season) + N(0, 5²)."""
    rng = np.random.default_rng(seed)
    day = np.arange(365)
    return 55.0 - 18.0 * np.cos(2 * np.pi * day / 365) + rng.normal(0.0, 5.0, size=365)


def ema_picture(out: str) -> list[str]:
    from tinygrad_edu import plot

    _pyplot()
    fig = plot.plot_ema(temperatures(), (0.5, 0.9, 0.98), title="exponentially weighted averages")
    fig.set_size_inches(7.0, 3.6)
    return [_save(fig, os.path.join(out, "ema.svg"))]


def schedule_pictures(out: str) -> list[str]:
    from tinygrad_edu import plot
    from tinygrad_edu.optim import schedules

    _pyplot()
    fig = plot.plot_schedules(
        {
            "PiecewiseConstantDecay([60, 120], [0.1, 0.05, 0.01])": schedules.PiecewiseConstantDecay(
                [60, 120], [0.1, 0.05, 0.01]
            ),
            "ExponentialDecay(0.1, 50, 0.5)": schedules.ExponentialDecay(0.1, 50, 0.5),
            "ExponentialDecay(0.1, 50, 0.5, staircase=True)": schedules.ExponentialDecay(
                0.1, 50, 0.5, staircase=True
            ),
            "InverseTimeDecay(0.1, 20, 1.0)": schedules.InverseTimeDecay(0.1, 20, 1.0),
            "CosineDecay(0.02, 150, warmup_target=0.1, warmup_steps=50)": schedules.CosineDecay(
                0.02, 150, warmup_target=0.1, warmup_steps=50
            ),
        },
        steps=200,
        title="learning-rate schedules",
    )
    fig.set_size_inches(7.0, 4.0)
    paths = [_save(fig, os.path.join(out, "schedules.svg"))]
    batches_per_epoch = 5  # 300 samples, batch 64
    fig = plot.plot_schedules(
        {
            "alpha0 / (1 + 0.5 epoch)": schedules.InverseTimeDecay(
                0.1, batches_per_epoch, 0.5, staircase=True
            ),
            "0.95**epoch alpha0": schedules.ExponentialDecay(0.1, batches_per_epoch, 0.95, staircase=True),
        },
        steps=100,
        title="the course's per-epoch decays (5 steps per epoch)",
    )
    fig.set_size_inches(7.0, 3.4)
    paths.append(_save(fig, os.path.join(out, "course_decay.svg")))
    return paths


def _strip(path: str) -> None:
    """Drop the lines of an SVG that change between runs or machines (matplotlib's date, dot's version)."""
    if not path.endswith(".svg"):
        return
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("<!-- Generated by graphviz")]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(kept)


def make_all(out: str, quick: bool = False, epochs: Optional[int] = None) -> list[str]:
    """Write every picture into ``out``; return their paths."""
    os.makedirs(out, exist_ok=True)
    epochs = epochs if epochs is not None else (QUICK_EPOCHS if quick else FULL_EPOCHS)
    steps: Sequence[Callable[[str], list[str]]] = (
        neuron_pictures,
        network_pictures,
        gradient_flow_picture,
        lambda d: compare_pictures(d, epochs),
        trajectory_picture,
        ema_picture,
        schedule_pictures,
    )
    paths = [p for make in steps for p in make(out)]
    for p in paths:
        _strip(p)
    return paths


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "images"), help="folder (default docs/images)")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs instead of {FULL_EPOCHS} (for tests)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the optimizer comparison")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:  # write everything first, then replace
        paths = make_all(tmp, args.quick, args.epochs)
        os.makedirs(args.out, exist_ok=True)
        for p in paths:
            shutil.copy(p, os.path.join(args.out, os.path.basename(p)))
    total = 0
    for name in sorted(os.path.basename(p) for p in paths):
        size = os.path.getsize(os.path.join(args.out, name))
        total += size
        print(f"{size / 1024:8.1f} kB  {os.path.join(args.out, name)}")
    print(f"{total / 1024:8.1f} kB  in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
