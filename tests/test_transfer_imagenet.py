"""The ImageNet extra of notebook 11 runs offline: random weights and TFDS's mock data."""

from __future__ import annotations

import pytest

pytest.importorskip("keras")
tfds = pytest.importorskip("tensorflow_datasets")

from helpers.pretrained import imagenet_transfer  # noqa: E402


@pytest.mark.filterwarnings("ignore")
def test_five_steps_run_on_mock_data():
    with tfds.testing.mock_data(num_examples=6):
        accuracy = imagenet_transfer("tf_flowers", weights=None, image_size=96, batch_size=4,
                                     epochs=1, fine_tune_epochs=1, steps=1, seed=0)
    assert set(accuracy) == {"feature_extraction", "fine_tuning"}
    assert all(0.0 <= value <= 1.0 for value in accuracy.values())


@pytest.mark.parametrize("kwargs, message", [
    ({"image_size": 100}, "image_size must be one of"),
    ({"weights": "imagenet21k"}, "weights must be"),
    ({"epochs": 0}, "epochs must be a positive int"),
    ({"steps": 0}, "steps must be None"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imagenet_transfer("tf_flowers", load=lambda *a, **k: None, **kwargs)
