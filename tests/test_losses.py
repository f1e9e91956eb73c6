"""Losses: values and gradients against numpy formulas, reductions, stability at logits of +-1e4,
BCE's clamp at -100, and the errors for wrong targets.

References are the textbook formulas in float64 numpy on moderate inputs, and
hand-computed values at extreme ones.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn
from tinygrad_edu.autograd import _parents
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck
from tinygrad_edu.graph import toposort
from tinygrad_edu.nn import functional as F

RNG = np.random.default_rng(0)


def reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](values)


def np_sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def np_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def np_mse(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x - y) ** 2


def np_bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def np_bce_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np_bce(np_sigmoid(z), y)


def np_cross_entropy(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    return -np.log(np_softmax(z)[np.arange(len(t)), t])


def inputs(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Moderate float64 inputs and targets for each loss."""
    rng = np.random.default_rng({"mse": 1, "bce": 2, "bce_logits": 3, "ce": 4}[kind])
    if kind == "mse":
        return rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    if kind == "bce":
        return rng.uniform(0.05, 0.95, (5, 2)), rng.uniform(0, 1, (5, 2))
    if kind == "bce_logits":
        return rng.standard_normal((5, 2)) * 3, rng.uniform(0, 1, (5, 2))
    return rng.standard_normal((6, 4)) * 2, np.array([0, 3, 1, 1, 2, 0])


LOSSES: dict[str, tuple[type, Callable[..., Tensor], Callable[..., np.ndarray]]] = {
    "mse": (nn.MSELoss, F.mse_loss, np_mse),
    "bce": (nn.BCELoss, F.binary_cross_entropy, np_bce),
    "bce_logits": (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, np_bce_logits),
    "ce": (nn.CrossEntropyLoss, F.cross_entropy, np_cross_entropy),
}
REDUCTIONS = ["mean", "sum", "none"]


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", list(LOSSES))
def test_loss_values_match_numpy(kind: str, reduction: str) -> None:
    cls, fn, ref = LOSSES[kind]
    x, y = inputs(kind)
    want = reduce(ref(x, y), reduction)
    for target in (y, Tensor(y)):  # targets as ndarrays or Tensors
        module_out = cls(reduction=reduction)(Tensor(x), target)
        functional_out = fn(x, target, reduction=reduction)
        assert module_out.shape == np.shape(want)
        np.testing.assert_allclose(module_out.data, want, rtol=1e-12)
        np.testing.assert_allclose(functional_out.data, want, rtol=1e-12)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_default_reduction_is_mean(kind: str) -> None:
    cls, _, ref = LOSSES[kind]
    x, y = inputs(kind)
    assert cls()(x, y).item() == pytest.approx(float(np.mean(ref(x, y))), rel=1e-12)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_loss_keeps_the_input_dtype(kind: str) -> None:
    cls, _, _ = LOSSES[kind]
    x, y = inputs(kind)
    x32 = Tensor(x.astype(np.float32), requires_grad=True)
    loss = cls()(x32, y)  # a float64 (or int64) target does not promote the loss
    loss.backward()
    assert loss.dtype == np.float32 and x32.grad.dtype == np.float32


def test_binary_losses_accept_integer_and_bool_labels() -> None:
    z = np.array([[0.5], [-1.0], [2.0]])
    labels = np.array([[1], [0], [1]])
    want = np.mean(np_bce_logits(z, labels.astype(np.float64)))
    assert nn.BCEWithLogitsLoss()(z, labels).item() == pytest.approx(want, rel=1e-12)
    assert nn.BCEWithLogitsLoss()(z, labels.astype(bool)).item() == pytest.approx(want, rel=1e-12)
    assert nn.BCELoss()(np_sigmoid(z), labels).item() == pytest.approx(want, rel=1e-12)


def test_cross_entropy_accepts_integer_tensor_targets_of_any_int_dtype() -> None:
    z, t = inputs("ce")
    want = np.mean(np_cross_entropy(z, t))
    assert F.cross_entropy(z, Tensor(t.astype(np.int32))).item() == pytest.approx(want, rel=1e-12)
    assert F.cross_entropy(z, t.astype(np.uint8)).item() == pytest.approx(want, rel=1e-12)


def test_nll_of_log_softmax_is_cross_entropy() -> None:
    z, t = inputs("ce")
    out = F.nll_loss(F.log_softmax(z, axis=1), t, reduction="sum")
    assert out.item() == pytest.approx(float(np.sum(np_cross_entropy(z, t))), rel=1e-12)


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (128, 10)], ids=["tall", "wide", "mnist_batch"])
def test_softmax_family_is_the_same_for_tall_and_wide_inputs(shape: tuple[int, int]) -> None:
    """A tall (N, C) input is reduced on its transposed copy, a wide one in place: same values."""
    rng = np.random.default_rng(11)
    z = rng.standard_normal(shape) * 3
    t = rng.integers(0, shape[1], shape[0])
    np.testing.assert_allclose(F.softmax(z, axis=1).data, np_softmax(z), rtol=1e-12)
    log_p = F.log_softmax(z, axis=-1).data
    np.testing.assert_allclose(log_p, np.log(np_softmax(z)), rtol=1e-12, atol=1e-14)
    losses = F.cross_entropy(z, t, reduction="none").data
    np.testing.assert_allclose(losses, np_cross_entropy(z, t), rtol=1e-12)
    small = Tensor(z[:6, :5], requires_grad=True)  # keeps the shape's orientation
    assert gradcheck(lambda x: F.cross_entropy(x, t[: small.shape[0]] % small.shape[1]), [small])
    assert gradcheck(lambda x: F.log_softmax(x, axis=1), [small])


# --- gradients -----------------------------------------------------------------------------------


def grad_formulas(kind: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d(sum of per-element losses)/d input, the textbook derivatives."""
    if kind == "mse":
        return 2 * (x - y)
    if kind == "bce":
        return (x - y) / (x * (1 - x))
    if kind == "bce_logits":
        return np_sigmoid(x) - y
    onehot = np.eye(x.shape[1])[y]
    return np_softmax(x) - onehot


@pytest.mark.parametrize("kind", list(LOSSES))
def test_gradient_formulas(kind: str) -> None:
    cls, _, _ = LOSSES[kind]
    x, y = inputs(kind)
    n = x.shape[0] if kind == "ce" else x.size  # mean over samples (CE) or over elements
    for reduction, scale in (("mean", 1 / n), ("sum", 1.0)):
        xt = Tensor(x, requires_grad=True)
        cls(reduction=reduction)(xt, y).backward()
        np.testing.assert_allclose(xt.grad.data, grad_formulas(kind, x, y) * scale, rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", list(LOSSES))
def test_gradcheck_with_respect_to_the_input(kind: str, reduction: str) -> None:
    _, fn, _ = LOSSES[kind]
    x, y = inputs(kind)
    assert gradcheck(lambda x: fn(x, y, reduction=reduction), [Tensor(x, requires_grad=True)])
    assert gradgradcheck(lambda x: fn(x, y, reduction=reduction), [Tensor(x, requires_grad=True)])


@pytest.mark.parametrize("kind", ["mse", "bce", "bce_logits"])
def test_gradcheck_with_respect_to_soft_targets(kind: str) -> None:
    _, fn, _ = LOSSES[kind]
    x, y = inputs(kind)
    pair = [Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)]
    assert gradcheck(lambda x, y: fn(x, y, reduction="none"), pair)
    assert gradgradcheck(lambda x, y: fn(x, y, reduction="none"), pair)


def test_gradient_through_a_model_with_a_non_uniform_cotangent() -> None:
    rng = np.random.default_rng(9)
    lin = nn.Linear(3, 4, dtype=np.float64)
    x = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    t = np.array([0, 3, 2, 1, 3])
    assert gradcheck(lambda x, w, b: F.cross_entropy(lin(x), t, reduction="none"), [x, lin.weight, lin.bias])


# --- stability -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_finite_at_huge_logits(dtype: Any) -> None:
    z = Tensor(np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype),
               requires_grad=True)  # fmt: skip
    t = np.array([0, 1, 2, 1])
    loss = F.cross_entropy(z, t, reduction="none")
    # logsumexp of the first rows is 1e4 (the other terms are below rounding); the last row is uniform
    np.testing.assert_allclose(loss.data, [0.0, 2e4, 1e4, np.log(3)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(z.grad.data).all()
    want = np.array([[0, 0, 0], [1, -1, 0], [1, 0, -1], [1 / 3, 1 / 3 - 1, 1 / 3]])
    np.testing.assert_allclose(z.grad.data, want, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_at_huge_logits(dtype: Any) -> None:
    z = Tensor(np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(loss.data, [1e4, 1e4, 0.0, 0.0, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.data, [1.0, -1.0, 0.0, 0.0, -0.5], atol=1e-7)


def test_bce_clamps_its_logs_at_minus_100() -> None:
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    # log(0) = -inf becomes -100; log(1e-50) = -115.1 is clamped as well
    np.testing.assert_allclose(loss.data, [100.0, 100.0, 0.0, 0.0, 100.0], rtol=1e-15)
    loss.sum().backward()
    assert np.isfinite(p.grad.data).all()
    # a clamped log is constant in p, so only the other term contributes
    np.testing.assert_allclose(p.grad.data, [0.0, 0.0, 1.0, -1.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_of_a_saturated_sigmoid_is_finite(dtype: Any) -> None:
    z = Tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype), requires_grad=True)
    y = np.array([1.0, 1.0, 0.0, 0.0])
    loss = nn.BCELoss(reduction="none")(z.sigmoid(), y)
    np.testing.assert_allclose(loss.data, [0.0, 100.0, 100.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(z.grad.data).all()


def test_mse_is_finite_at_large_values() -> None:
    x = Tensor(np.array([1e4, -1e4]), requires_grad=True)
    loss = F.mse_loss(x, np.zeros(2), reduction="sum")
    assert loss.item() == 2e8
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [2e4, -2e4])


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mse", "bce", "bce_logits"])
def test_target_shape_must_match(kind: str) -> None:
    cls, fn, _ = LOSSES[kind]
    x = np.full((4, 1), 0.5)
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}: target has shape \(4,\) but input has shape \(4, 1\)"
    ):
        cls()(x, np.ones(4))
    with pytest.raises(ValueError, match=rf"{fn.__name__}: .*reshape"):
        fn(x, np.ones(4))


@pytest.mark.parametrize("kind", list(LOSSES))
def test_target_dtype_must_be_numeric(kind: str) -> None:
    cls, _, _ = LOSSES[kind]
    x, _ = inputs(kind)
    bad = np.full(x.shape[:1] if kind == "ce" else x.shape, "a")
    with pytest.raises(TypeError, match=rf"{cls.__name__}: target has dtype <U1"):
        cls()(x, bad)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_input_must_be_float(kind: str) -> None:
    cls, _, _ = LOSSES[kind]
    x, y = inputs(kind)
    with pytest.raises(TypeError, match=rf"{cls.__name__}: input has dtype int64"):
        cls()(np.zeros(x.shape, np.int64), y)


def test_cross_entropy_target_dtype() -> None:
    z, t = inputs("ce")
    with pytest.raises(
        TypeError, match=r"CrossEntropyLoss: target has dtype float64; expected integer class"
    ):
        nn.CrossEntropyLoss()(z, t.astype(np.float64))


@pytest.mark.parametrize("bad", [4, -1])
def test_cross_entropy_class_index_out_of_range(bad: int) -> None:
    z, t = inputs("ce")
    t = t.copy()
    t[2] = bad
    with pytest.raises(ValueError, match=rf"CrossEntropyLoss: target\[2\] = {bad} .*4 classes.*\[0, 4\)"):
        nn.CrossEntropyLoss()(z, t)


def test_cross_entropy_shapes() -> None:
    z, t = inputs("ce")
    with pytest.raises(ValueError, match=r"cross_entropy: target has shape \(6, 1\).*reshape\(-1\)"):
        F.cross_entropy(z, t.reshape(6, 1))
    with pytest.raises(ValueError, match=r"target has shape \(5,\) but logits have shape \(6, 4\)"):
        F.cross_entropy(z, t[:5])
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: logits have shape \(4,\); expected \(N, C\)"):
        nn.CrossEntropyLoss()(z[0], t[0])


ONE_HOT = (r"target has shape \(2, 3\), the shape of the {what}: one-hot rows or class probabilities, "
           r"which {name} does not take; pass class indices, y\.argmax\(axis=1\) of shape \(2,\)$")


@pytest.mark.parametrize(
    "target",
    [np.eye(3)[[0, 2]], np.eye(3, dtype=np.int64)[[0, 2]], np.array([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]),
     np.eye(3, dtype=bool)[[0, 2]]],
    ids=["float one-hot", "int64 one-hot", "probabilities", "bool one-hot"],
)  # fmt: skip
@pytest.mark.parametrize(
    ("loss", "name", "what"),
    [(F.cross_entropy, "cross_entropy", "logits"), (nn.CrossEntropyLoss(), "CrossEntropyLoss", "logits"),
     (F.nll_loss, "nll_loss", "log-probabilities")],
    ids=["cross_entropy", "CrossEntropyLoss", "nll_loss"],
)  # fmt: skip
def test_one_hot_targets_say_to_pass_class_indices(loss: Any, name: str, what: str, target: Any) -> None:
    """A float one-hot target used to get the hint y.astype(np.int64), which then failed on the shape
    without one; PyTorch's class-probability targets are not supported."""
    scores = np.log(np.array([[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]]))  # log-probabilities, and logits
    with pytest.raises(ValueError, match=rf"^{name}: " + ONE_HOT.format(what=what, name=name)):
        loss(scores, target)
    assert loss(scores, target.argmax(axis=1)).item() == pytest.approx(np.log(2), rel=1e-12)  # -log 0.5


def test_nll_loss_refuses_float_targets_as_cross_entropy_does() -> None:
    """nll_loss raised a ValueError about the shapes, where cross_entropy says what to convert."""
    for loss, name in ((F.nll_loss, "nll_loss"), (F.cross_entropy, "cross_entropy")):
        with pytest.raises(TypeError, match=rf"^{name}: target has dtype float64; expected integer class "
                           r"indices in \[0, 3\) \(convert labels with y\.astype\(np\.int64\)\)$"):
            loss(np.zeros((2, 3)), np.array([0.0, 1.0]))


@pytest.mark.parametrize("bad", [3, -1])
def test_nll_loss_out_of_range_names_the_position_and_the_value(bad: int) -> None:
    with pytest.raises(ValueError, match=rf"^nll_loss: target\[1\] = {bad} is not a class index: log-prob"
                       r"abilities of shape \(2, 3\) have 3 classes, so targets must be in \[0, 3\)$"):
        F.nll_loss(np.zeros((2, 3)), np.array([0, bad]))


def test_nll_loss_shapes() -> None:
    with pytest.raises(ValueError, match=r"^nll_loss: input has shape \(3,\); expected log-probabilities "
                       r"\(N, C\)"):
        F.nll_loss(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match=r"^nll_loss: target has shape \(1,\) but log-probabilities have "
                       r"shape \(2, 3\); expected one class index per sample, shape \(2,\)$"):
        F.nll_loss(np.zeros((2, 3)), np.array([0]))


def test_bce_input_must_be_probabilities() -> None:
    with pytest.raises(ValueError, match=r"BCELoss: input .* probabilities in \[0, 1\].*logits"):
        nn.BCELoss()(np.array([0.5, 1.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="NaN"):
        nn.BCELoss()(np.array([0.5, np.nan]), np.array([1.0, 0.0]))


@pytest.mark.parametrize("loss", [nn.BCELoss(), nn.BCEWithLogitsLoss()], ids=["BCELoss", "BCEWithLogitsLoss"])
@pytest.mark.parametrize(
    "target, words",
    [
        ([[1.0], [-1.0], [1.0]], r"found values in \[-1.0, 1.0\]\. Labels -1/\+1 become 0/1 with \(y \+ 1\)"),
        ([[0.0], [2.0], [1.0]], r"found values in \[0.0, 2.0\]\. Class indices 0, 1, 2, .* CrossEntropyLoss"),
        ([[0.0], [np.nan], [1.0]], r"found values in \[0.0, 1.0\] and NaN\.$"),
    ],
    ids=["-1/+1 labels", "class indices", "NaN"],
)
def test_binary_losses_refuse_targets_outside_0_1(loss: Any, target: list, words: str) -> None:
    """-1/+1 labels gave BCEWithLogitsLoss a negative loss, and fit trained towards accuracy 0.04
    with no error (PyTorch computes it too; here it is refused, with what to write instead)."""
    p = Tensor([[0.7], [0.2], [0.9]], requires_grad=True)
    name = type(loss).__name__
    with pytest.raises(ValueError, match=rf"{name}: target \(shape \(3, 1\), float32\) must hold "
                       rf"probabilities in \[0, 1\], {words}"):
        loss(p, target)


@pytest.mark.parametrize("target", [[[1.0], [0.0], [1.0]], [[0.25], [1.0], [0.0]], [[True], [False], [True]],
                                    [[1], [0], [1]]], ids=["0/1", "soft labels", "bool", "int"])
def test_binary_losses_take_labels_and_soft_labels_in_0_1(target: list) -> None:
    p = np.array([[0.7], [0.2], [0.9]])
    y = np.asarray(target, dtype=np.float64)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert np.isclose(nn.BCELoss()(Tensor(p), target).item(), expected, rtol=1e-12)
    z = np.log(p / (1 - p))
    assert np.isclose(nn.BCEWithLogitsLoss()(Tensor(z), target).item(), expected, rtol=1e-12)


def test_cross_entropy_on_one_output_says_what_fits_instead() -> None:
    """Logits of one column: the flatten hint led to a class-index error; both now name the two fixes."""
    z = Tensor(np.zeros((3, 1)), requires_grad=True)
    fixes = r"One output per sample is one score, not one per class: .*BCEWithLogitsLoss.*Linear\(\.\.\., 2\)"
    with pytest.raises(ValueError, match=r"target\[1\] = 1 is not a class index: .* have 1 class, so targets "
                       r"must be in \[0, 1\)\. " + fixes):
        nn.CrossEntropyLoss()(z, np.array([0, 1, 1]))
    one_per_sample = r"expected one class index per sample, shape \(3,\)\. "
    with pytest.raises(ValueError, match=one_per_sample + fixes) as info:
        nn.CrossEntropyLoss()(z, np.array([[0], [1], [1]]))
    assert "flatten" not in str(info.value)


@pytest.mark.parametrize("kind", list(LOSSES))
def test_unknown_reduction(kind: str) -> None:
    cls, fn, _ = LOSSES[kind]
    x, y = inputs(kind)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: reduction must be 'mean', 'sum' or 'none'"):
        cls(reduction="average")
    with pytest.raises(ValueError, match="reduction must be"):
        fn(x, y, reduction="avg")


def test_losses_are_modules_with_a_repr() -> None:
    assert isinstance(nn.MSELoss(), nn.Module)
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.BCELoss(reduction="sum")) == "BCELoss(reduction='sum')"
    assert list(nn.BCEWithLogitsLoss().parameters()) == []


def test_a_target_cast_to_the_input_dtype_keeps_its_name_for_the_pictures():
    x = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    y = Tensor(np.array([1, 2], dtype=np.int64), name="y")
    loss = nn.MSELoss()(x, y)
    names = {t.name for t in toposort([loss], _parents)}
    assert "y" in names
    np.testing.assert_allclose(loss.data, ((0.5 - 1) ** 2 + (2.0 - 2) ** 2) / 2)


def test_a_with_logits_loss_warns_at_the_caller_s_line_when_its_input_was_squashed_already():
    X = Tensor(np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]]))
    softmax_net = nn.Sequential(nn.Linear(2, 3), nn.Softmax(axis=1))
    with pytest.warns(UserWarning, match=r"CrossEntropyLoss: its input was made by Softmax.*twice") as seen:
        nn.CrossEntropyLoss()(softmax_net(X), np.array([0, 2, 1]))
    assert seen[0].filename == __file__  # the line that called the loss, not the library's
    sigmoid_net = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    with pytest.warns(UserWarning, match=r"binary_cross_entropy_with_logits: .*Sigmoid.*use BCELoss"):
        F.binary_cross_entropy_with_logits(sigmoid_net(X), np.ones((3, 1)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # raw scores, and probabilities into BCELoss: no warning
        nn.CrossEntropyLoss()(softmax_net[0](X), np.array([0, 2, 1]))
        nn.BCELoss()(sigmoid_net(X), np.ones((3, 1)))
