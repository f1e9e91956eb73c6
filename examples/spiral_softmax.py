"""Three interleaved spirals: a softmax classifier with batch normalisation.

No straight line separates the spiral arms, so a linear softmax classifier
stays near chance; two hidden layers with ReLU bend the boundary around them.
The network is

    Linear(2, 64) -> BatchNorm1d(64) -> ReLU -> Linear(64, 64) -> BatchNorm1d(64) -> ReLU -> Linear(64, 3)

trained with ``CrossEntropyLoss`` (softmax and negative log-likelihood in one
stable op, on raw scores) and Adam on mini-batches. BatchNorm1d normalises
each hidden unit over the mini-batch in training and uses its running averages
in eval mode, so the accuracy is measured after ``model.eval()``.

    python examples/spiral_softmax.py            # 30 epochs, in seconds
    python examples/spiral_softmax.py --full     # 300 epochs
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, data, nn, optim

N_CLASSES = 3
HIDDEN = 64


def make_model(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, HIDDEN, rng=rng, dtype=np.float64), nn.BatchNorm1d(HIDDEN, dtype=np.float64), nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN, rng=rng, dtype=np.float64), nn.BatchNorm1d(HIDDEN, dtype=np.float64),
        nn.ReLU(),
        nn.Linear(HIDDEN, N_CLASSES, rng=rng, dtype=np.float64),
    )


def linear_model(seed: int = 0) -> nn.Sequential:
    """Softmax regression: one Linear layer, the baseline a straight-line boundary gives."""
    return nn.Sequential(nn.Linear(2, N_CLASSES, rng=np.random.default_rng(seed), dtype=np.float64))


def evaluate(model: nn.Module, loss_fn: nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) in eval mode: BatchNorm uses its running statistics."""
    model.eval()
    with tg.no_grad():
        logits = model(Tensor(X))
        loss = loss_fn(logits, y).item()
    model.train()
    return loss, float(np.mean(logits.data.argmax(axis=1) == y))


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, epochs: int, print_every: int,
          X_test: np.ndarray, y_test: np.ndarray) -> tuple[float, float]:
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(list(model.parameters()), lr=0.01)
    loader = data.DataLoader(X, y, batch_size=32, shuffle=True, seed=0)
    print(f"{'epoch':>5s} {'train loss':>10s} {'train acc':>9s} {'test acc':>8s}")
    for epoch in range(1, epochs + 1):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % print_every == 0 or epoch == epochs:
            train_loss, train_acc = evaluate(model, loss_fn, X, y)
            _, test_acc = evaluate(model, loss_fn, X_test, y_test)
            print(f"{epoch:5d} {train_loss:10.4f} {train_acc:9.3f} {test_acc:8.3f}")
    return evaluate(model, loss_fn, X, y)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="train for 300 epochs instead of 30")
    args = parser.parse_args(argv)
    epochs = 300 if args.full else 30
    X, y = data.make_spirals(100, N_CLASSES, noise=0.2, seed=0)
    X_test, y_test = data.make_spirals(100, N_CLASSES, noise=0.2, seed=1)
    print(f"{len(X)} training points, {N_CLASSES} spiral arms; chance accuracy {1 / N_CLASSES:.3f}")

    print(f"\n== softmax regression (no hidden layer), {epochs} epochs ==")
    _, linear_acc = train(linear_model(), X, y, epochs, max(epochs // 3, 1), X_test, y_test)

    print(f"\n== [2, {HIDDEN}, {HIDDEN}, {N_CLASSES}] with BatchNorm1d and ReLU, {epochs} epochs ==")
    final_loss, final_acc = train(make_model(), X, y, epochs, max(epochs // 6, 1), X_test, y_test)
    print(f"\nfinal training loss {final_loss:.4f}, training accuracy {final_acc:.3f} "
          f"(softmax regression: {linear_acc:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
