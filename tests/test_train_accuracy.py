"""The "accuracy" metric: how each loss's outputs are turned into predicted labels.

Every expected number here is counted by hand from outputs fixed by the test (a Linear
layer with weight 1 and bias 0 returns its input), never computed by the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data, nn, optim, train


def identity() -> nn.Linear:
    """A Linear(1, 1) that returns its input: the outputs are the X the test writes down."""
    layer = nn.Linear(1, 1, dtype=np.float64)
    layer.load_state_dict({"weight": np.array([[1.0]]), "bias": np.zeros(1)})
    return layer


def column(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64).reshape(-1, 1)


# --- MSELoss: the labels decide the cut ---------------------------------------------------


def test_mse_with_0_1_labels_cuts_at_one_half_whatever_the_outputs():
    # outputs -1 and 2 lie outside [0, 1]: the old rule then read all outputs as logits (cut at 0)
    X = column(-1.0, 0.3, 0.7, 2.0)
    y = column(0, 1, 1, 1)
    # by hand, cut at 0.5: predicted 0, 0, 1, 1 -> right, wrong, right, right
    scores = train.evaluate(identity(), nn.MSELoss(), X, y, metrics=["accuracy"])
    assert scores["accuracy"] == 0.75  # (before: 1.0, cut at 0)


def test_mse_with_minus_1_plus_1_labels_cuts_at_zero_and_predicts_minus_1_plus_1():
    model = nn.Sequential(identity(), nn.Tanh())
    X = column(-2.0, -0.2, 0.1, 1.0)  # tanh: -0.96, -0.20, 0.10, 0.76
    y = column(-1, 1, 1, 1)
    # by hand, by sign: predicted -1, -1, +1, +1 -> right, wrong, right, right
    scores = train.evaluate(model, nn.MSELoss(), X, y, metrics=["accuracy"])
    assert scores["accuracy"] == 0.75  # (before: 0.5, a bool compared with -1 is never equal)


def test_fit_with_mse_records_the_accuracy_of_the_labels_rule():
    # lr = 0: the model never changes, so every epoch's accuracy is the hand count
    X = column(-1.0, 0.3, 0.7, 2.0)
    y = column(0, 1, 1, 1)  # cut at 0.5: right, wrong, right, right
    model = identity()
    h = train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), X, y, 2, batch_size=2,
                  shuffle=False, progress=False, metrics=["accuracy"], validation_data=(X[:2], y[:2]))
    assert h.history["accuracy"] == [0.75, 0.75]  # (before: 1.0; the first batch had -1 in it)
    assert h.history["val_accuracy"] == [0.5, 0.5]  # -1 -> 0 right, 0.3 -> 0 wrong


def test_the_report_s_example_agrees_with_thresholding_the_outputs_by_hand():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), X, Y, epochs=60,
              progress=False, metrics=["accuracy"])
    by_hand = np.mean((model(tg.Tensor(X)).data > 0.5) == Y)
    assert by_hand > 0.9
    assert train.evaluate(model, nn.MSELoss(), X, Y, metrics=["accuracy"])["accuracy"] == by_hand


def test_mse_labels_that_are_neither_0_1_nor_minus_1_plus_1_are_refused_before_training():
    X = column(0.0, 1.0, 2.0)
    y = column(0.5, 1.5, 2.5)
    model = identity()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError) as info:
        train.fit(model, nn.MSELoss(), opt, X, y, 3, progress=False, metrics=["accuracy"])
    message = str(info.value)
    for word in ("fit", "accuracy", "MSELoss", "0.5, 1.5, 2.5", "(3, 1)", "float64", "0/1", "-1/+1"):
        assert word in message
    assert opt.step_count == 0  # refused before the first update
    with pytest.raises(ValueError, match=r"evaluate: accuracy.*labels 0, 1, 2"):
        train.evaluate(model, nn.MSELoss(), X, column(0, 1, 2), metrics=["accuracy"])


def test_mse_labels_mixing_the_two_conventions_are_refused():
    X = column(0.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="labels -1, 0, 1"):
        train.evaluate(identity(), nn.MSELoss(), X, column(-1, 0, 1), metrics=["accuracy"])


def test_mse_labels_all_1_count_only_when_both_cuts_agree():
    X = column(-0.5, 0.7)  # both cuts: -0.5 -> no, 0.7 -> yes
    scores = train.evaluate(identity(), nn.MSELoss(), X, column(1, 1), metrics=["accuracy"])
    assert scores["accuracy"] == 0.5
    # 0.3 is a 1 by sign but a 0 when cut at 0.5: the labels do not say which
    with pytest.raises(ValueError, match=r"every label is 1.*0/1 labels.*-1/\+1 labels"):
        train.evaluate(identity(), nn.MSELoss(), column(0.3), column(1), metrics=["accuracy"])


def test_mse_labels_decided_by_the_whole_data_not_one_batch():
    # batches of one: the first batch (label 1, output 0.3) alone would not tell the cut
    X = column(0.3, -0.4, 0.9)
    y = column(1, 0, 1)  # cut at 0.5: wrong, right, right
    scores = train.evaluate(identity(), nn.MSELoss(), X, y, batch_size=1, metrics=["accuracy"])
    assert scores["accuracy"] == pytest.approx(2 / 3)


def test_mse_with_several_columns_takes_the_argmax():
    layer = nn.Linear(1, 2, dtype=np.float64)
    layer.load_state_dict({"weight": np.array([[1.0], [-1.0]]), "bias": np.zeros(2)})  # (x, -x)
    X = column(2.0, -1.0, 0.5)  # argmax: column 0, 1, 0
    one_hot = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])  # classes 0, 0, 0
    scores = train.evaluate(layer, nn.MSELoss(), X, one_hot, metrics=["accuracy"])
    assert scores["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="MSELoss"):
        train.evaluate(layer, nn.MSELoss(), X, one_hot * 3, metrics=["accuracy"])


# --- the classification losses keep their rules ------------------------------------------


def test_bce_with_logits_cuts_at_zero_even_when_the_logits_lie_in_0_1():
    X = column(0.2, 0.4, -0.1)
    y = column(1, 1, 0)  # cut at 0: all right (cut at 0.5 would get the first two wrong)
    assert train.evaluate(identity(), nn.BCEWithLogitsLoss(), X, y)["accuracy"] == 1.0
    assert train.evaluate(identity(), nn.BCEWithLogitsLoss(), X, y, metrics=["accuracy"])["accuracy"] == 1.0


def test_bce_cuts_probabilities_at_one_half():
    model = nn.Sequential(identity(), nn.Sigmoid())
    X = column(-0.3, 0.2, 2.0)  # probabilities 0.43, 0.55, 0.88
    y = column(1, 1, 1)  # cut at 0.5: wrong, right, right (cut at 0: all right)
    assert train.evaluate(model, nn.BCELoss(), X, y)["accuracy"] == pytest.approx(2 / 3)


def test_cross_entropy_takes_the_argmax():
    layer = nn.Linear(1, 3, dtype=np.float64)
    layer.load_state_dict({"weight": np.array([[1.0], [0.0], [-1.0]]), "bias": np.zeros(3)})
    X = column(2.0, -2.0, 1.0, -1.0)  # logits (x, 0, -x): argmax 0, 2, 0, 2
    scores = train.evaluate(layer, nn.CrossEntropyLoss(), X, np.array([0, 2, 1, 2]))
    assert scores["accuracy"] == 0.75


# --- a loss the library does not know ------------------------------------------------------


def test_accuracy_for_an_unknown_loss_with_one_output_column_is_refused():
    def my_loss(output, target):
        return ((output - tg.Tensor(target)) ** 2).mean()

    # before: outputs outside [0, 1] were read as logits and cut at 0, the others at 0.5
    with pytest.raises(ValueError, match=r"evaluate: accuracy.*my_loss.*one output column"):
        train.evaluate(identity(), my_loss, column(-1.0, 0.7), column(0, 1), metrics=["accuracy"])
    # a model ending in Sigmoid gives probabilities whatever the loss: cut at 0.5
    model = nn.Sequential(identity(), nn.Sigmoid())
    scores = train.evaluate(model, my_loss, column(-1.0, 0.3), column(0, 0), metrics=["accuracy"])
    assert scores["accuracy"] == 0.5  # sigmoid 0.27 -> 0 right, 0.57 -> 1 wrong


def test_fit_refuses_accuracy_for_an_unknown_loss_before_the_first_update():
    def my_loss(output, target):
        return ((output - tg.Tensor(target)) ** 2).mean()

    model = identity()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"fit: accuracy with loss_fn my_loss.*output of shape \(2, 1\)"):
        train.fit(model, my_loss, opt, column(-1.0, 0.7), column(0, 1), 2, progress=False,
                  metrics=["accuracy"])
    assert opt.step_count == 0


def test_fit_reads_the_labels_of_a_data_loader_or_of_validation_data_whole():
    X = column(0.3, -0.4, 0.9)
    y = column(1, 0, 1)  # cut at 0.5: 0.3 wrong, -0.4 right, 0.9 right
    model = identity()
    opt = optim.SGD(model.parameters(), lr=0.0)
    loader = data.DataLoader(X, y, batch_size=1, shuffle=False)
    h = train.fit(model, nn.MSELoss(), opt, None, None, 1, batches=loader, progress=False,
                  metrics=["accuracy"])
    assert h.history["accuracy"] == [pytest.approx(2 / 3)]
    ones = [(X[k : k + 1], y[k : k + 1]) for k in range(3)]  # the first batch: output 0.3, label 1
    h = train.fit(model, nn.MSELoss(), opt, None, None, 1, batches=lambda epoch: ones, progress=False,
                  metrics=["accuracy"], validation_data=(X, y))
    assert h.history["accuracy"] == [pytest.approx(2 / 3)]
    with pytest.raises(ValueError, match="every label is 1.*give fit a DataLoader or validation_data"):
        train.fit(model, nn.MSELoss(), opt, None, None, 1, batches=lambda epoch: ones, progress=False,
                  metrics=["accuracy"])
