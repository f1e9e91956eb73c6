"""Time one Adam step over a [2, 5, 2, 1] network: tinygrad_edu.optim.Adam vs the course's dictionary code.

    .venv/bin/python benchmarks/bench_optim.py

The course's ``update_parameters_with_adam`` (seed 001, epsilon inside the square root)
is written out below and updates W1 (5, 2), b1 (5, 1), W2 (2, 5), b2 (2, 1), W3 (1, 2),
b3 (1, 1). Our ``Adam(eps_mode="inside")`` computes the same formula on parameters of the
same shapes, made as a model makes them (``nn.Parameter``, side by side in memory) and,
in a second row, as separate Tensors. Both start from the same values and the script checks they agree before
timing. Prints microseconds per step and the ratio ours / course (below 1: ours is faster);
``torch.optim.Adam`` (1 thread) is timed too when PyTorch is installed. ``run(quick)`` gives
the same as a ``Result`` row for ``python -m benchmarks``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import Result, interleaved, torch_or_none  # noqa: E402
from tinygrad_edu import Tensor, nn, optim  # noqa: E402

LAYERS = [2, 5, 2, 1]


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01,
                                beta1=0.9, beta2=0.999, epsilon=1e-8):
    """The course's Adam step, as in seed 001."""
    L = len(parameters) // 2
    v_corrected = {}
    s_corrected = {}
    for l in range(L):  # noqa: E741 - the course's name
        v["dW" + str(l + 1)] = beta1 * v["dW" + str(l + 1)] + (1 - beta1) * grads["dW" + str(l + 1)]
        v["db" + str(l + 1)] = beta1 * v["db" + str(l + 1)] + (1 - beta1) * grads["db" + str(l + 1)]
        v_corrected["dW" + str(l + 1)] = v["dW" + str(l + 1)] / (1 - np.power(beta1, t))
        v_corrected["db" + str(l + 1)] = v["db" + str(l + 1)] / (1 - np.power(beta1, t))
        s["dW" + str(l + 1)] = (beta2 * s["dW" + str(l + 1)]
                                 + (1 - beta2) * np.power(grads["dW" + str(l + 1)], 2))
        s["db" + str(l + 1)] = (beta2 * s["db" + str(l + 1)]
                                 + (1 - beta2) * np.power(grads["db" + str(l + 1)], 2))
        s_corrected["dW" + str(l + 1)] = s["dW" + str(l + 1)] / (1 - np.power(beta2, t))
        s_corrected["db" + str(l + 1)] = s["db" + str(l + 1)] / (1 - np.power(beta2, t))
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * v_corrected[
            "dW" + str(l + 1)] / np.sqrt(s_corrected["dW" + str(l + 1)] + epsilon)
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * v_corrected[
            "db" + str(l + 1)] / np.sqrt(s_corrected["db" + str(l + 1)] + epsilon)
    return parameters, v, s


def make_course():
    rng = np.random.default_rng(3)
    parameters, grads, v, s = {}, {}, {}, {}
    for l in range(1, len(LAYERS)):  # noqa: E741
        parameters[f"W{l}"] = rng.standard_normal((LAYERS[l], LAYERS[l - 1])) * np.sqrt(2 / LAYERS[l - 1])
        parameters[f"b{l}"] = np.zeros((LAYERS[l], 1))
        for name in ("W", "b"):
            grads[f"d{name}{l}"] = rng.standard_normal(parameters[f"{name}{l}"].shape)
            v[f"d{name}{l}"] = np.zeros_like(parameters[f"{name}{l}"])
            s[f"d{name}{l}"] = np.zeros_like(parameters[f"{name}{l}"])
    return parameters, grads, v, s


def make_ours(parameters, grads, side_by_side: bool = True):
    """nn.Parameters (cut from one block, as a model's are: the optimizer updates them in place
    as one array), or separate Tensors (gathered into a flat array and copied back)."""
    tensors = []
    for key in parameters:
        if side_by_side:
            p = nn.Parameter(parameters[key])
        else:
            p = Tensor(parameters[key].copy(), requires_grad=True)
        p.grad = Tensor(grads["d" + key].copy())
        tensors.append(p)
    return tensors, optim.Adam(tensors, lr=0.01, eps_mode="inside")


def make_torch(torch, parameters, grads):
    tensors = []
    for key in parameters:
        p = torch.tensor(parameters[key], requires_grad=True)
        p.grad = torch.tensor(grads["d" + key])
        tensors.append(p)
    return torch.optim.Adam(tensors, lr=0.01, foreach=False)


def measure(quick: bool = False) -> dict[str, float]:
    """Seconds per Adam step: "ours", "course" and, when torch is installed, "torch" (1 thread)."""
    parameters, grads, v, s = make_course()
    tensors, adam = make_ours(parameters, grads)
    separate, adam_separate = make_ours(parameters, grads, side_by_side=False)

    # the same numbers first: 20 steps of each
    for t in range(1, 21):
        parameters, v, s = update_parameters_with_adam(parameters, grads, v, s, t)
        adam.step()
        adam_separate.step()
    for ours in (tensors, separate):
        diff = max(float(np.max(np.abs(p.data - parameters[k]))) for p, k in zip(ours, parameters))
        if diff > 1e-12:
            raise AssertionError(f"bench_optim: the two Adam steps disagree by {diff}")

    counter = {"t": 20}

    def course_step() -> None:
        counter["t"] += 1
        update_parameters_with_adam(parameters, grads, v, s, counter["t"])

    candidates = {"ours": adam.step, "ours separate": adam_separate.step, "course": course_step}
    prepare = {}
    torch = torch_or_none()
    if torch is not None:
        candidates["torch"] = make_torch(torch, parameters, grads).step
        prepare["torch"] = lambda: torch.set_num_threads(1)
    return interleaved(candidates, rounds=3 if quick else 7, min_time=0.02 if quick else 0.1, prepare=prepare)


def run(quick: bool = False) -> list[Result]:
    t = measure(quick)
    return [
        Result(
            group="optim",
            name="Adam step, [2, 5, 2, 1] net",
            ours=t["ours"],
            numpy=t["course"],
            torch=t.get("torch"),
            target="<= course dict code",
            passed=t["ours"] <= t["course"],
            extra={
                "ratio ours / course": t["ours"] / t["course"],
                "parameters": "nn.Parameter, side by side",
            },
        ),
        Result(
            group="optim",
            name="Adam step, same, separate Tensors",
            ours=t["ours separate"],
            numpy=t["course"],
            torch=t.get("torch"),
            extra={
                "ratio ours / course": t["ours separate"] / t["course"],
                "parameters": "Tensor(..., requires_grad=True): gathered and copied back",
            },
        ),
    ]


def main() -> None:
    t = measure()
    print(f"Adam step over a {LAYERS} network (30 numbers in 6 arrays), median of interleaved rounds")
    print(f"  tinygrad_edu.optim.Adam:             {t['ours'] * 1e6:7.1f} us  (nn.Parameter, side by side)")
    print(f"  the same, separate Tensors:          {t['ours separate'] * 1e6:7.1f} us")
    print(f"  course update_parameters_with_adam:  {t['course'] * 1e6:7.1f} us")
    if "torch" in t:
        print(f"  torch.optim.Adam (1 thread):         {t['torch'] * 1e6:7.1f} us")
    print(f"  ratio ours / course: {t['ours'] / t['course']:.2f}  (target: <= 1)")


if __name__ == "__main__":
    main()
