"""Toy data sets, mini-batches and input standardisation.

Samples are rows: ``X`` has shape (n_samples, n_features). The course's code
uses columns; ``X.T`` translates.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterator, Optional, Union

import numpy as np

from tinygrad_edu._config import STATE, _check_flag
from tinygrad_edu.tensor import Tensor

Seed = Union[None, int, np.random.RandomState]


def _check_int(value: Any, name: str, where: str, minimum: int, maximum: Optional[int] = None) -> int:
    """``value`` as an int in [minimum, maximum]; TypeError for a non-int, ValueError out of range."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum or (maximum is not None and value > maximum):
        wanted = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{where}: {name} must be an int {wanted}, got {value!r}")
    return int(value)


def _check_noise(noise: Any, where: str) -> Optional[float]:
    """The noise's standard deviation: None (no noise) or a finite number >= 0."""
    if noise is None:
        return None
    if not isinstance(noise, (int, float, np.integer, np.floating)) or isinstance(noise, bool):
        raise TypeError(
            f"{where}: noise must be a number >= 0 or None, got {noise!r} ({type(noise).__name__})"
        )
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"{where}: noise must be a finite number >= 0 (a standard deviation), got {noise!r}")
    return float(noise)


def _legacy_rng(seed: Seed, where: str) -> np.random.RandomState:
    """numpy's legacy RandomState: the stream scikit-learn and the course draw from.

    None gives numpy's global RandomState (what ``np.random.seed`` seeds), as
    scikit-learn does; an int gives a fresh RandomState(seed).
    """
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(_check_int(seed, "seed", where, 0, 2**32 - 1))
    raise TypeError(
        f"{where}: seed must be None, an int or a np.random.RandomState, got {seed!r} ({type(seed).__name__})"
    )


def _split_counts(n_samples: Any, name: str, minimum: int) -> tuple[int, int]:
    """How many points each shape gets: half each (the outer one the smaller half), or the
    ``(n_out, n_in)`` pair given, as scikit-learn takes it (its smallest count: 1 for the
    moons, 0 for the circles)."""
    if isinstance(n_samples, (tuple, list)):
        if len(n_samples) != 2:
            raise ValueError(f"{name}: n_samples as a pair is (n_out, n_in), got {n_samples!r}")
        return tuple(_check_int(n, "n_samples", name, 0) for n in n_samples)
    n_out = _check_int(n_samples, "n_samples", name, minimum) // 2
    return n_out, int(n_samples) - n_out


def _shuffle_and_noise(
    X: np.ndarray, y: np.ndarray, noise: Optional[float], rng: np.random.RandomState, shuffle: bool
) -> tuple[np.ndarray, np.ndarray]:
    # Same draws, in the same order, as scikit-learn: one shuffle of the
    # indices, then one normal draw per coordinate.
    if shuffle:
        order = np.arange(len(X))
        rng.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(
    n_samples: Union[int, tuple[int, int]] = 100,
    noise: Optional[float] = None,
    seed: Seed = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: X (n, 2) float64, y (n,) int64 labels 0/1.

    With an int ``seed``, bit for bit the points of scikit-learn's
    ``make_moons(n_samples, noise=noise, random_state=seed, shuffle=shuffle)``;
    ``n_samples`` may be a pair ``(n_out, n_in)`` as there. The course's data set is
    ``make_moons(300, noise=0.2, seed=3)``.
    """
    n_out, n_in = _split_counts(n_samples, "make_moons", 1)
    shuffle = _check_flag(shuffle, "shuffle", "make_moons")
    noise = _check_noise(noise, "make_moons")
    rng = _legacy_rng(seed, "make_moons")
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.append(np.cos(t_out), 1 - np.cos(t_in))
    y_coord = np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)
    X = np.vstack([x, y_coord]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _shuffle_and_noise(X, y, noise, rng, shuffle)


def make_circles(
    n_samples: Union[int, tuple[int, int]] = 100,
    noise: Optional[float] = None,
    factor: float = 0.8,
    seed: Seed = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (label 0) around a smaller one (label 1, radius ``factor``).

    With an int ``seed``, bit for bit scikit-learn's ``make_circles`` (``n_samples`` a
    count or an ``(n_out, n_in)`` pair, ``shuffle`` as there).
    """
    if not isinstance(factor, (int, float, np.integer, np.floating)) or isinstance(factor, bool):
        raise TypeError(f"make_circles: factor must be a number in [0, 1), got {factor!r}")
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor}")
    n_out, n_in = _split_counts(n_samples, "make_circles", 0)
    shuffle = _check_flag(shuffle, "shuffle", "make_circles")
    noise = _check_noise(noise, "make_circles")
    rng = _legacy_rng(seed, "make_circles")
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)  # no point twice at angle 0 and 2 pi
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.append(np.cos(t_out), np.cos(t_in) * factor)
    y_coord = np.append(np.sin(t_out), np.sin(t_in) * factor)
    X = np.vstack([x, y_coord]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _shuffle_and_noise(X, y, noise, rng, shuffle)


def make_spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: Optional[int] = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms in 2-D (the classic softmax exercise).

    Arm k: radius r in [0, 1], angle 4r + 2 pi k / n_classes (+ noise * normal);
    point (r sin t, r cos t). Returns X (n_per_class * n_classes, 2) float64 and
    y int64 in 0 .. n_classes - 1, ordered by class. ``seed=None`` draws from the library's
    Generator (``tg.manual_seed``), as ``DataLoader`` does; an int from ``default_rng(seed)``.
    """
    n_per_class = _check_int(n_per_class, "n_per_class", "make_spirals", 1)
    n_classes = _check_int(n_classes, "n_classes", "make_spirals", 2)
    noise = _check_noise(noise, "make_spirals") or 0.0
    if seed is None:
        rng = STATE.rng
    else:
        rng = np.random.default_rng(_check_int(seed, "seed", "make_spirals", 0))
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    r = np.linspace(0.0, 1.0, n_per_class)
    for k in range(n_classes):
        t = 4 * r + 2 * np.pi * k / n_classes + rng.standard_normal(n_per_class) * noise
        X[k * n_per_class : (k + 1) * n_per_class] = np.c_[r * np.sin(t), r * np.cos(t)]
    return X, y


def _check_xy(X: Any, Y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    X = X.data if isinstance(X, Tensor) else np.asarray(X)
    Y = Y.data if isinstance(Y, Tensor) else np.asarray(Y)
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"{where}: X and y need a sample axis, got shapes {X.shape} and {Y.shape}")
    if len(X) == 0:
        raise ValueError(f"{where}: the data set is empty (X has shape {X.shape})")
    if len(X) != len(Y):
        raise ValueError(
            f"{where}: X has {len(X)} samples (shape {X.shape}) but y has {len(Y)} (shape {Y.shape}); "
            "samples are rows"
        )
    if len(X) == 1 and X.ndim == 2 and Y.ndim == 2 and Y.shape[1] == X.shape[1] > 1:
        warnings.warn(
            f"{where}: X {X.shape} and y {Y.shape} hold one sample of {X.shape[1]} features. If they "
            "are in the course's layout, one column per sample, pass X.T and y.T (samples are rows)",
            stacklevel=3,
        )
    return X, Y


def _check_batch_size(batch_size: Any, where: str) -> int:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{where}: batch size must be an int >= 1, got {batch_size!r}")
    return int(batch_size)


def _numeric(X: Any, where: str) -> np.ndarray:
    """``X`` as a float64 array, or a TypeError naming ``where`` and what X holds."""
    array = X.data if isinstance(X, Tensor) else np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: X must hold numbers, got an array of dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _float_dtype_of(X: Any) -> np.dtype:
    """The dtype a transform of ``X`` returns: float32 and float16 stay, anything else is float64."""
    dtype = (X.data if isinstance(X, Tensor) else np.asarray(X)).dtype
    return dtype if dtype.kind == "f" and dtype.itemsize <= 4 else np.dtype(np.float64)


_BATCH_RNG = np.random.RandomState(0)  # private: numpy's global random state is left alone


def random_mini_batches(
    X: Any, Y: Any, mini_batch_size: int = 64, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The course's shuffled mini-batches, with samples as rows.

    The permutation is ``np.random.seed(seed); np.random.permutation(m)``, as
    in the course (drawn from a private RandomState, so numpy's global state
    is left alone); batches are consecutive slices of the shuffled data, the
    last one partial when ``mini_batch_size`` does not divide m. Y keeps its
    shape, (m,) or (m, 1).
    """
    X, Y = _check_xy(X, Y, "random_mini_batches")
    size = _check_batch_size(mini_batch_size, "random_mini_batches")
    seed = _check_int(seed, "seed", "random_mini_batches", 0, 2**32 - 1)
    _BATCH_RNG.seed(seed)  # reseeding one RandomState costs 2 us, making a new one 150 us
    permutation = _BATCH_RNG.permutation(len(X))
    X, Y = X[permutation], Y[permutation]
    return [(X[k : k + size], Y[k : k + size]) for k in range(0, len(X), size)]


class DataLoader:
    """Iterate over (X, y) in mini-batches of Tensors, reshuffled every epoch.

    ``len(loader)`` is the number of batches per epoch. With ``seed`` the
    shuffles are reproducible; otherwise they come from the library's
    Generator (``tg.manual_seed``). ``shuffle`` and ``drop_last`` are True or
    False; a string such as "False" is refused (it would count as True).
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        batch_size: int = 64,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: Optional[int] = None,
    ) -> None:
        self.X, self.y = _check_xy(X, y, "DataLoader")
        self.batch_size = _check_batch_size(batch_size, "DataLoader")
        self.shuffle = _check_flag(shuffle, "shuffle", "DataLoader")
        self.drop_last = _check_flag(drop_last, "drop_last", "DataLoader")
        if seed is not None:
            seed = _check_int(seed, "seed", "DataLoader", 0)
        self.rng = np.random.default_rng(seed) if seed is not None else None
        if self.drop_last and len(self.X) < self.batch_size:
            raise ValueError(
                f"DataLoader: drop_last with batch size {self.batch_size} > {len(self.X)} samples "
                "would give no batch"
            )

    def __len__(self) -> int:
        n = len(self.X)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        X, y = self.X, self.y
        if self.shuffle:
            rng = self.rng if self.rng is not None else STATE.rng
            order = rng.permutation(len(X))
            X, y = X[order], y[order]  # shuffled once per epoch; each batch is then a slice
        size = self.batch_size
        for b in range(len(self)):
            yield Tensor(X[b * size : (b + 1) * size]), Tensor(y[b * size : (b + 1) * size])


class Standardizer:
    """Zero mean, unit standard deviation per feature: x' = (x - mean) / std (population std).

    Fit on the training data, then apply the same transform to new data.
    A feature that never varies gets its value as mean and std 1, so it maps to
    exactly 0, not to NaN (nor, through the mean's rounding, to +-1). The mean
    and std are computed in float64; ``transform`` returns float32 data as
    float32 (as scikit-learn's StandardScaler does: a float32 model stays
    float32) and anything else as float64.
    """

    def __init__(self) -> None:
        self.mean: Optional[np.ndarray] = None
        self.std: Optional[np.ndarray] = None

    def fit(self, X: Any) -> "Standardizer":
        X = _numeric(X, "Standardizer.fit")
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(
                f"Standardizer.fit: expected a non-empty (n_samples, n_features) array, got {X.shape}"
            )
        # A constant feature is found by its range: its computed std is often not exactly 0
        # (the mean of ten 0.1s is not exactly 0.1), which would scale the rounding up to +-1.
        constant = X.max(axis=0) == X.min(axis=0)
        self.mean = np.where(constant, X[0], X.mean(axis=0))
        self.std = np.where(constant, 1.0, X.std(axis=0))
        return self

    def transform(self, X: Any) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.transform: call fit(X) first")
        dtype = _float_dtype_of(X)
        X = self._features(X, "Standardizer.transform")
        return ((X - self.mean) / self.std).astype(dtype, copy=False)

    def _features(self, X: Any, where: str) -> np.ndarray:
        """X as float64 of shape (n, the number of features fitted), or a clear error."""
        X = _numeric(X, where)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"{where}: expected shape (n, {self.mean.shape[0]}), got {X.shape}")
        return X

    def fit_transform(self, X: Any) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.inverse_transform: call fit(X) first")
        dtype = _float_dtype_of(X)
        X = self._features(X, "Standardizer.inverse_transform")
        return (X * self.std + self.mean).astype(dtype, copy=False)
