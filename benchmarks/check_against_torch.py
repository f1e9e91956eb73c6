"""Compare 50-step optimizer trajectories with torch.optim (float64) and the course's formulas.

    .venv/bin/python benchmarks/check_against_torch.py

Every optimizer of tinygrad_edu.optim runs side by side with its PyTorch twin on the
same small problem: three parameters in two groups (different learning rates), the
gradient of a fixed smooth function of the current parameters, and one parameter
that has no gradient on every third step (both libraries skip it). A schedule lr is
compared with torch's LambdaLR. ``Momentum`` and ``Adam(eps_mode="inside")`` are also
compared with the course's dictionary code. The measure is
max |ours - reference| / max |reference| per array, over all steps; it must stay below 1e-10.
Skips (exit code 0) when torch is not installed.
"""

from __future__ import annotations

import sys

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    print("check_against_torch: torch is not installed; skipped")
    sys.exit(0)

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import schedules

STEPS = 50
TOL = 1e-10
SHAPES = [(3, 4), (4,), (2, 3, 2)]


def initial_params() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in SHAPES]


def gradient(i: int, p: np.ndarray) -> np.ndarray:
    """d/dp of sum(0.5 * c * p**2 + sin(3 p)) - a fixed, bumpy, but bounded loss."""
    c = 0.5 + np.arange(p.size).reshape(p.shape) / p.size + i
    return c * p + 3 * np.cos(3 * p)


def has_grad(i: int, step: int) -> bool:
    return not (i == 2 and step % 3 == 1)


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def run_ours(make, steps: int = STEPS) -> list[list[np.ndarray]]:
    params = [Tensor(p.copy(), requires_grad=True) for p in initial_params()]
    opt = make(params)
    history = []
    for step in range(steps):
        opt.zero_grad()
        for i, p in enumerate(params):
            if has_grad(i, step):
                p.grad = Tensor(gradient(i, p.data))
        opt.step()
        history.append([p.data.copy() for p in params])
    return history


def run_torch(make, lr_lambda=None, steps: int = STEPS) -> list[list[np.ndarray]]:
    params = [torch.tensor(p.copy(), dtype=torch.float64, requires_grad=True) for p in initial_params()]
    opt = make(params)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda) if lr_lambda else None
    history = []
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        for i, p in enumerate(params):
            if has_grad(i, step):
                p.grad = torch.from_numpy(gradient(i, p.detach().numpy()))
        opt.step()
        if sched is not None:
            sched.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def compare(ours: list[list[np.ndarray]], ref: list[list[np.ndarray]]) -> float:
    return max(relative(a, b) for step_a, step_b in zip(ours, ref) for a, b in zip(step_a, step_b))


def groups(params, lr0: float, lr1: float, **extra):
    """Two groups with different learning rates: the first two parameters, then the third."""
    return [{"params": params[:2], "lr": lr0, **extra}, {"params": params[2:], "lr": lr1}]


CASES = {
    "SGD plain": (
        lambda ps: optim.SGD(groups(ps, 0.05, 0.02), lr=0.05),
        lambda ps: torch.optim.SGD(groups(ps, 0.05, 0.02), lr=0.05),
    ),
    "SGD momentum": (
        lambda ps: optim.SGD(groups(ps, 0.05, 0.02), lr=0.05, momentum=0.9),
        lambda ps: torch.optim.SGD(groups(ps, 0.05, 0.02), lr=0.05, momentum=0.9),
    ),
    "SGD momentum+dampening+wd": (
        lambda ps: optim.SGD(groups(ps, 0.05, 0.02), lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
        lambda ps: torch.optim.SGD(groups(ps, 0.05, 0.02), lr=0.05, momentum=0.8, dampening=0.3,
                                   weight_decay=0.1),
    ),
    "SGD nesterov+wd": (
        lambda ps: optim.SGD(groups(ps, 0.05, 0.02), lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: torch.optim.SGD(groups(ps, 0.05, 0.02), lr=0.05, momentum=0.9, nesterov=True,
                                   weight_decay=0.01),
    ),
    "Adagrad": (
        lambda ps: optim.Adagrad(groups(ps, 0.1, 0.3)),
        lambda ps: torch.optim.Adagrad(groups(ps, 0.1, 0.3)),
    ),
    "Adagrad lr_decay+wd+init_acc": (
        lambda ps: optim.Adagrad(groups(ps, 0.1, 0.3), lr_decay=0.05, weight_decay=0.1,
                                 initial_accumulator_value=0.1, eps=1e-6),
        lambda ps: torch.optim.Adagrad(groups(ps, 0.1, 0.3), lr_decay=0.05, weight_decay=0.1,
                                       initial_accumulator_value=0.1, eps=1e-6),
    ),
    "RMSprop": (
        lambda ps: optim.RMSprop(groups(ps, 0.01, 0.003)),
        lambda ps: torch.optim.RMSprop(groups(ps, 0.01, 0.003)),
    ),
    "RMSprop momentum+wd": (
        lambda ps: optim.RMSprop(groups(ps, 0.01, 0.003), alpha=0.9, momentum=0.5, weight_decay=0.1),
        lambda ps: torch.optim.RMSprop(groups(ps, 0.01, 0.003), alpha=0.9, momentum=0.5, weight_decay=0.1),
    ),
    "RMSprop centered+momentum": (
        lambda ps: optim.RMSprop(groups(ps, 0.01, 0.003), centered=True, momentum=0.9, eps=1e-6),
        lambda ps: torch.optim.RMSprop(groups(ps, 0.01, 0.003), centered=True, momentum=0.9, eps=1e-6),
    ),
    "Adam": (
        lambda ps: optim.Adam(groups(ps, 0.05, 0.01)),
        lambda ps: torch.optim.Adam(groups(ps, 0.05, 0.01)),
    ),
    "Adam amsgrad+wd": (
        lambda ps: optim.Adam(groups(ps, 0.05, 0.01), betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1),
        lambda ps: torch.optim.Adam(groups(ps, 0.05, 0.01), betas=(0.8, 0.99), amsgrad=True,
                                    weight_decay=0.1),
    ),
    "AdamW": (
        lambda ps: optim.AdamW(groups(ps, 0.05, 0.01)),
        lambda ps: torch.optim.AdamW(groups(ps, 0.05, 0.01)),
    ),
    "AdamW amsgrad wd=0.3": (
        lambda ps: optim.AdamW(groups(ps, 0.05, 0.01), amsgrad=True, weight_decay=0.3),
        lambda ps: torch.optim.AdamW(groups(ps, 0.05, 0.01), amsgrad=True, weight_decay=0.3),
    ),
    # Momentum(lr, beta) is SGD(lr * (1 - beta), momentum=beta) in exact arithmetic
    "Momentum (vs torch SGD)": (
        lambda ps: optim.Momentum(groups(ps, 0.5, 0.2), beta=0.9),
        lambda ps: torch.optim.SGD(groups(ps, 0.5 * 0.1, 0.2 * 0.1), momentum=0.9),
    ),
}


def course_momentum(steps: int = STEPS) -> list[list[np.ndarray]]:
    """The course's update_parameters_with_momentum, on a dict of parameters (one lr for all)."""
    params = dict(zip("ABC", initial_params()))
    v = {k: np.zeros_like(p) for k, p in params.items()}
    beta, lr = 0.9, 0.3
    history = []
    for step in range(steps):
        for i, k in enumerate("ABC"):
            if not has_grad(i, step):
                continue
            v[k] = beta * v[k] + (1 - beta) * gradient(i, params[k])
            params[k] = params[k] - lr * v[k]
        history.append([params[k].copy() for k in "ABC"])
    return history


def course_adam(steps: int = STEPS) -> list[list[np.ndarray]]:
    """The course's update_parameters_with_adam (seed 001: epsilon inside the square root)."""
    params = dict(zip("ABC", initial_params()))
    v = {k: np.zeros_like(p) for k, p in params.items()}
    s = {k: np.zeros_like(p) for k, p in params.items()}
    t = {k: 0 for k in params}  # per-parameter count, as the optimizer keeps when a grad is missing
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    history = []
    for step in range(steps):
        for i, k in enumerate("ABC"):
            if not has_grad(i, step):
                continue
            g = gradient(i, params[k])
            t[k] += 1
            v[k] = beta1 * v[k] + (1 - beta1) * g
            v_corrected = v[k] / (1 - np.power(beta1, t[k]))
            s[k] = beta2 * s[k] + (1 - beta2) * np.power(g, 2)
            s_corrected = s[k] / (1 - np.power(beta2, t[k]))
            params[k] = params[k] - lr * v_corrected / np.sqrt(s_corrected + eps)
        history.append([params[k].copy() for k in "ABC"])
    return history


def main() -> int:
    torch.set_default_dtype(torch.float64)
    results = {}
    for name, (ours, theirs) in CASES.items():
        results[name] = compare(run_ours(ours), run_torch(theirs))

    decay = schedules.ExponentialDecay(0.1, decay_steps=7, decay_rate=0.8, staircase=True)
    results["SGD momentum, ExponentialDecay lr (vs LambdaLR)"] = compare(
        run_ours(lambda ps: optim.SGD(ps, lr=decay, momentum=0.9)),
        run_torch(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), lr_lambda=lambda k: decay(k) / 0.1),
    )
    cosine = schedules.CosineDecay(0.0, decay_steps=30, alpha=0.1, warmup_target=0.05, warmup_steps=10)
    results["Adam, CosineDecay warm-up lr (vs LambdaLR)"] = compare(
        run_ours(lambda ps: optim.Adam(ps, lr=cosine)),
        run_torch(lambda ps: torch.optim.Adam(ps, lr=0.05), lr_lambda=lambda k: cosine(k) / 0.05),
    )
    results["Momentum (vs course dict code)"] = compare(
        run_ours(lambda ps: optim.Momentum(ps, lr=0.3, beta=0.9)), course_momentum()
    )
    results["Adam eps_mode='inside' (vs course dict code)"] = compare(
        run_ours(lambda ps: optim.Adam(ps, lr=0.01, eps_mode="inside")), course_adam()
    )

    width = max(map(len, results))
    worst = 0.0
    print(f"{'case':<{width}}  max relative difference over {STEPS} steps (float64)")
    for name, diff in results.items():
        worst = max(worst, diff)
        print(f"{name:<{width}}  {diff:.2e}{'' if diff < TOL else '   FAIL'}")
    print(f"worst: {worst:.2e} (tolerance {TOL:.0e}); torch {torch.__version__}")
    return 0 if worst < TOL else 1


if __name__ == "__main__":
    sys.exit(main())
