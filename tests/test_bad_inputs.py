"""The error catalogue: one table of bad inputs, each with the error it must raise and the words
its message must hold (the function's name and the offending argument, shape or dtype).

A row is ``(area, what, call, expected, words)``. ``call`` takes a scratch folder. ``expected``
is an exception class, ``Exits(status)`` for the command line (one line on stderr, no
traceback), or ``Gives(check)`` where we follow PyTorch and return a value instead of raising
(the mean of an empty tensor is nan). docs/errors.md describes the exception types.

At the end, hypothesis throws malformed shapes, dtypes and values at the ops and the losses:
every failure must be one of our exception types with our message format, never a bare numpy
or Python error.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, cli, data, nn, optim
from tinygrad_edu import gradcheck as gc
from tinygrad_edu.autograd import OpError
from tinygrad_edu.nn import functional as F
from tinygrad_edu.optim import schedules
from tinygrad_edu.serialization import CheckpointError, load, save


@dataclass(frozen=True)
class Exits:
    """The command line returns ``status`` and prints one line on stderr."""

    status: int


@dataclass(frozen=True)
class Gives:
    """No error: the call returns a value for which ``check(value)`` is true (PyTorch's behaviour)."""

    check: Callable[[Any], bool]
    says: str


# --- small builders -------------------------------------------------------------------------------


def ones(*shape, dtype=np.float64, grad=False):
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=grad)


def leaf():
    return Tensor(np.ones((2, 3)), requires_grad=True)


def param():
    return [Tensor(np.ones(2), requires_grad=True)]


def backward_twice():
    y = (leaf() * 2).sum()
    y.backward()
    y.backward()


def float32_gradcheck():
    """gradcheck warns (its own one-line warning) that float32 is too coarse, then fails."""
    with pytest.warns(UserWarning, match="gradcheck: input 0 is float32"):
        gc.gradcheck(lambda a: (a * a).sum(), [Tensor([0.3], requires_grad=True)])


def diverging_fit():
    """fit with a learning rate of 1e200: it must stop with NonFiniteLossError, no numpy warning first."""
    X, y = data.make_moons(20, noise=0.1, seed=0)
    model = linear_model()
    opt = optim.SGD(model.parameters(), lr=1e200)
    tg.train.fit(model, nn.MSELoss(), opt, X, y.reshape(-1, 1).astype(F64), 5, progress=False)


def linear_model():
    return nn.Linear(2, 1, rng=np.random.default_rng(0), dtype=np.float64)


def command(argv):
    """Run the command line; return (status, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    return status, err.getvalue()


def checkpoint_file(t, name, root, arrays=(), compression=zipfile.ZIP_STORED, index=None):
    """A file laid out as save writes it, with any index and any entries (raw bytes or arrays)."""
    path = t / name
    if index is None:
        index = json.dumps({"format": "tinygrad_edu.checkpoint", "version": 1, "root": root})
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        with zf.open("__tinygrad_edu_index__.npy", "w") as member:
            np.lib.format.write_array(member, np.frombuffer(index.encode(), dtype=np.uint8))
        for entry, content in arrays:
            if isinstance(content, bytes):
                zf.writestr(entry + ".npy", content)
            else:
                with zf.open(entry + ".npy", "w") as member:
                    np.lib.format.write_array(member, content)
    return path


def zip_bomb(t):
    """4 MiB of zeros that deflate to a few KiB: a file that claims far more than it holds."""
    return checkpoint_file(
        t, "bomb.npz", {"array": "a0"}, [("a0", np.zeros(2**22, np.uint8))], zipfile.ZIP_DEFLATED
    )


def deep_json(depth):
    """An index whose root is a list in a list in a list ... ``depth`` times (written as text)."""
    head = '{"format": "tinygrad_edu.checkpoint", "version": 1, "root": '
    return head + '{"list": [' * depth + "1" + "]}" * depth + "}"


def npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def written(t, name, content):
    path = t / name
    path.write_bytes(content)
    return path


def truncated(t):
    path = t / "cut.npz"
    save({"w": np.arange(2000.0)}, path)
    path.write_bytes(path.read_bytes()[:3000])
    return path


def plain_npz(t):
    path = t / "plain.npz"
    np.savez(path, weight=np.ones(3))
    return path


def pickled(t):
    path = t / "evil.npz"
    index = b'{"format": "tinygrad_edu.checkpoint", "version": 1, "root": {"array": "a0"}}'
    with open(path, "wb") as f:
        np.savez(f, __tinygrad_edu_index__=np.frombuffer(index, dtype=np.uint8), a0=np.array([None], object))
    return path


class WrongSquare(tg.Function):
    """x * x with a backward that forgot the 2: what gradcheck is for."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        return grad * self.inputs[0]


def nested(depth):
    root: Any = {}
    node = root
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    return root


def deep_index(depth):
    root: Any = 1
    for _ in range(depth):
        root = {"list": [root]}
    return root


def afile(t):
    path = t / "afile"
    path.write_text("not a folder")
    return str(path)


def empty_mean_is_nan(value):
    return isinstance(value, Tensor) and value.shape == () and math.isnan(value.item())


def empty_column_means_are_nan(value):
    return value.shape == (3,) and bool(np.all(np.isnan(value.data)))


F64 = np.float64
STEP = schedules.ExponentialDecay

# --- the table ------------------------------------------------------------------------------------


def r(what: str, call: Callable[[Any], Any], expected: Any, *words: str) -> tuple:
    """One row: what is tried, the call (given a scratch folder), what it must raise, the words."""
    return (what, call, expected, list(words))



CONSTRUCTION = [
    r("Tensor from a str", lambda t: Tensor("abc"), TypeError, "Tensor", "str", "<U3"),
    r("Tensor from strs", lambda t: Tensor(["a", "b"]), TypeError, "Tensor", "<U1"),
    r("Tensor ragged", lambda t: Tensor([[1, 2], [3]]), TypeError, "Tensor", "list", "inhomogeneous"),
    r("Tensor(None)", lambda t: Tensor(None), TypeError, "Tensor", "NoneType"),
    r("Tensor(dict)", lambda t: Tensor({"a": 1}), TypeError, "Tensor", "dict"),
    r("Tensor object array", lambda t: Tensor(np.array([1, None], dtype=object)),
      TypeError, "Tensor", "dtype object"),
    r("Tensor complex", lambda t: Tensor([1j]), TypeError, "Tensor", "complex128"),
    r("Tensor unknown dtype", lambda t: Tensor([1.0], dtype="floaty"), TypeError, "Tensor", "floaty"),
    r("Tensor str dtype", lambda t: Tensor([1.0], dtype=np.str_), TypeError, "Tensor", "dtype <U"),
    r("int tensor requires grad", lambda t: Tensor(np.arange(3), requires_grad=True),
      TypeError, "Tensor", "int64", "(3,)", "require grad"),
    r("Tensor(2**70) is a float", lambda t: Tensor(2**70),
      Gives(lambda v: v.dtype == np.float32 and v.item() == np.float32(2.0**70), "float32 2**70")),
    r("Tensor(2**70) as int64", lambda t: Tensor(2**70, dtype=np.int64),
      OverflowError, "Tensor", "int64", str(2**70)),
    r("Tensor(2**2000)", lambda t: Tensor(2**2000), OverflowError, "Tensor", "float32"),
    r("nan as int64", lambda t: Tensor([np.nan, 1.7], dtype=np.int64), ValueError, "Tensor", "int64", "nan"),
    r("inf as int32", lambda t: Tensor(np.array([np.inf]), dtype=np.int32),
      ValueError, "Tensor", "int32", "inf"),
    r("1e10 as int32", lambda t: Tensor([1e10], dtype=np.int32), OverflowError, "Tensor", "int32", "1e+10"),
    r("zeros(-1, 3)", lambda t: tg.zeros(-1, 3), ValueError, "zeros", "(-1, 3)"),
    r("ones(-2)", lambda t: tg.ones(-2), ValueError, "ones", "-2"),
    r("rand(2, -1)", lambda t: tg.rand(2, -1), ValueError, "rand", "(2, -1)"),
    r("randn(-1)", lambda t: tg.randn(-1), ValueError, "randn", "-1"),
    r("zeros(2.5)", lambda t: tg.zeros(2.5), TypeError, "zeros", "2.5"),
    r("ones('a')", lambda t: tg.ones("a"), TypeError, "ones", "'a'"),
    r("zeros unknown dtype", lambda t: tg.zeros(2, dtype="nope"), TypeError, "zeros", "nope"),
    r("int ones require grad", lambda t: tg.ones(2, dtype=np.int64, requires_grad=True),
      TypeError, "int64", "require grad"),
    r("set_default_dtype(int32)", lambda t: tg.set_default_dtype(np.int32),
      TypeError, "set_default_dtype", "int32"),
    r("stack of nothing", lambda t: tg.stack([]), ValueError, "stack", "none"),
    r("stack different shapes", lambda t: tg.stack([ones(2), ones(3)]), OpError, "Stack", "(2,)", "(3,)"),
    r("concatenate of nothing", lambda t: tg.concatenate([]), ValueError, "concatenate", "none"),
    r("concatenate shapes", lambda t: tg.concatenate([ones(2, 3), ones(2, 4)]),
      OpError, "Concatenate", "(2, 3)", "(2, 4)"),
    r("concatenate axis", lambda t: tg.concatenate([ones(2), ones(2)], axis=3),
      IndexError, "Concatenate", "axis 3"),
    r("where shapes", lambda t: tg.where(np.array([True, False]), ones(3), ones(3)),
      OpError, "Where", "(3,)", "(2,)"),
    r("maximum shapes", lambda t: tg.maximum(ones(2), ones(3)), OpError, "Maximum", "(2,)", "(3,)"),
]

OPS = [
    r("add shapes", lambda t: ones(2, 3) + ones(4), OpError, "Add", "(2, 3)", "(4,)"),
    r("mul shapes", lambda t: ones(2, 3) * ones(2), OpError, "Mul", "(2, 3)", "(2,)"),
    r("sub shapes", lambda t: ones(3) - ones(4), OpError, "Sub", "(3,)", "(4,)"),
    r("div shapes", lambda t: ones(3) / ones(2), OpError, "Div", "(3,)", "(2,)"),
    r("matmul inner sizes", lambda t: ones(2, 3) @ ones(4, 5), OpError, "MatMul", "(2, 3)", "(4, 5)"),
    r("matmul of scalars", lambda t: ones() @ ones(), OpError, "MatMul", "shape ()"),
    r("matmul vectors", lambda t: ones(3) @ ones(4), OpError, "MatMul", "(3,)", "(4,)"),
    r("add a str", lambda t: ones(2) + "a", TypeError, "Tensor", "str"),
    r("add None", lambda t: ones(2) + None, TypeError, "Tensor", "NoneType"),
    r("add a list of str", lambda t: ones(2) + ["a", "b"], TypeError, "Tensor", "<U1"),
    r("power a str", lambda t: ones(2) ** "a", TypeError, "Tensor", "str"),
    r("int32 + 2**40", lambda t: Tensor(np.array([1], dtype=np.int32)) + 2**40,
      OverflowError, "Tensor", "int32", "1099511627776", "does not fit"),
    r("int8 * 300", lambda t: Tensor(np.array([1], dtype=np.int8)) * 300,
      OverflowError, "Tensor", "int8", "300", "does not fit"),
    r("int 70000 as float16", lambda t: Tensor(np.array([3, 70000]), dtype=np.float16),
      OverflowError, "Tensor", "float16", "70000", "would become inf"),  # numpy: inf, with a warning
    r("a list of ints as float16", lambda t: Tensor([-70000], dtype=np.float16),
      OverflowError, "Tensor", "float16", "-70000", "would become inf"),
    r("reshape to another size", lambda t: ones(2, 3).reshape(4, 2), OpError, "Reshape", "(2, 3)", "(4,2)"),
    r("reshape two unknowns", lambda t: ones(2, 3).reshape(-1, -1), OpError, "Reshape", "(2, 3)", "unknown"),
    r("reshape to a str", lambda t: ones(2, 3).reshape("a"), OpError, "Reshape", "(2, 3)", "str"),
    r("transpose axis", lambda t: ones(2, 3).transpose(0, 2), IndexError, "Transpose", "(2, 3)", "axis 2"),
    r("sum axis", lambda t: ones(2, 3).sum(axis=2), IndexError, "Sum", "(2, 3)", "axis 2"),
    r("sum axis str", lambda t: ones(2, 3).sum(axis="a"), OpError, "Sum", "(2, 3)", "'a'"),
    r("mean axis", lambda t: ones(2, 3).mean(axis=5), IndexError, "(2, 3)", "axis 5"),
    r("max axis", lambda t: ones(2, 3).max(axis=3), OpError, "Max", "(2, 3)", "axis 3"),
    r("max of nothing", lambda t: Tensor(np.zeros((0, 3))).max(), OpError, "Max", "(0, 3)", "empty"),
    r("mean of nothing is nan", lambda t: Tensor(np.zeros((0, 3))).mean(),
      Gives(empty_mean_is_nan, "nan, as torch.zeros(0, 3).mean()")),
    r("column means of nothing are nan", lambda t: Tensor(np.zeros((0, 3))).mean(axis=0),
      Gives(empty_column_means_are_nan, "[nan, nan, nan], as PyTorch")),
    r("index 5 of 2 rows", lambda t: ones(2, 3)[5], IndexError, "GetItem", "(2, 3)", "index 5", "size 2"),
    r("index -3 of 2 rows", lambda t: ones(2, 3)[-3], IndexError, "GetItem", "(2, 3)", "-3"),
    r("index column 3", lambda t: ones(2, 3)[:, 3], IndexError, "GetItem", "(2, 3)", "index 3"),
    r("too many indices", lambda t: ones(2, 3)[0, 0, 0], IndexError, "GetItem", "(2, 3)", "too many"),
    r("index by a str", lambda t: ones(2, 3)["a"], IndexError, "GetItem", "(2, 3)", "valid indices"),
    r("index by a float", lambda t: ones(2, 3)[1.5], IndexError, "GetItem", "(2, 3)", "valid indices"),
    r("boolean mask of the wrong size", lambda t: ones(2, 3)[np.array([True, False, True])],
      IndexError, "GetItem", "(2, 3)", "boolean"),
    r("leaky_relu('a')", lambda t: ones(2).leaky_relu("a"), TypeError, "LeakyReLU", "negative_slope", "'a'"),
    r("leaky_relu(None)", lambda t: ones(2).leaky_relu(None), TypeError, "LeakyReLU", "negative_slope"),
    r("softmax axis", lambda t: ones(2, 3).softmax(axis=4), IndexError, "Softmax", "(2, 3)", "axis 4"),
    r("log_softmax axis", lambda t: ones(2, 3).log_softmax(axis=-3),
      IndexError, "LogSoftmax", "(2, 3)", "axis -3"),
    r("logsumexp axis", lambda t: ones(2, 3).logsumexp(axis=7), OpError, "LogSumExp", "(2, 3)", "axis 7"),
    r("broadcast_to a smaller shape", lambda t: ones(2, 3).broadcast_to((4, 3)),
      OpError, "BroadcastTo", "(2, 3)", "(4,3)"),
    r("item of many", lambda t: ones(2, 3).item(), ValueError, "item", "(2, 3)"),
    r("float of many", lambda t: float(ones(2)), ValueError, "item", "(2,)"),
]

BACKWARD = [
    r("backward of a non-scalar", lambda t: (leaf() * 2).backward(),
      RuntimeError, "backward", "(2, 3)", "gradient="),
    r("backward without a graph", lambda t: ones(2).sum().backward(),
      RuntimeError, "backward", "does not require grad"),
    r("gradient of str", lambda t: (leaf() * 2).backward(gradient=np.array([["a"] * 3] * 2)),
      TypeError, "backward", "gradient", "<U1"),
    r("gradient a str", lambda t: (leaf() * 2).backward(gradient="a"), TypeError, "backward", "gradient"),
    r("gradient shape", lambda t: (leaf() * 2).backward(gradient=np.ones(3)),
      RuntimeError, "backward", "(3,)", "(2, 3)"),
    r("backward twice", lambda t: backward_twice(), RuntimeError, "second time", "Sum", "retain_graph"),
    r("grad of an unused input", lambda t: tg.grad((leaf() * 2).sum(), [Tensor([1.0], requires_grad=True)]),
      RuntimeError, "grad", "input 0", "(1,)", "allow_unused"),
    r("grad of a constant", lambda t: tg.grad((leaf() * 2).sum(), [ones(2)]),
      RuntimeError, "grad", "input 0", "does not require grad"),
    r("grad_outputs shape", lambda t: (lambda a: tg.grad(a * 2, [a], grad_outputs=[np.ones(5)]))(leaf()),
      RuntimeError, "grad", "(5,)", "(2, 3)"),
    r("autograd.backward of a number", lambda t: tg.autograd.backward(5),
      TypeError, "backward", "Tensor", "int"),
]

NN = [
    r("Linear(-1, 2)", lambda t: nn.Linear(-1, 2), ValueError, "Linear", "in_features", "-1"),
    r("Linear(2.5, 2)", lambda t: nn.Linear(2.5, 2), ValueError, "Linear", "in_features", "2.5"),
    r("Linear(2, 0)", lambda t: nn.Linear(2, 0), ValueError, "Linear", "out_features", "0"),
    r("Linear unknown init", lambda t: nn.Linear(2, 2, init="nope"), ValueError, "Linear", "init", "'nope'"),
    r("Linear on the wrong width", lambda t: nn.Linear(3, 2)(ones(4, 5)),
      OpError, "Linear", "(4, 5)", "(2, 3)"),
    r("Linear on a scalar", lambda t: nn.Linear(3, 2)(ones()), OpError, "Linear", "shape ()"),
    r("Dropout(1.5)", lambda t: nn.Dropout(1.5), ValueError, "Dropout", "p=1.5"),
    r("Dropout('a')", lambda t: nn.Dropout("a"), TypeError, "Dropout", "p", "str"),
    r("dropout(p=-0.1)", lambda t: F.dropout(ones(2), p=-0.1), ValueError, "dropout", "-0.1"),
    r("LeakyReLU('a') forward", lambda t: nn.LeakyReLU("a")(ones(2)),
      TypeError, "LeakyReLU", "negative_slope", "'a'"),
    r("BatchNorm1d(0)", lambda t: nn.BatchNorm1d(0), ValueError, "BatchNorm1d", "num_features", "0"),
    r("BatchNorm1d width", lambda t: nn.BatchNorm1d(3)(ones(4, 5)), ValueError, "BatchNorm1d", "(4, 5)"),
    r("BatchNorm1d one sample", lambda t: nn.BatchNorm1d(3)(ones(1, 3)),
      ValueError, "BatchNorm1d", "(1, 3)", "at least 2"),
    r("Sequential of an int", lambda t: nn.Sequential(5), TypeError, "Sequential", "item 0", "int"),
    r("register_parameter of an int", lambda t: nn.Module().register_parameter("a", 5),
      TypeError, "register_parameter", "'a'", "int"),
    r("Parameter from a str", lambda t: nn.Parameter("abc"), TypeError, "Parameter", "str"),
    r("load_state_dict missing keys", lambda t: nn.Linear(2, 2).load_state_dict({}),
      RuntimeError, "load_state_dict", "Linear", "missing", "'weight'"),
    r(
        "load_state_dict shape",
        lambda t: nn.Linear(2, 2).load_state_dict( {"weight": np.ones((3, 3)), "bias": np.ones(2)}),
        RuntimeError, "load_state_dict", "'weight'", "(3, 3)", "(2, 2)",
    ),
    r(
        "load_state_dict of strs",
        lambda t: nn.Linear(2, 2).load_state_dict({"weight": np.array([["a", "b"]] * 2), "bias": np.ones(2)}),
        RuntimeError, "load_state_dict", "'weight'", "<U1",
    ),
    r("load_state_dict of an int", lambda t: nn.Linear(2, 2).load_state_dict(5),
      TypeError, "load_state_dict", "int"),
    r("MSELoss shapes", lambda t: nn.MSELoss()(ones(3), ones(4)), ValueError, "MSELoss", "(4,)", "(3,)"),
    r("MSELoss reduction", lambda t: nn.MSELoss(reduction="avg"),
      ValueError, "MSELoss", "reduction", "'avg'"),
    r("mse_loss target of str", lambda t: F.mse_loss(ones(3), np.array(["a", "b", "c"])),
      TypeError, "mse_loss", "target", "<U1"),
    r("BCELoss of a logit", lambda t: nn.BCELoss()(Tensor([1.5]), Tensor([1.0])),
      ValueError, "BCELoss", "(1,)", "[0, 1]"),
    r("BCEWithLogitsLoss shapes", lambda t: nn.BCEWithLogitsLoss()(ones(3, 1), ones(3)),
      ValueError, "BCEWithLogitsLoss", "(3,)", "(3, 1)"),
    r("CrossEntropyLoss float target", lambda t: nn.CrossEntropyLoss()(ones(3, 4), np.array([0.5, 1, 2])),
      TypeError, "CrossEntropyLoss", "target", "float64"),
    r("CrossEntropyLoss class 9 of 4", lambda t: nn.CrossEntropyLoss()(ones(3, 4), np.array([0, 1, 9])),
      ValueError, "CrossEntropyLoss", "target[2] = 9", "(3, 4)"),
    r("CrossEntropyLoss target length", lambda t: nn.CrossEntropyLoss()(ones(3, 4), np.array([0, 1])),
      ValueError, "CrossEntropyLoss", "(2,)", "(3, 4)"),
    r("CrossEntropyLoss 1-d logits", lambda t: nn.CrossEntropyLoss()(ones(4), np.array([0])),
      ValueError, "CrossEntropyLoss", "(4,)", "(N, C)"),
    r("nll_loss class -1", lambda t: F.nll_loss(ones(3, 4), np.array([0, -1, 2])),
      ValueError, "nll_loss", "[0, 4)"),
    r("Softmax module axis", lambda t: nn.Softmax(axis=3)(ones(2, 3)), IndexError, "Softmax", "axis 3"),
]

OPTIM = [
    r("SGD lr -1", lambda t: optim.SGD(param(), lr=-1), ValueError, "SGD", "lr", "-1"),
    r("SGD lr str", lambda t: optim.SGD(param(), lr="a"), TypeError, "SGD", "lr", "str"),
    r("SGD lr nan", lambda t: optim.SGD(param(), lr=float("nan")), ValueError, "SGD", "lr", "nan"),
    r("SGD of nothing", lambda t: optim.SGD([], lr=0.1), ValueError, "SGD", "empty parameter list"),
    r("SGD of one Tensor", lambda t: optim.SGD(Tensor([1.0], requires_grad=True), lr=0.1),
      TypeError, "SGD", "single Tensor", "(1,)"),
    r("SGD momentum -1", lambda t: optim.SGD(param(), lr=0.1, momentum=-1),
      ValueError, "SGD", "momentum", "-1"),
    r("SGD nesterov without momentum", lambda t: optim.SGD(param(), lr=0.1, nesterov=True),
      ValueError, "SGD", "nesterov", "momentum"),
    r("SGD of a constant", lambda t: optim.SGD([Tensor([1.0])], lr=0.1),
      ValueError, "SGD", "parameter 0", "(1,)", "does not require grad"),
    r("SGD of an int", lambda t: optim.SGD([5], lr=0.1), TypeError, "SGD", "parameter 0", "int"),
    r("Adam betas", lambda t: optim.Adam(param(), betas=(1.5, 0.9)), ValueError, "Adam", "betas", "1.5"),
    r("Adam eps", lambda t: optim.Adam(param(), eps=-1), ValueError, "Adam", "eps", "-1"),
    r("Adam eps_mode", lambda t: optim.Adam(param(), eps_mode="nope"),
      ValueError, "Adam", "eps_mode", "'nope'"),
    r("AdamW weight_decay", lambda t: optim.AdamW(param(), weight_decay=-1),
      ValueError, "AdamW", "weight_decay", "-1"),
    r("RMSprop alpha", lambda t: optim.RMSprop(param(), alpha=2), ValueError, "RMSprop", "alpha", "2"),
    r("Adagrad lr_decay", lambda t: optim.Adagrad(param(), lr_decay=-1),
      ValueError, "Adagrad", "lr_decay", "-1"),
    r("Momentum beta", lambda t: optim.Momentum(param(), lr=0.1, beta=1.5),
      ValueError, "Momentum", "beta", "1.5"),
    r("load_state_dict without state", lambda t: optim.SGD(param(), lr=0.1).load_state_dict({"x": 1}),
      ValueError, "SGD.load_state_dict", "'state'", "'param_groups'"),
    r("moving average beta", lambda t: optim.ExponentialMovingAverage(beta=1.5),
      ValueError, "ExponentialMovingAverage", "beta", "1.5"),
    r("ExponentialDecay rate -0.5", lambda t: STEP(0.1, 10, decay_rate=-0.5),
      ValueError, "ExponentialDecay", "decay_rate", "-0.5"),
    r("ExponentialDecay rate 0", lambda t: STEP(0.1, 10, decay_rate=0),
      ValueError, "ExponentialDecay", "decay_rate", "> 0"),
    r("ExponentialDecay rate str", lambda t: STEP(0.1, 10, decay_rate="fast"),
      TypeError, "ExponentialDecay", "decay_rate", "'fast'"),
    r("ExponentialDecay lr nan", lambda t: STEP(float("nan"), 10, 0.5),
      ValueError, "ExponentialDecay", "initial_learning_rate", "nan"),
    r("ExponentialDecay steps 0", lambda t: STEP(0.1, 0, 0.5),
      ValueError, "ExponentialDecay", "decay_steps", "0"),
    r("InverseTimeDecay rate -1", lambda t: schedules.InverseTimeDecay(0.1, 10, -1),
      ValueError, "InverseTimeDecay", "decay_rate", "-1"),
    r("CosineDecay alpha 2", lambda t: schedules.CosineDecay(0.1, 10, alpha=2),
      ValueError, "CosineDecay", "alpha", "2"),
    r("CosineDecay warmup_steps nan", lambda t: schedules.CosineDecay(0.1, 10, warmup_steps=float("nan")),
      ValueError, "CosineDecay", "warmup_steps", "nan"),
    r("CosineDecay warmup_target -1", lambda t: schedules.CosineDecay(0.1, 10, warmup_target=-1),
      ValueError, "CosineDecay", "warmup_target", "-1"),
    r("PiecewiseConstantDecay of str", lambda t: schedules.PiecewiseConstantDecay(["a"], [1, 2]),
      TypeError, "PiecewiseConstantDecay", "boundaries", "'a'"),
    r("PiecewiseConstantDecay negative lr", lambda t: schedules.PiecewiseConstantDecay([5], [1, -2]),
      ValueError, "PiecewiseConstantDecay", "values", "-2"),
    r("PiecewiseConstantDecay inf", lambda t: schedules.PiecewiseConstantDecay([5], [1, np.inf]),
      ValueError, "PiecewiseConstantDecay", "values", "inf"),
    r("schedule at step -1", lambda t: STEP(0.1, 10, 0.5)(-1), ValueError, "ExponentialDecay", "-1"),
    r("schedule at step 'ten'", lambda t: STEP(0.1, 10, 0.5)("ten"),
      TypeError, "ExponentialDecay", "step", "str"),
    r("deserialize an unknown schedule", lambda t: schedules.deserialize({"schedule": "Nope"}),
      ValueError, "deserialize", "'Nope'"),
]

GRADCHECK = [
    r(
        "check_model eps -1",
        lambda t: gc.check_model(linear_model(), nn.MSELoss(), np.ones((3, 2)), np.ones((3, 1)), eps=-1),
        ValueError, "check_model", "eps", "-1",
    ),
    r(
        "check_model on the wrong width",
        lambda t: gc.check_model(linear_model(), nn.MSELoss(), np.ones((3, 5)), np.ones((3, 1))),
        OpError, "Linear", "(3, 5)", "(1, 2)",
    ),
    r(
        "check_model of nothing to check",
        lambda t: gc.check_model(nn.ReLU(), nn.MSELoss(), np.ones((3, 2)), np.ones((3, 2))),
        ValueError, "check_model", "no parameters",
    ),
    r(
        "gradcheck of a float32 input",
        lambda t: float32_gradcheck(),
        gc.GradcheckError, "gradcheck", "input 0", "(1,)",
    ),
    r(
        "gradcheck of a non-Tensor output",
        lambda t: gc.gradcheck(lambda a: 5, [Tensor(np.ones(2), requires_grad=True)]),
        TypeError, "gradcheck", "output 0", "int",
    ),
    r(
        "gradcheck of a wrong backward",
        lambda t: gc.gradcheck(lambda a: WrongSquare.apply(a).sum(), [ones(2, grad=True)]),
        gc.GradcheckError, "gradcheck", "input 0", "(2,)", "analytic", "numerical",
    ),
]

DATA = [
    r("make_moons noise -1", lambda t: data.make_moons(noise=-1), ValueError, "make_moons", "noise", "-1"),
    r("make_moons noise nan", lambda t: data.make_moons(noise=float("nan")),
      ValueError, "make_moons", "noise", "nan"),
    r("make_moons noise str", lambda t: data.make_moons(noise="0.2"),
      TypeError, "make_moons", "noise", "str"),
    r("make_moons seed -1", lambda t: data.make_moons(seed=-1), ValueError, "make_moons", "seed", "-1"),
    r("make_moons seed 2**32", lambda t: data.make_moons(seed=2**32),
      ValueError, "make_moons", "seed", str(2**32)),
    r("make_moons seed 1.5", lambda t: data.make_moons(seed=1.5), TypeError, "make_moons", "seed", "1.5"),
    r("make_moons 0 samples", lambda t: data.make_moons(0), ValueError, "make_moons", "n_samples", "0"),
    r("make_moons 2.5 samples", lambda t: data.make_moons(2.5), TypeError, "make_moons", "n_samples", "2.5"),
    r("make_circles factor 1.5", lambda t: data.make_circles(10, factor=1.5),
      ValueError, "make_circles", "factor", "1.5"),
    r("make_circles factor str", lambda t: data.make_circles(10, factor="big"),
      TypeError, "make_circles", "factor", "'big'"),
    r("make_circles noise -0.1", lambda t: data.make_circles(noise=-0.1),
      ValueError, "make_circles", "noise", "-0.1"),
    r("make_spirals(2.5)", lambda t: data.make_spirals(2.5), TypeError, "make_spirals", "n_per_class", "2.5"),
    r("make_spirals one class", lambda t: data.make_spirals(10, 1),
      ValueError, "make_spirals", "n_classes", "1"),
    r("make_spirals seed -1", lambda t: data.make_spirals(10, seed=-1),
      ValueError, "make_spirals", "seed", "-1"),
    r("make_spirals noise -1", lambda t: data.make_spirals(10, noise=-1),
      ValueError, "make_spirals", "noise", "-1"),
    r("mini-batches of unequal lengths", lambda t: data.random_mini_batches(np.zeros((5, 2)), np.zeros(4)),
      ValueError, "random_mini_batches", "(5, 2)", "(4,)"),
    r("mini-batches of nothing", lambda t: data.random_mini_batches(np.zeros((0, 2)), np.zeros(0)),
      ValueError, "random_mini_batches", "empty", "(0, 2)"),
    r("mini-batch size 0", lambda t: data.random_mini_batches(np.zeros((5, 2)), np.zeros(5), 0),
      ValueError, "random_mini_batches", "batch size", "0"),
    r("mini-batch seed -1", lambda t: data.random_mini_batches(np.zeros((5, 2)), np.zeros(5), seed=-1),
      ValueError, "random_mini_batches", "seed", "-1"),
    r("DataLoader batch size str", lambda t: data.DataLoader(np.ones((3, 2)), np.ones(3), batch_size="a"),
      ValueError, "DataLoader", "batch size", "'a'"),
    r("DataLoader seed -1", lambda t: data.DataLoader(np.ones((3, 2)), np.ones(3), seed=-1),
      ValueError, "DataLoader", "seed", "-1"),
    r("DataLoader of a scalar", lambda t: data.DataLoader(np.float64(1), np.ones(3)),
      ValueError, "DataLoader", "sample axis", "()"),
    r(
        "DataLoader drop_last of everything",
        lambda t: data.DataLoader(np.ones((3, 2)), np.ones(3), batch_size=5, drop_last=True),
        ValueError, "DataLoader", "drop_last", "5", "3 samples",
    ),
    r("Standardizer of a vector", lambda t: data.Standardizer().fit(np.ones(3)),
      ValueError, "Standardizer.fit", "(3,)"),
    r("Standardizer of str", lambda t: data.Standardizer().fit([["a", "b"]]),
      TypeError, "Standardizer.fit", "<U1"),
    r("Standardizer width", lambda t: data.Standardizer().fit(np.ones((3, 2))).transform(np.ones((3, 3))),
      ValueError, "Standardizer.transform", "(n, 2)", "(3, 3)"),
    r("Standardizer inverse width",
      lambda t: data.Standardizer().fit(np.ones((3, 2))).inverse_transform(np.ones((3, 3))),
      ValueError, "Standardizer.inverse_transform", "(n, 2)", "(3, 3)"),
    r("Standardizer before fit", lambda t: data.Standardizer().transform(np.ones((3, 3))),
      RuntimeError, "Standardizer.transform", "fit"),
]

TRAIN = [
    r(
        "evaluate of unequal lengths",
        lambda t: tg.train.evaluate(linear_model(), nn.MSELoss(), np.ones((3, 2)), np.ones((4, 1))),
        ValueError, "evaluate", "3 samples", "(3, 2)", "4",
    ),
    r("fit that diverges", lambda t: diverging_fit(),
      tg.train.NonFiniteLossError, "fit", "epoch 1", "step 0"),
    r("EarlyStopping mode", lambda t: tg.train.EarlyStopping(mode="nope"),
      ValueError, "EarlyStopping", "mode", "'nope'"),
]

SCALAR = [
    r("Value of a str", lambda t: tg.Value("a"), TypeError, "Value", "str", "'a'"),
    r("log of -1", lambda t: tg.Value(-1.0).log(), ValueError, "Value.log", "-1.0"),
    r("Value + str", lambda t: tg.Value(1.0) + "a", TypeError, "Value +", "str"),
    r("Value ** Value", lambda t: tg.Value(2.0) ** tg.Value(2.0), TypeError, "Value **", "exponent"),
]

CHECKPOINTS = [
    r("save a set", lambda t: save({"s": {1, 2}}, t / "c.npz"), TypeError, "save", "obj['s']", "set"),
    r("save a schedule function", lambda t: save({"lr": lambda s: 0.1}, t / "c.npz"),
      TypeError, "save", "obj['lr']", "callable"),
    r("save an object array", lambda t: save([np.array([None], dtype=object)], t / "c.npz"),
      TypeError, "save", "obj[0]", "dtype object"),
    r("save a structured array", lambda t: save(np.zeros(2, dtype=[("a", "f8")]), t / "c.npz"),
      TypeError, "save", "structured", "('a'"),
    r("save bytes", lambda t: save({"b": b"raw"}, t / "c.npz"), TypeError, "save", "obj['b']", "bytes"),
    r("save a float key", lambda t: save({1.5: 2}, t / "c.npz"), TypeError, "save", "key 1.5", "float"),
    r("save a dict 2000 deep", lambda t: save(nested(2000), t / "c.npz"),
      ValueError, "save", "MAX_DEPTH = 100", "obj['a']"),
    r("save into a missing folder", lambda t: save({}, t / "nope" / "c.npz"),
      FileNotFoundError, "save", "nope", "c.npz", "does not exist"),
    r("save into a file", lambda t: save({}, f"{afile(t)}/c.npz"),
      NotADirectoryError, "save", "afile", "not a folder"),
    r("save to path 5", lambda t: save({}, 5), TypeError, "save", "path", "int"),
    r("save to ''", lambda t: save({}, ""), ValueError, "save", "path is empty"),
    r("load a missing file", lambda t: load(t / "nope.npz"), FileNotFoundError, "nope.npz"),
    r("load an empty file", lambda t: load(written(t, "e.npz", b"")),
      CheckpointError, "load", "e.npz", "empty file"),
    r("load a CSV", lambda t: load(written(t, "l.csv", b"epoch,loss\n")),
      CheckpointError, "load", "l.csv", "not a tinygrad_edu checkpoint"),
    r("load a truncated file", lambda t: load(truncated(t)), CheckpointError, "load", "cut.npz", "truncated"),
    r("load a plain npz", lambda t: load(plain_npz(t)), CheckpointError, "load", "plain.npz", "weight"),
    r("load a pickled object array", lambda t: load(pickled(t)),
      CheckpointError, "load", "evil.npz", "refused"),
    r(
        "load a zip bomb",
        lambda t: load(zip_bomb(t)),
        CheckpointError, "load", "bomb.npz", "max_bytes=",
    ),
    r(
        "load a header of 8 TiB",
        lambda t: load(checkpoint_file(t, "huge.npz", {"array": "a0"}, [("a0", npy_header((2**40,)))])),
        CheckpointError, "load", "huge.npz", "'a0'", "(1099511627776,)",
    ),
    r(
        "load an index 100000 deep",
        lambda t: load(checkpoint_file(t, "deep.npz", None, index=deep_json(100_000))),
        CheckpointError, "load", "deep.npz", "deep",
    ),
    r("load past max_depth", lambda t: load(checkpoint_file(t, "d.npz", deep_index(101))),
      CheckpointError, "load", "d.npz", "max_depth = 100"),
    r("load an unhashable key", lambda t: load(checkpoint_file(t, "k.npz", {"dict": [[["a"], 1]]})),
      CheckpointError, "load", "k.npz", "dict key", "list"),
    r(
        "load past max_entries",
        lambda t: load(checkpoint_file(t, "n.npz", {"list": list(range(50))}), max_entries=10),
        CheckpointError, "load", "n.npz", "max_entries = 10",
    ),
    r("load max_depth 0", lambda t: load(t / "x.npz", max_depth=0), ValueError, "load", "max_depth", "0"),
]

CLI = [
    r("train --lr 0", lambda t: command(["train", "--lr", "0"]), Exits(2), "train", "--lr", "'0'"),
    r("train --lr nan", lambda t: command(["train", "--lr", "nan"]), Exits(2), "train", "--lr", "'nan'"),
    r("train --layers 2,x,1", lambda t: command(["train", "--layers", "2,x,1"]),
      Exits(2), "train", "--layers", "'2,x,1'"),
    r("train --layers 3,4,1", lambda t: command(["train", "--layers", "3,4,1"]),
      Exits(2), "train", "--layers", "must be 2"),
    r("train --optimizer sgdd", lambda t: command(["train", "--optimizer", "sgdd"]),
      Exits(2), "train", "--optimizer", "'sgdd'"),
    r("train --schedule cosine", lambda t: command(["train", "--schedule", "cosine"]),
      Exits(2), "train", "--schedule", "'cosine'"),
    r(
        "train --schedule exponential:-0.5:10",
        lambda t: command(["train", "--schedule", "exponential:-0.5:10"]),
        Exits(2), "train", "--schedule", "decay_rate",
    ),
    r("train --dropout 1", lambda t: command(["train", "--dropout", "1"]), Exits(2), "train", "--dropout"),
    r("train --epochs 0", lambda t: command(["train", "--epochs", "0"]),
      Exits(2), "train", "--epochs", "'0'"),
    r("train --seed -1", lambda t: command(["train", "--seed", "-1"]), Exits(2), "train", "--seed", "'-1'"),
    r("train --checkpoint ''", lambda t: command(["train", "--checkpoint", ""]),
      Exits(2), "train", "--checkpoint", "''"),
    r("train --checkpoint into a file", lambda t: command(["train", "--checkpoint", f"{afile(t)}/m.npz"]),
      Exits(2), "train", "--checkpoint", "afile", "not a folder"),
    r("train --checkpoint a folder", lambda t: command(["train", "--checkpoint", str(t)]),
      Exits(2), "train", "--checkpoint", "is a folder"),
    r(
        "train that diverges",
        lambda t: command(["train", "--lr", "1e6", "--optimizer", "gd", "--epochs", "50", "--quiet"]),
        Exits(1), "train", "diverged", "--lr",
    ),
    r("compare --optimizers gd,gd", lambda t: command(["compare", "--optimizers", "gd,gd"]),
      Exits(2), "compare", "--optimizers", "twice"),
    r("compare --dataset spirals", lambda t: command(["compare", "--dataset", "spirals"]),
      Exits(2), "compare", "--dataset", "'spirals'"),
    r("compare --out a file", lambda t: command(["compare", "--out", afile(t)]),
      Exits(2), "compare", "--out", "is a file"),
    r("compare --seed past 2**32", lambda t: command(["compare", "--seed", "4294967295"]),
      Exits(2), "compare", "--seed", "4294967295"),
    r("graph -a*b", lambda t: command(["graph", "-a*b", "--values", "a=1,b=2"]),
      Exits(2), "-a*b", "'--'", "quote"),
    r("graph with an unknown variable", lambda t: command(["graph", "a*b", "--values", "a=1"]),
      Exits(2), "graph", "'b'", "--values"),
    r("graph of an attribute", lambda t: command(["graph", "a.real", "--values", "a=1"]),
      Exits(2), "graph", "'a.real'", "not allowed"),
    r("graph --name x/y", lambda t: command(["graph", "a", "--values", "a=1", "--name", "x/y"]),
      Exits(2), "graph", "--name", "'x/y'"),
    r("graph --out a file", lambda t: command(["graph", "a", "--values", "a=1", "--out", afile(t)]),
      Exits(2), "graph", "--out", "is a file"),
    r("gradcheck --eps 0", lambda t: command(["gradcheck", "--eps", "0"]), Exits(2), "gradcheck", "--eps"),
    r("an unknown command", lambda t: command(["frobnicate"]), Exits(2), "'frobnicate'"),
]

ROWS = [(area, *row) for area, rows in [
    ('construction', CONSTRUCTION),
    ('ops', OPS),
    ('backward', BACKWARD),
    ('nn', NN),
    ('optim', OPTIM),
    ('gradcheck', GRADCHECK),
    ('data', DATA),
    ('train', TRAIN),
    ('scalar', SCALAR),
    ('checkpoints', CHECKPOINTS),
    ('cli', CLI),
] for row in rows]


def _row_id(row) -> str:
    return f"{row[0]}: {row[1]}"


def test_the_catalogue_is_large_and_covers_every_area():
    areas = {row[0] for row in ROWS}
    assert len(ROWS) >= 150
    wanted = {"construction", "ops", "backward", "nn", "optim", "gradcheck", "data", "checkpoints", "cli"}
    assert wanted <= areas
    assert len({_row_id(row) for row in ROWS}) == len(ROWS)  # every row has its own name


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a raw numpy warning on the way fails the row
@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_bad_input(row, tmp_path):
    area, what, call, expected, words = row
    if isinstance(expected, Exits):
        status, err = call(tmp_path)
        assert status == expected.status, err
        assert err.count("\n") == 1 and err.startswith("tinygrad-edu") and "Traceback" not in err, err
        message = err
    elif isinstance(expected, Gives):
        value = call(tmp_path)
        assert expected.check(value), f"expected {expected.says}, got {value!r}"
        return
    else:
        with pytest.raises(expected) as info:
            call(tmp_path)
        message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in: {message}"


# --- logsumexp's gradient is softmax, exactly, at any size -----------------------------------------


@pytest.mark.parametrize("big, dtype", [(3e38, np.float32), (1e308, np.float64), (1e4, np.float32)])
def test_logsumexp_gradient_is_exact_at_huge_values(big, dtype):
    x = Tensor(np.array([big, big], dtype=dtype), requires_grad=True)
    x.logsumexp().backward()
    assert x.grad.dtype == dtype
    assert x.grad.data.tolist() == [0.5, 0.5]  # softmax of two equal numbers, exactly


def test_logsumexp_gradient_of_unequal_values_is_their_softmax():
    x = Tensor(np.array([[1e4, 1e4 - 1.0]], dtype=np.float32), requires_grad=True)
    x.logsumexp(axis=1).backward()
    e = math.exp(-1)
    assert np.allclose(x.grad.data[0], [1 / (1 + e), e / (1 + e)], rtol=1e-6, atol=0)  # softmax([0, -1])


def test_logsumexp_second_derivative_keeps_the_softmax_form():
    # d2/dx2 logsumexp = diag(p) - p p^T with p = softmax(x) = [0.5, 0.5] here
    x = Tensor(np.array([1e4, 1e4], dtype=np.float32), requires_grad=True)
    (g,) = tg.grad(x.logsumexp(), [x], create_graph=True)
    (h0,) = tg.grad(g[0], [x])
    assert h0.data.tolist() == [0.25, -0.25]


# --- hypothesis: malformed shapes, dtypes and values for the ops and the losses ---------------------

OUR_ERRORS = (OpError, TypeError, ValueError, IndexError, RuntimeError, OverflowError)
"""What an op or a loss may raise for bad input (docs/errors.md); never ZeroDivisionError, an
AttributeError, a KeyError or numpy's own exception types without our message."""

MESSAGE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(\s?\([^)]*\))?: \S")
"""Our message format: the function or op, optionally with its settings, a colon, then what is wrong."""
OPERATOR = re.compile(
    r"^(unsupported operand type\(s\) for [^:]+: '\w+' and '\w+'"
    r"|can't multiply sequence by non-int of type '\w+')$"
)
"""Python's own messages when neither operand takes the other (``Tensor + None``, ``"a" * Tensor``):
they name the operator and both types, and they are what numpy and PyTorch give too."""

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_, np.str_, np.complex128, object]
VALUES = st.sampled_from([0.0, -1.0, 2.5, np.nan, np.inf, -np.inf, 1e300, "a", None, 2**70])


def _array(shape, dtype, value):
    if dtype is object:
        return np.full(shape, value, dtype=object)
    try:
        with np.errstate(all="ignore"):  # nan into an int array is the malformed input we want
            return np.full(shape, value).astype(dtype)
    except (TypeError, ValueError, OverflowError):
        return np.zeros(shape, dtype=dtype)


OPERANDS = st.one_of(
    st.tuples(st.lists(st.integers(0, 3), max_size=3).map(tuple), st.sampled_from(DTYPES), VALUES).map(
        lambda s: _array(*s)
    ),
    VALUES,
    st.sampled_from([[1.0, "x"], [[1.0], [2.0, 3.0]], {"a": 1}]),
)
AXES = st.one_of(st.none(), st.integers(-4, 4), st.sampled_from(["a", 1.5, (0, 0), (0, 5)]))

OPS: dict[str, tuple[Callable[..., Any], int, tuple[str, ...]]] = {
    "add": (lambda a, b, k: a + b, 2, ("Add", "Tensor")),
    "sub": (lambda a, b, k: a - b, 2, ("Sub", "Tensor")),
    "mul": (lambda a, b, k: a * b, 2, ("Mul", "Tensor")),
    "div": (lambda a, b, k: a / b, 2, ("Div", "Tensor")),
    "pow": (lambda a, b, k: a**b, 2, ("Pow", "Tensor")),
    "matmul": (lambda a, b, k: a @ b, 2, ("MatMul", "Tensor")),
    "maximum": (lambda a, b, k: tg.maximum(a, b), 2, ("Maximum", "Tensor")),
    "sum": (lambda a, b, k: a.sum(axis=k), 1, ("Sum",)),
    "mean": (lambda a, b, k: a.mean(axis=k), 1, ("Sum", "mean", "Mul")),
    "max": (lambda a, b, k: a.max(axis=k), 1, ("Max",)),
    "softmax": (lambda a, b, k: a.softmax(axis=k), 1, ("Softmax",)),
    "logsumexp": (lambda a, b, k: a.logsumexp(axis=k), 1, ("LogSumExp",)),
    "exp": (lambda a, b, k: a.exp(), 1, ("Exp",)),
    "log": (lambda a, b, k: a.log(), 1, ("Log",)),
    "tanh": (lambda a, b, k: a.tanh(), 1, ("Tanh",)),
    "relu": (lambda a, b, k: a.relu(), 1, ("ReLU",)),
    "leaky_relu": (lambda a, b, k: a.leaky_relu(b), 1, ("LeakyReLU", "leaky_relu")),
    "reshape": (lambda a, b, k: a.reshape(k if k is not None else -1, 2), 1, ("Reshape",)),
    "transpose": (lambda a, b, k: a.transpose(), 1, ("Transpose",)),
    "getitem": (lambda a, b, k: a[k], 1, ("GetItem",)),
    "mse_loss": (lambda a, b, k: F.mse_loss(a, b), 2, ("mse_loss",)),
    "binary_cross_entropy": (lambda a, b, k: F.binary_cross_entropy(a, b), 2, ("binary_cross_entropy",)),
    "bce_with_logits": (lambda a, b, k: F.binary_cross_entropy_with_logits(a, b), 2,
                        ("binary_cross_entropy_with_logits",)),
    "cross_entropy": (lambda a, b, k: F.cross_entropy(a, b), 2, ("cross_entropy",)),
    "nll_loss": (lambda a, b, k: F.nll_loss(a, b), 2, ("nll_loss",)),
}


def _tensor_or_raw(x):
    """The first operand becomes a Tensor (if it can: that failure must be clear too)."""
    return Tensor(x) if isinstance(x, np.ndarray) else x


@given(name=st.sampled_from(sorted(OPS)), a=OPERANDS, b=OPERANDS, axis=AXES)
def test_malformed_inputs_fail_with_our_errors_and_our_messages(name, a, b, axis):
    op, arity, names = OPS[name]
    try:
        with np.errstate(all="ignore"):  # values such as log(-1) = nan are not errors
            x = Tensor(a) if isinstance(a, np.ndarray) else a
            if not isinstance(x, Tensor):
                x = Tensor(x)
            op(x, _tensor_or_raw(b) if arity == 2 else b, axis)
    except OUR_ERRORS as error:
        message = str(error)
        if isinstance(error, TypeError) and OPERATOR.match(message):
            return
        match = MESSAGE.match(message)
        assert match, f"{name}: {type(error).__name__} without our format: {message}"
        assert match.group("name").split(".")[0] in names + ("Tensor",), f"{name}: {message}"
