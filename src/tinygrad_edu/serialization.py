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

Resuming training exactly needs everything that decides the next steps: the
parameters, the optimizer's state (moments, step count, schedule) and the random
numbers still to come:

    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
             "rng": tg.get_rng().bit_generator.state}, "ckpt.npz")
    ckpt = tg.load("ckpt.npz")
    model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])
    tg.get_rng().bit_generator.state = ckpt["rng"]

``epoch`` is the number of epochs completed. The library's Generator draws the
dropout masks and the shuffles of a DataLoader made without a seed (so of
``train.fit(..., seed=None)``); a DataLoader made with a seed shuffles with a
Generator of its own, ``loader.rng``, and so does a module given ``rng=``: save
and put back their ``bit_generator.state`` the same way. With ``train.fit``,
``train.ModelCheckpoint`` writes this dict (and the epoch's logs), and
``fit(..., epochs=total, initial_epoch=ckpt["epoch"])`` goes on from there; for
``fit(..., seed=N)`` it first draws the shuffles of the epochs already trained,
so the seed's loader needs nothing saved.

An optimizer's ``state_dict()`` already stores a learning-rate schedule as
data; a bare callable cannot be saved. Nothing is ever unpickled, so loading
a checkpoint cannot run code.

A save goes to a temporary file ``.NAME.PID-RANDOM.tmp`` next to the target that
is flushed, fsync'd and then renamed over it (``os.replace`` is atomic; the helper
``tinygrad_edu._files.atomic_write``, which every writer of the library uses), so a
crash in the middle of a save leaves the previous checkpoint intact. A read-only
checkpoint is refused, as ``open`` refuses it. The replacement keeps the old
file's permission bits (a ``chmod 600`` checkpoint stays private), a symbolic
link is followed (the link's target is replaced, the link stays), and a
temporary file left by a save that was killed (its process is gone) is removed
by the next successful save of the same checkpoint.

Loading reads only what the file declares and checks it first: at most
``max_entries`` arrays and index nodes, nesting at most ``max_depth`` deep, and
no more bytes of content than the file itself holds (``save`` never
compresses, so a larger claim is a compressed or crafted file; ``max_bytes``
allows it). Every refusal is a ``CheckpointError`` naming the file and the
limit to raise.
"""

from __future__ import annotations

import errno
import json
import math
import os
import zipfile
from typing import Any, NoReturn, Optional, Union

import numpy as np

from tinygrad_edu import _files
from tinygrad_edu.autograd import Function
from tinygrad_edu.tensor import Tensor

PathLike = Union[str, "os.PathLike[str]"]

FORMAT = "tinygrad_edu.checkpoint"
VERSION = 1
INDEX_ENTRY = "__tinygrad_edu_index__"
MAX_DEPTH = 100
"""How deeply dicts, lists and tuples may nest in a checkpoint (``save`` and ``load``'s default)."""
MAX_ENTRIES = 1_000_000
"""``load``'s default bound on the arrays in a file and on the nodes of its index."""


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_edu checkpoint (empty, truncated, foreign or unsafe)."""


# --- save -------------------------------------------------------------------------


def save(obj: Any, path: PathLike) -> None:
    """Write ``obj`` to exactly ``path`` as one ``.npz`` file, atomically.

    ``obj`` is built from dicts (str or int keys), lists and tuples, whose
    leaves are ndarrays, Tensors (saved as their ndarray), numpy scalars,
    Python ``int``/``float``/``bool``, ``str`` and ``None``. Anything else (a
    callable such as a learning-rate schedule, a set, an object array, a PyTorch
    tensor, an array of a dtype a ``.npz`` cannot name such as ml_dtypes' bfloat16,
    a masked array, which the error says how to convert) raises ``TypeError`` naming where
    in ``obj`` it sits, nesting deeper than ``MAX_DEPTH`` raises ``ValueError``,
    and nothing is written. A missing or unwritable folder raises the ``OSError``
    with ``path`` in its message.
    """
    path = _as_path(path, "save")
    arrays: list[np.ndarray] = []
    root = _encode(obj, "obj", arrays, 0)
    index = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=True)
    entries = [(INDEX_ENTRY, np.frombuffer(index.encode("utf-8"), dtype=np.uint8))]
    entries += [(f"a{i}", a) for i, a in enumerate(arrays)]

    _check_target(path, os.path.realpath(path))  # through a symlink: its target is replaced
    with _files.atomic_write(path, "wb", where="save") as f:
        _write_npz(f, entries)


def _as_path(path: Any, where: str) -> str:
    if isinstance(path, (str, os.PathLike)):
        name = os.fspath(path)
        if isinstance(name, str) and name:
            return name
        if isinstance(name, str):
            raise ValueError(f"{where}: path is empty; expected a file name such as 'model.npz'")
    raise TypeError(f"{where}: path must be a file name (str or pathlib.Path), got {type(path).__name__}")


def _check_target(path: str, target: str) -> None:
    """A checkpoint replaces a regular file only: never a folder, a device (/dev/null) or a pipe."""
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, f"save: {path!r} is a folder; give a file name in it")
    if os.path.exists(target) and not os.path.isfile(target):
        raise ValueError(
            f"save: {path!r} is not a regular file (a device or a pipe?); a checkpoint replaces "
            "only a regular file"
        )


def _write_npz(f: Any, entries: list[tuple[str, np.ndarray]]) -> None:
    """The ``.npz`` layout of ``np.savez``, with ``allow_pickle=False`` on every array.

    (Written out because ``np.savez`` only accepts ``allow_pickle`` from numpy
    2 on; older versions would store it as an array named "allow_pickle".)
    """
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in entries:
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _encode_array(obj: Any, where: str, arrays: list[np.ndarray]) -> dict[str, Any]:
    if isinstance(obj, np.ma.MaskedArray):
        raise TypeError(
            f"save: {where} is a masked array (np.ma.MaskedArray); a checkpoint would keep its data and "
            f"drop its mask. Save the two as plain arrays, {where}.data and np.ma.getmaskarray({where}) "
            "(under two keys), and rebuild it after loading with np.ma.masked_array(data, mask=mask)"
        )
    array = np.asarray(obj)
    if array.dtype.hasobject:
        raise TypeError(
            f"save: {where} is an array of dtype object (Python objects); checkpoints "
            "hold numeric, bool and string arrays only, never pickled objects"
        )
    if array.dtype.names is not None:
        raise TypeError(
            f"save: {where} is a structured array (dtype {array.dtype}); checkpoints hold plain "
            "numeric, bool and string arrays: save each field as its own array"
        )
    _check_dtype_round_trips(array.dtype, where)
    arrays.append(array)
    node: dict[str, Any] = {"array": f"a{len(arrays) - 1}"}
    if isinstance(obj, np.generic):
        node["scalar"] = True  # np.float64(3.0) comes back as a numpy scalar, not a 0-d array
    return node


def _check_dtype_round_trips(dtype: np.dtype, where: str) -> None:
    """A dtype the .npy header cannot name (bfloat16, float8 from ml_dtypes; raw void) is refused.

    numpy writes such a dtype as raw bytes (``|V2``), so it would load back as bytes, not numbers.
    """
    fmt = np.lib.format
    try:
        back = fmt.descr_to_dtype(fmt.dtype_to_descr(dtype))
    except (TypeError, ValueError):
        back = None
    if dtype.kind != "V" and back == dtype:
        return
    if dtype.kind == "V" and back == dtype:  # plain np.void: bytes with no numeric meaning
        raise TypeError(
            f"save: {where} is an array of raw bytes (dtype {dtype.str}); checkpoints hold numeric, "
            f"bool and string arrays: save it as bytes with {where}.view(np.uint8)"
        )
    if back is not None:
        comes_back = f"it would load back as raw bytes, dtype {back.str}"
    else:
        comes_back = "a .npy header cannot name it"
    raise TypeError(
        f"save: {where} is an array of dtype {dtype}, which a .npz checkpoint cannot store ({comes_back}; "
        f"a .npz keeps numpy's own dtypes only). Convert it first, e.g. {where}.astype(np.float32)"
    )


def _encode_key(key: Any, where: str) -> Union[str, int]:
    if isinstance(key, (bool, np.bool_)) or not isinstance(key, (str, int, np.integer)):
        raise TypeError(
            f"save: {where} has a key {key!r} of type {type(key).__name__}; dict keys must be str or int"
        )
    return key if isinstance(key, str) else int(key)


def _encode(obj: Any, where: str, arrays: list[np.ndarray], depth: int) -> Any:
    """JSON for ``obj``; array leaves are appended to ``arrays`` and referenced by name.

    A JSON object in the index is always a tagged node (dict, list, tuple,
    array); every other JSON value is a Python leaf (None, bool, int, float, str).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, (np.ndarray, np.generic)):
        return _encode_array(obj, where, arrays)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, (dict, list, tuple)) and depth >= MAX_DEPTH:
        raise ValueError(
            f"save: obj is nested more than MAX_DEPTH = {MAX_DEPTH} dicts, lists or tuples deep "
            f"(at {where[:60]}...); a checkpoint holds flat structures such as state dicts "
            "(does the structure contain itself?)"
        )
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            key = _encode_key(key, where)
            items.append([key, _encode(value, f"{where}[{key!r}]", arrays, depth + 1)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(v, f"{where}[{i}]", arrays, depth + 1) for i, v in enumerate(obj)]}
    if type(obj).__module__.split(".")[0] == "torch":
        raise _torch_object(obj, where)
    stateful = _model_or_optimizer(obj, where)
    if stateful is not None:
        raise stateful
    if callable(obj) and not isinstance(obj, Function):  # (an op is callable only to say "use apply")
        raise TypeError(
            f"save: {where} is a callable ({type(obj).__name__}), which a checkpoint cannot hold: "
            "it stores data, never code. For an optimizer, save optimizer.state_dict(), which "
            "stores a learning-rate schedule as data (its class name and settings)."
        )
    what = _a(type(obj).__name__) + (" object" if isinstance(obj, (bytes, bytearray)) else "")
    raise TypeError(
        f"save: {where} is {what}; expected a dict, list, tuple, ndarray, Tensor, "
        "number, str or None"
    )


def _a(name: str) -> str:
    """``name`` with its article: "an Adam", "a Sequential", "an SGD" (an acronym by its letters)."""
    acronym = name[:2].isupper()
    return f"{'an' if name[:1] in ('AEFHILMNORSX' if acronym else 'AEIOUaeiou') else 'a'} {name}"


_RESUME = 'tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)'


def _model_or_optimizer(obj: Any, where: str) -> Optional[TypeError]:
    """The error for a Module or an Optimizer itself, saying which ``state_dict()`` to save."""
    from tinygrad_edu import nn, optim

    name = type(obj).__name__
    if isinstance(obj, nn.Module):
        return TypeError(
            f"save: {where} is {_a(name)} model; a checkpoint holds its weights, not the model itself: "
            "tg.save(model.state_dict(), path), and later model.load_state_dict(tg.load(path)) into a "
            f"model built the same way. With the optimizer, to resume training: {_RESUME}"
        )
    if isinstance(obj, optim.Optimizer):
        return TypeError(
            f"save: {where} is {_a(name)} optimizer; a checkpoint holds its state, not the optimizer "
            "itself: save optimizer.state_dict() (which also stores a learning-rate schedule as data), "
            f"usually with the model's: {_RESUME}, and later "
            'optimizer.load_state_dict(tg.load(path)["optimizer"])'
        )
    return None


def _torch_object(obj: Any, where: str) -> TypeError:
    """The error for a PyTorch object (found by its module's name: torch need not be imported)."""
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if type(obj).__name__ in ("Tensor", "Parameter"):
        also = "" if kind == "torch.Tensor" else f" ({kind})"
        return TypeError(
            f"save: {where} is a torch.Tensor{also}, which a checkpoint does not take (it holds numpy "
            "arrays): convert it with .detach().cpu().numpy(). For a whole torch model, save "
            "interop.from_torch(torch_model).state_dict(); for a torch optimizer, "
            "interop.optimizer_from_torch(torch_optimizer, model).state_dict()"
        )
    return TypeError(
        f"save: {where} is a PyTorch {kind}, which a checkpoint does not take; convert it first "
        "(interop.from_torch for a module, interop.optimizer_from_torch for an optimizer, "
        ".detach().cpu().numpy() for a tensor), or save it with torch.save"
    )


# --- load -------------------------------------------------------------------------


def load(
    path: PathLike,
    *,
    max_depth: int = MAX_DEPTH,
    max_entries: int = MAX_ENTRIES,
    max_bytes: Optional[int] = None,
) -> Any:
    """Read a checkpoint written by ``save``: the same structure, with ndarrays for arrays.

    Dicts keep their key types (str or int) and order; lists and tuples come
    back as lists and tuples; Tensors come back as ndarrays. Pickled content
    is never loaded. A file that is empty, truncated, not written by
    ``save``, or beyond a limit raises ``CheckpointError`` naming the file;
    a missing file raises ``FileNotFoundError``.

    The limits: nesting at most ``max_depth`` deep, at most ``max_entries``
    arrays and index nodes, and at most ``max_bytes`` bytes of content
    (default: the file's own size, which every file ``save`` writes meets,
    since it stores without compression; a larger claim is a compressed or
    crafted file, a "zip bomb"). Raise one for a file you trust.
    """
    path = _as_path(path, "load")
    limits = {"max_depth": max_depth, "max_entries": max_entries}
    for name, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"load: {name} must be an int >= 1, got {value!r}")
    with open(path, "rb") as f:
        head = f.read(4)
        if head[:2] != b"PK":
            found = "an empty file" if not head else f"a file starting with {head!r}"
            raise CheckpointError(
                f"load: {path!r} is not a tinygrad_edu checkpoint: expected a .npz (zip) "
                f"file written by tinygrad_edu.save, found {found}"
            )
        size = os.fstat(f.fileno()).st_size
        budget = size if max_bytes is None else max_bytes
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                reader = _Reader(zf, path, max_depth, max_entries)
                reader.check_sizes(size, budget, max_bytes is None)
                return reader.decode(reader.index()["root"], 0)
        except CheckpointError:
            raise
        except RecursionError:
            raise CheckpointError(
                f"load: {path!r} nests deeper than Python's recursion limit allows; "
                f"lower max_depth (now {max_depth})"
            ) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
            raise CheckpointError(
                f"load: {path!r} is truncated or damaged: expected a complete .npz written by "
                f"tinygrad_edu.save ({type(exc).__name__}: {exc})"
            ) from exc


def _read_data(member: Any, shape: tuple, fortran: bool, dtype: np.dtype, nbytes: int) -> np.ndarray:
    """The ``nbytes`` of data after a .npy header, as a writable array (read once, no copy)."""
    buffer = bytearray(nbytes)
    view, done = memoryview(buffer), 0
    while done < nbytes:
        n = member.readinto(view[done:])
        if not n:
            raise EOFError(f"the array data ends after {done} of {nbytes} bytes")
        done += n
    if nbytes == 0:
        return np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    flat = np.frombuffer(buffer, dtype=dtype)
    return flat.reshape(shape[::-1]).transpose() if fortran else flat.reshape(shape)


class _Reader:
    """Checks and decodes one open checkpoint; every complaint names the file."""

    def __init__(self, zf: zipfile.ZipFile, path: str, max_depth: int, max_entries: int) -> None:
        self.zf, self.path = zf, path
        self.max_depth, self.max_entries = max_depth, max_entries
        self.members = {info.filename: info for info in zf.infolist()}
        self.nodes = 0
        if len(self.members) > max_entries:
            self.fail(
                f"holds {len(self.members)} entries, more than max_entries = {max_entries}; "
                f"if you trust the file, load(path, max_entries={len(self.members)})"
            )

    def fail(self, what: str) -> NoReturn:
        raise CheckpointError(f"load: {self.path!r} {what}")

    def check_sizes(self, size: int, budget: int, default: bool) -> None:
        """The content the file declares must fit in ``budget`` bytes (a zip bomb does not)."""
        declared = sum(info.file_size for info in self.members.values())
        if declared > budget:
            limit = f"its own size, {size} bytes" if default else f"max_bytes = {budget}"
            self.fail(
                f"declares {declared} bytes of content, more than {limit} (a compressed or "
                f"crafted file; save never compresses); if you trust it, "
                f"load(path, max_bytes={declared})"
            )

    def index(self) -> dict[str, Any]:
        entry = INDEX_ENTRY + ".npy"
        if entry not in self.members:
            names = [n[:-4] if n.endswith(".npy") else n for n in list(self.members)[:8]]
            self.fail(
                f"is a .npz file without a tinygrad_edu index (entry {INDEX_ENTRY!r}); it was "
                f"not written by tinygrad_edu.save (it holds: {', '.join(names) or 'nothing'})"
            )
        raw = self.array(INDEX_ENTRY)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            self.fail(f"has a malformed index ({raw.dtype}, shape {raw.shape})")
        try:
            index = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.fail(f"has an unreadable index: {exc}")
        except RecursionError:
            self.fail(f"has an index nested too deeply to read (more than max_depth = {self.max_depth})")
        if not isinstance(index, dict) or index.get("format") != FORMAT or "root" not in index:
            self.fail(f"has an index that is not a {FORMAT} index")
        if index.get("version") != VERSION:
            self.fail(
                f"is checkpoint format version {index.get('version')!r}; "
                f"this tinygrad_edu reads version {VERSION}"
            )
        return index

    def array(self, name: Any) -> np.ndarray:
        """Entry ``name``, after checking that its header's shape and dtype match its size."""
        info = self.members.get(f"{name}.npy") if isinstance(name, str) else None
        if info is None:
            self.fail(f"is missing array {name!r} named in its index")
        with self.zf.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                self.fail(f"array {name!r} is in .npy format version {version}, which save never writes")
            if dtype.hasobject:
                self.fail(
                    f"holds an array of Python objects ({name!r}), which would need unpickling; "
                    "refused (a checkpoint never contains pickled data)"
                )
            declared = math.prod(shape) * dtype.itemsize
            available = info.file_size - member.tell()
            if declared != available:
                self.fail(
                    f"array {name!r} declares shape {shape} of {dtype} ({declared} bytes) but its "
                    f"entry holds {available} bytes"
                )
            return _read_data(member, shape, fortran, dtype, declared)

    def decode(self, node: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > self.max_entries:
            self.fail(
                f"has more than max_entries = {self.max_entries} nodes in its index; if you trust "
                "the file, raise max_entries"
            )
        if not isinstance(node, dict):
            if isinstance(node, list):
                self.fail("has a bare list in its index where a tagged node was expected")
            return node  # None, bool, int, float or str
        if depth >= self.max_depth and ("dict" in node or "list" in node or "tuple" in node):
            self.fail(
                f"nests more than max_depth = {self.max_depth} levels deep; if you trust the file, "
                "load(path, max_depth=...) with a larger value"
            )
        if "dict" in node:
            return {self.key(pair): self.decode(pair[1], depth + 1) for pair in self.items(node["dict"])}
        if "list" in node:
            return [self.decode(v, depth + 1) for v in self.items(node["list"])]
        if "tuple" in node:
            return tuple(self.decode(v, depth + 1) for v in self.items(node["tuple"]))
        if "array" in node:
            array = self.array(node["array"])
            return array[()] if node.get("scalar") else array
        self.fail(f"has an unknown node in its index: {str(node)[:80]}")

    def items(self, value: Any) -> list:
        if not isinstance(value, list):
            self.fail(f"has a malformed node in its index: expected a list, found {type(value).__name__}")
        return value

    def key(self, pair: Any) -> Union[str, int]:
        if not (isinstance(pair, list) and len(pair) == 2):
            self.fail(f"has a malformed dict item in its index: {str(pair)[:80]}")
        key = pair[0]
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            self.fail(f"has a dict key {str(key)[:40]} of type {type(key).__name__}; keys are str or int")
        return key
