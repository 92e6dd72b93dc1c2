"""Plots return figures with the expected content, and refuse bad input clearly."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plots import plot_confusion_matrix, plot_history, plot_image_grid


def test_plot_history_panels_and_lines():
    hist = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6],
            "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.7], "learning_rate": [1] * 3}
    fig = plot_history(hist, title="t")
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in axes[0].lines] == ["train", "validation"]
    np.testing.assert_allclose(axes[0].lines[1].get_ydata(), hist["val_loss"])
    fig.canvas.draw()
    ticks = [t for t in axes[0].get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)  # whole epochs only


def test_plot_history_accepts_keras_history_object():
    class H:
        history = {"loss": [2.0, 1.0]}
    fig = plot_history(H())
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1


@pytest.mark.parametrize("bad", [{}, None, [1, 2], {"val_loss": [1.0]}])
def test_plot_history_bad_input(bad):
    with pytest.raises(ValueError, match="history|training metrics"):
        plot_history(bad)


def test_image_grid_titles_and_colours():
    images = np.zeros((5, 28, 28, 1), dtype="float32")
    fig = plot_image_grid(images, [0, 1, 2, 3, 4], class_names=list("abcde"),
                          predictions=[0, 1, 0, 3, 4], ncols=3)
    axes = fig.axes
    assert len(axes) == 6  # 2 rows x 3 columns, the last one blank
    assert axes[0].get_title() == "a\npred: a"
    assert axes[2].get_title() == "c\npred: a"
    assert axes[2].title.get_color() == "tab:red" and axes[0].title.get_color() == "tab:green"
    assert len(axes[5].images) == 0


def test_image_grid_bad_input():
    with pytest.raises(ValueError, match="non-empty batch"):
        plot_image_grid(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="labels has 2 entries but there are 3 images"):
        plot_image_grid(np.zeros((3, 8, 8)), [1, 2])
    with pytest.raises(ValueError, match="ncols"):
        plot_image_grid(np.zeros((3, 8, 8)), ncols=0)


def test_confusion_matrix_plot_shows_the_counts():
    fig = plot_confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0],
                                class_names=["x", "y", "z"])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert "66.7%" in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["1", "1", "0"]
    normed = plot_confusion_matrix([0, 0, 1], [0, 1, 1], normalize=True)
    np.testing.assert_allclose(normed.axes[0].images[0].get_array(), [[0.5, 0.5], [0, 1]])
    absent = plot_confusion_matrix([0, 0], [0, 0], class_names=["a", "b", "c"])  # K from names
    assert absent.axes[0].images[0].get_array().shape == (3, 3)


def test_confusion_matrix_plot_bad_input():
    with pytest.raises(ValueError, match="got 3 and 2"):
        plot_confusion_matrix([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="class indices"):
        plot_confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="one per class name"):
        plot_confusion_matrix([0, 5], [0, 1], class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="non-zero"):
        plot_confusion_matrix([], [])
