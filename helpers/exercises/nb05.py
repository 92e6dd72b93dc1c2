"""Exercises of notebook 05 (convolution and CNN arithmetic)."""

from __future__ import annotations

import numpy as np

from helpers.arithmetic import (
    conv_multiplications,
    conv_output_size,
    conv_params,
    dense_params,
    pool_output_size,
)
from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_equal,
    expect_function,
    expect_type,
    expect_whole_number,
)

# --------------------------------------------------------------------------- Exercise 1


def _check_sizes(alexnet_conv1, strided_same, overlapping_pool) -> str:
    answers = {"alexnet_conv1": alexnet_conv1, "strided_same": strided_same,
               "overlapping_pool": overlapping_pool}
    expected = {"alexnet_conv1": conv_output_size(227, 11, 0, 4),
                "strided_same": conv_output_size(28, 3, "same", 2),
                "overlapping_pool": pool_output_size(55, 3, 2)}
    advice = {"alexnet_conv1": "use ((W - F + 2P) / S) + 1 with W=227, F=11, P=0, S=4.",
              "strided_same": "'same' padding gives ceil(W / S), whatever the kernel.",
              "overlapping_pool": "a pooling window follows the same formula: W=55, F=3, "
                                  "P=0, S=2, rounded down."}
    for name, value in answers.items():
        expect_type(value, (int, np.integer), name)
        if int(value) != expected[name]:
            raise CheckFailed(f"{name} is {value}, which is not right yet: {advice[name]}")
    return "AlexNet's first layer turns 227x227 into 55x55; its 3x3/2 pooling gives 27x27."


q1 = Exercise(
    _check_sizes,
    hint="Output size = (W - F + 2P) // S + 1 for 'valid' (P = 0) and explicit padding; "
         "'same' padding gives math.ceil(W / S).",
)

# --------------------------------------------------------------------------- Exercise 2


def reference_conv2d_multi(image: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Multi-channel 'valid' cross-correlation, stride 1: (H, W, C) x (F, F, C, K)."""
    f = kernels.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(image, (f, f), axis=(0, 1))
    # windows: (H', W', C, F, F) -> contract C, F, F with the kernels' (F, F, C)
    return np.einsum("ijcab,abck->ijk", windows, kernels)


def _check_conv2d_multi(conv2d_multi) -> str:
    expect_function(conv2d_multi, "conv2d_multi", "(image, kernels) -> array")
    rng = np.random.default_rng(0)
    cases = [((6, 7, 3), (3, 3, 3, 2)), ((5, 5, 1), (2, 2, 1, 4)), ((8, 6, 4), (1, 1, 4, 3)),
             ((7, 7, 2), (5, 5, 2, 1))]
    for image_shape, kernel_shape in cases:
        image = rng.normal(size=image_shape).astype("float32")
        kernels = rng.normal(size=kernel_shape).astype("float32")
        expected = reference_conv2d_multi(image, kernels)
        got = conv2d_multi(image, kernels)
        what = f"conv2d_multi(image {image_shape}, kernels {kernel_shape})"
        if np.shape(got) != expected.shape:
            raise CheckFailed(f"{what} has shape {np.shape(got)}; expected {expected.shape} "
                              "= (H - F + 1, W - F + 1, K).")
        expect_close(got, expected, what, rtol=1e-4, atol=1e-4)
    return "Each output channel sums the contributions of every input channel."


q2 = Exercise(
    _check_conv2d_multi,
    hint="Loop over output positions (i, j); take the window image[i:i+F, j:j+F, :] of shape "
         "(F, F, C) and contract it with kernels (F, F, C, K) over the first three axes: "
         "np.tensordot(window, kernels, axes=3) gives the K outputs at once.",
)

# --------------------------------------------------------------------------- Exercise 3


def _expected_network() -> tuple[int, int]:
    side = conv_output_size(64, 5)  # Conv2D(16, 5), valid
    side = pool_output_size(side, 2)
    side = conv_output_size(side, 3, "same")  # Conv2D(32, 3, same)
    side = pool_output_size(side, 2)
    flat = side * side * 32
    total = (conv_params(5, 3, 16) + conv_params(3, 16, 32) + dense_params(flat, 64)
             + dense_params(64, 10))
    return flat, total


def _check_table(flat_size, total_params) -> str:
    expect_type(flat_size, (int, np.integer), "flat_size")
    expect_type(total_params, (int, np.integer), "total_params")
    flat, total = _expected_network()
    if flat_size != flat:
        raise CheckFailed(f"flat_size is {flat_size}, which is not right yet. Follow the side "
                          "length: 64 -> valid 5x5 conv -> 2x2 pool -> 'same' 3x3 conv (keeps "
                          "the side) -> 2x2 pool; then multiply side x side x channels.")
    if total_params != total:
        raise CheckFailed(f"total_params is {total_params:,}, which is not right yet (your "
                          "flat_size is right). Add (F*F*C_in + 1)*K for both convolutions and "
                          "n_in*n_out + n_out for both dense layers.")
    dense = dense_params(flat, 64)
    return f"The first dense layer alone holds {dense:,} of the {total:,} parameters."


q3 = Exercise(
    _check_table,
    hint="The side goes 64 -> 60 -> 30 -> 30 -> 15. Conv parameters: (F*F*C_in + 1)*K; dense: "
         "n_in*n_out + n_out; pooling and flatten have none.",
)

# --------------------------------------------------------------------------- Exercise 4


def _bottleneck_mults(b: int) -> int:
    return (conv_multiplications((14, 14, 480), 1, b)
            + conv_multiplications((14, 14, b), 5, 64, "same"))


def _check_bottleneck(direct_mults, b_max) -> str:
    direct_mults = expect_whole_number(direct_mults, "direct_mults")
    expect_type(b_max, (int, np.integer), "b_max")
    direct = conv_multiplications((14, 14, 480), 5, 64, "same")
    expect_equal(direct_mults, direct, "direct_mults")
    best = max(b for b in range(1, 481) if _bottleneck_mults(b) <= direct / 8)
    if b_max > best:
        raise CheckFailed(f"with b = {b_max} the bottleneck needs {_bottleneck_mults(b_max):,} "
                          f"multiplications, more than one eighth of {direct:,}.")
    if b_max < best:
        raise CheckFailed(f"b = {b_max} fits, but a larger b fits too: try b = {b_max + 1}.")
    return (f"b = {best}: {_bottleneck_mults(best):,} multiplications instead of {direct:,}. "
            "GoogLeNet's module 4a, on this very 14x14x480 input, squeezes to 16 channels "
            "before its 48 5x5 filters.")


q4 = Exercise(
    _check_bottleneck,
    hint="direct = 14*14*64*5*5*480. The bottleneck costs 14*14*b*480 (1x1) + 14*14*64*5*5*b "
         "(5x5 on b channels); find the largest b with that at most direct / 8.",
)
