"""``tinygrad-edu train``: train one network and save a checkpoint."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Optional

from tinygrad_edu import train
from tinygrad_edu.cli.common import (
    ACTIVATIONS,
    OPTIMIZERS,
    PROG,
    UsageError,
    check_dropout,
    check_output_file,
    class_count,
    ctrl_c_stops,
    data_options,
    divergence,
    int_at_least,
    layer_sizes,
    load_dataset,
    loss_and_targets,
    make_network,
    noise_level,
    optimizer_name,
    output_path,
    positive_float,
    probability,
    quiet_help,
    say,
    schedule,
    stop_flag,
    stoppable,
)
from tinygrad_edu.data import DataLoader


def run(args: argparse.Namespace) -> int:
    """Train one network; print the final loss and accuracy; save a checkpoint when asked."""
    n_classes = class_count(args)
    check_dropout(args.dropout, args.layers)
    sizes = args.layers
    X, y = load_dataset(args.dataset, args.samples, args.noise, args.seed, n_classes)
    loss_fn, Y = loss_and_targets(sizes, y, n_classes, args.dataset)
    if args.checkpoint is not None:  # after the other checks (it makes the folder), before the training
        check_checkpoint_name(args.checkpoint)
        check_output_file(args.checkpoint, "--checkpoint")
    model = make_network(sizes, args.seed, args.activation, args.dropout)
    lr = args.schedule(args.lr) if args.schedule is not None else args.lr
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr)
    initial_loss = train.evaluate(model, loss_fn, X, Y)["loss"]
    loader = DataLoader(X, Y, batch_size=args.batch_size, seed=args.seed)  # fit's own, given X and Y
    stop = stop_flag()
    try:
        with ctrl_c_stops(stop):  # from here on, Ctrl-C ends the run after its step in progress
            say(args.quiet, f"{args.dataset}: {len(X)} points; network {'-'.join(map(str, sizes))}; "
                f"{args.optimizer}")
            history = train.fit(
                model, loss_fn, optimizer, X=None, y=None, epochs=args.epochs,
                batches=stoppable(lambda epoch: loader, stop), progress=not args.quiet,
            )
    except train.NonFiniteLossError as err:
        print(f"{PROG} train: {str(err).split('. ')[0]}; try a smaller --lr", file=sys.stderr)
        return 1
    scores = train.evaluate(model, loss_fn, X, Y)
    print(
        f"epochs {len(history.epoch)}  loss {scores['loss']:.6f}  accuracy {scores['accuracy']:.4f}  "
        f"time {history.total_time:.2f} s"
    )
    diverged = divergence(initial_loss, scores["loss"])
    if history.interrupted:
        def save() -> None:
            _save(args, model, optimizer, history, n_classes)

        return _interrupted(args, history, diverged, stop.value > 1, save)
    if diverged:
        kept = "; no checkpoint written" if args.checkpoint else ""
        print(f"{PROG} train: the run diverged: {diverged}; try a smaller --lr{kept}", file=sys.stderr)
        return 1
    if args.checkpoint:
        replacing = os.path.exists(args.checkpoint)
        _save(args, model, optimizer, history, n_classes)
        note = ", replacing the checkpoint there" if replacing else ""
        say(args.quiet, f"wrote {args.checkpoint}{note}")
    return 0


# what reads a file of export's formats, which a .npz checkpoint under such a name would fail in
_READERS = {".onnx": "onnxruntime and Netron", ".safetensors": "safetensors", ".pt": "torch.load",
            ".pth": "torch.load"}


def check_checkpoint_name(path: str) -> None:
    """A checkpoint is a .npz (tg.save): a name for another format (model.pt) would hold a .npz that
    torch.load or Netron cannot read, so it is refused; ``tinygrad-edu export`` writes those."""
    stem, suffix = os.path.splitext(path)
    if suffix.lower() == ".npz" or os.path.isdir(path) or (os.path.exists(path) and not os.path.isfile(path)):
        return  # a folder or a pipe: check_output_file says what is wrong with it
    if suffix.lower() in _READERS:
        raise UsageError(
            f"--checkpoint: {path!r} ends in {suffix}, but train writes a .npz checkpoint (tg.save), which "
            f"{_READERS[suffix.lower()]} cannot read; use --checkpoint {stem}.npz, then "
            f"{PROG} export {stem}.npz {path}"
        )
    what = f"ends in {suffix}" if suffix else "has no suffix"
    name = stem if stem.lower().endswith(".npz") else f"{stem if suffix else path}.npz"
    if os.path.basename(stem).lower() == ".npz":  # '.npz' alone: a suffix with no name before it
        what, name = "is a suffix with no name before it", os.path.join(os.path.dirname(stem), "model.npz")
    raise UsageError(
        f"--checkpoint: {path!r} {what}; train writes a .npz checkpoint (tg.save): give a name ending in "
        f".npz, such as {name} ({PROG} export turns it into .onnx, .safetensors or .pt)"
    )


def _interrupted(
    args: argparse.Namespace, history: train.History, diverged: Optional[str], twice: bool,
    save: Callable[[], None],
) -> int:
    """Ctrl-C ended the run after a complete step: keep the model trained so far, unless the run
    diverged or Ctrl-C came twice (which stops at once, perhaps within a step); say on stderr what
    was written; return 130."""
    steps = len(history.steps["loss"])
    parts = [f"{PROG} train: interrupted after {steps} steps ({len(history.epoch)} complete epochs)"]
    if diverged:
        parts.append(f"the run so far diverged: {diverged}")
    if twice:
        parts.append("Ctrl-C was pressed twice, which stops at once, perhaps within a step")
    if not args.checkpoint:
        parts.append("nothing written (no --checkpoint)")
    elif diverged or twice or not steps:
        parts.append("no checkpoint written")
    else:
        save()
        parts.append(f"wrote {args.checkpoint} with the model trained so far")
    print("; ".join(parts), file=sys.stderr)
    return 130


def _save(
    args: argparse.Namespace, model: Any, optimizer: Any, history: train.History, n_classes: int
) -> None:
    """The checkpoint: the model, the optimizer, the epochs done and what export and parity need."""
    from tinygrad_edu.serialization import save

    save(
        {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": len(history.epoch),
            # what export and parity need to build the network and its optimizer again
            "architecture": {"layers": list(args.layers), "activation": args.activation,
                             "dropout": args.dropout, "dtype": "float64"},
            "training": {"optimizer": args.optimizer, "lr": args.lr, "dataset": args.dataset,
                         "samples": args.samples, "noise": args.noise, "seed": args.seed,
                         "classes": n_classes, "batch_size": args.batch_size},
        },
        args.checkpoint,
    )


def add_parser(sub: Any) -> None:
    """The ``train`` subcommand and its options."""
    p = sub.add_parser(
        "train",
        help="train one network and save a checkpoint",
        description="Train one network (He init, logits out: BCE with logits for one output, cross-entropy "
        "for several) and print its final loss and accuracy on the training data.",
    )
    p.add_argument(
        "--layers",
        type=layer_sizes,
        default=[2, 16, 16, 1],
        help="sizes from input to output (default 2,16,16,1; spirals: last = --classes)",
    )
    p.add_argument(
        "--activation", choices=sorted(ACTIVATIONS), default="relu", help="hidden activation (default relu)"
    )
    p.add_argument(
        "--optimizer",
        type=optimizer_name,
        default="adam",
        help=f"one of {', '.join(OPTIMIZERS)} (default adam)",
    )
    p.add_argument("--lr", type=positive_float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument(
        "--schedule",
        type=schedule,
        default=None,
        help="learning-rate schedule over steps: exponential:RATE:STEPS[:staircase], "
        "inverse-time:RATE:STEPS[:staircase], cosine:STEPS[:ALPHA], piecewise:B1,B2:V1,V2,V3, or "
        "constant (the default: --lr at every step)",
    )
    p.add_argument("--epochs", type=int_at_least(1), default=1000, help="epochs (default 1000)")
    p.add_argument("--batch-size", type=int_at_least(1), default=64, help="mini-batch size (default 64)")
    data_options(p, 300, 0)
    p.add_argument("--noise", type=noise_level, default=None, help="noise of the data (default per data set)")
    p.add_argument(
        "--classes", type=int_at_least(2), default=None, help="classes (spirals only; default 3)"
    )
    p.add_argument("--dropout", type=probability, default=0.0, help="dropout after each hidden layer")
    p.add_argument(
        "--checkpoint",
        type=output_path,
        default=None,
        metavar="PATH",
        help="save {model, optimizer, epoch, architecture} to PATH, a .npz, after training "
        "(tinygrad-edu export turns it into .onnx, .safetensors or .pt)",
    )
    p.add_argument("--quiet", action="store_true", help=quiet_help("the line of epochs, loss and accuracy"))
    p.set_defaults(run=run)
