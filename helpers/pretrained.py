"""Pre-trained models for notebook 11 (transfer learning).

Two things live here, both imported explicitly (``from helpers.pretrained import ...``) because
they need Keras, which ``import helpers`` must not load:

- :func:`load_or_train` keeps one trained model in a cache file under ``data/`` together with a
  *fingerprint* (the settings that produced it). A file that is missing, fails to load, was
  changed, or was made with other settings is retrained, with a printed message; nothing but
  the cache file and its ``.json`` record is ever written.
- :func:`imagenet_transfer` runs the lecture notes' five steps with Keras' ImageNet-trained
  MobileNetV2 on a TensorFlow Datasets set: an online extra. :func:`imagenet_ready` says,
  without touching the network for long, whether the weights and data can be had.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.data import CONNECT_TIMEOUT, OFFLINE_ENV, _open_url

#: The course's folder for generated files (git-ignored).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: Written into every record, so that a JSON file the course did not write is never trusted.
RECORD_KIND = "course-model-cache"
MOBILENET_SIZES = (96, 128, 160, 192, 224)
MOBILENET_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
                 "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5")


@dataclass
class CachedModel:
    """What :func:`load_or_train` returns: the model, whether the cache was reused, and why."""

    model: Any
    reused: bool
    reason: str
    path: Path


# --------------------------------------------------------------------------- the cache


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_fingerprint(fingerprint: Any) -> dict[str, Any]:
    if not isinstance(fingerprint, Mapping) or not fingerprint:
        raise TypeError("fingerprint must be a non-empty dict of the settings that produce the "
                        f"model (classes, architecture version, seed, ...), got {fingerprint!r}")
    try:
        # A JSON round trip, so that tuples compare equal to the lists read back.
        return json.loads(json.dumps(dict(fingerprint), sort_keys=True))
    except (TypeError, ValueError) as err:
        raise TypeError("fingerprint must hold only JSON values (numbers, strings, lists, "
                        f"dicts): {err}") from None


def _why_stale(path: Path, fingerprint: dict[str, Any]) -> str | None:
    """``None`` when the record matches the file and the fingerprint, else the reason."""
    if not path.exists():
        return f"no cached model at {path}"
    record_file = _record_path(path)
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{record_file.name} (the record of its settings) is missing"
    except (OSError, ValueError) as err:
        return f"{record_file.name} is unreadable ({type(err).__name__})"
    if not isinstance(record, dict) or record.get("kind") != RECORD_KIND:
        return f"{record_file.name} was not written by the course"
    if record.get("fingerprint") != fingerprint:
        old = record.get("fingerprint") or {}
        changed = sorted(k for k in set(old) | set(fingerprint) if old.get(k) != fingerprint.get(k))
        return f"it was trained with other settings ({', '.join(changed)} changed)"
    if record.get("sha256") != _sha256(path):
        return "the file changed after it was saved"
    return None


def load_or_train(path: str | os.PathLike, fingerprint: Mapping[str, Any],
                  train: Callable[[], Any], *, verbose: bool = True) -> CachedModel:
    """Load the model cached at ``path`` if it was made with ``fingerprint``, else train it.

    Args:
        path: the cache file, ending in ``.keras``; its record is ``path + ".json"``.
        fingerprint: the settings that determine the model (classes, architecture version,
            seed, epochs...). A cache made with any other value is stale.
        train: called with no arguments when the cache cannot be used; returns a trained,
            built ``keras.Model``, which is then saved to ``path``.
        verbose: print one line saying whether the cache was used, and why not.

    Returns:
        A :class:`CachedModel`. A cache that is missing, fails to load, was changed after it was
        saved, or has another fingerprint is replaced, and the message says which; no file but
        ``path`` and its record is ever written.
    """
    import keras

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in '.keras' (Keras' model format), got {path.name!r}; "
                         f"e.g. {path.with_suffix('.keras')}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; pass the path of a .keras file")
    if not callable(train):
        raise TypeError(f"train must be a function that returns a trained keras.Model, got "
                        f"{type(train).__name__}")
    fingerprint = _check_fingerprint(fingerprint)
    reason = _why_stale(path, fingerprint)
    if reason is None:
        try:
            model = keras.saving.load_model(path)
        except Exception as err:  # a corrupt file: any error Keras raises while reading it
            reason = f"it could not be loaded ({type(err).__name__})"
        else:
            if verbose:
                print(f"Reusing the cached model {path.name} (same settings; delete the file "
                      "to retrain it).")
            return CachedModel(model, True, "cache valid", path)
    if verbose:
        print(f"Training the model: {reason}. It will be saved to {path}.")
    model = train()
    if not isinstance(model, keras.Model):
        raise TypeError(f"train() must return a keras.Model, got {type(model).__name__}")
    _save(model, path, fingerprint)
    return CachedModel(model, False, reason, path)


def _save(model: Any, path: Path, fingerprint: dict[str, Any]) -> None:
    """Write the model and then its record, each through a temporary file in the same folder,
    so that an interrupted save leaves no half-written cache that looks valid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record_file = _record_path(path)
    record_file.unlink(missing_ok=True)           # a model without a record is never trusted
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.keras")
    try:
        model.save(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    record = {"kind": RECORD_KIND, "fingerprint": fingerprint, "sha256": _sha256(path)}
    partial_record = record_file.with_name(f".{record_file.name}.{os.getpid()}.partial")
    partial_record.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    partial_record.replace(record_file)


# --------------------------------------------------------------------------- ImageNet extra


def mobilenet_weights_file(image_size: int = 160) -> Path:
    """Where Keras caches MobileNetV2's ImageNet weights (no top) for this input size."""
    if image_size not in MOBILENET_SIZES:
        raise ValueError(f"MobileNetV2 has ImageNet weights for image sizes {MOBILENET_SIZES}, "
                         f"not {image_size}")
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models" / Path(MOBILENET_URL.format(size=image_size)).name


def tfds_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """TensorFlow Datasets' folder: ``data_dir``, else ``$TFDS_DATA_DIR``, else
    ``~/tensorflow_datasets``."""
    return Path(data_dir or os.environ.get("TFDS_DATA_DIR")
                or Path.home() / "tensorflow_datasets")


def imagenet_ready(dataset: str = "tf_flowers", *, image_size: int = 160,
                   data_dir: str | os.PathLike | None = None,
                   timeout: float = CONNECT_TIMEOUT) -> tuple[bool, str]:
    """Can :func:`imagenet_transfer` get MobileNetV2's weights and ``dataset``?

    True at once when both are cached. Otherwise it needs a download: never tried when
    COURSE_OFFLINE or CI is set (the suite downloads nothing in CI), else one request to the
    weights' server decides within ``timeout`` seconds. Returns ``(ready, reason)``;
    ``reason`` is one sentence.
    """
    weights = mobilenet_weights_file(image_size)
    data = tfds_data_dir(data_dir) / dataset
    missing = [what for what, there in (("MobileNetV2's ImageNet weights", weights.is_file()),
                                        (f"the {dataset} data", data.is_dir())) if not there]
    if not missing:
        return True, f"MobileNetV2's weights and {dataset} are cached"
    what = " and ".join(missing)
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return False, f"{what} would have to be downloaded, and {OFFLINE_ENV} is set"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        return False, (f"{what} would have to be downloaded, and nothing is downloaded in CI "
                       "(CI is set)")
    try:
        _open_url(MOBILENET_URL.format(size=image_size), timeout).close()
    except OSError as err:
        return False, (f"{what} would have to be downloaded, and the network is not reachable "
                       f"({type(err).__name__})")
    return True, f"{what} will be downloaded"


def imagenet_transfer(dataset: str = "tf_flowers", *, weights: str | None = "imagenet",
                      image_size: int = 160, batch_size: int = 32, epochs: int = 2,
                      fine_tune_epochs: int = 2, fine_tune_from: int = 100,
                      learning_rate: float = 1e-3, steps: int | None = None,
                      data_dir: str | os.PathLike | None = None, seed: int = 0,
                      load: Callable[..., Any] | None = None,
                      verbose: int = 0) -> dict[str, float]:
    """The notes' five steps with MobileNetV2 on a TensorFlow Datasets image set.

    1. Obtain the pre-trained model: ``MobileNetV2(include_top=False, weights=weights)``.
    2. Use it as the base, without its ImageNet head.
    3. Freeze it: ``base.trainable = False``.
    4. Add a new head (global average pooling, dropout, one Dense layer) and train it; the
       base is called with ``training=False`` so that its batch-norm layers stay in inference
       mode, also later while fine-tuning.
    5. Fine-tune: unfreeze the layers from ``fine_tune_from`` on, recompile with a learning
       rate 10x lower, train again.

    Args:
        dataset: a TFDS image-classification set with a ``train`` split and ``(image, label)``
            pairs, e.g. ``"tf_flowers"`` or ``"cats_vs_dogs"``; 80% trains, 20% validates.
        weights: ``"imagenet"``, or ``None`` for random weights (the offline unit test).
        image_size: the square input size, one of 96, 128, 160, 192, 224.
        steps: if set, use only this many batches per epoch and for each evaluation.
        load: the loader, ``tfds.load`` by default (a test may pass a fake).

    Returns:
        Validation accuracies: ``{"feature_extraction": ..., "fine_tuning": ...}``.
    """
    import keras

    if image_size not in MOBILENET_SIZES:
        raise ValueError(f"image_size must be one of {MOBILENET_SIZES} (MobileNetV2's "
                         f"ImageNet weights exist only for those), got {image_size}")
    if weights not in ("imagenet", None):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}")
    for name, value in (("batch_size", batch_size), ("epochs", epochs),
                        ("fine_tune_epochs", fine_tune_epochs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be None or a positive int, got {steps!r}")
    if load is None:
        import tensorflow_datasets as tfds

        load = tfds.load
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    (train, val), info = load(dataset, split=["train[:80%]", "train[80%:]"],
                              as_supervised=True, with_info=True, data_dir=data_dir)
    n_classes = info.features["label"].num_classes
    preprocess = keras.applications.mobilenet_v2.preprocess_input

    def prepare(ds: Any, shuffle: bool) -> Any:
        ds = ds.map(lambda x, y: (preprocess(tf.image.resize(tf.cast(x, "float32"),
                                                             (image_size, image_size))), y),
                    num_parallel_calls=tf.data.AUTOTUNE)
        if shuffle:
            ds = ds.shuffle(1_000, seed=seed)
        ds = ds.batch(batch_size)
        return (ds.take(steps) if steps else ds).prefetch(tf.data.AUTOTUNE)

    train, val = prepare(train, True), prepare(val, False)

    base = keras.applications.MobileNetV2(input_shape=(image_size, image_size, 3),
                                          include_top=False, weights=weights)   # steps 1, 2
    base.trainable = False                                                       # step 3
    inputs = keras.Input((image_size, image_size, 3))
    x = base(inputs, training=False)                     # batch norm stays in inference mode
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2, seed=seed)(x)
    model = keras.Model(inputs, keras.layers.Dense(n_classes)(x))                # step 4

    def compile_and_fit(rate: float, n_epochs: int) -> float:
        model.compile(optimizer=keras.optimizers.Adam(rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        model.fit(train, epochs=n_epochs, verbose=verbose)
        return float(model.evaluate(val, verbose=verbose, return_dict=True)["accuracy"])

    results = {"feature_extraction": compile_and_fit(learning_rate, epochs)}
    base.trainable = True                                                        # step 5
    for layer in base.layers[:fine_tune_from]:
        layer.trainable = False
    results["fine_tuning"] = compile_and_fit(learning_rate / 10, fine_tune_epochs)
    return results
