"""fit's arguments are checked before the first update: yes/no flags, validation_data, callbacks."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data, nn, optim, train


@pytest.fixture
def moons():
    X, y = data.make_moons(60, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(np.float64)


def make_mlp() -> nn.Module:
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))


def fit_refused(kind, moons, **options):
    """fit with ``options`` raises ``kind``; no update has been made. Returns the message."""
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(kind) as info:
        train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 2, **{"progress": False, **options})
    assert opt.step_count == 0
    return str(info.value)


# --- yes/no flags ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [("shuffle", "False"), ("shuffle", "no"), ("progress", "no"), ("check_finite", "yes"),
     ("record_grad_norms", "False"), ("shuffle", 0), ("progress", None)],
)
def test_fit_refuses_a_flag_that_is_not_true_or_false(moons, name, value):
    # before: "False" and "no" are non-empty strings, so they counted as True
    message = fit_refused(TypeError, moons, **{name: value})
    assert f"fit: {name} must be True or False" in message and repr(value) in message


def recording_bce(seen):
    """BCEWithLogitsLoss that appends each batch's targets to ``seen``."""
    bce = nn.BCEWithLogitsLoss()

    def loss(output, target):
        seen.append(np.asarray(target).copy())
        return bce(output, target)

    return loss


def test_fit_takes_numpy_bools_and_shuffle_false_keeps_the_order(moons):
    X, y = moons
    seen = []
    loss = recording_bce(seen)
    model = make_mlp()
    train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), X, y, 1, batch_size=20,
              shuffle=np.False_, progress=np.False_)
    assert np.array_equal(np.concatenate(seen), y)


@pytest.mark.parametrize(
    "make, words",
    [(lambda: train.EarlyStopping(monitor="loss", restore_best_weights="False"),
      ["EarlyStopping", "restore_best_weights", "'False'"]),
     (lambda: train.ModelCheckpoint("m.npz", save_best_only="no"),
      ["ModelCheckpoint", "save_best_only", "'no'"])],
)
def test_callback_flags_must_be_true_or_false(make, words):
    with pytest.raises(TypeError) as info:
        make()
    for word in [*words, "True or False"]:
        assert word in str(info.value)


def test_compare_optimizers_refuses_a_string_progress(moons):
    X, y = moons
    with pytest.raises(TypeError, match="compare_optimizers: progress must be True or False, got str 'no'"):
        train.compare_optimizers(make_mlp, nn.BCEWithLogitsLoss(), {"sgd": lambda p: optim.SGD(p, lr=0.1)},
                                 X, y, 1, progress="no")


# --- validation_data --------------------------------------------------------------------


def test_validation_data_that_is_one_array_is_refused_before_training(moons):
    X, _ = moons
    # before: "too many values to unpack (expected 2)", after the first epoch had trained
    message = fit_refused(TypeError, moons, validation_data=X)
    for word in ("fit", "validation_data", "(X_val, y_val)", "ndarray", "(60, 2)", "float64"):
        assert word in message


@pytest.mark.parametrize(
    "bad, kind, words",
    [
        (lambda X, y: (X, y, y), ValueError, ["validation_data", "3 items", "(X_val, y_val)"]),
        (lambda X, y: [X], ValueError, ["validation_data", "1 item", "(X_val, y_val)"]),
        (lambda X, y: tg.Tensor(X), TypeError, ["validation_data", "Tensor", "(60, 2)"]),
        (lambda X, y: "val.npz", TypeError, ["validation_data", "str"]),
        (lambda X, y: (X[:10], y[:8]), ValueError,
         ["validation_data", "10 samples", "(10, 2)", "8", "(8, 1)"]),
        (lambda X, y: (X[:0], y[:0]), ValueError, ["validation_data", "no samples", "(0, 2)"]),
        (lambda X, y: (np.float64(1.0), y), ValueError, ["validation_data", "sample axis", "()"]),
    ],
)
def test_bad_validation_data_is_named_before_training(moons, bad, kind, words):
    X, y = moons
    message = fit_refused(kind, moons, validation_data=bad(X, y))
    for word in ["fit", *words]:
        assert word in message


def test_validation_data_as_a_list_pair_of_tensors_is_taken(moons):
    X, y = moons
    model = make_mlp()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 2,
                  progress=False, validation_data=[tg.Tensor(X[:10]), tg.Tensor(y[:10])])
    assert len(h.history["val_loss"]) == 2


# --- callbacks --------------------------------------------------------------------------


class Count(train.Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, epoch, logs):
        self.epochs += 1


def test_one_callback_not_in_a_list_is_taken_as_a_list_of_one(moons):
    # before: "'Count' object is not iterable"
    X, y = moons
    model = make_mlp()
    counter = Count()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 3,
              progress=False, callbacks=counter)
    assert counter.epochs == 3 and counter.model is model
    stopper = train.EarlyStopping(monitor="loss", patience=0)
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.0), X, y, 10,
                  progress=False, callbacks=stopper, shuffle=False)
    assert h.stopped_early and h.epoch == [0, 1]  # lr = 0: no improvement after the first epoch


def test_callbacks_none_means_no_callbacks(moons):
    X, y = moons
    model = make_mlp()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 2,
                  progress=False, callbacks=None)
    assert h.epoch == [0, 1]


@pytest.mark.parametrize(
    "callbacks, words",
    [
        (train.EarlyStopping, ["callbacks", "the class EarlyStopping", "EarlyStopping(...)"]),
        ([train.EarlyStopping], ["callbacks", "the class EarlyStopping", "EarlyStopping(...)"]),
        ("early_stopping", ["callbacks", "str", "'early_stopping'"]),
        (42, ["callbacks", "int", "42"]),
        ([Count(), print], ["callbacks", "item 1", "builtin_function_or_method"]),
    ],
)
def test_bad_callbacks_are_named_before_training(moons, callbacks, words):
    message = fit_refused(TypeError, moons, callbacks=callbacks)
    for word in ["fit", "train.Callback", *words]:
        assert word in message


# --- batches= with X and y ---------------------------------------------------------------


def test_with_batches_fit_trains_on_them_and_leaves_x_and_y_alone(moons):
    # documented: compare_optimizers (and `tinygrad-edu compare`) pass X, y for the final scores
    X, y = moons
    seen = []
    loss = recording_bce(seen)
    model = make_mlp()
    pairs = [(X[:25], y[:25])]
    train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), np.zeros((7, 2)), np.zeros((7, 1)), 2,
              progress=False, batches=lambda epoch: pairs)
    assert len(seen) == 2 and all(np.array_equal(s, y[:25]) for s in seen)
