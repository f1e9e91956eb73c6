"""``export_onnx``: the network as an ONNX graph (onnxruntime runs it, Netron draws it)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tinygrad_edu import _files, nn
from tinygrad_edu._config import no_grad
from tinygrad_edu.interop._common import float_dtype, model_dtype, require
from tinygrad_edu.interop._modules import _unsupported, refuse_unscaled_dropout
from tinygrad_edu.tensor import Tensor

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax and LogSoftmax work along one axis from opset 13 on (as ours do)

# module -> ONNX op, for the modules that are one node with at most a few attributes
_ELEMENTWISE = {nn.ReLU: "Relu", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.Identity: "Identity"}
# every module _emit writes nodes for (Sequential aside)
_EXPORTED = (*_ELEMENTWISE, nn.LeakyReLU, nn.Softmax, nn.LogSoftmax, nn.Flatten, nn.Dropout, nn.Linear,
             nn.LinearReLU, nn.BatchNorm1d)


class _Graph:
    """The nodes and initializers being written, and a counter for fresh tensor names."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names: set[str] = set()

    def constant(self, name: str, array: np.ndarray) -> str:
        """An initializer (a parameter keeps its dotted name, '0.weight')."""
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(array, order="C"), name))
        self.names.add(name)
        return name

    def node(self, op: str, inputs: list[str], path: str, **attributes: Any) -> str:
        """A node named after its module ('0/Gemm'); returns the name of its output."""
        base = f"{path}/{op}" if path else op
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        output = f"{name}:0"
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attributes))
        return output


def export_onnx(model: nn.Module, example_input: Any, path: Any, opset: Any = None) -> str:
    """Write ``model`` as an ONNX file at ``path`` and return the path (a str).

    Linear becomes ``Gemm`` (``MatMul`` + ``Add`` for input of more than 2 axes), LinearReLU
    that and ``Relu``, the activations ``Relu``/``Sigmoid``/``Tanh``/``Softmax``/``LogSoftmax``
    and ``LeakyRelu`` (in float64 ``Where(x > 0, x, x * slope)``: LeakyRelu's attribute is a
    float32, and onnxruntime runs float64 LeakyRelu and PRelu at opsets 16-18 only), Flatten
    ``Flatten``, Dropout ``Identity``, BatchNorm1d ``BatchNormalization`` with its running
    statistics (the eval-mode computation; in float64 the variance input is
    ``running_var + eps`` with ``epsilon=0``, as the float32 attribute would round eps).
    Parameters are initializers under their names ('0.weight'); the input is "input", the
    output "output", with a dynamic batch axis "batch". ``example_input`` (float32 or float64
    like the model) fixes the other axes. Another module raises a TypeError naming it and
    where it sits. ``opset`` is the ONNX operator set (default 17; from 13 to the newest the
    installed onnx knows). The model passes ``onnx.checker`` before it is saved.
    """
    onnx = require("onnx", "export_onnx")
    opset = _check_opset(opset, onnx)
    x = example_input.data if isinstance(example_input, Tensor) else np.asarray(example_input)
    dtype = float_dtype(x.dtype, "export_onnx", "example_input")
    # a model with no parameters or statistics (Sequential(ReLU())) takes the input's dtype
    if dtype != model_dtype(model, "export_onnx", default=dtype):
        raise TypeError(
            f"export_onnx: example_input is {dtype} but the model is {model_dtype(model, 'export_onnx')}; "
            "ONNX needs one dtype throughout: cast one of them (example_input.astype or model.to)"
        )
    if x.ndim < 2:
        raise ValueError(
            f"export_onnx: example_input has shape {x.shape}; expected a batch (N, features, ...)"
        )
    graph = _Graph(onnx)
    modes = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        with no_grad():
            name, out = _emit(model, "input", Tensor(x), graph, "")
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])
    if not graph.nodes:  # an empty Sequential
        graph.node("Identity", [name], "")
    graph.nodes[-1].output[0] = "output"  # the last node computes the result: give it its public name
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes,
            "tinygrad_edu",
            [onnx.helper.make_tensor_value_info("input", elem, ["batch", *x.shape[1:]])],
            [onnx.helper.make_tensor_value_info("output", elem, ["batch", *out.shape[1:]])],
            graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="tinygrad_edu",
    )
    proto.ir_version = onnx.helper.find_min_ir_version_for(list(proto.opset_import))
    onnx.checker.check_model(proto, full_check=True)
    path = os.fspath(path)
    with _files.atomic_path(path, where="export_onnx") as tmp:  # all or nothing
        onnx.save(proto, tmp)
    return path


def _check_opset(opset: Any, onnx: Any) -> int:
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or opset < MIN_OPSET:
        raise ValueError(
            f"export_onnx: opset must be an integer >= {MIN_OPSET} (Softmax along one axis), got {opset!r}"
        )
    newest = onnx.defs.onnx_opset_version()
    if opset > newest:
        raise ValueError(
            f"export_onnx: opset {opset} is newer than the installed onnx {onnx.__version__} knows "
            f"(at most {newest}); give an opset from {MIN_OPSET} to {newest}, or upgrade onnx"
        )
    return int(opset)


def _emit(m: nn.Module, name: str, x: Tensor, graph: _Graph, path: str) -> tuple[str, Tensor]:
    """Append the nodes of module ``m`` applied to tensor ``name`` (whose value is ``x``)."""
    kind = type(m)
    if kind is nn.Sequential:
        for child_name, child in m.named_children():
            name, x = _emit(child, name, x, graph, f"{path}.{child_name}" if path else child_name)
        return name, x
    if kind not in _EXPORTED:  # before running it: a ModuleList, say, has no forward to run
        raise _unsupported("export_onnx", m, path)
    refuse_unscaled_dropout(m, "export_onnx", path)
    _refuse_batch_statistics(m, path)
    out = m(x)  # our own forward: the shapes, and a check that the input fits
    if kind in _ELEMENTWISE:
        return graph.node(_ELEMENTWISE[kind], [name], path), out
    if kind is nn.LeakyReLU:
        return _leaky_relu(m, name, x, graph, path), out
    if kind in (nn.Softmax, nn.LogSoftmax):
        return graph.node(kind.__name__, [name], path, axis=int(m.axis)), out
    if kind is nn.Flatten:
        return graph.node("Flatten", [name], path, axis=1), out
    if kind is nn.Dropout:
        return graph.node("Identity", [name], path), out  # dropout is the identity at inference
    if kind is nn.Linear:
        return _linear(m, name, x, graph, path), out
    if kind is nn.LinearReLU:
        return graph.node("Relu", [_linear(m, name, x, graph, path)], path), out
    if kind is nn.BatchNorm1d:
        return _batch_norm(m, name, graph, path), out
    raise _unsupported("export_onnx", m, path)  # not reached while _EXPORTED lists the kinds above


def _leaky_relu(m: nn.LeakyReLU, name: str, x: Tensor, graph: _Graph, path: str) -> str:
    if x.dtype == np.float32:
        return graph.node("LeakyRelu", [name], path, alpha=float(m.negative_slope))
    # An ONNX attribute is a float32, which would round the slope, and onnxruntime implements
    # float64 LeakyRelu and PRelu at opsets 16-18 only; Where(x > 0, x, x * slope) runs at every
    # opset and computes what our forward does (x * 1 where x > 0, else x * slope)
    prefix = f"{path}." if path else ""
    zero = graph.constant(prefix + "zero", np.array(0.0, dtype=x.dtype))
    slope = graph.constant(prefix + "negative_slope", np.array(m.negative_slope, dtype=x.dtype))
    positive = graph.node("Greater", [name, zero], path)
    return graph.node("Where", [positive, name, graph.node("Mul", [name, slope], path)], path)


def _linear(m: nn.Linear, name: str, x: Tensor, graph: _Graph, path: str) -> str:
    prefix = f"{path}." if path else ""
    weight = graph.constant(prefix + "weight", m.weight.data)
    bias = graph.constant(prefix + "bias", m.bias.data) if m.bias is not None else None
    if x.ndim == 2:  # y = x @ W.T + b in one node
        return graph.node("Gemm", [name, weight] + ([bias] if bias else []), path, transB=1)
    y = graph.node("MatMul", [name, graph.node("Transpose", [weight], path, perm=[1, 0])], path)
    return graph.node("Add", [y, bias], path) if bias else y


def _refuse_batch_statistics(m: nn.Module, path: str) -> None:
    """A BatchNorm1d without running statistics has nothing fixed to export (said before its
    forward runs, which with a one-sample example_input would fail for its own reason)."""
    if type(m) is nn.BatchNorm1d and not m.track_running_stats:
        raise ValueError(
            f"export_onnx: BatchNorm1d at '{path}' has track_running_stats=False, so it normalises with "
            "each batch's own statistics even in eval mode; ONNX's BatchNormalization (inference) "
            "uses fixed statistics. Train it with track_running_stats=True to export it"
        )


def _batch_norm(m: nn.BatchNorm1d, name: str, graph: _Graph, path: str) -> str:
    prefix = f"{path}." if path else ""
    dtype = m.running_mean.dtype
    if m.affine:
        scale = graph.constant(prefix + "weight", m.weight.data)
        bias = graph.constant(prefix + "bias", m.bias.data)
    else:  # no learned scale and shift: the identity ones
        scale = graph.constant(prefix + "scale", np.ones(m.num_features, dtype=dtype))
        bias = graph.constant(prefix + "shift", np.zeros(m.num_features, dtype=dtype))
    mean = graph.constant(prefix + "running_mean", m.running_mean.data)
    if dtype == np.float32:
        var = graph.constant(prefix + "running_var", m.running_var.data)
        return graph.node("BatchNormalization", [name, scale, bias, mean, var], path, epsilon=float(m.eps))
    # An ONNX attribute is a float32, which would round eps; in float64 the variance initializer
    # holds running_var + eps (the sum our forward computes) and epsilon is 0
    var = graph.constant(prefix + "running_var_plus_eps", m.running_var.data + m.eps)
    return graph.node("BatchNormalization", [name, scale, bias, mean, var], path, epsilon=0.0)
