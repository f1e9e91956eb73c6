"""``tinygrad-edu graph``: draw an expression's or a small network's computation graph."""

from __future__ import annotations

import argparse
import ast
import math
import os
import sys
from typing import Any, Union

import numpy as np

from tinygrad_edu import data, nn
from tinygrad_edu.cli.common import (
    DEFAULT_OUT,
    PROG,
    UsageError,
    check_output_folder,
    file_stem,
    int_at_least,
    layer_sizes,
    loss_and_targets,
    make_network,
    output_path,
    quiet_help,
    say,
    seed_value,
)
from tinygrad_edu.scalar import Value
from tinygrad_edu.tensor import Tensor

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
        if name in out:
            raise argparse.ArgumentTypeError(f"{name} is given twice in {text!r}")
        out[name] = value
    return out


class _AddValues(argparse.Action):
    """``--values a=2 --values b=3`` gives both: each --values adds its variables to the ones
    before (argparse's default would keep only the last); a variable given twice is refused."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        so_far = dict(getattr(namespace, self.dest) or {})
        twice = sorted(set(so_far) & set(values))
        if twice:
            raise argparse.ArgumentError(self, f"{', '.join(twice)} is given twice")
        so_far.update(values)
        setattr(namespace, self.dest, so_far)


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


class _Builder:
    """Walks a checked expression tree, making ``Value`` or 0-d float64 ``Tensor`` nodes."""

    def __init__(self, values: dict[str, float], engine: str) -> None:
        self.values, self.engine = values, engine
        self.leaves: dict[str, Union[Value, Tensor]] = {}

    def leaf(self, name: str) -> Union[Value, Tensor]:
        if name not in self.leaves:
            if name in EXPRESSION_FUNCTIONS:
                raise UsageError(f"{name} is a function: call it, as in {name}(x)")
            if name not in self.values:
                raise UsageError(
                    f"unknown variable {name!r} in the expression; give it with --values {name}=..."
                )
            v = self.values[name]
            self.leaves[name] = (
                Value(v, label=name)
                if self.engine == "value"
                else Tensor(np.float64(v), requires_grad=True, name=name)
            )
        return self.leaves[name]

    def node_of(self, x: Node) -> Union[Value, Tensor]:
        if not isinstance(x, float):
            return x
        return Value(x) if self.engine == "value" else Tensor(np.float64(x))

    def walk(self, node: ast.expr) -> Node:
        """The node's value; a part that is not finite stops the walk in both engines alike (Value's
        ops refuse log(-1) or 1/0 themselves, numpy's give nan or inf)."""
        result = self.compute(node)
        if not isinstance(result, float) and not np.isfinite(result.data):
            raise UsageError(_non_finite(node, result, self.leaves))
        return result

    def compute(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.leaf(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self.walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            return getattr(self.node_of(self.walk(node.args[0])), node.func.id)()
        assert isinstance(node, ast.BinOp)
        return self.binary(_BINARY[type(node.op)], self.walk(node.left), self.walk(node.right))

    def binary(self, op: str, a: Node, b: Node) -> Node:
        if op == "**":
            if isinstance(a, float) and isinstance(b, float):
                return math.pow(a, b)
            if self.engine == "value" and isinstance(b, Value) and isinstance(a, Value):
                raise UsageError("with --engine value, an exponent must be a number (try --engine tensor)")
            return a**b
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b


def build_expression(tree: ast.expr, values: dict[str, float], engine: str) -> Union[Value, Tensor]:
    """Compute the checked expression; its variables become ``Value`` or 0-d float64 ``Tensor`` leaves.

    A part whose value is nan or inf (log(-1), 1/0, exp(1000)) is a UsageError in both engines.
    """
    builder = _Builder(values, engine)
    try:
        with np.errstate(all="ignore"):  # a non-finite value is reported by the walk
            root = builder.walk(tree)
    except (ArithmeticError, ValueError) as err:
        raise UsageError(f"cannot compute the expression: {err}") from None
    except RecursionError:
        raise UsageError("the expression is nested too deeply") from None
    if isinstance(root, float) or not builder.leaves:
        raise UsageError("the expression has no variables, so there is nothing to differentiate")
    unused = sorted(set(values) - set(builder.leaves))
    if unused:
        raise UsageError(f"--values gives {', '.join(unused)}, which the expression does not use")
    return root


def _non_finite(node: ast.expr, result: Union[Value, Tensor], leaves: dict[str, Any]) -> str:
    """"cannot compute the expression: log(a) is nan with a=-1", for the first part whose value
    is not finite."""
    names = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in leaves})
    used = ", ".join(f"{n}={float(leaves[n].data):g}" for n in names)
    return f"cannot compute the expression: {ast.unparse(node)} is {float(result.data)}" + (
        f" with {used}" if used else ""
    )


NETWORK_DEFAULTS = {"layers": [2, 3, 1], "samples": 4, "seed": 0}
"""The network's options when no expression is given (None in the parser, to tell "not given")."""


def _refuse_network_options(args: argparse.Namespace) -> None:
    """With an expression, the network's options would be ignored: say so instead."""
    given = [f"--{name}" for name in NETWORK_DEFAULTS if getattr(args, name) is not None]
    given += ["--expand"] if args.expand else []
    if given:
        raise UsageError(
            f"{', '.join(given)} describe{'s' if len(given) == 1 else ''} the network drawn without an "
            "expression; with an expression, leave them out"
        )


def _network_loss(args: argparse.Namespace) -> tuple[Tensor, nn.Module]:
    """A small network's loss on a few moons points: the graph of one training step."""
    options = {name: default if getattr(args, name) is None else getattr(args, name)
               for name, default in NETWORK_DEFAULTS.items()}
    sizes, seed = options["layers"], options["seed"]
    X, y = data.make_moons(options["samples"], noise=0.2, seed=seed)
    loss_fn, Y = loss_and_targets(sizes, y, 2, "moons")
    model = make_network(sizes, seed)
    loss = loss_fn(model(Tensor(X)), Y)
    loss.name = "loss"
    return loss, model


def run(args: argparse.Namespace) -> int:
    """Draw an expression's (or a small network's loss's) graph with the gradients; optionally the frames."""
    from tinygrad_edu import viz

    check_output_folder(args.out, "--out")  # before the work, not after it
    if args.html is not None:
        if os.path.isdir(args.html):
            raise UsageError(f"--html: {args.html!r} is a folder; expected the player's file (player.html)")
        check_output_folder(os.path.dirname(os.path.abspath(args.html)), "--html")
    model = None
    if args.expression is not None:
        _refuse_network_options(args)
        root = build_expression(parse_expression(args.expression), args.values or {}, args.engine or "value")
    else:
        if args.values:
            raise UsageError("--values is for an expression; give the expression too")
        if args.engine == "value":
            raise UsageError(
                "the network's graph is drawn with tensors; drop --engine value or give an expression"
            )
        root, model = _network_loss(args)
    want_frames = args.frames or args.html is not None
    if want_frames and _is_leaf(root):
        option = "--frames" if args.frames else "--html"
        raise UsageError(
            f"{option}: the expression is the variable {args.expression.strip()} alone, which no op made, so "
            "backward has no step to show; drop the option, or write an expression with an op"
        )
    frames = viz.trace_backward(root, model=model, expand=args.expand) if want_frames else None
    if isinstance(root, Tensor):
        root.backward(retain_graph=True)
    else:
        root.backward()
    try:
        digraph = viz.draw_graph(root, model=model, rankdir=args.rankdir, expand=args.expand)
        for fmt in args.formats:
            say(args.quiet, "wrote", viz.render(digraph, os.path.join(args.out, f"{args.name}.{fmt}"), fmt))
        if frames is not None and args.frames:
            folder = os.path.join(args.out, f"{args.name}_frames")
            paths = viz.save_frames(frames, folder, format=args.formats[0], rankdir=args.rankdir)
            say(args.quiet, f"wrote {len(paths)} backprop frames to {folder}")
        if frames is not None and args.html is not None:
            folder = os.path.dirname(os.path.abspath(args.html))
            os.makedirs(folder, exist_ok=True)
            (page,) = viz.save_frames(frames, args.html, format="html", rankdir=args.rankdir)
            steps = f"{len(frames)} step" + ("" if len(frames) == 1 else "s")
            say(args.quiet, f"wrote the backprop player ({steps}) to {page}")
    except (viz.GraphvizNotFoundError, ModuleNotFoundError) as err:  # dot, or the graphviz package
        print(f"{PROG} graph: {err}", file=sys.stderr)
        return 1
    value = root.data if isinstance(root, Value) else float(root.data)
    print(f"value {value:.6g}")  # the result: printed with --quiet too
    return 0


def _is_leaf(root: Union[Value, Tensor]) -> bool:
    """Whether no op made ``root`` (a variable given alone): its backward has no step."""
    return not root._prev if isinstance(root, Value) else root._ctx is None


def _html_file(text: str) -> str:
    """An argument type: the player's file name, ending in .html (any other name would be taken as
    a folder to write frames.html into)."""
    text = output_path(text)
    if not text.lower().endswith((".html", ".htm")):
        raise argparse.ArgumentTypeError(f"expected a file name ending in .html (player.html), got {text!r}")
    return text


def _formats(text: str) -> list[str]:
    formats = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [f for f in formats if f not in ("svg", "png", "pdf")]
    if not formats or bad:
        raise argparse.ArgumentTypeError(f"expected svg, png or pdf separated by commas, got {text!r}")
    return formats



def add_parser(sub: Any) -> None:
    """The ``graph`` subcommand and its options."""
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
    p.add_argument(
        "--values",
        type=_values,
        action=_AddValues,
        default=None,
        help="the variables' values, e.g. a=2,b=-3,c=10 (may be repeated: --values a=2 --values b=-3)",
    )
    p.add_argument(
        "--engine",
        choices=("value", "tensor"),
        default=None,
        help="scalar Value nodes or 0-d Tensors (default value)",
    )
    p.add_argument("--layers", type=layer_sizes, default=None, help="the network (2,3,1; no expression)")
    p.add_argument(
        "--samples", type=int_at_least(1), default=None, help="points in the network's batch (4)"
    )
    p.add_argument("--seed", type=seed_value, default=None, help="seed of the network and its data (0)")
    p.add_argument("--frames", action="store_true", help="also write the backward pass, one picture per op")
    p.add_argument(
        "--html",
        type=_html_file,
        default=None,
        metavar="FILE",
        help="also write the backward pass as a step-through player, one self-contained .html file",
    )
    p.add_argument(
        "--expand", action="store_true", help="draw each Linear as its matmul and bias add (no expression)"
    )
    p.add_argument("--out", type=output_path, default=DEFAULT_OUT, help=f"output folder (./{DEFAULT_OUT})")
    p.add_argument("--name", type=file_stem, default="graph", help="file name without suffix (default graph)")
    p.add_argument("--formats", type=_formats, default=["svg", "png"], help="svg,png (default) or pdf")
    p.add_argument(
        "--rankdir",
        choices=("LR", "TB"),
        default=None,
        help="left to right or top to bottom (default: top to bottom, left to right for a small expression)",
    )
    p.add_argument("--quiet", action="store_true", help=quiet_help("the value"))
    p.set_defaults(run=run)
