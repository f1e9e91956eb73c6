"""``tinygrad-edu compare``: the course's optimizer experiment on the moons data."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable, Optional

import numpy as np

from tinygrad_edu import _files, data, nn, optim, train
from tinygrad_edu.cli.common import (
    DEFAULT_NOISE,
    DEFAULT_OUT,
    OPTIMIZERS,
    PLOT_HINT,
    PROG,
    QUIET_HELP,
    SEED_MAX,
    UsageError,
    check_output_folder,
    data_options,
    divergence,
    int_at_least,
    load_dataset,
    make_network,
    noise_level,
    optimizer_names,
    output_path,
    positive_float,
    probabilities,
    pyplot,
    say,
)


def _compare_setup(
    args: argparse.Namespace,
) -> tuple[Callable[[], nn.Module], Any, np.ndarray, np.ndarray, Any]:
    """The course's experiment: make_model, loss, X, Y (n, 1) and the course's mini-batches."""
    X, y = load_dataset(args.dataset, args.samples, args.noise, args.seed)
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
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as main() does in this process
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
            say(args.quiet, f"  {name:<12s} done: accuracy {row['accuracy']:.4f}, {row['time']:.1f} s")
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

    plt = pyplot()
    os.makedirs(out, exist_ok=True)
    written = []
    names = list(result.histories)
    curves = plot.plot_history(result.histories, title="training")
    n = len(names)
    boundaries, axes = plt.subplots(1, n, figsize=(4.5 * n, 4.0), squeeze=False, constrained_layout=True)
    for ax, name in zip(axes[0], names):
        row = next(r for r in result.rows if r["name"] == name)
        plot.plot_decision_boundary(
            probabilities(result.models[name]), X, y, ax=ax, title=f"{name}: accuracy {row['accuracy']:.4f}"
        )
    for fig, stem in ((curves, "costs"), (boundaries, "decision_boundaries")):
        for suffix in ("png", "svg"):
            path = os.path.join(out, f"{stem}.{suffix}")
            with _files.atomic_path(path, where="compare") as tmp:  # all or nothing
                fig.savefig(tmp, format=suffix, dpi=120, bbox_inches="tight")
            written.append(path)
        plt.close(fig)
    return written


def _check_args(args: argparse.Namespace, plt: Any) -> None:
    """What can be checked before the training: the seeds the shuffles use and the output folder
    (created only when the pictures can be drawn, but checked even without matplotlib)."""
    last_seed = args.seed + 8 + args.epochs - 1
    if last_seed > SEED_MAX:
        raise UsageError(
            f"--seed: the shuffles use seeds --seed + 8 + epoch, up to {last_seed} here, and seeds "
            f"must be <= {SEED_MAX}; use a smaller --seed or fewer --epochs"
        )
    if not args.no_plots:
        check_output_folder(args.out, "--out", create=plt is not None)


def _train_all(args: argparse.Namespace, jobs: int) -> train.Comparison:
    """Every optimizer from the same initial weights, in ``jobs`` processes or one after the other."""
    if jobs > 1:
        return _compare_in_processes(args, jobs)
    make_model, loss_fn, X, Y, batches = _compare_setup(args)
    count = iter(range(1, len(args.optimizers) + 1))

    def announced(name: str) -> Callable[[Any], optim.Optimizer]:
        def make(params: Any) -> optim.Optimizer:
            say(args.quiet, f"  [{next(count)}/{len(args.optimizers)}] {name}")
            return OPTIMIZERS[name](params, args.lr)

        return make

    return train.compare_optimizers(
        make_model,
        loss_fn,
        {name: announced(name) for name in args.optimizers},
        X,
        Y,
        args.epochs,
        batches=batches,
        progress=not args.quiet,
    )


def _diverged(result: train.Comparison, initial_loss: float) -> list[str]:
    """One line per run that diverged: a non-finite loss, or a final loss far above the initial one."""
    lines = []
    for row in result.rows:
        name = row["name"]
        why = divergence(initial_loss, row["loss"])
        if name in result.errors:
            why = "its loss became NaN or infinite"
        if why:
            lines.append(f"{PROG} compare: {name} diverged: {why}; try a smaller --lr")
    return lines


def run(args: argparse.Namespace) -> int:
    """Train the course's [2, 5, 2, 1] network with several optimizers; print the table, draw the runs."""
    plt = None if args.no_plots else pyplot()
    _check_args(args, plt)
    if args.samples < args.batch_size and not args.quiet:
        print(f"note: {args.samples} samples with --batch-size {args.batch_size}: one batch per epoch")
    if args.noise is None:
        args.noise = DEFAULT_NOISE[args.dataset]
    make_model, loss_fn, X, Y, batches = _compare_setup(args)
    initial_loss = train.evaluate(make_model(), loss_fn, X, Y)["loss"]
    jobs = min(args.jobs or _default_jobs(len(args.optimizers)), len(args.optimizers))
    say(
        args.quiet,
        f"{args.dataset}: {args.samples} points (noise {args.noise}, seed {args.seed}); network 2-5-2-1 "
        f"(ReLU, sigmoid output); lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs "
        f"= {args.epochs * len(batches(0))} steps per optimizer; {', '.join(args.optimizers)}"
        + (f" in {jobs} processes" if jobs > 1 else ""),
    )
    start = time.perf_counter()
    result = _train_all(args, jobs)
    say(args.quiet, "")
    print(result.table())
    say(args.quiet, f"\nbest (lowest final loss): {result.best}; total {time.perf_counter() - start:.1f} s")
    if result.interrupted:
        print("interrupted: the table shows the runs so far", file=sys.stderr)
    if plt is None and not args.no_plots:
        print(f"pictures skipped: they need matplotlib ({PLOT_HINT})", file=sys.stderr)
    elif plt is not None:
        for path in _write_compare_pictures(result, X, Y[:, 0].astype(np.int64), args.out):
            say(args.quiet, f"wrote {path}")
    diverged = _diverged(result, initial_loss)
    for line in diverged:
        print(line, file=sys.stderr)
    return 1 if diverged else 0


def add_parser(sub: Any) -> None:
    """The ``compare`` subcommand and its options."""
    p = sub.add_parser(
        "compare",
        help="the course's experiment: gd, momentum and adam on the moons data",
        description="Train the course's [2, 5, 2, 1] network (ReLU, sigmoid output, He init) on the moons "
        "data from identical initial weights with several optimizers, print a table (final loss, "
        "training accuracy, time) and write the cost curves and decision boundaries as PNG and SVG.",
    )
    p.add_argument(
        "--epochs", type=int_at_least(1), default=10_000, help="epochs per optimizer (default 10000)"
    )
    p.add_argument(
        "--optimizers",
        type=optimizer_names,
        default=["gd", "momentum", "adam"],
        help=f"comma-separated, from {', '.join(OPTIMIZERS)} (default gd,momentum,adam)",
    )
    p.add_argument("--lr", type=positive_float, default=0.0007, help="learning rate (default 0.0007)")
    p.add_argument("--batch-size", type=int_at_least(1), default=64, help="mini-batch size (default 64)")
    data_options(p, 300, 3, ("moons", "circles"))
    p.add_argument(
        "--noise", type=noise_level, default=None, help="noise of the data (default moons 0.2, circles 0.05)"
    )
    p.add_argument(
        "--out",
        type=output_path,
        default=DEFAULT_OUT,
        help=f"folder for the pictures (default ./{DEFAULT_OUT})",
    )
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    p.add_argument(
        "--jobs",
        type=int_at_least(1),
        default=None,
        help="processes to train in (default: one per optimizer when there is more than one CPU; "
        "1 shows a progress bar)",
    )
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP + " (the table)")
    p.set_defaults(run=run)
