"""Data loaders: sources in order, subsets, formats, and the offline error path."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from helpers import data
from helpers.data import (
    FASHION_MNIST_FILES,
    DatasetUnavailableError,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
    sample_photos,
    stratified_indices,
)
from tests.conftest import write_idx


@pytest.fixture
def no_network(monkeypatch):
    """Make every connection attempt hang, as an unplugged lab machine's DNS can."""
    def hang(*args, **kwargs):
        time.sleep(30)
        raise OSError("unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)


# --------------------------------------------------------------------------- Fashion-MNIST


def test_reads_from_keras_cache_first(fake_fashion_dir, tmp_path, capsys):
    other = tmp_path / "system"
    shutil.copytree(fake_fashion_dir, other)
    d = load_fashion_mnist(cache_dir=fake_fashion_dir, system_dir=other)
    assert "Keras cache" in d.source and str(fake_fashion_dir) in d.source
    assert "Keras cache" in capsys.readouterr().out


def test_falls_back_to_system_package(fake_fashion_dir, tmp_path):
    d = load_fashion_mnist(cache_dir=tmp_path / "empty", system_dir=fake_fashion_dir,
                           verbose=False)
    assert "dataset-fashion-mnist" in d.source


def test_format_float_in_unit_range_with_channel_axis(fake_fashion_dir, tmp_path):
    d = load_fashion_mnist(cache_dir=fake_fashion_dir, verbose=False)
    assert d.x_train.shape == (100, 28, 28, 1) and d.x_test.shape == (50, 28, 28, 1)
    assert d.x_train.dtype == np.float32
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    # the fake images' pixels equal label * 20, so labels and pixels stay paired
    np.testing.assert_allclose(d.x_train[:, 0, 0, 0], d.y_train * 20 / 255.0, rtol=1e-6)
    assert d.class_names[0] == "T-shirt/top" and len(d.class_names) == 10
    (x_train, y_train), (x_test, y_test) = d
    assert x_train is d.x_train and y_test is d.y_test


def test_raw_uint8_without_channel_axis(fake_fashion_dir):
    d = load_fashion_mnist(cache_dir=fake_fashion_dir, normalize=False, channel_axis=False,
                           verbose=False)
    assert d.x_train.dtype == np.uint8 and d.x_train.shape == (100, 28, 28)


def test_seeded_stratified_subset(fake_fashion_dir):
    a = load_fashion_mnist(30, 20, cache_dir=fake_fashion_dir, seed=3, verbose=False)
    b = load_fashion_mnist(30, 20, cache_dir=fake_fashion_dir, seed=3, verbose=False)
    c = load_fashion_mnist(30, 20, cache_dir=fake_fashion_dir, seed=4, verbose=False)
    assert len(a.x_train) == 30 and len(a.x_test) == 20
    assert np.bincount(a.y_train, minlength=10).tolist() == [3] * 10
    assert np.bincount(a.y_test, minlength=10).tolist() == [2] * 10
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_train, c.y_train)
    np.testing.assert_allclose(a.x_train[:, 0, 0, 0], a.y_train * 20 / 255.0, rtol=1e-6)


def test_subset_larger_than_split_is_refused(fake_fashion_dir):
    with pytest.raises(ValueError, match="between 1 and 100"):
        load_fashion_mnist(101, cache_dir=fake_fashion_dir, verbose=False)


def test_offline_with_nothing_fails_fast_with_both_fixes(tmp_path, no_network):
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as info:
        load_fashion_mnist(cache_dir=tmp_path / "empty-cache", system_dir=tmp_path / "none")
    elapsed = time.monotonic() - start
    assert elapsed < 5, f"the offline error took {elapsed:.1f} s"
    message = str(info.value)
    assert "apt install dataset-fashion-mnist" in message
    assert str(tmp_path / "empty-cache") in message
    assert all(name in message for name in FASHION_MNIST_FILES)
    assert info.value.__cause__ is None  # no socket traceback chained to it
    assert not list((tmp_path / "empty-cache").glob("*")), "no partial file may remain"


def test_offline_error_is_a_file_not_found_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(FileNotFoundError, match="switched off"):
        load_fashion_mnist(cache_dir=tmp_path / "c", system_dir=tmp_path / "s")
    assert time.monotonic() - start < 1


def test_allow_download_false(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="downloads not allowed"):
        load_fashion_mnist(cache_dir=tmp_path / "c", system_dir=tmp_path / "s",
                           allow_download=False)


@pytest.fixture
def local_server(fake_fashion_dir):
    """A loopback HTTP server serving the fake Fashion-MNIST folder."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(fake_fashion_dir.parent))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_downloads_into_cache_when_online(tmp_path, local_server, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(data, "KERAS_DATASETS_URL", local_server)
    # the server's root is tmp_path; serve the fake files under the name the loader asks for
    os.symlink(tmp_path / "fake-fashion", tmp_path / "fashion-mnist")
    cache = tmp_path / "cache" / "fashion-mnist"
    d = load_fashion_mnist(cache_dir=cache, system_dir=tmp_path / "none", verbose=False)
    assert "download" in d.source
    assert sorted(p.name for p in cache.iterdir()) == sorted(FASHION_MNIST_FILES)
    assert len(d.x_train) == 100


def test_download_of_missing_file_leaves_nothing(tmp_path, local_server, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    dest = tmp_path / "out" / "missing.bin"
    with pytest.raises(OSError):
        data.download(local_server + "does-not-exist", dest)
    assert not dest.exists() and not dest.with_name("missing.bin.part").exists()


@pytest.mark.skipif(not data.SYSTEM_FASHION_MNIST_DIR.is_dir() and not os.environ.get("CI"),
                    reason="Debian's dataset-fashion-mnist is not installed (CI installs it)")
def test_real_fashion_mnist_from_the_system_package(tmp_path):
    d = load_fashion_mnist(cache_dir=tmp_path / "empty", verbose=False)
    assert d.x_train.shape == (60000, 28, 28, 1) and d.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(d.y_train).tolist() == [6000] * 10
    assert np.bincount(d.y_test).tolist() == [1000] * 10


# --------------------------------------------------------------------------- IDX files


def test_read_idx_round_trip_and_corruption(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x09\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")


# --------------------------------------------------------------------------- subsets


def test_stratified_indices_keeps_proportions():
    labels = np.array([0] * 80 + [1] * 20)
    idx = stratified_indices(labels, 10, seed=0)
    assert len(set(idx.tolist())) == 10
    assert np.bincount(labels[idx]).tolist() == [8, 2]
    np.testing.assert_array_equal(idx, stratified_indices(labels, 10, seed=0))


def test_stratified_indices_whole_set_and_too_small():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert sorted(stratified_indices(labels, 6, seed=1).tolist()) == list(range(6))
    with pytest.raises(ValueError, match="at least one example per class"):
        stratified_indices(labels, 2, seed=0)


def test_stratified_indices_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        stratified_indices(np.zeros((3, 2)), 2)
    with pytest.raises(ValueError, match="between 1 and 3"):
        stratified_indices(np.array([0, 1, 1]), 0)
    with pytest.raises(TypeError, match="int"):
        stratified_indices(np.array([0, 1, 1]), 1.5)


# --------------------------------------------------------------------------- online extras


def test_mnist_from_cache_and_offline_error(tmp_path, no_network):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 255, (20, 28, 28), np.uint8),
             y_train=np.arange(20) % 10, x_test=rng.integers(0, 255, (10, 28, 28), np.uint8),
             y_test=np.arange(10))
    d = load_mnist(cache_dir=tmp_path, verbose=False)
    assert d.x_train.shape == (20, 28, 28, 1) and d.x_train.max() <= 1.0
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError, match="load_fashion_mnist"):
        load_mnist(cache_dir=tmp_path / "empty")
    assert time.monotonic() - start < 5


def test_cifar10_from_cache_and_offline_error(tmp_path, no_network):
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 255, (10, 3072), np.uint8),
                 b"labels": list(range(10))}
        (folder / name).write_bytes(pickle.dumps(batch))
    d = load_cifar10(cache_dir=tmp_path, verbose=False)
    assert d.x_train.shape == (50, 32, 32, 3) and d.x_test.shape == (10, 32, 32, 3)
    assert d.class_names[3] == "cat"
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError, match="CIFAR-10"):
        load_cifar10(cache_dir=tmp_path / "empty")
    assert time.monotonic() - start < 5


# --------------------------------------------------------------------------- bundled data


def test_load_digits_sizes_and_split():
    d = load_digits()
    assert d.x_train.shape[1:] == (8, 8, 1) and len(d.x_train) + len(d.x_test) == 1797
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    big = load_digits(28, channel_axis=False)
    assert big.x_train.shape[1:] == (28, 28) and big.x_train.dtype == np.float32
    assert 0.0 <= big.x_train.min() and big.x_train.max() <= 1.0
    assert abs(len(big.x_test) / 1797 - 0.25) < 0.01
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=1.5)


def test_load_digits_resized_shape_dtype_and_range():
    pytest.importorskip("keras")
    data = load_digits(size=(28, 32), seed=0, channel_axis=False)
    assert data.x_train.shape[1:] == (28, 32) and data.x_train.dtype == np.float32
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    with pytest.raises(ValueError, match="positive"):
        load_digits(size=0)


def test_sample_photos():
    photos = sample_photos()
    assert sorted(photos) == ["china", "flower"]
    for image in photos.values():
        assert image.shape == (427, 640, 3) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
    assert sample_photos(normalize=False)["china"].dtype == np.uint8


def test_open_url_times_out_on_a_hanging_host(no_network):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="no answer"):
        data._open_url("http://example.invalid/x", timeout=0.5)
    assert time.monotonic() - start < 2
