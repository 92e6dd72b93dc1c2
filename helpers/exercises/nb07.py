"""Exercises of notebook 07 (Inception and 1x1 convolutions)."""

from __future__ import annotations

import numpy as np

from helpers.arithmetic import conv_multiplications, conv_params, dense_params
from helpers.exercises import CheckFailed, Exercise, expect_close, expect_function, expect_type

# --------------------------------------------------------------------------- Exercise 1


def _check_pointwise(pointwise_conv) -> str:
    expect_function(pointwise_conv, "pointwise_conv", "(x, kernel, bias) -> array")
    rng = np.random.default_rng(0)
    for shape, k in (((2, 5, 5, 8), 4), ((1, 3, 7, 3), 6), ((4, 2, 2, 16), 1)):
        x = rng.normal(size=shape).astype("float32")
        kernel = rng.normal(size=(1, 1, shape[-1], k)).astype("float32")
        bias = rng.normal(size=(k,)).astype("float32")
        expected = np.einsum("bhwc,ck->bhwk", x, kernel[0, 0]) + bias
        what = f"pointwise_conv(x {shape}, kernel {kernel.shape}, bias {bias.shape})"
        expect_close(pointwise_conv(x, kernel, bias), expected, what, rtol=1e-4, atol=1e-4)
    return "One matrix product per pixel: a 1x1 convolution is a dense layer at every pixel."


q1 = Exercise(
    "Exercise 1",
    _check_pointwise,
    hint="kernel[0, 0] is a (C, K) matrix. The @ operator multiplies the last axis of x by it "
         "at every (batch, height, width) position; then add the bias.",
    solution="def pointwise_conv(x, kernel, bias):\n"
             "    return x @ kernel[0, 0] + bias",
    points=2,
)

# --------------------------------------------------------------------------- Exercise 2

MODULE_4A = {"input": (14, 14, 480), "1x1": [(1, 192)], "3x3": [(1, 96), (3, 208)],
             "5x5": [(1, 16), (5, 48)], "pool": [(1, 64)]}


def module_counts(spec: dict) -> tuple[int, int]:
    """(parameters, multiplications) of an Inception module given as branches of 'same'
    convolutions [(kernel, filters), ...] on spec['input'] = (height, width, channels)."""
    h, w, c_in = spec["input"]
    params = mults = 0
    for branch, steps in spec.items():
        if branch == "input":
            continue
        channels = c_in
        for k, filters in steps:
            params += conv_params(k, channels, filters)
            mults += conv_multiplications((h, w, channels), k, filters)
            channels = filters
    return params, mults


def _check_4a(params_4a, mults_4a) -> str:
    expect_type(params_4a, (int, np.integer), "params_4a")
    expect_type(mults_4a, (int, np.integer), "mults_4a")
    params, mults = module_counts(MODULE_4A)
    if params_4a != params:
        weights_only = params - sum(f for steps in list(MODULE_4A.values())[1:]
                                    for _, f in steps)
        extra = (" Did you forget the biases (one per filter)?" if params_4a == weights_only
                 else " Remember the 1x1 reductions see all 480 input channels, and the 3x3 "
                      "and 5x5 convolutions see only the reduced channels.")
        raise CheckFailed(f"params_4a is {params_4a:,}, which is not right yet.{extra}")
    if mults_4a != mults:
        raise CheckFailed(f"mults_4a is {mults_4a:,}, which is not right yet: each convolution "
                          "costs 14 * 14 * filters * k * k * input channels.")
    return (f"The paper lists 4a as 364K parameters and 73M operations; exactly, {params:,} "
            f"and {mults:,}.")


q2 = Exercise(
    "Exercise 2",
    _check_4a,
    hint="Add up six convolutions: 1x1 (480->192), 1x1 (480->96), 3x3 (96->208), 1x1 (480->16), "
         "5x5 (16->48), 1x1 (480->64), all on a 14x14 grid with 'same' padding.",
    solution="steps_4a = [[(1, 192)], [(1, 96), (3, 208)], [(1, 16), (5, 48)], [(1, 64)]]\n"
             "params_4a = sum(branch_counts(s, channels=480, side=14)[0] for s in steps_4a)\n"
             "mults_4a = sum(branch_counts(s, channels=480, side=14)[1] for s in steps_4a)",
    points=2,
)

# --------------------------------------------------------------------------- Exercise 3

MODULE_3A_V3 = {"input": (28, 28, 192), "1x1": [(1, 64)], "3x3": [(1, 96), (3, 128)],
                "5x5": [(1, 16), (3, 32), (3, 32)], "pool": [(1, 32)]}


def _check_v3_style(inception_v3_style) -> str:
    import keras

    expect_function(inception_v3_style, "inception_v3_style",
                    "(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name) -> tensor")
    inputs = keras.Input((28, 28, 192))
    outputs = inception_v3_style(inputs, 64, 96, 128, 16, 32, 32, "check")
    model = keras.Model(inputs, outputs)
    shape = tuple(model.output.shape[1:])
    if shape != (28, 28, 256):
        raise CheckFailed(f"the module's output has shape {shape}; expected (28, 28, 256): "
                          "use 'same' padding everywhere and concatenate the four branches "
                          "along the channels (64 + 128 + 32 + 32).")
    kernels = sorted(tuple(layer.kernel_size) for layer in model.layers
                     if type(layer).__name__ == "Conv2D")
    if (5, 5) in kernels:
        raise CheckFailed("there is still a 5x5 convolution: replace it by two 3x3 ones.")
    if kernels.count((3, 3)) != 3:
        raise CheckFailed(f"expected three 3x3 convolutions (one in the 3x3 branch, two in the "
                          f"former 5x5 branch), found {kernels.count((3, 3))}.")
    params, _ = module_counts(MODULE_3A_V3)
    if model.count_params() != params:
        raise CheckFailed(f"the module has {model.count_params():,} parameters; expected "
                          f"{params:,}. Check that the second 3x3 convolution of the 5x5 "
                          "branch has f5 filters and sees the f5 channels of the first.")
    original = module_counts({**MODULE_3A_V3, "5x5": [(1, 16), (5, 32)]})[0]
    return (f"{params:,} parameters instead of {original:,}: two 3x3 convolutions see a 5x5 "
            "window with 18 instead of 25 weights per channel pair.")


q3 = Exercise(
    "Exercise 3",
    _check_v3_style,
    hint="Copy inception_module and change only the 5x5 branch: conv(f5_reduce, 1, ...), then "
         "conv(f5, 3, ...), then another conv(f5, 3, ...). Give every layer a unique name.",
    solution="def inception_v3_style(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj, name):\n"
             "    b1 = conv(f1, 1, f'{name}_1x1')(x)\n"
             "    b3 = conv(f3, 3, f'{name}_3x3')(conv(f3_reduce, 1, f'{name}_3x3_reduce')(x))\n"
             "    b5 = conv(f5_reduce, 1, f'{name}_5x5_reduce')(x)\n"
             "    b5 = conv(f5, 3, f'{name}_5x5_a')(b5)\n"
             "    b5 = conv(f5, 3, f'{name}_5x5_b')(b5)\n"
             "    pool = layers.MaxPooling2D(3, strides=1, padding='same', "
             "name=f'{name}_pool')(x)\n"
             "    bp = conv(pool_proj, 1, f'{name}_pool_proj')(pool)\n"
             "    return layers.Concatenate(name=name)([b1, b3, b5, bp])",
    points=2,
)

# --------------------------------------------------------------------------- Exercise 4


def _check_heads(flatten_params, gap_params) -> str:
    expect_type(flatten_params, (int, np.integer), "flatten_params")
    expect_type(gap_params, (int, np.integer), "gap_params")
    flat, gap = dense_params(8 * 8 * 2048, 1000), dense_params(2048, 1000)
    if flatten_params != flat:
        raise CheckFailed(f"flatten_params is {flatten_params:,}, which is not right yet: "
                          "Flatten gives 8 * 8 * 2048 inputs to the dense layer, and each of "
                          "the 1000 units has a bias.")
    if gap_params != gap:
        raise CheckFailed(f"gap_params is {gap_params:,}, which is not right yet: global "
                          "average pooling leaves one number per channel (2048).")
    return (f"Global average pooling saves {flat - gap:,} parameters, more than 5x all of "
            "InceptionV3 (23.9 million).")


q4 = Exercise(
    "Exercise 4",
    _check_heads,
    hint="Dense parameters = n_in * n_out + n_out. Flatten: n_in = 8 * 8 * 2048; global "
         "average pooling: n_in = 2048.",
    solution="flatten_params = helpers.dense_params(8 * 8 * 2048, 1000)\n"
             "gap_params = helpers.dense_params(2048, 1000)",
)
