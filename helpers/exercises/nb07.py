"""Exercises of notebook 07 (Inception and 1x1 convolutions)."""

from __future__ import annotations

import numpy as np

from helpers.arithmetic import conv_multiplications, conv_params
from helpers.exercises import CheckFailed, Exercise, expect_function, expect_type

# --------------------------------------------------------------------------- Exercise 1


def _check_shuffle(same_1x1, same_3x3, max_diff_1x1, max_diff_3x3) -> str:
    expect_type(same_1x1, (bool, np.bool_), "same_1x1")
    expect_type(same_3x3, (bool, np.bool_), "same_3x3")
    for what, value in (("max_diff_1x1", max_diff_1x1), ("max_diff_3x3", max_diff_3x3)):
        expect_type(value, (int, float, np.integer, np.floating), what)
        if not np.isfinite(value) or value < 0:
            raise CheckFailed(f"{what} is {value!r}: the largest absolute difference is a "
                              "number >= 0 (np.abs(a - b).max()).")
    if max_diff_3x3 < 1e-3:
        raise CheckFailed(f"max_diff_3x3 is {max_diff_3x3:.2g}: the 3x3 outputs agree, which "
                          "they should not. Did you shuffle the pixels BEFORE the 3x3 "
                          "convolution, and compare with the 3x3 convolution of x itself?")
    if max_diff_1x1 > 1e-4:
        raise CheckFailed(f"max_diff_1x1 is {max_diff_1x1:.2g}: your measurement says the 1x1 "
                          "outputs differ. Check the unshuffling: output pixel i came from "
                          "input position order[i], so index the output with np.argsort(order) "
                          "(and compare with conv1x1(x), not with x).")
    if not same_1x1:
        raise CheckFailed("same_1x1 should be True, as your own max_diff_1x1 shows: a 1x1 "
                          "kernel computes each output pixel from that one pixel's channels, so "
                          "moving pixels around before or after it makes no difference.")
    if same_3x3:
        raise CheckFailed("same_3x3 should be False, as your own max_diff_3x3 shows: a 3x3 "
                          "kernel reads a pixel's neighbours, and the shuffle changed who the "
                          "neighbours are.")
    return ("A 1x1 convolution commutes with any rearrangement of the pixels: it is a dense "
            "layer at every pixel and never sees the image's layout. A 3x3 convolution does, "
            "which is what lets it find edges and shapes.")


q1 = Exercise(
    _check_shuffle,
    hint="order = np.random.default_rng(0).permutation(25); shuffle with "
         "x.reshape(2, 25, 8)[:, order].reshape(x.shape). After the layer, undo it with "
         "undo = np.argsort(order) on the output's 25 positions. Then compare with layer(x).",
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
    _check_4a,
    hint="Add up six convolutions: 1x1 (480->192), 1x1 (480->96), 3x3 (96->208), 1x1 (480->16), "
         "5x5 (16->48), 1x1 (480->64), all on a 14x14 grid with 'same' padding.",
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
    _check_v3_style,
    hint="Copy inception_module and change only the 5x5 branch: conv(f5_reduce, 1, ...), then "
         "conv(f5, 3, ...), then another conv(f5, 3, ...). Give every layer a unique name.",
)

# --------------------------------------------------------------------------- Exercise 4


DESIGN_INPUT = (14, 14, 480)
DESIGN_BUDGET = 36_000_000      # multiplications: about half of module 4a's 73,608,192
DESIGN_CHANNELS = 512


def design_spec(f1: int, f3_reduce: int, f3: int, f5_reduce: int, f5: int,
                pool_proj: int) -> dict:
    """``module_counts``'s description of an Inception module with these filter counts on
    module 4a's 14x14x480 input."""
    return {"input": DESIGN_INPUT, "1x1": [(1, f1)], "3x3": [(1, f3_reduce), (3, f3)],
            "5x5": [(1, f5_reduce), (5, f5)], "pool": [(1, pool_proj)]}


def _check_design(my_module) -> str:
    names = ("f1", "f3_reduce", "f3", "f5_reduce", "f5", "pool_proj")
    if not isinstance(my_module, list | tuple) or len(my_module) != 6:
        raise CheckFailed("my_module should be a tuple of six filter counts, (f1, f3_reduce, "
                          f"f3, f5_reduce, f5, pool_proj); got {my_module!r:.80}.")
    for name, value in zip(names, my_module, strict=True):
        expect_type(value, (int, np.integer), name)
        if value < 1:
            raise CheckFailed(f"{name} is {value}: every convolution needs at least one filter.")
    f1, f3_reduce, f3, f5_reduce, f5, pool_proj = (int(v) for v in my_module)
    out = f1 + f3 + f5 + pool_proj
    if out != DESIGN_CHANNELS:
        raise CheckFailed(f"the module outputs f1 + f3 + f5 + pool_proj = {out} channels; the "
                          f"design asks for {DESIGN_CHANNELS}. (The reductions are inside "
                          "their branches: they do not reach the output.)")
    small = [n for n, v in (("f1", f1), ("f3", f3), ("f5", f5), ("pool_proj", pool_proj))
             if v < 32]
    if small:
        raise CheckFailed(f"{' and '.join(small)} {'is' if len(small) == 1 else 'are'} "
                          "below 32 channels; every branch must contribute at least 32.")
    if f3_reduce < 16 or f5_reduce < 16:
        raise CheckFailed("the 1x1 reductions before the 3x3 and 5x5 need at least 16 filters "
                          f"each (yours: {f3_reduce} and {f5_reduce}).")
    spec = design_spec(*my_module)
    _, mults = module_counts(spec)
    if mults > DESIGN_BUDGET:
        costs = {b: module_counts({"input": DESIGN_INPUT, b: spec[b]})[1]
                 for b in ("1x1", "3x3", "5x5", "pool")}
        worst = max(costs, key=costs.get)
        h, w, c = DESIGN_INPUT
        raise CheckFailed(f"the module costs {mults:,} multiplications, over the budget of "
                          f"{DESIGN_BUDGET:,}; its {worst} branch alone costs "
                          f"{costs[worst]:,}. Per output channel, a 1x1 filter on all {c} "
                          f"input channels costs {h * w * c:,}, a 3x3 filter behind an "
                          f"r-channel reduction {h * w * 9:,}·r: which channels are cheap?")
    params, _ = module_counts(spec)
    base_params, base_mults = module_counts(MODULE_4A)
    return (f"{mults:,} multiplications ({mults / base_mults:.0%} of 4a's) and {params:,} "
            f"parameters ({params / base_params:.0%} of 4a's), for the same 512 channels. The "
            "cheap channels come from behind a thin reduction; the 1x1 and pool-projection "
            "branches pay for reading all 480 input channels at every pixel.")


q4 = Exercise(
    _check_design,
    hint="Compute branch_counts(s, channels=480, side=14) for each of 4a's branches: which "
         "costs most? The 3x3 and 5x5 convolutions only read their reduction's channels, so a "
         "thin reduction (16) makes their output channels cheap; keep the 1x1 and pool "
         "branches at the minimum of 32.",
)
