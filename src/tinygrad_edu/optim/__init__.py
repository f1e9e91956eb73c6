"""Optimizers, learning-rate schedules and moving averages.

    from tinygrad_edu import optim
    opt = optim.Adam(model.parameters(), lr=optim.schedules.ExponentialDecay(1e-3, 1000, 0.9))
    for X, y in batches:
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()

Names, arguments and defaults follow PyTorch (``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``,
``AdamW``) plus the course's ``Momentum``; schedules follow Keras. docs/optimizers.md maps
every formula of the course to the class that computes it.
"""

from tinygrad_edu.optim import schedules
from tinygrad_edu.optim.adagrad import Adagrad
from tinygrad_edu.optim.adam import Adam, AdamW
from tinygrad_edu.optim.ema import ExponentialMovingAverage
from tinygrad_edu.optim.optimizer import Optimizer, required
from tinygrad_edu.optim.rmsprop import RMSprop
from tinygrad_edu.optim.sgd import SGD, Momentum

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "ExponentialMovingAverage",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "required",
    "schedules",
]
