"""Exercises of notebook 08 (ResNet and DenseNet)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.arithmetic import conv_params, dense_params
from helpers.exercises import CheckFailed, Exercise, expect_function, expect_returned, expect_type

BN = 4  # numbers per channel in a BatchNormalization layer: gamma, beta, moving mean, variance

# --------------------------------------------------------------------------- reference counts


def bottleneck_params(c_in: int, mid: int, c_out: int, projection: bool) -> int:
    """Parameters of a Keras ResNet-50-style bottleneck block: 1x1 (c_in -> mid), 3x3
    (mid -> mid), 1x1 (mid -> c_out), each a Conv2D with bias followed by batch normalization,
    plus a 1x1 projection shortcut (c_in -> c_out) with its own batch normalization."""
    total = (conv_params(1, c_in, mid) + BN * mid + conv_params(3, mid, mid) + BN * mid
             + conv_params(1, mid, c_out) + BN * c_out)
    if projection:
        total += conv_params(1, c_in, c_out) + BN * c_out
    return total


def resnet_params(stages: Sequence[Sequence[int]], classes: int = 1000,
                  in_channels: int = 3) -> int:
    """Parameters of the notebook's ``resnet(stages)``: a 7x7/2 stem with 64 filters, the
    bottleneck stages ``(mid, out, blocks, stride)``, global average pooling, a dense layer."""
    total = conv_params(7, in_channels, 64) + BN * 64
    channels = 64
    for mid, out, blocks, _stride in stages:
        for b in range(blocks):
            total += bottleneck_params(channels, mid, out, projection=b == 0)
            channels = out
    return total + dense_params(channels, classes)


def densenet_channels(blocks: Sequence[int], growth_rate: int, stem: int = 64,
                      compression: float = 0.5) -> list[int]:
    """Channels at the end of each dense block (before the transition layer that follows)."""
    channels, ends = stem, []
    for i, layers in enumerate(blocks):
        channels += layers * growth_rate
        ends.append(channels)
        if i < len(blocks) - 1:
            channels = int(channels * compression)
    return ends


# --------------------------------------------------------------------------- Exercise 1

BOTTLENECK_CASES = [(256, 64, 256, False), (64, 64, 256, True), (256, 128, 512, True),
                    (1024, 256, 1024, False), (1024, 512, 2048, True), (32, 8, 32, False)]


def _check_bottleneck_params(fn) -> str:
    expect_function(fn, "bottleneck_params", "(c_in, mid, c_out, projection) -> int")
    for c_in, mid, c_out, projection in BOTTLENECK_CASES:
        case = f"bottleneck_params({c_in}, {mid}, {c_out}, projection={projection})"
        got = fn(c_in, mid, c_out, projection)
        expect_returned(got, case)
        expect_type(got, (int, np.integer), case)
        want = bottleneck_params(c_in, mid, c_out, projection)
        if int(got) == want:
            continue
        biases = 2 * mid + c_out + (c_out if projection else 0)  # one per output channel
        shortcut = conv_params(1, c_in, c_out) + BN * c_out
        if int(got) == want - BN * biases:
            reason = ("the batch-normalization layers are missing: each has 4 numbers per "
                      "channel (gamma, beta, moving mean, moving variance).")
        elif int(got) == want - biases:
            reason = "the convolutions' biases are missing (Keras' Conv2D has one per filter)."
        elif projection and int(got) == want - shortcut:
            reason = "the projection shortcut (a 1x1 convolution and its batch norm) is missing."
        elif not projection and int(got) == want + shortcut:
            reason = "an identity block has no projection: its shortcut has no parameters."
        else:
            reason = "count each convolution as F*F*C_in*K + K, and 4 per channel for BN."
        raise CheckFailed(f"{case} is {int(got):,}; expected {want:,}: {reason}")
    first = bottleneck_params(256, 64, 256, False)
    return f"ResNet-50's identity block of conv2_x: {first:,} parameters."


q1 = Exercise(
    _check_bottleneck_params,
    hint="Three convolutions: conv_params(1, c_in, mid), conv_params(3, mid, mid), "
         "conv_params(1, mid, c_out), each followed by BatchNormalization (4 numbers per "
         "channel). With projection=True add conv_params(1, c_in, c_out) and its BN.",
)

# --------------------------------------------------------------------------- Exercise 2


def basic_block_params(c_in: int, filters: int, projection: bool) -> int:
    """Two 3x3 Conv2D (with bias) + BN, and a 1x1 projection + BN when shapes change."""
    total = (conv_params(3, c_in, filters) + BN * filters
             + conv_params(3, filters, filters) + BN * filters)
    if projection:
        total += conv_params(1, c_in, filters) + BN * filters
    return total


def _check_basic_block(basic_block) -> str:
    import keras

    expect_function(basic_block, "basic_block", "(x, filters, strides) -> tensor")
    for filters, strides, size in ((16, 1, 8), (32, 2, 4)):
        inputs = keras.Input((8, 8, 16))
        outputs = basic_block(inputs, filters, strides)
        expect_returned(outputs, f"basic_block(x, {filters}, {strides})")
        model = keras.Model(inputs, outputs)
        case = f"basic_block(x, {filters}, strides={strides}) on an 8x8x16 input"
        shape = tuple(model.output_shape[1:])
        if shape != (size, size, filters):
            raise CheckFailed(f"{case} gives shape {shape}; expected {(size, size, filters)}. "
                              "Put the stride on the first 3x3 convolution and on the "
                              "projection.")
        want = basic_block_params(16, filters, projection=(filters, strides) != (16, 1))
        got = model.count_params()
        if got != want:
            extra = ("an identity block needs no projection. " if strides == 1 else
                     "a block that changes the shape needs a 1x1 projection with BN. ")
            raise CheckFailed(f"{case} has {got:,} parameters; expected {want:,}: {extra}"
                              "Use Conv2D (with bias) + BatchNormalization for every "
                              "convolution.")
        if strides == 1:
            # With every convolution zeroed, F(x) = 0 and a residual block returns relu(x).
            for layer in model.layers:
                if type(layer).__name__ == "Conv2D":
                    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
            x = np.random.default_rng(0).uniform(0.1, 1.0, (2, 8, 8, 16)).astype("float32")
            y = np.asarray(model(x, training=False))
            if not np.allclose(y, x, atol=1e-4):
                raise CheckFailed("with all convolution weights set to zero the block should "
                                  "return its input (F(x) = 0, so H(x) = x), but it does not: "
                                  "add the shortcut with layers.Add()([shortcut, y]) before "
                                  "the last ReLU.")
    return "A basic block: F(x) is two 3x3 convolutions, and F = 0 gives the identity."


q2 = Exercise(
    _check_basic_block,
    hint="Like bottleneck_block, but the residual branch is conv_bn 3x3 (with the stride), "
         "ReLU, conv_bn 3x3; project the shortcut with conv_bn(x, filters, 1, strides) when "
         "strides != 1 or the channels differ; then Add and ReLU.",
)

# --------------------------------------------------------------------------- Exercise 3


def _check_resnet101(stages, model) -> str:
    expect_type(stages, (list, tuple), "resnet101_stages")
    try:
        rows = [tuple(int(v) for v in row) for row in stages]
    except (TypeError, ValueError):
        raise CheckFailed("resnet101_stages should be a list of (mid, out, blocks, stride) "
                          "tuples, like STAGES.") from None
    if len(rows) != 4 or any(len(r) != 4 for r in rows):
        raise CheckFailed("resnet101_stages should hold 4 stages of (mid, out, blocks, "
                          "stride), like STAGES.")
    blocks = [r[2] for r in rows]
    if [r[:2] for r in rows] != [(64, 256), (128, 512), (256, 1024), (512, 2048)]:
        raise CheckFailed("keep ResNet-50's widths (mid, out); only the number of blocks "
                          "changes.")
    weight_layers = 1 + 3 * sum(blocks) + 1
    if weight_layers != 101:
        raise CheckFailed(f"blocks {blocks} give {weight_layers} weight layers (stem + 3 per "
                          "block + fc); ResNet-101 has 101. Only stage conv4_x grows.")
    if [r[3] for r in rows] != [1, 2, 2, 2]:
        raise CheckFailed("keep ResNet-50's strides (1, 2, 2, 2): conv2_x follows the max-pool "
                          "and each later stage halves the map.")
    if blocks != [3, 4, 23, 3]:
        raise CheckFailed(f"blocks {blocks} give 101 layers, but ResNet-101 keeps 3, 4 and 3 "
                          "blocks in the other stages and deepens conv4_x.")
    if not hasattr(model, "count_params"):
        raise CheckFailed(f"resnet101 should be a Keras model, got {type(model).__name__}.")
    want = resnet_params(rows)
    if model.count_params() != want:
        raise CheckFailed(f"resnet101 has {model.count_params():,} parameters; the stage "
                          f"table gives {want:,}. Build it with resnet(resnet101_stages).")
    return f"ResNet-101: {want:,} parameters, 101 weight layers."


q3 = Exercise(
    _check_resnet101,
    hint="Copy STAGES and change only the number of blocks of conv4_x: 1 + 3 * blocks + 1 "
         "must make 101.",
)

# --------------------------------------------------------------------------- Exercise 4

DENSENET_CASES = [((6, 12, 24, 16), 32, 64, 0.5), ((6, 12, 32, 32), 32, 64, 0.5),
                  ((6, 12, 48, 32), 32, 64, 0.5), ((31, 31, 31), 40, 80, 0.5),
                  ((4, 4), 12, 24, 1.0)]


def _check_densenet_channels(fn) -> str:
    expect_function(fn, "densenet_channels", "(blocks, growth_rate, stem, compression) -> list")
    for blocks, k, stem, compression in DENSENET_CASES:
        case = f"densenet_channels({blocks}, {k}, stem={stem}, compression={compression})"
        got = fn(blocks, k, stem, compression)
        expect_returned(got, case)
        try:
            got = [int(v) for v in got]
        except (TypeError, ValueError):
            raise CheckFailed(f"{case} should return a list of whole numbers.") from None
        want = densenet_channels(blocks, k, stem, compression)
        if got != want:
            if len(got) != len(want):
                reason = "return one number per dense block."
            elif got[0] == want[0]:
                reason = ("the first block is right; does the transition layer multiply the "
                          "channels by the compression factor before the next block?")
            else:
                reason = "each layer of a block adds growth_rate channels to the stem's."
            raise CheckFailed(f"{case} is {got}; expected {want}: {reason}")
    d169 = densenet_channels((6, 12, 32, 32), 32)[-1]
    d201 = densenet_channels((6, 12, 48, 32), 32)[-1]
    return f"DenseNet-169 ends with {d169} channels, DenseNet-201 with {d201}."


q4 = Exercise(
    _check_densenet_channels,
    hint="Start from stem; each block adds layers * growth_rate; record it; then, except after "
         "the last block, the transition keeps int(channels * compression).",
)
