"""Checkpoints: ``save(obj, path)`` and ``load(path)`` with one ``.npz`` file and no pickle.

A checkpoint is a nested structure (a model's ``state_dict()``, an
optimizer's, or ``{"model": ..., "optimizer": ..., "epoch": 3}``). It is
written as an ordinary ``.npz`` (a zip of ``.npy`` files) holding

* one ``.npy`` entry per array leaf (``a0``, ``a1``, ...), written with
  ``allow_pickle=False``, so the dtype is kept exactly;
* one entry ``__tinygrad_edu_index__``: the structure as JSON (UTF-8 bytes in
  a uint8 array). Dicts are stored as ``[key, value]`` pairs, so integer
  keys (an optimizer's ``state`` is keyed by parameter index) stay integers
  and the order is kept; an array leaf is ``{"array": "a0"}``.

Resuming training exactly needs everything that decides the next steps:

    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
             "rng": tinygrad_edu._config.get_rng().bit_generator.state}, "ckpt.npz")
    ckpt = tg.load("ckpt.npz")
    model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])
    tinygrad_edu._config.get_rng().bit_generator.state = ckpt["rng"]   # only if dropout etc.

An optimizer's ``state_dict()`` already stores a learning-rate schedule as
data; a bare callable cannot be saved. Nothing is ever unpickled, so loading
a checkpoint cannot run code.

A save goes to a temporary file in the same directory that is flushed,
fsync'd and then renamed over ``path`` (``os.replace`` is atomic), so a crash
in the middle of a save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from typing import Any, Union

import numpy as np

from tinygrad_edu.tensor import Tensor

PathLike = Union[str, "os.PathLike[str]"]

FORMAT = "tinygrad_edu.checkpoint"
VERSION = 1
INDEX_ENTRY = "__tinygrad_edu_index__"


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_edu checkpoint (empty, truncated, foreign or unsafe)."""


# --- save -------------------------------------------------------------------------


def save(obj: Any, path: PathLike) -> None:
    """Write ``obj`` to exactly ``path`` as one ``.npz`` file, atomically.

    ``obj`` is built from dicts (str or int keys), lists and tuples, whose
    leaves are ndarrays, Tensors (saved as their ndarray), numpy scalars,
    Python ``int``/``float``/``bool``, ``str`` and ``None``. Anything else (a
    callable such as a learning-rate schedule, a set, an object array) raises
    ``TypeError`` naming where in ``obj`` it sits, and nothing is written.
    """
    path = _as_path(path, "save")
    arrays: list[np.ndarray] = []
    root = _encode(obj, "obj", arrays)
    index = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=True)
    entries = [(INDEX_ENTRY, np.frombuffer(index.encode("utf-8"), dtype=np.uint8))]
    entries += [(f"a{i}", a) for i, a in enumerate(arrays)]

    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, entries)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _as_path(path: Any, where: str) -> str:
    if isinstance(path, (str, os.PathLike)):
        name = os.fspath(path)
        if isinstance(name, str):
            return name
    raise TypeError(f"{where}: path must be a file name (str or pathlib.Path), got {type(path).__name__}")


def _write_npz(f: Any, entries: list[tuple[str, np.ndarray]]) -> None:
    """The ``.npz`` layout of ``np.savez``, with ``allow_pickle=False`` on every array.

    (Written out because ``np.savez`` only accepts ``allow_pickle`` from numpy
    2 on; older versions would store it as an array named "allow_pickle".)
    """
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in entries:
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); not possible, and not needed, on Windows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(obj: Any, where: str, arrays: list[np.ndarray]) -> Any:
    """JSON for ``obj``; array leaves are appended to ``arrays`` and referenced by name.

    A JSON object in the index is always a tagged node (dict, list, tuple,
    array); every other JSON value is a Python leaf (None, bool, int, float, str).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, (np.ndarray, np.generic)):
        array = np.asarray(obj)
        if array.dtype.hasobject:
            raise TypeError(
                f"save: {where} is an array of dtype object (Python objects); checkpoints "
                "hold numeric, bool and string arrays only, never pickled objects"
            )
        arrays.append(array)
        node: dict[str, Any] = {"array": f"a{len(arrays) - 1}"}
        if isinstance(obj, np.generic):
            node["scalar"] = True  # np.float64(3.0) comes back as a numpy scalar, not a 0-d array
        return node
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (str, int, np.integer)):
                raise TypeError(
                    f"save: {where} has a key {key!r} of type {type(key).__name__}; "
                    "dict keys must be str or int"
                )
            key = key if isinstance(key, str) else int(key)
            items.append([key, _encode(value, f"{where}[{key!r}]", arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(v, f"{where}[{i}]", arrays) for i, v in enumerate(obj)]}
    if callable(obj):
        raise TypeError(
            f"save: {where} is a callable ({type(obj).__name__}), which a checkpoint cannot hold: "
            "it stores data, never code. For an optimizer, save optimizer.state_dict(), which "
            "stores a learning-rate schedule as data (its class name and settings)."
        )
    raise TypeError(
        f"save: {where} is a {type(obj).__name__}; expected a dict, list, tuple, ndarray, Tensor, "
        "number, str or None"
    )


# --- load -------------------------------------------------------------------------


def load(path: PathLike) -> Any:
    """Read a checkpoint written by ``save``: the same structure, with ndarrays for arrays.

    Dicts keep their key types (str or int) and order; lists and tuples come
    back as lists and tuples; Tensors come back as ndarrays. Pickled content
    is never loaded. A file that is empty, truncated or not written by
    ``save`` raises ``CheckpointError`` naming the file; a missing file
    raises ``FileNotFoundError``.
    """
    path = _as_path(path, "load")
    with open(path, "rb") as f:
        head = f.read(4)
        if head[:2] != b"PK":
            found = "an empty file" if not head else f"a file starting with {head!r}"
            raise CheckpointError(
                f"load: {path!r} is not a tinygrad_edu checkpoint: expected a .npz (zip) "
                f"file written by tinygrad_edu.save, found {found}"
            )
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                if not isinstance(npz, np.lib.npyio.NpzFile):
                    raise CheckpointError(f"load: {path!r} is not a .npz file")
                if INDEX_ENTRY not in npz.files:
                    raise CheckpointError(
                        f"load: {path!r} is a .npz file without a tinygrad_edu index (entry "
                        f"{INDEX_ENTRY!r}); it was not written by tinygrad_edu.save "
                        f"(it holds: {', '.join(npz.files[:8]) or 'nothing'})"
                    )
                index = _read_index(npz, path)
                return _decode(index["root"], npz, path)
        except CheckpointError:
            raise
        except ValueError as exc:
            if "allow_pickle" in str(exc):
                raise CheckpointError(
                    f"load: {path!r} holds an array of Python objects, which would need "
                    "unpickling; refused (a checkpoint never contains pickled data)"
                ) from None
            raise CheckpointError(f"load: {path!r} is damaged or not a checkpoint: {exc}") from exc
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
            raise CheckpointError(
                f"load: {path!r} is truncated or damaged: expected a complete .npz written by "
                f"tinygrad_edu.save ({type(exc).__name__}: {exc})"
            ) from exc


def _read_index(npz: Any, path: str) -> dict[str, Any]:
    raw = npz[INDEX_ENTRY]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"load: {path!r} has a malformed index ({raw.dtype}, shape {raw.shape})")
    try:
        index = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"load: {path!r} has an unreadable index: {exc}") from exc
    if not isinstance(index, dict) or index.get("format") != FORMAT or "root" not in index:
        raise CheckpointError(f"load: {path!r} has an index that is not a {FORMAT} index")
    if index.get("version") != VERSION:
        raise CheckpointError(
            f"load: {path!r} is checkpoint format version {index.get('version')!r}; "
            f"this tinygrad_edu reads version {VERSION}"
        )
    return index


def _decode(node: Any, npz: Any, path: str) -> Any:
    if not isinstance(node, dict):
        return node  # None, bool, int, float or str
    if "dict" in node:
        return {key: _decode(value, npz, path) for key, value in node["dict"]}
    if "list" in node:
        return [_decode(v, npz, path) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, npz, path) for v in node["tuple"])
    if "array" in node:
        name = node["array"]
        if name not in npz.files:
            raise CheckpointError(f"load: {path!r} is missing array {name!r} named in its index")
        array = npz[name]
        return array[()] if node.get("scalar") else array
    raise CheckpointError(f"load: {path!r} has an unknown node in its index: {node!r}")
