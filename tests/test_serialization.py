"""Checkpoints: tg.save / tg.load round trips, atomic replace, refusing pickles and foreign files."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_interop import need

from tinygrad_edu import Tensor
from tinygrad_edu.serialization import MAX_DEPTH, CheckpointError, load, save


def assert_same(loaded, expected, where="obj"):
    """Equal values with equal types all the way down (Tensors are expected back as ndarrays)."""
    if isinstance(expected, Tensor):
        expected = expected.data
    if isinstance(expected, np.ndarray):
        assert type(loaded) is np.ndarray, where
        assert loaded.dtype == expected.dtype, where
        assert loaded.shape == expected.shape, where
        assert np.array_equal(loaded, expected, equal_nan=expected.dtype.kind in "fc"), where
    elif isinstance(expected, np.generic):
        assert type(loaded) is type(expected), where
        assert np.array_equal(loaded, expected, equal_nan=expected.dtype.kind in "fc"), where
    elif isinstance(expected, dict):
        assert type(loaded) is dict, where
        assert list(loaded.keys()) == list(expected.keys()), where  # same keys, same types, same order
        assert [type(k) for k in loaded] == [type(k) for k in expected], where
        for key in expected:
            assert_same(loaded[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(loaded) is type(expected), where
        assert len(loaded) == len(expected), where
        for i, (a, b) in enumerate(zip(loaded, expected)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert type(loaded) is float and math.isnan(loaded), where
    else:
        assert type(loaded) is type(expected), where
        assert loaded == expected, where
        if isinstance(expected, float):
            assert math.copysign(1, loaded) == math.copysign(1, expected), where  # -0.0 stays -0.0


def test_round_trip_keeps_structure_dtypes_and_key_types(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "model": {
            "0.weight": rng.standard_normal((3, 2)),
            "0.bias": np.zeros(3, dtype=np.float32),
            "bn.num_batches": np.array(7, dtype=np.int64),  # a 0-d array stays 0-d
            "mask": np.array([True, False]),
            "half": np.array([1.5, -2.25], dtype=np.float16),
            "ints": np.arange(4, dtype=np.int32),
            "bytes": np.arange(3, dtype=np.uint8),
            "complex": np.array([1 + 2j]),
            "empty": np.zeros((0, 4)),
            "words": np.array(["adam", "sgd"]),
        },
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.ones(2)}, 1: {"step": np.float64(3.0)}},
            "param_groups": [
                {
                    "params": [0, 1],
                    "lr": 0.001,
                    "betas": (0.9, 0.999),
                    "amsgrad": False,
                    "eps_mode": "outside",
                    "maximize": None,
                }
            ],
        },
        # int 0 and str "0" are different keys and both survive, in this order
        "mixed": {"0": "string key", 0: "int key", -5: [], "": {}},
        "epoch": 3,
        "flags": [True, False, 1, 0],
        "floats": [0.1, 1e-320, -0.0, math.inf, -math.inf, math.nan, 1.7976931348623157e308],
        "big": 2**62 + 1,
        "text": "température – 温度",
        "nothing": None,
        "nested": [[[np.float32(1.5)]], ()],
    }
    path = tmp_path / "ckpt.npz"
    save(obj, path)
    assert_same(load(path), obj)


def test_tensors_come_back_as_ndarrays_and_non_contiguous_arrays_keep_their_values(tmp_path):
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    view = np.arange(20.0)[::3]
    path = tmp_path / "c.npz"
    save({"t": t, "transposed": t.data.T, "fortran": fortran, "view": view}, path)
    back = load(path)
    assert type(back["t"]) is np.ndarray and back["t"].dtype == np.float64
    np.testing.assert_array_equal(back["t"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(back["transposed"], [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(back["fortran"], np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(back["view"], [0, 3, 6, 9, 12, 15, 18])


def test_top_level_can_be_a_list_or_a_single_array(tmp_path):
    save([1, "a", np.ones(2)], tmp_path / "l.npz")
    assert_same(load(tmp_path / "l.npz"), [1, "a", np.ones(2)])
    save(np.eye(2, dtype=np.float32), tmp_path / "a.npz")
    assert_same(load(tmp_path / "a.npz"), np.eye(2, dtype=np.float32))


def test_writes_exactly_the_given_path_and_a_plain_npz(tmp_path):
    for name in ["checkpoint.bin", "no_extension", "model.npz"]:
        path = tmp_path / name
        save({"w": np.ones(2)}, str(path))
        assert path.exists()
        assert sorted(os.listdir(tmp_path)).count(name) == 1
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.bin", "model.npz", "no_extension"]
    # Any numpy can read the arrays back without pickle.
    with np.load(tmp_path / "checkpoint.bin", allow_pickle=False) as npz:
        arrays = [npz[name] for name in npz.files]
    assert any(a.shape == (2,) and np.all(a == 1) for a in arrays)


def test_path_must_be_a_file_name(tmp_path):
    with open(tmp_path / "f.npz", "wb") as f:
        with pytest.raises(TypeError, match="save: path must be a file name"):
            save({"a": 1}, f)
    with pytest.raises(TypeError, match="load: path must be a file name"):
        load(3)


def test_save_overwrites_an_existing_checkpoint(tmp_path):
    path = tmp_path / "c.npz"
    save({"epoch": 1}, path)
    save({"epoch": 2, "w": np.zeros(3)}, path)
    assert_same(load(path), {"epoch": 2, "w": np.zeros(3)})
    assert os.listdir(tmp_path) == ["c.npz"]


# --- what cannot be saved -----------------------------------------------------------


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"w": np.array([{"a": 1}, None], dtype=object)}, ["obj['w']", "object"]),
        (
            {"param_groups": [{"lr": lambda step: 0.1 * 0.9**step}]},
            ["obj['param_groups'][0]['lr']", "callable"],
        ),
        ({"s": {1, 2}}, ["obj['s']", "set"]),
        ({1.5: 2}, ["key 1.5", "str or int"]),
        ({(0, 1): 2}, ["key (0, 1)", "str or int"]),
        ({True: 2}, ["key True", "str or int"]),
        ({"x": object()}, ["obj['x']", "object"]),
        ({"b": b"raw"}, ["obj['b'] is a bytes object"]),
    ],
)
def test_save_refuses_what_a_checkpoint_cannot_hold(tmp_path, bad, words):
    path = tmp_path / "c.npz"
    with pytest.raises(TypeError) as info:
        save(bad, path)
    for word in words:
        assert word in str(info.value)
    assert os.listdir(tmp_path) == []  # nothing written, no temporary file left


def test_save_refuses_a_dtype_a_npz_loads_back_as_raw_bytes(tmp_path):
    ml_dtypes = need("ml_dtypes")  # installed with onnx
    path = tmp_path / "c.npz"
    save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    for dtype in (ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn):
        for bad in (np.ones(3, dtype=dtype), dtype(1.0), Tensor(np.ones(2)).data.astype(dtype)):
            with pytest.raises(TypeError) as info:
                save({"model": {"0.weight": bad}}, path)
            message = str(info.value)
            start = f"save: obj['model']['0.weight'] is an array of dtype {np.dtype(dtype)},"
            assert message.startswith(start)
            assert "raw bytes" in message and ".astype(np.float32)" in message
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.npz"]
    save({"w": np.ones(3, dtype=ml_dtypes.bfloat16).astype(np.float32)}, path)  # the fix it names works
    assert load(path)["w"].dtype == np.float32


def test_save_refuses_raw_void_and_masked_arrays(tmp_path):
    raw = r"obj\['w'\] is an array of raw bytes \(dtype \|V4\).*view\(np.uint8\)"
    with pytest.raises(TypeError, match=raw):
        save({"w": np.zeros(2, dtype="V4")}, tmp_path / "c.npz")
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError) as info:
        save({"w": masked}, tmp_path / "c.npz")
    message = str(info.value)
    assert message.startswith("save: obj['w'] is a masked array (np.ma.MaskedArray)")
    assert "drop its mask" in message and "np.ma.getmaskarray(obj['w'])" in message
    assert os.listdir(tmp_path) == []
    save({"data": masked.data, "mask": np.ma.getmaskarray(masked)}, tmp_path / "c.npz")  # as it says
    back = load(tmp_path / "c.npz")
    again = np.ma.masked_array(back["data"], mask=back["mask"])
    assert again.mask.tolist() == [False, True] and again[0] == 1.0


def test_save_keeps_every_standard_dtype(tmp_path):
    dtypes = ("f2", "f4", "f8", np.longdouble, "c8", "c16", "i1", "u8", "?", "S3", "U3", "M8[s]", "m8[ms]")
    arrays = {np.dtype(d).str: np.zeros(2, dtype=d) for d in dtypes + (">f8",)}
    save(arrays, tmp_path / "c.npz")
    back = load(tmp_path / "c.npz")
    assert {k: v.dtype for k, v in back.items()} == {k: v.dtype for k, v in arrays.items()}


def test_saving_a_model_or_an_optimizer_says_which_state_dict_to_save(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    resume = 'tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)'
    for obj, start in ((model, "save: obj is a Sequential model;"),
                       ({"model": model}, "save: obj['model'] is a Sequential model;")):
        with pytest.raises(TypeError) as info:
            save(obj, tmp_path / "c.npz")
        message = str(info.value)
        assert message.startswith(start) and "tg.save(model.state_dict(), path)" in message
        assert resume in message and "callable" not in message and "schedule" not in message
    params = list(model.parameters())
    for optimizer, start in ((optim.Adam(params, lr=0.1), "save: obj is an Adam optimizer;"),
                             (optim.SGD(params, lr=0.1), "save: obj is an SGD optimizer;"),
                             (optim.Momentum(params, lr=0.1), "save: obj is a Momentum optimizer;")):
        with pytest.raises(TypeError) as info:
            save(optimizer, tmp_path / "c.npz")
        message = str(info.value)
        assert message.startswith(start) and resume in message and "optimizer.state_dict()" in message
    assert os.listdir(tmp_path) == []
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "c.npz")  # as it says
    assert set(load(tmp_path / "c.npz")) == {"model", "optimizer"}


def _fake_torch_class(module, name):
    """A class that looks like PyTorch's by its module name, as save checks it (torch not needed)."""
    return type(name, (), {"__module__": module, "__qualname__": name})


@pytest.mark.parametrize(
    "module, name", [("torch", "Tensor"), ("torch.nn.parameter", "Parameter")]
)
def test_save_names_a_torch_tensor_and_how_to_convert_it(tmp_path, module, name):
    tensor = _fake_torch_class(module, name)()
    for obj, where in (({"0.weight": tensor}, "obj['0.weight']"),  # a torch model's state_dict()
                       ({"state": {0: {"step": tensor}}}, "obj['state'][0]['step']")):  # an optimizer's
        with pytest.raises(TypeError) as info:
            save(obj, tmp_path / "c.npz")
        message = str(info.value)
        assert f"save: {where} is a torch.Tensor" in message
        assert "expected a dict" not in message  # the old message listed Tensor as accepted
        for fix in (".detach().cpu().numpy()", "interop.from_torch", "interop.optimizer_from_torch"):
            assert fix in message
    assert os.listdir(tmp_path) == []


def test_save_names_another_torch_object(tmp_path):
    module = _fake_torch_class("torch.nn.modules.container", "Sequential")()
    with pytest.raises(TypeError, match=r"obj\['m'\] is a PyTorch torch\.nn\.modules\.container\.Sequential"):
        save({"m": module}, tmp_path / "c.npz")


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    old = {"epoch": 1, "w": np.arange(1000.0)}
    save(old, path)
    before = path.read_bytes()

    real_write = np.lib.format.write_array
    calls = []

    def write_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the index and one array are written, then the process "dies"
            raise KeyboardInterrupt("simulated crash in the middle of the save")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 2, "w": np.zeros(1000), "v": np.ones(1000)}, path)
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert_same(load(path), old)
    assert os.listdir(tmp_path) == ["c.npz"]


def test_a_failed_fsync_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save({"epoch": 1}, path)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        save({"epoch": 2}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["c.npz"]


# --- what cannot be loaded ----------------------------------------------------------


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", ["empty file", ".npz"]),
        (b"epoch,loss\n1,0.5\n", ["not a tinygrad_edu checkpoint", ".npz"]),
        (b"PK\x03\x04garbage", ["truncated or damaged"]),
    ],
)
def test_load_refuses_empty_and_foreign_files(tmp_path, content, words):
    path = tmp_path / "weird.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert "weird.npz" in str(info.value)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_load_refuses_a_truncated_checkpoint(tmp_path, fraction):
    path = tmp_path / "c.npz"
    save({"w": np.arange(5000.0), "epoch": 4}, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(CheckpointError, match="c.npz"):
        load(path)


def test_load_refuses_a_plain_npz_and_a_zip_without_the_index(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, weight=np.ones(3))
    with pytest.raises(CheckpointError) as info:
        load(plain)
    assert "plain.npz" in str(info.value) and "not written by tinygrad_edu.save" in str(info.value)
    assert "weight" in str(info.value)  # says what the file does hold

    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="other.zip"):
        load(other)

    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(CheckpointError, match="array.npy"):
        load(npy)


_UNPICKLED = []


def _record_unpickling(word):
    _UNPICKLED.append(word)


class _Trap:
    """Unpickling this object would record it: the test checks that it never happens."""

    def __reduce__(self):
        return (_record_unpickling, ("executed",))


def test_load_never_unpickles_an_object_array(tmp_path):
    # A file that looks like a checkpoint but whose array entry is a pickled object array.
    good = tmp_path / "good.npz"
    save({"w": np.ones(2)}, good)
    with np.load(good) as npz:
        entries = {name: npz[name] for name in npz.files}
    array_name = next(name for name in entries if name != "__tinygrad_edu_index__")
    entries[array_name] = np.array([_Trap(), 1], dtype=object)
    evil = tmp_path / "evil.npz"
    with open(evil, "wb") as f:  # np.savez pickles object arrays by default
        np.savez(f, **entries)
    assert pickle.loads(pickle.dumps(_Trap())) is None and _UNPICKLED == ["executed"]  # the trap works
    _UNPICKLED.clear()
    with pytest.raises(CheckpointError) as info:
        load(evil)
    assert "evil.npz" in str(info.value) and "refused" in str(info.value)
    assert _UNPICKLED == []


def test_load_refuses_an_index_from_another_format_version(tmp_path):
    path = tmp_path / "future.npz"
    index = b'{"format": "tinygrad_edu.checkpoint", "version": 99, "root": 1}'
    with open(path, "wb") as f:
        np.savez(f, __tinygrad_edu_index__=np.frombuffer(index, dtype=np.uint8))
    with pytest.raises(CheckpointError, match="version 99"):
        load(path)


# --- any structure of the supported kinds round-trips ----------------------------------

_arrays = st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_]).flatmap(
    lambda dtype: st.lists(st.integers(-50, 50), max_size=6).map(lambda xs: np.array(xs, dtype=dtype))
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    _arrays,
)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(-3, 3)), children, max_size=4),
    ),
    max_leaves=12,
)


@settings(deadline=None)
@given(tree=_trees)
def test_any_tree_round_trips(tmp_path_factory, tree):
    path = tmp_path_factory.mktemp("trees") / "t.npz"
    save(tree, path)
    assert_same(load(path), tree)


# --- resuming training from a checkpoint ------------------------------------------------

from tinygrad_edu import nn, optim  # noqa: E402
from tinygrad_edu._config import get_rng, manual_seed  # noqa: E402


def make_model(seed, dropout=False):
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(3, 8, rng=rng, dtype=np.float64), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(0.25))
    layers += [
        nn.Linear(8, 4, rng=rng, dtype=np.float64),
        nn.ReLU(),
        nn.Linear(4, 1, rng=rng, dtype=np.float64),
    ]
    return nn.Sequential(*layers)


def regression_data():
    rng = np.random.default_rng(100)
    X = rng.standard_normal((32, 3))
    y = np.sin(X @ np.array([[1.0], [-2.0], [0.5]]))
    return X, y


def train(model, opt, X, y, steps, batch=8):
    """Mini-batches in a fixed order that depends on the global step (as a data loader's epoch would)."""
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        start = (opt.step_count * batch) % len(X)
        xb, yb = Tensor(X[start : start + batch]), Tensor(y[start : start + batch])
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()


OPTIMIZERS = {
    "Adam": lambda ps: optim.Adam(ps, lr=0.01),
    "Adam amsgrad, schedule": lambda ps: optim.Adam(
        ps, lr=optim.schedules.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.8), amsgrad=True
    ),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "SGD nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Momentum": lambda ps: optim.Momentum(ps, lr=0.05, beta=0.9),
    "RMSprop centered": lambda ps: optim.RMSprop(ps, lr=0.005, momentum=0.5, centered=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_resuming_from_a_checkpoint_continues_bit_for_bit(tmp_path, name):
    X, y = regression_data()
    n_steps, k = 12, 5
    make_opt = OPTIMIZERS[name]

    # Training that never stops.
    model = make_model(seed=1)
    opt = make_opt(model.parameters())
    train(model, opt, X, y, n_steps)
    expected = model.state_dict()

    # Training that stops after k steps and writes a checkpoint ...
    model = make_model(seed=1)
    opt = make_opt(model.parameters())
    train(model, opt, X, y, k)
    path = tmp_path / "checkpoint.npz"
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": k}, path)
    del model, opt

    # ... and a fresh process that builds new objects (other initial weights) and loads it.
    model = make_model(seed=999)
    opt = make_opt(model.parameters())
    checkpoint = load(path)
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == k and type(checkpoint["epoch"]) is int
    train(model, opt, X, y, n_steps - k)

    resumed = model.state_dict()
    assert list(resumed) == list(expected)
    for key in expected:
        assert np.array_equal(resumed[key], expected[key]), key


def test_an_lr_schedule_comes_back_from_the_checkpoint(tmp_path):
    model = make_model(seed=2)
    schedule = optim.schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    opt = optim.SGD(model.parameters(), lr=schedule)
    X, y = regression_data()
    train(model, opt, X, y, 3)
    save(opt.state_dict(), tmp_path / "opt.npz")

    fresh = optim.SGD(make_model(seed=2).parameters(), lr=0.5)  # built with a plain number
    fresh.load_state_dict(load(tmp_path / "opt.npz"))
    lr = fresh.param_groups[0]["lr"]
    assert callable(lr)
    # The course's decay written out: 0.1 / (1 + 0.5 * floor(step / 2)).
    assert [lr(step) for step in range(6)] == pytest.approx([0.1 / (1 + 0.5 * (s // 2)) for s in range(6)])
    assert fresh.step_count == 3


def test_a_custom_schedule_is_stored_as_its_name_and_needs_the_same_callable_to_load(tmp_path):
    def warmup(step):
        return 0.01 * min(1.0, (step + 1) / 4)

    model = make_model(seed=3)
    opt = optim.Adam(model.parameters(), lr=warmup)
    X, y = regression_data()
    train(model, opt, X, y, 2)
    save(opt.state_dict(), tmp_path / "opt.npz")  # the callable itself is never written

    again = optim.Adam(make_model(seed=3).parameters(), lr=warmup)
    again.load_state_dict(load(tmp_path / "opt.npz"))
    assert again.param_groups[0]["lr"] is warmup
    with pytest.raises(ValueError, match="custom schedule"):
        optim.Adam(make_model(seed=3).parameters(), lr=0.01).load_state_dict(load(tmp_path / "opt.npz"))


def test_resuming_with_dropout_needs_the_random_state_too(tmp_path):
    X, y = regression_data()
    manual_seed(7)
    model = make_model(seed=4, dropout=True)
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, X, y, 9)
    expected = model.state_dict()

    manual_seed(7)
    model = make_model(seed=4, dropout=True)
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, X, y, 4)
    # The Generator's state is plain data (a dict of ints and strings), so it can go in the checkpoint.
    save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": get_rng().bit_generator.state},
        tmp_path / "c.npz",
    )

    manual_seed(12345)  # the new process starts from some other random state
    model = make_model(seed=5, dropout=True)
    opt = optim.Adam(model.parameters(), lr=0.01)
    checkpoint = load(tmp_path / "c.npz")
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optimizer"])
    get_rng().bit_generator.state = checkpoint["rng"]
    train(model, opt, X, y, 5)
    for key, value in model.state_dict().items():
        assert np.array_equal(value, expected[key]), key


# --- the file system: temporary files, permissions, links, folders ----------------------


def _dead_pid() -> int:
    """The id of a process that has ended (the operating system does not reuse it at once)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_save_removes_temporary_files_left_by_killed_saves(tmp_path):
    path = tmp_path / "c.npz"
    save({"epoch": 1}, path)
    dead = tmp_path / f".c.npz.{_dead_pid()}-0123456789ab.tmp"  # a save killed with kill -9
    older = tmp_path / ".c.npz.0123456789ab.tmp"  # the name a save used before it recorded its process
    alive = tmp_path / f".c.npz.{os.getpid()}-ba9876543210.tmp"  # a save running now in this process
    other = tmp_path / f".d.npz.{_dead_pid()}-0123456789ab.tmp"  # another checkpoint's: not ours
    for leftover in (dead, older, alive, other):
        leftover.write_bytes(b"PK half a checkpoint")
    save({"epoch": 2}, path)
    assert sorted(os.listdir(tmp_path)) == sorted([alive.name, other.name, "c.npz"])
    assert load(path) == {"epoch": 2}


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_a_re_save_keeps_the_checkpoints_permissions(tmp_path):
    path = tmp_path / "private.npz"
    save({"epoch": 1}, path)
    os.chmod(path, 0o600)
    save({"epoch": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    save({"epoch": 3}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert load(path) == {"epoch": 3}


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs symbolic links")
def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "run3.npz"
    save({"epoch": 1}, target)
    link = tmp_path / "latest.npz"
    os.symlink(os.path.join("runs", "run3.npz"), link)
    save({"epoch": 2}, link)
    assert os.path.islink(link)
    assert load(target) == {"epoch": 2} and load(link) == {"epoch": 2}
    assert sorted(os.listdir(tmp_path)) == ["latest.npz", "runs"]
    assert os.listdir(tmp_path / "runs") == ["run3.npz"]  # the temporary file was made next to the target


def test_saving_into_a_missing_folder_names_the_path_given(tmp_path):
    path = tmp_path / "no_such_folder" / "c.npz"
    with pytest.raises(FileNotFoundError) as info:
        save({"epoch": 1}, path)
    message = str(info.value)
    assert str(path) in message and "does not exist" in message and "save" in message
    assert ".tmp" not in message


def test_an_empty_path_is_refused():
    with pytest.raises(ValueError, match="save: path is empty"):
        save({"epoch": 1}, "")
    with pytest.raises(ValueError, match="load: path is empty"):
        load("")


def test_saving_a_structure_nested_too_deeply_is_a_clear_error(tmp_path):
    deep: dict = {}
    node = deep
    for _ in range(2000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(ValueError) as info:
        save(deep, tmp_path / "deep.npz")
    assert "save" in str(info.value) and f"MAX_DEPTH = {MAX_DEPTH}" in str(info.value)
    loop: list = []
    loop.append(loop)  # a list that contains itself
    with pytest.raises(ValueError, match="nested more than"):
        save(loop, tmp_path / "loop.npz")
    assert os.listdir(tmp_path) == []
    just_fits = [0]
    for _ in range(MAX_DEPTH - 1):
        just_fits = [just_fits]
    save(just_fits, tmp_path / "fits.npz")
    assert load(tmp_path / "fits.npz") == just_fits


def test_fortran_ordered_and_string_arrays_round_trip(tmp_path):
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    words = np.array([["adam", "sgd"], ["rmsprop", ""]])
    save({"f": fortran, "w": words}, tmp_path / "c.npz")
    loaded = load(tmp_path / "c.npz")
    assert np.array_equal(loaded["f"], fortran) and np.array_equal(loaded["w"], words)
    assert loaded["w"].dtype == words.dtype
    loaded["f"][0, 0] = -1.0  # loaded arrays are ordinary writable arrays


# --- crafted files: bounded before anything is allocated ---------------------------------


def _write_checkpoint(path, root, arrays=(), compression=zipfile.ZIP_STORED, index_text=None):
    """A file laid out as save writes it, with any index and any .npy entries (raw bytes or arrays)."""
    text = index_text if index_text is not None else json.dumps(
        {"format": "tinygrad_edu.checkpoint", "version": 1, "root": root}
    )
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        with zf.open("__tinygrad_edu_index__.npy", "w") as member:
            np.lib.format.write_array(member, np.frombuffer(text.encode(), dtype=np.uint8))
        for name, content in arrays:
            if isinstance(content, bytes):
                zf.writestr(name + ".npy", content)
            else:
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, content)


def test_a_deeply_nested_index_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "deep.npz"
    _write_checkpoint(path, None, index_text='{"format": "tinygrad_edu.checkpoint", "version": 1, "root": '
                      + '{"list": [' * 100_000 + "]}" * 100_000 + "}")
    with pytest.raises(CheckpointError, match="deep.npz.*(deep|recursion)"):
        load(path)
    root: object = 1
    for _ in range(MAX_DEPTH + 1):
        root = {"list": [root]}
    _write_checkpoint(path, root)
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert f"max_depth = {MAX_DEPTH}" in str(info.value) and "deep.npz" in str(info.value)
    expected: object = 1
    for _ in range(MAX_DEPTH + 1):
        expected = [expected]
    assert load(path, max_depth=MAX_DEPTH + 1) == expected  # the limit can be raised for a file you trust


@pytest.mark.parametrize(
    "root, words",
    [
        ({"dict": [[["a", "list"], 1]]}, ["dict key", "list"]),  # an unhashable key
        ({"dict": [[True, 1]]}, ["dict key", "bool"]),
        ({"dict": [["a"]]}, ["malformed dict item"]),
        ({"dict": 5}, ["malformed node", "int"]),
        ({"list": "abc"}, ["malformed node", "str"]),
        ({"array": 7}, ["missing array 7"]),
        ({"array": "a9"}, ["missing array 'a9'"]),
        ({"set": [1, 2]}, ["unknown node"]),
        ([1, 2], ["bare list"]),
    ],
)
def test_a_malformed_index_is_a_checkpoint_error(tmp_path, root, words):
    path = tmp_path / "odd.npz"
    _write_checkpoint(path, root)
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert "odd.npz" in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    path = tmp_path / "bomb.npz"
    zeros = np.zeros(2**24, dtype=np.uint8)  # 16 MiB of zeros deflate to about 16 KiB
    _write_checkpoint(path, {"array": "a0"}, [("a0", zeros)], compression=zipfile.ZIP_DEFLATED)
    size = os.path.getsize(path)
    assert size < 2**20
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert "bomb.npz" in message and f"its own size, {size} bytes" in message and "max_bytes=" in message
    assert np.array_equal(load(path, max_bytes=2**25), zeros)  # a compressed file you trust
    with pytest.raises(CheckpointError, match="max_bytes = 1000"):
        load(path, max_bytes=1000)


def test_an_array_header_claiming_terabytes_is_refused(tmp_path):
    path = tmp_path / "huge.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (2**40,)}  # 8 TiB
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    _write_checkpoint(path, {"array": "a0"}, [("a0", buffer.getvalue() + b"\0" * 64)])
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert "huge.npz" in str(info.value) and "'a0'" in str(info.value)
    assert f"({2**43} bytes)" in str(info.value) and "holds 64 bytes" in str(info.value)


def test_too_many_entries_are_refused_unless_allowed(tmp_path):
    path = tmp_path / "many.npz"
    save([np.zeros(1)] * 20, path)
    with pytest.raises(CheckpointError) as info:
        load(path, max_entries=10)
    assert "many.npz" in str(info.value) and "max_entries" in str(info.value)
    assert len(load(path, max_entries=21)) == 20
    save(list(range(50)), path)  # one entry (the index) but 51 nodes in it
    with pytest.raises(CheckpointError, match="max_entries = 30"):
        load(path, max_entries=30)
    with pytest.raises(ValueError, match="load: max_depth must be an int >= 1"):
        load(path, max_depth=0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe (POSIX)")
def test_save_never_replaces_a_pipe_or_a_folder(tmp_path):
    pipe = tmp_path / "pipe"  # what /dev/null, a device, would be: not a regular file
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match="save: .*pipe' is not a regular file"):
        save({"epoch": 1}, pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)  # still the pipe
    with pytest.raises(IsADirectoryError, match="is a folder"):
        save({"epoch": 1}, tmp_path)
