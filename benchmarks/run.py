"""Run the benchmarks and print one table, with the machine and versions it ran on.

    python -m benchmarks [--quick] [--only NAME ...] [--no-torch] [--json PATH]
    python benchmarks/run.py ...          (the same)

Each group NAME is a module ``benchmarks/bench_NAME.py``; every such file is
found and run (``--only`` picks some). A module with ``run(quick: bool = False)
-> list[Result]`` adds rows to the table; one without ``run`` is run as
``python -m benchmarks.bench_NAME`` (with ``--quick`` if it declares that
option) and prints its own report.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from benchmarks import Result, disable_torch, torch_default_threads, torch_or_none  # noqa: E402

# Known groups first, in this order; any other benchmarks/bench_NAME.py joins as group NAME.
KNOWN_GROUPS = {
    "ops": "per-op overhead, forward + backward on (2, 2) float64 arrays",
    "chain": "100,000-op chain z = z * 1.0001, forward + backward",
    "scalar": "the Value engine against micrograd",
}


def discover_groups() -> dict[str, str]:
    """Group name -> one-line description, for every bench_*.py next to this file."""
    found = {p.stem[len("bench_") :]: p for p in sorted(HERE.glob("bench_*.py"))}
    groups = {name: text for name, text in KNOWN_GROUPS.items() if name in found}
    for name, path in found.items():
        if name not in groups:
            doc = ast.get_docstring(ast.parse(path.read_text())) or path.name
            groups[name] = doc.strip().splitlines()[0]
    return groups


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


# --- the machine -------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo, with family, model and clock (virtual machines hide the name)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return platform.processor() or platform.machine()
    name = fields.get("model name", platform.machine())
    details = [f"family {fields['cpu family']} model {fields['model']}"] if "model" in fields else []
    if "cpu MHz" in fields:
        details.append(f"{float(fields['cpu MHz']):.0f} MHz")
    return f"{name} ({', '.join(details)})" if details else name


def numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: show_config has no mode="dicts"
        return "unknown"


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine_info(no_torch: bool = False) -> dict[str, str]:
    """Everything a reader needs to compare these numbers with their own."""
    import tinygrad_edu

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} (usable by this process: {usable})",
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": f"{np.__version__} ({numpy_blas()})",
        "tinygrad_edu": f"{getattr(tinygrad_edu, '__version__', '?')} (git {git_revision()})",
    }
    torch = torch_or_none()
    if torch is not None:
        info["torch"] = (
            f"{torch.__version__}; timed with 1 thread and with its default "
            f"{torch_default_threads()} (intra-op threads)"
        )
    else:
        info["torch"] = "not timed (--no-torch)" if no_torch else "not installed"
    env = [f"{v}={os.environ[v]}" for v in THREAD_VARIABLES if v in os.environ]
    info["thread env"] = ", ".join(env) if env else "none of " + ", ".join(THREAD_VARIABLES) + " is set"
    if hasattr(os, "getloadavg"):
        info["load average"] = "{:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg())
    return info


# --- the table -----------------------------------------------------------------------


def fmt_time(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if abs(seconds) < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if abs(seconds) < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.3f} s"


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    return "-" if a is None or b is None or b <= 0 else f"{a / b:.2f}x"


def paired_lines(results: list[Result]) -> list[str]:
    """The paired per-round ratios that some rows keep in ``extra`` (see bench_train.paired_ratio)."""
    lines = []
    for r in results:
        pairs = [f"{k[len('paired ratio ') :]} {v:.2f}x" for k, v in r.extra.items()
                 if k.startswith("paired ratio") and v is not None]
        if pairs:
            lines.append(f"  {r.group}: {r.name}: " + "; ".join(pairs))
    return lines


def table(results: list[Result]) -> str:
    """A plain-text table, one row per result, groups separated by a blank line."""
    default = torch_default_threads()
    header = [
        "workload",
        "ours",
        "numpy",
        "torch 1t",
        f"torch {default}t" if default else "torch dflt",
        "ours-numpy",
        "ours/numpy",
        "ours/torch1t",
        "target",
        "result",
    ]
    rows: list[list[str]] = []
    previous_group = None
    for r in results:
        if previous_group is not None and r.group != previous_group:
            rows.append([])
        previous_group = r.group
        over = None if r.numpy is None else r.ours - r.numpy
        rows.append(
            [
                f"{r.group}: {r.name}",
                fmt_time(r.ours),
                fmt_time(r.numpy),
                fmt_time(r.torch),
                fmt_time(r.torch_default),
                fmt_time(over),
                fmt_ratio(r.ours, r.numpy),
                fmt_ratio(r.ours, r.torch),
                r.target or "-",
                {True: "pass", False: "FAIL", None: ""}[r.passed],
            ]
        )
    widths = [max(len(header[i]), *(len(row[i]) for row in rows if row)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:-2], widths[1:-2])]
        last = [cells[-2].ljust(widths[-2]), cells[-1]]
        return "  ".join([first, *rest, *last]).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(row) if row else "" for row in rows]
    return "\n".join(out)


LEGEND = """\
ours: tinygrad_edu; numpy: the same work in plain numpy (for one op: numpy's forward only);
torch: PyTorch eager with 1 thread (1t) and with its default thread count. All are medians
over interleaved rounds. ours/x < 1 means tinygrad_edu is faster."""


# --- running the groups ------------------------------------------------------------------


def run_group(name: str, quick: bool) -> list[Result]:
    """Results of one group; a module without ``run()`` is run as a subprocess that prints its report."""
    module_name = f"benchmarks.bench_{name}"
    module = importlib.import_module(module_name)
    if callable(getattr(module, "run", None)):
        results = module.run(quick=quick)
        if isinstance(results, list) and all(isinstance(r, Result) for r in results):
            return results
        return []  # it reported in its own way
    command = [sys.executable, "-m", module_name]
    if quick and '"--quick"' in (HERE / f"bench_{name}.py").read_text():
        command.append("--quick")
    print(f"[{name}] running {' '.join(command[1:])}", flush=True)
    subprocess.run(command, cwd=REPO, check=False)
    return []


def main(argv: Optional[list[str]] = None) -> int:
    groups_known = discover_groups()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a first look")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(groups_known),
        metavar="NAME",
        help="run only this group (repeatable): " + ", ".join(groups_known),
    )
    parser.add_argument("--no-torch", action="store_true", help="do not time PyTorch even if installed")
    parser.add_argument("--json", metavar="PATH", help="also write the machine and the results as JSON")
    args = parser.parse_args(argv)
    if args.no_torch:
        disable_torch()
    groups = list(dict.fromkeys(args.only or groups_known))

    info = machine_info(args.no_torch)
    print("tinygrad_edu benchmarks" + (" (--quick)" if args.quick else ""))
    for key, value in info.items():
        print(f"  {key:13} {value}")
    print(flush=True)

    results: list[Result] = []
    started = time.perf_counter()
    for name in groups:
        print(f"[{name}] {groups_known[name]} ...", flush=True)
        group_start = time.perf_counter()
        results += run_group(name, args.quick)
        print(f"[{name}] done in {time.perf_counter() - group_start:.0f} s", flush=True)
    elapsed = time.perf_counter() - started

    print()
    if results:
        print(table(results))
        print()
        paired = paired_lines(results)
        if paired:
            print("paired ratios, the median over rounds of each round's ratio:")
            print("\n".join(paired))
            print()
        print(LEGEND)
    if hasattr(os, "getloadavg"):
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"total time: {elapsed:.0f} s")

    if args.json:
        payload: dict[str, Any] = {
            "machine": info,
            "options": {"quick": args.quick, "groups": groups},
            "results": [dataclasses.asdict(r) for r in results],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
