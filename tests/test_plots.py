"""plots: figures draw the numbers they are given, and image grids tile images."""

import matplotlib
import pytest
import torch

from vaelab import plots

matplotlib.use("Agg")


def _history():
    return {
        "epoch": [1, 2, 3],
        "loss": [300.0, 250.0, 240.0],
        "rate": [5.0, 8.0, 9.0],
        "distortion": [295.0, 242.0, 231.0],
    }


def test_training_curves_plot_the_history():
    fig = plots.training_curves(_history(), title="t")
    bound, terms = fig.axes
    (line,) = bound.get_lines()
    assert list(line.get_ydata()) == [-300.0, -250.0, -240.0]  # the ELBO, not the loss
    assert [ln.get_label() for ln in terms.get_lines()] == ["rate", "distortion"]
    assert fig._suptitle.get_text() == "t"


def test_training_curves_reject_an_empty_history():
    with pytest.raises(ValueError, match="history has no epochs"):
        plots.training_curves({"epoch": [], "loss": [], "rate": [], "distortion": []})


def test_image_grid_tiles_rows_and_columns_with_padding():
    x = torch.arange(6, dtype=torch.float32).repeat_interleave(4).reshape(6, 1, 2, 2) / 5
    grid = plots.image_grid(x, ncol=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 3 + 1)
    assert grid[1, 1] == 0.0 and grid[1, 4] == pytest.approx(0.2) and grid[4, 7] == 1.0
    assert grid[0].max() == 1.0  # padding is white


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match="images of shape"):
        plots.image_grid(torch.zeros(3, 4))
