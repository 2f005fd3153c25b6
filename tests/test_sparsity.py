"""sparsity: Asperti's configs, per-unit tables, zeroing, decoder use, tile counting, eq. (7)."""

import math
import types

import numpy as np
import pytest
import torch

from vaelab import cache, claims, data, elbo, metrics, models, stats
from vaelab.papers import asperti
from vaelab.papers.asperti import criteria, kl, likelihood, rules, size


def test_dense_mnist_config_is_the_papers_architecture_with_probes():
    c = asperti.fit_config("mlp", epochs=3, seed=2, probe=True)
    assert c.model == models.ModelConfig("mlp", 16, (256, 32, 24), "diagonal", "bernoulli")
    assert (c.data.name, c.data.split, c.data.limit) == ("mnist", "train", None)
    assert (c.train.epochs, c.train.batch_size, c.train.lr, c.seed) == (3, 128, 1e-3, 2)
    assert c.train.probe_every == asperti.PROBE_EVERY
    assert c.train.probe_indices == tuple(range(asperti.PROBE_IMAGES))
    assert c.objective == elbo.Elbo(kl_weight=1.0, sample_latent=True, mu_penalty=0.0)


def test_tiles_and_conv_configs():
    dense = asperti.fit_config("mlp", data="tiles", tiles_images=500, epochs=1, seed=0)
    assert dense.model.hidden == (512, 256, 64, 32)
    assert dense.data.tiles == data.TilesSpec(n=500)
    conv = asperti.fit_config("conv", data="tiles", tiles_images=500, epochs=1, seed=0)
    assert (conv.model.kind, conv.model.latent_dim, conv.model.hidden) == ("conv", 16, ())
    assert cache.config_key(dense) != cache.config_key(conv)


def test_variants_and_tracking():
    c = asperti.fit_config(
        "mlp",
        epochs=1,
        seed=0,
        kl_weight=0.0,
        mu_penalty=1.0,
        sample_latent=False,
        hidden=(256, 64, 16),
        latent_dim=3,
    )
    assert c.objective == elbo.Elbo(kl_weight=0.0, sample_latent=False, mu_penalty=1.0)
    assert (c.model.hidden, c.model.latent_dim) == ((256, 64, 16), 3)
    t = asperti.fit_config("mlp", epochs=1, seed=0, latent_dim=2, track=(4, 9))
    assert (t.train.track_indices, t.train.probe_every) == ((4, 9), 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "rnn"}, "kind must be 'mlp' or 'conv'"),
        ({"data": "cifar"}, "data must be 'mnist', 'fashion-mnist' or 'tiles'"),
        ({"data": "tiles"}, "tiles_images must be a positive"),
        ({"probe": True, "track": (1,)}, "either probe .* or track"),
    ],
)
def test_bad_configs_are_named(kwargs, message):
    kwargs = {"kind": "mlp", **kwargs}
    with pytest.raises(ValueError, match=message):
        asperti.fit_config(epochs=1, seed=0, **kwargs)


def test_one_per_class_finds_the_first_image_of_each_class():
    y = torch.tensor([3, 0, 0, 1, 2, 3, 1])
    assert asperti.one_per_class(y, classes=4) == (1, 3, 4, 0)
    with pytest.raises(ValueError, match="class 2 has no image"):
        asperti.one_per_class(torch.tensor([0, 1, 1]), classes=3)


def test_eq7_is_zero_at_one_and_negative_elsewhere():
    s = torch.tensor([0.01, 0.5, 1.0, 2.0])
    f = asperti.eq7(s)
    assert f[2] == 0 and (f[[0, 1, 3]] < 0).all()
    assert math.isclose(f[0].item(), -0.01 + math.log(0.01) + 1, rel_tol=1e-6)


def test_prior_frechet_is_zero_for_standard_normal_codes():
    torch.manual_seed(0)
    assert asperti.prior_frechet(torch.randn(20000, 3)) < 0.01
    # N(0, diag(4, 1, 1)) against N(0, I): (2 - 1)^2 = 1
    squeezed = torch.randn(20000, 3) * torch.tensor([2.0, 1.0, 1.0])
    assert abs(asperti.prior_frechet(squeezed) - 1.0) < 0.05


def test_sphericity_is_one_for_a_ball_whatever_its_scale_and_falls_with_elongation():
    torch.manual_seed(0)
    ball = torch.randn(20000, 3)
    assert asperti.sphericity(ball) > 0.95 and asperti.sphericity(0.5 * ball + 3.0) > 0.95
    squeezed = ball * torch.tensor([2.0, 1.0, 1.0])  # variances 4, 1, 1
    assert abs(asperti.sphericity(squeezed) - 0.25) < 0.02
    assert abs(asperti.sphericity(squeezed) - asperti.sphericity(10 * squeezed)) < 1e-9


class Ignores(torch.nn.Module):
    """A Bernoulli 'VAE' whose decoder reads only unit 0 (units 1..3 are ignored)."""

    likelihood, latent_dim, posterior = "bernoulli", 4, "diagonal"

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(784))

    def encode(self, x):
        mu = torch.zeros(len(x), 4)
        mu[:, 0] = (x.flatten(1).mean(1) - 0.5) * 8  # +-3.2 for the two image levels
        return mu, torch.zeros(len(x), 4)

    def decode(self, z):
        return (z[:, :1] * self.w).reshape(-1, 1, 28, 28)


def two_levels(n):
    return torch.tensor([0.1, 0.9]).repeat(n // 2).reshape(-1, 1, 1, 1).expand(n, 1, 28, 28)


def test_zeroing_ignored_units_changes_nothing_and_the_control_does():
    x = two_levels(50)
    mask = torch.tensor([False, True, True, False])
    out = metrics.zeroing(Ignores(), x, mask, samples=64, seed=0)
    assert out["max_pixel_diff"] == 0 and out["mean_pixel_diff"] == 0
    assert out["elbo_change"] == 0
    assert out["zeroed"] == 2 and out["control_units"] == [0, 3]
    assert out["control_max_pixel_diff"] > 0.1 and out["control_elbo_change"] < 0


def test_zeroing_with_a_one_unit_control_zeroes_the_least_varying_unit_it_keeps():
    x = two_levels(50)
    mask = torch.tensor([False, True, True, False])
    out = metrics.zeroing(Ignores(), x, mask, samples=64, seed=0, control=1)
    assert out["zeroed"] == 2 and out["control_units"] == [3]  # unit 3: mu = 0, ignored
    assert out["control_elbo_change"] == 0
    unit0 = metrics.zeroing(Ignores(), x, ~torch.tensor([True, False, False, False]), samples=8)
    assert unit0["control_units"] == [0] and unit0["control_elbo_change"] < 0
    with pytest.raises(ValueError, match="control must be a positive number of units, got 0"):
        metrics.zeroing(Ignores(), x, mask, samples=8, control=0)
    only0 = torch.tensor([True, False, False, False])
    out = metrics.zeroing(Ignores(), x, mask, samples=8, control=1, control_from=only0)
    assert out["control_units"] == [0] and out["control_elbo_change"] < 0
    out = metrics.zeroing(Ignores(), x, mask, samples=8, control=1, control_from=~only0 & ~mask)
    assert out["control_units"] == [3]


def test_one_unit_control_zeroes_the_least_varying_clearly_active_unit():
    x = two_levels(50)
    mask = torch.tensor([False, True, True, False])
    stats = metrics.unit_stats(Ignores(), x)  # unit 0 varies (Var mu ~10), unit 3 does not
    out = metrics.one_unit_control(Ignores(), x, mask, stats, samples=8, seed=0)
    assert out["control_units"] == [0] and out["control_var_mu"] > 0.1
    assert out["control_elbo_change"] < 0 and out["elbo_change"] == 0
    assert "control of one unit (0, Var mu" in asperti.describe_zeroing(out, out)
    none = metrics.one_unit_control(Ignores(), x, ~mask | mask, stats, samples=8, seed=0)
    assert none["control_units"] == [] and math.isnan(none["control_var_mu"])
    above = stats.var_mu[0].item() + 1  # no unit varies that much: no control
    high = metrics.one_unit_control(Ignores(), x, mask, stats, threshold=above, samples=8)
    assert high["control_units"] == [] and math.isnan(high["control_elbo_change"])


def test_zeroing_with_no_inactive_units_reports_nothing_zeroed():
    out = metrics.zeroing(
        Ignores(), torch.rand(5, 1, 28, 28), torch.zeros(4, dtype=torch.bool), samples=8, seed=0
    )
    assert out["zeroed"] == 0 and out["max_pixel_diff"] == 0
    assert math.isnan(out["control_max_pixel_diff"])


def test_decoder_use_is_zero_for_ignored_units():
    use = metrics.decoder_use(Ignores(), two_levels(40))
    assert use.shape == (4,)
    assert use[0] > 0 and use[1:].abs().max() == 0


def test_count_tiles_recovers_the_training_counts():
    x, y = data.make_tiles(data.TilesSpec(n=300, seed=3))
    assert torch.equal(asperti.count_tiles(x), y)
    blurred = x * 0.4  # below the threshold: no tiles
    assert asperti.count_tiles(blurred).sum() == 0


def test_count_tiles_uses_eight_connectivity():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 2:4, 2:4] = 1
    x[0, 0, 4:6, 4:6] = 1  # touches the first block at a corner only
    x[0, 0, 20:22, 20:22] = 1
    assert asperti.count_tiles(x).tolist() == [2]


def test_count_tiles_drops_components_smaller_than_min_pixels():
    x, y = data.make_tiles(data.TilesSpec(n=300, seed=3))
    assert torch.equal(asperti.count_tiles(x, min_pixels=asperti.MIN_TILE_PIXELS), y)
    assert asperti.MIN_TILE_PIXELS == 8  # half of a 4x4 tile
    image = torch.zeros(1, 1, 28, 28)
    _tile(image[0], 2, 2)  # a tile: 16 pixels
    image[0, 0, 20, 20] = 1  # a speck: 1 pixel
    image[0, 0, 10:12, 20:24] = 1  # half a tile: 8 pixels
    image[0, 0, 24:26, 2:5] = 1  # 6 pixels
    assert asperti.count_tiles(image).tolist() == [4]
    assert asperti.count_tiles(image, min_pixels=8).tolist() == [2]
    assert asperti.count_tiles(image, min_pixels=17).tolist() == [0]
    with pytest.raises(ValueError, match="min_pixels must be an integer >= 1, got 0"):
        asperti.count_tiles(image, min_pixels=0)


def test_count_fractions_and_over():
    counts = torch.tensor([0, 1, 1, 2, 3, 4, 6, 1])
    fractions = asperti.count_fractions(counts, max_count=5)
    assert fractions == {0: 1 / 8, 1: 3 / 8, 2: 1 / 8, 3: 1 / 8, 4: 1 / 8, "5+": 1 / 8}
    assert asperti.fraction_over(counts, 3) == 2 / 8


def test_slice_grid_shape_and_prior_quantiles():
    model = models.MLPVAE(3, (8,))
    images, z = asperti.slice_grid(model, per_side=5, slices=5)
    assert images.shape == (125, 1, 28, 28) and z.shape == (125, 3)
    assert (images >= 0).all() and (images <= 1).all()
    assert torch.allclose(z[:25, 2], z[0, 2].expand(25))  # one slice = one z_3
    assert torch.allclose(z[:, 0].unique().sort().values, -z[:, 0].unique().sort().values.flip(0))


def test_unit_rows_and_summary():
    from vaelab.metrics import UnitStats

    unit = UnitStats(
        torch.tensor([1e-4, 0.9]), torch.tensor([0.98, 0.02]), torch.zeros(2), torch.zeros(2)
    )
    rows = asperti.unit_rows(unit)
    assert [r["inactive"] for r in rows] == [True, False]
    assert rows[0]["sum"] == pytest.approx(0.9801)
    assert stats.mean_sd([8, 7, 9]) == (8.0, 1.0)
    assert stats.mean_sd([5]) == (5.0, 0.0)


def test_runs_one_config_per_seed_probing_only_dense_mnist():
    dense = asperti.runs("mlp", data="mnist", epochs=2, seeds=[0, 1], batch_size=128, lr=1e-3)
    assert [c.seed for c in dense] == [0, 1] and all(c.train.probe_every for c in dense)
    conv = asperti.runs(
        "conv", data="tiles", tiles_images=100, epochs=2, seeds=[4], batch_size=64, lr=1e-3
    )
    assert conv[0].train.probe_every == 0 and conv[0].train.batch_size == 64
    beta = asperti.runs(
        "mlp", data="mnist", epochs=2, seeds=[0], batch_size=128, lr=1e-3, kl_weight=0.5
    )
    assert beta[0].objective.kl_weight == 0.5
    assert asperti.epochs_for(469, images=4000, batch_size=128) == 15


def test_report_counts_units_three_ways():
    r = asperti.report(Ignores(), two_levels(40))
    assert r["inactive"] == 3 and r["used"] == 1 and r["active_burda"] == 1
    assert r["test_elbo"] < 0 and r["max_sum_error"] >= 0
    assert r["stats"].var_mu.shape == (4,) and r["use"].shape == (4,)


def test_zeroed_samples_decode_the_same_draws():
    full, zeroed = metrics.zeroed_samples(
        Ignores(), torch.tensor([False, True, True, True]), 6, seed=1
    )
    assert full.shape == (6, 1, 28, 28) and torch.equal(full, zeroed)


def test_give_up_reports_the_lowest_variance_and_when():
    units = [
        {"step": s, "value": {"mean_sigma2": [v, 0.01]}}
        for s, v in [(0, 1.0), (8, 0.3), (16, 0.9), (24, 0.97)]
    ]
    rows = asperti.give_up(units)
    assert rows[0] == {"unit": 0, "min_sigma2": 0.3, "min_step": 8, "final_sigma2": 0.97}
    assert rows[1]["final_sigma2"] == 0.01


def test_kl_parts_add_up_to_the_kl():
    from vaelab.elbo import kl_per_unit

    mu, logvar = torch.randn(50, 3), torch.randn(50, 3)
    mean_part, var_part = asperti.kl_parts(mu, logvar)
    torch.testing.assert_close(mean_part + var_part, kl_per_unit(mu, logvar).mean(0))
    torch.testing.assert_close(var_part, -0.5 * asperti.eq7(logvar.exp()).mean(0))


def test_conv_encoder_matches_figure_5_counts():
    rows = asperti.fig5_rows(models.ConvVAE(16))
    assert [r["paper"] for r in rows] == list(asperti.PAPER_FIG5)
    assert all(r["ours"] == r["paper"] for r in rows)
    assert rows[0]["output"] == (16, 14, 14) and rows[-1]["output"] == (16, 1, 1)
    assert [r["output"] for r in rows[8:10]] == [(32, 2, 2), (32, 2, 2)]


def test_report_gives_the_sum_error_of_inactive_units_or_nan_when_there_are_none():
    r = asperti.report(Ignores(), two_levels(40))
    assert r["max_sum_error_inactive"] == pytest.approx(0.0, abs=1e-6)
    all_used = asperti.report(models.MLPVAE(2, (8,)), two_levels(40))
    if all_used["inactive"] == 0:
        assert math.isnan(all_used["max_sum_error_inactive"])
    assert stats.nanmax([float("nan"), 0.2, 0.1]) == 0.2
    assert math.isnan(stats.nanmax([float("nan")]))


def test_inactive_along_training_and_when_the_count_settles():
    units = [
        {"step": s, "value": {"var_mu": v, "mean_sigma2": m}}
        for s, v, m in [
            (0, [0.001, 0.001], [1.0, 1.0]),  # both at the prior at initialisation
            (8, [0.5, 0.001], [0.1, 1.0]),
            (16, [0.5, 0.5], [0.1, 0.1]),
            (24, [0.5, 0.001], [0.1, 0.9]),
            (32, [0.5, 0.002], [0.1, 0.95]),
        ]
    ]
    steps, counts = asperti.inactive_along(units)
    assert steps == [0, 8, 16, 24, 32] and counts == [2, 1, 0, 1, 1]
    assert stats.settled_step(steps, counts) == 24
    assert stats.settled_step([0, 8], [3, 3]) == 0


def test_report_is_computed_once_and_reads_back_equal(monkeypatch):
    model, x = models.MLPVAE(4, (8,)), two_levels(40)
    first = asperti.report(model, x)
    monkeypatch.setattr(asperti, "_report", lambda *a, **k: pytest.fail("computed again"))
    again = asperti.report(model, x)
    assert again["inactive"] == first["inactive"] and again["test_elbo"] == first["test_elbo"]
    torch.testing.assert_close(again["stats"].var_mu, first["stats"].var_mu, rtol=0, atol=0)
    torch.testing.assert_close(again["use"], first["use"], rtol=0, atol=0)


def test_describe_gives_one_line_per_model_with_its_counts():
    config = asperti.fit_config("conv", epochs=200, seed=2)
    row = {"inactive": 10, "active_burda": 6, "used": 5, "test_elbo": -127.514}
    assert asperti.describe(config, row) == (
        "conv seed 2,  200 epochs: inactive 10, active (Burda)  6, used  5, test ELBO -127.51 nats"
    )


def test_describe_zeroing_names_the_effect_and_the_control():
    z = {"zeroed": 3, "max_pixel_diff": 0.00123, "mean_pixel_diff": 1e-5, "elbo_change": 0.01}
    z |= {"control_units": [0, 1, 2], "control_max_pixel_diff": 0.5, "control_elbo_change": -50}
    assert asperti.describe_zeroing(z) == (
        "3 units zeroed: max pixel change 1.23e-03, mean 1.00e-05, ELBO change +0.0100 nats | "
        "control (units [0, 1, 2]): max 0.500, ELBO change -50.00 nats"
    )


def test_zeroing_glue_takes_the_worst_seed_and_the_weakest_control():
    def z(zeroed, pixel, elbo, control):
        return {
            "zeroed": zeroed,
            "max_pixel_diff": pixel,
            "mean_pixel_diff": pixel / 10,
            "elbo_change": elbo,
            "control_elbo_change": control,
        }

    rows = [z(3, 0.002, 0.01, -197.0), z(2, 0.004, -0.03, -150.0), z(0, 0.0, 0.0, -90.0)]
    g = asperti.zeroing_glue(rows)
    assert g["zeroing_seeds"] == 2  # the third seed had no inactive unit to zero
    assert g["zeroing_max_pixel_diff"] == 0.004 and g["zeroing_mean_pixel_diff"] == 0.0004
    assert g["zeroing_elbo_change"] == 0.03
    assert g["control_elbo_change"] == -197.0  # the first seed's, as printed
    assert g["control_elbo_change_min"] == 150.0  # the weakest control of a zeroed seed
    assert "one_unit_control_min" not in g
    one = [z(3, 0.002, 0.01, -4.0), z(2, 0.004, -0.03, -2.5), z(0, 0.0, 0.0, -0.1)]
    g = asperti.zeroing_glue(rows, one_unit=one)
    assert g["one_unit_control_min"] == 2.5  # the weakest one-unit control of a zeroed seed
    assert g["one_unit_ratio"] == pytest.approx(2.5 / 0.03)  # against the largest change
    assert g["zeroing_elbo_change"] == 0.03  # the rest read the first rows
    nan_first = [z(3, 0.0, 0.01, float("nan")), z(2, 0.0, 0.01, -150.0)]
    assert asperti.zeroing_glue(nan_first)["control_elbo_change_min"] == 150.0
    with pytest.raises(ValueError):
        asperti.zeroing_glue(rows, one_unit=one[:2])


def test_dynamics_glue_counts_seeds_for_fig1_totals_units_for_fig11_and_pairs_fig2():
    from vaelab.papers.asperti import dynamics

    def row(start, end, inactive, fought, sph, fid):
        return {
            "sigma2_start": start,
            "sigma2_end": end,
            "inactive": inactive,
            "sphericity_sampling": sph,
            "sphericity_no_sampling": 0.5,
            "fid_sampling": fid,
            "fid_no_sampling": 90.0,
            "entropy_sampling": 3.2,
            "entropy_no_sampling": 3.0,
            "spread_start": 0.1,
            "spread_end": 1.0,
            "centre_end": 0.1,
            "codes_spread": 1.0,
            "codes_centre": 0.1,
        } | {f"fought_below_{bar:g}": fought * (bar >= 0.5) for bar in dynamics.FOUGHT_BARS}

    rows = [row(1.0, 0.05, 12, 3, 0.9, 130.0), row(1.0, 0.2, 10, 0, 0.7, 140.0)]
    rows.append(row(1.0, 1.5, 10, 1, 0.8, 150.0))
    g = dynamics.glue(rows)
    assert g["dynamics_seeds"] == 3 and g["fig1_strong_seeds"] == 1 and g["fig1_falls_seeds"] == 2
    assert g["fig11_inactive_total"] == 32 and g["fig11_fought_total"] == 4  # below 0.5
    assert g["fig11_fought_below_0.3"] == 0 and g["fig11_fought_below_0.7"] == 4
    assert g["sphericity_sampling_mean"] == pytest.approx(0.8)
    assert g["sphericity_sampling_sd"] == pytest.approx(0.1)
    assert g["fid_no_sampling_mean"] == 90.0 and g["fid_no_sampling_sd"] == 0.0
    assert g["fid_sampling_mean"] == pytest.approx(140.0)
    assert g["entropy_no_sampling_mean"] == pytest.approx(3.0) and g["entropy_sampling_sd"] == 0


def test_dynamics_fought_keeps_the_inactive_units_whose_sigma2_went_below_the_bar():
    from vaelab.papers.asperti import dynamics

    paths = [{"unit": j, "min_sigma2": low} for j, low in enumerate((0.1, 0.49, 0.5, 0.9))]
    mask = [True, False, True, True]
    # unit 1 went below the bar but is active; unit 2 reached the bar, not below it
    assert [p["unit"] for p in dynamics.fought(paths, mask)] == [0]
    with pytest.raises(ValueError):
        dynamics.fought(paths, mask[:3])


def test_dynamics_track_is_the_first_steps_plus_one_probes_of_fig1():
    from vaelab.papers.asperti import dynamics

    probes = [{"step": i, "value": {"logvar": np.full((10, 2), -float(i))}} for i in range(6)]
    fit = (None, {"hooks": {"track": probes}})
    assert [p["step"] for p in dynamics.track(fit, 3)] == [0, 1, 2, 3]
    assert dynamics.sigma2_track(fit, 3) == pytest.approx(np.exp(-np.arange(4.0)))


def test_dynamics_layout_is_the_spread_about_the_centroid_and_the_centroid_distance():
    from vaelab.papers.asperti import dynamics

    mu = [[1.0, 2.0], [3.0, 2.0], [2.0, 3.0], [2.0, 1.0]]  # a cross around (2, 2)
    spread, centre = dynamics.layout(mu)
    assert spread == pytest.approx(1.0) and centre == pytest.approx(math.sqrt(8))


def test_dynamics_glue_counts_the_seeds_whose_codes_end_centred_on_the_origin():
    from vaelab.papers.asperti import dynamics

    def row(spread_start, codes_spread, codes_centre):
        base = dict(sigma2_start=1.0, sigma2_end=0.01, inactive=10, fought=0)
        base |= {k: 0.0 for k in dynamics.PAIRED}
        base |= {f"fought_below_{bar:g}": 0 for bar in dynamics.FOUGHT_BARS}
        base |= dict(spread_end=1.0, centre_end=0.9)  # the ten digits: described, not judged
        return base | dict(
            spread_start=spread_start, codes_spread=codes_spread, codes_centre=codes_centre
        )

    rows = [row(0.01, 1.2, 0.1), row(0.02, 1.2, 0.6), row(0.005, 1.0, 0.49)]
    g = dynamics.glue(rows)
    # centred: the codes' centroid nearer to 0 than half their spread (seeds 0 and 2)
    assert g["fig1_centred_seeds"] == 2 and g["fig1_start_spread_max"] == 0.02


def test_dynamics_fought_by_bar_totals_every_bar_and_the_rule_judges_each():
    from vaelab.papers.asperti import dynamics

    paths = [{"unit": j, "min_sigma2": low} for j, low in enumerate((0.35, 0.45, 0.6, 0.9))]
    mask = [True, True, True, False]
    assert [len(dynamics.fought(paths, mask, bar)) for bar in (0.3, 0.4, 0.5, 0.7)] == [0, 1, 2, 3]
    totals = {0.3: 0, 0.4: 1, 0.5: 2, 0.7: 3}
    g = {f"fig11_fought_below_{bar:g}": n for bar, n in totals.items()}
    g |= {"fig11_inactive_total": 3, "dynamics_seeds": 3}
    assert dynamics.words_by_bar(g) == (
        "refuted below 0.3; partly confirmed below 0.4; partly confirmed below 0.5; "
        "confirmed below 0.7"
    )


def test_dynamics_configs_give_four_models_per_seed_and_seed_zero_keeps_its_cache_keys():
    from vaelab.papers.asperti import dynamics

    run = {"track_steps": 20, "batch_size": 128, "lr": 1e-3, "epochs": 2, "seeds": [0, 1]}
    got = dynamics.configs(run, images=1000, digits=(1, 2, 3))
    assert list(got) == [(f, s) for s in (0, 1) for f in dynamics.FIGURES]
    assert got[("fig11", 1)].seed == 1 and got[("sampling", 0)].model.latent_dim == 3
    # the chapter's single models before seeds: same configs, so the same cache entries
    kw = dict(seed=0, batch_size=128, lr=1e-3, hidden=asperti.DENSE_FIG2)
    old = asperti.fit_config("mlp", epochs=3, latent_dim=2, track=(1, 2, 3), **kw)
    assert cache.config_key(got[("fig1", 0)]) == cache.config_key(old)
    fig11 = asperti.runs("mlp", seeds=[0], data="mnist", epochs=2, batch_size=128, lr=1e-3)[0]
    assert cache.config_key(got[("fig11", 0)]) == cache.config_key(fig11)


def test_nearest_beta_is_one_when_swept_else_the_closest_positive_weight():
    assert asperti.nearest_beta([0.0, 0.25, 1.0, 4.0]) == 1.0
    assert asperti.nearest_beta([0.0, 0.3, 3.0]) == 0.3
    assert asperti.nearest_beta([0.5, 1.5]) == 0.5  # a tie goes to the smaller weight
    assert asperti.nearest_beta([0.0]) is None


def _tile(image, row, col, value=1.0):
    image[0, row : row + 4, col : col + 4] = value


def test_counters_count_tiles_at_each_threshold_and_on_a_bernoulli_sample():
    image = torch.zeros(1, 28, 28)
    _tile(image, 2, 2, 0.9)  # sure
    _tile(image, 2, 12, 0.6)  # above 0.5 only
    _tile(image, 14, 2, 0.4)  # above 0.3 only
    counters = asperti.counters(seed=0)
    assert list(counters) == ["pixel means > 0.3", "pixel means > 0.5", "pixel means > 0.7"] + [
        "a Bernoulli sample of each image",
        "pixel means > 0.5, components of 8+ pixels",
        "a Bernoulli sample, components of 8+ pixels",
    ]
    got = {label: count(image.unsqueeze(0)).item() for label, count in counters.items()}
    assert got["pixel means > 0.3"] == 3 and got["pixel means > 0.5"] == 2
    assert got["pixel means > 0.7"] == 1
    black = torch.zeros(2, 1, 28, 28)
    assert counters["a Bernoulli sample of each image"](black).tolist() == [0, 0]
    speckled = image.clone()
    speckled[0, 20, 20] = speckled[0, 25, 25] = 0.9  # two one-pixel specks
    assert counters["pixel means > 0.5"](speckled.unsqueeze(0)).item() == 4
    assert counters["pixel means > 0.5, components of 8+ pixels"](speckled.unsqueeze(0)).item() == 2
    noise = torch.full((50, 1, 28, 28), 0.05)  # about 39 lit pixels per image, scattered
    plain = counters["a Bernoulli sample of each image"](noise)
    filtered = counters["a Bernoulli sample, components of 8+ pixels"](noise)
    assert plain.float().mean() > 10 and filtered.sum() == 0
    again = asperti.counters(seed=0)["a Bernoulli sample of each image"](image.unsqueeze(0))
    assert again.item() == counters["a Bernoulli sample of each image"](image.unsqueeze(0)).item()


def test_counting_table_has_a_row_per_counter_and_columns_for_samples_and_reconstructions():
    images = {"conv": [torch.zeros(3, 1, 28, 28)] * 3, "mlp": [torch.zeros(3, 1, 28, 28)] * 3}
    fractions = asperti.over3_by_counter(images, seed=0)
    assert list(fractions) == list(asperti.counters(seed=0))
    assert fractions["pixel means > 0.5"] == {"conv": (0.0, 0.0), "mlp": (0.0, 0.0)}
    names = {"conv": "convolutional", "mlp": "dense"}
    text = asperti.counting_table(fractions, names)
    assert text.splitlines()[:3] == [
        "| counted on | convolutional | dense |",
        "|---|---:|---:|",
        "| pixel means > 0.3 | 0.000 ± 0.000 | 0.000 ± 0.000 |",
    ]
    text = asperti.counting_table(fractions, names, baseline=fractions)
    assert text.splitlines()[0] == (
        "| counted on | convolutional: samples | convolutional: reconstructions | dense: samples "
        "| dense: reconstructions |"
    )
    assert text.splitlines()[2].count("0.000 ± 0.000") == 4


def test_counting_measure_asks_for_samples_clearly_above_the_reconstructions():
    m = asperti.counting_measure(0.056, 3, sd=0.002, base=0.01, base_sd=0.001)
    assert (m["some"], m["every"], m["seeds"]) == (True, False, 3)
    assert m["counts"] == (
        "0.056 ± 0.002 of samples against 0.010 ± 0.001 of reconstructions, mean ± sd over "
        "seeds (2 sd: 0.004)"
    )
    assert asperti.counting_measure(0.2, 3, sd=0.01, base=0.05, base_sd=0.01)["every"] is True
    # above 10% but within the spread of the reconstructions' rate: neither
    m = asperti.counting_measure(0.43, 3, sd=0.03, base=0.40, base_sd=0.03)
    assert (m["some"], m["every"]) == (False, False)


def test_counting_words_apply_the_ledger_rule_at_each_counter_against_its_own_baseline():
    fractions = {
        "pixel means > 0.3": {"conv": (0.2, 0.01)},
        "pixel means > 0.5": {"conv": (0.05, 0.0)},
        "pixel means > 0.7": {"conv": (0.01, 0.0)},
    }
    baseline = {label: {"conv": (0.0, 0.0)} for label in fractions}
    baseline["pixel means > 0.7"] = {"conv": (0.02, 0.0)}
    assert asperti.counting_words(fractions, baseline, seeds=3) == (
        "confirmed counting pixel means > 0.3; partly confirmed counting pixel means > 0.5; "
        "refuted counting pixel means > 0.7"
    )


def test_the_eq7_rule_says_each_word_on_literal_counts_of_unused_units():
    rule = rules.match_rule("eq. (7) alone", "the whole KL")
    three = {"seeds": 3, "a_sd": 0.6, "b_sd": 0.6}
    same = rule({**three, "a_mean": 8.0, "b_mean": 9.0})  # 1.0 apart, 2 sd = 1.70
    assert (same.word, same.reason) == (
        "confirmed",
        "eq. (7) alone: 8.00 unused against 9.00 with the whole KL (2 sd: 1.70): as sparse, "
        "within the spread",
    )
    fewer = rule({**three, "a_mean": 4.0, "b_mean": 9.0})
    assert fewer.word == "partly confirmed" and fewer.reason.endswith("clearly less so")
    more = rule({**three, "a_mean": 14.0, "b_mean": 9.0})
    assert more.word == "partly confirmed" and more.reason.endswith("clearly more so")
    none = rule({**three, "a_mean": 0.67, "b_mean": 9.0})
    assert none.word == "refuted" and none.reason.endswith("under 1, no sparsity")
    assert rule({**three, "seeds": 2, "a_mean": 8.0, "b_mean": 9.0}).word == "not testable here"
    assert rule({**three, "a_mean": float("nan"), "b_mean": 9.0}).word == "not testable here"
    flat = rule({**three, "a_mean": 3.0, "b_mean": 0.33})  # the whole KL is not sparse either
    assert flat.word == "not testable here" and flat.reason.endswith("is not sparse either")


def test_eq7_alone_is_the_variance_part_with_mu_bounded_and_its_claim_reads_the_chapter_glue():
    config = asperti.fit_config("mlp", epochs=1, seed=0, **kl.EQ7_ONLY)
    assert (config.objective.kl_part, config.objective.mu_bound) == ("variance", 10.0)
    claim = claims.ledger(asperti.CLAIMS)["asperti.kl.eq7"]
    glued = {"unused_eq7_only": 0.0, "unused_eq7_only_sd": 0.0, "eq7_seeds": 3}
    glued |= {"unused_full_kl": 9.0, "unused_full_kl_sd": 1.0}
    assert claim.judge_glued(glued, {"seeds": [0, 1, 2]}).word == "refuted"
    assert claim.glue_key == "eq7_verdict" and "before" in claim.registered


def test_every_training_set_size_gets_the_same_steps_in_whole_epochs():
    assert size.epochs_for(4000, 12_800, 128) == 400  # 32 steps per epoch
    assert size.epochs_for(15_000, 12_800, 128) == 109  # 118 per epoch: 12,862 steps
    assert size.epochs_for(60_000, 12_800, 128) == 28  # 469 per epoch: 13,132 steps
    with pytest.raises(ValueError, match="must be positive, got 0, 100, 128"):
        size.epochs_for(0, 100, 128)
    run = types.SimpleNamespace(train_sizes=[500, 60_000], seeds=[0, 1], steps=64)
    run.batch_size, run.lr = 128, 1e-3
    configs = size.configs(run)
    assert sorted(configs) == [(500, 0), (500, 1), (60_000, 0), (60_000, 1)]
    first = configs[500, 0]
    assert (first.data.name, first.data.limit, first.train.epochs) == ("fashion-mnist", 500, 16)
    assert first.train.probe_indices == tuple(range(500))  # a set smaller than the probe
    assert configs[60_000, 0].train.probe_indices == tuple(range(asperti.PROBE_IMAGES))
    assert first.model.hidden == asperti.DENSE_MNIST
    assert len({cache.config_key(c) for c in configs.values()}) == 4
    with pytest.raises(ValueError, match="train_images takes a subset of Fashion-MNIST"):
        asperti.fit_config("mlp", epochs=1, seed=0, data="mnist", train_images=500)


def test_the_conv_model_gets_its_own_sizes_and_steps_and_none_when_its_steps_are_zero():
    run = types.SimpleNamespace(train_sizes=[500, 1000], seeds=[0, 1, 2], steps=64)
    run.batch_size, run.lr, run.conv_sizes, run.conv_steps = 128, 1e-3, [500, 60_000], 40
    dense, conv = size.configs(run), size.configs(run, kind="conv")
    assert sorted(conv) == [(n, s) for n in (500, 60_000) for s in (0, 1, 2)]
    assert conv[500, 0].model.kind == "conv" and dense[500, 0].model.kind == "mlp"
    assert (conv[500, 0].train.epochs, conv[60_000, 0].train.epochs) == (10, 1)  # 4 and 469 steps
    assert conv[500, 0].train.probe_indices == tuple(range(500))
    assert conv[60_000, 1].train.probe_indices == tuple(range(asperti.PROBE_IMAGES))
    run.conv_steps = 0  # no conv model at this profile
    assert size.configs(run, kind="conv") == {}
    run.conv_steps, run.conv_sizes = 40, [500]
    with pytest.raises(ValueError, match="need at least two training-set sizes, got \\[500\\]"):
        size.configs(run, kind="conv")
    with pytest.raises(ValueError, match="kind must be 'mlp' or 'conv', got 'cnn'"):
        size.configs(run, kind="cnn")
    claim = claims.ledger(asperti.CLAIMS)["asperti.conv.size"]
    glued = {"inactive_conv_fmnist": 3.0, "inactive_conv_fmnist_sd": 0.5}
    glued |= {"inactive_conv_fmnist_smallest": 7.0, "inactive_conv_fmnist_smallest_sd": 0.5}
    paper = {"seeds": [0, 1, 2], "conv_steps": 6400}
    assert claim.judge_glued(glued, paper).word == "refuted"
    skipped = claim.judge_glued(glued, {**paper, "conv_steps": 0})
    assert skipped.word == "not testable here" and skipped.reason.startswith("0 seed(s)")
    assert claim.glue_key == "conv_size_verdict" and "before" in claim.registered


def test_the_counts_by_size_and_the_conv_glue_read_the_ends_and_are_nan_without_conv_models():
    runs = [(n, s) for n in (4000, 60_000) for s in (0, 1, 2)]
    reports = {
        (n, s): {"inactive": n // 1000 + s, "used": 16 - s, "test_elbo": -90.0 - s} for n, s in runs
    }
    table = size.by_size(reports, [0, 1, 2])
    assert table["inactive"] == {4000: (5.0, 1.0), 60_000: (61.0, 1.0)}
    assert set(table) == set(size.LABELS) and table["used"][4000] == (15.0, 1.0)
    glued = size.conv_glue(table["inactive"], {4000: 3200, 60_000: 4800})
    assert glued["inactive_conv_fmnist"] == 61.0 and glued["inactive_conv_fmnist_smallest"] == 5.0
    assert (glued["conv_size_smallest"], glued["conv_settled_largest"]) == (4000, 4800)
    empty = size.conv_glue({}, {})
    assert set(empty) == set(glued) and all(math.isnan(v) for v in empty.values())


def test_the_mean_curves_by_size_give_the_settled_step_and_the_steps_per_epoch():
    curves = {(500, 0): ([8, 16, 24], [4, 6, 6]), (500, 1): ([8, 16, 24], [2, 4, 4])}
    curves |= {(1000, 0): ([8, 16, 24], [1, 1, 1]), (1000, 1): ([8, 16, 24], [1, 1, 2])}
    means, settled, per_epoch = size.mean_curves(curves, [0, 1], 24, 128)
    assert means[500] == ([8, 16, 24], [3.0, 5.0, 5.0]) and settled == {500: 16, 1000: 24}
    assert per_epoch == {500: 4, 1000: 8} and size.steps_per_epoch(128, 128) == 1
    assert size.mean_curves({}, [0, 1], 24, 128) == ({}, {}, {})


def test_the_mean_count_curve_stops_at_the_common_steps():
    curves = [([8, 16, 24, 32], [4, 6, 8, 8]), ([8, 16, 24], [2, 4, 6])]
    assert size.mean_curve(curves, 24) == ([8, 16, 24], [3.0, 5.0, 7.0])
    assert size.mean_curve(curves, 16) == ([8, 16], [3.0, 5.0])
    with pytest.raises(ValueError, match="not probed at the same steps"):
        size.mean_curve([([8, 16], [1, 2]), ([8, 24], [1, 2])], 24)


def test_the_same_count_rule_says_each_word_on_literal_counts():
    rule = rules.same_rule("largest set against smallest")
    three = {"seeds": 3, "a_sd": 0.58, "b_sd": 0.58}
    assert rule({**three, "a_mean": 10.0, "b_mean": 10.67}).word == "confirmed"
    near = rule({**three, "a_sd": 0.0, "b_sd": 0.0, "a_mean": 10.0, "b_mean": 10.67})
    assert near.word == "partly confirmed"
    assert near.reason == (
        "largest set against smallest: 10.00 against 10.67, |a - b| = 0.67 (2 sd: 0.00): "
        "beyond the spread, within one unit"
    )
    noisy = rule({"seeds": 3, "a_sd": 2.0, "b_sd": 2.0, "a_mean": 9.0, "b_mean": 5.0})
    assert noisy.word == "partly confirmed"  # 4 units apart: noisy seeds do not make it the same
    assert noisy.reason.endswith("within the spread, beyond one unit")
    far = rule({**three, "a_mean": 6.0, "b_mean": 10.67})
    assert far.word == "refuted" and far.reason.endswith("beyond the spread and one unit")
    assert rule({**three, "seeds": 2, "a_mean": 6.0, "b_mean": 10.67}).word == "not testable here"


def _unit_report(var_mu, sigma2, use, inactive):
    unit = metrics.UnitStats(
        torch.tensor(var_mu), torch.tensor(sigma2), torch.zeros(len(use)), torch.zeros(len(use))
    )
    return {"stats": unit, "use": torch.tensor(use), "inactive": inactive}


def test_the_eq7_glue_counts_unused_units_and_where_they_sit():
    a = _unit_report([0.5, 2.0, 0.7], [0.95, 0.01, 0.9], [0.0, 30.0, 0.05], inactive=0)
    b = _unit_report([0.6, 1.5, 1.0], [0.99, 0.02, 0.03], [0.01, 20.0, 9.0], inactive=1)
    full = _unit_report([0.0, 1.0, 1.0], [1.0, 0.01, 0.01], [0.0, 9.0, 9.0], inactive=1)
    out = kl.eq7_glue([a, b], [full, full])
    assert (out["unused_eq7_only"], out["unused_eq7_only_sd"]) == (1.5, pytest.approx(0.7071, 1e-3))
    assert (out["unused_full_kl"], out["unused_full_kl_sd"]) == (1.0, 0.0)
    assert out["inactive_eq7_only"] == 0.5 and out["eq7_mu2_max"] == 2.0
    assert (out["eq7_bound"], out["unused_eq7_only_seeds"], out["unused_full_kl_seeds"]) == (
        "above",
        "2, 1",
        "1, 1",
    )
    assert out["eq7_unused_var_mu_min"] == 0.5
    assert out["eq7_unused_sigma2_min"] == pytest.approx(0.9)
    none = kl.eq7_glue([_unit_report([1.0], [0.01], [9.0], inactive=0)], [])
    assert math.isnan(none["unused_full_kl"]) and math.isnan(none["eq7_unused_var_mu_min"])
    assert (none["eq7_bound"], none["unused_full_kl_seeds"]) == ("below", "none")


def test_the_count_at_every_pair_of_thresholds_and_the_words_of_its_rule():
    unit = metrics.UnitStats(
        torch.tensor([0.0005, 0.005, 0.05, 1.0]),
        torch.tensor([0.95, 0.6, 0.8, 0.01]),
        torch.zeros(4),
        torch.zeros(4),
    )
    grid = metrics.inactive_grid([unit, unit, unit], (0.001, 0.01, 0.1), (0.5, 0.9))
    assert grid[0.01, 0.5] == [2, 2, 2] and grid[0.1, 0.5] == [3, 3, 3]
    assert grid[0.001, 0.9] == [1, 1, 1] and grid[0.1, 0.9] == [1, 1, 1]
    claim = claims.ledger(asperti.CLAIMS)["asperti.conv_mnist.count"]  # the paper's 3
    budget = {"settled_step": 400, "last_step": 800}  # settled within the run
    out = criteria.judged(grid, claim, budget)
    assert out[0.1, 0.5] == (3.0, 0.0, "confirmed")
    late = criteria.judged(grid, claim, {"settled_step": 800, "last_step": 800})
    assert {word for _, _, word in late.values()} == {"not testable here"}
    assert out[0.001, 0.9][2] == "partly confirmed"  # 1 against 3: within near = 4
    text = criteria.table(out)
    assert text.splitlines()[0] == "| Var μ < | E σ² > 0.5 | E σ² > 0.9 |"
    assert "| 0.1 | 3.0 ± 0.0 (confirmed) | 1.0 ± 0.0 (partly confirmed) |" in text
    assert criteria.words(out) == "partly confirmed at 4 of 6 threshold pairs, confirmed at 2"


def test_a_two_setting_claim_at_every_pair_of_thresholds():
    def unit(var_mu):
        return metrics.UnitStats(
            torch.tensor(var_mu), torch.tensor([0.95, 0.6, 0.8, 0.01]), None, None
        )

    small = metrics.inactive_grid([unit([0.0005, 0.005, 0.05, 1.0])] * 3, (0.001, 0.1), (0.5,))
    large = metrics.inactive_grid([unit([0.0005, 0.5, 0.5, 1.0])] * 3, (0.001, 0.1), (0.5,))
    claim = claims.ledger(asperti.CLAIMS)["asperti.dense.size"]  # largest against smallest
    out = criteria.judged_pair(large, small, claim)
    assert out[0.001, 0.5] == (1.0, 0.0, 1.0, 0.0, "confirmed")
    assert out[0.1, 0.5] == (1.0, 0.0, 3.0, 0.0, "refuted")  # 2 units apart, no spread
    text = criteria.table(out)
    assert "| 0.1 | 1.0 ± 0.0 vs 3.0 ± 0.0 (refuted) |" in text
    assert criteria.words(out) == "confirmed at 1 of 2 threshold pairs, refuted at 1"
    with pytest.raises(ValueError, match="the two grids differ in their threshold pairs"):
        criteria.judged_pair(large, {(0.001, 0.5): [1, 1, 1]}, claim)
    assert criteria.distinct(out) == 2
    assert criteria.differing(out, (0.001, 0.5)) == "Var μ < 0.1, E σ² > 0.5: refuted"
    assert criteria.differing(out, (0.1, 0.5)) == "Var μ < 0.001, E σ² > 0.5: confirmed"
    assert criteria.differing({(0.01, 0.5): (1.0, 0.0, "confirmed")}, (0.01, 0.5)) == "none"
    with pytest.raises(ValueError, match="no threshold pair was judged"):
        criteria.words({})


def test_size_thresholds_judge_the_largest_set_against_the_smallest_at_every_pair():
    def unit(var_mu):
        sigma2 = torch.tensor([0.95, 0.6, 0.8, 0.01])
        return {"stats": metrics.UnitStats(torch.tensor(var_mu), sigma2, None, None)}

    reports = {(4000, s): unit([0.0005, 0.005, 0.05, 1.0]) for s in (0, 1, 2)}
    reports |= {(60000, s): unit([0.0005, 0.5, 0.5, 1.0]) for s in (0, 1, 2)}
    reports |= {(15000, s): unit([1.0] * 4) for s in (0, 1, 2)}  # the middle size: not read
    claim = claims.ledger(asperti.CLAIMS)["asperti.dense.size"]
    out = size.thresholds(reports, [0, 1, 2], claim)
    assert len(out) == len(criteria.VAR_MAXES) * len(criteria.SIGMA2_MINS)
    assert out[0.1, 0.5] == (1.0, 0.0, 3.0, 0.0, "refuted")
    assert out[0.001, 0.5][-1] == "confirmed"
    assert size.thresholds({}, [0, 1, 2], claim) == {}
    with pytest.raises(ValueError, match="need at least two training-set sizes, got \\[4000\\]"):
        size.thresholds({k: v for k, v in reports.items() if k[0] == 4000}, [0, 1, 2], claim)


def test_the_gaussian_decoders_are_the_dense_mnist_model_with_another_likelihood():
    run = types.SimpleNamespace(epochs=3, seeds=[0, 1, 2], batch_size=128, lr=1e-3)
    out = likelihood.configs(run)
    assert list(out) == ["Gaussian, variance 1/2", "Gaussian, learned variance"]
    fixed, learned = out["Gaussian, variance 1/2"][0], out["Gaussian, learned variance"][2]
    assert (fixed.model.likelihood, fixed.model.obs_var) == ("gaussian", 0.5)
    assert (learned.model.obs_var, learned.seed, learned.model.hidden) == (0.0, 2, (256, 32, 24))
    bernoulli = asperti.runs("mlp", data="mnist", epochs=3, seeds=[0], batch_size=128, lr=1e-3)
    assert fixed.train == bernoulli[0].train  # the same training, probes included
    reports = {label: [{"inactive": 12}, {"inactive": 13}] for label in out}
    model = types.SimpleNamespace(obs_logvar=torch.tensor(math.log(0.02)))
    models_ = {"Gaussian, learned variance": [model, model]}
    glued = likelihood.glue(reports, models_, [{"inactive": 12}, {"inactive": 12}])
    assert glued["inactive_dense_mnist_gaussian"] == 12.5
    assert glued["inactive_dense_mnist_gaussian_learned_sd"] == pytest.approx(0.7071, 1e-3)
    assert glued["gaussian_learned_var"] == pytest.approx(0.02)
    assert glued["gaussian_weight_ratio"] == pytest.approx(25.0)
    assert glued["gaussian_vs_bernoulli"] == "within twice the seeds' spread of"
    fewer = likelihood.glue(reports, models_, [{"inactive": 16}, {"inactive": 16}])
    assert fewer["gaussian_vs_bernoulli"] == "below"
    more = likelihood.glue(reports, models_, [{"inactive": 2}, {"inactive": 2}])
    assert more["gaussian_vs_bernoulli"] == "above"


def test_a_run_probes_its_units_when_asked_and_the_dense_mnist_ones_always():
    kw = dict(data="mnist", epochs=2, seeds=[0], batch_size=128, lr=1e-3)
    assert asperti.runs("mlp", **kw)[0].train.probe_indices  # Fig. 11's models
    assert not asperti.runs("conv", **kw)[0].train.probe_indices
    probed = asperti.runs("conv", probe=True, **kw)[0]
    assert probed.train.probe_indices == tuple(range(asperti.PROBE_IMAGES))
    assert cache.config_key(probed) != cache.config_key(asperti.runs("conv", **kw)[0])


def test_a_count_is_judged_only_where_it_has_settled_within_the_budget():
    rule = rules.settled(claims.count_rule(8, near=4))
    assert rule.inputs == ("mean", "sd", "seeds", "settled_step", "last_step")
    assert set(rule.examples) == set(claims.WORDS)
    count = {"mean": 10.67, "sd": 1.15, "seeds": 3}
    settled = rule({**count, "settled_step": 3584, "last_step": 6400})  # 0.56 of the run
    assert settled.word == "partly confirmed"
    assert settled.reason.startswith("10.7 ± 1.1 over 3 seeds vs 8")
    late = rule({**count, "settled_step": 4900, "last_step": 6400})  # 0.77: under a quarter left
    assert late.word == "not testable here"
    assert late.reason == (
        "the mean count still changes at step 4900 of 6400 (after 75% of the run): "
        "not settled within the budget"
    )
    moving = rule({"mean": 1.0, "sd": 0.0, "seeds": 3, "settled_step": 960, "last_step": 960})
    assert moving.word == "not testable here" and "step 960 of 960" in moving.reason
    assert "not testable if the mean count still changes after 75% of the run" in rule.text
    with pytest.raises(ValueError, match="share must be in"):
        rules.settled(claims.count_rule(8, near=4), share=1.5)


def test_longer_gives_each_seeds_change_in_count_and_a_line_per_seed():
    short = [{"inactive": 11}, {"inactive": 10}, {"inactive": 12}]
    long = [{"inactive": 11}, {"inactive": 13}, {"inactive": 10}]
    drifts, lines = asperti.longer([0, 1, 2], short, long, epochs=200, long_epochs=400)
    assert drifts == [0, 3, 2]
    assert lines.splitlines() == [
        "seed 0: 11 inactive after 200 epochs, 11 after 400",
        "seed 1: 10 inactive after 200 epochs, 13 after 400",
        "seed 2: 12 inactive after 200 epochs, 10 after 400",
    ]
    with pytest.raises(ValueError, match="3 seeds, 3 short runs and 2 longer runs"):
        asperti.longer([0, 1, 2], short, long[:2], epochs=200, long_epochs=400)


def test_filtered_shares_name_each_models_share_on_the_bernoulli_and_size_filtered_counters():
    images = {"conv": [torch.zeros(2, 1, 28, 28)], "mlp": [torch.zeros(2, 1, 28, 28)]}
    fractions = asperti.over3_by_counter(images, seed=0)
    fractions["a Bernoulli sample, components of 8+ pixels"]["conv"] = (0.25, 0.1)
    shares = asperti.filtered_shares(fractions)
    assert shares == {
        "conv_over3_bernoulli": 0.0,
        "mlp_over3_bernoulli": 0.0,
        "conv_over3_big": 0.0,
        "mlp_over3_big": 0.0,
        "conv_over3_bernoulli_big": 0.25,
        "mlp_over3_bernoulli_big": 0.0,
    }
