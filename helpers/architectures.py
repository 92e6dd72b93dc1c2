"""The classic ImageNet-era networks of notebooks 06 and 07, for later notebooks to count.

Compact builders of LeNet-5, AlexNet and GoogLeNet with the published layer sizes. They are
for parameter and multiplication counts (``helpers.layer_table``), not for training: layers
without weights that change no count (AlexNet's local response normalization, GoogLeNet's
auxiliary classifiers) are left out. Notebooks 06 and 07 build them step by step.
Keras is imported when a builder is called, so ``import helpers`` stays light.
"""

from __future__ import annotations

from typing import Any

# GoogLeNet's Inception modules (Szegedy et al. 2015, Table 1): filters of the 1x1 branch,
# the 3x3 reduction, the 3x3, the 5x5 reduction, the 5x5 and the pooling projection.
GOOGLENET_INCEPTION_BLOCKS: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def lenet5() -> Any:
    """LeNet-5's layer sizes as most re-implementations build it: 32x32x1 input, tanh, average
    pooling, a fully connected C3 and a trainable dense output layer (61,706 parameters). The
    1998 paper's sparse C3, trainable subsampling and fixed RBF output units give exactly
    60,000 (notebook 06 derives both)."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((32, 32, 1)),
        layers.Conv2D(6, 5, activation="tanh"), layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="tanh"), layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="tanh"), layers.Dense(84, activation="tanh"),
        layers.Dense(10, activation="softmax")], name="lenet5")


def alexnet(groups: int = 1) -> Any:
    """AlexNet for 227x227x3. ``groups=2`` is the original two-GPU split: conv2, conv4 and
    conv5 read only their own GPU's half of the channels."""
    import keras
    from keras import layers

    if isinstance(groups, bool) or groups not in (1, 2):
        raise ValueError(f"groups must be 1 (one stream) or 2 (the original two-GPU "
                         f"AlexNet), got {groups!r}")
    return keras.Sequential([
        keras.Input((227, 227, 3)),
        layers.Conv2D(96, 11, strides=4, activation="relu"), layers.MaxPooling2D(3, 2),
        layers.Conv2D(256, 5, padding="same", groups=groups, activation="relu"),
        layers.MaxPooling2D(3, 2),
        layers.Conv2D(384, 3, padding="same", activation="relu"),
        layers.Conv2D(384, 3, padding="same", groups=groups, activation="relu"),
        layers.Conv2D(256, 3, padding="same", groups=groups, activation="relu"),
        layers.MaxPooling2D(3, 2), layers.Flatten(),
        layers.Dropout(0.5), layers.Dense(4096, activation="relu"),
        layers.Dropout(0.5), layers.Dense(4096, activation="relu"),
        layers.Dense(1000, activation="softmax")], name="alexnet" if groups == 1
        else "alexnet_two_gpus")


def googlenet() -> Any:
    """GoogLeNet (Inception v1) for 224x224x3, without its two auxiliary training
    classifiers."""
    import keras
    from keras import layers

    def conv(x: Any, filters: int, kernel: int, strides: int = 1) -> Any:
        return layers.Conv2D(filters, kernel, strides=strides, padding="same",
                             activation="relu")(x)

    inputs = keras.Input((224, 224, 3))
    x = layers.MaxPooling2D(3, 2, padding="same")(conv(inputs, 64, 7, 2))
    x = layers.MaxPooling2D(3, 2, padding="same")(conv(conv(x, 64, 1), 192, 3))
    for name, (c1, r3, c3, r5, c5, pool) in GOOGLENET_INCEPTION_BLOCKS.items():
        if name in ("4a", "5a"):
            x = layers.MaxPooling2D(3, 2, padding="same")(x)
        branch_pool = layers.MaxPooling2D(3, 1, padding="same")(x)
        x = layers.Concatenate()([conv(x, c1, 1), conv(conv(x, r3, 1), c3, 3),
                                  conv(conv(x, r5, 1), c5, 5), conv(branch_pool, pool, 1)])
    x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, layers.Dense(1000, activation="softmax")(x), name="googlenet")
