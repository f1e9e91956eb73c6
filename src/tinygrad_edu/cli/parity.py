"""``tinygrad-edu parity``: train a checkpoint's network here and in PyTorch side by side and compare."""

from __future__ import annotations

import argparse
from typing import Any

from tinygrad_edu import nn
from tinygrad_edu.cli.common import (
    OPTIMIZERS,
    QUIET_HELP,
    UsageError,
    int_at_least,
    load_dataset,
    loss_and_targets,
    optimizer_name,
    positive_float,
    say,
    seed_value,
)
from tinygrad_edu.cli.export import load_checkpoint, rebuild_model, rebuild_optimizer


def run(args: argparse.Namespace) -> int:
    """Print compare_with_torch's table; exit 0 when every difference is below --tolerance, else 1."""
    from tinygrad_edu import interop

    ckpt = load_checkpoint(args.checkpoint)
    training = dict(ckpt.get("training") or {})
    model = rebuild_model(ckpt)
    dropouts = [m for m in model.modules() if type(m) is nn.Dropout]
    if dropouts:
        for m in dropouts:
            m.eval()  # the identity: each framework would draw its own random masks
        say(args.quiet, f"dropout (p={dropouts[0].p}) is switched off: PyTorch would draw other masks")
    if args.optimizer is not None:
        optimizer = OPTIMIZERS[args.optimizer](list(model.parameters()), args.lr or training.get("lr", 0.01))
    else:
        optimizer = rebuild_optimizer(ckpt, model)
        if optimizer is None:
            raise UsageError("the checkpoint does not say which optimizer trained it; give --optimizer")
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
        hint = "; --optimizer adam-pytorch compares a fresh Adam instead" if "eps_mode" in str(err) else ""
        raise UsageError(f"{err}{hint}") from None
    print(report)
    if report.max_diff > args.tolerance:
        print(f"FAILED: a difference is above the tolerance {args.tolerance:g}")
        return 1
    print(f"PASSED: every difference is below {args.tolerance:g}")
    return 0


def add_parser(sub: Any) -> None:
    """The ``parity`` subcommand and its options."""
    p = sub.add_parser(
        "parity",
        help="train a train checkpoint's network here and in PyTorch and compare, step by step",
        description="Rebuild the network and optimizer of a checkpoint written by 'tinygrad-edu train "
        "--checkpoint', train a copy here and one in PyTorch from the same weights on the same "
        "mini-batches of the same data set, and print per step the loss difference and the largest "
        "gradient and parameter differences. Exit status 0 when all are below --tolerance, 1 when not. "
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
    p.add_argument("--lr", type=positive_float, default=None, help="its lr (default: the checkpoint's)")
    p.add_argument(
        "--tolerance", type=positive_float, default=1e-10, help="the largest difference that passes (1e-10)"
    )
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP + " (the table)")
    p.set_defaults(run=run)
