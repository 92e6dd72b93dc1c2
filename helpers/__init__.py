"""Shared plumbing for the course notebooks: set-up, data, plots, CNN arithmetic and the
classic networks already built (``helpers.architectures``).

Import what a notebook needs, e.g. ``from helpers import setup, load_fashion_mnist``.
"""

from helpers import architectures
from helpers.arithmetic import (
    LayerTable,
    conv_multiplications,
    conv_output_size,
    conv_params,
    dense_params,
    layer_table,
    pool_output_size,
)
from helpers.data import (
    DatasetUnavailableError,
    ImageDataset,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    sample_photos,
    stratified_indices,
)
from helpers.plots import (
    plot_confusion_matrix,
    plot_history,
    plot_image_grid,
)
from helpers.runtime import RuntimeInfo, setup

__all__ = [
    "DatasetUnavailableError", "ImageDataset", "LayerTable", "RuntimeInfo", "architectures",
    "conv_multiplications", "conv_output_size", "conv_params",
    "dense_params", "layer_table", "load_cifar10", "load_digits", "load_fashion_mnist",
    "load_mnist", "plot_confusion_matrix", "plot_history", "plot_image_grid",
    "pool_output_size", "sample_photos", "setup", "stratified_indices",
]
