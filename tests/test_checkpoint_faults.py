"""Checkpoints under faults: a save killed at many points never loses the previous checkpoint.

One driver process (this file run as a script) imports numpy and tinygrad_edu once, then
for each fault forks a child that saves a new checkpoint over an old one and dies on the
way: SIGKILL (kill -9) or SIGINT (Ctrl-C) at a chosen byte of the write, at the fsync, just
before or just after the rename, or at a random moment; or a file-size limit
(``RLIMIT_FSIZE``, what a full disk does), once with SIGXFSZ killing the process and once
with the write failing. After each child has ended, the driver checks that the file loads
and is either the old checkpoint or the new one (nothing in between), lists what was left
in the folder, saves a third checkpoint and lists the folder again. The test reads those
records and asserts on them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

POSIX = os.name == "posix" and hasattr(os, "fork")
pytestmark = pytest.mark.skipif(not POSIX, reason="kills forked processes and sets rlimits (POSIX only)")

NAME = "c.npz"


def _checkpoints():
    import numpy as np

    rng = np.random.default_rng(0)
    old = {"epoch": 1, "w": rng.standard_normal((100, 100)), "b": np.arange(10.0)}
    new = {"epoch": 2, "w": rng.standard_normal((300, 300)), "v": [rng.standard_normal(5000)] * 8}
    third = {"epoch": 3, "w": np.ones(7)}
    return old, new, third


def _same(a, b) -> bool:
    import numpy as np

    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


class _DyingFile:
    """The temporary file, which kills its process when the write reaches byte ``at``."""

    def __init__(self, f, at: int, sig: int) -> None:
        self._f, self._at, self._sig, self._written = f, at, sig, 0

    def write(self, data) -> int:
        data = bytes(data)
        if self._written + len(data) >= self._at:
            self._f.write(data[: self._at - self._written])
            self._f.flush()
            os.kill(os.getpid(), self._sig)
        self._written += len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)


def _install_fault(fault: dict) -> None:
    """In the child: make the save die where ``fault`` says."""
    import resource

    from tinygrad_edu import serialization

    sig = getattr(signal, fault.get("signal", "SIGKILL"))
    where = fault["where"]
    if where == "byte":
        real_write_npz = serialization._write_npz
        serialization._write_npz = lambda f, entries: real_write_npz(_DyingFile(f, fault["at"], sig), entries)
    elif where in ("fsync", "before-rename", "after-rename"):
        name = "fsync" if where == "fsync" else "replace"
        real = getattr(os, name)

        def dying(*args):
            if where != "after-rename":
                os.kill(os.getpid(), sig)
            result = real(*args)
            if where == "after-rename":
                os.kill(os.getpid(), sig)
            return result

        setattr(os, name, dying)
    elif where == "fsize":
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXFSZ dumps core by default: no core file
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN if fault["ignore"] else signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fault["at"], resource.RLIM_INFINITY))


def _run_child(folder: str, fault: dict, new) -> int:
    """Fork a child that saves ``new`` with ``fault`` installed; return its wait status."""
    from tinygrad_edu.serialization import save

    pid = os.fork()
    if pid == 0:  # the child: never returns into the driver
        code = 0
        try:
            _install_fault(fault)
            save(new, os.path.join(folder, NAME))
        except KeyboardInterrupt:
            code = 130
        except OSError:
            code = 28  # the write failed: a full disk
        except BaseException:
            code = 99
        os._exit(code)
    if fault["where"] == "timer":
        time.sleep(fault["after"])
        try:
            os.kill(pid, getattr(signal, fault["signal"]))
        except ProcessLookupError:
            pass
    return os.waitpid(pid, 0)[1]


def run_one(folder: str, fault: dict) -> dict:
    """One fault: the old checkpoint, a dying save of the new one, what is there, a third save."""
    from tinygrad_edu.serialization import load, save

    old, new, third = _checkpoints()
    os.makedirs(folder)
    path = os.path.join(folder, NAME)
    save(old, path)
    status = _run_child(folder, fault, new)
    record = {"fault": fault, "left_after_fault": sorted(set(os.listdir(folder)) - {NAME})}
    record["killed_by"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    record["exit_code"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    try:
        loaded = load(path)
        record["loaded"] = "old" if _same(old, loaded) else "new" if _same(new, loaded) else "other"
    except Exception as exc:  # recorded, and the test fails on it
        record["loaded"] = f"error {type(exc).__name__}: {exc}"
    save(third, path)
    record["left_after_next_save"] = sorted(set(os.listdir(folder)) - {NAME})
    record["third_loads"] = _same(third, load(path))
    return record


def faults(size: int) -> list[dict]:
    """The faults to inject, for a new checkpoint of ``size`` bytes."""
    points = [1, 64, 512, 4096, size // 10, size // 3, size // 2, (9 * size) // 10, size - 22, size - 1]
    out: list[dict] = []
    for sig in ("SIGKILL", "SIGINT"):
        out += [{"where": "byte", "at": at, "signal": sig} for at in points]
        out += [{"where": w, "signal": sig} for w in ("fsync", "before-rename", "after-rename")]
    out += [{"where": "timer", "after": t / 1000, "signal": "SIGKILL"} for t in (0, 1, 3, 6, 10, 20)]
    for ignore in (False, True):
        out += [{"where": "fsize", "at": at, "ignore": ignore} for at in (0, 100, 4096, size // 2, size - 1)]
    return out


def main(folder: str) -> None:
    from tinygrad_edu.serialization import load, save

    probe = os.path.join(folder, "probe.npz")
    save(_checkpoints()[1], probe)
    size = os.path.getsize(probe)
    assert load(probe)["epoch"] == 2
    os.remove(probe)
    records = [run_one(os.path.join(folder, f"case{i}"), f) for i, f in enumerate(faults(size))]
    json.dump({"size": size, "records": records}, sys.stdout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, __file__, str(folder)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_every_fault_leaves_the_old_checkpoint_or_the_complete_new_one(report):
    records = report["records"]
    assert len(records) >= 40
    for record in records:
        assert record["loaded"] in ("old", "new"), record
    outcomes = {r["loaded"] for r in records}
    assert outcomes == {"old", "new"}  # the faults really do land before and after the rename


def test_the_faults_happened_as_injected(report):
    for record in report["records"]:
        fault = record["fault"]
        if fault["where"] in ("byte", "fsync", "before-rename") and fault["signal"] == "SIGKILL":
            assert record["killed_by"] == signal.SIGKILL and record["loaded"] == "old", record
        if fault["where"] in ("byte", "fsync", "before-rename") and fault["signal"] == "SIGINT":
            assert record["exit_code"] == 130 and record["loaded"] == "old", record
        if fault["where"] == "after-rename":
            assert record["loaded"] == "new", record
        if fault["where"] == "fsize":
            expected = {"exit_code": 28} if fault["ignore"] else {"killed_by": signal.SIGXFSZ}
            assert {k: record[k] for k in expected} == expected and record["loaded"] == "old", record


def test_a_save_that_fails_or_is_interrupted_removes_its_temporary_file(report):
    for record in report["records"]:
        fault = record["fault"]
        if fault.get("signal") == "SIGINT" or (fault["where"] == "fsize" and fault["ignore"]):
            assert record["left_after_fault"] == [], record


def test_kill_9_leaves_a_temporary_file_that_the_next_save_removes(report):
    killed_mid_write = [
        r for r in report["records"] if r["fault"]["where"] == "byte" and r["fault"]["signal"] == "SIGKILL"
    ]
    assert all(len(r["left_after_fault"]) == 1 for r in killed_mid_write)
    assert all(r["left_after_fault"][0].startswith(f".{NAME}.") for r in killed_mid_write)
    for record in report["records"]:
        assert record["left_after_next_save"] == [], record
        assert record["third_loads"], record


if __name__ == "__main__":
    main(sys.argv[1])
