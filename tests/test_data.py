import math

import numpy as np
import pytest
import sklearn.datasets as sklearn_datasets  # the reference the generators must match
from sklearn.preprocessing import StandardScaler

import tinygrad_edu as tg
from tinygrad_edu import Tensor, data


@pytest.mark.parametrize("n", [1, 2, 7, 100, 300])
@pytest.mark.parametrize("noise", [None, 0.2])
@pytest.mark.parametrize("seed", [0, 3, 42])
def test_make_moons_matches_scikit_learn_bit_for_bit(n, noise, seed):
    X, y = data.make_moons(n, noise=noise, seed=seed)
    X_ref, y_ref = sklearn_datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.shape == (n, 2) and y.shape == (n,)
    assert np.array_equal(X, X_ref)
    assert np.array_equal(y, y_ref)


@pytest.mark.parametrize("n", [2, 9, 100])
@pytest.mark.parametrize("noise", [None, 0.05])
@pytest.mark.parametrize("factor", [0.8, 0.3])
@pytest.mark.parametrize("seed", [0, 7])
def test_make_circles_matches_scikit_learn_bit_for_bit(n, noise, factor, seed):
    X, y = data.make_circles(n, noise=noise, factor=factor, seed=seed)
    X_ref, y_ref = sklearn_datasets.make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    assert np.array_equal(X, X_ref)
    assert np.array_equal(y, y_ref)


@pytest.mark.parametrize("maker", ["make_moons", "make_circles"])
@pytest.mark.parametrize("n", [5, (3, 7), (0, 4)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_counts_pairs_and_shuffle_as_scikit_learn_takes_them(maker, n, shuffle):
    X, y = getattr(data, maker)(n, noise=0.1, seed=4, shuffle=shuffle)
    X_ref, y_ref = getattr(sklearn_datasets, maker)(n_samples=n, noise=0.1, random_state=4, shuffle=shuffle)
    assert X.shape == X_ref.shape and np.array_equal(X, X_ref) and np.array_equal(y, y_ref)


def test_make_circles_of_no_points_is_empty_as_in_scikit_learn():
    X, y = data.make_circles(0, seed=0)
    X_ref, y_ref = sklearn_datasets.make_circles(0, random_state=0)
    assert X.shape == X_ref.shape == (0, 2) and y.shape == y_ref.shape == (0,)


def test_course_data_set_uses_the_global_stream_like_the_course():
    # The course: np.random.seed(3); sklearn.datasets.make_moons(n_samples=300, noise=.2)
    np.random.seed(3)
    X_ref, y_ref = sklearn_datasets.make_moons(n_samples=300, noise=0.2)
    X, y = data.make_moons(300, noise=0.2, seed=3)
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)


def test_make_spirals_shapes_labels_and_radius():
    X, y = data.make_spirals(50, 4, seed=0)
    assert X.shape == (200, 2) and y.shape == (200,)
    assert np.array_equal(np.bincount(y), [50] * 4)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[:50], np.linspace(0, 1, 50))
    X2, _ = data.make_spirals(50, 4, seed=0)
    assert np.array_equal(X, X2)


def test_make_spirals_without_a_seed_draws_from_the_library_generator():
    tg.manual_seed(0)
    first, _ = data.make_spirals(20, 3)
    again, _ = data.make_spirals(20, 3)  # the generator moved on: other arms
    tg.manual_seed(0)
    rerun, _ = data.make_spirals(20, 3)  # a notebook run again from the top: the same arms
    assert np.array_equal(first, rerun) and not np.array_equal(first, again)


def _course_random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The course's function (samples as columns), as printed in the seeds."""
    np.random.seed(seed)
    m = X.shape[1]
    mini_batches = []
    permutation = list(np.random.permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    num_complete_minibatches = math.floor(m / mini_batch_size)
    for k in range(0, num_complete_minibatches):
        mini_batch_X = shuffled_X[:, k * mini_batch_size : (k + 1) * mini_batch_size]
        mini_batch_Y = shuffled_Y[:, k * mini_batch_size : (k + 1) * mini_batch_size]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    if m % mini_batch_size != 0:
        mini_batch_X = shuffled_X[:, num_complete_minibatches * mini_batch_size :]
        mini_batch_Y = shuffled_Y[:, num_complete_minibatches * mini_batch_size :]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    return mini_batches


@pytest.mark.parametrize("m,size,seed", [(300, 64, 11), (148, 64, 1), (128, 64, 5), (10, 3, 0)])
def test_random_mini_batches_are_the_course_batches(m, size, seed):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, 2))
    Y = rng.integers(0, 2, size=(m, 1))
    ours = data.random_mini_batches(X, Y, size, seed)
    theirs = _course_random_mini_batches(X.T, Y.T, size, seed)
    assert len(ours) == len(theirs) == math.ceil(m / size)
    for (bx, by), (cx, cy) in zip(ours, theirs):
        assert np.array_equal(bx, cx.T)
        assert np.array_equal(by, cy.T)
    assert ours[-1][0].shape[0] == (m % size or size)


def test_random_mini_batches_keeps_y_shape_and_leaves_global_state_alone():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    state = np.random.get_state()[1].copy()
    batches = data.random_mini_batches(X, y, 4, seed=2)
    assert np.array_equal(np.random.get_state()[1], state)
    assert [b[1].shape for b in batches] == [(4,), (4,), (2,)]
    # every sample exactly once, rows kept together
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    assert sorted(ys.tolist()) == list(range(10))
    assert np.array_equal(xs[:, 0], 2.0 * ys)


def test_data_loader_batches_length_and_reshuffling():
    X = np.arange(22.0).reshape(11, 2)
    y = np.arange(11)
    loader = data.DataLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    epoch1 = [(bx, by) for bx, by in loader]
    assert all(isinstance(bx, Tensor) and isinstance(by, Tensor) for bx, by in epoch1)
    assert [len(by) for _, by in epoch1] == [4, 4, 3]
    seen = np.concatenate([by.data for _, by in epoch1])
    assert sorted(seen.tolist()) == list(range(11))
    assert all(np.array_equal(bx.data[:, 0], 2.0 * by.data) for bx, by in epoch1)
    epoch2 = np.concatenate([by.data for _, by in loader])
    assert not np.array_equal(seen, epoch2)  # reshuffled every epoch
    again = np.concatenate([by.data for _, by in data.DataLoader(X, y, batch_size=4, seed=0)])
    assert np.array_equal(seen, again)


def test_data_loader_drop_last_and_no_shuffle():
    X = np.arange(10.0).reshape(10, 1)
    loader = data.DataLoader(X, np.arange(10), batch_size=3, shuffle=False, drop_last=True)
    assert len(loader) == 3
    assert [by.data.tolist() for _, by in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def _seed_004_batches(n, batch_size):
    """Seed 004: N / B batches when B divides N, else N / B + 1 (integer division)."""
    return n // batch_size if n % batch_size == 0 else n // batch_size + 1


@pytest.mark.parametrize("n, batch_size", [(50000, 256), (50000, 250), (300, 64), (1, 1)])
def test_batches_per_epoch_are_seed_004s_count(n, batch_size):
    X, y = np.zeros((n, 1)), np.zeros((n, 1))
    assert len(data.DataLoader(X, y, batch_size=batch_size)) == _seed_004_batches(n, batch_size)
    assert len(data.random_mini_batches(X, y, mini_batch_size=batch_size)) == _seed_004_batches(n, batch_size)
    assert len(data.DataLoader(X, y, batch_size=batch_size, drop_last=True)) == n // batch_size


def test_seed_004_iterations_in_10_epochs_are_the_optimizers_steps():
    """50000 samples, batch 256: 196 batches, so 196 iterations per epoch and 1960 in 10 epochs."""
    from tinygrad_edu import nn, optim, train

    n, batch_size, epochs = 50000, 256, 10
    assert _seed_004_batches(n, batch_size) == 196 and epochs * 196 == 1960  # the seed's numbers
    X, y = np.zeros((n, 1)), np.zeros((n, 1))
    net = nn.Linear(1, 1, dtype=np.float64)
    opt = optim.SGD(net.parameters(), lr=0.01)
    history = train.fit(net, nn.MSELoss(), opt, X, y, epochs=epochs, batch_size=batch_size, progress=False)
    assert len(history.epoch) == 10
    assert opt.step_count == 1960


def test_standardizer_zero_mean_unit_std():
    rng = np.random.default_rng(1)
    X = rng.normal(loc=[3.0, -2.0, 10.0], scale=[0.5, 4.0, 2.0], size=(200, 3))
    s = data.Standardizer().fit(X)
    Z = s.transform(X)
    assert np.allclose(Z.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(Z.std(axis=0), 1)
    assert np.allclose(s.mean, X.mean(axis=0)) and np.allclose(s.std, np.sqrt(((X - X.mean(0)) ** 2).mean(0)))
    assert np.allclose(s.inverse_transform(Z), X)
    const = data.Standardizer().fit_transform(np.ones((5, 2)))
    assert np.array_equal(const, np.zeros((5, 2)))


def test_standardizer_keeps_float32_data_float32_as_scikit_learn_does():
    X64 = np.random.default_rng(2).normal(loc=5.0, scale=3.0, size=(50, 2))
    X32 = X64.astype(np.float32)
    s = data.Standardizer().fit(X32)
    assert s.mean.dtype == np.float64  # the statistics are computed in float64
    Z = s.transform(X32)
    assert Z.dtype == np.float32  # a float32 model fed Z stays float32
    theirs = StandardScaler().fit(X32).transform(X32)
    assert theirs.dtype == np.float32
    np.testing.assert_allclose(Z, theirs, rtol=1e-6, atol=1e-6)
    assert s.inverse_transform(Z).dtype == np.float32
    assert s.transform(Tensor(X32)).dtype == np.float32
    assert s.transform(X32.astype(np.int64)).dtype == np.float64
    assert s.transform(X64).dtype == np.float64


@pytest.mark.parametrize("value", [0.1, 0.3, 0.7, 2.675])
@pytest.mark.parametrize("m", [3, 10, 300])
def test_a_constant_feature_maps_to_exactly_zero(value, m):
    # the mean of ten 0.1s is not exactly 0.1, so the computed std is about 1e-17, not 0:
    # dividing by it used to scale the rounding up to +-1 (and 0.2 to 7e15)
    X = np.c_[np.arange(m, dtype=float), np.full(m, value)]
    s = data.Standardizer().fit(X)
    assert s.std[1] == 1.0
    assert np.array_equal(s.transform(X)[:, 1], np.zeros(m))
    assert s.transform(np.array([[0.0, value + 0.1]]))[0, 1] == pytest.approx(0.1)


def test_one_sample_of_many_features_warns_about_the_course_layout():
    X = np.random.default_rng(0).standard_normal((1, 300))  # the course's layout: one row per feature
    Y = (X > 0) * 1.0
    with pytest.warns(UserWarning, match=r"pass X\.T and y\.T"):
        data.random_mini_batches(X, Y, 64, 0)
    with pytest.warns(UserWarning, match="course's layout"):
        data.DataLoader(X, Y)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: data.random_mini_batches(np.zeros((5, 2)), np.zeros(4)), "5 samples"),
        (lambda: data.random_mini_batches(np.zeros((0, 2)), np.zeros(0)), "empty"),
        (lambda: data.random_mini_batches(np.zeros((5, 2)), np.zeros(5), 0), "batch size"),
        (lambda: data.DataLoader(np.zeros((5, 2)), np.zeros(6)), "6"),
        (lambda: data.DataLoader(np.zeros((5, 2)), np.zeros(5), batch_size=-1), "batch size"),
        (lambda: data.make_moons(0), "n_samples"),  # scikit-learn's make_circles takes 0, make_moons not
        (lambda: data.make_circles(-1), "n_samples"),
        (lambda: data.make_moons((1, 2, 3)), "n_samples"),
        (lambda: data.make_circles(10, factor=1.5), "factor"),
        (lambda: data.Standardizer().transform(np.zeros((2, 2))), "fit"),
    ],
)
def test_clear_errors(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()


@pytest.mark.parametrize(
    "call, kind, words",
    [
        (lambda: data.make_moons(noise=-1), ValueError, ["make_moons", "noise", "-1"]),
        (lambda: data.make_moons(noise=float("nan")), ValueError, ["make_moons", "noise", "nan"]),
        (lambda: data.make_moons(noise="0.2"), TypeError, ["make_moons", "noise", "str"]),
        (lambda: data.make_moons(seed=-1), ValueError, ["make_moons", "seed", "-1"]),
        (lambda: data.make_moons(seed=2**32), ValueError, ["make_moons", "seed", "[0, 4294967295]"]),
        (lambda: data.make_moons(seed=1.5), TypeError, ["make_moons", "seed", "float"]),
        (lambda: data.make_moons(2.5), TypeError, ["make_moons", "n_samples", "2.5"]),
        (lambda: data.make_circles(noise=-0.1), ValueError, ["make_circles", "noise"]),
        (lambda: data.make_circles(seed=-3), ValueError, ["make_circles", "seed"]),
        (lambda: data.make_circles(factor="big"), TypeError, ["make_circles", "factor"]),
        (lambda: data.make_spirals(2.5), TypeError, ["make_spirals", "n_per_class", "2.5"]),
        (lambda: data.make_spirals(10, 1), ValueError, ["make_spirals", "n_classes", ">= 2"]),
        (lambda: data.make_spirals(10, 3.0), TypeError, ["make_spirals", "n_classes"]),
        (lambda: data.make_spirals(10, noise=-1), ValueError, ["make_spirals", "noise"]),
        (lambda: data.make_spirals(10, seed=-1), ValueError, ["make_spirals", "seed"]),
        (lambda: data.random_mini_batches(np.zeros((4, 2)), np.zeros(4), seed=-1), ValueError,
         ["random_mini_batches", "seed"]),
        (lambda: data.DataLoader(np.zeros((4, 2)), np.zeros(4), seed=-1), ValueError, ["DataLoader", "seed"]),
        (lambda: data.Standardizer().fit([["a", "b"]]), TypeError, ["Standardizer.fit", "dtype <U1"]),
    ],
)
def test_bad_arguments_name_the_function_and_the_argument(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for word in words:
        assert word in str(info.value)


# --- yes/no arguments: True or False, never a string ------------------------------------


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: data.DataLoader(np.zeros((4, 2)), np.zeros(4), shuffle="no"),
         ["DataLoader", "shuffle", "'no'"]),
        (lambda: data.DataLoader(np.zeros((4, 2)), np.zeros(4), drop_last="False"),
         ["DataLoader", "drop_last", "'False'"]),
        (lambda: data.DataLoader(np.zeros((4, 2)), np.zeros(4), shuffle=None),
         ["DataLoader", "shuffle", "None"]),
        (lambda: data.DataLoader(np.zeros((4, 2)), np.zeros(4), drop_last=1),
         ["DataLoader", "drop_last", "1"]),
        (lambda: data.make_moons(10, shuffle="False"), ["make_moons", "shuffle", "'False'"]),
        (lambda: data.make_circles(10, shuffle="no"), ["make_circles", "shuffle", "'no'"]),
    ],
)
def test_a_yes_no_argument_that_is_not_a_bool_is_refused(call, words):
    # before: any truthy value counted as True, so shuffle="no" shuffled and drop_last="False" dropped
    with pytest.raises(TypeError) as info:
        call()
    for word in [*words, "True or False"]:
        assert word in str(info.value)


def test_data_loader_takes_numpy_bools_as_flags():
    X = np.arange(10.0).reshape(5, 2)
    loader = data.DataLoader(X, np.arange(5), batch_size=2, shuffle=np.False_, drop_last=np.True_)
    assert [by.data.tolist() for _, by in loader] == [[0, 1], [2, 3]]  # in order, the partial batch left out
