"""Runtime set-up: one call at the top of every notebook.

``setup()`` seeds every random number generator the course uses, turns on TensorFlow's op
determinism (so that a rerun on the same machine gives the same numbers, on a GPU too), quiets
TensorFlow's C++ logging, turns on GPU memory growth when a GPU exists, and prints one line
saying what the notebook runs on.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_SEED = 42


@dataclass(frozen=True)
class RuntimeInfo:
    """What ``setup()`` found and did."""

    tensorflow: str
    keras: str
    device: str
    gpus: tuple[str, ...]
    seed: int
    deterministic: bool = True

    def line(self) -> str:
        """The one line ``setup()`` prints."""
        return (
            f"TensorFlow {self.tensorflow} | Keras {self.keras} | "
            f"device: {self.device} | seed: {self.seed}"
            + ("" if self.deterministic else " | op determinism off")
        )


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}; pick e.g. setup(seed=42)")
    return int(seed)


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a moment.

    TensorFlow's native code prints start-up lines ("Could not find cuda drivers", "failed
    call to cuInit") straight to the process's stderr before its log level is read, so no
    environment variable hides them. Python's own errors still arrive: they are raised, and
    printed after the descriptor is restored.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (unusual hosts): do nothing
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _gpu_name(tf: Any, gpu: Any) -> str:
    """A readable name for a physical GPU, e.g. 'NVIDIA H100 80GB HBM3'."""
    try:
        details = tf.config.experimental.get_device_details(gpu)
    except Exception:  # details are optional; the device name always exists
        details = {}
    return str(details.get("device_name") or getattr(gpu, "name", "GPU"))


def describe_device(gpu_names: Sequence[str]) -> str:
    """'CPU' when there is no GPU, else 'GPU: <name>' (with a count when several)."""
    if not gpu_names:
        return "CPU"
    if len(gpu_names) == 1:
        return f"GPU: {gpu_names[0]}"
    return f"{len(gpu_names)} GPUs: {', '.join(gpu_names)}"


def setup(seed: int = DEFAULT_SEED, *, gpus: Sequence[Any] | None = None,
          deterministic: bool = True, verbose: bool = True) -> RuntimeInfo:
    """Seed Python, NumPy and Keras, turn on op determinism, quiet TF logging, enable GPU
    memory growth.

    Args:
        seed: the seed for ``random``, NumPy and Keras/TensorFlow.
        deterministic: call ``tf.config.experimental.enable_op_determinism()``: the same
            seed on the same hardware and software then gives the same numbers, GPU included
            (at some cost in speed there). It stays on for the rest of the process; another
            machine, TensorFlow version or thread count may still round differently.
        gpus: physical GPU devices to configure; by default the ones TensorFlow lists.
            (Tests pass a simulated list here.)
        verbose: print the one-line summary.

    Returns:
        A :class:`RuntimeInfo` with versions, device and seed.
    """
    seed = _check_seed(seed)
    if not isinstance(deterministic, bool):
        raise TypeError(f"deterministic must be True or False, got {deterministic!r}")
    # Must be set before TensorFlow is imported to silence its C++ start-up logging.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

    with _quiet_native_stderr():
        import keras
        import tensorflow as tf

        if gpus is None:
            gpus = tf.config.list_physical_devices("GPU")
    tf.get_logger().setLevel("ERROR")
    names = []
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):
            # Raised when the GPU was already initialised (e.g. setup() called twice);
            # memory growth is then whatever the first call set.
            pass
        names.append(_gpu_name(tf, gpu))

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and the backend together
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    info = RuntimeInfo(
        tensorflow=tf.__version__,
        keras=keras.__version__,
        device=describe_device(names),
        gpus=tuple(names),
        seed=seed,
        deterministic=deterministic,
    )
    log = os.environ.get("COURSE_RUNTIME_LOG")
    if log:  # the test suite's timing table names the device the notebooks ran on
        import json

        with open(log, "a", encoding="utf-8") as file:
            file.write(json.dumps({"device": info.device, "tensorflow": info.tensorflow,
                                   "keras": info.keras, "seed": info.seed}) + "\n")
    if verbose:
        print(info.line())
    return info
