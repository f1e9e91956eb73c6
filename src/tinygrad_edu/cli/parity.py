"""``tinygrad-edu parity``: train a checkpoint's network here and in PyTorch side by side and compare."""

from __future__ import annotations

import argparse
import math
from typing import Any

from tinygrad_edu import nn
from tinygrad_edu.cli.common import (
    OPTIMIZERS,
    UsageError,
    int_at_least,
    load_dataset,
    loss_and_targets,
    optimizer_name,
    positive_float,
    quiet_help,
    say,
    seed_value,
    torch_optimizer_reason,
)
from tinygrad_edu.cli.export import load_checkpoint, rebuild_model, rebuild_optimizer


def run(args: argparse.Namespace) -> int:
    """Print compare_with_torch's table; exit 0 when every difference is at most --tolerance, else 1."""
    from tinygrad_edu import interop

    ckpt = load_checkpoint(args.checkpoint)
    training = dict(ckpt.get("training") or {})
    model = rebuild_model(ckpt)
    dropouts = [m for m in model.modules() if type(m) is nn.Dropout]
    if dropouts:
        for m in dropouts:
            m.eval()  # the identity: each framework would draw its own random masks
        say(args.quiet, f"dropout (p={dropouts[0].p}) is switched off: PyTorch would draw other masks")
    optimizer = _optimizer(ckpt, model, args)
    dataset = str(training.get("dataset", "moons"))
    classes = int(training.get("classes", 2))
    noise = training.get("noise")
    X, y = load_dataset(dataset, int(training.get("samples", 300)), None if noise is None else float(noise),
                        int(training.get("seed", 0)), classes)
    sizes = [int(n) for n in ckpt["architecture"]["layers"]]
    loss_fn, Y = loss_and_targets(sizes, y, classes, dataset)
    batch_size = args.batch_size or int(training.get("batch_size", 64))
    try:
        report = interop.compare_with_torch(
            model, loss_fn, optimizer, X, Y, steps=args.steps, batch_size=batch_size, seed=args.seed,
            verbose=False,
        )
    except ImportError as err:
        raise UsageError(str(err)) from None
    except ValueError as err:
        instead = "with {option}, parity compares a fresh optimizer"
        raise UsageError(torch_optimizer_reason(str(err), instead)) from None
    print(report)
    return _verdict(report, args.tolerance)


def _optimizer(ckpt: dict[str, Any], model: nn.Module, args: argparse.Namespace) -> Any:
    """A fresh --optimizer, or the checkpoint's optimizer with its state (and --lr, when given)."""
    training = dict(ckpt.get("training") or {})
    if args.optimizer is not None:
        return OPTIMIZERS[args.optimizer](list(model.parameters()), args.lr or training.get("lr", 0.01))
    optimizer = rebuild_optimizer(ckpt, model)
    if optimizer is None:
        raise UsageError("the checkpoint does not say which optimizer trained it; give --optimizer")
    if args.lr is not None:
        scheduled = any(callable(g["lr"]) for g in optimizer.param_groups)
        for group in optimizer.param_groups:
            group["lr"] = args.lr
        what = "lr and schedule" if scheduled else f"lr {training.get('lr', 0.01):g}"
        say(args.quiet, f"--lr {args.lr:g} replaces the checkpoint's {what}; its optimizer state is kept")
    return optimizer


def _verdict(report: Any, tolerance: float) -> int:
    """Print PASSED (exit 0) when every difference is at most ``tolerance`` (``report.passed``), else
    FAILED (exit 1). A NaN in any step makes ``report.max_diff`` NaN, which never passes."""
    if math.isnan(report.max_diff):
        print("FAILED: the run gave NaN (a loss, gradient or parameter), so the two cannot be shown to agree")
        return 1
    if not report.passed(tolerance):
        print(f"FAILED: a difference is above the tolerance {tolerance:g}")
        return 1
    print(f"PASSED: every difference is at most {tolerance:g}")
    return 0


def add_parser(sub: Any) -> None:
    """The ``parity`` subcommand and its options."""
    p = sub.add_parser(
        "parity",
        help="train a train checkpoint's network here and in PyTorch and compare, step by step",
        description="Rebuild the network and optimizer of a checkpoint written by 'tinygrad-edu train "
        "--checkpoint', train a copy here and one in PyTorch from the same weights on the same "
        "mini-batches of the same data set, and print per step the loss difference and the largest "
        "gradient and parameter differences. Exit status 0 when all are at most --tolerance, 1 when not "
        "(a NaN fails). "
        "Needs PyTorch: pip install torch --index-url https://download.pytorch.org/whl/cpu.",
    )
    p.add_argument("checkpoint", help="the .npz written by tinygrad-edu train --checkpoint")
    p.add_argument("--steps", type=int_at_least(1), default=5, help="training steps (default 5)")
    p.add_argument(
        "--batch-size", type=int_at_least(1), default=None, help="mini-batch size (default: the checkpoint's)"
    )
    p.add_argument("--seed", type=seed_value, default=0, help="seed of the mini-batch order (default 0)")
    p.add_argument(
        "--optimizer",
        type=optimizer_name,
        default=None,
        help="compare a fresh optimizer of this kind instead of the checkpoint's (e.g. adam-pytorch)",
    )
    p.add_argument(
        "--lr",
        type=positive_float,
        default=None,
        help="the lr of --optimizer, or without it in place of the checkpoint's lr and schedule "
        "(default: the checkpoint's)",
    )
    p.add_argument(
        "--tolerance", type=positive_float, default=1e-10, help="the largest difference that passes (1e-10)"
    )
    p.add_argument("--quiet", action="store_true", help=quiet_help("the table and the PASSED / FAILED line"))
    p.set_defaults(run=run)
