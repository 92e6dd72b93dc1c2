"""Datasets for the course, offline first.

Fashion-MNIST (the course's main image data) is looked for in this order:

1. the Keras cache, ``$KERAS_HOME/datasets/fashion-mnist`` (default ``~/.keras``);
2. Debian/Ubuntu's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist``;
3. a download from the Keras servers into the Keras cache.

With none of them available the loader fails within seconds with an error naming the fixes,
never a hang. scikit-learn's bundled 8x8 digits and two sample photos need no network at all.
MNIST and CIFAR-10 are online extras that share the same offline error path.
"""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
MNIST_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
)
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
#: Seconds allowed for a download to start (DNS, connect, first response) before giving up.
CONNECT_TIMEOUT = 4.0
#: Set COURSE_OFFLINE=1 to never try a download.
OFFLINE_ENV = "COURSE_OFFLINE"


class DatasetUnavailableError(FileNotFoundError):
    """A dataset is neither cached nor installed, and could not be downloaded."""


@dataclass
class ImageDataset:
    """Images and integer labels, split into train and test.

    Unpacks like Keras' loaders: ``(x_train, y_train), (x_test, y_test) = data``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str = field(default="")

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield self.x_train, self.y_train
        yield self.x_test, self.y_test

    def __repr__(self) -> str:
        return (f"ImageDataset(train={self.x_train.shape} {self.x_train.dtype}, "
                f"test={self.x_test.shape}, classes={len(self.class_names)}, "
                f"source={self.source!r})")


# --------------------------------------------------------------------------- locations


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded datasets: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _has_files(directory: Path, names: Sequence[str]) -> bool:
    return all((directory / n).is_file() for n in names)


# --------------------------------------------------------------------------- downloading


def _offline_message(what: str, fixes: Sequence[str], reason: str) -> str:
    lines = [f"{what} is not available on this machine, and it could not be downloaded "
             f"({reason}).", "Fix it in one of these ways:"]
    lines += [f"  {i}. {fix}" for i, fix in enumerate(fixes, 1)]
    return "\n".join(lines)


def _open_url(url: str, timeout: float):
    """Open ``url``, giving up after ``timeout`` seconds *including* DNS, which a plain
    socket timeout does not cover. Returns the response, or raises OSError."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["response"] = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer from {url} within {timeout:.0f} s")
    if "error" in box:
        error = box["error"]
        if isinstance(error, OSError):
            raise error
        raise OSError(str(error))
    return box["response"]


def download(url: str, destination: Path, *, timeout: float = CONNECT_TIMEOUT) -> Path:
    """Download ``url`` to ``destination`` atomically (a partial file never remains).

    Raises OSError (or TimeoutError) when the network is off or slow to answer;
    raises at once when the environment variable COURSE_OFFLINE is set.
    """
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        raise ConnectionError(f"downloads are switched off ({OFFLINE_ENV} is set)")
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    try:
        with _open_url(url, timeout) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _fetch_or_fail(what: str, url_files: Sequence[tuple[str, Path]], fixes: Sequence[str],
                   allow_download: bool) -> None:
    if not allow_download:
        raise DatasetUnavailableError(_offline_message(what, fixes, "downloads not allowed"))
    for url, dest in url_files:
        try:
            download(url, dest)
        except (OSError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise DatasetUnavailableError(_offline_message(what, fixes, reason)) from None


# --------------------------------------------------------------------------- file formats


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, as a uint8 array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number); "
                         "delete it so a good copy can be found or downloaded")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - offset != expected:
        raise ValueError(f"{path} is truncated or corrupt: header says {shape} "
                         f"({expected} bytes), file holds {len(data) - offset}; delete it")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


# --------------------------------------------------------------------------- subsets


def stratified_indices(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices of a seeded subset of ``n`` examples with the class proportions of ``labels``.

    A thin wrapper round scikit-learn's ``train_test_split(..., stratify=labels)`` that
    returns the (shuffled) indices and explains bad input in the course's words.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D class indices, got shape {labels.shape}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 0 < n <= len(labels):
        raise ValueError(f"n must be between 1 and {len(labels)} (the number of examples), got {n}")
    everything = np.arange(len(labels))
    if n == len(labels):
        return np.random.default_rng(seed).permutation(everything)
    try:
        picked, _ = train_test_split(everything, train_size=int(n), stratify=labels,
                                     random_state=seed)
    except ValueError as err:
        classes = len(np.unique(labels))
        raise ValueError(
            f"cannot draw a stratified subset of {n} from {len(labels)} examples of {classes} "
            f"classes ({err}); ask for at least one example per class, and leave at least one "
            "per class out") from err
    return picked


def _finish(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
            *, n_train: int | None, n_test: int | None, seed: int, normalize: bool,
            channel_axis: bool, class_names: Sequence[str], source: str,
            scale: float = 255.0) -> ImageDataset:
    if n_train is not None:
        idx = stratified_indices(y_train, n_train, seed)
        x_train, y_train = x_train[idx], y_train[idx]
    if n_test is not None:
        idx = stratified_indices(y_test, n_test, seed + 1)
        x_test, y_test = x_test[idx], y_test[idx]
    if normalize:
        x_train = x_train.astype("float32") / scale
        x_test = x_test.astype("float32") / scale
    if channel_axis and x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return ImageDataset(x_train, y_train.astype("int64"), x_test, y_test.astype("int64"),
                        tuple(class_names), source)


# --------------------------------------------------------------------------- loaders


def fashion_mnist_dir(*, cache_dir: Path | None = None, system_dir: Path | None = None,
                      allow_download: bool = True) -> tuple[Path, str]:
    """Find (or download) the four Fashion-MNIST files; return their folder and a label."""
    cache = Path(cache_dir) if cache_dir else keras_cache_dir() / "fashion-mnist"
    system = Path(system_dir) if system_dir else SYSTEM_FASHION_MNIST_DIR
    if _has_files(cache, FASHION_MNIST_FILES):
        return cache, f"the Keras cache ({cache})"
    if _has_files(system, FASHION_MNIST_FILES):
        return system, f"the Debian package dataset-fashion-mnist ({system})"
    fixes = [
        "install the Debian/Ubuntu package: sudo apt install dataset-fashion-mnist "
        f"(it puts the files in {SYSTEM_FASHION_MNIST_DIR}), or",
        f"copy the four files {', '.join(FASHION_MNIST_FILES)} into {cache}",
    ]
    _fetch_or_fail("Fashion-MNIST",
                   [(KERAS_DATASETS_URL + "fashion-mnist/" + f, cache / f)
                    for f in FASHION_MNIST_FILES],
                   fixes, allow_download)
    return cache, f"a download into the Keras cache ({cache})"


def load_fashion_mnist(n_train: int | None = None, n_test: int | None = None, *,
                       seed: int = 0, normalize: bool = True, channel_axis: bool = True,
                       allow_download: bool = True, verbose: bool = True,
                       cache_dir: Path | None = None,
                       system_dir: Path | None = None) -> ImageDataset:
    """Load Fashion-MNIST (60,000 train and 10,000 test 28x28 greyscale images, 10 classes).

    Args:
        n_train, n_test: keep a seeded, stratified subset of this many examples per split
            (``None`` keeps all).
        seed: seed of the subset.
        normalize: float32 in [0, 1] (``False`` keeps uint8 0..255).
        channel_axis: shape (N, 28, 28, 1) instead of (N, 28, 28).
        allow_download: try the Keras servers when no local copy exists.
        verbose: print where the data came from.
        cache_dir, system_dir: override the two local folders (for tests).
    """
    folder, source = fashion_mnist_dir(cache_dir=cache_dir, system_dir=system_dir,
                                       allow_download=allow_download)
    x_train, y_train, x_test, y_test = (read_idx(folder / f) for f in FASHION_MNIST_FILES)
    data = _finish(x_train, y_train, x_test, y_test, n_train=n_train, n_test=n_test,
                   seed=seed, normalize=normalize, channel_axis=channel_axis,
                   class_names=FASHION_MNIST_CLASSES, source=source)
    if verbose:
        print(f"Fashion-MNIST from {source}: {len(data.x_train):,} train / "
              f"{len(data.x_test):,} test images, shape {data.x_train.shape[1:]}")
    return data


def load_mnist(n_train: int | None = None, n_test: int | None = None, *, seed: int = 0,
               normalize: bool = True, channel_axis: bool = True, allow_download: bool = True,
               verbose: bool = True, cache_dir: Path | None = None) -> ImageDataset:
    """Load MNIST digits (an online extra): from the Keras cache, else a download."""
    cache = Path(cache_dir) if cache_dir else keras_cache_dir()
    path = cache / "mnist.npz"
    source = f"the Keras cache ({path})"
    if not path.is_file():
        fixes = ["connect to the internet once and run this cell again, or",
                 f"copy mnist.npz into {cache}, or",
                 "use load_fashion_mnist() or load_digits(), which work offline"]
        _fetch_or_fail("MNIST", [(KERAS_DATASETS_URL + "mnist.npz", path)], fixes,
                       allow_download)
        source = f"a download into the Keras cache ({path})"
    with np.load(path) as f:
        arrays = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    data = _finish(*arrays, n_train=n_train, n_test=n_test, seed=seed, normalize=normalize,
                   channel_axis=channel_axis, class_names=MNIST_CLASSES, source=source)
    if verbose:
        print(f"MNIST from {source}: {len(data.x_train):,} train / {len(data.x_test):,} test")
    return data


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")  # noqa: S301 - the official CIFAR format
    x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(batch[b"labels"], dtype=np.int64)


def load_cifar10(n_train: int | None = None, n_test: int | None = None, *, seed: int = 0,
                 normalize: bool = True, allow_download: bool = True, verbose: bool = True,
                 cache_dir: Path | None = None) -> ImageDataset:
    """Load CIFAR-10 (an online extra, 170 MB): from the Keras cache, else a download."""
    cache = Path(cache_dir) if cache_dir else keras_cache_dir()
    folder = cache / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    source = f"the Keras cache ({folder})"
    if not _has_files(folder, names):
        archive = cache / "cifar-10-batches-py.tar.gz"
        if not archive.is_file():
            fixes = ["connect to the internet once and run this cell again, or",
                     f"copy the extracted folder cifar-10-batches-py into {cache}, or",
                     "use load_fashion_mnist(), which works offline"]
            _fetch_or_fail("CIFAR-10", [(CIFAR10_URL, archive)], fixes, allow_download)
            source = f"a download into the Keras cache ({folder})"
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    parts = [_read_cifar_batch(folder / n) for n in names]
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    data = _finish(x_train, y_train, *parts[5], n_train=n_train, n_test=n_test, seed=seed,
                   normalize=normalize, channel_axis=False, class_names=CIFAR10_CLASSES,
                   source=source)
    if verbose:
        print(f"CIFAR-10 from {source}: {len(data.x_train):,} train / {len(data.x_test):,} test")
    return data


def _resize(images: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (N, H, W) images with ``keras.ops.image.resize``."""
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size}")
    import keras

    resized = keras.ops.image.resize(images[..., None], (height, width), interpolation="bilinear",
                                     antialias=False, data_format="channels_last")
    return keras.ops.convert_to_numpy(resized)[..., 0].astype("float32")


def load_digits(size: int | tuple[int, int] | None = None, *, test_fraction: float = 0.25,
                seed: int = 0, channel_axis: bool = True) -> ImageDataset:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images), float32 in [0, 1].

    Args:
        size: resize to this size (e.g. 28 or 32) with bilinear interpolation.
        test_fraction: share of a seeded, stratified test split.
        seed: seed of the split.
        channel_axis: add a trailing channel axis.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    digits = sk_load_digits()
    x = (digits.images / 16.0).astype("float32")
    y = digits.target.astype("int64")
    if size is not None:
        x = np.clip(_resize(x, size), 0.0, 1.0)
    train_idx, test_idx = train_test_split(np.arange(len(y)), test_size=test_fraction,
                                           stratify=y, random_state=seed)
    if channel_axis:
        x = x[..., None]
    return ImageDataset(x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                        MNIST_CLASSES, "scikit-learn's bundled digits")


def sample_photos(normalize: bool = True) -> dict[str, np.ndarray]:
    """scikit-learn's two bundled colour photos, ``{"china": ..., "flower": ...}``,
    each 427x640x3 (float32 in [0, 1], or uint8 with ``normalize=False``)."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    photos = {}
    for filename, image in zip(bunch.filenames, bunch.images, strict=True):
        name = Path(filename).stem
        photos[name] = image.astype("float32") / 255.0 if normalize else image
    return photos
