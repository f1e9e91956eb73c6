"""``tinygrad-edu gradcheck``: check a network's backprop gradients against finite differences."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tinygrad_edu.cli.common import (
    ACTIVATIONS,
    PROG,
    check_dropout,
    class_count,
    data_options,
    int_at_least,
    layer_sizes,
    load_dataset,
    loss_and_targets,
    make_network,
    positive_float,
    probability,
    quiet_help,
)


def run(args: argparse.Namespace) -> int:
    """Check a small float64 network's backprop gradients against central differences."""
    from tinygrad_edu.gradcheck import check_model

    n_classes = class_count(args)
    check_dropout(args.dropout, args.layers)
    X, y = load_dataset(args.dataset, args.samples, None, args.seed, n_classes)
    loss_fn, Y = loss_and_targets(args.layers, y, n_classes, args.dataset)
    model = make_network(args.layers, args.seed, args.activation, args.dropout)
    report = check_model(model, loss_fn, X, Y, eps=args.eps, threshold=args.threshold)
    text = str(report)  # the table, then a PASSED / FAILED / NOT TESTED line
    print(text.splitlines()[-1] if args.quiet else text)
    if not report.tested:
        zero = [p.name for p in report.parameters if p.exactly_zero]
        unresolved = [n for n in report.zero_parameters if n not in zero] + report.unresolved_parameters
        if zero and unresolved:
            why = (f"the derivatives of {', '.join(zero)} are exactly 0 and those of {', '.join(unresolved)} "
                   "are below the finite-difference resolution (the notes above say more)")
        elif zero:
            why = ("every derivative is 0 from backprop and from the finite differences, so the loss does "
                   "not depend on the parameters here")
        elif unresolved:
            why = "every difference is below the finite-difference resolution at this loss scale"
        else:
            why = "every element sits on a kink"
        hint = "use a smaller --dropout" if args.dropout else "try another --seed or --layers"
        print(f"{PROG} gradcheck: nothing was tested: {why}; {hint}", file=sys.stderr)
    return 0 if report.passed else 1



def add_parser(sub: Any) -> None:
    """The ``gradcheck`` subcommand and its options."""
    p = sub.add_parser(
        "gradcheck",
        help="check a network's backprop gradients against finite differences",
        description="Run gradcheck.check_model on a small float64 network: the relative error "
        "||g - g_num|| / (||g|| + ||g_num||) per parameter. Exit status 0 when it passes, 1 when not "
        "(also when it compared only zeros: then nothing was tested).",
    )
    p.add_argument("--layers", type=layer_sizes, default=[2, 5, 2, 1], help="sizes (default 2,5,2,1)")
    p.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default="tanh",
        help="hidden activation (default tanh; relu has kinks, which are listed)",
    )
    p.add_argument("--dropout", type=probability, default=0.0, help="dropout (its masks are replayed)")
    data_options(p, 16, 0, seeds="the data and the initial weights")
    p.add_argument(
        "--classes", type=int_at_least(2), default=None, help="classes (spirals only; default 3)"
    )
    p.add_argument("--eps", type=positive_float, default=1e-7, help="finite-difference step (default 1e-7)")
    p.add_argument("--threshold", type=positive_float, default=1e-7, help="pass below this (default 1e-7)")
    p.add_argument("--quiet", action="store_true", help=quiet_help("the PASSED / FAILED line"))
    p.set_defaults(run=run)
