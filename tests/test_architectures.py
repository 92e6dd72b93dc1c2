"""The classic networks in helpers.architectures have the published layer sizes: their
parameter counts equal sums worked out here, layer by layer, with the course's formulas."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import architectures

keras = pytest.importorskip("keras")


def conv(f: int, c_in: int, k: int, groups: int = 1) -> int:
    return f * f * (c_in // groups) * k + k


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def test_lenet5_has_the_notes_count():
    model = architectures.lenet5()
    assert model.input_shape == (None, 32, 32, 1)
    assert model.count_params() == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706


@pytest.mark.parametrize("groups", [1, 2])
def test_alexnet_counts(groups):
    by_hand = (conv(11, 3, 96) + conv(5, 96, 256, groups) + conv(3, 256, 384)
               + conv(3, 384, 384, groups) + conv(3, 384, 256, groups)
               + dense(6 * 6 * 256, 4096) + dense(4096, 4096) + dense(4096, 1000))
    model = architectures.alexnet(groups)
    assert model.output_shape == (None, 1000)
    assert model.count_params() == by_hand
    assert by_hand == {1: 62_378_344, 2: 60_965_224}[groups]


@pytest.mark.parametrize("groups", [0, 3, 4, True, "2"])
def test_alexnet_refuses_other_groups(groups):
    with pytest.raises(ValueError, match="groups must be 1 .one stream. or 2"):
        architectures.alexnet(groups)


def test_googlenet_counts_and_shapes():
    channels = 192
    by_hand = conv(7, 3, 64) + conv(1, 64, 64) + conv(3, 64, 192)
    for c1, r3, c3, r5, c5, pool in architectures.GOOGLENET_INCEPTION_BLOCKS.values():
        by_hand += (conv(1, channels, c1) + conv(1, channels, r3) + conv(3, r3, c3)
                    + conv(1, channels, r5) + conv(5, r5, c5) + conv(1, channels, pool))
        channels = c1 + c3 + c5 + pool
    assert channels == 1024  # Table 1: inception (5b) outputs 7x7x1024
    by_hand += dense(1024, 1000)
    model = architectures.googlenet()
    assert model.count_params() == by_hand
    assert 6.9e6 < by_hand < 7.1e6  # about 7 million, as the paper's Table 1 adds up to
    before_pooling = model.get_layer(index=-3).input.shape  # global average pooling
    assert tuple(before_pooling) == (None, 7, 7, 1024)


def test_import_helpers_does_not_import_keras():
    code = "import sys, helpers; helpers.architectures; assert 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
