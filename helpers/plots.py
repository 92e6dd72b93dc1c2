"""Plots the notebooks share. Each function returns its matplotlib Figure."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _history_dict(history: Any) -> dict[str, list[float]]:
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping) or not data:
        raise ValueError("history must be what model.fit() returned, or a non-empty dict "
                         "such as {'loss': [...], 'val_loss': [...]}")
    return {k: list(map(float, v)) for k, v in data.items()}


def plot_history(history: Any, *, title: str | None = None) -> Figure:
    """Loss and each metric per epoch, training vs validation, one panel each."""
    data = _history_dict(history)
    metrics = [k for k in data if not k.startswith("val_") and k not in ("learning_rate", "lr")]
    if not metrics:
        raise ValueError(f"no training metrics in history; keys are {sorted(data)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.4), squeeze=False)
    for ax, name in zip(axes[0], metrics, strict=True):
        epochs = np.arange(1, len(data[name]) + 1)
        ax.plot(epochs, data[name], "o-", label="train")
        if f"val_{name}" in data:
            ax.plot(epochs, data[f"val_{name}"], "s--", label="validation")
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_image_grid(images: np.ndarray, labels: Sequence[int] | None = None, *,
                    class_names: Sequence[str] | None = None,
                    predictions: Sequence[int] | None = None, ncols: int = 8,
                    title: str | None = None, cmap: str = "gray") -> Figure:
    """A grid of images captioned with their true label, and the prediction if given
    (green when right, red when wrong)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError("images must be a non-empty batch of shape (N, H, W), (N, H, W, 1) "
                         f"or (N, H, W, 3), got {images.shape}")
    n = len(images)
    for name, seq in (("labels", labels), ("predictions", predictions)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries but there are {n} images")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")

    def name_of(i: int) -> str:
        return class_names[int(i)] if class_names is not None else str(int(i))

    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    row_height = 2.05 if labels is not None and predictions is not None else 1.75  # 2-line titles
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.5 * ncols, row_height * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap=cmap if images.ndim == 3 else None)
        if labels is None and predictions is None:
            continue
        if predictions is None:
            ax.set_title(name_of(labels[i]), fontsize=8)
        elif labels is None:
            ax.set_title(f"pred: {name_of(predictions[i])}", fontsize=8)
        else:
            right = int(predictions[i]) == int(labels[i])
            ax.set_title(f"{name_of(labels[i])}\npred: {name_of(predictions[i])}", fontsize=8,
                         color="tab:green" if right else "tab:red")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], *,
                          class_names: Sequence[str] | None = None, normalize: bool = False,
                          title: str | None = None) -> Figure:
    """A confusion-matrix heat map (rows: true class, columns: predicted class), counted by
    ``sklearn.metrics.confusion_matrix``; ``class_names`` fixes the classes 0..K-1."""
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred) or len(y_true) == 0:
        raise ValueError(f"y_true and y_pred need the same, non-zero number of labels; got "
                         f"{len(y_true)} and {len(y_pred)}")
    k = (len(class_names) if class_names is not None
         else int(max(y_true.max(), y_pred.max())) + 1)
    if min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= k:
        raise ValueError(f"labels must be class indices 0..{k - 1} (one per class name); found "
                         f"{min(y_true.min(), y_pred.min())}..{max(y_true.max(), y_pred.max())}")
    m = confusion_matrix(y_true, y_pred, labels=np.arange(k))
    values = m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(m))]
    size = max(4.0, 0.55 * len(m) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(values, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(m)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(m)), names)
    ax.set(xlabel="predicted", ylabel="true",
           title=title or f"Confusion matrix (accuracy {np.trace(m) / m.sum():.1%})")
    threshold = values.max() / 2
    for i in range(len(m)):
        for j in range(len(m)):
            text = f"{values[i, j]:.2f}" if normalize else f"{m[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if values[i, j] > threshold else "black")
    fig.tight_layout()
    return fig
