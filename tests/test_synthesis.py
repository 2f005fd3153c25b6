import copy

import pytest
import torch

from vaelab import cache, claims, metrics
from vaelab.book import profiles
from vaelab.papers import synthesis


@pytest.fixture
def smoke():
    return profiles.resolve("smoke", section="synthesis")


def test_probes_are_n20_seed0_per_data_set_and_posterior_with_a_heldout_curve(smoke):
    probes = synthesis.probe_configs(smoke)
    assert set(probes) == {(d, p) for d in synthesis.DATASETS for p in synthesis.POSTERIORS}
    fm = probes["fashion-mnist", "diagonal"]
    assert (fm.model.latent_dim, fm.seed, fm.train.epochs) == (20, 0, smoke.probe_epochs[0])
    assert fm.data.limit == smoke.train_limit and fm.train.heldout == synthesis.HELDOUT
    mn = probes["mnist", "isotropic"]
    assert (mn.data.name, mn.data.limit, mn.train.epochs) == ("mnist", None, 3)
    assert mn.train.precision == "fp32" and mn.model.posterior == "isotropic"


def test_grid_epochs_is_the_later_convergence_of_the_two_posteriors():
    flat_at_3 = [10.0, 5.0, 4.0, 3.9, 3.8, 3.8]
    flat_at_2 = [10.0, 4.0, 3.9, 3.9, 3.9, 3.9]
    out = synthesis.grid_epochs({"isotropic": flat_at_3, "diagonal": flat_at_2}, tol=0.5, window=2)
    assert out == {"epochs": 3, "converged": {"isotropic": 3, "diagonal": 2}}
    still_falling = [10.0, 8.0, 6.0, 4.0]
    out = synthesis.grid_epochs(
        {"isotropic": still_falling, "diagonal": flat_at_2}, tol=0.5, window=2
    )
    assert out == {"epochs": 4, "converged": {"isotropic": None, "diagonal": 2}}


def test_grid_holds_every_data_set_posterior_dimension_and_seed(smoke):
    configs = synthesis.grid_configs(smoke, {"fashion-mnist": 4, "mnist": 7})
    assert len(configs) == 2 * 2 * len(smoke.latent_dims) * len(smoke.seeds)
    cell = configs["mnist", "diagonal", 20, 0]
    assert cell.train.epochs == 7 and cell.model.latent_dim == 20
    assert cell == synthesis.fit_config(smoke, "mnist", "diagonal", 20, seed=0, epochs=7)
    assert cache.config_key(cell) != cache.config_key(configs["mnist", "isotropic", 20, 0])


@pytest.fixture(scope="module")
def tiny_grid():
    """Two tiny fitted models (isotropic, diagonal) and the Fashion-MNIST instruments."""
    run = profiles.resolve(
        "smoke",
        section="synthesis",
        train_limit=1000,
        test_limit=300,
        generated=200,
        iwae_images=20,
    )
    inst = synthesis.instruments(run)["fashion-mnist"]
    fits = {}
    for post in synthesis.POSTERIORS:
        config = synthesis.fit_config(run, "fashion-mnist", post, 8, seed=0, epochs=2)
        fits[post] = (config, *cache.fit(config))
    return run, inst, fits


def test_instruments_hold_test_images_a_classifier_and_its_reference_features(tiny_grid):
    run, inst, _ = tiny_grid
    assert len(inst.x_test) == run.test_limit and inst.reference.shape == (run.test_limit, 128)
    assert 0.1 < inst.accuracy <= 1 and len(inst.key) == 20


def test_evaluate_gives_the_rows_metrics_and_is_memoized(tiny_grid):
    run, inst, fits = tiny_grid
    config, model, history = fits["diagonal"]
    row = synthesis.evaluate(model, config, history, inst, run)
    assert (row["data"], row["posterior"], row["latent_dim"], row["seed"]) == (
        "fashion-mnist",
        "diagonal",
        8,
        0,
    )
    assert row["epochs"] == 2 and row["heldout_loss"] == history["heldout_loss"]
    assert row["iwae"] >= row["test_elbo"] - 5 and row["test_elbo"] < 0
    assert row["fid"] > 0 and 0 <= row["class_entropy"] <= 3.33
    for name in ("burda", "bonheme", "lucas"):
        assert 0 <= row["active"][name] <= 8
    assert row["active"]["bonheme"] <= row["active"]["burda"]  # 0.1 is stricter than 0.01
    assert len(row["var_mu_sorted"]) == 8 and row["var_mu_sorted"] == sorted(
        row["var_mu_sorted"], reverse=True
    )
    sens = row["sensitivity"]
    assert len(sens["var_mu"]) == len(synthesis.THRESHOLDS) == len(sens["kl"])
    assert sens["var_mu"] == sorted(sens["var_mu"], reverse=True)  # counts fall as t rises
    assert row is not synthesis.evaluate(model, config, history, inst, run)
    assert row == synthesis.evaluate(model, config, history, inst, run)


def test_an_isotropic_unit_cannot_collapse_while_another_is_used(tiny_grid):
    # one shared sigma^2 < 1 gives every unit KL > 0 on every image: Lucas counts them all
    run, inst, fits = tiny_grid
    config, model, history = fits["isotropic"]
    row = synthesis.evaluate(model, config, history, inst, run)
    assert row["active"]["lucas"] == 8


def test_pruning_a_unit_the_decoder_ignores_changes_nothing(tiny_grid):
    run, inst, fits = tiny_grid
    config, model, _ = fits["diagonal"]
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.mu.weight[1:] *= 20  # units 1.. clearly active
        unit0 = (
            model.mu.weight[0],
            model.mu.bias[0],
            model.logvar.weight[0],
            model.logvar.bias[0],
            model.decoder[0][0].weight[:, 0],
        )
        for p in unit0:
            p.zero_()  # unit 0: mu = 0, sigma^2 = 1, unread by the decoder
    assert synthesis.prune(model, inst, run, threshold=1e9)["inactive"] == 8
    out = synthesis.prune(model, inst, run)
    assert out["inactive"] == 1 and out["elbo_change"] == 0.0 and out["max_pixel_diff"] == 0.0
    assert out["fid_zeroed"] == pytest.approx(out["fid"], rel=1e-9)
    assert out["control_elbo_change"] != 0  # zeroing a unit the decoder reads changes the ELBO


def test_intrinsic_dim_is_the_mean_active_count_of_the_largest_diagonal_model():
    rows = [
        {
            "data": "mnist",
            "posterior": p,
            "latent_dim": n,
            "seed": s,
            "active": {"burda": a, "bonheme": a // 2},
        }
        for p, n, s, a in (
            ("diagonal", 800, 0, 14),
            ("diagonal", 800, 1, 15),
            ("diagonal", 200, 0, 99),
            ("isotropic", 800, 0, 700),
        )
    ]
    assert synthesis.intrinsic_dim(rows, "mnist", definition="burda") == pytest.approx(14.5)
    assert synthesis.intrinsic_dim(rows, "mnist") == pytest.approx(7.0)  # Bonheme & Grzes
    with pytest.raises(ValueError, match="no diagonal runs of fashion-mnist"):
        synthesis.intrinsic_dim(rows, "fashion-mnist")


def _rows():
    rows = []
    for post, fids in (
        ("isotropic", {20: 10.0, 200: 20.0, 800: 30.0}),
        ("diagonal", {20: 10.0, 200: 10.5, 800: 11.0}),
    ):
        for n, fid in fids.items():
            for seed, shift in ((0, -1.0), (1, 1.0)):
                active = {"burda": min(n, 15) + seed, "bonheme": min(n, 12), "lucas": n}
                rows.append(
                    {
                        "data": "fashion-mnist",
                        "posterior": post,
                        "latent_dim": n,
                        "seed": seed,
                        "fid": fid + shift,
                        "active": active,
                    }
                )
    return rows


def test_summary_takes_mean_and_sd_over_seeds_of_a_metric_or_an_active_count():
    rows = _rows()
    assert synthesis.summary(rows, "fid", "fashion-mnist", "isotropic") == {
        20: (10.0, pytest.approx(2**0.5)),
        200: (20.0, pytest.approx(2**0.5)),
        800: (30.0, pytest.approx(2**0.5)),
    }
    assert synthesis.summary(rows, "active.burda", "fashion-mnist", "diagonal")[800] == (
        15.5,
        pytest.approx(0.5**0.5),
    )


def test_fid_ratio_and_saturation_verdicts():
    rows = _rows()
    assert synthesis.fid_ratio(rows, "fashion-mnist", "isotropic") == pytest.approx(3.0)
    assert synthesis.fid_ratio(rows, "fashion-mnist", "diagonal") == pytest.approx(1.1)
    sat = synthesis.saturation(synthesis.summary(rows, "active.burda", "fashion-mnist", "diagonal"))
    assert sat == {"largest": 800, "count": 15.5, "previous": 15.5, "saturates": True}
    grows = synthesis.saturation({10: (9.0, 0.0), 100: (60.0, 0.0), 800: (300.0, 0.0)})
    assert grows["saturates"] is False


def _q1_glue(short: str, saturating: tuple) -> dict:
    """Question 1's glued words, with the definitions in `saturating` saturating."""
    glued = {"previous_n": 400, "largest_n": 800}
    for d in ("burda", "bonheme", "lucas"):
        glued[f"q1_{short}_{d}"] = "saturates" if d in saturating else "does not saturate"
    return glued


def test_the_saturation_claims_judge_question_1_over_the_three_definitions():
    ledger = claims.ledger(synthesis.CLAIMS)
    claim, three = ledger["synthesis.saturation.fmnist"], {"seeds": [0, 1, 2]}
    every = ("burda", "bonheme", "lucas")
    assert claim.judge_glued(_q1_glue("fmnist", every), three).word == claims.CONFIRMED
    verdict = claim.judge_glued(_q1_glue("fmnist", ("bonheme",)), three)  # the published words
    assert verdict.word == claims.PARTLY
    assert verdict.reason.endswith(
        "(n = 400 to 800: saturates by Bonheme & Grześ; not by Burda et al., nor by Lucas et al.)"
    )
    mnist = ledger["synthesis.saturation.mnist"]
    verdict = mnist.judge_glued(_q1_glue("mnist", ()), three)
    assert verdict.word == claims.REFUTED and "saturates by no definition; not by" in verdict.reason
    two = claim.judge_glued(_q1_glue("fmnist", every), {"seeds": [0, 1]})
    assert two.word == claims.UNTESTABLE
    odd = _q1_glue("fmnist", every) | {"q1_fmnist_lucas": "maybe"}
    with pytest.raises(ValueError, match="must be 'saturates' or 'does not saturate'"):
        claim.judge_glued(odd, three)
    assert claim.chapter == mnist.chapter == "synthesis/01_active_units_vs_dimension"
    assert "after the per-definition words were published" in claim.registered


def test_measure_epochs_trains_the_probes_and_reads_their_heldout_curves(smoke):
    out = synthesis.measure_epochs(smoke)
    assert set(out) == set(synthesis.DATASETS)
    fm = out["fashion-mnist"]
    assert set(fm["curves"]) == set(synthesis.POSTERIORS)
    assert all(len(c) == smoke.probe_epochs[0] for c in fm["curves"].values())
    expected = synthesis.grid_epochs(fm["curves"], tol=smoke.tolerance, window=smoke.window)
    assert {k: fm[k] for k in ("epochs", "converged")} == expected
    assert fm["train_seconds"] > 0


def test_retrain_configs_put_both_posteriors_at_the_rounded_intrinsic_dimension(smoke):
    configs = synthesis.retrain_configs(smoke, {"mnist": 7}, {"mnist": 14.6})
    assert set(configs) == {("mnist", p, 15, s) for p in synthesis.POSTERIORS for s in smoke.seeds}
    assert configs["mnist", "diagonal", 15, 0].train.epochs == 7


def test_with_last_gain_is_the_fall_of_the_heldout_loss_over_the_last_window():
    rows = [{"heldout_loss": [10.0, 9.0, 8.9, 8.85]}, {"heldout_loss": [10.0, 9.0]}]
    out = synthesis.with_last_gain(rows, 2)
    assert out[0]["last_gain"] == pytest.approx(0.15) and out[1]["last_gain"] == 1.0
    assert "last_gain" not in rows[0]


def test_posterior_verdict_reads_the_two_fid_ratios():
    assert synthesis.posterior_verdict(3.0, 1.05) == "confirmed"
    assert synthesis.posterior_verdict(3.0, 1.5) == "partly confirmed"
    assert synthesis.posterior_verdict(1.05, 1.0) == "refuted"
    assert synthesis.posterior_verdict(1.5, 2.0) == "refuted"


def test_panels_group_rows_by_data_set_posterior_and_definition():
    rows = _rows()
    for r in rows:
        r["sensitivity"] = {"var_mu": [r["latent_dim"], 1], "kl": [r["latent_dim"], 0]}
    active = synthesis.active_panels(rows)
    assert list(active) == ["fashion-mnist"]
    assert active["fashion-mnist"]["diagonal, Burda et al."][800] == (15.5, pytest.approx(0.5**0.5))
    metric = synthesis.metric_panels(rows, {"fid": "FID"})
    assert metric["FID, fashion-mnist"]["isotropic"][20] == (10.0, pytest.approx(2**0.5))
    sens = synthesis.sensitivity_panels(rows, 800)
    assert sens["fashion-mnist: Var_x mu_j > t"]["isotropic"] == [800.0, 1.0]
    assert sens["fashion-mnist: KL > t (Lucas et al.)"]["diagonal"] == [800.0, 0.0]


def test_glue_table_gives_the_seed_means_of_the_quoted_metrics():
    rows = _rows()
    for r in rows:
        r.update(test_elbo=-100.0 - r["seed"], iwae=-90.0, class_entropy=3.0)
    table = synthesis.glue_table(rows, (20, 800, 5))
    assert set(table) == {("fashion-mnist", p, n) for p in synthesis.POSTERIORS for n in (20, 800)}
    cell = table["fashion-mnist", "diagonal", 800]
    assert cell["fid"] == 11.0 and cell["test_elbo"] == -100.5 and cell["active_burda"] == 15.5


def _tiny_run():
    """A one-dimension grid small enough for a test."""
    sizes = dict(latent_dims=[3], probe_epochs=[1, 1], train_limit=500, test_limit=200)
    return profiles.resolve("smoke", section="synthesis", generated=100, iwae_images=10, **sizes)


def test_load_grid_returns_every_run_evaluated_in_grid_order():
    run = _tiny_run()
    grid = synthesis.load_grid(run)
    assert grid.epochs == {"fashion-mnist": 1, "mnist": 1}
    assert [(r["data"], r["posterior"], r["latent_dim"]) for r in grid.rows] == [
        (d, p, 3) for d in synthesis.DATASETS for p in synthesis.POSTERIORS
    ]
    assert set(grid.instruments) == set(synthesis.DATASETS) and len(grid.models) == 4
    assert grid.models[0].latent_dim == 3 and grid.configs[0].model.posterior == "isotropic"


def test_prune_rows_carry_their_place_in_the_grid():
    config = synthesis.fit_config(
        profiles.resolve("smoke", section="synthesis"), "mnist", "diagonal", 20, seed=1, epochs=2
    )
    row = synthesis.place(config, {"elbo_change": 0.5})
    assert row == {
        "data": "mnist",
        "posterior": "diagonal",
        "latent_dim": 20,
        "seed": 1,
        "elbo_change": 0.5,
    }


def test_compare_puts_the_small_models_beside_the_largest_ones():
    rows = _rows()
    for r in rows:
        r.update(test_elbo=-100.0, iwae=-95.0, class_entropy=3.0)
    small = [
        dict(r, latent_dim=16, test_elbo=-98.0, fid=8.0) for r in rows if r["latent_dim"] == 20
    ]
    out = synthesis.compare(small, rows, 800)
    assert set(out) == {("fashion-mnist", p) for p in synthesis.POSTERIORS}
    iso = out["fashion-mnist", "isotropic"]
    assert iso["n_small"] == 16 and iso["test_elbo"] == (-98.0, -100.0)
    assert iso["fid"] == (8.0, 30.0)
    assert set(synthesis.COMPARED) <= set(iso)


def test_pruned_and_retrained_rows_of_a_grid():
    run = _tiny_run()
    grid = synthesis.load_grid(run)
    pruned = synthesis.pruned_rows(grid, run)
    assert [(r["data"], r["posterior"]) for r in pruned] == [
        (d, "diagonal") for d in synthesis.DATASETS
    ]
    assert all(0 <= r["inactive"] <= 3 for r in pruned)
    dims, retrained = synthesis.retrained_rows(grid, run)
    assert set(dims) == set(synthesis.DATASETS)
    assert [r["latent_dim"] for r in retrained] == [
        max(1, round(dims[r["data"]])) for r in retrained
    ]
    assert len(retrained) == 2 * len(synthesis.POSTERIORS)


def test_inactive_mask_marks_the_units_whose_mu_does_not_vary(tiny_grid):
    run, inst, fits = tiny_grid
    model = copy.deepcopy(fits["diagonal"][1])
    with torch.no_grad():
        model.mu.weight[1:] *= 20
        model.mu.weight[0].zero_()  # unit 0: mu is its bias for every image
    mask = metrics.inactive_mask(model, inst.x_test)
    assert mask.tolist() == [True] + [False] * 7
    assert metrics.inactive_mask(model, inst.x_test, 1e9).all()


def test_question_glue_names_each_data_set_posterior_and_definition():
    rows = _rows()
    for r in rows:
        r["heldout_loss"] = [10.0, 9.0, 8.5]
    rows = synthesis.with_last_gain(rows, 1)
    glued = synthesis.question_glue(rows, 800)
    assert glued["intrinsic_dim_fmnist"] == 12.0  # Bonheme & Grzes at n = 800, mean of seeds
    assert glued["fid_ratio_isotropic"] == pytest.approx(3.0)  # n = 800 over n = 20
    assert glued["fid_ratio_diagonal"] == pytest.approx(1.1)
    assert (glued["reference_n"], glued["previous_n"], glued["largest_n"]) == (20, 200, 800)
    assert glued["q1_fmnist_burda"] == "saturates" and glued["prev_fmnist_burda"] == 15.5
    assert glued["q1_fmnist_lucas"] == "does not saturate" and glued["prev_fmnist_lucas"] == 200
    assert glued["gain_fmnist_diagonal_ref"] == 0.5 and "gain_fmnist_isotropic_largest" in glued
    no20 = [r for r in rows if r["latent_dim"] != 20]  # a grid without the probes' n
    glued = synthesis.question_glue(no20, 800)
    assert glued["reference_n"] == 200 and glued["fid_ratio_isotropic"] == pytest.approx(1.5)
    assert not any(k.endswith(("_20", "_800")) for k in glued)
    assert not any("mnist_" in k and "fmnist" not in k for k in glued)  # only the data it has


def test_the_reference_dimension_is_the_probes_n_else_the_smallest():
    assert synthesis.reference_dim([2, 20, 800]) == synthesis.PROBE_DIM == 20
    assert synthesis.reference_dim([800, 3, 30]) == 3
    with pytest.raises(ValueError, match="no latent dimension"):
        synthesis.reference_dim([])


def _pruned():
    rows = _rows()
    for r in rows:
        r.update(data="fashion-mnist", posterior="diagonal", fid_zeroed=r["fid"] + 1)
        r.update(elbo_change=0.01 * r["seed"], control_elbo_change=-5.0, max_pixel_diff=0.02)
    burda = [dict(r, elbo_change=0.5) if r["latent_dim"] == 800 else r for r in rows]
    return {"Burda et al. (0.01)": burda, "Bonheme & Grześ (0.1)": rows}


def test_pruning_panels_show_zeroing_and_control_per_threshold_and_fid():
    panels = synthesis.pruning_panels(_pruned())
    elbo = panels["ELBO change (nats), fashion-mnist"]
    assert list(elbo) == [
        "zeroed below Burda et al. (0.01)",
        "zeroed below Bonheme & Grześ (0.1)",
        "control, Burda et al. (0.01)",
        "control, Bonheme & Grześ (0.1)",
    ]
    assert elbo["zeroed below Burda et al. (0.01)"][800][0] == 0.5
    fid = panels["FID, fashion-mnist"]
    assert fid["all units"][20][0] == 10.0 and fid["zeroed below Burda et al. (0.01)"][20][0] == 11


def test_pruning_glue_gives_worst_elbo_change_pixel_change_n_star_and_the_comparison():
    pair = {k: (9.0, 11.0) for k in synthesis.COMPARED}
    compare = {("fashion-mnist", "diagonal"): {"n_small": 12, **pair}}
    glued = synthesis.pruning_glue(_pruned(), {"fashion-mnist": 11.6}, compare)
    assert glued["pruned_worst_elbo_burda_fmnist"] == 0.5
    assert glued["pruned_worst_elbo_bonheme_fmnist"] == pytest.approx(0.005)
    assert glued["pruned_max_pixel_bonheme"] == 0.02 and glued["n_star_fmnist"] == 12
    assert glued["retrain_fid_fmnist_diagonal"] == -2.0 and glued["large_fid_fmnist_diagonal"] == 11
