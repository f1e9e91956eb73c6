"""Run the benchmarks of two checkouts in one interleaved run and compare them.

    python -m benchmarks.compare_checkouts OLD_CHECKOUT [--rounds 3] [--quick] [--only NAME ...]

Each round runs ``python -m benchmarks --no-torch --json ...`` in the old checkout, then in this
one (each with its own code on the path), so both see the same phases of the machine. For every
row both checkouts have, it prints the median over rounds of ``ours / numpy`` (the ratio against
hand-written numpy; the time itself where a row has no numpy figure), and the change.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
NEW = HERE.parent


def run_once(checkout: Path, extra: list[str], out: Path) -> dict[tuple[str, str], float]:
    """One harness run in ``checkout``: (group, row) -> ours/numpy, or ours in seconds."""
    from benchmarks import import_path  # here: this file also runs with an older checkout's benchmarks

    env = dict(os.environ, PYTHONPATH=import_path(checkout))
    command = [sys.executable, "-m", "benchmarks", "--no-torch", "--json", str(out), *extra]
    subprocess.run(command, cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL)
    rows = json.loads(out.read_text())["results"]
    return {(r["group"], r["name"]): r["ours"] / r["numpy"] if r["numpy"] else r["ours"] for r in rows}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare_checkouts", description=__doc__)
    parser.add_argument("old", type=Path, help="the other checkout (a git worktree of the old main)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each checkout, alternating (3)")
    parser.add_argument("--quick", action="store_true", help="the harness's --quick")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="a group (repeatable)")
    args = parser.parse_args(argv)
    extra = (["--quick"] if args.quick else []) + [a for name in args.only for a in ("--only", name)]
    samples: dict[str, list[dict]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for label, checkout in (("old", args.old.resolve()), ("new", NEW)):
                print(f"round {round_ + 1}/{args.rounds}: {label} ({checkout})", flush=True)
                samples[label].append(run_once(checkout, extra, Path(folder) / f"{label}.json"))
    keys = [k for k in samples["new"][0] if all(k in s for s in samples["old"] + samples["new"])]
    print(f"\n{'group':8} {'row':44} {'old':>10} {'new':>10} {'change':>8}")
    for key in keys:
        old = statistics.median(s[key] for s in samples["old"])
        new = statistics.median(s[key] for s in samples["new"])
        print(f"{key[0]:8} {key[1][:44]:44} {old:10.4g} {new:10.4g} {100 * (new / old - 1):+7.1f}%")
    print("\nold and new: ours / numpy (or seconds where a row has no numpy figure), median over rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
