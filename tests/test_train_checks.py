"""What fit and evaluate refuse before training, and the numbers that depend on it: metric names,
the loss's reduction, validation_data and callback monitors found before the first update,
gradient norms of parameters the optimizer does not hold, compare_optimizers' best, EarlyStopping's
numbers."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data, nn, optim, train


@pytest.fixture
def moons():
    X, y = data.make_moons(60, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(np.float64)


def make_mlp(seed: int = 0) -> nn.Module:
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))


def fit_refused(kind, moons, loss_fn=None, X=None, **options):
    """fit with ``options`` (and ``X`` in place of the moons' inputs) raises ``kind`` before any
    update; returns the message."""
    X, y = moons if X is None else (X, moons[1])
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(kind) as info:
        train.fit(model, loss_fn or nn.BCEWithLogitsLoss(), opt, X, y, 2, **{"progress": False, **options})
    assert opt.step_count == 0
    return str(info.value)


def y_mean(output, target):
    return float(np.mean(target))


def y_max(output, target):
    return float(np.max(target))


# --- 1. metric names ------------------------------------------------------------------------


def test_two_lambdas_are_refused_and_the_message_says_how_to_name_them(moons):
    # before: both were logged as "<lambda>" and only the second was kept
    message = fit_refused(ValueError, moons, metrics=[lambda o, t: 1.0, lambda o, t: 2.0])
    assert message.startswith("fit: metrics items 0 and 1")
    assert "'<lambda>'" in message and "metrics={'tpr': tpr, 'fpr': fpr}" in message
    assert "'metric_<i>'" in message and "functools.partial" in message


def test_a_metric_function_and_accuracy_of_one_name_are_refused(moons):
    def accuracy(output, target):
        return 0.0

    message = fit_refused(ValueError, moons, metrics=["accuracy", accuracy])
    assert "metrics items 0 and 1" in message and "'accuracy'" in message


@pytest.mark.parametrize("name", ["loss", "last_batch_loss", "lr", "time", "epoch", "val_loss", "val_y_mean"])
def test_fit_refuses_a_metric_named_like_what_it_logs_itself(moons, name):
    # before: "loss" replaced the training loss, "time" and "lr" were overwritten by fit's own
    message = fit_refused(ValueError, moons, metrics={name: y_mean})
    assert message.startswith(f"fit: metrics item 0 is named {name!r}")
    assert f"metrics={{'my_{name}': ...}}" in message


def test_a_metric_function_named_loss_is_refused_in_a_list_too(moons):
    def loss(output, target):
        return 123.0

    assert "named 'loss'" in fit_refused(ValueError, moons, metrics=[loss])


def test_evaluate_refuses_a_metric_named_loss(moons):
    # before: the metric shared the loss's running total, and evaluate returned loss + metric
    X, y = moons

    def loss(output, target):
        return 123.0

    with pytest.raises(ValueError, match=r"^evaluate: metrics item 0 is named 'loss'.*evaluate returns"):
        train.evaluate(make_mlp(), nn.BCEWithLogitsLoss(), X, y, metrics=[loss])


def test_evaluate_keeps_a_metric_named_time_apart_from_the_loss(moons):
    X, y = moons
    model = make_mlp()
    scores = train.evaluate(model, nn.BCEWithLogitsLoss(), X, y, batch_size=25, metrics={"time": y_mean})
    z = model(tg.Tensor(X)).data
    want = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    assert scores["loss"] == pytest.approx(want, rel=1e-12)
    assert scores["time"] == pytest.approx(y.mean(), rel=1e-12)


def test_named_metrics_and_partials_each_keep_their_own_numbers(moons):
    X, y = moons
    model = make_mlp()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 1,
                  batch_size=20, shuffle=False, progress=False,
                  metrics=[functools.partial(y_mean), functools.partial(y_max), y_max])
    # a partial has no __name__: it is logged as metric_<its position>
    assert h.history["metric_0"] == [pytest.approx(y.mean(), rel=1e-12)]
    batch_max = [y[k : k + 20].max() for k in range(0, 60, 20)]
    assert h.history["metric_1"] == [pytest.approx(np.mean(batch_max))]
    assert h.history["y_max"] == h.history["metric_1"]
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 1,
                  progress=False, metrics={"mean_y": lambda o, t: y_mean(o, t), "one": lambda o, t: 1.0})
    assert h.history["mean_y"] == [pytest.approx(y.mean(), rel=1e-12)] and h.history["one"] == [1.0]


# --- 2. the loss's reduction ----------------------------------------------------------------


@pytest.mark.parametrize(
    "loss_fn, shown",
    [(nn.BCEWithLogitsLoss(reduction="sum"), "BCEWithLogitsLoss has reduction='sum'"),
     (nn.MSELoss(reduction="none"), "MSELoss has reduction='none'"),
     (functools.partial(nn.functional.mse_loss, reduction="sum"),
      "functools.partial(mse_loss, reduction='sum') has reduction='sum'")],
)
def test_fit_refuses_a_loss_that_does_not_average(moons, loss_fn, shown):
    # before: a summed loss trained, and "loss", "val_loss" and evaluate were sums over 64, 300 or
    # batch_size samples
    message = fit_refused(ValueError, moons, loss_fn=loss_fn, validation_data=moons)
    assert message.startswith(f"fit: loss_fn {shown}") and "a mean over samples" in message
    assert "reduction='mean'" in message


def test_the_refusal_of_sum_says_how_to_take_the_same_steps(moons):
    message = fit_refused(ValueError, moons, loss_fn=nn.MSELoss(reduction="sum"))
    assert "multiply SGD's learning rate by the batch size" in message


def test_what_the_refusal_of_sum_advises_takes_the_same_steps(moons):
    X, y = moons
    summed, B = make_mlp(), 20
    opt = optim.SGD(summed.parameters(), lr=0.01)
    sum_loss = nn.MSELoss(reduction="sum")
    for _ in range(2):
        for k in range(0, len(X), B):
            opt.zero_grad()
            sum_loss(summed(tg.Tensor(X[k : k + B])), y[k : k + B]).backward()
            opt.step()
    mean = make_mlp()
    train.fit(mean, nn.MSELoss(), optim.SGD(mean.parameters(), lr=0.01 * B), X, y, 2, batch_size=B,
              shuffle=False, progress=False)
    for p, q in zip(summed.parameters(), mean.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-5, atol=1e-6)  # (float32 parameters)


def test_evaluate_refuses_a_summed_loss(moons):
    # before: the result was a sum over each batch, so it depended on batch_size
    X, y = moons
    with pytest.raises(ValueError, match=r"^evaluate: loss_fn BCEWithLogitsLoss has reduction='sum'"):
        train.evaluate(make_mlp(), nn.BCEWithLogitsLoss(reduction="sum"), X, y, batch_size=7)


# --- 3. validation_data and callback monitors, before the first update ------------------------


def test_a_y_val_of_shape_n_is_refused_before_training(moons):
    # before: refused by the loss only after a whole epoch had trained
    X, y = moons
    message = fit_refused(ValueError, moons, validation_data=(X, y.ravel()))
    assert message.startswith("fit: validation_data (X_val of shape (60, 2), y_val of shape (60,))")
    assert "Reshape y_val to (60, 1)" in message


def my_mse(out, t):
    return ((out - t) ** 2).mean()


def test_one_dimensional_targets_with_batches_of_one_sample_are_refused_before_training(moons):
    # before: (1, 1) outputs with (1,) targets agree, so training ran, and val_loss and evaluate
    # then compared every output with every target: 0.345 where the right value was 0.115
    X, y = moons
    message = fit_refused(ValueError, (X, y.ravel()), loss_fn=my_mse, batch_size=1,
                          validation_data=(X, y.ravel()))
    assert message.startswith("fit: the model's output has shape (1, 1) and the targets have shape (1,)")
    assert "for a batch of 2 (here 1 sample: the shapes agree by chance)" in message
    fitted = make_mlp()
    train.fit(fitted, my_mse, optim.SGD(fitted.parameters(), lr=0.1), X, y, 1, batch_size=1, progress=False)


def test_evaluate_refuses_one_dimensional_targets_for_column_outputs(moons):
    X, y = moons
    model = make_mlp()
    with pytest.raises(ValueError, match=r"^evaluate: the model's output has shape \(60, 1\) and y has shape "
                                         r"\(60,\); an elementwise loss would broadcast them to \(60, 60\)"):
        train.evaluate(model, my_mse, X, y.ravel(), metrics=None)
    with tg.no_grad():
        right = float(((model(tg.Tensor(X)).data - y) ** 2).mean())
    assert train.evaluate(model, my_mse, X, y, metrics=None)["loss"] == pytest.approx(right, rel=1e-12)
    labels = np.array([0, 1, 2] * 20)  # class labels for cross-entropy are (N,) by design
    three = nn.Sequential(nn.Linear(2, 3))
    assert set(train.evaluate(three, nn.CrossEntropyLoss(), X, labels)) == {"loss", "accuracy"}


def test_a_y_val_of_shape_n_is_refused_with_a_hand_written_loss_too(moons):
    # before: (60, 1) outputs minus (60,) targets broadcast to (60, 60), and val_loss was wrong
    X, y = moons
    message = fit_refused(ValueError, moons, loss_fn=lambda out, t: ((out - t) ** 2).mean(),
                          validation_data=(X, y.ravel()))
    assert "broadcast them to (60, 60)" in message and "y_val" in message


def test_an_x_val_with_the_wrong_number_of_features_is_refused_before_training(moons):
    X, y = moons
    message = fit_refused(ValueError, moons, validation_data=(X[:, :1], y))
    assert message.startswith("fit: validation_data (X_val of shape (60, 1)")
    assert "in_features = 2" in message


@pytest.mark.parametrize(
    "make, options, words",
    [(lambda p: train.EarlyStopping(), {}, ["EarlyStopping, monitors 'val_loss'", "pass validation_data"]),
     (lambda p: train.EarlyStopping(monitor="auc", mode="max"), {"validation_data": "moons"},
      ["monitors 'auc'", "val_loss, val_accuracy, time", "add a metric of that name"]),
     (lambda p: train.ModelCheckpoint(str(p / "best.npz"), save_best_only=True), {},
      ["ModelCheckpoint, monitors 'val_loss'"]),
     (lambda p: train.ModelCheckpoint(str(p / "ck_{epoch}_{val_loss:.3f}.npz"), monitor="loss"), {},
      ["ModelCheckpoint, has {val_loss} in its file name"])],
)
def test_a_callback_watching_a_key_the_run_will_not_log_is_refused_before_training(
    moons, tmp_path, make, options, words
):
    # before: a KeyError after the first epoch had trained
    options = {k: moons if v == "moons" else v for k, v in options.items()}
    message = fit_refused(ValueError, moons, callbacks=[make(tmp_path)], **options)
    assert message.startswith("fit: callbacks item 0, ")
    assert "its epoch logs will hold loss, last_batch_loss, accuracy, lr" in message
    for word in words:
        assert word in message
    assert not list(tmp_path.iterdir())


def test_callbacks_watching_keys_the_run_logs_are_taken(moons, tmp_path):
    X, y = moons
    model = make_mlp()
    stop = train.EarlyStopping(monitor="y_mean", patience=5, mode="min")
    best = train.ModelCheckpoint(str(tmp_path / "best_{val_y_mean:.2f}.npz"), monitor="val_accuracy",
                                 save_best_only=True)
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, 2,
                  metrics=["accuracy", y_mean], validation_data=(X, y), callbacks=[stop, best],
                  progress=False)
    assert h.history["val_y_mean"] == [pytest.approx(y.mean())] * 2
    assert [p.name for p in tmp_path.iterdir()] == [f"best_{y.mean():.2f}.npz"]


class NoisyIdentity(nn.Module):
    """Adds noise in training mode, but draws from the library's Generator in both modes: an
    extra forward in eval mode would move every later dropout mask and shuffle."""

    def forward(self, x):
        noise = tg.get_rng().standard_normal(x.shape) * 0.1
        return x + tg.Tensor(noise) if self.training else x + tg.Tensor(0 * noise)


def make_random_model() -> nn.Module:
    tg.manual_seed(5)
    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), NoisyIdentity(), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(8, 1))


def test_the_validation_check_changes_no_random_numbers_or_running_statistics(moons):
    X, y = moons
    X_val, y_val = X[:25] + 0.1, y[:25]
    # By hand: shuffles (seed=None) and dropout masks from the library's Generator, one
    # eval-mode forward on the validation data after each epoch, as evaluate makes.
    model = make_random_model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.BCEWithLogitsLoss()
    loader = data.DataLoader(X, y, batch_size=16, shuffle=True)
    for _ in range(3):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        model.eval()
        with tg.no_grad():
            model(tg.Tensor(X_val))
    want = model.state_dict()
    after_by_hand = tg.get_rng().bit_generator.state

    model = make_random_model()
    train.fit(model, loss_fn, optim.Adam(model.parameters(), lr=0.01), X, y, 3, batch_size=16,
              validation_data=(X_val, y_val), progress=False)
    got = model.state_dict()
    assert got.keys() == want.keys() and "1.running_mean" in got
    for key in want:  # parameters and BatchNorm's running statistics, bit for bit
        assert np.array_equal(got[key], want[key]), key
    assert tg.get_rng().bit_generator.state == after_by_hand
    assert all(m.training for m in model.modules())


def test_the_validation_check_puts_every_module_mode_back(moons):
    X, y = moons
    model = make_random_model()
    model[1].eval()  # a frozen BatchNorm stays in eval mode while training
    seen = []

    def loss_fn(output, target):
        seen.append([m.training for m in model.modules()])
        return nn.functional.binary_cross_entropy_with_logits(output, target)

    X_val = X.astype(np.float32)  # of another dtype than X, so the check runs
    train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), X, y, 1, batch_size=60,
              validation_data=(X_val, y), progress=False)
    # the check (eval mode), the one step (training mode, BatchNorm frozen), validation (eval)
    assert seen == [[False] * 7, [True, True, False, True, True, True, True], [False] * 7]
    assert [m.training for m in model.modules()] == [True, True, False, True, True, True, True]


def test_data_that_does_not_fit_the_model_is_named_as_the_training_data(moons):
    # X and X_val both have 3 features where the model takes 2: the first step names X itself,
    # not validation_data (the check before training only runs when their sample shapes differ)
    X, y = moons
    X3 = np.hstack([X, X[:, :1]])
    message = fit_refused(tg.OpError, moons, X=X3, validation_data=(X3, y))
    assert message.startswith("Sequential[0] Linear(in_features=2")
    assert "x has shape (60, 3)" in message and "validation_data" not in message


# --- 4. gradients of parameters the optimizer does not hold -----------------------------------


def one_step_grads(state, X, y):
    """The gradient of every parameter of make_mlp's model with weights ``state``, from one
    forward and backward on ``(X, y)``, by hand."""
    model = make_mlp()
    model.load_state_dict(state)
    nn.BCEWithLogitsLoss()(model(tg.Tensor(X)), y).backward()
    return {name: p.grad.data.copy() for name, p in model.named_parameters()}


@pytest.mark.parametrize("held", [[2], [0]])
def test_grad_norms_of_parameters_the_optimizer_does_not_hold_are_one_steps(moons, held):
    # before: their .grad was never cleared, so each step's gradient was added to the last ones
    # and history.grad_norms grew step after step (0.34, 0.68, 1.03, ... for 0.weight)
    X, y = moons
    model = make_mlp()
    params = [p for i in held for p in model[i].parameters()]
    states = []  # the weights at the start of each epoch: one step each, on the whole set

    def batches(epoch):
        states.append(model.state_dict())
        return [(X, y)]

    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(params, lr=0.5), None, None, 4,
                  batches=batches, record_grad_norms=True, progress=False)
    want = [one_step_grads(state, X, y) for state in states]
    unheld = [name for name, _ in model.named_parameters() if int(name.split(".")[0]) not in held]
    assert len(unheld) == 2 and set(h.grad_norms) == {name for name, _ in model.named_parameters()}
    for name in h.grad_norms:
        assert h.grad_norms[name] == pytest.approx([np.linalg.norm(g[name]) for g in want], rel=1e-6), name
    for name, p in model.named_parameters():  # the last step's gradient, not a sum of all four
        if name in unheld:
            assert np.allclose(p.grad.data, want[-1][name], rtol=1e-6, atol=1e-12), name


# --- 5. compare_optimizers' best ------------------------------------------------------------


def blows_up_after(steps):
    """SGD's learning rate: a good one for ``steps`` updates, then one that overflows."""
    return lambda p: optim.SGD(p, lr=lambda step: 0.5 if step < steps else 1e300)


def test_the_best_of_a_comparison_is_never_a_run_that_errored(moons):
    # before: the run stopped by NonFiniteLossError keeps the weights of its last finite step,
    # which had trained further than the slow healthy run, and was named best
    X, y = moons
    result = train.compare_optimizers(
        make_mlp, nn.BCEWithLogitsLoss(),
        {"blows_up": blows_up_after(40), "slow": lambda p: optim.SGD(p, lr=1e-4)},
        X, y, epochs=20, batch_size=20, progress=False)
    assert list(result.errors) == ["blows_up"]
    loss = {r["name"]: r["loss"] for r in result.rows}
    assert np.isfinite(loss["blows_up"]) and loss["blows_up"] < loss["slow"]
    assert result.best == "slow"
    assert "best='slow'" in repr(result)


def test_a_comparison_where_every_run_errored_has_no_best(moons):
    X, y = moons
    result = train.compare_optimizers(
        make_mlp, nn.BCEWithLogitsLoss(), {"a": blows_up_after(10), "b": blows_up_after(0)},
        X, y, epochs=5, batch_size=20, progress=False)
    assert sorted(result.errors) == ["a", "b"] and all(np.isfinite(r["loss"]) for r in result.rows)
    assert result.best is None
    assert "best=None" in repr(result) and str(result).splitlines()[-1].startswith("b: fit: ")


# --- 6. EarlyStopping's numbers ---------------------------------------------------------------


def test_early_stopping_takes_a_numpy_integer_patience(moons):
    # before: np.int64(3) was refused ("patience must be an int >= 0, got np.int64(3)")
    stopper = train.EarlyStopping(monitor="loss", patience=np.int64(3))
    assert stopper.patience == 3 and type(stopper.patience) is int
    X, y = moons
    model = make_mlp()
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.0), X, y, 10,
                  callbacks=[stopper], progress=False)
    assert h.stopped_early and h.epoch == [0, 1, 2, 3]  # no improvement after the first: 3 more


@pytest.mark.parametrize("value", [True, False, np.True_])
def test_early_stopping_refuses_a_bool_patience(value):
    # before: True was taken as patience=1 (a bool is an int in Python)
    with pytest.raises(TypeError) as info:
        train.EarlyStopping(monitor="loss", patience=value)
    message = str(info.value)
    assert message.startswith("EarlyStopping: patience must be an int >= 0")
    assert f"got {type(value).__name__} {value!r}" in message


@pytest.mark.parametrize("value", [2.0, "3", None])
def test_early_stopping_refuses_a_patience_that_is_not_an_int(value):
    expected = rf"EarlyStopping: patience must be an int >= 0.*got {type(value).__name__}"
    with pytest.raises(TypeError, match=expected):
        train.EarlyStopping(monitor="loss", patience=value)


def test_early_stopping_refuses_a_negative_patience():
    with pytest.raises(ValueError, match="EarlyStopping: patience must be an int >= 0, got -1"):
        train.EarlyStopping(monitor="loss", patience=-1)


@pytest.mark.parametrize("value", [0, 1, 0.5, np.float32(0.25), np.int64(2)])
def test_early_stopping_takes_a_real_min_delta(value):
    stopper = train.EarlyStopping(monitor="loss", min_delta=value)
    assert stopper.min_delta == float(value) and type(stopper.min_delta) is float


@pytest.mark.parametrize("value", [True, np.False_, "0.1", None, [0.1]])
def test_early_stopping_refuses_a_min_delta_that_is_not_a_number(value):
    # before: True was taken as 1.0, "0.1" failed with "'<' not supported between 'str' and 'int'"
    with pytest.raises(TypeError) as info:
        train.EarlyStopping(monitor="loss", min_delta=value)
    message = str(info.value)
    assert message.startswith("EarlyStopping: min_delta must be a real number >= 0")
    assert f"got {type(value).__name__} {value!r}" in message


def scripted_run(moons, values, **options):
    """fit for len(values) epochs of one batch each, with a metric that reads ``values`` in turn,
    and EarlyStopping monitoring it; returns the epochs run, the best one and the stop."""
    X, y = moons
    scores = iter(values)
    states = []

    def score(output, target):
        return next(scores)

    class Snapshot(train.Callback):
        def on_epoch_end(self, epoch, logs):
            states.append(self.model.state_dict())

    model = make_mlp()
    stopper = train.EarlyStopping(monitor="score", mode="min", **options)
    h = train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), X, y, len(values),
                  batch_size=len(X), metrics=[score], callbacks=[Snapshot(), stopper], progress=False)
    return h.epoch, stopper.best_epoch, stopper.stopped_epoch, model, states


# Epoch by epoch, an epoch beating both the best so far and the baseline resets the wait, any
# other adds one, and the run stops when the wait reaches patience.
@pytest.mark.parametrize("values, baseline, expected", [
    # 5 and 4 improve on the best but not on 1.5: waits 1, 2 -> stop at epoch 1, best epoch 1
    ([5, 4, 3, 2, 1, 0.5], 1.5, ([0, 1], 1, 1)),
    # 5 does not beat 3.5 (wait 1), 3.0 does (wait 0), 3.2 and 3.1 do not improve: stop at 3
    ([5, 3.0, 3.2, 3.1, 1], 3.5, ([0, 1, 2, 3], 1, 3)),
    # no baseline: the first epoch always improves (waits 0, 1, 2 -> stop at epoch 2)
    ([5, 6, 7, 1], None, ([0, 1, 2], 0, 2)),
])
def test_early_stopping_baseline(moons, values, baseline, expected):
    # before: EarlyStopping took no baseline (Keras's option), so a run that never got near the
    # target went on for patience epochs after each small improvement
    epochs, best, stopped, *_ = scripted_run(moons, values, patience=2, baseline=baseline)
    assert (epochs, best, stopped) == expected


def test_early_stopping_start_from_epoch_skips_the_warm_up(moons):
    # epochs 0 and 1 (0.1, 0.2) are neither counted nor the best: without the warm-up, 0.1 at
    # epoch 0 would be the best and the run would stop at epoch 1
    epochs, best, stopped, model, states = scripted_run(
        moons, [0.1, 0.2, 3, 0.5, 0.6, 0.7], patience=1, start_from_epoch=2, restore_best_weights=True)
    assert (epochs, best, stopped) == ([0, 1, 2, 3, 4], 3, 4)
    assert all(np.array_equal(v, states[3][k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("options, kind, message", [
    ({"baseline": True}, TypeError, "EarlyStopping: baseline must be a number or None, got bool True"),
    ({"baseline": "0.5"}, TypeError, "EarlyStopping: baseline must be a number or None, got str '0.5'"),
    ({"baseline": float("nan")}, ValueError, "EarlyStopping: baseline must be finite, got nan"),
    ({"start_from_epoch": -1}, ValueError, "EarlyStopping: start_from_epoch must be an int >= 0, got -1"),
    ({"start_from_epoch": 1.0}, TypeError, "EarlyStopping: start_from_epoch must be an int >= 0"),
])
def test_early_stopping_refuses_a_bad_baseline_or_start(options, kind, message):
    with pytest.raises(kind) as info:
        train.EarlyStopping(monitor="loss", **options)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_early_stopping_refuses_a_negative_or_non_finite_min_delta(value):
    # before: nan was taken, and then no epoch ever counted as an improvement
    expected = rf"EarlyStopping: min_delta must be a finite number >= 0, got {value}"
    with pytest.raises(ValueError, match=expected):
        train.EarlyStopping(monitor="loss", min_delta=value)


class AccumulateTwo:
    """An optimizer of one's own without param_groups: it adds up the gradients of two batches,
    then takes one SGD step on their sum."""

    def __init__(self, params, lr):
        self.params, self.lr, self.calls = list(params), lr, 0

    def zero_grad(self):
        if self.calls % 2 == 0:
            for p in self.params:
                p.grad = None

    def step(self):
        self.calls += 1
        if self.calls % 2 == 0:
            with tg.no_grad():
                for p in self.params:
                    p.data -= self.lr * p.grad.data


def test_an_optimizer_without_param_groups_keeps_its_own_grads():
    # before: fit took every parameter for one the optimizer does not hold and cleared its grad
    # each step, so this optimizer stepped on the second batch's gradient alone
    X = np.linspace(-1, 1, 16).reshape(8, 2)
    y = X[:, :1] * 2.0
    model = nn.Linear(2, 1, dtype=np.float64)
    start = {k: v.copy() for k, v in model.state_dict().items()}
    train.fit(model, nn.MSELoss(), AccumulateTwo(model.parameters(), 0.1), X, y, 1, batch_size=4,
              shuffle=False, metrics=None, progress=False)
    # by hand: the gradients of the two batches of 4, at the same weights, added, one step
    w, b = start["weight"], start["bias"]
    grad_w, grad_b = np.zeros_like(w), np.zeros_like(b)
    for rows in (slice(0, 4), slice(4, 8)):
        error = X[rows] @ w.T + b - y[rows]
        grad_w += 2 * error.T @ X[rows] / 4
        grad_b += 2 * error.sum(axis=0) / 4
    np.testing.assert_allclose(model.weight.data, w - 0.1 * grad_w, rtol=1e-12)
    np.testing.assert_allclose(model.bias.data, b - 0.1 * grad_b, rtol=1e-12)


@pytest.mark.parametrize("metric, shown", [
    (lambda out, t: (out > 0) == t, r"an array of shape \(16, 1\) \(bool\)"),
    (lambda out, t: None, "a NoneType"),
    (lambda out, t: np.array([0.5]), r"an array of shape \(1,\) \(float64\)"),
])
def test_a_metric_that_does_not_return_one_number_is_named_at_its_first_batch(moons, metric, shown):
    # before: numpy's words after the epoch ("only 0-dimensional arrays can be converted", or a
    # broadcast error at the smaller last batch), without the metric's name
    X, y = moons
    model = make_mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=rf"^fit: the metric 'hits' returned {shown} for a batch of 16; a "):
        train.fit(model, nn.BCEWithLogitsLoss(), opt, X, y, 2, batch_size=16, metrics={"hits": metric},
                  progress=False)
    assert opt.step_count == 1
    with pytest.raises(TypeError, match=r"^evaluate: the metric 'hits' returned"):
        train.evaluate(model, nn.BCEWithLogitsLoss(), X, y, metrics={"hits": metric})


def test_a_file_name_format_that_does_not_fit_the_logs_is_refused_before_training(moons):
    # before: a bare "Unknown format code 'd' for object of type 'float'" after the first epoch
    message = fit_refused(ValueError, moons, callbacks=[train.ModelCheckpoint("w_{loss:03d}.npz")])
    assert message.startswith("fit: callbacks item 0, ModelCheckpoint, cannot format its file name "
                              "'w_{loss:03d}.npz' (Unknown format code 'd'")
    assert "{epoch:03d} and {val_loss:.3f}" in message


@pytest.mark.parametrize("callback", [
    train.EarlyStopping(monitor="acc"), train.ModelCheckpoint("m_{acc:.2f}.npz"),
])
def test_keras_old_acc_is_pointed_to_accuracy(moons, callback):
    message = fit_refused(ValueError, moons, metrics=["accuracy"], callbacks=[callback])
    assert message.endswith("did you mean 'accuracy'?"), message
