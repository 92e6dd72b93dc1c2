"""Shared fixtures for the unit tests."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as a gzipped IDX file, the MNIST format."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture
def fake_fashion_dir(tmp_path: Path) -> Path:
    """A folder with the four Fashion-MNIST files holding a small, known dataset:
    100 train and 50 test images whose pixels all equal their label * 20."""
    folder = tmp_path / "fake-fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 100), ("t10k", 50)):
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        images = np.broadcast_to(labels[:, None, None] * 20, (n, 28, 28)).astype(np.uint8)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
