"""Pictures of a neuron's computation graph, and of backprop through it one op at a time.

The neuron is o = tanh(x1*w1 + x2*w2 + b), built twice: with the scalar
``Value`` engine (one node per number) and with ``Tensor`` (one node per
array). For each it writes

    neuron_value.svg / neuron_tensor.svg     the graph after backward, data and grad in every node
    backprop_value/frame_000.svg ...         one picture per op, in the order backward processes them
    backprop_tensor/frame_000.svg ...

    python examples/draw_graph.py [--out DIR] [--format svg|png]

Needs Graphviz's ``dot`` program (Debian/Ubuntu: apt-get install graphviz;
macOS: brew install graphviz).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from tinygrad_edu import Tensor, Value, viz

B = 6.8813735870195432  # makes n = 0.8814 and o = tanh(n) = 0.7071


def value_neuron() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(B, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def tensor_neuron() -> Tensor:
    x = Tensor([2.0, 0.0], name="x", dtype=np.float64)
    w = Tensor([-3.0, 1.0], requires_grad=True, name="w", dtype=np.float64)
    b = Tensor(B, requires_grad=True, name="b", dtype=np.float64)
    o = ((x * w).sum() + b).tanh()
    o.name = "o"
    return o


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("tinygrad_edu_out", "graph"), help="output directory")
    parser.add_argument("--format", default="svg", choices=["svg", "png"], help="picture format")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    for name, make in [("value", value_neuron), ("tensor", tensor_neuron)]:
        root = make()
        frames = viz.trace_backward(root)  # before backward: it needs the graph
        print(f"{name} engine: backward processes {len(frames)} ops")
        for f in frames:  # each caption names every input of the op and what it sends there
            print(f"  {f.caption}")
        paths = viz.save_frames(frames, os.path.join(args.out, f"backprop_{name}"), format=args.format)
        if isinstance(root, Tensor):
            root.backward(retain_graph=True)  # keep the graph, to draw it with its gradients
        else:
            root.backward()  # a Value graph is always kept
        picture = viz.render(viz.draw_graph(root), os.path.join(args.out, f"neuron_{name}.{args.format}"))
        print(f"  wrote {picture} and {len(paths)} frames in {os.path.dirname(paths[0])}")


if __name__ == "__main__":
    main()
