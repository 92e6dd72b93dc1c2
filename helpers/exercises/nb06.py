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


def _check_rgb_params(rgb_params, rgb_total) -> str:
    if not isinstance(rgb_params, list | tuple | np.ndarray):
        raise CheckFailed("rgb_params should be a list of 5 numbers (one per weight layer), "
                          f"but it is a {type(rgb_params).__name__}.")
    got = [expect_whole_number(v, f"rgb_params[{i}]") for i, v in enumerate(rgb_params)]
    want = lenet_params(3)
    if len(got) != 5:
        raise CheckFailed(f"rgb_params has {len(got)} numbers; LeNet-5 has 5 weight layers "
                          "(conv1, conv2, fc1, fc2, fc3).")
    if got[0] == lenet_params(1)[0]:
        raise CheckFailed(f"conv1 has {got[0]} parameters: that is the greyscale count. Each "
                          "5x5 filter now looks at 3 channels.")
    names = ["conv1", "conv2", "fc1", "fc2", "fc3"]
    for name, g, w in zip(names, got, want, strict=True):
        if g != w:
            raise CheckFailed(f"{name} has {g:,} parameters in your list, which is not right "
                              "yet. Weights = kernel height x width x input channels x filters, "
                              "plus one bias per filter.")
    expect_type(rgb_total, (int, np.integer), "rgb_total")
    expect_equal(int(rgb_total), sum(want), "rgb_total")
    return (f"Colour adds only {sum(want) - sum(lenet_params(1)):,} weights, all in conv1: "
            "the layers after it never see the input channels.")


q1 = Exercise(
    "Exercise 1",
    _check_rgb_params,
    hint="Only the first convolution changes: its filters are 5 x 5 x 3. Everything after it "
         "sees the same 6 feature maps as before.",
    solution="rgb_params = [5 * 5 * 3 * 6 + 6, 5 * 5 * 6 * 16 + 16, 400 * 120 + 120,\n"
             "              120 * 84 + 84, 84 * 10 + 10]\n"
             "rgb_total = sum(rgb_params)",
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
    "Exercise 2",
    _check_vgg_block,
    hint="Loop n_convs times: x = layers.Conv2D(filters, 3, padding='same', "
         "activation='relu')(x); then return layers.MaxPooling2D(2)(x). Build the base by "
         "calling vgg_block once per block of ((64, 2), (128, 2), (256, 4), (512, 4), "
         "(512, 4)) on keras.Input((224, 224, 3)).",
    solution="def vgg_block(x, filters, n_convs):\n"
             "    for _ in range(n_convs):\n"
             "        x = layers.Conv2D(filters, 3, padding='same', activation='relu')(x)\n"
             "    return layers.MaxPooling2D(2, strides=2)(x)\n\n"
             "inputs = keras.Input(shape=(224, 224, 3))\n"
             "x = inputs\n"
             "for filters, n_convs in [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]:\n"
             "    x = vgg_block(x, filters, n_convs)\n"
             "vgg19_base = keras.Model(inputs, x, name='vgg19_base')",
    points=2,
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
    "Exercise 3",
    _check_lenet33,
    hint="Copy build_lenet5 and replace layers.Conv2D(6, 5, ...) by two "
         "layers.Conv2D(6, 3, activation='relu') (likewise for 16). Then "
         "extra_params = lenet33.count_params() - lenet.count_params().",
    solution="lenet33 = keras.Sequential([\n"
             "    keras.Input(shape=(28, 28, 1)),\n"
             "    layers.Rescaling(1 / pixel_std, offset=-pixel_mean / pixel_std),\n"
             "    layers.ZeroPadding2D(2),\n"
             "    layers.Conv2D(6, 3, activation='relu'),\n"
             "    layers.Conv2D(6, 3, activation='relu'),\n"
             "    layers.MaxPooling2D(2),\n"
             "    layers.Conv2D(16, 3, activation='relu'),\n"
             "    layers.Conv2D(16, 3, activation='relu'),\n"
             "    layers.MaxPooling2D(2),\n"
             "    layers.Flatten(),\n"
             "    layers.Dense(120, activation='relu'),\n"
             "    layers.Dense(84, activation='relu'),\n"
             "    layers.Dense(10, activation='softmax'),\n"
             "], name='lenet33')\n"
             "extra_params = lenet33.count_params() - lenet.count_params()",
    points=2,
)
