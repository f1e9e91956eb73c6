"""tinygrad_edu.interop against the real PyTorch, onnx, onnxruntime and safetensors.

Every expected value comes from PyTorch or onnxruntime computing on its own (or from our
own trainer for the "continue in the other framework" checks). Without the packages the
tests skip; with CI set they fail instead, because .ci/run installs them.
"""

from __future__ import annotations

import importlib
import io
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor, data, interop, nn, optim
from tinygrad_edu.optim import schedules

OPTIONAL = ("torch", "onnx", "onnxruntime", "safetensors")
F64, F32 = np.float64, np.float32
TOL = {F64: 1e-12, F32: 1e-5}  # relative agreement of outputs and gradients


def need(package):
    """Import an optional package; skip the test without it, but fail when CI is set (CI installs it)."""
    try:
        return importlib.import_module(package)
    except ImportError as err:
        message = (
            f"{package} is not installed ({err}); bash dev.sh interop installs it "
            "(.ci/run installs it, so in CI this is a failure)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def torch():
    t = need("torch")
    t.manual_seed(0)
    return t


@pytest.fixture
def ort():
    need("onnx")
    return need("onnxruntime")


def course_network(dtype=F64, sigmoid=True):
    """The course's [2, 5, 2, 1] network: Linear-ReLU-Linear-ReLU-Linear(-Sigmoid), He init from seed 3."""
    rng = np.random.RandomState(3)
    layers = [
        nn.Linear(2, 5, rng=rng, dtype=dtype), nn.ReLU(),
        nn.Linear(5, 2, rng=rng, dtype=dtype), nn.ReLU(),
        nn.Linear(2, 1, rng=rng, dtype=dtype),
    ]
    return nn.Sequential(*layers, nn.Sigmoid()) if sigmoid else nn.Sequential(*layers)


def moons():
    X, y = data.make_moons(300, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(F64)


def close(actual, expected, dtype, what=""):
    tol = TOL[dtype]
    expected = np.asarray(expected)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


# --- the test helper and the lazy imports ------------------------------------------------------------


def test_need_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no_such_package_here"):
        need("no_such_package_here")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="bash dev.sh interop"):
        need("no_such_package_here")


BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked for the test: " + name)
        return None
sys.meta_path.insert(0, Block())
"""


def run_python(code, blocked=()):
    script = textwrap.dedent(BLOCKER.format(blocked=set(blocked))) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_import_needs_numpy_alone_and_interop_says_what_to_install():
    result = run_python(
        """
        import tinygrad_edu
        from tinygrad_edu import interop, nn
        import numpy as np
        for name in ("torch", "onnx", "onnxruntime", "safetensors"):
            assert name not in sys.modules, name
        calls = [lambda: interop.to_torch(nn.Sequential(nn.ReLU())),
                 lambda: interop.export_onnx(nn.Sequential(nn.ReLU()), np.zeros((1, 2)), "x.onnx"),
                 lambda: interop.save_safetensors({}, "x.safetensors")]
        for call in calls:
            try:
                call()
            except ImportError as err:
                assert "pip install" in str(err) and "interop" in str(err), err
                print(str(err).split(" ")[0])
            else:
                raise AssertionError("no ImportError")
        """,
        blocked=OPTIONAL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["to_torch", "export_onnx", "save_safetensors"]


def test_interop_is_there_after_import_tinygrad_edu_as_tg():
    result = run_python(
        """
        import tinygrad_edu as tg
        print(tg.interop.to_torch.__name__, tg.interop.export_onnx.__name__)
        """,
        blocked=OPTIONAL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["to_torch", "export_onnx"]


def test_importing_interop_imports_none_of_the_optional_packages():
    result = run_python(
        """
        import tinygrad_edu.interop
        print(sorted(n for n in ("torch", "onnx", "onnxruntime", "safetensors") if n in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- modules -----------------------------------------------------------------------------------------


def _case_models(dtype):
    """name -> (model, input shape): every supported module, with Linear layers around it for gradients."""
    rng = np.random.RandomState(1)

    def lin(i, o, bias=True):
        return nn.Linear(i, o, bias=bias, rng=rng, dtype=dtype)

    def around(*modules):
        return nn.Sequential(lin(3, 4), *modules, lin(4, 2))

    def bn(**kw):
        return nn.BatchNorm1d(4, dtype=dtype, **kw)

    dropout_eval = nn.Dropout(0.5)
    dropout_eval.eval()
    return {
        "linear": (nn.Sequential(lin(3, 4)), (6, 3)),
        "linear_no_bias": (nn.Sequential(lin(3, 4, bias=False), nn.ReLU(), lin(4, 2)), (6, 3)),
        "relu": (around(nn.ReLU()), (6, 3)),
        "sigmoid": (around(nn.Sigmoid()), (6, 3)),
        "tanh": (around(nn.Tanh()), (6, 3)),
        "leaky_relu": (around(nn.LeakyReLU(0.2)), (6, 3)),
        "softmax": (around(nn.Softmax()), (6, 3)),
        "softmax_axis0": (around(nn.Softmax(axis=0)), (6, 3)),
        "log_softmax": (around(nn.LogSoftmax()), (6, 3)),
        "identity": (around(nn.Identity()), (6, 3)),
        "flatten": (nn.Sequential(nn.Flatten(), lin(6, 4), nn.Tanh(), lin(4, 2)), (5, 2, 3)),
        "dropout_eval": (around(dropout_eval), (6, 3)),
        "dropout_p0": (around(nn.Dropout(0.0)), (6, 3)),
        "batchnorm": (around(bn()), (6, 3)),
        "batchnorm_no_affine": (around(bn(affine=False)), (6, 3)),
        "batchnorm_cumulative": (around(bn(momentum=None)), (6, 3)),
        "batchnorm_no_stats": (around(bn(track_running_stats=False)), (6, 3)),
        "nested": (
            nn.Sequential(lin(3, 4), nn.Sequential(bn(), nn.Tanh(), nn.Sequential(lin(4, 2), nn.Softmax()))),
            (6, 3),
        ),
    }


CASES = sorted(_case_models(F64))
DTYPES = [F64, F32]


def _trained(model, shape, dtype, steps=2):
    """A few training-mode forwards and SGD steps here, so running statistics and weights are not initial."""
    rng = np.random.RandomState(2)
    params = [p for p in model.parameters()]
    opt = optim.SGD(params, lr=0.1) if params else None
    for _ in range(steps):
        out = model(Tensor(rng.randn(*shape).astype(dtype)))
        if opt is not None:
            opt.zero_grad()
            (out * out).sum().backward()
            opt.step()
    return model


def _assert_same_module_tree(a, b):
    assert [type(m).__name__ for m in a.modules()] == [type(m).__name__ for m in b.modules()]
    assert [m.training for m in a.modules()] == [m.training for m in b.modules()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_round_trip_ours_torch_ours_is_bitwise(case, dtype, torch):
    model, shape = _case_models(dtype)[case]
    _trained(model, shape, dtype)
    model[-1].eval()  # a mix of modes, each kept
    theirs = interop.to_torch(model)
    assert isinstance(theirs, torch.nn.Module)
    ours = model.state_dict()
    torch_state = theirs.state_dict()
    assert list(torch_state) == list(ours)  # the same names, in the same order
    for name, value in ours.items():
        t = torch_state[name].numpy()
        assert t.dtype == value.dtype and np.array_equal(t, value), name
    assert [m.training for m in theirs.modules()] == [m.training for m in model.modules()]
    back = interop.from_torch(theirs)
    _assert_same_module_tree(back, model)
    for name, value in back.state_dict().items():
        assert value.dtype == ours[name].dtype and np.array_equal(value, ours[name]), name
    assert list(back.state_dict()) == list(ours)


def _torch_models(torch, dtype):
    tnn = torch.nn
    kw = {"dtype": torch.float64 if dtype == F64 else torch.float32}
    first = tnn.Sequential(
        tnn.Linear(3, 4, **kw), tnn.BatchNorm1d(4, **kw), tnn.LeakyReLU(0.2),
        tnn.Sequential(tnn.Linear(4, 4, bias=False, **kw), tnn.Tanh()), tnn.Dropout(0.3),
        tnn.Sigmoid(), tnn.Identity(), tnn.Linear(4, 3, **kw), tnn.Softmax(dim=1),
    )
    second = tnn.Sequential(
        tnn.Flatten(), tnn.Linear(6, 4, **kw), tnn.ReLU(),
        tnn.BatchNorm1d(4, momentum=None, affine=False, **kw), tnn.Linear(4, 3, **kw), tnn.LogSoftmax(dim=-1),
    )
    with torch.no_grad():
        first.train()(torch.randn(8, 3, **kw))
        second.train()(torch.randn(8, 2, 3, **kw))
    first[4].eval()
    return [first, second]


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_torch_ours_torch_is_bitwise(dtype, torch):
    for model in _torch_models(torch, dtype):
        ours = interop.from_torch(model)
        for name, t in model.state_dict().items():
            mine = ours.state_dict()[name]
            assert mine.dtype == t.numpy().dtype and np.array_equal(mine, t.numpy()), name
        back = interop.to_torch(ours)
        assert [type(m) for m in back.modules()] == [type(m) for m in model.modules()]
        assert [m.training for m in back.modules()] == [m.training for m in model.modules()]
        expected = model.state_dict()
        got = back.state_dict()
        assert list(got) == list(expected)
        for name in expected:
            assert got[name].dtype == expected[name].dtype and torch.equal(got[name], expected[name]), name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_outputs_gradients_and_statistics_agree_with_torch(case, dtype, torch):
    model, shape = _case_models(dtype)[case]
    model.train()
    for m in model.modules():
        if type(m) is nn.Dropout and m.p > 0:
            m.eval()
    theirs = interop.to_torch(model)
    rng = np.random.RandomState(5)
    x = rng.randn(*shape).astype(dtype)
    out = model(Tensor(x))
    weights = rng.randn(*out.shape).astype(dtype)
    (out * Tensor(weights)).sum().backward()
    t_out = theirs(torch.tensor(x))
    (t_out * torch.tensor(weights)).sum().backward()
    close(out.data, t_out.detach().numpy(), dtype, "output")
    torch_params = dict(theirs.named_parameters())
    assert set(torch_params) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        close(p.grad.data, torch_params[name].grad.numpy(), dtype, f"gradient of {name}")
    torch_buffers = dict(theirs.named_buffers())
    for name, b in model.named_buffers():
        close(b.data, torch_buffers[name].numpy(), dtype, f"buffer {name}")


def test_train_and_eval_modes_are_kept_per_module(torch):
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.5)))
    model[1][1].eval()
    theirs = interop.to_torch(model)
    assert [m.training for m in theirs.modules()] == [True, True, True, True, False]
    theirs.eval()
    assert not any(m.training for m in interop.from_torch(theirs).modules())


def test_the_two_models_share_no_memory(torch):
    model = course_network()
    theirs = interop.to_torch(model)
    before = model[0].weight.data.copy()
    with torch.no_grad():
        theirs[0].weight.add_(1.0)
    assert np.array_equal(model[0].weight.data, before)
    back = interop.from_torch(theirs)
    back[0].weight.data[...] = 0
    assert float(theirs[0].weight.detach().abs().min()) > 0


def test_requires_grad_is_kept(torch):
    model = course_network()
    model[0].weight.requires_grad = False
    theirs = interop.to_torch(model)
    assert not theirs[0].weight.requires_grad and theirs[0].bias.requires_grad
    assert not interop.from_torch(theirs)[0].weight.requires_grad


def test_to_torch_does_not_use_torch_random_numbers(torch):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    interop.to_torch(course_network())
    assert torch.equal(torch.rand(3), expected)


class Doubler(nn.Module):
    def forward(self, x):
        return x * 2


def test_a_module_that_does_not_convert_is_named(torch):
    with pytest.raises(TypeError, match=r"Doubler at '1'.*Linear.*BatchNorm1d"):
        interop.to_torch(nn.Sequential(nn.Linear(2, 2), Doubler()))
    with pytest.raises(TypeError, match=r"ModuleList"):
        interop.to_torch(nn.ModuleList([nn.Linear(2, 2)]))
    with pytest.raises(TypeError, match=r"Conv1d at '0'.*supported|Conv1d at '0'.*Linear"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="dim=None"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Softmax()))
    with pytest.raises(ValueError, match="start_dim"):
        interop.from_torch(torch.nn.Flatten(start_dim=2))
    with pytest.raises(TypeError, match="float16"):
        interop.from_torch(torch.nn.Linear(2, 2).half())
    with pytest.raises(TypeError, match="expected a tinygrad_edu nn.Module"):
        interop.to_torch(torch.nn.Linear(2, 2))


def _linear_relu_network(dtype=F64):
    rng = np.random.RandomState(8)
    return nn.Sequential(nn.LinearReLU(2, 3, rng=rng, dtype=dtype), nn.Linear(3, 1, rng=rng, dtype=dtype))


def _torch_linear_relu_network(torch, model):
    """The same network written in PyTorch by hand, with the model's weights."""
    tnn = torch.nn
    kind = torch.float64 if model[0].weight.dtype == F64 else torch.float32
    theirs = tnn.Sequential(tnn.Linear(2, 3, dtype=kind), tnn.ReLU(), tnn.Linear(3, 1, dtype=kind))
    with torch.no_grad():
        for i, j in ((0, 0), (2, 1)):
            theirs[i].weight.copy_(torch.tensor(model[j].weight.data))
            theirs[i].bias.copy_(torch.tensor(model[j].bias.data))
    return theirs


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_relu_becomes_a_linear_and_a_relu_with_the_same_names(dtype, torch):
    model = _linear_relu_network(dtype)
    theirs = interop.to_torch(model)
    assert [type(m).__name__ for m in theirs.children()] == ["Linear", "ReLU", "Linear"]
    names = ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(theirs.state_dict()) == names == list(model.state_dict())
    x = np.random.RandomState(0).randn(6, 2).astype(dtype)
    x[0] = -10.0  # a row where every unit of the first layer is off
    by_hand = _torch_linear_relu_network(torch, model)
    t_out = by_hand(torch.tensor(x))
    t_out.sum().backward()
    out = theirs(torch.tensor(x))
    out.sum().backward()
    assert torch.equal(out, t_out)
    for (name, p), q in zip(theirs.named_parameters(), by_hand.parameters()):
        assert torch.equal(p.grad, q.grad), name
    mine = model(Tensor(x))
    mine.sum().backward()
    close(mine.data, t_out.detach().numpy(), dtype, "output")
    close(model[0].weight.grad.data, by_hand[0].weight.grad.numpy(), dtype, "gradient of 0.weight")
    back = interop.from_torch(theirs)  # back as the Linear and the ReLU PyTorch holds
    assert [type(m).__name__ for m in back.children()] == ["Linear", "ReLU", "Linear"]
    for name, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[name], value), name


def test_linear_relu_keeps_its_optimizer_and_its_sharing(torch):
    model = _linear_relu_network()
    opt = optim.Adam(list(model.parameters()), lr=0.01)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)  # matched by name: the names are the same
    assert torch_opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    shared = nn.LinearReLU(3, 3, dtype=F64)
    twice = interop.to_torch(nn.Sequential(shared, nn.Tanh(), shared))
    assert [type(m).__name__ for m in twice] == ["Linear", "ReLU", "Tanh", "Linear", "ReLU"]
    assert twice[0] is twice[3]  # one Linear, so the weights stay shared


def _lone_linear_relu(dtype=F64, bias=True):
    """A LinearReLU(3, 4) on its own, with a bias that is not zeros."""
    model = nn.LinearReLU(3, 4, bias=bias, rng=np.random.RandomState(6), dtype=dtype)
    if bias:
        model.bias.data[...] = np.random.RandomState(7).randn(4)
    return model


def _torch_linear_then_relu(torch, model):
    """torch.nn.Sequential(Linear, ReLU) written by hand, with the LinearReLU's weights."""
    kind = torch.float64 if model.weight.dtype == F64 else torch.float32
    linear = torch.nn.Linear(model.in_features, model.out_features, bias=model.bias is not None, dtype=kind)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(model.weight.data))
        if model.bias is not None:
            linear.bias.copy_(torch.tensor(model.bias.data))
    return torch.nn.Sequential(linear, torch.nn.ReLU())


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_linear_relu_alone_becomes_linear_then_relu_with_the_same_values_and_gradients(dtype, bias, torch):
    model = _lone_linear_relu(dtype, bias)
    theirs = interop.to_torch(model)
    assert type(theirs) is torch.nn.Sequential
    assert [type(m) for m in theirs] == [torch.nn.Linear, torch.nn.ReLU]
    assert list(theirs.state_dict()) == ["0.weight", "0.bias"][: 1 + bias]
    rng = np.random.RandomState(0)
    x, upstream = rng.randn(8, 3).astype(dtype), rng.randn(8, 4).astype(dtype)
    by_hand = _torch_linear_then_relu(torch, model)
    tx = torch.tensor(x, requires_grad=True)
    t_out = by_hand(tx)
    (t_out * torch.tensor(upstream)).sum().backward()
    expected = t_out.detach().numpy()
    assert (expected == 0).any() and (expected > 0).any()  # the ReLU cuts some units and passes others
    cx = torch.tensor(x, requires_grad=True)
    out = theirs(cx)
    (out * torch.tensor(upstream)).sum().backward()
    assert torch.equal(out, t_out) and torch.equal(cx.grad, tx.grad)
    for (name, p), q in zip(theirs.named_parameters(), by_hand.parameters()):
        assert torch.equal(p.grad, q.grad), name
    ours_x = Tensor(x, requires_grad=True)
    mine = model(ours_x)
    (mine * Tensor(upstream)).sum().backward()
    close(mine.data, expected, dtype, "output")
    close(ours_x.grad.data, tx.grad.numpy(), dtype, "gradient of x")
    for name, p in model.named_parameters():
        close(p.grad.data, getattr(by_hand[0], name).grad.numpy(), dtype, f"gradient of {name}")


def test_a_linear_relu_alone_comes_back_and_its_state_dict_maps_to_the_linear(torch):
    model = _lone_linear_relu()
    model.eval()
    theirs = interop.to_torch(model)
    assert not any(m.training for m in theirs.modules())
    back = interop.from_torch(theirs)  # what PyTorch holds: a Sequential of a Linear and a ReLU
    assert [type(m) for m in back] == [nn.Linear, nn.ReLU] and not back.training
    assert list(back.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias"]
    x = np.random.RandomState(1).randn(5, 3)
    expected = _torch_linear_then_relu(torch, model)(torch.tensor(x)).detach().numpy()
    close(back(Tensor(x)).data, expected, F64, "output")  # (BLAS libraries may round differently)
    # the LinearReLU's own names are those of the torch Linear, theirs[0]
    other = _lone_linear_relu()
    other.weight.data[...] = 0.0
    other.load_state_dict({name: t.numpy() for name, t in theirs[0].state_dict().items()})
    assert np.array_equal(other.weight.data, model.weight.data)
    fresh = interop.to_torch(nn.LinearReLU(3, 4, dtype=F64))
    fresh[0].load_state_dict({name: torch.tensor(a) for name, a in model.state_dict().items()})
    assert torch.equal(fresh[0].bias, theirs[0].bias)


def _linear_relu_batches():
    rng = np.random.RandomState(3)
    X, Y = rng.randn(16, 3), np.abs(rng.randn(16, 4))
    return [(X[:8], Y[:8]), (X[8:], Y[8:])]


def test_a_linear_relu_alone_keeps_its_optimizer_there_and_back(torch):
    batches = _linear_relu_batches()
    reference = _lone_linear_relu()
    _mse_steps_here(reference, optim.Adam(list(reference.parameters()), lr=0.05), 6, batches)
    model = _lone_linear_relu()
    opt = optim.Adam(list(model.parameters()), lr=0.05)
    _mse_steps_here(model, opt, 2, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    assert torch_opt.param_groups[0]["param_names"] == ["0.weight", "0.bias"]
    assert torch_opt.param_groups[0]["params"][0] is theirs[0].weight
    _mse_steps_torch(torch, theirs, torch_opt, 2, batches, offset=2)
    back = interop.from_torch(theirs)
    _mse_steps_here(back, interop.optimizer_from_torch(torch_opt, back), 2, batches, offset=4)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(
            getattr(back[0], name).data, getattr(reference, name).data, rtol=1e-10, atol=1e-10
        )
    X = np.concatenate([b[0] for b in batches])
    Y = np.concatenate([b[1] for b in batches])
    fresh = _lone_linear_relu()
    report = interop.compare_with_torch(
        fresh, nn.MSELoss(), optim.Adam(list(fresh.parameters()), lr=0.05), X, Y, steps=3, verbose=False
    )
    assert report.passed(1e-12)


def test_from_torch_refuses_batch_norm_without_bias_naming_it(torch):
    with pytest.raises(ValueError, match=r"BatchNorm1d at '1' has bias=False.*affine=True.*affine=False"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2, bias=False)))


def _shared_network():
    """Linear(3, 3) used twice (its weights in two places), then a head."""
    rng = np.random.RandomState(0)
    lin = nn.Linear(3, 3, rng=rng, dtype=F64)
    return nn.Sequential(lin, nn.Tanh(), lin, nn.Tanh(), nn.Linear(3, 1, rng=rng, dtype=F64))


def _regression_batches():
    rng = np.random.RandomState(1)
    X, Y = rng.randn(16, 3), rng.randn(16, 1)
    return [(X[:8], Y[:8]), (X[8:], Y[8:])]


def _mse_steps_here(model, opt, n, batches, offset=0):
    for k in range(n):
        X, Y = batches[(offset + k) % len(batches)]
        opt.zero_grad()
        nn.MSELoss()(model(Tensor(X)), Y).backward()
        opt.step()


def _mse_steps_torch(torch, model, opt, n, batches, offset=0):
    for k in range(n):
        X, Y = batches[(offset + k) % len(batches)]
        opt.zero_grad()
        torch.nn.MSELoss()(model(torch.tensor(X)), torch.tensor(Y)).backward()
        opt.step()


def test_a_module_used_twice_stays_one_module_both_ways(torch):
    model = _shared_network()
    theirs = interop.to_torch(model)
    assert theirs[0] is theirs[2]
    names = ["0.weight", "0.bias", "4.weight", "4.bias"]
    assert [n for n, _ in theirs.named_parameters()] == [n for n, _ in model.named_parameters()] == names
    back = interop.from_torch(theirs)
    assert len(back) == 5 and back[0] is back[2]
    x = np.random.RandomState(2).randn(4, 3)
    assert np.array_equal(back(Tensor(x)).data, model(Tensor(x)).data)
    lin = torch.nn.Linear(3, 3).double()
    native = interop.from_torch(torch.nn.Sequential(lin, torch.nn.Tanh(), lin))  # torch's own sharing
    assert len(native) == 3 and native[0] is native[2]


def test_training_a_shared_module_continues_identically_in_torch_and_back(torch):
    batches = _regression_batches()
    reference = _shared_network()
    ref_opt = optim.Adam(list(reference.parameters()), lr=0.05)
    _mse_steps_here(reference, ref_opt, 6, batches)
    model = _shared_network()
    opt = optim.Adam(list(model.parameters()), lr=0.05)
    _mse_steps_here(model, opt, 2, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    _mse_steps_torch(torch, theirs, torch_opt, 2, batches, offset=2)
    back = interop.from_torch(theirs)
    back_opt = interop.optimizer_from_torch(torch_opt, back)
    _mse_steps_here(back, back_opt, 2, batches, offset=4)
    assert back[0] is back[2]
    _assert_weights(reference, interop.to_torch(back))


TIES = ["module", "weight"]  # the same Linear twice, or two Linears whose weight is one Parameter


def _tied_network(tie, seed=4):
    """Linear(4, 4) applied twice with one weight, tied by ``tie``, then a head; biases not zeros."""
    rng = np.random.RandomState(seed)
    first = nn.Linear(4, 4, rng=rng, dtype=F64)
    first.bias.data[...] = rng.randn(4)
    second = first
    if tie == "weight":
        second = nn.Linear(4, 4, rng=rng, dtype=F64)
        second.bias.data[...] = rng.randn(4)
        second.weight = first.weight
    return nn.Sequential(first, nn.ReLU(), second, nn.Tanh(), nn.Linear(4, 1, rng=rng, dtype=F64))


def _torch_tied_network(torch, model, tie):
    """The same network written in PyTorch by hand, tied as PyTorch ties, with the model's weights."""

    def linear(ours):
        t = torch.nn.Linear(ours.in_features, ours.out_features, dtype=torch.float64)
        with torch.no_grad():
            t.weight.copy_(torch.tensor(ours.weight.data))
            t.bias.copy_(torch.tensor(ours.bias.data))
        return t

    first = linear(model[0])
    second = first
    if tie == "weight":
        second = linear(model[2])
        second.weight = first.weight
    return torch.nn.Sequential(first, torch.nn.ReLU(), second, torch.nn.Tanh(), linear(model[4]))


def _tied_batches():
    rng = np.random.RandomState(5)
    X, Y = rng.randn(16, 4), rng.randn(16, 1)
    return [(X[:8], Y[:8]), (X[8:], Y[8:])]


@pytest.mark.parametrize("tie", TIES)
def test_tied_weights_stay_one_torch_parameter_and_train_as_in_pytorch(tie, torch):
    model = _tied_network(tie)
    theirs = interop.to_torch(model)
    by_hand = _torch_tied_network(torch, model, tie)
    assert theirs[0].weight is theirs[2].weight
    assert (theirs[0].bias is theirs[2].bias) == (tie == "module")
    assert len(list(theirs.parameters())) == len(list(by_hand.parameters())) == (4 if tie == "module" else 5)
    names = [name for name, _ in by_hand.named_parameters()]  # PyTorch lists a tied parameter once
    assert [n for n, _ in theirs.named_parameters()] == names == [n for n, _ in model.named_parameters()]
    assert list(theirs.state_dict()) == list(by_hand.state_dict()) == list(model.state_dict())
    batches = _tied_batches()
    before = model[0].weight.data.copy()
    _mse_steps_here(model, optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9), 4, batches)
    for torch_model in (theirs, by_hand):
        torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
        _mse_steps_torch(torch, torch_model, torch_opt, 4, batches)
    assert not np.allclose(model[0].weight.data, before)  # the steps moved the tied weight
    assert theirs[0].weight is theirs[2].weight
    _assert_weights(model, by_hand, tol=1e-12)
    _assert_weights(interop.from_torch(theirs), by_hand, tol=1e-12)


@pytest.mark.parametrize("tie", TIES)
def test_from_torch_keeps_weights_tied_in_pytorch(tie, torch):
    by_hand = _torch_tied_network(torch, _tied_network(tie), tie)
    back = interop.from_torch(by_hand)
    assert back[0].weight is back[2].weight
    assert (back[0].bias is back[2].bias) == (tie == "module")
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in by_hand.named_parameters()]
    again = interop.from_torch(interop.to_torch(_tied_network(tie)))
    assert again[0].weight is again[2].weight
    batches = _tied_batches()
    _mse_steps_here(back, optim.SGD(list(back.parameters()), lr=0.1), 3, batches)
    _mse_steps_torch(torch, by_hand, torch.optim.SGD(by_hand.parameters(), lr=0.1), 3, batches)
    _assert_weights(back, by_hand, tol=1e-12)


def test_an_optimizer_of_tied_weights_continues_in_torch_and_back(torch):
    batches = _tied_batches()
    reference = _tied_network("weight")
    _mse_steps_here(reference, optim.Adam(list(reference.parameters()), lr=0.05), 6, batches)
    model = _tied_network("weight")
    opt = optim.Adam(list(model.parameters()), lr=0.05)
    _mse_steps_here(model, opt, 2, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    params = torch_opt.param_groups[0]["params"]
    assert len(params) == 5 and params[0] is theirs[2].weight
    _mse_steps_torch(torch, theirs, torch_opt, 2, batches, offset=2)
    back = interop.from_torch(theirs)
    _mse_steps_here(back, interop.optimizer_from_torch(torch_opt, back), 2, batches, offset=4)
    assert back[0].weight is back[2].weight
    _assert_weights(reference, interop.to_torch(back))


def test_from_torch_refuses_a_buffer_that_two_modules_hold(torch):
    first, second = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    second.running_mean = first.running_mean
    with pytest.raises(ValueError, match=r"buffer '1\.running_mean' is the same tensor as '0\.running_mean'"):
        interop.from_torch(torch.nn.Sequential(first, second))
    once = torch.nn.BatchNorm1d(2).double()
    back = interop.from_torch(torch.nn.Sequential(once, once))  # one module used twice converts
    assert back[0] is back[1]


def test_a_converted_module_pickles_and_torch_saves(torch, tmp_path):
    model = course_network()
    theirs = interop.to_torch(model)
    path = tmp_path / "model.pt"
    torch.save(theirs, path)
    copies = [torch.load(path, weights_only=False), pickle.loads(pickle.dumps(theirs))]
    buffer = io.BytesIO()
    torch.save(interop.to_torch(_bn_dropout_network(F64)), buffer)  # BatchNorm1d's buffers too
    buffer.seek(0)
    assert isinstance(torch.load(buffer, weights_only=False), torch.nn.Sequential)
    x = torch.tensor(moons()[0][:5])
    for copy in copies:
        assert torch.equal(copy(x), theirs(x))
        _assert_weights(interop.from_torch(copy), theirs, tol=0)
    opt = optim.Adam(list(model.parameters()), lr=0.01)  # the original still matches by name
    assert interop.optimizer_to_torch(opt, theirs).param_groups[0]["params"][0] is theirs[0].weight


# --- optimizers --------------------------------------------------------------------------------------

OPTIMIZERS = {  # name -> (ours, PyTorch's with the same options)
    "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda tp, to: to.SGD(tp, lr=0.1)),
    "sgd_momentum_dampening_decay": (
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
        lambda tp, to: to.SGD(tp, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    ),
    "sgd_nesterov": (
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda tp, to: to.SGD(tp, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    ),
    "adagrad": (
        lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
        lambda tp, to: to.Adagrad(tp, 0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    ),
    "rmsprop": (lambda p: optim.RMSprop(p, lr=0.01), lambda tp, to: to.RMSprop(tp, lr=0.01)),
    "rmsprop_centered_momentum": (
        lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.9, weight_decay=0.01),
        lambda tp, to: to.RMSprop(tp, lr=0.01, centered=True, momentum=0.9, weight_decay=0.01),
    ),
    "adam": (lambda p: optim.Adam(p, lr=0.01), lambda tp, to: to.Adam(tp, lr=0.01)),
    "adam_amsgrad_decay": (
        lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01, betas=(0.8, 0.99)),
        lambda tp, to: to.Adam(tp, lr=0.01, amsgrad=True, weight_decay=0.01, betas=(0.8, 0.99)),
    ),
    "adamw": (lambda p: optim.AdamW(p, lr=0.01), lambda tp, to: to.AdamW(tp, lr=0.01)),
    "adamw_amsgrad": (
        lambda p: optim.AdamW(p, lr=0.01, amsgrad=True, weight_decay=0.1),
        lambda tp, to: to.AdamW(tp, lr=0.01, amsgrad=True, weight_decay=0.1),
    ),
}


def _steps_here(model, opt, n, batches):
    loss_fn = nn.BCELoss()
    for k in range(n):
        X, Y = batches[k % len(batches)]
        opt.zero_grad()
        loss_fn(model(Tensor(X)), Y).backward()
        opt.step()


def _steps_torch(torch, model, opt, n, batches, offset=0, scheduler=None):
    loss_fn = torch.nn.BCELoss()
    for k in range(n):
        X, Y = batches[(offset + k) % len(batches)]
        opt.zero_grad()
        loss_fn(model(torch.tensor(X)), torch.tensor(Y)).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def _moons_batches():
    X, Y = moons()
    return [(X[i : i + 64], Y[i : i + 64]) for i in range(0, 300, 64)]


def _batches_from(batches, start):
    return batches[start % len(batches) :] + batches[: start % len(batches)]


def _assert_weights(ours, theirs, tol=1e-10):
    t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.data, t[name].detach().numpy(), rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_twenty_steps_here_then_twenty_in_torch_equal_forty_here(name, torch):
    make, _ = OPTIMIZERS[name]
    batches = _moons_batches()
    reference = course_network()
    ref_opt = make(list(reference.parameters()))
    _steps_here(reference, ref_opt, 40, batches)
    model = course_network()
    opt = make(list(model.parameters()))
    _steps_here(model, opt, 20, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    assert type(torch_opt).__name__ == type(opt).__name__
    _steps_torch(torch, theirs, torch_opt, 20, batches, offset=20)
    _assert_weights(reference, theirs)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_twenty_steps_in_torch_then_twenty_here_equal_forty_in_torch(name, torch):
    _, make_torch = OPTIMIZERS[name]
    batches = _moons_batches()
    reference = interop.to_torch(course_network())
    _steps_torch(torch, reference, make_torch(reference.parameters(), torch.optim), 40, batches)
    theirs = interop.to_torch(course_network())
    torch_opt = make_torch(theirs.parameters(), torch.optim)
    _steps_torch(torch, theirs, torch_opt, 20, batches)
    model = interop.from_torch(theirs)
    opt = interop.optimizer_from_torch(torch_opt, model)
    _steps_here(model, opt, 20, _batches_from(batches, 20))
    _assert_weights(model, reference)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_options_buffers_and_step_counts_are_carried_exactly(name, torch):
    make, _ = OPTIMIZERS[name]
    model = course_network()
    opt = make(list(model.parameters()))
    _steps_here(model, opt, 3, _moons_batches())
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    ours_group, torch_group = opt.param_groups[0], torch_opt.param_groups[0]
    for key in ours_group:
        if key not in ("params", "eps_mode"):
            assert torch_group[key] == ours_group[key], key
    torch_params = dict(theirs.named_parameters())
    for pname, p in model.named_parameters():
        ours_state, torch_state = opt.state[p], torch_opt.state[torch_params[pname]]
        for key, value in ours_state.items():
            if key == "step":
                if name.startswith("sgd"):
                    assert "step" not in torch_state  # PyTorch's SGD counts no steps
                else:
                    assert float(torch_state["step"]) == value == 3
            elif value is None:
                assert key not in torch_state
            else:
                assert np.array_equal(torch_state[key].numpy(), value), (pname, key)
    back = interop.optimizer_from_torch(torch_opt, interop.from_torch(theirs))
    assert type(back) is type(opt)
    for key in ours_group:
        if key != "params":
            assert back.param_groups[0][key] == ours_group[key], key


def test_parameter_groups_are_matched_by_name(torch):
    model = course_network()
    last = [model[4].weight, model[4].bias]
    first = [model[0].weight, model[0].bias, model[2].weight, model[2].bias]
    opt = optim.Adam([{"params": last, "lr": 0.1}, {"params": first}], lr=0.01)
    _steps_here(model, opt, 2, _moons_batches())
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    assert torch_opt.param_groups[0]["params"][0] is theirs[4].weight
    assert [g["lr"] for g in torch_opt.param_groups] == [0.1, 0.01]
    expected = opt.state[model[4].bias]["exp_avg"]
    assert np.array_equal(torch_opt.state[theirs[4].bias]["exp_avg"].numpy(), expected)


def test_position_matching_for_a_module_not_made_by_to_torch(torch):
    model = course_network()
    opt = optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9)
    _steps_here(model, opt, 1, _moons_batches())
    native = torch.nn.Sequential(
        torch.nn.Linear(2, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1)
    ).double()
    torch_opt = interop.optimizer_to_torch(opt, native)
    assert np.array_equal(torch_opt.state[native[2].weight]["momentum_buffer"].numpy(),
                          opt.state[model[2].weight]["momentum_buffer"])
    wrong = torch.nn.Sequential(torch.nn.Linear(2, 3)).double()
    with pytest.raises(ValueError, match="by position"):
        interop.optimizer_to_torch(opt, wrong)


def test_a_torch_optimizer_built_from_named_parameters_is_matched_by_name(torch):
    theirs = interop.to_torch(course_network())
    named = list(theirs.named_parameters())
    torch_opt = torch.optim.Adam([{"params": named[4:]}, {"params": named[:4], "lr": 0.1}], lr=0.01)
    _steps_torch(torch, theirs, torch_opt, 2, _moons_batches())
    model = interop.from_torch(theirs)
    opt = interop.optimizer_from_torch(torch_opt, model)
    assert opt.param_groups[0]["params"][0] is model[4].weight
    assert opt.param_groups[1]["lr"] == 0.1
    assert np.array_equal(opt.state[model[0].weight]["exp_avg_sq"],
                          torch_opt.state[theirs[0].weight]["exp_avg_sq"].numpy())


def test_adagrad_initial_accumulator_value_holds_from_the_first_step(torch):
    def make(model):
        p = list(model.parameters())
        groups = [{"params": p[:2], "initial_accumulator_value": 2.0}, {"params": p[2:]}]
        return optim.Adagrad(groups, lr=0.1, initial_accumulator_value=0.5)

    batches = _moons_batches()
    reference = course_network()
    _steps_here(reference, make(reference), 3, batches)
    model = course_network()
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(make(model), theirs)  # no state yet
    assert np.all(torch_opt.state[theirs[0].weight]["sum"].numpy() == 2.0)
    assert np.all(torch_opt.state[theirs[2].weight]["sum"].numpy() == 0.5)
    _steps_torch(torch, theirs, torch_opt, 3, batches)
    _assert_weights(reference, theirs)
    X, Y = moons()
    fresh = course_network()
    report = interop.compare_with_torch(fresh, nn.BCELoss(), make(fresh), X, Y, steps=3, verbose=False)
    assert report.max_diff < 1e-12


def _square_network():
    """Two layers whose parameters have the same shapes, so that position matching cannot notice a swap."""
    rng = np.random.RandomState(0)
    return nn.Sequential(nn.Linear(3, 3, rng=rng, dtype=F64), nn.Tanh(), nn.Linear(3, 3, rng=rng, dtype=F64),
                         nn.Tanh(), nn.Linear(3, 1, rng=rng, dtype=F64))


def test_a_round_trip_keeps_groups_whose_order_differs_from_the_model(torch):
    model = _square_network()
    p = list(model.parameters())
    opt = optim.SGD([{"params": p[2:4], "lr": 0.5}, {"params": p[:2] + p[4:], "lr": 0.001}],
                    lr=0.1, momentum=0.9)
    _mse_steps_here(model, opt, 1, _regression_batches())
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    assert torch_opt.param_groups[0]["param_names"] == ["2.weight", "2.bias"]
    back = interop.from_torch(theirs)
    fresh = _square_network()  # not made by from_torch: matched by param_names
    for target in (back, fresh):
        ours = interop.optimizer_from_torch(torch_opt, target)
        assert [id(p) for p in ours.param_groups[0]["params"]] == [id(target[2].weight), id(target[2].bias)]
        assert ours.param_groups[0]["lr"] == 0.5
        expected = opt.state[model[2].weight]["momentum_buffer"]
        assert np.array_equal(ours.state[target[2].weight]["momentum_buffer"], expected)


def test_an_older_torch_without_named_groups_still_converts(torch, monkeypatch):
    original = torch.optim.Optimizer.add_param_group

    def tensors_only(self, group):  # what PyTorch before 2.6 does with (name, tensor) pairs
        if any(isinstance(p, tuple) for p in group["params"]):
            raise TypeError("optimizer can only optimize Tensors, but one of the params is tuple")
        return original(self, group)

    monkeypatch.setattr(torch.optim.Optimizer, "add_param_group", tensors_only)
    model = course_network()
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(optim.Adam(list(model.parameters())), theirs)
    assert "param_names" not in torch_opt.param_groups[0]
    assert [id(p) for p in torch_opt.param_groups[0]["params"]] == [id(p) for p in theirs.parameters()]


def test_a_round_trip_with_a_frozen_parameter_left_out_of_the_optimizer(torch):
    def make():
        model = course_network()
        model[0].weight.requires_grad = False
        return model, optim.Adam([q for q in model.parameters() if q.requires_grad], lr=0.01)

    batches = _moons_batches()
    reference, ref_opt = make()
    _steps_here(reference, ref_opt, 6, batches)
    model, opt = make()
    _steps_here(model, opt, 2, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs)
    _steps_torch(torch, theirs, torch_opt, 2, batches, offset=2)
    back = interop.from_torch(theirs)
    back_opt = interop.optimizer_from_torch(torch_opt, back)
    expected = [id(q) for n, q in back.named_parameters() if n != "0.weight"]
    assert [id(q) for q in back_opt.param_groups[0]["params"]] == expected
    _steps_here(back, back_opt, 2, _batches_from(batches, 4))
    _assert_weights(reference, interop.to_torch(back))


def test_options_without_a_pytorch_equivalent_say_what_to_use(torch):
    model = course_network()
    theirs = interop.to_torch(model)
    params = list(model.parameters())
    suggestion = r"Momentum.*optim\.SGD\(params, lr=lr \* \(1 - beta\), momentum=beta\)"
    with pytest.raises(ValueError, match=suggestion):
        interop.optimizer_to_torch(optim.Momentum(params, lr=0.1), theirs)
    for opt in (optim.Adam(params, eps_mode="inside"), optim.Adam(params, eps_mode="hat"),
                optim.AdamW(params, eps_mode="inside"), optim.RMSprop(params, eps_mode="inside"),
                optim.Adagrad(params, eps_mode="inside")):
        with pytest.raises(ValueError, match=r"eps_mode=.*no option.*eps_mode='outside'"):
            interop.optimizer_to_torch(opt, theirs)
    schedule = schedules.ExponentialDecay(0.01, 10, 0.5)
    with pytest.raises(ValueError, match=r"schedule.*allow_schedule=True.*scheduler_to_torch"):
        interop.optimizer_to_torch(optim.Adam(params, lr=schedule), theirs)
    with pytest.raises(TypeError, match=r"LBFGS.*SGD, Adagrad, RMSprop, Adam, AdamW"):
        interop.optimizer_from_torch(torch.optim.LBFGS(theirs.parameters()), model)
    with pytest.raises(ValueError, match="maximize=True"):
        interop.optimizer_from_torch(torch.optim.SGD(theirs.parameters(), lr=0.1, maximize=True), model)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.02, 3, 0.5),
        schedules.InverseTimeDecay(0.02, 2, 0.5, staircase=True),
        schedules.CosineDecay(0.02, 8, alpha=0.1),
        schedules.PiecewiseConstantDecay([3, 6], [0.02, 0.01, 0.005]),
    ],
    ids=lambda s: type(s).__name__,
)
def test_a_schedule_continues_as_a_lambda_lr(schedule, torch):
    batches = _moons_batches()
    reference = course_network()
    ref_opt = optim.Adam(list(reference.parameters()), lr=schedule)
    _steps_here(reference, ref_opt, 10, batches)
    model = course_network()
    opt = optim.Adam(list(model.parameters()), lr=schedule)
    _steps_here(model, opt, 5, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs, allow_schedule=True)
    scheduler = interop.scheduler_to_torch(opt, torch_opt)
    seen = []
    for k in range(5):
        seen.append(torch_opt.param_groups[0]["lr"])
        _steps_torch(torch, theirs, torch_opt, 1, batches, offset=5 + k, scheduler=scheduler)
    assert seen == [schedule(5 + k) for k in range(5)]  # the same numbers, bit for bit
    _assert_weights(reference, theirs)


SCHEDULED = {
    "adam": lambda p, lr: optim.Adam(p, lr=lr),
    "sgd_momentum": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),  # PyTorch's SGD counts no steps
}


@pytest.mark.parametrize("name", sorted(SCHEDULED))
def test_a_schedule_comes_back_from_torch_with_its_scheduler(name, torch):
    schedule = schedules.ExponentialDecay(0.05, 3, 0.5)
    batches = _moons_batches()
    reference = course_network()
    ref_opt = SCHEDULED[name](list(reference.parameters()), schedule)
    _steps_here(reference, ref_opt, 15, batches)
    model = course_network()
    opt = SCHEDULED[name](list(model.parameters()), schedule)
    _steps_here(model, opt, 5, batches)
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs, allow_schedule=True)
    scheduler = interop.scheduler_to_torch(opt, torch_opt)
    _steps_torch(torch, theirs, torch_opt, 3, batches, offset=5, scheduler=scheduler)
    back = interop.from_torch(theirs)
    back_opt = interop.optimizer_from_torch(torch_opt, back, scheduler=scheduler)
    assert repr(back_opt.param_groups[0]["lr"]) == repr(schedule) and back_opt.step_count == 8
    _steps_here(back, back_opt, 7, _batches_from(batches, 8))
    assert back_opt.last_lr == [schedule(14)]  # the lr of step 14, not a constant from step 8
    _assert_weights(reference, interop.to_torch(back))


def test_a_schedule_left_behind_in_torch_is_said(torch):
    model = course_network()
    schedule = schedules.ExponentialDecay(0.05, 3, 0.5)
    opt = optim.Adam(list(model.parameters()), lr=schedule)
    _steps_here(model, opt, 5, _moons_batches())
    theirs = interop.to_torch(model)
    torch_opt = interop.optimizer_to_torch(opt, theirs, allow_schedule=True)
    scheduler = interop.scheduler_to_torch(opt, torch_opt)
    with pytest.warns(UserWarning, match=r"constant lr, without the schedule.*scheduler="):
        back_opt = interop.optimizer_from_torch(torch_opt, interop.from_torch(theirs))
    assert back_opt.param_groups[0]["lr"] == torch_opt.param_groups[0]["lr"] == schedule(5)
    with pytest.warns(UserWarning, match="without the schedule"):  # no scheduler made: still said
        interop.optimizer_from_torch(
            interop.optimizer_to_torch(opt, theirs, allow_schedule=True), interop.from_torch(theirs)
        )
    plain = theirs.parameters()
    step_lr = torch.optim.lr_scheduler.StepLR(torch.optim.SGD(plain, lr=0.1), step_size=2)
    with pytest.warns(UserWarning, match="without the schedule"):  # PyTorch's own scheduler
        interop.optimizer_from_torch(step_lr.optimizer, interop.from_torch(theirs))
    with pytest.raises(ValueError, match=r"StepLR that interop\.scheduler_to_torch did not make"):
        interop.optimizer_from_torch(step_lr.optimizer, interop.from_torch(theirs), scheduler=step_lr)
    with pytest.raises(ValueError, match="belongs to another torch optimizer"):
        interop.optimizer_from_torch(step_lr.optimizer, interop.from_torch(theirs), scheduler=scheduler)



def test_pytorch_s_own_schedulers_have_the_equivalents_interop_md_names():
    """StepLR, ExponentialLR and CosineAnnealingLR (up to T_max) against the schedules interop.md
    gives for them, step by step: the rate after k scheduler steps is the schedule at k."""
    torch = need("torch")
    from tinygrad_edu.optim.schedules import CosineDecay, ExponentialDecay

    lr0 = 0.1
    pairs = [
        (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
         ExponentialDecay(lr0, 3, 0.5, staircase=True), 12),
        (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), ExponentialDecay(lr0, 1, 0.9), 12),
        (lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
         CosineDecay(lr0, 10, alpha=0.01 / lr0), 10),
    ]
    for make, ours, steps in pairs:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
        scheduler = make(opt)
        theirs = []
        for _ in range(steps + 1):
            theirs.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        np.testing.assert_allclose([float(ours(k)) for k in range(steps + 1)], theirs, rtol=1e-12, atol=0)



def test_interop_md_s_gradient_clipping_by_hand_is_clip_grad_norm():
    torch = need("torch")
    model = nn.Sequential(
        nn.Linear(3, 4, rng=np.random.default_rng(0), dtype=np.float64), nn.Tanh(),
        nn.Linear(4, 1, rng=np.random.default_rng(1), dtype=np.float64),
    )
    theirs = interop.to_torch(model)
    X = np.random.default_rng(2).normal(size=(6, 3)) * 10
    (model(Tensor(X)) ** 2).sum().backward()
    (theirs(torch.tensor(X)) ** 2).sum().backward()
    params, max_norm = list(model.parameters()), 0.5
    with tinygrad_edu.no_grad():  # as interop.md writes it
        norm = np.sqrt(sum((p.grad.data**2).sum() for p in params))
        for p in params:
            p.grad.data *= min(1.0, max_norm / (norm + 1e-6))
    torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm)
    assert norm > 10 * max_norm  # it did clip
    for p, q in zip(params, theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)


# --- ONNX --------------------------------------------------------------------------------------------


def _onnx_run(ort, path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def _onnx_tol(dtype):
    return 1e-10 if dtype == F64 else 1e-5


def _check_onnx_file(path, model):
    onnx = need("onnx")
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    names = {init.name for init in proto.graph.initializer}
    assert {name for name, _ in model.named_parameters()} <= names
    (inp,) = proto.graph.input
    assert inp.name == "input" and inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    return [node.op_type for node in proto.graph.node]


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_of_the_course_network_runs_in_onnxruntime(dtype, ort, tmp_path):
    model = course_network(dtype)
    X, _ = moons()
    X = X.astype(dtype)
    path = interop.export_onnx(model, X[:1], tmp_path / "course.onnx")
    assert path == str(tmp_path / "course.onnx")
    ops = _check_onnx_file(path, model)
    assert ops == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Sigmoid"]
    got = _onnx_run(ort, path, X)  # 300 rows through a file exported with one: the batch axis is free
    assert got.dtype == dtype and got.shape == (300, 1)
    np.testing.assert_allclose(got, model(Tensor(X)).data, rtol=_onnx_tol(dtype), atol=_onnx_tol(dtype))


def _bn_dropout_network(dtype):
    rng = np.random.RandomState(4)
    return nn.Sequential(
        nn.Linear(2, 8, rng=rng, dtype=dtype), nn.BatchNorm1d(8, dtype=dtype), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(8, 8, bias=False, rng=rng, dtype=dtype), nn.BatchNorm1d(8, affine=False, dtype=dtype),
        nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 3, rng=rng, dtype=dtype), nn.Softmax(),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_of_a_batchnorm_dropout_network_runs_in_onnxruntime(dtype, ort, tmp_path):
    model = _bn_dropout_network(dtype)
    X, y = data.make_spirals(40, 3, seed=0)
    X = X.astype(dtype)
    opt = optim.Adam(list(model.parameters()), lr=0.05)
    for _ in range(5):  # training mode: the running statistics and the weights move
        opt.zero_grad()
        # the model ends in Softmax (exported with it): the loss is the log of its probabilities
        nn.functional.nll_loss(model(Tensor(X)).log(), y).backward()
        opt.step()
    assert model.training
    path = interop.export_onnx(model, X[:2], tmp_path / "bn.onnx")
    assert model.training and all(m.training for m in model.modules())  # export left the modes alone
    ops = _check_onnx_file(path, model)
    assert ops.count("BatchNormalization") == 2 and ops.count("Identity") == 2 and "Dropout" not in ops
    model.eval()
    np.testing.assert_allclose(
        _onnx_run(ort, path, X), model(Tensor(X)).data, rtol=_onnx_tol(dtype), atol=_onnx_tol(dtype)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_flatten_leaky_relu_log_softmax_and_linear_on_three_axes(dtype, ort, tmp_path):
    rng = np.random.RandomState(6)
    model = nn.Sequential(
        nn.Linear(3, 4, rng=rng, dtype=dtype), nn.LeakyReLU(0.1), nn.Flatten(),
        nn.Sequential(nn.Linear(8, 5, rng=rng, dtype=dtype), nn.Identity()), nn.LogSoftmax(axis=1),
    )
    x = rng.randn(7, 2, 3).astype(dtype)
    path = interop.export_onnx(model, x[:1], tmp_path / "flat.onnx")
    ops = _check_onnx_file(path, model)
    assert ops[:3] == ["Transpose", "MatMul", "Add"] and "Flatten" in ops and "Gemm" in ops
    np.testing.assert_allclose(
        _onnx_run(ort, path, x), model(Tensor(x)).data, rtol=_onnx_tol(dtype), atol=_onnx_tol(dtype)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_leaky_relu_runs_in_onnxruntime_at_every_opset(dtype, ort, tmp_path):
    onnx = need("onnx")
    model = nn.Sequential(nn.LeakyReLU(0.1))
    x = np.random.RandomState(0).randn(20, 3).astype(dtype)
    x[0] = [0.0, -0.0, np.nan]
    slope = dtype(0.1)  # float32(0.1) in float32: what LeakyRelu's float32 attribute holds
    expected = np.where(x > 0, x, x * slope)
    for opset in range(13, onnx.defs.onnx_opset_version() + 1):
        path = interop.export_onnx(model, x[:1], tmp_path / f"leaky{opset}.onnx", opset=opset)
        got = _onnx_run(ort, path, x)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected, err_msg=f"opset {opset}")


def test_onnx_of_linear_relu_is_gemm_and_relu(ort, tmp_path, torch):
    model = _linear_relu_network()
    x = np.random.RandomState(1).randn(9, 2)
    path = interop.export_onnx(model, x[:1], tmp_path / "lr.onnx")
    assert _check_onnx_file(path, model) == ["Gemm", "Relu", "Gemm"]
    expected = _torch_linear_relu_network(torch, model)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(_onnx_run(ort, path, x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_of_a_linear_relu_alone_runs_in_onnxruntime(dtype, ort, tmp_path, torch):
    model = _lone_linear_relu(dtype)
    x = np.random.RandomState(2).randn(9, 3).astype(dtype)
    path = interop.export_onnx(model, x[:1], tmp_path / "alone.onnx")
    assert _check_onnx_file(path, model) == ["Gemm", "Relu"]
    expected = _torch_linear_then_relu(torch, model)(torch.tensor(x)).detach().numpy()
    assert (expected == 0).any()
    got = _onnx_run(ort, path, x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=_onnx_tol(dtype), atol=_onnx_tol(dtype))


@pytest.mark.parametrize("tie", TIES)
def test_onnx_of_tied_weights_runs_in_onnxruntime(tie, ort, tmp_path, torch):
    onnx = need("onnx")
    model = _tied_network(tie)
    x = np.random.RandomState(3).randn(9, 4)
    path = interop.export_onnx(model, x[:1], tmp_path / "tied.onnx")
    assert _check_onnx_file(path, model) == ["Gemm", "Relu", "Gemm", "Tanh", "Gemm"]
    initializers = {init.name for init in onnx.load(path).graph.initializer}
    assert initializers == set(model.state_dict())  # the tied weight under each of its names
    expected = _torch_tied_network(torch, model, tie)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(_onnx_run(ort, path, x), expected, rtol=1e-12, atol=1e-12)


def test_onnx_opset_newer_than_onnx_knows_is_refused(ort, tmp_path):
    onnx = need("onnx")
    newest = onnx.defs.onnx_opset_version()
    with pytest.raises(ValueError, match=rf"opset {newest + 1} is newer.*at most {newest}"):
        interop.export_onnx(course_network(), np.zeros((1, 2)), tmp_path / "a", opset=newest + 1)
    assert not (tmp_path / "a").exists()


def test_onnx_opset_is_recorded(ort, tmp_path):
    onnx = need("onnx")
    path = interop.export_onnx(course_network(), np.zeros((1, 2)), tmp_path / "m.onnx", opset=13)
    assert [o.version for o in onnx.load(path).opset_import] == [13]


def test_onnx_errors_are_clear(ort, tmp_path):
    model = course_network()
    with pytest.raises(TypeError, match="Doubler"):
        interop.export_onnx(
            nn.Sequential(nn.Linear(2, 2, dtype=F64), Doubler()),
            np.zeros((1, 2)), tmp_path / "a"
        )
    with pytest.raises(TypeError, match="example_input is float32 but the model is float64"):
        interop.export_onnx(model, np.zeros((1, 2), dtype=F32), tmp_path / "a")
    with pytest.raises(ValueError, match="opset must be an integer >= 13"):
        interop.export_onnx(model, np.zeros((1, 2)), tmp_path / "a", opset=11)
    with pytest.raises(ValueError, match="track_running_stats=False"):
        interop.export_onnx(
            nn.Sequential(nn.BatchNorm1d(2, track_running_stats=False, dtype=F64)), np.zeros((2, 2)),
            tmp_path / "a",
        )
    # with one sample too (BatchNorm's own forward refused it before the export's reason was given)
    no_stats = nn.BatchNorm1d(2, track_running_stats=False, dtype=F64)
    no_stats = nn.Sequential(nn.Linear(2, 2, dtype=F64), no_stats)
    with pytest.raises(ValueError, match="at '1' has track_running_stats=False"):
        interop.export_onnx(no_stats, np.zeros((1, 2)), tmp_path / "a")
    with pytest.raises(ValueError, match=r"BatchNorm1d\(2\): input has shape"):
        interop.export_onnx(nn.Sequential(nn.BatchNorm1d(2, dtype=F64)), np.zeros((2, 3)), tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_onnx_names_a_module_list_before_running_it(ort, tmp_path):
    model = nn.Sequential(nn.Linear(2, 2, dtype=F64), nn.ModuleList([nn.ReLU()]))
    with pytest.raises(TypeError, match=r"ModuleList at '1'.*Linear.*BatchNorm1d"):
        interop.export_onnx(model, np.zeros((1, 2)), tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_onnx_float64_batch_norm_keeps_eps_exactly(ort, tmp_path):
    bn = nn.BatchNorm1d(3, dtype=F64)
    bn.running_var.data[...] = [0.0, 1e-7, 1.0]  # with var 0 the output is x / sqrt(eps): eps itself shows
    bn.running_mean.data[...] = [0.5, -0.5, 0.0]
    bn.eval()
    x = np.random.RandomState(0).randn(4, 3)
    path = interop.export_onnx(bn, x[:1], tmp_path / "bn.onnx")
    rounding = 4 * np.finfo(F64).eps
    np.testing.assert_allclose(_onnx_run(ort, path, x), bn(Tensor(x)).data, rtol=rounding, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_onnx_of_a_model_without_parameters_takes_the_input_dtype(dtype, ort, tmp_path):
    model = nn.Sequential(nn.ReLU(), nn.Softmax())
    x = np.random.RandomState(0).randn(5, 4).astype(dtype)
    path = interop.export_onnx(model, x[:1], tmp_path / "relu.onnx")
    got = _onnx_run(ort, path, x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, model(Tensor(x)).data, rtol=_onnx_tol(dtype), atol=_onnx_tol(dtype))


# --- safetensors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_safetensors_load_into_the_torch_model(dtype, torch, tmp_path):
    safetensors_torch = importlib.import_module(need("safetensors").__name__ + ".torch")
    model = _trained(_bn_dropout_network(dtype), (8, 2), dtype)
    path = interop.save_safetensors(model, tmp_path / "m.safetensors")
    fresh = interop.to_torch(_bn_dropout_network(dtype))  # other weights, the same architecture
    fresh.load_state_dict(safetensors_torch.load_file(path))
    for name, value in model.state_dict().items():
        t = fresh.state_dict()[name].numpy()
        assert t.dtype == value.dtype and np.array_equal(t, value), name
    loaded = interop.load_safetensors(path)
    assert set(loaded) == set(model.state_dict())
    assert loaded["1.num_batches_tracked"].dtype == np.int64 and loaded["1.num_batches_tracked"] == 2
    other = _bn_dropout_network(dtype)
    other.load_state_dict(loaded)
    for name, value in model.state_dict().items():
        assert np.array_equal(other.state_dict()[name], value), name


@pytest.mark.parametrize("tie", TIES)
def test_safetensors_of_tied_weights_load_into_pytorch_keeping_the_tie(tie, torch, tmp_path):
    safetensors_torch = importlib.import_module(need("safetensors").__name__ + ".torch")
    model = _tied_network(tie)
    path = interop.save_safetensors(model, tmp_path / "tied.safetensors")
    by_hand = _torch_tied_network(torch, _tied_network(tie, seed=9), tie)  # other weights
    assert set(interop.load_safetensors(path)) == set(by_hand.state_dict())  # every name, as PyTorch lists
    by_hand.load_state_dict(safetensors_torch.load_file(path))  # strict: nothing missing
    assert by_hand[0].weight is by_hand[2].weight
    _assert_weights(model, by_hand, tol=0)
    ours = _tied_network(tie, seed=9)
    ours.load_state_dict(interop.load_safetensors(path))
    assert ours[0].weight is ours[2].weight
    _assert_weights(ours, by_hand, tol=0)
    # safetensors' save_model keeps one name of a tied tensor: strict=False loads it, as the tie
    # makes the dropped name the same parameter
    safetensors_torch.save_model(by_hand, tmp_path / "once.safetensors")
    once = interop.load_safetensors(tmp_path / "once.safetensors")
    dropped = sorted(set(by_hand.state_dict()) - set(once))
    assert dropped == (["2.bias", "2.weight"] if tie == "module" else ["2.weight"])
    fresh = _tied_network(tie, seed=9)
    missing, unexpected = fresh.load_state_dict(once, strict=False)
    assert sorted(missing) == dropped and unexpected == []
    _assert_weights(fresh, by_hand, tol=0)


def test_safetensors_from_a_state_dict_and_bad_input(tmp_path):
    need("safetensors")
    w = np.arange(6.0).reshape(2, 3)
    path = interop.save_safetensors({"w": w, "t": Tensor([1.0, 2.0])}, tmp_path / "d")
    loaded = interop.load_safetensors(path)
    assert np.array_equal(loaded["w"], w) and np.array_equal(loaded["t"], [1.0, 2.0])
    with pytest.raises(TypeError, match="expected an nn.Module or a dict"):
        interop.save_safetensors([1, 2], tmp_path / "e")
    with pytest.raises(TypeError, match="entry 'x'"):
        interop.save_safetensors({"x": np.array(["a"])}, tmp_path / "e")


# --- compare_with_torch ------------------------------------------------------------------------------


def test_compare_with_torch_on_the_course_network_is_at_rounding_level(torch, capsys):
    model = course_network()
    X, Y = moons()
    opt = optim.Adam(list(model.parameters()), lr=0.0007)
    before = model.state_dict()
    report = interop.compare_with_torch(model, nn.BCELoss(), opt, X, Y, steps=5, batch_size=64)
    printed = capsys.readouterr().out
    assert len(report.steps) == 5 and [s.step for s in report.steps] == [1, 2, 3, 4, 5]
    assert report.max_loss_diff < 1e-12 and report.max_grad_diff < 1e-12 and report.max_param_diff < 1e-12
    assert "step" in printed and printed.count("\n") >= 7 and str(report) in printed
    for name, value in model.state_dict().items():  # the originals were not trained
        assert np.array_equal(value, before[name])
    assert opt.step_count == 0
    # the first loss is the course's cost on its first mini-batch, computed by PyTorch as well
    theirs = interop.to_torch(model)
    expected = torch.nn.BCELoss()(theirs(torch.tensor(X[report_rows(64)])), torch.tensor(Y[report_rows(64)]))
    assert abs(report.steps[0].torch_loss - expected.item()) < 1e-15


def report_rows(batch_size, seed=0):
    return np.random.default_rng(seed).permutation(300)[:batch_size]


def test_compare_with_torch_cross_entropy_float32_and_a_schedule(torch):
    X, y = data.make_spirals(30, 3, seed=1)
    rng = np.random.RandomState(0)
    model = nn.Sequential(nn.Linear(2, 16, rng=rng), nn.Tanh(), nn.BatchNorm1d(16), nn.Linear(16, 3, rng=rng))
    model.to(F64)
    opt = optim.SGD(list(model.parameters()), lr=schedules.ExponentialDecay(0.1, 2, 0.5), momentum=0.9)
    report = interop.compare_with_torch(model, nn.CrossEntropyLoss(), opt, X, y, steps=6, verbose=False)
    assert report.max_diff < 1e-12
    model32 = model.to(F32)
    report = interop.compare_with_torch(
        model32, nn.CrossEntropyLoss(), optim.Adam(list(model32.parameters()), lr=0.01), X, y, verbose=False
    )
    assert report.dtype == "float32" and report.max_diff < 1e-5


def test_compare_with_torch_refuses_what_cannot_agree(torch):
    X, Y = moons()
    model = nn.Sequential(nn.Linear(2, 3, dtype=F64), nn.Dropout(0.5), nn.Linear(3, 1, dtype=F64))
    opt = optim.SGD(list(model.parameters()), lr=0.1)
    with pytest.raises(ValueError, match=r"Dropout\(p=0.5\) at '1' is in training mode"):
        interop.compare_with_torch(model, nn.MSELoss(), opt, X, Y)
    model[1].eval()
    assert interop.compare_with_torch(model, nn.MSELoss(), opt, X, Y, verbose=False).max_diff < 1e-12

    class Half(nn.MSELoss):
        pass

    with pytest.raises(TypeError, match="cannot convert the loss Half"):
        interop.compare_with_torch(model, Half(), opt, X, Y)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        interop.compare_with_torch(model, nn.MSELoss(), opt, X, Y, steps=0)
    with pytest.raises(ValueError, match="not parameters of the model"):
        interop.compare_with_torch(course_network(), nn.MSELoss(), opt, X, Y)


def test_compare_with_torch_reports_a_nan_as_nan(torch, capsys):
    X = np.random.RandomState(0).randn(8, 2)
    X[5, 0] = np.nan  # one bad row, in the second batch
    Y = np.zeros((8, 1))
    model = nn.Sequential(nn.Linear(2, 1, dtype=F64))
    report = interop.compare_with_torch(
        model, nn.MSELoss(), optim.SGD(list(model.parameters()), lr=0.1), X, Y, steps=3, batch_size=4
    )
    assert report.steps[0].loss_diff < 1e-12
    assert all(math.isnan(s.torch_loss) for s in report.steps[1:])  # PyTorch's loss is nan too
    for s in report.steps[1:]:
        assert math.isnan(s.loss_diff) and math.isnan(s.grad_diff) and math.isnan(s.param_diff)
    assert math.isnan(report.max_diff) and math.isnan(report.max_grad_diff)
    assert not report.max_diff < 1e-10 and report.passed(1e-10) is False
    assert "largest difference nan" in capsys.readouterr().out


def test_a_parity_report_keeps_a_nan_that_is_not_first():
    nan = float("nan")
    steps = [
        interop.ParityStep(1, 0.5, 0.5, 1e-17, 2e-17, 3e-17),
        interop.ParityStep(2, nan, nan, nan, 1e-17, nan),
    ]
    report = interop.ParityReport(steps=steps)
    for value in (report.max_loss_diff, report.max_param_diff, report.max_diff):
        assert math.isnan(value)
    assert report.max_grad_diff == 2e-17
    assert report.passed(1.0) is False
    assert interop.ParityReport(steps=steps[:1]).passed(1e-16) is True
    assert interop.ParityReport(steps=steps[:1]).passed(1e-17) is False


@pytest.mark.parametrize("loss", ["BCEWithLogitsLoss", "BCELoss", "MSELoss"])
def test_compare_with_torch_takes_integer_labels_for_the_elementwise_losses(loss, torch):
    X, y = data.make_moons(300, noise=0.2, seed=3)
    labels = y.reshape(-1, 1)
    assert labels.dtype.kind == "i"
    model = course_network(sigmoid=loss == "BCELoss")
    opt = optim.Adam(list(model.parameters()), lr=0.01)
    report = interop.compare_with_torch(model, getattr(nn, loss)(), opt, X, labels, steps=3, verbose=False)
    assert report.max_diff < 1e-12
    theirs = interop.to_torch(model)
    expected = getattr(torch.nn, loss)()(theirs(torch.tensor(X)), torch.tensor(labels, dtype=torch.float64))
    assert abs(report.steps[0].torch_loss - expected.item()) < 1e-15


def test_compare_with_torch_refuses_reduction_none_and_names_itself(torch):
    X, Y = moons()
    model = nn.Sequential(nn.Linear(2, 3, dtype=F64), nn.Linear(3, 1, dtype=F64))
    opt = optim.SGD(list(model.parameters()), lr=0.1)
    with pytest.raises(ValueError, match=r"^compare_with_torch: .*reduction='none'.*'mean'.*'sum'"):
        interop.compare_with_torch(model, nn.MSELoss(reduction="none"), opt, X, Y)
    small = optim.SGD(list(model.parameters()), lr=1e-4)  # a sum over 300 rows: a smaller step
    summed = interop.compare_with_torch(model, nn.MSELoss(reduction="sum"), small, X, Y, verbose=False)
    assert summed.passed(1e-9)
    with pytest.raises(TypeError, match=r"^compare_with_torch: cannot convert Doubler at '1'"):
        doubled = nn.Sequential(nn.Linear(2, 1, dtype=F64), Doubler())
        interop.compare_with_torch(doubled, nn.MSELoss(), optim.SGD(list(doubled.parameters()), lr=0.1), X, Y)
    with pytest.raises(ValueError, match=r"^compare_with_torch: optim\.Momentum"):
        momentum = optim.Momentum(list(model.parameters()), lr=0.1)
        interop.compare_with_torch(model, nn.MSELoss(), momentum, X, Y)
    with pytest.raises(ValueError, match=r"^compare_with_torch: Adam group 0 has eps_mode='inside'"):
        adam = optim.Adam(list(model.parameters()), eps_mode="inside")
        interop.compare_with_torch(model, nn.MSELoss(), adam, X, Y)


def test_compare_with_torch_compares_linear_relu_itself(torch):
    X, Y = moons()
    model = _linear_relu_network()
    opt = optim.Adam(list(model.parameters()), lr=0.05)
    report = interop.compare_with_torch(model, nn.BCEWithLogitsLoss(), opt, X, Y, steps=4, verbose=False)
    assert report.passed(1e-12)
    by_hand = _torch_linear_relu_network(torch, model)
    expected = torch.nn.BCEWithLogitsLoss()(by_hand(torch.tensor(X)), torch.tensor(Y))
    assert abs(report.steps[0].loss - expected.item()) < 1e-15


def test_tg_save_of_torch_state_dicts_says_how_to_convert(torch, tmp_path):
    import tinygrad_edu as tg

    theirs = interop.to_torch(course_network())
    torch_opt = torch.optim.Adam(theirs.parameters())
    theirs(torch.zeros(2, 2, dtype=torch.float64)).sum().backward()
    torch_opt.step()
    for obj, where in ((theirs.state_dict(), "obj['0.weight']"), (torch_opt.state_dict(), "obj['state'][0]")):
        with pytest.raises(TypeError, match=re.escape(where) + r".* is a torch\.Tensor.*\.numpy\(\)"):
            tg.save(obj, tmp_path / "t.npz")
    back = interop.from_torch(theirs)
    back_opt = interop.optimizer_from_torch(torch_opt, back)
    tg.save({"model": back.state_dict(), "optimizer": back_opt.state_dict()}, tmp_path / "t.npz")  # the fix


# --- the documents -----------------------------------------------------------------------------------

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def test_the_interop_page_runs_and_shows_what_it_prints(tmp_path, monkeypatch, torch, ort):
    need("safetensors")
    with open(os.path.join(DOCS, "interop.md"), encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)  # the files the page writes land here
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"interop.md block {i + 1}", "exec"), namespace)
    assert namespace["opt_back"].state[namespace["back"][0].weight]["step"] == 40
    report = namespace["report"]
    assert report.max_diff < 1e-12
    shown = re.findall(r"^ +(\d) +(0\.\d{8}) ", text, flags=re.M)
    assert [(int(k), float(loss)) for k, loss in shown] == [(s.step, round(s.loss, 8)) for s in report.steps]


def test_the_api_reference_lists_interop():
    with open(os.path.join(DOCS, "api.md"), encoding="utf-8") as f:
        api = f.read()
    for name in interop.__all__:
        assert f"`tg.interop.{name}" in api, name


def test_unscaled_dropout_is_refused_by_to_torch_and_export_onnx(torch, ort, tmp_path):
    """Dropout(p, inverted=False) multiplies by 1 - p in eval; converted as PyTorch's (or ONNX's)
    inverted dropout, the eval output would be 1 / (1 - p) times too large, silently."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.25, inverted=False), nn.Linear(3, 1))
    words = r"Dropout\(p=0.25, inverted=False\) at '1' cannot convert: .*Train with nn.Dropout\(0.25\)"
    with pytest.raises(TypeError, match="to_torch: " + words):
        interop.to_torch(model)
    with pytest.raises(TypeError, match="export_onnx: " + words):
        interop.export_onnx(model, np.zeros((1, 2), dtype=np.float32), tmp_path / "d.onnx")
    assert not (tmp_path / "d.onnx").exists()
    model[1] = nn.Dropout(0.25)  # the default, inverted: converts
    assert isinstance(interop.to_torch(model)[1], torch.nn.Dropout)
