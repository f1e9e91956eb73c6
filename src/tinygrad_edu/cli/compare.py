"""``tinygrad-edu compare``: the course's optimizer experiment on the moons data."""

from __future__ import annotations

import argparse
import os
import signal
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
    SEED_MAX,
    UsageError,
    check_output_folder,
    ctrl_c_stops,
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
    quiet_help,
    say,
    stop_flag,
    stoppable,
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


# --- Ctrl-C in the worker processes ----------------------------------------------------------
# The main process catches Ctrl-C (common.ctrl_c_stops) and sets a flag in shared memory; the
# workers ignore Ctrl-C and their runs stop at that flag, between two steps (common.stoppable).


_STOP: Any = None
"""In a worker process: the main process's stop flag (set by _start_worker)."""


def _start_worker(stop: Any) -> None:
    """A worker process ignores Ctrl-C and stops its run when the main process sets ``stop``."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop


def _compare_one(
    args: argparse.Namespace, name: str
) -> Optional[tuple[dict, train.History, dict, Optional[str], bool]]:
    """Train one optimizer (in a worker process); return plain data that pickles, or None when
    Ctrl-C came before this run started."""
    stop = _STOP if _STOP is not None else stop_flag()  # (None when called outside a worker)
    if stop.value:
        return None
    if not args.quiet:  # one write, so that the lines of the processes do not mix
        sys.stdout.write(f"  {name:<12s} started\n")
        sys.stdout.flush()
    make_model, loss_fn, X, Y, batches = _compare_setup(args)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as main() does in this process
        result = train.compare_optimizers(
            make_model,
            loss_fn,
            {name: lambda p: OPTIMIZERS[name](p, args.lr)},
            X,
            Y,
            args.epochs,
            batches=stoppable(batches, stop),
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


def _compare_in_processes(args: argparse.Namespace, jobs: int, stop: Any) -> train.Comparison:
    """Each optimizer in its own process (the runs are independent); one line as each one ends."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    done: dict[str, Any] = {}
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(stop,)) as pool:
        try:
            futures = _submit_all(pool, args)
            for future in as_completed(futures):
                name = futures[future]
                done[name] = future.result()
                if done[name] is not None:
                    row, interrupted = done[name][0], done[name][4]
                    say(
                        args.quiet,
                        f"  {name:<12s} {'stopped' if interrupted else 'done'}: "
                        f"accuracy {row['accuracy']:.4f}, {row['time']:.1f} s",
                    )
        except BaseException:
            stop.value = 1  # a second Ctrl-C or an error: the runs still going end, and the pool closes
            raise
    return _gathered(args, done)


def _submit_all(pool: Any, args: argparse.Namespace) -> dict[Any, str]:
    """Submit every run. The worker processes start now, with Ctrl-C blocked, so that none is
    interrupted before _start_worker makes it ignore Ctrl-C; one pressed meanwhile waits, and
    reaches this process's handler once unblocked."""
    block = getattr(signal, "pthread_sigmask", None)  # not on Windows
    if block is not None:
        block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return {pool.submit(_compare_one, args, name): name for name in args.optimizers}
    finally:
        if block is not None:
            block(signal.SIG_UNBLOCK, {signal.SIGINT})


def _gathered(args: argparse.Namespace, done: dict[str, Any]) -> train.Comparison:
    """The workers' results as one Comparison, in the order asked for, without the runs that never
    started (Ctrl-C came first)."""
    make_model = _compare_setup(args)[0]
    result = train.Comparison()
    for name in args.optimizers:
        if done.get(name) is None:
            result.interrupted = True
            continue
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


PICTURES = tuple(f"{stem}.{suffix}" for stem in ("costs", "decision_boundaries") for suffix in ("png", "svg"))
"""The files compare writes into --out, in this order."""


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


def _pictures(args: argparse.Namespace, result: train.Comparison, X: np.ndarray, y: np.ndarray) -> bool:
    """Write the four pictures, which belong together: a first Ctrl-C while they are written lets
    them finish (and returns True: interrupted), a second stops at once and says which files are new."""
    stop = stop_flag()
    began = time.time()
    try:
        with ctrl_c_stops(stop):
            written = _write_compare_pictures(result, X, y, args.out)
    except KeyboardInterrupt:
        new = ", ".join(name for name in PICTURES if _written_since(os.path.join(args.out, name), began))
        print(
            f"{PROG} compare: interrupted while writing the pictures: new in {args.out}: {new or 'none'}; "
            "any other picture there is from an earlier run",
            file=sys.stderr,
        )
        raise  # (main says "interrupted" and exits with 130)
    for path in written:
        say(args.quiet, f"wrote {path}")
    if stop.value:
        print(f"{PROG} compare: interrupted: the pictures were finished first", file=sys.stderr)
    return bool(stop.value)


def _written_since(path: str, began: float) -> bool:
    """Whether the file at ``path`` was (completely: each is renamed into place) written since ``began``."""
    try:
        return os.stat(path).st_mtime >= began - 1.0  # (a file system's coarse clock)
    except OSError:
        return False


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


def _train_all(args: argparse.Namespace, jobs: int, stop: Any) -> train.Comparison:
    """Every optimizer from the same initial weights, in ``jobs`` processes or one after the other."""
    if jobs > 1:
        return _compare_in_processes(args, jobs, stop)
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
        batches=stoppable(batches, stop),
        progress=not args.quiet,
    )


def _diverged(result: train.Comparison, initial_loss: float) -> dict[str, str]:
    """A line for each run that diverged (a non-finite loss, or a final loss far above the initial
    one), by the run's name."""
    lines = {}
    for row in result.rows:
        name = row["name"]
        why = divergence(initial_loss, row["loss"])
        if name in result.errors:
            why = "its loss became NaN or infinite"
        if why:
            lines[name] = f"{PROG} compare: {name} diverged: {why}; try a smaller --lr"
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
    start = time.perf_counter()
    stop = stop_flag()
    with ctrl_c_stops(stop):  # from here on, Ctrl-C ends the runs and the table is still printed
        say(
            args.quiet,
            f"{args.dataset}: {args.samples} points (noise {args.noise}, seed {args.seed}); network "
            f"2-5-2-1 (ReLU, sigmoid output); lr {args.lr}, batch {args.batch_size}, {args.epochs} "
            f"epochs = {args.epochs * len(batches(0))} steps per optimizer; {', '.join(args.optimizers)}"
            + (f" in {jobs} processes" if jobs > 1 else ""),
        )
        result = _train_all(args, jobs, stop)
    interrupted = result.interrupted or bool(stop.value)
    diverged = _diverged(result, initial_loss)
    _print_table(args, result, time.perf_counter() - start, diverged)
    if interrupted:
        what = "the table shows the runs completed or stopped so far" if result.rows else "no run had started"
        print(f"{PROG} compare: interrupted: {what}; no pictures written", file=sys.stderr)
    elif plt is None and not args.no_plots:
        print(f"pictures skipped: they need matplotlib ({PLOT_HINT})", file=sys.stderr)
    elif plt is not None:
        interrupted = _pictures(args, result, X, Y[:, 0].astype(np.int64))
    for line in diverged.values():
        print(line, file=sys.stderr)
    return 130 if interrupted else 1 if diverged else 0


def _print_table(args: argparse.Namespace, result: train.Comparison, seconds: float, diverged: Any) -> None:
    """The table and the best run among those that did not diverge (nothing when Ctrl-C came
    before any run started)."""
    say(args.quiet, "")
    if result.rows:
        print(result.table())
        healthy = [r for r in result.rows if r["name"] not in diverged and result.finished(r["name"])]
        everyone_diverged = all(r["name"] in diverged for r in result.rows)
        none = "none (every run diverged)" if everyone_diverged else "none (no run finished)"
        best = min(healthy, key=lambda r: r["loss"])["name"] if healthy else none
        say(args.quiet, f"\nbest (lowest final loss): {best}; total {seconds:.1f} s")


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
    p.add_argument("--quiet", action="store_true", help=quiet_help("the table"))
    p.set_defaults(run=run)
