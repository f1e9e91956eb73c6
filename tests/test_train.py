"""fit / evaluate / predict / callbacks / compare_optimizers on small data, a few epochs each."""

from __future__ import annotations

import os
import signal
import sys
import types

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data, nn, optim, train
from tinygrad_edu.serialization import load

# --- fixtures and helpers -----------------------------------------------------------


@pytest.fixture
def moons():
    X, y = data.make_moons(120, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(np.float64)


def make_mlp(seed: int = 0, hidden: int = 8) -> nn.Module:
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


class Recorder:
    """A loss that wraps BCEWithLogitsLoss, counts its calls and snapshots the model before each one.

    The snapshot at call k is the state after k completed updates.
    """

    def __init__(self, model, on_call=None, inner=None):
        self.model, self.on_call = model, on_call
        self.inner = inner if inner is not None else nn.BCEWithLogitsLoss()
        self.calls = 0
        self.snapshots = []

    def __call__(self, output, target):
        self.snapshots.append(self.model.state_dict())
        loss = self.inner(output, target)
        if self.on_call is not None:
            loss = self.on_call(self.calls, loss)
        self.calls += 1
        return loss


def fixed_batches(X, y, size):
    """The same unshuffled batches every epoch (so a hand-written loop can replay them)."""
    pairs = [(X[k : k + size], y[k : k + size]) for k in range(0, len(X), size)]
    return lambda epoch: pairs


def manual_training(model, optimizer, batch_list, n_steps):
    """The plain loop, written out, for n_steps updates over the repeated batch list."""
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for k in range(n_steps):
        xb, yb = batch_list[k % len(batch_list)]
        optimizer.zero_grad()
        loss = loss_fn(model(tg.Tensor(xb)), yb)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.data))
    return losses


# --- learning and the history -----------------------------------------------------------


def test_adam_on_moons_loss_decreases_and_accuracy_rises(moons):
    X, y = moons
    model = make_mlp(hidden=16)
    opt = optim.Adam(model.parameters(), lr=0.02)
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, epochs=40, batch_size=32, seed=0, progress=False)
    loss, acc = h.history["loss"], h.history["accuracy"]
    assert loss[-1] < 0.5 * loss[0]
    assert acc[-1] >= 0.85 and acc[-1] > acc[0]
    # accuracy of the final model, computed here by hand from raw outputs
    logits = model(tg.Tensor(X)).data
    assert np.mean((logits > 0) == (y > 0.5)) >= 0.85


def test_history_keys_lengths_and_weighted_epoch_loss(moons):
    X, y = moons  # 120 samples, batches of 50: sizes 50, 50, 20
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        opt,
        X,
        y,
        3,
        batch_size=50,
        seed=1,
        validation_data=(X[:30], y[:30]),
        progress=False,
    )
    assert h.epoch == [0, 1, 2]
    expected = {"loss", "last_batch_loss", "accuracy", "lr", "time", "val_loss", "val_accuracy"}
    assert set(h.history) == expected
    assert all(len(v) == 3 for v in h.history.values())
    assert len(h.steps["loss"]) == 9 and h.steps["epoch"] == [0] * 3 + [1] * 3 + [2] * 3
    assert h.history["lr"] == [0.1] * 3 and h.steps["lr"] == [0.1] * 9
    for e in range(3):
        s = h.steps["loss"][3 * e : 3 * e + 3]
        assert h.history["loss"][e] == pytest.approx((50 * s[0] + 50 * s[1] + 20 * s[2]) / 120, rel=1e-12)
        assert h.history["last_batch_loss"][e] == s[2]
    assert not h.interrupted and not h.stopped_early and h.total_time > 0


def test_validation_metrics_match_a_hand_computation(moons):
    X, y = moons
    X_val, y_val = X[:40], y[:40]
    model = make_mlp()
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.Adam(model.parameters(), lr=0.01),
        X[40:],
        y[40:],
        2,
        validation_data=(X_val, y_val),
        progress=False,
        seed=0,
    )
    z = model(tg.Tensor(X_val)).data
    bce = np.mean(np.maximum(z, 0) - z * y_val + np.log1p(np.exp(-np.abs(z))))
    assert h.history["val_loss"][-1] == pytest.approx(bce, rel=1e-10)
    assert h.history["val_accuracy"][-1] == pytest.approx(np.mean((z > 0) == (y_val > 0.5)))


def test_course_random_mini_batches_give_the_same_steps_as_the_hand_loop(moons):
    X, y = moons
    seeds_used = []

    def batches(epoch):
        seed = 10 + epoch + 1  # the course: seed = seed + 1 before each epoch, starting at 10
        seeds_used.append(seed)
        return data.random_mini_batches(X, y, 32, seed=seed)

    model = make_mlp()
    twin = make_mlp()
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.Momentum(model.parameters(), lr=0.05),
        None,
        None,
        3,
        batches=batches,
        progress=False,
    )
    assert seeds_used == [11, 12, 13]
    opt = optim.Momentum(twin.parameters(), lr=0.05)
    losses = []
    for seed in (11, 12, 13):
        order = np.random.RandomState(seed).permutation(len(X))
        Xs, ys = X[order], y[order]
        pairs = [(Xs[k : k + 32], ys[k : k + 32]) for k in range(0, len(X), 32)]
        losses += manual_training(twin, opt, pairs, len(pairs))
    assert h.steps["loss"] == losses
    assert states_equal(model.state_dict(), twin.state_dict())


def test_a_dataloader_can_be_passed_as_batches(moons):
    X, y = moons
    model = make_mlp()
    loader = data.DataLoader(X, y, batch_size=40, seed=0)
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        None,
        None,
        2,
        batches=loader,
        progress=False,
    )
    assert len(h.steps["loss"]) == 2 * 3


def test_lr_schedule_is_recorded_per_step(moons):
    X, y = moons
    model = make_mlp()
    schedule = optim.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=schedule),
        X,
        y,
        2,
        batch_size=40,
        progress=False,
    )
    assert h.steps["lr"] == pytest.approx([0.1 * 0.5 ** (k / 2) for k in range(6)], rel=1e-12)
    assert h.history["lr"] == pytest.approx([0.1 * 0.5**1.0, 0.1 * 0.5**2.5], rel=1e-12)


def test_regression_has_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    tg.manual_seed(0)
    model = nn.Linear(3, 1)
    h = train.fit(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 30, batch_size=16, progress=False
    )
    assert "accuracy" not in h.history
    assert h.history["loss"][-1] < 1e-3
    np.testing.assert_allclose(model.weight.data, [[1.0, -2.0, 0.5]], atol=0.02)


# --- accuracy: the threshold follows the loss -----------------------------------------


def _fixed_linear(out_features: int, weight) -> nn.Linear:
    layer = nn.Linear(1, out_features)
    layer.load_state_dict({"weight": np.array(weight, dtype=float), "bias": np.zeros(out_features)})
    return layer


def test_accuracy_thresholds_logits_at_zero_and_probabilities_at_half():
    X = np.array([[-2.0], [-0.2], [0.3], [2.0]])
    y = np.array([[0.0], [0.0], [1.0], [1.0]])
    logits_model = _fixed_linear(1, [[1.0]])
    assert train.evaluate(logits_model, nn.BCEWithLogitsLoss(), X, y)["accuracy"] == 1.0
    prob_model = nn.Sequential(_fixed_linear(1, [[1.0]]), nn.Sigmoid())
    # every probability is > 0: thresholding at 0 would give 0.5
    assert train.evaluate(prob_model, nn.BCELoss(), X, y)["accuracy"] == 1.0
    assert "accuracy" not in train.evaluate(logits_model, nn.MSELoss(), X, y)


def test_multiclass_accuracy_is_argmax():
    X = np.array([[1.0], [-1.0], [2.0]])
    model = _fixed_linear(2, [[1.0], [-1.0]])  # logits (x, -x): class 0 when x > 0
    scores = train.evaluate(model, nn.CrossEntropyLoss(), X, np.array([0, 1, 1]))
    assert scores["accuracy"] == pytest.approx(2 / 3)


# --- NaN / Inf --------------------------------------------------------------------------


def test_nan_loss_stops_with_epoch_and_step_and_keeps_last_finite_parameters(moons):
    X, y = moons
    model = make_mlp()
    bad = 5  # 3 batches per epoch: epoch 1, step 2

    def poison(k, loss):
        return loss * float("nan") if k == bad else loss

    loss_fn = Recorder(model, poison)
    with pytest.raises(train.NonFiniteLossError, match=r"epoch 1, step 2") as info:
        train.fit(
            model, loss_fn, optim.Adam(model.parameters(), lr=0.01), X, y, 4, batch_size=40, progress=False
        )
    assert "nan" in str(info.value)
    assert (info.value.epoch, info.value.step, info.value.global_step) == (1, 2, 5)
    assert states_equal(model.state_dict(), loss_fn.snapshots[bad])
    assert not states_equal(model.state_dict(), loss_fn.snapshots[bad - 1])  # the step before did update
    assert len(info.value.history.steps["loss"]) == bad and info.value.history.epoch == [0]


def test_huge_learning_rate_diverges_with_a_clear_error_and_finite_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2)) * 100
    y = rng.normal(size=(32, 1)) * 100
    tg.manual_seed(0)
    model = nn.Linear(2, 1)
    loss_fn = Recorder(model, inner=nn.MSELoss())
    opt = optim.SGD(model.parameters(), lr=1e6)
    with (
        np.errstate(all="ignore"),
        pytest.raises(train.NonFiniteLossError, match=r"at epoch \d+, step 0") as info,
    ):
        train.fit(model, loss_fn, opt, X, y, 500, batch_size=32, progress=False)
    # the parameters are those before the failing step, all finite
    assert states_equal(model.state_dict(), loss_fn.snapshots[info.value.global_step])
    assert all(np.isfinite(v).all() for v in model.state_dict().values())


def test_an_update_that_overflows_the_parameters_is_undone():
    X = np.array([[1.0]])
    y = np.array([[0.0]])
    model = _fixed_linear(1, [[1.0]])
    before = model.state_dict()
    versions = [p._version for p in model.parameters()]
    # loss and gradient are finite (2.0), but lr * grad overflows float64
    with np.errstate(all="ignore"), pytest.raises(train.NonFiniteLossError, match="made 'weight'.*undone"):
        train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1e308), X, y, 1, progress=False)
    assert states_equal(model.state_dict(), before)
    # changed in place (the update, then the copy back): marked, so an older graph cannot use it
    assert all(p._version > v for p, v in zip(model.parameters(), versions))


class _NanGrad(tg.Function):
    """Identity forward whose backward is NaN: a finite loss with a broken gradient."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad * float("nan")


class NanGradModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def forward(self, x):
        return _NanGrad.apply(self.layer(x))


def test_nonfinite_gradient_stops_before_the_update(moons):
    X, y = moons
    tg.manual_seed(0)
    model = NanGradModel()
    before = model.state_dict()
    with pytest.raises(
        train.NonFiniteLossError, match=r"gradient of 'layer\.(weight|bias)'.*epoch 0, step 0"
    ):
        train.fit(
            model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 1, progress=False
        )
    assert states_equal(model.state_dict(), before)


def test_a_refused_batch_leaves_batchnorm_running_statistics_as_they_were(moons):
    X, y = moons
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 4, dtype=np.float64), nn.BatchNorm1d(4, dtype=np.float64), nn.ReLU(),
        nn.Linear(4, 1, dtype=np.float64),
    )
    opt = optim.Adam(model.parameters(), lr=0.01)
    train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 2, progress=False)
    before = model.state_dict()  # the buffers too: running_mean, running_var, num_batches_tracked
    bad = X[:16].copy()
    bad[3, 0] = np.inf
    with pytest.raises(train.NonFiniteLossError, match="the loss is nan"):
        train.fit(model, nn.BCEWithLogitsLoss(), opt, bad, y[:16], 1, progress=False)
    # before: running_mean became [inf, inf, -inf, inf] and every later prediction nan
    assert states_equal(model.state_dict(), before)
    assert np.isfinite(train.predict(model, X[:3])).all()


def test_targets_that_a_hand_written_loss_would_broadcast_are_refused(moons):
    X, y = moons
    model = make_mlp()

    def squared_error(output, target):  # no shape check of its own
        return ((output - target) ** 2).mean()

    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"output has shape \(\d+, 1\) and the targets have shape \(\d+,\)"):
        train.fit(model, squared_error, opt, X, y.ravel(), 1, progress=False)
    history = train.fit(model, squared_error, opt, X, y, 1, progress=False)
    assert len(history.history["loss"]) == 1


def test_cross_entropy_on_a_one_output_model_gets_the_loss_own_advice(moons):
    """fit's broadcast check said "reshape the targets to (64, 1)", then CrossEntropyLoss said "flatten
    them": a loop. Class labels (N,) are right for cross-entropy; the loss names the real problem."""
    X, y = moons
    model = make_mlp()  # one output
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: target\[\d+\] = 1 is not a class index: .*"
                       r"One output per sample is one score, not one per class") as info:
        train.fit(model, nn.CrossEntropyLoss(), opt, X, y.ravel().astype(np.int64), 1, progress=False)
    assert "Reshape the targets" not in str(info.value)


# --- Ctrl-C -------------------------------------------------------------------------------


def test_keyboard_interrupt_from_the_loss_returns_history_and_last_completed_state(moons):
    X, y = moons
    model = make_mlp()
    k = 4

    def interrupt(call, loss):
        if call == k:
            raise KeyboardInterrupt
        return loss

    loss_fn = Recorder(model, interrupt)
    h = train.fit(
        model, loss_fn, optim.Adam(model.parameters(), lr=0.01), X, y, 5, batch_size=40, progress=False
    )
    assert h.interrupted
    assert len(h.steps["loss"]) == k and h.epoch == [0]  # epoch 1 was not completed
    assert states_equal(model.state_dict(), loss_fn.snapshots[k])
    assert model.training


def test_keyboard_interrupt_from_a_callback_stops_after_that_epoch(moons):
    X, y = moons

    class StopAt(train.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 1:
                raise KeyboardInterrupt

    model = make_mlp()
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        X,
        y,
        5,
        callbacks=[StopAt()],
        progress=False,
    )
    assert h.interrupted and h.epoch == [0, 1]


def test_sigint_lets_the_current_step_finish(moons):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("another SIGINT handler is installed")
    X, y = moons
    model, twin = make_mlp(), make_mlp()
    k = 4

    def send_sigint(call, loss):
        if call == k:
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    batches = fixed_batches(X, y, 40)
    h = train.fit(
        model,
        Recorder(model, send_sigint),
        optim.Adam(model.parameters(), lr=0.01),
        None,
        None,
        5,
        batches=batches,
        progress=False,
    )
    assert h.interrupted and len(h.steps["loss"]) == k + 1  # step k was completed
    manual_training(twin, optim.Adam(twin.parameters(), lr=0.01), batches(0), k + 1)
    assert states_equal(model.state_dict(), twin.state_dict())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- callbacks ------------------------------------------------------------------------------


def test_early_stopping_stops_after_patience_epochs_without_improvement(moons):
    X, y = moons
    model = make_mlp()
    stopper = train.EarlyStopping(monitor="loss", patience=2)
    # lr = 0: the loss never improves after the first epoch
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.0),
        X,
        y,
        20,
        callbacks=[stopper],
        progress=False,
        shuffle=False,
    )
    assert h.stopped_early and h.epoch == [0, 1, 2] and stopper.stopped_epoch == 2


def test_early_stopping_restores_the_best_weights(moons):
    X, y = moons
    values = iter([3.0, 1.0, 2.0, 2.0, 2.0, 2.0])

    def score(output, target):  # one batch per epoch, so one call per epoch
        return next(values)

    states = []

    class Snapshot(train.Callback):
        def on_epoch_end(self, epoch, logs):
            states.append(self.model.state_dict())

    model = make_mlp()
    stopper = train.EarlyStopping(monitor="score", patience=2, mode="min", restore_best_weights=True)
    h = train.fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        X,
        y,
        6,
        batch_size=len(X),
        metrics=[score],
        callbacks=[Snapshot(), stopper],
        progress=False,
    )
    assert h.epoch == [0, 1, 2, 3] and stopper.best_epoch == 1
    assert states_equal(model.state_dict(), states[1])


def test_early_stopping_on_missing_validation_data_says_what_to_do(moons):
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="monitors 'val_loss', which this run will not log.*validation_data"):
        train.fit(
            model,
            nn.BCEWithLogitsLoss(),
            opt,
            X,
            y,
            2,
            callbacks=[train.EarlyStopping()],
            progress=False,
        )
    assert opt.step_count == 0  # refused before training, not after the first epoch


def test_model_checkpoint_files_load_back(moons, tmp_path):
    X, y = moons
    model = make_mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    every = train.ModelCheckpoint(str(tmp_path / "ck_{epoch:02d}.npz"))
    best = train.ModelCheckpoint(str(tmp_path / "best.npz"), monitor="loss", save_best_only=True)
    train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 3, callbacks=[every, best], progress=False)
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "ck_01.npz", "ck_02.npz", "ck_03.npz"]
    ck = load(tmp_path / "ck_03.npz")
    assert ck["epoch"] == 3
    assert states_equal(ck["model"], model.state_dict())
    fresh = make_mlp(seed=99)
    fresh.load_state_dict(ck["model"])
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.01)
    fresh_opt.load_state_dict(ck["optimizer"])
    assert fresh_opt.step_count == opt.step_count
    np.testing.assert_array_equal(predict_plain(fresh, X), predict_plain(model, X))


def predict_plain(model, X):
    return model(tg.Tensor(X)).data


# --- predict / evaluate ---------------------------------------------------------------------


def test_predict_uses_eval_mode_no_graph_and_restores_the_mode():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 50), nn.Dropout(0.5), nn.Linear(50, 1))
    X = np.random.default_rng(0).normal(size=(10, 3))
    out = train.predict(model, X)
    assert isinstance(out, np.ndarray) and out.shape == (10, 1)
    model.eval()
    expected = model(tg.Tensor(X)).data  # dropout off
    model.train()
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(train.predict(model, X, batch_size=3), expected, rtol=1e-12)
    assert model.training
    assert train.evaluate(model, nn.MSELoss(), X, np.zeros((10, 1)))["loss"] == pytest.approx(
        np.mean(expected**2)
    )
    assert model.training


# --- comparing optimizers -------------------------------------------------------------------


def test_compare_optimizers_starts_from_identical_weights_and_prints_a_table(moons):
    X, y = moons
    built = []

    def make_model():
        model = make_mlp(seed=len(built))  # a different init each call: the copy must undo it
        built.append(model)
        return model

    result = train.compare_optimizers(
        make_model,
        nn.BCEWithLogitsLoss(),
        {"sgd": lambda p: optim.SGD(p, lr=0.1), "adam": lambda p: optim.Adam(p, lr=0.01)},
        X,
        y,
        epochs=3,
        batch_size=40,
        progress=False,
    )
    first = [result.histories[name].steps["loss"][0] for name in ("sgd", "adam")]
    assert first[0] == first[1]
    assert not states_equal(result.models["sgd"].state_dict(), result.models["adam"].state_dict())
    text = str(result)
    lines = text.splitlines()
    assert lines[0].split() == ["optimizer", "loss", "accuracy", "epochs", "time", "(s)"]
    assert lines[2].startswith("sgd") and lines[3].startswith("adam")
    for row in result.rows:
        scores = train.evaluate(result.models[row["name"]], nn.BCEWithLogitsLoss(), X, y)
        assert row["loss"] == scores["loss"] and row["epochs"] == 3
    assert result.best in ("sgd", "adam")


# --- progress bar ---------------------------------------------------------------------------


def test_progress_false_prints_nothing(moons, capfd):
    X, y = moons
    model = make_mlp()
    train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 2, progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_progress_bar_shows_epoch_loss_and_accuracy_on_a_terminal(moons, monkeypatch):
    bars = []

    class FakeBar:
        def __init__(self, total, **kwargs):
            self.total, self.n, self.postfix, self.closed = total, 0, None, False
            bars.append(self)

        def set_postfix(self, postfix, refresh=True):
            self.postfix = postfix

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    monkeypatch.setattr(sys, "stderr", types.SimpleNamespace(isatty=lambda: False, write=lambda s: None))
    train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 2)
    assert bars == []  # not a terminal: no bar
    monkeypatch.setattr(sys, "stderr", types.SimpleNamespace(isatty=lambda: True, write=lambda s: None))
    train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 3)
    (bar,) = bars
    assert bar.total == 3 and bar.n == 3 and bar.closed
    assert set(bar.postfix) == {"loss", "acc"}


def test_without_tqdm_progress_is_silent(moons, monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    X, y = moons
    model = make_mlp()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 2)
    assert h.epoch == [0, 1]
    assert capfd.readouterr() == ("", "")


# --- bad input ------------------------------------------------------------------------------


def test_bad_arguments_give_clear_errors(moons):
    X, y = moons
    model, other = make_mlp(), make_mlp()
    loss = nn.BCEWithLogitsLoss()
    with pytest.raises(ValueError, match="none of which belong to the model"):
        train.fit(model, loss, optim.SGD(other.parameters(), lr=0.1), X, y, 1, progress=False)
    with pytest.raises(TypeError, match="fit: epochs must be an int >= 0 .*got float 1.5"):
        train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), X, y, 1.5, progress=False)
    with pytest.raises(ValueError, match="fit: epochs must be an int >= 0, got -1"):
        train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), X, y, -1, progress=False)
    with pytest.raises(ValueError, match="expected a scalar"):  # (a loss without a .reduction to read)
        train.fit(
            model,
            lambda out, t: nn.functional.binary_cross_entropy_with_logits(out, t, reduction="none"),
            optim.SGD(model.parameters(), lr=0.1),
            X,
            y,
            1,
            progress=False,
        )
    with pytest.raises(ValueError, match="X has 120 samples"):
        train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), X, y[:10], 1, progress=False)
    with pytest.raises(TypeError, match="batches must be"):
        train.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), X, y, 1, batches=[1, 2], progress=False)


def test_compare_optimizers_reports_a_diverging_run_and_goes_on():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2)) * 100
    y = rng.normal(size=(32, 1)) * 100

    def make_model():
        tg.manual_seed(0)
        return nn.Linear(2, 1)

    with np.errstate(all="ignore"):
        result = train.compare_optimizers(
            make_model,
            nn.MSELoss(),
            {"huge": lambda p: optim.SGD(p, lr=1e6), "small": lambda p: optim.SGD(p, lr=1e-5)},
            X,
            y,
            epochs=300,
            batch_size=32,
            progress=False,
        )
    assert list(result.errors) == ["huge"] and isinstance(result.errors["huge"], train.NonFiniteLossError)
    assert [r["name"] for r in result.rows] == ["huge", "small"]
    assert result.rows[1]["epochs"] == 300 and result.rows[0]["epochs"] < 300
    assert result.best == "small"
    assert str(result).splitlines()[-1].startswith("huge: fit: the ")
    assert "epoch" in str(result).splitlines()[-1]


def test_a_run_cut_short_by_ctrl_c_is_not_named_best(moons):
    X, y = moons
    running = {"name": None, "calls": 0}
    base = nn.BCEWithLogitsLoss()

    def loss_fn(out, target):
        running["calls"] += 1
        if running["name"] == "fast" and running["calls"] == 60:
            raise KeyboardInterrupt
        return base(out, target)

    def start(name, make):
        def make_optimizer(params):
            running["name"], running["calls"] = name, 0
            return make(params)

        return make_optimizer

    result = train.compare_optimizers(
        make_mlp,
        loss_fn,
        {
            "slow": start("slow", lambda p: optim.SGD(p, lr=1e-4)),
            "fast": start("fast", lambda p: optim.Adam(p, lr=0.05)),
        },
        X,
        y,
        epochs=40,
        batch_size=40,
        progress=False,
    )
    slow, fast = result.rows
    assert result.interrupted and result.histories["fast"].interrupted
    assert fast["epochs"] < slow["epochs"] == 40 and fast["loss"] < slow["loss"]  # lower, but cut short
    assert result.best == "slow"  # it was "fast"
    assert result.finished("slow") and not result.finished("fast")
    assert str(result).splitlines()[-1] == (
        f"fast: stopped by Ctrl-C after {fast['epochs']} epoch(s), not counted as best"
    )


def test_early_stopping_monitor_must_be_a_name():
    for monitor in (3, None, ("loss",)):
        with pytest.raises(TypeError, match=r"EarlyStopping: monitor must be the name of a logged value"):
            train.EarlyStopping(monitor=monitor)  # it was "argument of type 'int' is not iterable"
    with pytest.raises(TypeError, match=r"ModelCheckpoint: monitor must be the name"):
        train.ModelCheckpoint("ck.npz", monitor=0)


def test_tensor_inputs_give_the_same_run_as_ndarrays(moons):
    X, y = moons
    runs = []
    for to in (np.asarray, tg.Tensor):
        model = make_mlp()
        h = train.fit(
            model,
            nn.BCEWithLogitsLoss(),
            optim.Adam(model.parameters(), lr=0.01),
            to(X),
            to(y),
            2,
            seed=5,
            validation_data=(to(X[:20]), to(y[:20])),
            progress=False,
        )
        runs.append((h.steps["loss"], h.history["val_loss"], model.state_dict()))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert states_equal(runs[0][2], runs[1][2])


def test_a_class_where_fit_wants_an_instance_is_named(moons):
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss_class = r"fit: loss_fn is the class BCEWithLogitsLoss.*nn\.BCEWithLogitsLoss\(\)"
    with pytest.raises(TypeError, match=loss_class):
        train.fit(model, nn.BCEWithLogitsLoss, opt, X, y, 1, progress=False)
    optimizer_class = r"fit: optimizer is the class Adam.*optim\.Adam\(model\.parameters\(\)"
    with pytest.raises(TypeError, match=optimizer_class):
        train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam, X, y, 1, progress=False)
    with pytest.raises(TypeError, match="fit: loss_fn is a str"):
        train.fit(model, "bce", opt, X, y, 1, progress=False)


def test_accuracy_of_several_columns_after_a_binary_loss_counts_every_label(moons):
    # multi-label: each column its own yes/no; before, the argmax of the row was taken as a class
    logits = np.array([[2.0, 3.0, -1.0], [-1.0, -2.0, 1.0]])
    targets = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = nn.Linear(3, 3)

        def forward(self, x):
            return tg.Tensor(logits) + 0 * self.unused(x)

    scores = train.evaluate(Fixed(), nn.BCEWithLogitsLoss(), np.zeros((2, 3)), targets)
    assert scores["accuracy"] == 1.0
    probabilities = 1 / (1 + np.exp(-logits))
    wrong_one = targets.copy()
    wrong_one[0, 2] = 1.0
    assert train._Accuracy("probability", None)(probabilities, wrong_one) == 5 / 6


def test_evaluate_predict_and_fit_leave_each_submodule_in_its_own_mode(moons):
    X, y = moons
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    model.train()
    model[1].eval()  # dropout off on purpose
    modes = [m.training for m in model.modules()]
    train.evaluate(model, nn.BCEWithLogitsLoss(), X, y)
    train.predict(model, X, batch_size=16)
    assert [m.training for m in model.modules()] == modes  # before: the Dropout was back on

    seen = set()
    bce = nn.BCEWithLogitsLoss()

    def loss_watching_the_modes(output, target):  # called during each training step
        seen.add((model.training, model[1].training))
        return bce(output, target)

    train.fit(model, loss_watching_the_modes, optim.SGD(model.parameters(), lr=0.1), X, y, 2,
              progress=False, validation_data=(X, y))
    assert (True, False) in seen and (True, True) not in seen  # the Dropout stayed off in training
    assert [m.training for m in model.modules()] == modes


def test_empty_data_and_a_checkpoint_name_without_its_log_are_named(moons, tmp_path):
    X, y = moons
    model = make_mlp()
    with pytest.raises(ValueError, match="evaluate: X has no samples"):
        train.evaluate(model, nn.BCEWithLogitsLoss(), np.zeros((0, 2)), np.zeros((0, 1)))
    assert train.predict(model, np.zeros((0, 2)), batch_size=4).shape == (0, 1)
    checkpoint = train.ModelCheckpoint(str(tmp_path / "m_{val_loss:.3f}.npz"), monitor="loss")
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"has \{val_loss\} in its file name.*pass validation_data"):
        train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 1, progress=False, callbacks=[checkpoint])
    assert opt.step_count == 0  # refused before training


def test_a_generator_of_batches_used_up_by_the_first_epoch_is_named(moons):
    X, y = moons
    model = make_mlp()
    once = ((X[k : k + 32], y[k : k + 32]) for k in range(0, len(X), 32))
    message = "epoch 1 produced no batches; if batches returns the same generator"
    with pytest.raises(ValueError, match=message):
        train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), None, None, 2,
                  progress=False, batches=lambda epoch: once)


def test_evaluate_returns_python_floats():
    X = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    y = np.array([[1.0], [1.0], [0.0], [0.0]])
    model = nn.Sequential(nn.Identity())  # the logits are X itself
    result = train.evaluate(model, nn.BCEWithLogitsLoss(), X, y)
    assert {type(v) for v in result.values()} == {float}
    assert result["accuracy"] == 0.5  # logits > 0: 1, 0, 1, 0 against 1, 1, 0, 0


def test_mode_auto_asks_for_a_mode_when_the_name_does_not_tell():
    # an F1 score was minimised: the run stopped as it improved, and restore_best_weights
    # would have brought back the worst epoch
    for cls in (lambda m, **k: train.EarlyStopping(monitor=m, **k), lambda m, **k: train.ModelCheckpoint(
        "best.npz", monitor=m, save_best_only=True, **k
    )):
        with pytest.raises(ValueError, match=r"mode='auto' cannot tell whether a higher or a lower 'f1'"):
            cls("f1")
        assert cls("f1", mode="max").mode == "max"
        assert cls("val_accuracy").mode == "max" and cls("val_loss").mode == "min"
        assert cls("val_mse").mode == "min"


def test_a_misspelt_monitor_is_told_the_name_the_run_logs(moons):
    X, y = moons
    model = make_mlp()
    for callback in (train.EarlyStopping(monitor="val_acc"), train.ModelCheckpoint("m_{val_acc}.npz")):
        # it said "pass validation_data to fit", which was given
        with pytest.raises(ValueError, match=r"val_accuracy, time; did you mean 'val_accuracy'\?$"):
            train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 1,
                      validation_data=(X, y), callbacks=[callback], progress=False)


def test_a_number_a_callback_adds_to_logs_reaches_neither_the_history_nor_later_callbacks():
    # training.md: each callback gets a copy of the logs, recorded in the history before they run
    X, y = data.make_moons(40, noise=0.2, seed=3)
    seen = []

    class Add(train.Callback):
        def on_epoch_end(self, epoch, logs):
            logs["custom"] = 1.0

    class See(train.Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(sorted(logs))

    model = nn.Sequential(nn.Linear(2, 1))
    opt = optim.SGD(model.parameters(), 0.1)
    h = train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y.reshape(-1, 1) * 1.0, 2, callbacks=[Add(), See()],
                  progress=False)
    assert len(seen) == 2 and all("custom" not in keys and "loss" in keys for keys in seen)
    assert "custom" not in h.history
