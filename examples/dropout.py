"""Dropout: what it does to numbers, to gradients, and to a network that overfits.

1. Statistics. In training, ``nn.Dropout(p)`` zeroes each element with
   probability p and multiplies the survivors by 1 / (1 - p) (inverted
   dropout), so the expected output equals the input; in eval mode it is the
   identity. The course notes' ``Dropout`` class (seed 002, from "Deep
   Learning from Scratch") is the non-inverted form, ``nn.Dropout(p,
   inverted=False)``: training multiplies by the mask only, and test time
   scales by (1 - p) instead. With ``rng=np.random.RandomState(seed)`` the
   library gives that class's numbers after ``np.random.seed(seed)`` exactly,
   which the example checks against the class itself (exit status 1 if not).
2. The gradient. Dropout multiplies by a constant mask, so the gradient is
   masked and scaled the same way: d out / d x = mask / (1 - p) (inverted),
   mask (the notes' class, ``backward(dout) = dout * mask``).
3. A wide network trained on a few noisy moons points, with and without
   dropout, showing training and held-out accuracy.

    python examples/dropout.py            # a short training run, in seconds
    python examples/dropout.py --full     # longer training
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, data, nn, optim

P = 0.5


class NotesDropout:
    """The course notes' Dropout class (seed 002), as the notes write it: the reference."""

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.dropout_ratio = dropout_ratio
        self.mask: Optional[np.ndarray] = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask


def statistics(n: int = 100_000, p: float = P) -> None:
    """Dropout of a vector of ones: the fraction zeroed, the survivors' value, the mean, in train and eval."""
    print(f"== 1. Dropout(p={p}) on {n:,} ones ==")
    drop = nn.Dropout(p, rng=np.random.default_rng(0))
    x = Tensor(np.ones(n))
    out = drop(x).data
    zeroed = float(np.mean(out == 0))
    survivors = np.unique(out[out != 0])
    print(f"train: fraction zeroed {zeroed:.4f} (expected p = {p})")
    print(f"train: survivors are {survivors} (expected 1 / (1 - p) = {1 / (1 - p):g})")
    print(f"train: mean {out.mean():.4f} (expected 1: inverted dropout keeps the mean)")
    drop.eval()
    same = np.array_equal(drop(x).data, x.data)
    print(f"eval: output equals input: {same}")

    # The course notes' form: mask in training, x * (1 - p) at test time.
    notes = nn.Dropout(p, rng=np.random.default_rng(0), inverted=False)
    notes_train = notes(x).data
    notes_test = notes.eval()(x).data
    print(f"notes' form, Dropout(p, inverted=False): train mean {notes_train.mean():.4f}, "
          f"test output {notes_test[0]:g} (both about 1 - p = {1 - p:g}; the inverted form scales "
          "in training instead)")


def notes_class(p: float = P, seed: int = 0) -> bool:
    """Dropout(p, inverted=False) with RandomState(seed) against the notes' class after np.random.seed."""
    print(f"\n== 1b. The notes' Dropout class and Dropout(p={p}, rng=RandomState({seed}), inverted=False) ==")
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    reference = NotesDropout(p)
    np.random.seed(seed)
    train_out, train_grad = reference.forward(x), reference.backward(dout)
    test_out = reference.forward(x, train_flg=False)

    checks = {}
    drop = nn.Dropout(p, rng=np.random.RandomState(seed), inverted=False)
    xt = Tensor(x, requires_grad=True)
    out = drop(xt)
    out.backward(dout)
    checks["train forward, x * mask"] = np.array_equal(out.data, train_out)
    checks["backward, dout * mask"] = np.array_equal(xt.grad.data, train_grad)
    checks["test forward, x * (1 - p)"] = np.array_equal(drop.eval()(x).data, test_out)
    for name, ok in checks.items():
        print(f"{name:28s} equals the notes' class: {ok}")
    return all(checks.values())


def gradient(p: float = P) -> None:
    """d(sum of dropout(x) * w)/dx is w * mask / (1 - p): zero where dropped, scaled where kept."""
    print(f"\n== 2. The gradient through Dropout(p={p}) ==")
    drop = nn.Dropout(p, rng=np.random.default_rng(1))
    x = Tensor(np.arange(1.0, 9.0), requires_grad=True)
    out = drop(x)
    out.sum().backward()
    kept = out.data != 0
    print(f"x            {x.data}")
    print(f"dropout(x)   {out.data}")
    print(f"x.grad       {x.grad.data}")
    expected = kept / (1 - p)
    print(f"mask/(1-p)   {expected}")
    print(f"gradient equals mask / (1 - p): {np.array_equal(x.grad.data, expected)}")


def make_model(p: float, rng: np.random.Generator) -> nn.Sequential:
    """[2, 100, 100, 1] with ReLU, and Dropout(p) after each hidden layer when p > 0."""
    layers: list[nn.Module] = []
    for n_in, n_out in [(2, 100), (100, 100)]:
        layers += [nn.Linear(n_in, n_out, rng=rng, dtype=np.float64), nn.ReLU()]
        if p > 0:
            layers.append(nn.Dropout(p, rng=rng))
    layers.append(nn.Linear(100, 1, rng=rng, dtype=np.float64))
    return nn.Sequential(*layers)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with tg.no_grad():
        logits = model(Tensor(X)).data[:, 0]
    model.train()
    return float(np.mean((logits > 0) == (y == 1)))


def training(epochs: int) -> None:
    """A network much larger than its 60 training points, trained with and without dropout."""
    print(f"\n== 3. [2, 100, 100, 1] on 60 noisy moons points, {epochs} epochs of Adam ==")
    X, y = data.make_moons(560, noise=0.35, seed=0)
    X_train, y_train, X_test, y_test = X[:60], y[:60], X[60:], y[60:]
    Y_train = y_train.reshape(-1, 1).astype(np.float64)
    print(f"{'':16s} {'train acc':>9s} {'test acc':>9s} {'final loss':>10s}")
    for p in (0.0, P):
        rng = np.random.default_rng(0)  # the same initial weights for both
        model = make_model(p, rng)
        opt = optim.Adam(list(model.parameters()), lr=0.01)
        loss_fn = nn.BCEWithLogitsLoss()
        for epoch in range(epochs):
            for xb, yb in data.random_mini_batches(X_train, Y_train, 20, seed=epoch):
                loss = loss_fn(model(Tensor(xb)), Tensor(yb))
                opt.zero_grad()
                loss.backward()
                opt.step()
        model.eval()
        with tg.no_grad():
            final = loss_fn(model(Tensor(X_train)), Tensor(Y_train)).item()
        name = "no dropout" if p == 0 else f"dropout p={p}"
        print(f"{name:16s} {accuracy(model, X_train, y_train):9.3f} {accuracy(model, X_test, y_test):9.3f} "
              f"{final:10.4f}")
    print("Without dropout the network can fit the noise of its few training points; dropout keeps it "
          "from relying on any single unit.")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train for 1000 epochs instead of 150")
    args = parser.parse_args(argv)
    statistics()
    agrees = notes_class()
    gradient()
    training(1000 if args.full else 150)
    return 0 if agrees else 1


if __name__ == "__main__":
    sys.exit(main())
