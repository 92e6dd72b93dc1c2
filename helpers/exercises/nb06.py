"""Exercises of notebook 06 (LeNet, AlexNet and VGG)."""

from __future__ import annotations

import numpy as np

from helpers.arithmetic import conv_params, dense_params
from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_equal,
    expect_function,
    expect_layers,
    expect_returned,
    expect_type,
    expect_whole_number,
)

# --------------------------------------------------------------------------- Exercise 1


def lenet_params(in_channels: int = 1) -> list[int]:
    """Parameters of LeNet-5's five weight layers on 32x32 images with ``in_channels``."""
    return [conv_params(5, in_channels, 6), conv_params(5, 6, 16), dense_params(5 * 5 * 16, 120),
            dense_params(120, 84), dense_params(84, 10)]


LENET5_SHAPES = {"standardize": (28, 28, 1), "pad": (32, 32, 1), "conv1": (28, 28, 6),
                 "pool1": (14, 14, 6), "conv2": (10, 10, 16), "pool2": (5, 5, 16),
                 "flatten": (400,), "fc1": (120,), "fc2": (84,), "fc3": (10,)}
LENET5_PARAMS = {"standardize": 0, "pad": 0, "conv1": 156, "pool1": 0, "conv2": 2_416,
                 "pool2": 0, "flatten": 0, "fc1": 48_120, "fc2": 10_164, "fc3": 850}
SUSPECT_EXTRA = (6 * 6 * 16 - 5 * 5 * 16) * 120   # conv1 'same': 32 -> 32 -> 16 -> 12 -> 6


def _output_shapes(model) -> dict[str, tuple]:
    return {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}


def _check_find_the_bug(wrong_count_layer, first_wrong_layer, extra_params, fixed) -> str:
    expect_type(wrong_count_layer, str, "wrong_count_layer")
    expect_type(first_wrong_layer, str, "first_wrong_layer")
    for what, name in (("wrong_count_layer", wrong_count_layer),
                       ("first_wrong_layer", first_wrong_layer)):
        if name not in LENET5_SHAPES:
            raise CheckFailed(f"{what} is {name!r}, which is not a layer of `suspect`; its "
                              f"layers are {', '.join(LENET5_SHAPES)}.")
    if wrong_count_layer != "fc1":
        raise CheckFailed(f"{wrong_count_layer} has {LENET5_PARAMS[wrong_count_layer]:,} "
                          "parameters in both models. Compare the params column of "
                          "helpers.layer_table(suspect) with lenet_table row by row.")
    if first_wrong_layer == "fc1":
        raise CheckFailed("fc1 is where the count goes wrong, but fc1 itself is typed in right "
                          "(120 units). Its count depends on its input: walk up the output "
                          "shapes and find the first one that differs from LeNet-5's.")
    if first_wrong_layer != "conv1":
        raise CheckFailed(f"{first_wrong_layer}'s output shape is wrong in `suspect`, but it is "
                          "not the first: the error comes from a layer above it. Compare the "
                          "output shapes from the top of the two tables.")
    count = expect_whole_number(extra_params, "extra_params")
    if count == -SUSPECT_EXTRA:
        raise CheckFailed("extra_params has the wrong sign: the suspect has MORE parameters, "
                          "so take suspect's count minus LeNet-5's.")
    if count != SUSPECT_EXTRA:
        raise CheckFailed(f"extra_params is {count:,}, which is not right yet. fc1 sees "
                          "flatten's output: how many values does flatten give in each model?")
    if not hasattr(fixed, "layers"):
        raise CheckFailed(f"fixed should be a Keras model, got {type(fixed).__name__}.")
    shapes = _output_shapes(fixed)
    convs = [layer for layer in fixed.layers if type(layer).__name__ == "Conv2D"]
    if any(layer.padding != "valid" for layer in convs):
        raise CheckFailed("fixed still has a convolution with padding='same'. LeNet-5's "
                          "convolutions use no padding (Keras' default, 'valid'): conv1 turns "
                          "the padded 32x32 image into 28x28 maps.")
    for name, shape in LENET5_SHAPES.items():
        if name in shapes and shapes[name] != shape:
            raise CheckFailed(f"fixed's layer {name} outputs {shapes[name]}; LeNet-5's "
                              f"outputs {shape}.")
    if int(fixed.count_params()) != sum(LENET5_PARAMS.values()):
        raise CheckFailed(f"fixed has {fixed.count_params():,} parameters; LeNet-5 has "
                          f"{sum(LENET5_PARAMS.values()):,}.")
    return ("A shape bug upstream shows up as a wrong count downstream: conv1's 156 "
            f"parameters were right, but its 'same' padding left 6x6x16 = 576 values for fc1 "
            f"instead of 400, {SUSPECT_EXTRA:,} extra weights. Compare shapes, not only counts.")


q1 = Exercise(
    _check_find_the_bug,
    hint="suspect_table = helpers.layer_table(suspect); then compare, row by row, "
         "suspect_table[name].params and .output_shape with lenet_table[name].params and "
         ".output_shape. The layer with the wrong count is not the one with the bug.",
)

# --------------------------------------------------------------------------- Exercise 2

VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def vgg_base_params(blocks=VGG19_BLOCKS, in_channels: int = 3) -> int:
    """Parameters of a VGG convolutional base: 3x3 convolutions, ``blocks`` of
    (filters, convolutions)."""
    total, channels = 0, in_channels
    for filters, convs in blocks:
        for _ in range(convs):
            total += conv_params(3, channels, filters)
            channels = filters
    return total


def _check_vgg_block(vgg_block, vgg19_base) -> str:
    import keras

    expect_function(vgg_block, "vgg_block", "vgg_block(x, filters, n_convs)")
    inputs = keras.Input(shape=(16, 16, 3))
    try:
        outputs = vgg_block(inputs, 8, 3)
    except TypeError as exc:
        raise CheckFailed(f"vgg_block(x, 8, 3) failed: {exc}. It takes a tensor, the number "
                          "of filters and the number of convolutions.") from None
    expect_returned(outputs, "vgg_block(x, 8, 3)")
    block = keras.Model(inputs, outputs)
    conv = ("Conv2D", {"filters": 8, "kernel_size": (3, 3), "strides": (1, 1),
                       "padding": "same", "activation": "relu"})
    expect_layers(block, [conv, conv, conv,
                          ("MaxPooling2D", {"pool_size": (2, 2), "strides": (2, 2)})],
                  "vgg_block(x, 8, 3)")
    if tuple(outputs.shape[1:]) != (8, 8, 8):
        raise CheckFailed(f"vgg_block(x, 8, 3) on a 16x16x3 input gives {tuple(outputs.shape[1:])};"
                          " expected (8, 8, 8).")
    if not hasattr(vgg19_base, "layers"):
        raise CheckFailed("vgg19_base should be a Keras model.")
    convs = [layer for layer in vgg19_base.layers if type(layer).__name__ == "Conv2D"]
    if len(convs) != 16:
        raise CheckFailed(f"vgg19_base has {len(convs)} convolutions; VGG-19 has 16 "
                          "(2 + 2 + 4 + 4 + 4).")
    shape = tuple(vgg19_base.outputs[0].shape[1:])
    if shape != (7, 7, 512):
        raise CheckFailed(f"vgg19_base's output has shape {shape}; on 224x224x3 images it "
                          "should be (7, 7, 512).")
    want = vgg_base_params()
    got = int(vgg19_base.count_params())
    if got != want:
        raise CheckFailed(f"vgg19_base has {got:,} parameters; check the filters of each "
                          "block (64, 128, 256, 512, 512).")
    return f"VGG-19's convolutional base: {want:,} parameters in 16 layers of 3x3 filters."


q2 = Exercise(
    _check_vgg_block,
    hint="Loop n_convs times: x = layers.Conv2D(filters, 3, padding='same', "
         "activation='relu')(x); then return layers.MaxPooling2D(2)(x). Build the base by "
         "calling vgg_block once per block of ((64, 2), (128, 2), (256, 4), (512, 4), "
         "(512, 4)) on keras.Input((224, 224, 3)).",
)

# --------------------------------------------------------------------------- Exercise 3


def lenet33_params() -> int:
    """Parameters of LeNet-5 with each 5x5 convolution replaced by two 3x3 ones
    (1 -> 6 -> 6 and 6 -> 16 -> 16 channels)."""
    convs = (conv_params(3, 1, 6) + conv_params(3, 6, 6) + conv_params(3, 6, 16)
             + conv_params(3, 16, 16))
    return convs + sum(lenet_params(1)[2:])


def _check_lenet33(lenet33, extra_params) -> str:
    if not hasattr(lenet33, "layers"):
        raise CheckFailed(f"lenet33 should be a Keras model, got {type(lenet33).__name__}.")
    shape = tuple(lenet33.inputs[0].shape[1:])
    if shape != (28, 28, 1):
        raise CheckFailed(f"lenet33 takes inputs of shape {shape}; give it "
                          "keras.Input(shape=(28, 28, 1)) like LeNet-5.")
    convs = [layer for layer in lenet33.layers if type(layer).__name__ == "Conv2D"]
    kernels = [tuple(layer.kernel_size) for layer in convs]
    if kernels != [(3, 3)] * 4:
        raise CheckFailed(f"lenet33's convolutions have kernels {kernels}; expected four 3x3 "
                          "ones (two in place of each 5x5).")
    filters = [layer.filters for layer in convs]
    if filters != [6, 6, 16, 16]:
        raise CheckFailed(f"lenet33's convolutions have {filters} filters; expected "
                          "[6, 6, 16, 16].")
    pools = [tuple(layer.output.shape[1:]) for layer in lenet33.layers
             if type(layer).__name__ == "MaxPooling2D"]
    if pools != [(14, 14, 6), (5, 5, 16)]:
        raise CheckFailed(f"the pooling layers give {pools}; LeNet-5's give (14, 14, 6) and "
                          "(5, 5, 16). Two 'valid' 3x3 convolutions shrink a map by 4, like "
                          "one 5x5; keep the ZeroPadding2D(2) at the input.")
    units = [layer.units for layer in lenet33.layers if type(layer).__name__ == "Dense"]
    if units != [120, 84, 10]:
        raise CheckFailed(f"lenet33's dense layers have {units} units; keep LeNet's "
                          "[120, 84, 10].")
    want = lenet33_params()
    if int(lenet33.count_params()) != want:
        raise CheckFailed(f"lenet33 has {lenet33.count_params():,} parameters; check the "
                          "channels of each convolution.")
    expect_type(extra_params, (int, np.integer), "extra_params")
    expected_extra = want - sum(lenet_params(1))
    if int(extra_params) == -expected_extra:
        raise CheckFailed("extra_params has the wrong sign: lenet33's count minus LeNet-5's.")
    expect_equal(int(extra_params), expected_extra, "extra_params")
    return (f"lenet33 has {expected_extra:,} MORE parameters than LeNet-5: the 3x3 trick saves "
            "weights only when channels stay the same.")


q3 = Exercise(
    _check_lenet33,
    hint="Copy build_lenet5 and replace layers.Conv2D(6, 5, ...) by two "
         "layers.Conv2D(6, 3, activation='relu') (likewise for 16). Then "
         "extra_params = lenet33.count_params() - lenet.count_params().",
)
