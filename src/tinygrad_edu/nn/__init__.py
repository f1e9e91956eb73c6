"""Neural-network building blocks: modules, layers, losses, initialisers.

    from tinygrad_edu import nn
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1))
    loss = nn.BCEWithLogitsLoss()(model(X), y)

``nn.functional`` holds the same computations as plain functions, ``nn.init``
the weight initialisers.
"""

from tinygrad_edu.nn import functional, init
from tinygrad_edu.nn.layers import (
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LinearReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinygrad_edu.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from tinygrad_edu.nn.module import (
    IncompatibleKeys,
    Layer,
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    Sequential,
)

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "Layer",
    "LeakyReLU",
    "Linear",
    "LinearReLU",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
]
