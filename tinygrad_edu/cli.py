"""The ``tinygrad-edu`` command line (also ``python -m tinygrad_edu``).

    tinygrad-edu compare                               # the course's experiment: gd, momentum, adam on moons
    tinygrad-edu train --layers 2,16,16,1 --optimizer adam --lr 0.01 --checkpoint model.npz
    tinygrad-edu graph "tanh(a*b + c)" --values a=2,b=-3,c=10
    tinygrad-edu gradcheck --layers 2,5,2,1 --dropout 0.2

Every command has ``--help``. Bad arguments exit with status 2 and one line on
stderr saying what is wrong; docs/cli.md describes every option.
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import sys
import time
from typing import Any, Callable, NoReturn, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import data, nn, optim, train
from tinygrad_edu.scalar import Value
from tinygrad_edu.tensor import Tensor

PROG = "tinygrad-edu"
DEFAULT_OUT = "tinygrad_edu_out"
PLOT_HINT = "pip install tinygrad_edu[plot]"


class UsageError(Exception):
    """A bad argument found after parsing; ``main`` prints it as one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block), then exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# --- building blocks shared by the commands ----------------------------------------------------

# name -> (params, lr) -> optimizer. "gd" and "momentum" are the course's update rules; "adam"
# puts eps inside the square root as the course's code does (m_hat / sqrt(v_hat + eps)).
OPTIMIZERS: dict[str, Callable[[Any, Any], optim.Optimizer]] = {
    "gd": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.Momentum(params, lr=lr, beta=0.9),
    "nesterov": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "adagrad": lambda params, lr: optim.Adagrad(params, lr=lr),
    "adam": lambda params, lr: optim.Adam(params, lr=lr, eps_mode="inside"),
    "adam-pytorch": lambda params, lr: optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: optim.AdamW(params, lr=lr),
}

DATASETS = ("moons", "circles", "spirals")
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.05, "spirals": 0.2}
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def _layers(text: str) -> list[int]:
    """``"2,16,16,1"`` -> [2, 16, 16, 1]: the input size, the hidden sizes, the output size."""
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected at least two positive integers separated by commas, such as 2,5,2,1; got {text!r}"
        )
    return sizes


def _optimizer_name(text: str) -> str:
    if text not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"unknown optimizer {text!r}; choose from {', '.join(OPTIMIZERS)}")
    return text


def _optimizer_names(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected names separated by commas, such as gd,adam; got {text!r}")
    for name in names:
        _optimizer_name(name)
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"an optimizer is named twice in {text!r}")
    return names


def _schedule(text: str) -> Callable[[float], Any]:
    """``--schedule`` -> a function lr -> Keras-style schedule (or the plain lr for "constant").

    exponential:RATE:STEPS[:staircase]     lr * RATE ** (step / STEPS)
    inverse-time:RATE:STEPS[:staircase]    lr / (1 + RATE * step / STEPS)
    cosine:STEPS[:ALPHA]                   cosine from lr down to ALPHA * lr over STEPS steps
    piecewise:B1,B2,...:V1,V2,V3,...       V1 until step B1, V2 until B2, ... (lr is ignored)
    """
    kind, *fields = text.split(":")
    schedules = optim.schedules
    try:
        if kind == "constant" and not fields:
            return lambda lr: lr
        if kind in ("exponential", "inverse-time") and len(fields) in (2, 3):
            rate, steps = float(fields[0]), float(fields[1])
            if len(fields) == 3 and fields[2] != "staircase":
                raise ValueError(f"the third field may only be 'staircase', got {fields[2]!r}")
            staircase = len(fields) == 3
            cls = schedules.ExponentialDecay if kind == "exponential" else schedules.InverseTimeDecay
            cls(1.0, steps, rate, staircase)  # checks the numbers now, while we can say which option
            return lambda lr: cls(lr, steps, rate, staircase)
        if kind == "cosine" and len(fields) in (1, 2):
            steps, alpha = float(fields[0]), float(fields[1]) if len(fields) == 2 else 0.0
            schedules.CosineDecay(1.0, steps, alpha)
            return lambda lr: schedules.CosineDecay(lr, steps, alpha)
        if kind == "piecewise" and len(fields) == 2:
            boundaries = [float(b) for b in fields[0].split(",")]
            values = [float(v) for v in fields[1].split(",")]
            schedules.PiecewiseConstantDecay(boundaries, values)
            return lambda lr: schedules.PiecewiseConstantDecay(boundaries, values)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None
    raise argparse.ArgumentTypeError(
        f"expected exponential:RATE:STEPS, inverse-time:RATE:STEPS, cosine:STEPS[:ALPHA], "
        f"piecewise:B1,B2:V1,V2,V3 or constant; got {text!r}"
    )


def _load_dataset(name: str, samples: int, noise: Optional[float], seed: int, classes: int = 3):
    """X (n, 2) float64 and integer labels y (n,) for a named 2-D toy data set."""
    noise = DEFAULT_NOISE[name] if noise is None else noise
    if name == "moons":
        return data.make_moons(samples, noise=noise, seed=seed)
    if name == "circles":
        return data.make_circles(samples, noise=noise, seed=seed)
    per_class = max(samples // classes, 1)
    return data.make_spirals(per_class, classes, noise=noise, seed=seed)


def make_network(
    sizes: Sequence[int], seed: int, activation: str = "relu", dropout: float = 0.0
) -> nn.Sequential:
    """Linear -> activation (-> Dropout) -> ... -> Linear, in float64, He-initialised from ``seed``.

    One ``np.random.RandomState(seed)`` draws every weight in layer order, as the course's
    ``initialize_parameters`` does after ``np.random.seed(seed)``. The last layer outputs
    logits (no activation): the losses used here take logits, which is numerically stable.
    """
    rng = np.random.RandomState(seed)
    dropout_rng = np.random.default_rng(seed)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, init="he", rng=rng, dtype=np.float64))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=dropout_rng))
    return nn.Sequential(*layers)


def _loss_and_targets(
    sizes: Sequence[int], y: np.ndarray, n_classes: int, where: str
) -> tuple[Any, np.ndarray]:
    """One output: BCEWithLogitsLoss with y as an (n, 1) float column. n_classes outputs: CrossEntropyLoss."""
    if sizes[0] != 2:
        raise UsageError(f"--layers: the data sets are 2-D, so the first size must be 2, got {sizes[0]}")
    if sizes[-1] == 1 and n_classes == 2:
        return nn.BCEWithLogitsLoss(), y.reshape(-1, 1).astype(np.float64)
    if sizes[-1] == n_classes:
        return nn.CrossEntropyLoss(), y
    expected = "1 (or 2)" if n_classes == 2 else str(n_classes)
    raise UsageError(
        f"--layers: the last size must be {expected} for {n_classes} classes in {where}, got {sizes[-1]}"
    )


def _probabilities(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """points -> the model's probability of class 1 (sigmoid of its logit), or its class scores."""

    def predict(points: np.ndarray) -> np.ndarray:
        out = train.predict(model, points)
        if out.ndim == 2 and out.shape[1] > 1:
            return out
        return 1.0 / (1.0 + np.exp(-np.clip(out, -500, 500)))

    return predict


def _pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # pictures go to files; no window is ever opened
    import matplotlib.pyplot as plt

    return plt


def _say(quiet: bool, *parts: Any) -> None:
    if not quiet:
        print(*parts, flush=True)


# --- compare ----------------------------------------------------------------------------------


def _compare_setup(
    args: argparse.Namespace,
) -> tuple[Callable[[], nn.Module], Any, np.ndarray, np.ndarray, Any]:
    """The course's experiment: make_model, loss, X, Y (n, 1) and the course's mini-batches."""
    X, y = _load_dataset(args.dataset, args.samples, args.noise, args.seed)
    Y = y.reshape(-1, 1).astype(np.float64)
    sizes = [2, 5, 2, 1]

    def make_model() -> nn.Module:
        return make_network(sizes, args.seed)

    def batches(epoch: int) -> list[tuple[np.ndarray, np.ndarray]]:
        # The course reshuffles with seed 11, 12, ... (seed 3 + 8 + epoch) before each epoch.
        return data.random_mini_batches(X, Y, args.batch_size, seed=args.seed + 8 + epoch)

    return make_model, nn.BCEWithLogitsLoss(), X, Y, batches


def _compare_one(
    args: argparse.Namespace, name: str
) -> tuple[dict, train.History, dict, Optional[str], bool]:
    """Train one optimizer (in a worker process); return plain data that pickles."""
    make_model, loss_fn, X, Y, batches = _compare_setup(args)
    result = train.compare_optimizers(
        make_model,
        loss_fn,
        {name: lambda p: OPTIMIZERS[name](p, args.lr)},
        X,
        Y,
        args.epochs,
        batches=batches,
        progress=False,
    )
    error = str(result.errors[name]) if name in result.errors else None
    return result.rows[0], result.histories[name], result.models[name].state_dict(), error, result.interrupted


def _default_jobs(n_optimizers: int) -> int:
    """One process per optimizer when there is more than one CPU (at most 4 per CPU).

    More processes than CPUs is on purpose: the runs take the same time, so 3 runs
    sharing 2 CPUs all end after 1.5 runs' time, where 2 processes would take 2 (one of
    them trains two optimizers, one after the other, while the other CPU idles)."""
    cpus = os.cpu_count() or 1
    return 1 if cpus == 1 else min(n_optimizers, 4 * cpus)


def _compare_in_processes(args: argparse.Namespace, jobs: int) -> train.Comparison:
    """Each optimizer in its own process (the runs are independent); one line as each one ends."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    make_model = _compare_setup(args)[0]
    done: dict[str, Any] = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_compare_one, args, name): name for name in args.optimizers}
        for future in as_completed(futures):
            name = futures[future]
            done[name] = future.result()
            row = done[name][0]
            _say(args.quiet, f"  {name:<12s} done: accuracy {row['accuracy']:.4f}, {row['time']:.1f} s")
    result = train.Comparison()
    for name in args.optimizers:  # rows in the order asked for, whatever finished first
        row, history, state, error, interrupted = done[name]
        model = make_model()
        model.load_state_dict(state)
        result.rows.append(row)
        result.histories[name] = history
        result.models[name] = model
        if error is not None:
            result.errors[name] = RuntimeError(error)
        result.interrupted |= interrupted
    return result


def _write_compare_pictures(result: train.Comparison, X: np.ndarray, y: np.ndarray, out: str) -> list[str]:
    """Cost curves of every run and one decision-boundary panel per optimizer, as PNG and SVG."""
    from tinygrad_edu import plot

    plt = _pyplot()
    os.makedirs(out, exist_ok=True)
    written = []
    names = list(result.histories)
    curves = plot.plot_history(result.histories, title="training")
    n = len(names)
    boundaries, axes = plt.subplots(1, n, figsize=(4.5 * n, 4.0), squeeze=False, constrained_layout=True)
    for ax, name in zip(axes[0], names):
        row = next(r for r in result.rows if r["name"] == name)
        plot.plot_decision_boundary(
            _probabilities(result.models[name]), X, y, ax=ax, title=f"{name}: accuracy {row['accuracy']:.4f}"
        )
    for fig, stem in ((curves, "costs"), (boundaries, "decision_boundaries")):
        for suffix in ("png", "svg"):
            path = os.path.join(out, f"{stem}.{suffix}")
            fig.savefig(path, dpi=120, bbox_inches="tight")
            written.append(path)
        plt.close(fig)
    return written


def cmd_compare(args: argparse.Namespace) -> int:
    """Train the course's [2, 5, 2, 1] network with several optimizers; print the table, draw the runs."""
    if args.samples < args.batch_size and not args.quiet:
        print(f"note: {args.samples} samples with --batch-size {args.batch_size}: one batch per epoch")
    plt = None if args.no_plots else _pyplot()
    if args.noise is None:
        args.noise = DEFAULT_NOISE[args.dataset]
    make_model, loss_fn, X, Y, batches = _compare_setup(args)
    n_batches = len(batches(0))
    jobs = min(args.jobs or _default_jobs(len(args.optimizers)), len(args.optimizers))
    _say(
        args.quiet,
        f"{args.dataset}: {args.samples} points (noise {args.noise}, seed {args.seed}); network 2-5-2-1 "
        f"(ReLU, sigmoid output); lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs "
        f"= {args.epochs * n_batches} steps per optimizer; {', '.join(args.optimizers)}"
        + (f" in {jobs} processes" if jobs > 1 else ""),
    )
    start = time.perf_counter()
    if jobs > 1:
        result = _compare_in_processes(args, jobs)
    else:
        count = iter(range(1, len(args.optimizers) + 1))

        def announced(name: str) -> Callable[[Any], optim.Optimizer]:
            def make(params: Any) -> optim.Optimizer:
                _say(args.quiet, f"  [{next(count)}/{len(args.optimizers)}] {name}")
                return OPTIMIZERS[name](params, args.lr)

            return make

        result = train.compare_optimizers(
            make_model,
            loss_fn,
            {name: announced(name) for name in args.optimizers},
            X,
            Y,
            args.epochs,
            batches=batches,
            progress=not args.quiet,
        )
    print()
    print(result.table())
    best = result.best
    _say(args.quiet, f"\nbest (lowest final loss): {best}; total {time.perf_counter() - start:.1f} s")
    if result.interrupted:
        print("interrupted: the table shows the runs so far", file=sys.stderr)
    if args.no_plots:
        return 0
    if plt is None:
        print(f"pictures skipped: they need matplotlib ({PLOT_HINT})", file=sys.stderr)
        return 0
    for path in _write_compare_pictures(result, X, Y[:, 0].astype(np.int64), args.out):
        _say(args.quiet, f"wrote {path}")
    return 0


# --- train ------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    """Train one network; print the final loss and accuracy; save a checkpoint when asked."""
    n_classes = args.classes if args.dataset == "spirals" else 2
    sizes = args.layers
    X, y = _load_dataset(args.dataset, args.samples, args.noise, args.seed, n_classes)
    loss_fn, Y = _loss_and_targets(sizes, y, n_classes, args.dataset)
    model = make_network(sizes, args.seed, args.activation, args.dropout)
    lr = args.schedule(args.lr) if args.schedule is not None else args.lr
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr)
    _say(
        args.quiet, f"{args.dataset}: {len(X)} points; network {'-'.join(map(str, sizes))}; {args.optimizer}"
    )
    try:
        history = train.fit(
            model,
            loss_fn,
            optimizer,
            X,
            Y,
            args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=not args.quiet,
        )
    except train.NonFiniteLossError as err:
        print(f"{PROG} train: {str(err).split('. ')[0]}; try a smaller --lr", file=sys.stderr)
        return 1
    scores = train.evaluate(model, loss_fn, X, Y)
    epochs_done = len(history.epoch)
    print(
        f"epochs {epochs_done}  loss {scores['loss']:.6f}  accuracy {scores['accuracy']:.4f}  "
        f"time {history.total_time:.2f} s" + ("  (interrupted)" if history.interrupted else "")
    )
    if args.checkpoint:
        from tinygrad_edu.serialization import save

        folder = os.path.dirname(os.path.abspath(args.checkpoint))
        os.makedirs(folder, exist_ok=True)
        save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epochs_done},
            args.checkpoint,
        )
        _say(args.quiet, f"wrote {args.checkpoint}")
    return 0


# --- graph ------------------------------------------------------------------------------------

EXPRESSION_FUNCTIONS = ("tanh", "exp", "log", "relu", "sigmoid")
MAX_EXPRESSION_LENGTH = 500
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
Node = Union[Value, Tensor, float]


def _values(text: str) -> dict[str, float]:
    """``"a=2,b=-3"`` -> {"a": 2.0, "b": -3.0}."""
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, eq, number = item.partition("=")
        name = name.strip()
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not eq or not name.isidentifier() or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected name=number pairs such as a=2,b=-3; got {item!r}")
        out[name] = value
    return out


def parse_expression(text: str) -> ast.expr:
    """Parse ``text`` as an expression and check that it holds only what we know how to draw.

    Allowed: variable names, numbers, ``+ - * / **``, unary ``-``/``+`` and calls such as
    ``tanh(x)`` of the functions in ``EXPRESSION_FUNCTIONS``. Nothing is ever evaluated by
    Python: the tree is checked here and walked by ``build_expression``.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise UsageError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise UsageError(f"cannot parse the expression {text!r}: {err.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise UsageError(f"cannot parse the expression {text!r}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.operator, ast.unaryop, ast.expr_context)):
            continue
        ok = (
            (isinstance(node, ast.BinOp) and type(node.op) in _BINARY)
            or (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)))
            or isinstance(node, ast.Name)
            or (isinstance(node, ast.Constant) and type(node.value) in (int, float))
            or (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in EXPRESSION_FUNCTIONS
                and len(node.args) == 1
                and not node.keywords
                and not isinstance(node.args[0], ast.Starred)
            )
        )
        if not ok:
            what = ast.get_source_segment(text.strip(), node) or type(node).__name__
            raise UsageError(
                f"{what!r} is not allowed in an expression: use variables, numbers, + - * / **, and "
                f"calls of {', '.join(EXPRESSION_FUNCTIONS)} with one argument"
            )
    return tree


def build_expression(tree: ast.expr, values: dict[str, float], engine: str) -> Union[Value, Tensor]:
    """Compute the checked expression; its variables become ``Value`` or 0-d float64 ``Tensor`` leaves."""
    leaves: dict[str, Union[Value, Tensor]] = {}

    def leaf(name: str) -> Union[Value, Tensor]:
        if name not in leaves:
            if name in EXPRESSION_FUNCTIONS:
                raise UsageError(f"{name} is a function: call it, as in {name}(x)")
            if name not in values:
                raise UsageError(
                    f"unknown variable {name!r} in the expression; give it with --values {name}=..."
                )
            v = values[name]
            leaves[name] = (
                Value(v, label=name)
                if engine == "value"
                else Tensor(np.float64(v), requires_grad=True, name=name)
            )
        return leaves[name]

    def node_of(x: Node) -> Union[Value, Tensor]:
        return x if not isinstance(x, float) else (Value(x) if engine == "value" else Tensor(np.float64(x)))

    def walk(node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return leaf(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            return getattr(node_of(walk(node.args[0])), node.func.id)()
        assert isinstance(node, ast.BinOp)
        a, b = walk(node.left), walk(node.right)
        op = _BINARY[type(node.op)]
        if op == "**":
            if isinstance(a, float) and isinstance(b, float):
                return math.pow(a, b)
            if engine == "value" and isinstance(b, Value):
                if isinstance(a, Value):
                    raise UsageError(
                        "with --engine value, an exponent must be a number (try --engine tensor)"
                    )
            return a**b
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b

    try:
        with np.errstate(all="ignore"):  # NaN/Inf show in red in the picture instead
            root = walk(tree)
    except (ArithmeticError, ValueError) as err:
        raise UsageError(f"cannot compute the expression: {err}") from None
    except RecursionError:
        raise UsageError("the expression is nested too deeply") from None
    if isinstance(root, float) or not leaves:
        raise UsageError("the expression has no variables, so there is nothing to differentiate")
    unused = sorted(set(values) - set(leaves))
    if unused:
        raise UsageError(f"--values gives {', '.join(unused)}, which the expression does not use")
    return root


def _network_loss(args: argparse.Namespace) -> tuple[Tensor, nn.Module]:
    """A small network's loss on a few moons points: the graph of one training step."""
    sizes = args.layers
    X, y = data.make_moons(args.samples, noise=0.2, seed=args.seed)
    loss_fn, Y = _loss_and_targets(sizes, y, 2, "moons")
    model = make_network(sizes, args.seed)
    if isinstance(model, nn.Sequential):
        model.fuse = False  # the picture shows each Linear and each ReLU as its own op
    loss = loss_fn(model(Tensor(X)), Y)
    loss.name = "loss"
    return loss, model


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw an expression's (or a small network's loss's) graph with the gradients; optionally the frames."""
    from tinygrad_edu import viz

    model = None
    if args.expression is not None:
        root = build_expression(parse_expression(args.expression), args.values or {}, args.engine or "value")
    else:
        if args.values:
            raise UsageError("--values is for an expression; give the expression too")
        if args.engine == "value":
            raise UsageError(
                "the network's graph is drawn with tensors; drop --engine value or give an expression"
            )
        root, model = _network_loss(args)
    frames = viz.trace_backward(root) if args.frames else None  # before backward frees a Tensor graph
    if isinstance(root, Tensor):
        root.backward(retain_graph=True)
    else:
        root.backward()
    digraph = viz.draw_graph(root, model=model, rankdir=args.rankdir)
    os.makedirs(args.out, exist_ok=True)
    try:
        for fmt in args.formats:
            _say(args.quiet, "wrote", viz.render(digraph, os.path.join(args.out, f"{args.name}.{fmt}"), fmt))
        if frames is not None:
            folder = os.path.join(args.out, f"{args.name}_frames")
            paths = viz.save_frames(frames, folder, format=args.formats[0], rankdir=args.rankdir)
            _say(args.quiet, f"wrote {len(paths)} backprop frames to {folder}")
    except viz.GraphvizNotFoundError as err:
        print(f"{PROG} graph: {err}", file=sys.stderr)
        return 1
    value = root.data if isinstance(root, Value) else float(root.data)
    _say(args.quiet, f"value {value:.6g}")
    return 0


def _formats(text: str) -> list[str]:
    formats = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [f for f in formats if f not in ("svg", "png", "pdf")]
    if not formats or bad:
        raise argparse.ArgumentTypeError(f"expected svg, png or pdf separated by commas, got {text!r}")
    return formats


# --- gradcheck --------------------------------------------------------------------------------


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Check a small float64 network's backprop gradients against central differences."""
    from tinygrad_edu.gradcheck import check_model

    n_classes = args.classes if args.dataset == "spirals" else 2
    X, y = _load_dataset(args.dataset, args.samples, None, args.seed, n_classes)
    loss_fn, Y = _loss_and_targets(args.layers, y, n_classes, args.dataset)
    model = make_network(args.layers, args.seed, args.activation, args.dropout)
    report = check_model(model, loss_fn, X, Y, eps=args.eps, threshold=args.threshold)
    print(report)  # the table, then a PASSED / FAILED line
    return 0 if report.passed else 1


# --- the parser -------------------------------------------------------------------------------


def _data_options(
    p: argparse.ArgumentParser, samples: int, seed: int, datasets: Sequence[str] = DATASETS
) -> None:
    p.add_argument(
        "--dataset", choices=datasets, default="moons", help="the 2-D toy data set (default moons)"
    )
    p.add_argument(
        "--samples", type=_int_at_least(1), default=samples, help=f"number of points (default {samples})"
    )
    p.add_argument(
        "--seed",
        type=_int_at_least(0),
        default=seed,
        help=f"seed of the data, the initial weights and the shuffles (default {seed})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="tinygrad_edu from the command line: compare optimizers, train a network, "
        "draw computation graphs, check gradients.",
        epilog=f"'{PROG} COMMAND --help' describes a command's options.",
    )
    from tinygrad_edu import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # compare
    p = sub.add_parser(
        "compare",
        help="the course's experiment: gd, momentum and adam on the moons data",
        description="Train the course's [2, 5, 2, 1] network (ReLU, sigmoid output, He init) on the moons "
        "data from identical initial weights with several optimizers, print a table (final loss, "
        "training accuracy, time) and write the cost curves and decision boundaries as PNG and SVG.",
    )
    p.add_argument(
        "--epochs", type=_int_at_least(1), default=10_000, help="epochs per optimizer (default 10000)"
    )
    p.add_argument(
        "--optimizers",
        type=_optimizer_names,
        default=["gd", "momentum", "adam"],
        help=f"comma-separated, from {', '.join(OPTIMIZERS)} (default gd,momentum,adam)",
    )
    p.add_argument("--lr", type=_positive_float, default=0.0007, help="learning rate (default 0.0007)")
    p.add_argument("--batch-size", type=_int_at_least(1), default=64, help="mini-batch size (default 64)")
    _data_options(p, 300, 3, ("moons", "circles"))
    p.add_argument(
        "--noise", type=_noise, default=None, help="noise of the data (default moons 0.2, circles 0.05)"
    )
    p.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the pictures (default ./{DEFAULT_OUT})")
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    p.add_argument(
        "--jobs",
        type=_int_at_least(1),
        default=None,
        help="processes to train in (default: one per optimizer when there is more than one CPU; "
        "1 shows a progress bar)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.set_defaults(run=cmd_compare)

    # train
    p = sub.add_parser(
        "train",
        help="train one network and save a checkpoint",
        description="Train one network (He init, logits out: BCE with logits for one output, cross-entropy "
        "for several) and print its final loss and accuracy on the training data.",
    )
    p.add_argument(
        "--layers",
        type=_layers,
        default=[2, 16, 16, 1],
        help="sizes from input to output (default 2,16,16,1; spirals: last = --classes)",
    )
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu", help="hidden activation")
    p.add_argument(
        "--optimizer",
        type=_optimizer_name,
        default="adam",
        help=f"one of {', '.join(OPTIMIZERS)} (default adam)",
    )
    p.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument(
        "--schedule",
        type=_schedule,
        default=None,
        help="learning-rate schedule over steps: exponential:RATE:STEPS[:staircase], "
        "inverse-time:RATE:STEPS[:staircase], cosine:STEPS[:ALPHA], piecewise:B1,B2:V1,V2,V3",
    )
    p.add_argument("--epochs", type=_int_at_least(1), default=1000, help="epochs (default 1000)")
    p.add_argument("--batch-size", type=_int_at_least(1), default=64, help="mini-batch size (default 64)")
    _data_options(p, 300, 0)
    p.add_argument("--noise", type=_noise, default=None, help="noise of the data (default per data set)")
    p.add_argument("--classes", type=_int_at_least(2), default=3, help="classes of the spirals (default 3)")
    p.add_argument("--dropout", type=_probability, default=0.0, help="dropout after each hidden layer")
    p.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="save {model, optimizer, epoch} to PATH (.npz) after training",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_train)

    # graph
    p = sub.add_parser(
        "graph",
        help="draw the computation graph of an expression or of a small network's loss",
        description="Draw a computation graph with its values and gradients (needs Graphviz's dot). "
        "With an EXPRESSION such as 'tanh(a*b + c)' and --values a=2,b=-3,c=10, draw that; "
        "without one, draw a small network's loss on a few moons points. The expression is "
        "parsed, never run by Python: only variables, numbers, + - * / ** and "
        f"{', '.join(EXPRESSION_FUNCTIONS)} are allowed.",
    )
    p.add_argument("expression", nargs="?", default=None, help="e.g. 'tanh(a*b + c)'")
    p.add_argument("--values", type=_values, default=None, help="the variables' values, e.g. a=2,b=-3,c=10")
    p.add_argument(
        "--engine",
        choices=("value", "tensor"),
        default=None,
        help="scalar Value nodes or 0-d Tensors (default value)",
    )
    p.add_argument("--layers", type=_layers, default=[2, 3, 1], help="the network without expression (2,3,1)")
    p.add_argument("--samples", type=_int_at_least(1), default=4, help="points in the network's batch (4)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="seed of the network and its data")
    p.add_argument("--frames", action="store_true", help="also write the backward pass, one picture per op")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default ./{DEFAULT_OUT})")
    p.add_argument("--name", default="graph", help="file name without suffix (default graph)")
    p.add_argument("--formats", type=_formats, default=["svg", "png"], help="svg,png (default) or pdf")
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="left to right or top to bottom")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(run=cmd_graph)

    # gradcheck
    p = sub.add_parser(
        "gradcheck",
        help="check a network's backprop gradients against finite differences",
        description="Run gradcheck.check_model on a small float64 network: the relative error "
        "||g - g_num|| / (||g|| + ||g_num||) per parameter. Exit status 0 when it passes, 1 when not.",
    )
    p.add_argument("--layers", type=_layers, default=[2, 5, 2, 1], help="sizes (default 2,5,2,1)")
    p.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default="tanh",
        help="hidden activation (default tanh; relu has kinks, which are listed)",
    )
    p.add_argument("--dropout", type=_probability, default=0.0, help="dropout (its masks are replayed)")
    _data_options(p, 16, 0)
    p.add_argument("--classes", type=_int_at_least(2), default=3, help="classes of the spirals (default 3)")
    p.add_argument("--eps", type=_positive_float, default=1e-7, help="finite-difference step (default 1e-7)")
    p.add_argument("--threshold", type=_positive_float, default=1e-7, help="pass below this (default 1e-7)")
    p.set_defaults(run=cmd_gradcheck)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) or a bad argument (2, already printed)
        return stop.code if isinstance(stop.code, int) else 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        # Overflow and NaN are reported by the commands themselves (fit stops on a non-finite loss,
        # pictures show NaN in red), so numpy's warnings would only repeat them less clearly.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return args.run(args)
    except UsageError as err:
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
