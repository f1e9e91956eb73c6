"""The scalar engine: ``Value``, one number and its gradient, and a tiny MLP built from it.

``Value`` is micrograd-compatible (``Value(x)``, ``+ - * / **``, ``relu tanh
sigmoid exp log``, ``backward()``, float ``.data`` and ``.grad``) and exists to
teach the chain rule: every op computes its output and, right under it, its
local derivatives, each multiplied by the gradient arriving from the output::

    out = Value(self.data * other.data, (self, other), "*")
    def _backward(out):
        self.grad += other.data * out.grad     # d(a*b)/da = b
        other.grad += self.data * out.grad     # d(a*b)/db = a
    out._backward_fn = _backward

``out._backward()`` runs that step by hand, as in micrograd's lecture
(``o.grad = 1.0; o._backward(); n._backward(); ...``); on a leaf it does nothing.

Four differences from micrograd matter:

* The op's function receives its output node as the argument ``out`` instead
  of capturing it in a closure: ``Value._backward()`` is a method that calls
  ``self._backward_fn(self)``, and the engine makes that call itself. A node
  therefore never refers to itself, so there are no reference cycles and an
  unused graph is freed at once by reference counting.
* ``backward()`` walks the graph in the order of the iterative ``graph.toposort``
  (shared with the pictures), so a 100,000-op chain does not hit the recursion limit.
* A node's inputs ``_prev`` are an ordered tuple (micrograd's is a set), so ``a * a``
  lists ``a`` twice, and the walk visits the nodes in the same order on every run (a
  set's order follows memory addresses).
* ``backward()`` resets the nodes made by ops before it walks, and only leaves add up
  over calls: micrograd adds into every node, so its second call passes the first
  call's gradient on again and a leaf below a reused node counts it twice.

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
    if type(other) is float:  # the common case, before the slower checks
        return other
    if isinstance(other, numbers.Real):
        try:
            return float(other)
        except OverflowError:  # an int beyond 1.8e308
            raise OverflowError(
                f"Value {op}: the integer {_about(other)} is too large for a float (limit about 1.8e308)"
            ) from None
    if type(other).__name__ == "Tensor":
        raise TypeError(
            f"Value {op}: got a Tensor; a Value works on plain numbers. Pass tensor.tolist() (numbers), "
            "or use Tensors throughout (tinygrad_edu.nn)"
        )
    raise TypeError(
        f"Value {op}: unsupported operand of type {type(other).__name__} ({other!r:.40}); "
        "expected a Value or a real number (int or float)"
    )


def _about(n: Any) -> str:
    """A huge int in a few characters (``str`` of a 5000-digit int is refused by Python 3.11)."""
    try:
        return f"about 10**{int(n.bit_length() * math.log10(2))}"
    except AttributeError:
        return repr(n)[:40]


def _label(number: float) -> str:
    """A constant as it appears inside an op name such as ``*2`` or ``1-`` (for graph pictures)."""
    return f"{number:g}"


def _inputs(children: Any, data: float) -> tuple:
    """``Value``'s second argument as the tuple of Values it was computed from; a name given there
    (micrograd's ``Value(2.0, label="x")`` written without ``label=``) is a TypeError that says so."""
    if isinstance(children, str):
        raise TypeError(
            f"Value({data!r}, {children!r}): the second argument is the Values this one was computed "
            f"from; a name goes in label=: Value({data!r}, label={children!r})"
        )
    children = tuple(children)
    for child in children:
        if not isinstance(child, Value):
            raise TypeError(f"Value: the inputs it was computed from must be Values, got {child!r}")
    return children


class Value:
    """A scalar in a computation graph: ``data`` (float), ``grad`` (float, d root / d self).

    ``_prev`` holds the Values this one was computed from (an ordered tuple),
    ``_op`` names the op (``"+"``, ``"*2"``, ``"tanh"`` ...), ``label`` is an
    optional name for printing and pictures.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_backward_fn", "label", "__weakref__")

    def __init__(self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = "") -> None:
        if type(data) is not float:  # the common case (every op's output) skips the checks below
            if isinstance(data, Value):
                raise TypeError(f"Value: data must be a real number, got a Value ({data!r}); use it directly")
            data = _constant(data, "(data)")
        self.data = data
        self.grad = 0.0
        if type(_children) is not tuple:  # (every op passes a tuple)
            _children = _inputs(_children, data)
        self._prev = _children
        self._op = _op
        # Set by the op that made this node: _backward_fn(node) adds node's gradient into its
        # children's. It takes the node as an argument rather than capturing it, so that a node
        # never refers to itself (no reference cycles). None for a leaf (an input or a parameter).
        self._backward_fn: Optional[Callable[[Value], None]] = None
        self.label = label

    def _backward_step(self) -> None:
        """One step of the chain rule, by hand: this node's local derivatives times
        ``self.grad``, added into its children's ``.grad``. Nothing on a leaf."""
        if self._backward_fn is not None:
            self._backward_fn(self)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's ``v._backward()``: ``o.grad = 1.0; o._backward()``, then the nodes below,
        outputs first, as the micrograd lecture does; ``backward()`` makes the same calls in
        topological order."""
        return self._backward_step

    @_backward.setter
    def _backward(self, fn: Any) -> None:
        raise AttributeError(
            "Value._backward runs the node's step of the chain rule; an op stores that step as "
            "out._backward_fn = step, where step(out) adds out.grad times the local derivative into "
            "each child's .grad (taking out as an argument, not capturing it): see Value.tanh"
        )

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
        A leaf root is a leaf too: ``Value(3.0).backward()`` twice leaves grad 2.
        The graph is kept, so gradients can be inspected or drawn afterwards.

        ``on_step(node, sent)``, if given, is called after each node's ``_backward()`` with
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
                if node._backward_fn is not None:
                    node.grad = 0.0
            # d self / d self = 1; a leaf root accumulates it, as every leaf does
            self.grad = 1.0 if self._backward_fn is not None else self.grad + 1.0
            for node in reversed(topo):
                if node._backward_fn is None:
                    continue
                if on_step is None:
                    node._backward_fn(node)
                else:
                    on_step(node, _sent_by(node))
        finally:
            if gc_was_enabled:
                gc.enable()

    # -- arithmetic ------------------------------------------------------------------------------
    # Each op has two forms: Value with Value (both get a gradient) and Value with a plain number
    # (a constant: no node is made for it and only the Value gets a gradient).

    def __add__(self, other: Union[Value, Number]) -> Value:
        """a + b;  d/da = 1, d/db = 1."""
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

        out._backward_fn = _backward
        return out

    def __radd__(self, other: Number) -> Value:  # other + self
        """c + a, for a number c on the left."""
        return self + other

    def __sub__(self, other: Union[Value, Number]) -> Value:
        """a - b;  d/da = 1, d/db = -1."""
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

        out._backward_fn = _backward
        return out

    def __rsub__(self, other: Number) -> Value:  # other - self, other a number
        """c - a;  d/da = -1."""
        c = _constant(other, "-")
        out = Value(c - self.data, (self,), _label(c) + "-")

        def _backward(out: Value) -> None:
            # d(c-a)/da = -1
            self.grad -= out.grad

        out._backward_fn = _backward
        return out

    def __mul__(self, other: Union[Value, Number]) -> Value:
        """a * b;  d/da = b, d/db = a."""
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

        out._backward_fn = _backward
        return out

    def __rmul__(self, other: Number) -> Value:  # other * self
        """c * a, for a number c on the left."""
        return self * other

    def __truediv__(self, other: Union[Value, Number]) -> Value:
        """a / b;  d/da = 1/b, d/db = -a/b**2."""
        if isinstance(other, Value):
            out = Value(_divide(self.data, other.data), (self, other), "/")

            def _backward(out: Value) -> None:
                # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2, written -(a/b)/b: b**2 would overflow
                # for |b| > 1e154 (or underflow to 0 for a tiny b) where the quotient does not
                self.grad += out.grad / other.data
                other.grad -= out.data / other.data * out.grad

        else:
            c = _constant(other, "/")
            out = Value(_divide(self.data, c), (self,), "/" + _label(c))

            def _backward(out: Value) -> None:
                # d(a/c)/da = 1/c
                self.grad += out.grad / c

        out._backward_fn = _backward
        return out

    def __rtruediv__(self, other: Number) -> Value:  # other / self, other a number
        """c / a;  d/da = -c/a**2."""
        c = _constant(other, "/")
        out = Value(_divide(c, self.data), (self,), _label(c) + "/")

        def _backward(out: Value) -> None:
            # d(c/a)/da = -c/a**2, written -(c/a)/a so that a**2 cannot overflow first
            self.grad -= out.data / self.data * out.grad

        out._backward_fn = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        """a ** p for a number p;  d/da = p * a**(p-1)."""
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
        data = _power(x, p)
        if isinstance(data, complex):
            raise ValueError(
                f"Value **: {x} ** {p} is not a real number (a negative base needs an integer exponent)"
            )
        out = Value(float(data), (self,), "**" + _label(p))

        def _backward(out: Value) -> None:
            # d(x**p)/dx = p * x**(p-1)
            self.grad += _power_rule(self.data, p) * out.grad

        out._backward_fn = _backward
        return out

    def __rpow__(self, base: Number) -> Value:  # base ** self, base a positive number
        """c ** a for a number c > 0;  d/da = c**a * ln(c)."""
        c = _constant(base, "**")
        if c <= 0:
            raise ValueError(f"Value **: number ** Value needs a positive base, got {c}")
        # c ** x directly: exp(x * ln c) rounds (10 ** 3 would be 1000.0000000000007) and
        # gives nan for 1 ** inf, which is 1
        out = Value(_power(c, self.data), (self,), _label(c) + "**")

        def _backward(out: Value) -> None:
            # d(c**x)/dx = ln(c) * c**x
            self.grad += math.log(c) * out.data * out.grad

        out._backward_fn = _backward
        return out

    def __neg__(self) -> Value:
        """-a;  d/da = -1."""
        out = Value(-self.data, (self,), "neg")

        def _backward(out: Value) -> None:
            # d(-a)/da = -1
            self.grad -= out.grad

        out._backward_fn = _backward
        return out

    # -- functions -------------------------------------------------------------------------------

    def relu(self) -> Value:
        """max(x, 0); derivative 1 where x > 0, else 0. NaN stays NaN and passes its gradient on
        (as in PyTorch): a bad value must not turn into a harmless-looking 0."""
        x = self.data
        out = Value(0.0 if x <= 0.0 else x, (self,), "ReLU")  # nan <= 0 is False: nan passes

        def _backward(out: Value) -> None:
            if out.data != 0.0:  # x > 0, or a NaN
                self.grad += out.grad

        out._backward_fn = _backward
        return out

    def tanh(self) -> Value:
        """tanh(x); derivative 1 - tanh(x)**2, written with the output."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward(out: Value) -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward_fn = _backward
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

        out._backward_fn = _backward
        return out

    def exp(self) -> Value:
        """e**x; derivative e**x, the output itself."""
        out = Value(_exp(self.data, "exp"), (self,), "exp")

        def _backward(out: Value) -> None:
            self.grad += out.data * out.grad

        out._backward_fn = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm, for x > 0; derivative 1/x."""
        x = self.data
        if not x > 0.0 and not math.isnan(x):
            raise ValueError(f"Value.log: log is defined for positive numbers only, got {x}")
        out = Value(math.log(x), (self,), "log")

        def _backward(out: Value) -> None:
            self.grad += out.grad / self.data

        out._backward_fn = _backward
        return out

    # -- fused ops: one node instead of many -----------------------------------------------------

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Union[Value, Number]], bias: Any = None) -> Value:
        """One node for a neuron's weighted sum ``sum_i w_i * x_i + b``.

        Derivatives: d/dw_i = x_i, d/dx_i = w_i, d/db = 1. Built from ``*`` and
        ``+`` this is 2n nodes, each with its own Python call in backward; here
        it is one node whose backward is one loop over floats, which makes an
        MLP several times faster. ``inputs`` may hold plain numbers (raw
        data: a list of floats, numpy scalars, a numpy row), which are constants
        with no node of their own; ``bias`` may be a Value, a number or None.
        """
        if type(weights).__name__ == "Tensor" or type(inputs).__name__ == "Tensor":
            raise TypeError(
                "Value.dot: got a Tensor; the scalar engine takes Values and plain numbers. "
                "Pass tensor.tolist(), or use Tensors throughout (tinygrad_edu.nn)"
            )
        weights, inputs = list(weights), list(inputs)
        if len(weights) != len(inputs):
            raise ValueError(f"Value.dot: {len(weights)} weights but {len(inputs)} inputs; expected as many")
        # The floats, read once here and kept for backward (it then needs no attribute look-ups),
        # and each node with its factor in the sum, in parallel lists: no tuple per term, as
        # the graph keeps them alive and each tracked object makes the cycle collector run sooner.
        try:  # every entry a Value, as in an MLP's neuron: no test per entry
            w_data, x_data = [w.data for w in weights], [x.data for x in inputs]
            data = sum(map(operator.mul, w_data, x_data), 0.0)
            all_values = type(data) is float  # (a numpy scalar's .data is a memoryview: TypeError)
        except (AttributeError, TypeError):
            all_values = False
        if all_values:
            w_nodes, w_factors, x_nodes, x_factors = weights, x_data, inputs, w_data
        else:  # a plain number (raw data, numpy scalars too) is a constant: no node, no gradient
            weights, inputs = _as_operands(weights), _as_operands(inputs)
            w_data = [w.data if isinstance(w, Value) else w for w in weights]
            x_data = [x.data if isinstance(x, Value) else x for x in inputs]
            data = sum(map(operator.mul, w_data, x_data), 0.0)
            w_nodes, w_factors = _nodes_with_factors(weights, x_data)
            x_nodes, x_factors = _nodes_with_factors(inputs, w_data)
        children = w_nodes + x_nodes
        if isinstance(bias, Value):
            data += bias.data
            children.append(bias)
        elif bias is not None:
            data += _constant(bias, "dot (bias)")
        out = Value(data, tuple(children), "dot")

        def _backward(out: Value) -> None:
            grad = out.grad
            for w, x_value in zip(w_nodes, w_factors):
                w.grad += x_value * grad  # d/dw_i = x_i
            for x, w_value in zip(x_nodes, x_factors):
                x.grad += w_value * grad  # d/dx_i = w_i
            if isinstance(bias, Value):
                bias.grad += grad  # d/db = 1

        out._backward_fn = _backward
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
        out = Value(sum([v.data for v in terms], constant), tuple(terms), "sum")

        def _backward(out: Value) -> None:
            grad = out.grad
            for v in terms:
                v.grad += grad

        out._backward_fn = _backward
        return out


def _nodes_with_factors(items: list[Any], factors: list[float]) -> tuple[list[Value], list[float]]:
    """The Values among ``items`` and, in a parallel list, the factor each one is multiplied by."""
    pairs = [(v, f) for v, f in zip(items, factors) if isinstance(v, Value)]
    return [v for v, _ in pairs], [f for _, f in pairs]


def _as_operands(items: list[Any]) -> list[Any]:
    """``Value.dot``'s weights or inputs as Values and floats: numpy scalars (a numpy row's
    entries) are numbers, as in micrograd; anything else gets an error naming it."""
    return [v if isinstance(v, Value) or type(v) is float else _constant(v, "dot") for v in items]


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


def _power(x: float, p: Number) -> Any:
    """x ** p with an error that names the op (a negative power of 0, a result beyond a float)."""
    try:
        return x**p
    except ZeroDivisionError:
        raise ZeroDivisionError(f"Value **: {x} ** {p} is a negative power of zero") from None
    except OverflowError:
        shown = _about(p) if isinstance(p, int) and abs(p) > 10**20 else p
        raise OverflowError(f"Value **: {x} ** {shown} is too large for a float") from None


def _power_rule(x: float, p: Number) -> float:
    """d(x**p)/dx = p * x**(p-1), including the edge x = 0 where x**(p-1) would divide by zero.

    When x**(p-1) alone is beyond a float (x = 1e-200, p = -1), the slope is written
    p * x**p / x, which float division turns into the inf it truly is."""
    if p == 0:
        return 0.0  # x**0 = 1 is constant
    if x == 0.0 and p < 1:
        return math.inf  # the slope of a root (p = 0.5: sqrt) at 0 is vertical
    try:
        return float(p * x ** (p - 1))
    except OverflowError:
        pass
    try:
        return float(p) * (x**p / x)
    except OverflowError:
        raise OverflowError(
            f"Value ** (backward): the slope {_about(p) if isinstance(p, int) else p} * {x} ** (p - 1) "
            "is too large for a float"
        ) from None


# -- micrograd's tiny neural network, on Value ----------------------------------------------------


class Module:
    """Something with parameters: ``parameters()`` lists them, ``zero_grad()`` resets their gradients."""

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0, before the next ``backward()``."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        """The Values that training changes, as a list as in micrograd (a Value that two neurons
        share is listed twice); none in a bare Module."""
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
        """The weights, then the bias."""
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
        """Every neuron's parameters, neuron by neuron."""
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
        """Every layer's parameters, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _sent_by(node: Value) -> list[float]:
    """Run ``node._backward()`` and return what it added to each of ``node._prev``, in order.

    A child used twice (``x * x``) receives one sum, shown on both of its edges.
    """
    children = list(dict.fromkeys(node._prev))  # each child once, in order
    before = [c.grad for c in children]
    node._backward_fn(node)
    added = {id(c): c.grad - b for c, b in zip(children, before)}
    return [added[id(c)] for c in node._prev]
