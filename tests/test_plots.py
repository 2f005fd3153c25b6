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


def _theory_rows(sign):
    row = {"entropy": sign, "mean": sign, "q05": sign * 0.9, "q95": sign * 1.1}
    return [
        {**row, "n": n, "log_abs_diff_median": sign * n, "log_ratio_sd": n**0.5,
         "per_unit_sd": 1 / n**0.5}
        for n in (10, 100)
    ]  # fmt: skip


def test_theorem3_figure_draws_each_regime_and_the_reference_curves():
    fig = plots.theorem3({"h > 0": _theory_rows(-1), "h < 0": _theory_rows(1)})
    diff, ratio, per_unit = fig.axes
    assert [list(ln.get_ydata()) for ln in diff.get_lines()[:2]] == [[-10, -100], [10, 100]]
    assert "sqrt(n)" in [ln.get_label() for ln in ratio.get_lines()]
    assert "1/sqrt(2n)" in [ln.get_label() for ln in per_unit.get_lines()]


def test_aep_figure_draws_the_per_unit_mean_and_the_entropy():
    fig = plots.aep({"sigma2 = 1": _theory_rows(1)})
    (ax,) = fig.axes
    assert list(ax.get_lines()[0].get_ydata()) == [1, 1]
    assert ax.get_xscale() == "log"


def test_entropy_figure_marks_the_critical_variance_and_the_models():
    fig = plots.entropy_vs_variance({"n = 20": 0.01, "n = 200": 0.2})
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["n = 20", "n = 200"]
    assert ax.get_lines()[1].get_xdata()[0] == pytest.approx(
        1 / (2 * 3.141592653589793 * 2.718281828459045)
    )
