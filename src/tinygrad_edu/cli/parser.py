"""The ``tinygrad-edu`` parser: one subcommand per module of this package."""

from __future__ import annotations

import argparse

from tinygrad_edu.cli import compare, exercise, export, gradcheck, graph, parity, train
from tinygrad_edu.cli.common import PROG, Parser

COMMANDS = (compare, train, graph, gradcheck, exercise, export, parity)
"""The command modules, in the order ``--help`` lists them; each has add_parser(sub) and run(args)."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="tinygrad_edu from the command line: compare optimizers, train a network, "
        "draw computation graphs, check gradients, hand out and check exercises, "
        "export to ONNX/safetensors/PyTorch and check parity with PyTorch.",
        epilog=f"'{PROG} COMMAND --help' describes a command's options.",
    )
    from tinygrad_edu import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for command in COMMANDS:
        command.add_parser(sub)
    return parser
