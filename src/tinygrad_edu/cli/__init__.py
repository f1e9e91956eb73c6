"""The ``tinygrad-edu`` command line (also ``python -m tinygrad_edu``).

    tinygrad-edu compare                               # the course's experiment: gd, momentum, adam on moons
    tinygrad-edu train --layers 2,16,16,1 --optimizer adam --lr 0.01 --checkpoint model.npz
    tinygrad-edu graph "tanh(a*b + c)" --values a=2,b=-3,c=10
    tinygrad-edu gradcheck --layers 2,5,2,1 --dropout 0.2

Every command has ``--help``. Bad arguments exit with status 2 and one line on
stderr saying what is wrong; a file that cannot be written or a diverged run exits
with 1, also with one line; Ctrl-C exits with 130, and train and compare keep what
was trained so far; docs/cli.md describes every option.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

import numpy as np

from tinygrad_edu.cli.common import PROG, UsageError
from tinygrad_edu.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the command's own parser, so that the line names the command
            _innermost_parser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as stop:  # --help, --version (0) or a bad argument (2, already printed)
        return stop.code if isinstance(stop.code, int) else 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    command = args.command + (f" {args.action}" if getattr(args, "action", None) else "")  # (exercise's)
    try:
        # Overflow and NaN are reported by the commands themselves (fit stops on a non-finite loss,
        # pictures show NaN in red), so numpy's warnings would only repeat them less clearly.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            status = args.run(args)
        sys.stdout.flush()  # here, so that a reader gone away is caught below, not at exit
        return status
    except UsageError as err:
        print(f"{PROG} {command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... | head -1`): stop quietly, as ls or grep do
        _discard_stdout()
        return 1
    except OSError as err:  # a disk that filled up, a folder removed while we ran: one line, no traceback
        print(f"{PROG} {command}: error: {_os_error_text(err, args.command)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG} {command}: error: out of memory (try smaller --layers)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {command}: interrupted", file=sys.stderr)
        return 130


def _innermost_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the command (and of exercise's action) that ``args`` were parsed with."""
    for dest in ("command", "action"):
        name = getattr(args, dest, None)
        choices = [a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if name is None or not choices or name not in choices[0]:
            break
        parser = choices[0][name]
    return parser


def _os_error_text(err: OSError, command: str) -> str:
    """The system's words and the file, without the ``[Errno 28]`` of ``str(err)``.

    The library's writers put the file in the message (``save: cannot write 'c.npz': No space
    left on device; the previous file is kept``); an error of the system names it as ``filename``.
    """
    if not err.strerror:
        return str(err)
    names = [repr(os.fsdecode(n) if isinstance(n, (bytes, os.PathLike)) else n)
             for n in (err.filename, err.filename2) if n is not None]
    text = err.strerror + (f": {' -> '.join(names)}" if names else "")
    return text[len(command) + 2:] if text.startswith(f"{command}: ") else text


def _discard_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit raises no second BrokenPipeError."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (a test's capture): nothing will flush into the pipe
        pass

