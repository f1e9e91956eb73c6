"""What the commands share: the argument types, the data sets, the networks and the optimizers."""

from __future__ import annotations

import argparse
import errno
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, NoReturn, Optional, Sequence

import numpy as np

from tinygrad_edu import data, nn, optim, train

PROG = "tinygrad-edu"
DEFAULT_OUT = "tinygrad_edu_out"
PLOT_HINT = "pip install matplotlib, or in a checkout: pip install -e '.[plot]'"


class UsageError(Exception):
    """A bad argument found after parsing; ``main`` prints it as one line and returns 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block), then exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}{dash_hint(message)} (see --help)\n")


def dash_hint(message: str) -> str:
    """A hint for a value that starts with '-' (such as the expression -a*b), which argparse
    reads as an unknown option."""
    if "unrecognized arguments" not in message:
        return ""
    words = message.split(":", 1)[1].split()
    if not any(w.startswith("-") and not w.startswith("--") for w in words):
        return ""
    return (
        "; a value that starts with '-' is read as an option: put it after '--' "
        "(graph --values a=1,b=2 -- '-a*b') or quote it with a space first (' -a*b')"
    )


DIVERGENCE_FACTOR = 2.0
"""A run diverged when its final loss is not finite or above this times the initial network's loss."""


def divergence(initial_loss: float, final_loss: float) -> Optional[str]:
    """Why a run with these losses diverged (see DIVERGENCE_FACTOR), or None when it did not."""
    if not math.isfinite(final_loss):
        return f"the final loss is {final_loss}"
    if final_loss > DIVERGENCE_FACTOR * initial_loss:
        return (
            f"the final loss {final_loss:.6g} is more than {DIVERGENCE_FACTOR:g} times the initial "
            f"network's loss {initial_loss:.6g}"
        )
    return None


def output_path(text: str) -> str:
    """An argument type: a file or folder name, not empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file or folder name, got {text!r}")
    return text


def file_stem(text: str) -> str:
    """An argument type: a file name without a folder and without a suffix, such as ``graph``."""
    if not text.strip() or os.sep in text or (os.altsep and os.altsep in text) or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"expected a file name without a folder, such as net; got {text!r}")
    return text


def check_output_folder(folder: str, option: str, create: bool = True) -> None:
    """Create ``folder`` (and its parents) now, before any work, or say why it cannot be written.

    With ``create=False`` nothing is made: the nearest folder that exists must be writable.
    """
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"{option}: {folder!r} is a file, not a folder")
    existing = folder
    if create:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            reason = _write_failure(_nearest_existing(folder), err, named=True)
            raise UsageError(f"{option}: cannot create the folder {folder!r}: {reason}") from None
    else:
        existing = _nearest_existing(folder)
        if not os.path.isdir(existing):
            raise UsageError(f"{option}: cannot create the folder {folder!r}: {existing!r} is a file")
    try:  # the one sure test that files can be made there (permissions, read-only disks, /proc)
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        reason = _write_failure(existing, err)
        raise UsageError(f"{option}: cannot write in the folder {existing!r}: {reason}") from None


def _nearest_existing(folder: str) -> str:
    """``folder`` or its nearest parent that exists."""
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    return existing


def _write_failure(folder: str, err: OSError, named: bool = False) -> str:
    """Why no file can be made in ``folder``, which exists. The system's own words, except for
    ENOENT ("No such file or directory"), which a virtual file system such as /proc answers for
    every new file: then the file system is named, since the folder is plainly there."""
    reason = str(err.strerror or err)
    if err.errno != errno.ENOENT or not os.path.isdir(folder):
        return reason
    fstype = file_system_type(folder)
    what = f"a {fstype} file system" if fstype else "probably a virtual file system (such as /proc)"
    subject = repr(folder) if named else "it"
    return (
        f"{subject} is on {what}, where nothing can be created (the system answers {reason!r} for "
        "any new file there); choose another folder"
    )


def file_system_type(path: str, mounts: str = "/proc/self/mounts") -> Optional[str]:
    """The type (proc, sysfs, ext4, ...) of the file system ``path`` is on, from the mount table
    (Linux); None when there is no table to read."""
    try:
        with open(mounts, encoding="utf-8", errors="replace") as table:
            entries = [line.split() for line in table]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, fstype = -1, None
    for fields in entries:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) > best:
            best, fstype = len(point), fields[2]
    return fstype


def check_output_file(path: str, option: str, example: str = "model.npz") -> None:
    """Check, before any work, that ``path`` can be written: not a folder, its folder writable.

    ``example`` is the file name the message suggests.
    """
    if os.path.isdir(path):
        inside = os.path.join(path, example)
        raise UsageError(f"{option}: {path!r} is a folder; give a file name such as {inside!r}")
    if os.path.exists(path) and not os.path.isfile(os.path.realpath(path)):
        raise UsageError(f"{option}: {path!r} is not a regular file; give a file name such as {example}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"{option}: {path!r} is not writable")
    check_output_folder(os.path.dirname(os.path.abspath(path)), option)



# name -> (params, lr) -> optimizer. "gd" and "momentum" are the course's update rules; "adam"
# puts eps inside the square root as the course's code does (m_hat / sqrt(v_hat + eps)).
OPTIMIZERS: dict[str, Callable[[Any, Any], optim.Optimizer]] = {
    "gd": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.Momentum(params, lr=lr, beta=0.9),
    "nesterov": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "adagrad": lambda params, lr: optim.Adagrad(params, lr=lr),
    "adam": lambda params, lr: optim.Adam(params, lr=lr, eps_mode="inside"),
    "adam-pytorch": lambda params, lr: optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: optim.AdamW(params, lr=lr),
}

DATASETS = ("moons", "circles", "spirals")
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.05, "spirals": 0.2}
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def same_file(a: str, b: str) -> bool:
    """True when the paths name one file: the same resolved path (symlinks, '..') or a hard link."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist yet
        return False


def positive_float(text: str) -> float:
    """An argument type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argument type: an integer >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


SEED_MAX = 2**32 - 1
"""numpy's RandomState takes seeds in [0, 2**32 - 1]."""


def seed_value(text: str) -> int:
    """An argument type: a seed in [0, SEED_MAX]."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, {SEED_MAX}], got {text!r}")
    return value


def noise_level(text: str) -> float:
    """An argument type: a finite number >= 0 (the noise of a data set)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def probability(text: str) -> float:
    """An argument type: a probability in [0, 1) (a dropout rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def layer_sizes(text: str) -> list[int]:
    """``"2,16,16,1"`` -> [2, 16, 16, 1]: the input size, the hidden sizes, the output size."""
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected at least two positive integers separated by commas, such as 2,5,2,1; got {text!r}"
        )
    return sizes


def optimizer_name(text: str) -> str:
    """An argument type: one of the names in ``OPTIMIZERS``."""
    if text not in OPTIMIZERS:
        raise argparse.ArgumentTypeError(f"unknown optimizer {text!r}; choose from {', '.join(OPTIMIZERS)}")
    return text


def optimizer_names(text: str) -> list[str]:
    """An argument type: names from ``OPTIMIZERS`` separated by commas, each once."""
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected names separated by commas, such as gd,adam; got {text!r}")
    for name in names:
        optimizer_name(name)
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"an optimizer is named twice in {text!r}")
    return names


def schedule(text: str) -> Callable[[float], Any]:
    """``--schedule`` -> a function lr -> Keras-style schedule (or the plain lr for "constant").

    exponential:RATE:STEPS[:staircase]     lr * RATE ** (step / STEPS)
    inverse-time:RATE:STEPS[:staircase]    lr / (1 + RATE * step / STEPS)
    cosine:STEPS[:ALPHA]                   cosine from lr down to ALPHA * lr over STEPS steps
    piecewise:B1,B2,...:V1,V2,V3,...       V1 until step B1, V2 until B2, ... (lr is ignored)
    """
    kind, *fields = text.split(":")
    schedules = optim.schedules
    try:
        if kind == "constant" and not fields:
            return lambda lr: lr
        if kind in ("exponential", "inverse-time") and len(fields) in (2, 3):
            rate, steps = float(fields[0]), float(fields[1])
            if len(fields) == 3 and fields[2] != "staircase":
                raise ValueError(f"the third field may only be 'staircase', got {fields[2]!r}")
            staircase = len(fields) == 3
            cls = schedules.ExponentialDecay if kind == "exponential" else schedules.InverseTimeDecay
            cls(1.0, steps, rate, staircase)  # checks the numbers now, while we can say which option
            return lambda lr: cls(lr, steps, rate, staircase)
        if kind == "cosine" and len(fields) in (1, 2):
            steps, alpha = float(fields[0]), float(fields[1]) if len(fields) == 2 else 0.0
            schedules.CosineDecay(1.0, steps, alpha)
            return lambda lr: schedules.CosineDecay(lr, steps, alpha)
        if kind == "piecewise" and len(fields) == 2:
            boundaries = [float(b) for b in fields[0].split(",")]
            values = [float(v) for v in fields[1].split(",")]
            schedules.PiecewiseConstantDecay(boundaries, values)
            return lambda lr: schedules.PiecewiseConstantDecay(boundaries, values)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None
    raise argparse.ArgumentTypeError(
        f"expected exponential:RATE:STEPS, inverse-time:RATE:STEPS, cosine:STEPS[:ALPHA], "
        f"piecewise:B1,B2:V1,V2,V3 or constant; got {text!r}"
    )


def load_dataset(name: str, samples: int, noise: Optional[float], seed: int, classes: int = 3):
    """X (n, 2) float64 and integer labels y (n,) for a named 2-D toy data set."""
    noise = DEFAULT_NOISE[name] if noise is None else noise
    if name == "moons":
        return data.make_moons(samples, noise=noise, seed=seed)
    if name == "circles":
        return data.make_circles(samples, noise=noise, seed=seed)
    per_class = max(samples // classes, 1)
    return data.make_spirals(per_class, classes, noise=noise, seed=seed)


SPIRAL_CLASSES = 3
"""The spirals' number of classes when --classes is not given."""


def class_count(args: argparse.Namespace) -> int:
    """The number of classes of ``args.dataset``: --classes for the spirals; moons and circles have 2,
    so a --classes given with them is refused rather than ignored."""
    if args.dataset == "spirals":
        return SPIRAL_CLASSES if args.classes is None else args.classes
    if args.classes is not None:
        raise UsageError(
            f"--classes is for --dataset spirals: the {args.dataset} data set always has 2 classes; "
            "leave out --classes or use --dataset spirals"
        )
    return 2


def check_dropout(dropout: float, sizes: Sequence[int]) -> None:
    """Refuse a --dropout that would do nothing: dropout goes after each hidden layer, and a network
    such as 2,1 has none."""
    if dropout > 0 and len(sizes) == 2:
        raise UsageError(
            f"--dropout: the network {'-'.join(map(str, sizes))} has no hidden layer, and dropout goes "
            f"after each hidden layer; add one (such as --layers {sizes[0]},16,{sizes[1]}) or leave out "
            "--dropout"
        )


def make_network(
    sizes: Sequence[int], seed: int, activation: str = "relu", dropout: float = 0.0
) -> nn.Sequential:
    """Linear -> activation (-> Dropout) -> ... -> Linear, in float64, He-initialised from ``seed``.

    One ``np.random.RandomState(seed)`` draws every weight in layer order, as the course's
    ``initialize_parameters`` does after ``np.random.seed(seed)``. The last layer outputs
    logits (no activation): the losses used here take logits, which is numerically stable.
    """
    rng = np.random.RandomState(seed)
    dropout_rng = np.random.default_rng(seed)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, init="he", rng=rng, dtype=np.float64))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=dropout_rng))
    return nn.Sequential(*layers)


def loss_and_targets(
    sizes: Sequence[int], y: np.ndarray, n_classes: int, where: str
) -> tuple[Any, np.ndarray]:
    """One output: BCEWithLogitsLoss with y as an (n, 1) float column. n_classes outputs: CrossEntropyLoss."""
    if sizes[0] != 2:
        raise UsageError(f"--layers: the data sets are 2-D, so the first size must be 2, got {sizes[0]}")
    if sizes[-1] == 1 and n_classes == 2:
        return nn.BCEWithLogitsLoss(), y.reshape(-1, 1).astype(np.float64)
    if sizes[-1] == n_classes:
        return nn.CrossEntropyLoss(), y
    expected = "1 (or 2)" if n_classes == 2 else str(n_classes)
    raise UsageError(
        f"--layers: the last size must be {expected} for {n_classes} classes in {where}, got {sizes[-1]}"
    )


def probabilities(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """points -> the model's probability of class 1 (sigmoid of its logit), or its class scores."""

    def predict(points: np.ndarray) -> np.ndarray:
        out = train.predict(model, points)
        if out.ndim == 2 and out.shape[1] > 1:
            return out
        return 1.0 / (1.0 + np.exp(-np.clip(out, -500, 500)))

    return predict


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # pictures go to files; no window is ever opened
    import matplotlib.pyplot as plt

    return plt


# --- Ctrl-C ----------------------------------------------------------------------------------
# train and compare catch Ctrl-C themselves: it sets a flag, and every run checks the flag between
# two steps and ends there (fit takes it as Ctrl-C: ``history.interrupted``), so what was trained
# is kept. The flag is in shared memory, so that compare's worker processes see it too.


def stop_flag() -> Any:
    """A byte in shared memory: how many times Ctrl-C was pressed while training (0, 1, 2)."""
    return multiprocessing.RawValue("b", 0)


@contextmanager
def ctrl_c_stops(stop: Any) -> Iterator[None]:
    """While active, the first Ctrl-C sets ``stop`` (the runs end after their step in progress); a
    second raises KeyboardInterrupt at once. Python runs signal handlers in the main thread only,
    so in another thread Ctrl-C is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        stop.value = min(stop.value + 1, 2)
        if stop.value > 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stoppable(batches: Callable[[int], Any], stop: Any) -> Callable[[int], Iterator[Any]]:
    """``batches``, but once ``stop`` is set the next batch raises KeyboardInterrupt, which fit takes
    as Ctrl-C: the run ends after its last complete step, with ``history.interrupted``."""

    def stoppable_batches(epoch: int) -> Iterator[Any]:
        for batch in batches(epoch):
            if stop.value:
                raise KeyboardInterrupt
            yield batch

    return stoppable_batches


def torch_optimizer_reason(message: str, instead: str) -> str:
    """Why the checkpoint's optimizer has no PyTorch twin, for the command line: the library's reason
    without the Python function's name and advice (eps_mode='outside'), then ``instead`` with the
    option to use in place of ``{option}``."""
    for where in ("optimizer_to_torch: ", "compare_with_torch: "):
        message = message.removeprefix(where)
    if "eps_mode" in message:
        reason = message.split(". Build the optimizer")[0]
        return f"{reason}; {instead.format(option='--optimizer adam-pytorch')}"
    if "optim.Momentum" in message:
        option = "--optimizer nesterov (PyTorch's SGD with Nesterov momentum 0.9) or --optimizer gd"
        return (
            "the checkpoint's optimizer momentum (the course's v = beta * v + (1 - beta) * grad) has no "
            f"PyTorch class; {instead.format(option=option)}"
        )
    return message


def quiet_help(result: str) -> str:
    """The help of --quiet, naming what the command still prints."""
    return f"print only {result}: no progress, notes or 'wrote' lines; errors still go to stderr"


def say(quiet: bool, *parts: Any) -> None:
    """Print ``parts`` unless ``quiet`` (``--quiet``: only the result is printed)."""
    if not quiet:
        print(*parts, flush=True)


def data_options(
    p: argparse.ArgumentParser, samples: int, seed: int, datasets: Sequence[str] = DATASETS,
    seeds: str = "the data, the initial weights and the shuffles",
) -> None:
    """The options every command shares: --dataset, --samples and --seed (of ``seeds``)."""
    p.add_argument(
        "--dataset", choices=datasets, default="moons", help="the 2-D toy data set (default moons)"
    )
    p.add_argument(
        "--samples", type=int_at_least(1), default=samples,
        help=f"number of points (default {samples}; spirals: a multiple of the classes, rounded down)"
    )
    p.add_argument(
        "--seed",
        type=seed_value,
        default=seed,
        help=f"seed of {seeds} (default {seed})",
    )

