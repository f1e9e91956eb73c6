"""The dtypes of .safetensors files: what save_safetensors refuses, and a bfloat16 file from the hub."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu.serialization import CheckpointError


def write_safetensors(path, tensors):
    """A .safetensors file written byte by byte: {name: (dtype name, shape, raw bytes)}."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        offsets = [len(data), len(data) + len(raw)]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": offsets}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


BF16_ONE_TWO = b"\x80\x3f\x00\x40"  # bfloat16 1.0 and 2.0 (the upper halves of the float32s)


def test_load_safetensors_of_a_bfloat16_file_names_the_file_the_tensor_and_the_fix(tmp_path):
    need("safetensors")
    path = write_safetensors(tmp_path / "hub.safetensors", {
        "bias": ("F32", [1], np.float32(1).tobytes()),
        "weight": ("BF16", [2], BF16_ONE_TWO),
    })
    with pytest.raises(CheckpointError) as info:
        tg.interop.load_safetensors(path)
    message = str(info.value)
    assert message.startswith(f"load_safetensors: {str(path)!r} holds tensor 'weight' (BF16) of a dtype")
    assert "bfloat16" in message and "v.float()" in message and "'bias'" not in message
    assert "not understood" not in message


def test_load_safetensors_lists_the_tensors_of_float8_and_bfloat16(tmp_path):
    need("safetensors")
    tensors = {f"{i}.weight": ("BF16", [2], BF16_ONE_TWO) for i in range(4)}
    tensors["scale"] = ("F8_E4M3", [1], b"\x38")
    path = write_safetensors(tmp_path / "q.safetensors", tensors)
    with pytest.raises(CheckpointError, match=r"holds tensors '0\.weight' \(BF16\), '1\.weight' \(BF16\), "
                                              r"'2\.weight' \(BF16\) and 2 more of a dtype"):
        tg.interop.load_safetensors(path)


def test_a_float8_file_is_not_told_about_bfloat16(tmp_path):
    need("safetensors")
    path = write_safetensors(tmp_path / "f8.safetensors", {"scale": ("F8_E5M2", [1], b"\x3c")})
    with pytest.raises(CheckpointError) as info:
        tg.interop.load_safetensors(path)
    message = str(info.value)
    assert "'scale' (F8_E5M2)" in message and "v.float()" in message
    assert "bfloat16" not in message and "ml_dtypes" not in message  # that way reads bfloat16 only


def test_the_conversion_the_error_gives_makes_a_file_that_loads(tmp_path, monkeypatch):
    need("safetensors")
    torch = need("torch")
    from safetensors.torch import load_file, save_file

    path = tmp_path / "hub.safetensors"
    save_file({"weight": torch.tensor([1.0, 2.0], dtype=torch.bfloat16),
               "num_batches_tracked": torch.tensor(3)}, str(path))
    with pytest.raises(CheckpointError, match="'weight' \\(BF16\\)"):
        tg.interop.load_safetensors(path)
    monkeypatch.chdir(tmp_path)
    save_file({k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()},
              "float32.safetensors")
    back = tg.interop.load_safetensors(tmp_path / "float32.safetensors")
    assert back["weight"].dtype == np.float32 and back["weight"].tolist() == [1.0, 2.0]
    assert back["num_batches_tracked"].dtype == np.int64


def test_a_file_of_numpy_dtypes_still_loads(tmp_path):
    need("safetensors")
    path = write_safetensors(tmp_path / "ok.safetensors", {
        "h": ("F16", [1], np.float16(1.5).tobytes()), "i": ("I64", [], np.int64(7).tobytes()),
        "b": ("BOOL", [1], b"\x01"),
    })
    back = tg.interop.load_safetensors(path)
    assert (back["h"].dtype, back["i"].dtype, back["b"].dtype) == (np.float16, np.int64, np.bool_)
    assert back["h"][0] == 1.5 and back["i"] == 7


@pytest.mark.parametrize("value, dtype, fix", [
    (np.ones(2, dtype=np.longdouble), str(np.dtype(np.longdouble)), ".astype(np.float64)"),
    (np.ones(2, dtype=np.complex64), "complex64", ".real and .imag"),
    (np.array(["adam"]), "<U4", "numeric array"),
])
def test_save_safetensors_refuses_a_dtype_it_cannot_write_before_writing(tmp_path, value, dtype, fix):
    need("safetensors")
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError) as info:
        tg.interop.save_safetensors({"0.weight": np.ones(2), "w": value}, path)
    message = str(info.value)
    assert message.startswith(f"save_safetensors: entry 'w' has dtype {dtype}, which save_safetensors")
    assert fix in message
    assert os.listdir(tmp_path) == []


def test_save_safetensors_refuses_a_bfloat16_array_of_ml_dtypes(tmp_path):
    need("safetensors")
    ml_dtypes = need("ml_dtypes")  # installed with onnx
    with pytest.raises(TypeError, match=r"entry 'w' has dtype bfloat16, .*\.astype\(np\.float32\)"):
        tg.interop.save_safetensors({"w": np.ones(2, dtype=ml_dtypes.bfloat16)}, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_safetensors_names_a_key_that_is_not_a_str(tmp_path):
    need("safetensors")
    with pytest.raises(TypeError, match=r"save_safetensors: entry 3 must have a str name"):
        tg.interop.save_safetensors({3: np.ones(2)}, tmp_path / "m.safetensors")


def test_save_safetensors_writes_big_endian_arrays_as_their_values(tmp_path):
    need("safetensors")
    path = tmp_path / "m.safetensors"
    tg.interop.save_safetensors({"w": np.arange(3, dtype=">f4")}, path)
    back = tg.interop.load_safetensors(path)
    assert back["w"].dtype == np.float32 and back["w"].tolist() == [0.0, 1.0, 2.0]
