"""helpers.pretrained.load_or_train: the cached model is reused only when it is valid."""

from __future__ import annotations

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from helpers.pretrained import (  # noqa: E402
    RECORD_KIND,
    imagenet_ready,
    load_or_train,
    mobilenet_weights_file,
)

SETTINGS = {"classes": [0, 1, 2], "architecture": 1, "seed": 7}


def _tiny(seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model(np.zeros((1, 4), "float32"))
    return model


class Trainer:
    """Counts its calls, so a test can tell a reused cache from a retrained one."""

    def __init__(self, seed: int = 0):
        self.calls, self.seed = 0, seed

    def __call__(self):
        self.calls += 1
        return _tiny(self.seed)


def test_trains_then_reuses_the_same_weights(tmp_path, capsys):
    path, train = tmp_path / "source.keras", Trainer()
    first = load_or_train(path, SETTINGS, train)
    assert not first.reused and train.calls == 1 and path.is_file()
    assert "no cached model" in capsys.readouterr().out
    record = json.loads((tmp_path / "source.keras.json").read_text())
    assert record["kind"] == RECORD_KIND and record["fingerprint"] == SETTINGS
    second = load_or_train(path, dict(SETTINGS), train)
    assert second.reused and train.calls == 1
    assert "Reusing" in capsys.readouterr().out
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_tuples_match_lists_read_back(tmp_path):
    path, train = tmp_path / "m.keras", Trainer()
    load_or_train(path, {"classes": (0, 1)}, train, verbose=False)
    assert load_or_train(path, {"classes": (0, 1)}, train, verbose=False).reused


@pytest.mark.parametrize("change", [{"seed": 8}, {"classes": [0, 1]}, {"architecture": 2},
                                   {"epochs": 3}])
def test_stale_fingerprint_is_retrained(tmp_path, capsys, change):
    path = tmp_path / "source.keras"
    load_or_train(path, SETTINGS, Trainer(0), verbose=False)
    train = Trainer(1)
    result = load_or_train(path, {**SETTINGS, **change}, train)
    assert not result.reused and train.calls == 1
    out = capsys.readouterr().out
    assert "other settings" in out and next(iter(change)) in out
    assert load_or_train(path, {**SETTINGS, **change}, train, verbose=False).reused


def test_corrupt_file_is_retrained(tmp_path, capsys):
    path = tmp_path / "source.keras"
    load_or_train(path, SETTINGS, Trainer(), verbose=False)
    path.write_bytes(b"not a zip file")
    train = Trainer()
    result = load_or_train(path, SETTINGS, train)
    assert not result.reused and train.calls == 1
    assert "changed after it was saved" in capsys.readouterr().out
    assert load_or_train(path, SETTINGS, train, verbose=False).reused


def test_corrupt_file_with_matching_record_is_retrained(tmp_path, capsys):
    """A file that matches its record but fails to load (e.g. another Keras) is retrained."""
    path = tmp_path / "source.keras"
    load_or_train(path, SETTINGS, Trainer(), verbose=False)
    path.write_bytes(b"garbage")
    record_file = tmp_path / "source.keras.json"
    record = json.loads(record_file.read_text())
    import hashlib
    record["sha256"] = hashlib.sha256(b"garbage").hexdigest()
    record_file.write_text(json.dumps(record))
    train = Trainer()
    assert not load_or_train(path, SETTINGS, train).reused and train.calls == 1
    assert "could not be loaded" in capsys.readouterr().out


@pytest.mark.parametrize("record_text, reason", [
    (None, "missing"), ("{not json", "unreadable"),
    (json.dumps({"fingerprint": SETTINGS}), "not written by the course"),
])
def test_bad_record_is_retrained(tmp_path, capsys, record_text, reason):
    path = tmp_path / "source.keras"
    load_or_train(path, SETTINGS, Trainer(), verbose=False)
    record_file = tmp_path / "source.keras.json"
    if record_text is None:
        record_file.unlink()
    else:
        record_file.write_text(record_text)
    train = Trainer()
    assert not load_or_train(path, SETTINGS, train).reused and train.calls == 1
    assert reason in capsys.readouterr().out


def test_writes_nothing_but_the_cache_and_its_record(tmp_path):
    (tmp_path / "mine.keras").write_text("a user's file")
    load_or_train(tmp_path / "source.keras", SETTINGS, Trainer(), verbose=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.keras", "source.keras",
                                                          "source.keras.json"]
    assert (tmp_path / "mine.keras").read_text() == "a user's file"


@pytest.mark.parametrize("kwargs, error, message", [
    ({"path": "model.h5"}, ValueError, "must end in '.keras'"),
    ({"fingerprint": {}}, TypeError, "non-empty dict"),
    ({"fingerprint": {"f": object()}}, TypeError, "JSON values"),
    ({"train": "not a function"}, TypeError, "function that returns"),
])
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, error, message):
    args = {"path": tmp_path / "m.keras", "fingerprint": SETTINGS, "train": Trainer()}
    args.update(kwargs)
    if isinstance(args["path"], str):
        args["path"] = tmp_path / args["path"]
    with pytest.raises(error, match=message):
        load_or_train(args["path"], args["fingerprint"], args["train"], verbose=False)


def test_a_folder_is_not_a_cache_file(tmp_path):
    (tmp_path / "m.keras").mkdir()
    with pytest.raises(IsADirectoryError, match="folder"):
        load_or_train(tmp_path / "m.keras", SETTINGS, Trainer(), verbose=False)


def test_train_must_return_a_model(tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        load_or_train(tmp_path / "m.keras", SETTINGS, lambda: "oops", verbose=False)
    assert not (tmp_path / "m.keras").exists()


def test_imagenet_ready_offline_says_why_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    ready, reason = imagenet_ready("tf_flowers", data_dir=tmp_path / "tfds")
    assert not ready and "COURSE_OFFLINE" in reason and "weights" in reason


def test_imagenet_ready_in_ci_sends_no_request(tmp_path, monkeypatch):
    import helpers.pretrained as pretrained

    def no_network(*args, **kwargs):
        raise AssertionError("imagenet_ready tried the network in CI")

    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(pretrained, "_open_url", no_network)
    ready, reason = imagenet_ready("tf_flowers", data_dir=tmp_path / "tfds")
    assert not ready and "CI" in reason


def test_imagenet_ready_when_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    weights = mobilenet_weights_file(160)
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"")
    (tmp_path / "tfds" / "tf_flowers").mkdir(parents=True)
    assert imagenet_ready("tf_flowers", data_dir=tmp_path / "tfds")[0]


def test_mobilenet_weights_file_rejects_other_sizes():
    assert mobilenet_weights_file(224).name.endswith("_1.0_224_no_top.h5")
    with pytest.raises(ValueError, match="96, 128, 160, 192, 224"):
        mobilenet_weights_file(100)
