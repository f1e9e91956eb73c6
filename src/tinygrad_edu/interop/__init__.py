"""Moving to PyTorch, ONNX and safetensors: the same network, the same weights, the same next step.

    from tinygrad_edu import interop
    torch_model = interop.to_torch(model)                       # torch.nn.Module, same values
    torch_opt = interop.optimizer_to_torch(opt, torch_model)    # same options and state
    model2 = interop.from_torch(torch_model)                    # and back, bit for bit
    interop.export_onnx(model, X[:1], "model.onnx")             # for onnxruntime and Netron
    interop.save_safetensors(model, "model.safetensors")        # PyTorch's names
    interop.compare_with_torch(model, loss_fn, opt, X, y)       # the step-by-step proof

torch, onnx and safetensors are optional (``bash dev.sh interop`` in a checkout) and
imported only inside the functions that need them, so importing this module needs numpy
alone. docs/interop.md has the table of what maps to what.
"""

from tinygrad_edu.interop._modules import SUPPORTED, from_torch, to_torch
from tinygrad_edu.interop._onnx import export_onnx
from tinygrad_edu.interop._optim import (
    SUPPORTED_OPTIMIZERS,
    optimizer_from_torch,
    optimizer_to_torch,
    scheduler_to_torch,
)
from tinygrad_edu.interop._parity import ParityReport, ParityStep, compare_with_torch
from tinygrad_edu.interop._safetensors import load_safetensors, save_safetensors

__all__ = [
    "SUPPORTED",
    "SUPPORTED_OPTIMIZERS",
    "ParityReport",
    "ParityStep",
    "compare_with_torch",
    "export_onnx",
    "from_torch",
    "load_safetensors",
    "optimizer_from_torch",
    "optimizer_to_torch",
    "save_safetensors",
    "scheduler_to_torch",
    "to_torch",
]
