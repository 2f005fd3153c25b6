"""plots: figures draw the numbers they are given, and image grids tile images."""

import matplotlib
import pytest
import torch

from vaelab import plots
from vaelab.papers.asperti import figures as asperti_figures
from vaelab.papers.azmoodeh import figures as azmoodeh_figures
from vaelab.papers.synthesis import figures as synthesis_figures

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
        {
            **row,
            "n": n,
            "log_abs_diff_median": sign * n,
            "log_ratio_sd": n**0.5,
            "per_unit_sd": 1 / n**0.5,
        }
        for n in (10, 100)
    ]


def test_theorem3_figure_draws_each_regime_and_the_reference_curves():
    fig = azmoodeh_figures.theorem3({"h > 0": _theory_rows(-1), "h < 0": _theory_rows(1)})
    diff, ratio, per_unit = fig.axes
    assert [list(ln.get_ydata()) for ln in diff.get_lines()[:2]] == [[-10, -100], [10, 100]]
    assert "sqrt(n)" in [ln.get_label() for ln in ratio.get_lines()]
    assert "1/sqrt(2n)" in [ln.get_label() for ln in per_unit.get_lines()]


def test_aep_figure_draws_the_per_unit_mean_and_the_entropy():
    fig = azmoodeh_figures.aep({"sigma2 = 1": _theory_rows(1)})
    (ax,) = fig.axes
    assert list(ax.get_lines()[0].get_ydata()) == [1, 1]
    assert ax.get_xscale() == "log"


def test_entropy_figure_marks_the_critical_variance_and_the_models():
    fig = azmoodeh_figures.entropy_vs_variance({"n = 20": 0.01, "n = 200": 0.2})
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["n = 20", "n = 200"]
    assert ax.get_lines()[1].get_xdata()[0] == pytest.approx(
        1 / (2 * 3.141592653589793 * 2.718281828459045)
    )


def test_rate_distortion_stacks_the_two_terms_per_dimension():
    rows = [
        {"latent_dim": 2, "rate": 10.0, "distortion": 300.0},
        {"latent_dim": 20, "rate": 25.0, "distortion": 250.0},
    ]
    ax = plots.rate_distortion(rows).axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [10.0, 25.0, 300.0, 250.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "20"]


def test_iwae_gaps_plot_one_line_per_model_against_k():
    fig = azmoodeh_figures.iwae_gaps({"n = 2": {1: 0.0, 10: 1.5}, "n = 20": {1: 0.0, 10: 3.0}})
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["n = 2", "n = 20"]
    assert list(lines[1].get_xdata()) == [1, 10] and list(lines[1].get_ydata()) == [0.0, 3.0]


def test_identity_check_puts_each_image_on_the_diagonal():
    gap, kl = torch.tensor([0.1, 0.5, 2.0]), torch.tensor([0.1, 0.5, 2.0])
    ax = azmoodeh_figures.identity_check(gap, kl).axes[0]
    assert list(ax.collections[0].get_offsets()[:, 1]) == pytest.approx([0.1, 0.5, 2.0])


def test_latent_scatter_colours_by_class():
    mu = torch.randn(30, 2)
    labels = torch.arange(30) % 3
    ax = plots.latent_scatter(mu, labels, ["a", "b", "c"]).axes[0]
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2-D latent means"):
        plots.latent_scatter(torch.randn(5, 3), labels[:5], ["a"])


def test_image_rows_one_row_per_label():
    fig = plots.image_rows({"data": torch.rand(4, 1, 28, 28), "n = 2": torch.rand(4, 1, 28, 28)})
    assert [ax.get_ylabel() for ax in fig.axes] == ["data", "n = 2"]


def test_typicality_gap_plots_measured_means_and_the_chi2_prediction():
    per_unit = {2: (0.4, 0.01), 20: (0.12, 0.0)}
    relative = {2: (50.0, 5.0), 20: (40.0, 1.0)}
    fig = azmoodeh_figures.typicality_gap(per_unit, relative, prediction={2: 0.37, 20: 0.125})
    left = fig.axes[0]
    labels = [ln.get_label() for ln in left.get_lines()]
    assert "chi2 prediction" in labels
    pred = left.get_lines()[labels.index("chi2 prediction")]
    assert list(pred.get_ydata()) == [0.37, 0.125]


def test_sweep_metrics_one_panel_per_metric_with_error_bars():
    summary = {"fid": {2: (10.0, 1.0), 20: (8.0, 0.5)}, "class_entropy": {2: (3.0, 0.1)}}
    fig = plots.sweep_metrics(summary, labels={"fid": "FID", "class_entropy": "bits"})
    assert [ax.get_ylabel() for ax in fig.axes] == ["FID", "bits"]
    _, caps, (bars,) = fig.axes[0].containers[0]
    assert len(bars.get_segments()) == 2


def test_epoch_times_one_line_per_method_against_n():
    rows = {2: {"dataloader": 2.0, "tensor": 1.0}, 20: {"dataloader": 2.5, "tensor": 1.2}}
    ax = plots.epoch_times(rows).axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"dataloader", "tensor"}
    assert list(lines["tensor"].get_xdata()) == [2, 20]
    assert list(lines["tensor"].get_ydata()) == [1.0, 1.2]


def test_sparsity_figures_draw_what_they_are_given():
    fig = plots.unit_scatter({"ours": [(1e-4, 0.98), (0.9, 0.02)], "paper": [(0.5, 0.5)]})
    ax = fig.axes[0]
    assert [c.get_offsets().shape[0] for c in ax.collections] == [2, 1]
    track = [
        {"step": s, "value": {"mu": [[s, 0.0], [0.0, s]], "logvar": [[0.0, 0.0]] * 2}}
        for s in range(11)
    ]
    fig = asperti_figures.trajectories(track, every=5)
    assert len(fig.axes[0].collections) == 3  # steps 0, 5 and 10
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == list(range(11))
    units = [{"step": s, "value": {"mean_sigma2": [1.0, 0.1 / (s + 1)]}} for s in range(4)]
    fig = asperti_figures.sigma2_training(units, [True, False])
    assert fig.axes[0].get_lines()[0].get_color() == "C3"
    fig = asperti_figures.tile_counts(
        {"train": {1: 0.3, 2: 0.3, 3: 0.4}, "gen": {1: 0.1, 2: 0.2, 3: 0.7}}
    )
    assert [round(p.get_height(), 2) for p in fig.axes[0].patches][:3] == [0.3, 0.3, 0.4]
    fig = asperti_figures.kl_sweep({0.0: (0, 0), 1.0: (8, 1)}, {0.0: (16, 0), 1.0: (8, 1)})
    assert len(fig.axes) == 2
    fig = asperti_figures.eq7({"units": [1.0, 0.01]})
    assert list(fig.axes[0].collections[0].get_offsets()[:, 1])[0] == 0
    fig = asperti_figures.latent_3d({"a": torch.randn(20, 3)}, torch.arange(20) % 10)
    assert fig.axes[0].name == "3d"


def test_inactive_along_draws_one_line_per_run():
    fig = asperti_figures.inactive_along({"a": ([0, 8, 16], [16, 3, 9]), "b": ([0, 8], [1, 1])})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 and list(lines[0].get_ydata()) == [16, 3, 9]


def test_convergence_draws_each_curve_and_marks_the_chosen_epochs():
    fig = synthesis_figures.convergence(
        {"a": {"iso": [5.0, 4.0, 3.0], "diag": [6.0, 4.0, 2.0]}}, {"a": 2}
    )
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["iso", "diag", "grid: 2 epochs"]
    assert list(lines[1].get_ydata()) == [6.0, 4.0, 2.0] and list(lines[2].get_xdata()) == [2, 2]


def test_lines_vs_dim_plots_means_with_error_bars_and_the_identity():
    panels = {
        "p": {"iso": {2: (1.0, 0.1), 20: (3.0, 0.2)}},
        "q": {"diag": {2: (2.0, 0.0)}},
        "r": {"x": {2: (1.0, 0.0)}},
    }
    fig = plots.lines_vs_dim(panels, ylabels={"p": "P", "q": "Q", "r": "R"}, identity=True)
    first = fig.axes[0]
    assert list(first.get_lines()[0].get_ydata()) == [1.0, 3.0]
    assert first.get_lines()[-1].get_label() == "all n units" and first.get_yscale() == "log"
    assert [ax.get_visible() for ax in fig.axes] == [True, True, True, False]


def test_threshold_sensitivity_steps_the_counts_and_marks_the_defaults():
    fig = synthesis_figures.threshold_sensitivity(
        {"Var mu": {"n=8": [8, 5, 1]}}, [1e-3, 1e-2, 1e-1], defaults={"Var mu": {"Burda": 0.01}}
    )
    ax = fig.axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [8, 5, 1]
    assert (
        list(ax.get_lines()[1].get_xdata()) == [0.01, 0.01] and ax.texts[0].get_text() == " Burda"
    )


def test_count_by_size_puts_steps_left_and_epochs_right():
    curves = {4000: ([8, 64], [2.0, 9.0]), 60_000: ([8, 64], [1.0, 5.0])}
    fig = asperti_figures.count_by_size(curves, {4000: 32, 60_000: 469})
    left, right = fig.axes
    assert [ln.get_label() for ln in right.get_lines()] == ["4,000 images", "60,000 images"]
    assert list(left.get_lines()[0].get_xdata()) == [8, 64]
    assert list(right.get_lines()[0].get_xdata()) == [0.25, 2.0]
