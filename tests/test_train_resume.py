"""Continuing a run: fit(..., initial_epoch=k) after loading a checkpoint trains on as if it had never
stopped (numbers, shuffles, parameters bit for bit), and ModelCheckpoint keeps a better best file."""

from __future__ import annotations

import io
import os
import sys
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data, nn, optim, train
from tinygrad_edu.serialization import load, save


@pytest.fixture
def moons():
    X, y = data.make_moons(60, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(np.float64)


def make_model(seed: int = 0) -> nn.Module:
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))


def make_mlp(seed: int = 0) -> nn.Module:
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))


def assert_states_identical(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key


def optimizer_arrays(opt) -> list[np.ndarray]:
    """Every array of the optimizer's state (Adam's moments), in order."""
    out = []
    for _, per_param in sorted(opt.state_dict()["state"].items()):
        out += [np.asarray(v) for _, v in sorted(per_param.items())]
    return out


def bce_with_logits(z: np.ndarray, y: np.ndarray) -> float:
    """The mean binary cross-entropy of logits z, written out: max(z, 0) - z y + log(1 + e^-|z|)."""
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


# --- resuming reproduces an uninterrupted run ---------------------------------------------


OPTIONS = dict(batch_size=16, progress=False)


@pytest.mark.parametrize("seed", [5, None])
def test_three_epochs_saved_loaded_and_three_more_equal_six_in_one_go_bit_for_bit(moons, tmp_path, seed):
    X, y = moons
    loss_fn = nn.BCEWithLogitsLoss()

    # Six epochs that never stop.
    model = make_model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    tg.manual_seed(123)  # the library's Generator: the dropout masks, and the shuffles when seed=None
    train.fit(model, loss_fn, opt, X, y, 6, seed=seed, **OPTIONS)
    expected, expected_moments = model.state_dict(), optimizer_arrays(opt)

    # Three epochs, checkpointed after each ...
    model = make_model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    tg.manual_seed(123)
    every = train.ModelCheckpoint(str(tmp_path / "ck_{epoch}.npz"))
    train.fit(model, loss_fn, opt, X, y, 3, seed=seed, callbacks=[every], **OPTIONS)
    del model, opt

    # ... and, as in a new process, other weights and another Generator state, then the checkpoint.
    model = make_model(seed=77)
    opt = optim.Adam(model.parameters(), lr=0.01)
    tg.manual_seed(999)
    ck = load(tmp_path / "ck_3.npz")
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    tg.get_rng().bit_generator.state = ck["rng"]
    assert ck["epoch"] == 3
    h = train.fit(model, loss_fn, opt, X, y, 6, initial_epoch=ck["epoch"], seed=seed, **OPTIONS)

    assert h.epoch == [3, 4, 5]
    assert_states_identical(model.state_dict(), expected)
    assert opt.step_count == 6 * 4  # 60 samples in batches of 16: 4 steps an epoch
    for got, want in zip(optimizer_arrays(opt), expected_moments, strict=True):
        assert np.array_equal(got, want)


def test_without_initial_epoch_a_seeded_resume_repeats_the_first_shuffles_and_drifts(moons, tmp_path):
    # What the test above guards against: fit(epochs=3, seed=5) after loading starts the shuffles over.
    X, y = moons
    loss_fn = nn.BCEWithLogitsLoss()
    model = make_mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train.fit(model, loss_fn, opt, X, y, 6, seed=5, **OPTIONS)
    expected = model.state_dict()

    model = make_mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train.fit(model, loss_fn, opt, X, y, 3, seed=5, **OPTIONS)
    save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "ck.npz")
    ck = load(tmp_path / "ck.npz")

    def resumed(**more):
        model = make_mlp(seed=1)
        opt = optim.Adam(model.parameters(), lr=0.01)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        train.fit(model, loss_fn, opt, X, y, seed=5, **OPTIONS, **more)
        return model.state_dict()

    old_way = resumed(epochs=3)
    assert not all(np.array_equal(old_way[k], expected[k]) for k in expected)
    assert_states_identical(resumed(epochs=6, initial_epoch=3), expected)


def test_a_resumed_seeded_run_gets_the_shuffles_of_its_epochs(moons):
    # The default DataLoader(seed=11) shuffles with np.random.default_rng(11), one permutation an
    # epoch: epochs 4 and 5 of a run (indices 3, 4) get the 4th and 5th permutation of that stream.
    X, _ = moons
    targets = np.arange(len(X), dtype=np.float64).reshape(-1, 1)  # each sample's own number
    seen = []
    mse = nn.MSELoss()

    def loss(output, target):
        seen.append(np.asarray(target).ravel().copy())
        return mse(output, target)

    model = make_mlp()
    train.fit(model, loss, optim.SGD(model.parameters(), lr=0.0), X, targets, 5, initial_epoch=3,
              batch_size=len(X), seed=11, progress=False)
    stream = np.random.default_rng(11)
    permutations = [stream.permutation(len(X)) for _ in range(5)]
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[0], permutations[3])
    np.testing.assert_array_equal(seen[1], permutations[4])


# --- the epoch numbers go on -------------------------------------------------------------


class Epochs(train.Callback):
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, logs):
        self.seen.append(epoch)


def test_history_callbacks_batches_and_checkpoints_number_the_resumed_epochs(moons, tmp_path):
    X, y = moons
    asked = []
    pairs = [(X[:30], y[:30]), (X[30:], y[30:])]

    def batches(epoch):
        asked.append(epoch)
        return pairs

    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    names = str(tmp_path / "ck_{epoch:02d}.npz")
    train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 3, batches=batches, progress=False,
              callbacks=[train.ModelCheckpoint(names)])
    first_run = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    assert sorted(first_run) == ["ck_01.npz", "ck_02.npz", "ck_03.npz"]

    asked.clear()
    epochs = Epochs()
    checkpoint = train.ModelCheckpoint(names)
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 5, initial_epoch=3, batches=batches,
                  progress=False, callbacks=[epochs, checkpoint])
    assert asked == [3, 4] and epochs.seen == [3, 4] and h.epoch == [3, 4]
    assert h.steps["epoch"] == [3, 3, 4, 4]
    assert len(h.history["loss"]) == 2
    assert sorted(os.listdir(tmp_path)) == ["ck_01.npz", "ck_02.npz", "ck_03.npz", "ck_04.npz", "ck_05.npz"]
    for name, content in first_run.items():
        assert (tmp_path / name).read_bytes() == content  # the first run's files are left alone
    for number in (4, 5):
        ck = load(tmp_path / f"ck_{number:02d}.npz")
        assert ck["epoch"] == number and type(ck["epoch"]) is int
        assert ck["logs"]["loss"] == h.history["loss"][number - 4]
    assert checkpoint.saved == [str(tmp_path / "ck_04.npz"), str(tmp_path / "ck_05.npz")]


def test_early_stopping_counts_patience_from_the_resumed_epoch_and_names_real_epochs(moons):
    X, y = moons
    model = make_mlp()
    stopper = train.EarlyStopping(monitor="loss", patience=1)
    # lr = 0 and no shuffle: every epoch has the same loss, so only the first one improves
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.0), X, y, 40,
                  initial_epoch=30, shuffle=False, progress=False, callbacks=[stopper])
    assert h.epoch == [30, 31] and h.stopped_early
    assert stopper.best_epoch == 30 and stopper.stopped_epoch == 31


def test_a_non_finite_loss_names_the_resumed_epoch(moons):
    X, y = moons
    model = make_mlp()
    calls = []

    def loss(output, target):
        calls.append(1)
        value = nn.functional.binary_cross_entropy_with_logits(output, target)
        return value * np.nan if len(calls) == 3 else value

    with pytest.raises(train.NonFiniteLossError, match="at epoch 8, step 0 \\(global step 2;") as info:
        train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), X, y, 10, initial_epoch=7,
                  batch_size=30, shuffle=False, progress=False)
    assert (info.value.epoch, info.value.step, info.value.global_step) == (8, 0, 2)
    assert info.value.history.epoch == [7]


def test_no_batches_in_the_first_resumed_epoch_is_not_blamed_on_a_used_up_generator(moons):
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError) as info:
        train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 5, initial_epoch=3, progress=False,
                  batches=lambda epoch: [])
    assert str(info.value) == "fit: epoch 3 produced no batches"
    generator = iter([(X, y)])
    with pytest.raises(ValueError, match="fit: epoch 4 produced no batches; if batches returns the same"):
        train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 6, initial_epoch=3, progress=False,
                  batches=lambda epoch: generator)


def test_the_progress_bar_counts_from_the_initial_epoch(moons, monkeypatch):
    X, y = moons

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    model = make_mlp()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 35,
              initial_epoch=33)
    shown = terminal.getvalue()
    assert "| 33/35 [" in shown and "| 35/35 [" in shown and "| 0/35 [" not in shown


# --- initial_epoch is checked -----------------------------------------------------------


@pytest.mark.parametrize(
    "epochs, initial_epoch, kind, words",
    [
        (5, 5, ValueError, ["initial_epoch=5", "epochs=5", "last epoch", "epochs=10"]),
        (5, 30, ValueError, ["initial_epoch=30", "epochs=5", "not how many more", "epochs=35"]),
        (5, -1, ValueError, ["initial_epoch", ">= 0", "-1"]),
        (5, 2.0, TypeError, ["initial_epoch", "an int", "float", "2.0"]),
        (5, True, TypeError, ["initial_epoch", "an int", "bool", "True"]),
        (5, "3", TypeError, ["initial_epoch", "an int", "str", "'3'"]),
    ],
)
def test_a_bad_initial_epoch_is_refused_before_training(moons, epochs, initial_epoch, kind, words):
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(kind) as info:
        train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, epochs, initial_epoch=initial_epoch,
                  progress=False)
    assert opt.step_count == 0
    for word in ["fit:", *words]:
        assert word in str(info.value)


def test_initial_epoch_takes_numpy_ints_and_zero_epochs_still_train_none(moons):
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 0, progress=False).epoch == []
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, np.int64(3), initial_epoch=np.int64(2),
                  progress=False)
    assert h.epoch == [2] and type(h.epoch[0]) is int


# --- ModelCheckpoint(save_best_only=True) keeps a better best ------------------------------


def fit_with_best(model, lr, X, y, epochs, checkpoint, **more):
    opt = optim.Adam(model.parameters(), lr=lr) if lr else optim.SGD(model.parameters(), lr=0.0)
    return train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, epochs, validation_data=(X[:20], y[:20]),
                     callbacks=[checkpoint], seed=0, progress=False, **more)


def trained_best_file(moons, path, name=None) -> float:
    """The best file at ``path`` (ModelCheckpoint's ``name``, if it is not the path itself) of a
    model trained for 20 epochs; returns the val_loss it records."""
    X, y = moons
    model = make_mlp()
    fit_with_best(model, 0.05, X, y, 20, train.ModelCheckpoint(name or str(path), save_best_only=True))
    return load(path)["logs"]["val_loss"]


def test_the_best_file_records_its_val_loss(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best.npz"
    recorded = trained_best_file(moons, path)
    model = make_mlp(seed=5)
    model.load_state_dict(load(path)["model"])
    with tg.no_grad():
        logits = model(tg.Tensor(X[:20])).data
    assert recorded == pytest.approx(bce_with_logits(logits, y[:20]), rel=1e-6)
    assert recorded < bce_with_logits(make_mlp()(tg.Tensor(X[:20])).data, y[:20])  # training helped


def test_a_resumed_run_does_not_replace_a_better_best_file(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best.npz"
    recorded = trained_best_file(moons, path)
    before = path.read_bytes()
    # A worse model (the untrained one, not learning) resumed with a new ModelCheckpoint on the same file.
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = fit_with_best(make_mlp(), 0.0, X, y, 25, checkpoint, initial_epoch=20)
    assert min(h.history["val_loss"]) > recorded
    assert checkpoint.best == recorded and checkpoint.saved == []
    assert path.read_bytes() == before


def test_a_better_model_replaces_the_best_file(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best.npz"
    fit_with_best(make_mlp(), 0.0, X, y, 2, train.ModelCheckpoint(str(path), save_best_only=True))
    untrained = load(path)["logs"]["val_loss"]
    model = make_mlp()
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True)
    h = fit_with_best(model, 0.05, X, y, 22, checkpoint, initial_epoch=2)
    best_epoch = int(np.argmin(h.history["val_loss"]))
    ck = load(path)
    assert ck["logs"]["val_loss"] == min(h.history["val_loss"]) < untrained
    assert ck["epoch"] == h.epoch[best_epoch] + 1
    assert checkpoint.best == min(h.history["val_loss"])


@pytest.mark.parametrize("threshold, saved", [(0.0, False), (100.0, True)])
def test_initial_value_threshold_is_the_best_to_beat(moons, tmp_path, threshold, saved):
    X, y = moons
    path = tmp_path / "best.npz"
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True, initial_value_threshold=threshold)
    fit_with_best(make_mlp(), 0.05, X, y, 3, checkpoint)
    assert path.exists() is saved and bool(checkpoint.saved) is saved


def test_for_accuracies_a_threshold_of_one_can_never_be_beaten(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best_{epoch}.npz"
    checkpoint = train.ModelCheckpoint(str(path), monitor="val_accuracy", save_best_only=True,
                                       initial_value_threshold=1.0)
    fit_with_best(make_mlp(), 0.05, X, y, 3, checkpoint)
    assert os.listdir(tmp_path) == [] and checkpoint.best == 1.0


def test_the_file_and_the_threshold_the_stricter_decides(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best.npz"
    recorded = trained_best_file(moons, path)
    before = path.read_bytes()
    looser = train.ModelCheckpoint(str(path), save_best_only=True, initial_value_threshold=recorded + 10)
    fit_with_best(make_mlp(), 0.0, X, y, 1, looser)
    assert looser.best == recorded and path.read_bytes() == before
    stricter = train.ModelCheckpoint(str(path), save_best_only=True, initial_value_threshold=recorded / 2)
    fit_with_best(make_mlp(), 0.0, X, y, 1, stricter)
    assert stricter.best == recorded / 2 and path.read_bytes() == before


@pytest.mark.parametrize(
    "write, why",
    [
        (lambda path: save({"model": make_mlp().state_dict()}, path), "records no finite 'val_loss'"),
        (lambda path: path.write_bytes(b"not a checkpoint"), "cannot be read as a checkpoint"),
    ],
)
def test_an_existing_best_file_without_its_value_is_replaced_with_a_warning(moons, tmp_path, write, why):
    X, y = moons
    path = tmp_path / "best.npz"
    write(path)
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True)
    with pytest.warns(UserWarning, match="already exists and " + why) as record:
        fit_with_best(make_mlp(), 0.05, X, y, 1, checkpoint)
    assert all(w.filename == __file__ for w in record)  # points at the fit call (in fit_with_best)
    assert "initial_value_threshold" in str(record[0].message)
    assert checkpoint.saved == [str(path)] and "logs" in load(path)


def test_an_existing_file_is_read_only_when_it_records_the_monitored_key(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best.npz"
    trained_best_file(moons, path)  # records val_loss, val_accuracy, loss, ...
    checkpoint = train.ModelCheckpoint(str(path), monitor="my_score", mode="min", save_best_only=True,
                                       initial_value_threshold=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # with a threshold there is nothing to warn about
        checkpoint.on_train_begin(train.History())
    assert checkpoint.best == 0.5


def test_a_file_name_with_fields_reads_no_file_and_warns_of_none(moons, tmp_path):
    X, y = moons
    (tmp_path / "best_{epoch}.npz").write_bytes(b"a file literally named so")
    checkpoint = train.ModelCheckpoint(str(tmp_path / "best_{epoch}.npz"), save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_with_best(make_mlp(), 0.05, X, y, 2, checkpoint)
    assert checkpoint.saved[0] == str(tmp_path / "best_1.npz")


def test_escaped_braces_name_one_file(moons, tmp_path):
    X, y = moons
    path, name = tmp_path / "best{x}.npz", str(tmp_path / "best{{x}}.npz")
    recorded = trained_best_file(moons, path, name)
    before = path.read_bytes()
    checkpoint = train.ModelCheckpoint(name, save_best_only=True)
    with pytest.warns(UserWarning, match=r"recorded in '.*best\{x\}.npz', so it still holds"):
        fit_with_best(make_mlp(), 0.0, X, y, 1, checkpoint)
    assert checkpoint.best == recorded and path.read_bytes() == before


@pytest.mark.parametrize(
    "value, kind, words",
    [("0.3", TypeError, ["a number or None", "str", "'0.3'"]),
     (True, TypeError, ["a number or None", "bool"]),
     (float("nan"), ValueError, ["finite", "nan"]),
     (float("inf"), ValueError, ["finite", "inf"])],
)
def test_a_bad_initial_value_threshold_is_refused(value, kind, words):
    with pytest.raises(kind) as info:
        train.ModelCheckpoint("best.npz", save_best_only=True, initial_value_threshold=value)
    for word in ["ModelCheckpoint", "initial_value_threshold", *words]:
        assert word in str(info.value)


def test_the_checkpoint_holds_the_logs_and_the_generator_state_after_its_epoch(moons, tmp_path):
    X, y = moons
    states = []

    class GeneratorState(train.Callback):
        def on_epoch_end(self, epoch, logs):
            states.append(tg.get_rng().bit_generator.state)

    model = make_model()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 2,
                  progress=False, callbacks=[train.ModelCheckpoint(str(tmp_path / "{epoch}.npz")),
                                             GeneratorState()])
    for number in (1, 2):
        ck = load(tmp_path / f"{number}.npz")
        assert ck["rng"] == states[number - 1]
        assert ck["logs"] == {key: values[number - 1] for key, values in h.history.items()}
    assert states[0] != states[1]  # the dropout masks and the shuffles drew from it


def test_a_run_the_old_best_file_beat_throughout_says_so_at_the_end(moons, tmp_path):
    """A re-run notebook (initial_epoch=0) whose every epoch lost to an earlier run's best.npz kept
    that file without a word."""
    X, y = moons
    path = tmp_path / "best.npz"
    recorded = trained_best_file(moons, path)
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True)
    message = rf"no epoch of this run beat the val_loss of {recorded:.6g} recorded"
    with pytest.warns(UserWarning, match=message):
        fit_with_best(make_mlp(seed=1), None, X, y, 2, checkpoint)  # lr 0: it cannot improve
    assert checkpoint.saved == [] and load(path)["logs"]["val_loss"] == recorded


def test_the_same_checkpoint_given_to_a_second_run_warns_as_a_new_one_would(moons, tmp_path):
    # before: its first run's files in .saved kept the second run's warning quiet
    X, y = moons
    path = tmp_path / "best.npz"
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True)
    fit_with_best(make_mlp(), 0.05, X, y, 20, checkpoint)
    assert checkpoint.saved
    recorded = load(path)["logs"]["val_loss"]
    message = rf"no epoch of this run beat the val_loss of {recorded:.6g} recorded"
    with pytest.warns(UserWarning, match=message):
        fit_with_best(make_mlp(seed=1), None, X, y, 2, checkpoint)
    assert checkpoint.saved == []


def test_an_old_best_file_of_another_model_is_replaced_with_a_warning(moons, tmp_path):
    X, y = moons
    path = tmp_path / "best.npz"
    trained_best_file(moons, path)  # a 2-4-1 network
    tg.manual_seed(0)
    other = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    checkpoint = train.ModelCheckpoint(str(path), save_best_only=True)
    with pytest.warns(UserWarning, match=r"holds a model of other shapes \(0.weight\); the first epoch"):
        fit_with_best(other, None, X, y, 1, checkpoint)  # its loss is worse: it used to write nothing
    assert checkpoint.saved == [str(path)]
    other.load_state_dict(load(path)["model"])


def test_a_numpy_scalar_training_metric_is_logged_as_a_float_and_guards_the_best_file(moons, tmp_path):
    # np.mean of a float32 model's output is an np.float32, which is no Python float: the logs hold
    # floats, and a best file written before that (np.float32 in its logs) still counts as a value.
    X, y = moons
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    path = tmp_path / "best.npz"

    def mae(output, target):
        return np.mean(np.abs(output - target))

    def run(model, lr, epochs, initial_epoch=0):
        checkpoint = train.ModelCheckpoint(str(path), monitor="mae", mode="min", save_best_only=True)
        opt = optim.SGD(model.parameters(), lr=lr)
        return train.fit(model, nn.MSELoss(), opt, X32, y32, epochs=epochs, initial_epoch=initial_epoch,
                         metrics=[mae], callbacks=[checkpoint], **OPTIONS), checkpoint

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)).to(np.float32)
    h, _ = run(model, 0.05, 5)
    assert all(type(v) is float for v in h.history["mae"])
    recorded = load(path)["logs"]["mae"]
    assert type(recorded) is float and recorded == min(h.history["mae"])
    before = path.read_bytes()
    for p in model.parameters():  # a much worse model, resumed with a new ModelCheckpoint
        p.data[...] = 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, checkpoint = run(model, 0.0, 6, initial_epoch=5)
    assert h.history["mae"][-1] > recorded and checkpoint.saved == []
    assert path.read_bytes() == before
    old = load(path)  # a file written with the metric's own np.float32, as before
    old["logs"]["mae"] = np.float32(recorded)
    save(old, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, checkpoint = run(model, 0.0, 7, initial_epoch=6)
    assert checkpoint.saved == [] and checkpoint.best == pytest.approx(recorded)
