"""The scalar engine: ``Value``, one number and its gradient, and a tiny MLP built from it.

``Value`` is micrograd-compatible (``Value(x)``, ``+ - * / **``, ``relu tanh
sigmoid exp log``, ``backward()``, float ``.data`` and ``.grad``) and exists to
teach the chain rule: every op computes its output and, right under it, its
local derivatives, each multiplied by the gradient arriving from the output::

    out = Value(self.data * other.data, (self, other), "*")
    def _backward(out):
        self.grad += other.data * out.grad     # d(a*b)/da = b
        other.grad += self.data * out.grad     # d(a*b)/db = a
    out._backward = _backward

Two differences from micrograd matter:

* ``_backward`` receives its output node as the argument ``out`` (the engine
  passes it in) instead of capturing it in a closure. A node therefore never
  refers to itself, so there are no reference cycles and an unused graph is
  freed at once by reference counting.
* ``backward()`` walks the graph in the order of the iterative ``graph.toposort``
  (shared with the pictures), so a 100,000-op chain does not hit the recursion limit.

Speed, in plain Python (each trick is commented where it is used):

* ``__slots__``: no per-node ``__dict__``, faster attribute access, less memory.
* A plain number operand (``x * 2``, ``1 - x``) is a constant: no ``Value``
  node is made for it and no gradient is computed for it.
* ``Value.dot``: one node for a neuron's weighted sum ``sum_i w_i*x_i + b``
  whose backward is one loop over floats, instead of ``2n`` nodes each with
  its own Python call. ``Value.sum`` does the same for a long sum.

``Neuron``, ``Layer`` and ``MLP`` at the end are micrograd's tiny network,
with ``parameters()`` and ``zero_grad()``; its demo trains on these unchanged.
"""

from __future__ import annotations

import gc
import math
import numbers
import operator
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from tinygrad_edu._config import get_rng
from tinygrad_edu.graph import toposort

Number = Union[int, float]

_children_of = operator.attrgetter("_prev")  # how toposort finds a node's inputs


def _constant(other: Any, op: str) -> float:
    """A plain-number operand as a float, or a TypeError naming the op and the operand's type."""
    if type(other) is float or type(other) is int:  # the common cases, before the slower ABC check
        return float(other)
    if isinstance(other, numbers.Real):
        return float(other)
    raise TypeError(
        f"Value {op}: unsupported operand of type {type(other).__name__} ({other!r:.40}); "
        "expected a Value or a real number (int or float)"
    )


def _label(number: float) -> str:
    """A constant as it appears inside an op name such as ``*2`` or ``1-`` (for graph pictures)."""
    return f"{number:g}"


class Value:
    """A scalar in a computation graph: ``data`` (float), ``grad`` (float, d root / d self).

    ``_prev`` holds the Values this one was computed from (an ordered tuple),
    ``_op`` names the op (``"+"``, ``"*2"``, ``"tanh"`` ...), ``label`` is an
    optional name for printing and pictures.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_backward", "label", "__weakref__")

    def __init__(self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = "") -> None:
        if type(data) is not float:  # the common case (every op's output) skips the checks below
            if isinstance(data, Value):
                raise TypeError(f"Value: data must be a real number, got a Value ({data!r}); use it directly")
            data = _constant(data, "(data)")
        self.data = data
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        # Set by the op that made this node: adds this node's gradient into its children's.
        # None for a leaf (an input or a parameter).
        self._backward: Optional[Callable[[Value], None]] = None
        self.label = label

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    # -- the chain rule over the whole graph -----------------------------------------------------

    def backward(self, on_step: Optional[Callable[[Value, list[float]], None]] = None) -> None:
        """Set every ancestor's ``.grad`` += d(self)/d(ancestor): the chain rule, outputs first.

        Nodes run in reverse topological order, so when a node passes its gradient
        on, every use of it has already added its share (a node used twice sums
        both paths). Leaves accumulate across calls, as in PyTorch (use
        ``zero_grad`` between steps); intermediate nodes are reset first, so
        running backward twice on one graph adds exactly twice to the leaves.
        The graph is kept, so gradients can be inspected or drawn afterwards.

        ``on_step(node, sent)``, if given, is called after each node's ``_backward`` with
        what it added to each of ``node._prev`` (the step-through pictures watch the walk
        through it).
        """
        # Pause the cycle collector: the walk makes no cycles, but its allocations
        # would trigger collections that rescan the whole (still alive) graph.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            topo = toposort((self,), _children_of)
            for node in topo:
                if node._backward is not None:
                    node.grad = 0.0
            self.grad = 1.0  # d self / d self
            for node in reversed(topo):
                if node._backward is None:
                    continue
                if on_step is None:
                    node._backward(node)
                else:
                    on_step(node, _sent_by(node))
        finally:
            if gc_was_enabled:
                gc.enable()

    # -- arithmetic ------------------------------------------------------------------------------
    # Each op has two forms: Value with Value (both get a gradient) and Value with a plain number
    # (a constant: no node is made for it and only the Value gets a gradient).

    def __add__(self, other: Union[Value, Number]) -> Value:
        if isinstance(other, Value):
            out = Value(self.data + other.data, (self, other), "+")

            def _backward(out: Value) -> None:
                # d(a+b)/da = d(a+b)/db = 1: the gradient flows through unchanged
                self.grad += out.grad
                other.grad += out.grad

        else:
            c = _constant(other, "+")
            out = Value(self.data + c, (self,), "+" + _label(c))

            def _backward(out: Value) -> None:
                self.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other: Number) -> Value:  # other + self
        return self + other

    def __sub__(self, other: Union[Value, Number]) -> Value:
        if isinstance(other, Value):
            out = Value(self.data - other.data, (self, other), "-")

            def _backward(out: Value) -> None:
                # d(a-b)/da = 1, d(a-b)/db = -1
                self.grad += out.grad
                other.grad -= out.grad

        else:
            c = _constant(other, "-")
            out = Value(self.data - c, (self,), "-" + _label(c))

            def _backward(out: Value) -> None:
                self.grad += out.grad

        out._backward = _backward
        return out

    def __rsub__(self, other: Number) -> Value:  # other - self, other a number
        c = _constant(other, "-")
        out = Value(c - self.data, (self,), _label(c) + "-")

        def _backward(out: Value) -> None:
            # d(c-a)/da = -1
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Union[Value, Number]) -> Value:
        if isinstance(other, Value):
            out = Value(self.data * other.data, (self, other), "*")

            def _backward(out: Value) -> None:
                # d(a*b)/da = b, d(a*b)/db = a
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad

        else:
            c = _constant(other, "*")
            out = Value(self.data * c, (self,), "*" + _label(c))

            def _backward(out: Value) -> None:
                # d(a*c)/da = c
                self.grad += c * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other: Number) -> Value:  # other * self
        return self * other

    def __truediv__(self, other: Union[Value, Number]) -> Value:
        if isinstance(other, Value):
            out = Value(_divide(self.data, other.data), (self, other), "/")

            def _backward(out: Value) -> None:
                # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2
                self.grad += out.grad / other.data
                other.grad -= self.data / other.data**2 * out.grad

        else:
            c = _constant(other, "/")
            out = Value(_divide(self.data, c), (self,), "/" + _label(c))

            def _backward(out: Value) -> None:
                # d(a/c)/da = 1/c
                self.grad += out.grad / c

        out._backward = _backward
        return out

    def __rtruediv__(self, other: Number) -> Value:  # other / self, other a number
        c = _constant(other, "/")
        out = Value(_divide(c, self.data), (self,), _label(c) + "/")

        def _backward(out: Value) -> None:
            # d(c/a)/da = -c/a**2
            self.grad -= c / self.data**2 * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value):
            raise TypeError(
                "Value **: the exponent must be a number (int or float), not a Value; "
                "for a variable exponent write (exponent * base.log()).exp()"
            )
        if not isinstance(exponent, numbers.Real):
            raise TypeError(
                f"Value **: the exponent must be a number (int or float), got {type(exponent).__name__}"
            )
        p = exponent if isinstance(exponent, int) else float(exponent)  # an int keeps (-2)**3 real
        x = self.data
        try:
            data = x**p
        except ZeroDivisionError:
            raise ZeroDivisionError(f"Value **: {x} ** {p} is a negative power of zero") from None
        except OverflowError:
            raise OverflowError(f"Value **: {x} ** {p} is too large for a float") from None
        if isinstance(data, complex):
            raise ValueError(
                f"Value **: {x} ** {p} is not a real number (a negative base needs an integer exponent)"
            )
        out = Value(float(data), (self,), "**" + _label(p))

        def _backward(out: Value) -> None:
            # d(x**p)/dx = p * x**(p-1)
            self.grad += _power_rule(self.data, p) * out.grad

        out._backward = _backward
        return out

    def __rpow__(self, base: Number) -> Value:  # base ** self, base a positive number
        c = _constant(base, "**")
        if c <= 0:
            raise ValueError(f"Value **: number ** Value needs a positive base, got {c}")
        out = Value(_exp(self.data * math.log(c), "**"), (self,), _label(c) + "**")

        def _backward(out: Value) -> None:
            # d(c**x)/dx = ln(c) * c**x
            self.grad += math.log(c) * out.data * out.grad

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = Value(-self.data, (self,), "neg")

        def _backward(out: Value) -> None:
            # d(-a)/da = -1
            self.grad -= out.grad

        out._backward = _backward
        return out

    # -- functions -------------------------------------------------------------------------------

    def relu(self) -> Value:
        """max(x, 0); derivative 1 where x > 0, else 0."""
        out = Value(self.data if self.data > 0.0 else 0.0, (self,), "ReLU")

        def _backward(out: Value) -> None:
            if out.data > 0.0:
                self.grad += out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """tanh(x); derivative 1 - tanh(x)**2, written with the output."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward(out: Value) -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """1 / (1 + exp(-x)); derivative s * (1 - s) with s the output."""
        x = self.data
        # Two forms of the same function so that exp never overflows: exp(-x) for x >= 0, exp(x) below.
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward(out: Value) -> None:
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """e**x; derivative e**x, the output itself."""
        out = Value(_exp(self.data, "exp"), (self,), "exp")

        def _backward(out: Value) -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm, for x > 0; derivative 1/x."""
        x = self.data
        if not x > 0.0 and not math.isnan(x):
            raise ValueError(f"Value.log: log is defined for positive numbers only, got {x}")
        out = Value(math.log(x), (self,), "log")

        def _backward(out: Value) -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    # -- fused ops: one node instead of many -----------------------------------------------------

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Union[Value, Number]], bias: Any = None) -> Value:
        """One node for a neuron's weighted sum ``sum_i w_i * x_i + b``.

        Derivatives: d/dw_i = x_i, d/dx_i = w_i, d/db = 1. Built from ``*`` and
        ``+`` this is 2n nodes, each with its own Python call in backward; here
        it is one node whose backward is one loop over floats, which makes an
        MLP several times faster. ``inputs`` may hold plain numbers (raw
        data); ``bias`` may be a Value, a number or None.
        """
        weights = list(weights)
        inputs = list(inputs)
        if len(weights) != len(inputs):
            raise ValueError(f"Value.dot: {len(weights)} weights but {len(inputs)} inputs; expected as many")
        try:
            # The fast path: everything is a Value already. Reading .data once here and keeping
            # the floats for backward saves attribute look-ups there.
            w_data = [w.data for w in weights]
            x_data = [x.data for x in inputs]
        except AttributeError:
            # Some entries are plain numbers: wrap them as constants (their gradients go unused).
            weights = [w if isinstance(w, Value) else Value(_constant(w, "dot")) for w in weights]
            inputs = [x if isinstance(x, Value) else Value(_constant(x, "dot")) for x in inputs]
            w_data = [w.data for w in weights]
            x_data = [x.data for x in inputs]
        data = sum(map(operator.mul, w_data, x_data), 0.0)
        children = weights + inputs
        if isinstance(bias, Value):
            data += bias.data
            children.append(bias)
        elif bias is not None:
            data += _constant(bias, "dot (bias)")
        out = Value(data, children, "dot")

        def _backward(out: Value) -> None:
            grad = out.grad
            for w, x, w_value, x_value in zip(weights, inputs, w_data, x_data):
                w.grad += x_value * grad  # d/dw_i = x_i
                x.grad += w_value * grad  # d/dx_i = w_i
            if isinstance(bias, Value):
                bias.grad += grad  # d/db = 1

        out._backward = _backward
        return out

    @staticmethod
    def sum(values: Iterable[Union[Value, Number]]) -> Value:
        """One node for ``v_1 + v_2 + ... + v_n`` (plain numbers count as constants); d/dv_i = 1.

        Python's ``sum(values)`` makes n nodes, one ``+`` at a time; this makes one.
        """
        terms: list[Value] = []
        constant = 0.0
        for v in values:
            if isinstance(v, Value):
                terms.append(v)
            else:
                constant += _constant(v, "sum")
        out = Value(sum([v.data for v in terms], constant), terms, "sum")

        def _backward(out: Value) -> None:
            grad = out.grad
            for v in terms:
                v.grad += grad

        out._backward = _backward
        return out


def _divide(a: float, b: float) -> float:
    """a / b with an error that names the op when b is zero."""
    try:
        return a / b
    except ZeroDivisionError:
        raise ZeroDivisionError(f"Value /: division by zero ({a} / {b})") from None


def _exp(x: float, op: str) -> float:
    """math.exp with an error that names the op when the result does not fit a float."""
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"Value {op}: exp({x}) is too large for a float (limit: exp(709.78))") from None


def _power_rule(x: float, p: Number) -> float:
    """d(x**p)/dx = p * x**(p-1), including the edge x = 0 where x**(p-1) would divide by zero."""
    if p == 0:
        return 0.0  # x**0 = 1 is constant
    if x == 0.0 and p < 1:
        return math.inf  # the slope of a root (p = 0.5: sqrt) at 0 is vertical
    return float(p * x ** (p - 1))


# -- micrograd's tiny neural network, on Value ----------------------------------------------------


class Module:
    """Something with parameters: ``parameters()`` lists them, ``zero_grad()`` resets their gradients."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """act(sum_i w_i x_i + b): weights uniform in [-1, 1] (the library's random Generator), bias 0."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(w) for w in get_rng().uniform(-1.0, 1.0, nin).tolist()]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Union[Value, Number]]) -> Value:
        act = Value.dot(self.w, x, self.b)  # one node (micrograd builds 2*nin of them)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; a single output is returned bare, as in micrograd."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True) -> None:
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x: Sequence[Union[Value, Number]]) -> Union[Value, list[Value]]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nin -> nouts[0] -> ... -> nouts[-1]``; ReLU after every layer but the last."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x: Sequence[Union[Value, Number]]) -> Union[Value, list[Value]]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _sent_by(node: Value) -> list[float]:
    """Run ``node._backward`` and return what it added to each of ``node._prev``, in order.

    A child used twice (``x * x``) receives one sum, shown on both of its edges.
    """
    children = list(dict.fromkeys(node._prev))  # each child once, in order
    before = [c.grad for c in children]
    node._backward(node)
    added = {id(c): c.grad - b for c, b in zip(children, before)}
    return [added[id(c)] for c in node._prev]
