"""Draw the results of one benchmark run for docs/performance.md.

    python -m benchmarks --json results.json
    python benchmarks/plot_results.py results.json            # writes docs/images/performance.png
    python benchmarks/plot_results.py results.json --out other.png

Left: for each row that has a hand-written numpy time, the time of ours, of
PyTorch with 1 thread and with its default threads, divided by numpy's (log
scale; below 1 is faster than numpy). Rows of the one-op group compare a
forward + backward with numpy's forward alone, so they sit far to the right
by construction. Right: the end-to-end rows (``compare``) in seconds, with
their 25 s target. matplotlib is imported only here, on the Agg backend.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "images" / "performance.png"


def relative_rows(results: list[dict[str, Any]]) -> list[tuple[str, dict[str, float]]]:
    """(label, {candidate: time / numpy time}) for each row with a numpy time (not the fwd/bwd-only rows)."""
    rows = []
    for r in results:
        numpy_time = r.get("numpy")
        if not numpy_time or r["name"].endswith(" fwd") or r["name"].endswith(" bwd"):
            continue
        ratios = {"tinygrad_edu": r["ours"] / numpy_time}
        if r.get("torch"):
            ratios["PyTorch 1 thread"] = r["torch"] / numpy_time
        if r.get("torch_default"):
            ratios["PyTorch default threads"] = r["torch_default"] / numpy_time
        label = r["name"] if len(r["name"]) <= 46 else r["name"][:44] + "…"
        rows.append((f"{r['group']}: {label}", ratios))
    return rows


def plot(payload: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = payload["results"]
    rows = relative_rows(results)
    ends = [r for r in results if r["group"] == "compare"]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 0.42 * max(len(rows), 6) + 1.5), gridspec_kw={"width_ratios": [3, 1.2]},
        constrained_layout=True,
    )
    colors = {
        "tinygrad_edu": "tab:blue",
        "PyTorch 1 thread": "tab:orange",
        "PyTorch default threads": "tab:red",
    }
    height = 0.8 / len(colors)
    for i, (_, ratios) in enumerate(rows):
        for j, (name, color) in enumerate(colors.items()):
            if name in ratios:
                y = i + (j - 1) * height
                left.barh(y, ratios[name], height=height, color=color, label=name if i == 0 else None)
    left.axvline(1.0, color="black", linewidth=1)
    left.set_xscale("log")
    left.set_yticks(range(len(rows)))
    left.set_yticklabels([label for label, _ in rows], fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("time / hand-written numpy time (log scale; left of the line: faster than numpy)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    left.legend(handles, list(colors), loc="lower right", fontsize=8)
    left.set_title("per call or per step, relative to numpy")

    if ends:
        labels = [r["name"].replace("W6 compare, ", "") for r in ends]
        right.barh(range(len(ends)), [r["ours"] for r in ends], color="tab:blue")
        right.axvline(25.0, color="black", linestyle="--", linewidth=1, label="target 25 s")
        right.set_yticks(range(len(ends)))
        right.set_yticklabels(labels, fontsize=8)
        right.invert_yaxis()
        right.set_xlabel("seconds")
        right.legend(fontsize=8)
        right.set_title("W6 compare, end to end")
    else:
        right.set_axis_off()
    machine = payload.get("machine", {})
    fig.suptitle(
        f"tinygrad_edu benchmarks: {machine.get('cpu', '?')}, cores {machine.get('cores', '?')}; "
        f"load {machine.get('load average', '?')}",
        fontsize=9,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="the JSON written by python -m benchmarks --json PATH")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT.relative_to(ROOT)}"
    )
    args = parser.parse_args(argv)
    payload = json.loads(Path(args.results).read_text())
    print(f"wrote {plot(payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
