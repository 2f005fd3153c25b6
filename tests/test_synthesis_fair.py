"""synthesis.fair: Part III's fair tests (Asperti's criterion on converged models, n* against
the grid's best point) and their two rules."""

import copy

import pytest
import torch

from vaelab import cache, claims, metrics
from vaelab.book import profiles
from vaelab.papers import synthesis
from vaelab.papers.synthesis import fair
from vaelab.papers.synthesis.claims import ignored_rule, retrain_rule


@pytest.fixture
def smoke():
    return profiles.resolve("smoke", section="synthesis")


def test_long_runs_are_the_largest_diagonal_model_trained_as_long_as_the_probes(smoke):
    configs = fair.long_configs(smoke)
    assert set(configs) == {(d, s) for d in synthesis.DATASETS for s in smoke.seeds}
    fm = configs["fashion-mnist", 0]
    assert fm.model.latent_dim == max(smoke.latent_dims) and fm.model.posterior == "diagonal"
    assert fm.train.epochs == smoke.probe_epochs[0] and fm.train.heldout == synthesis.HELDOUT
    assert configs["mnist", 0].train.epochs == smoke.probe_epochs[1]
    assert fm == synthesis.fit_config(
        smoke, "fashion-mnist", "diagonal", max(smoke.latent_dims), seed=0, epochs=2
    )


def _tiny():
    run = profiles.resolve(
        "smoke", section="synthesis", train_limit=500, test_limit=200, generated=100
    )
    inst = synthesis.instruments(run)["fashion-mnist"]
    config = synthesis.fit_config(run, "fashion-mnist", "diagonal", 6, seed=0, epochs=3)
    model, history = cache.fit(config)
    return run, inst, config, model, history


def test_ignored_zeroes_asperti_inactive_units_beside_the_least_varying_kept_unit():
    run, inst, config, model, _ = _tiny()
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.mu.weight[1:] *= 20  # units 1.. clearly active
        for p in (model.mu.weight[0], model.mu.bias[0], model.logvar.weight[0]):
            p.zero_()
        model.logvar.bias[0] = 0.0  # unit 0: mu = 0, sigma^2 = 1 ...
        model.decoder[0][0].weight[:, 0] = 0.0  # ... and unread by the decoder
    out = fair.ignored(model, inst, run)
    assert out["inactive"] == 1 and out["var_only_inactive"] == 1
    assert out["elbo_change"] == 0.0 and out["fid_zeroed"] == pytest.approx(out["fid"])
    assert len(out["control_units"]) == 1 and out["control_units"][0] != 0
    assert out["control_elbo_change"] < 0 and out["test_elbo"] < 0
    with torch.no_grad():
        model.logvar.bias[0] = -4.0  # sigma^2 = e^-4: mu still constant, no longer at the prior
    out = fair.ignored(model, inst, run)
    assert out["inactive"] == 0 and out["var_only_inactive"] == 1


def test_long_row_reads_the_convergence_of_its_own_curve_and_is_memoized():
    run, inst, config, model, history = _tiny()
    row = fair.long_row(model, config, history, inst, run)
    assert (row["data"], row["latent_dim"], row["seed"], row["epochs"]) == (
        "fashion-mnist",
        6,
        0,
        3,
    )
    curve = history["heldout_loss"]
    w = min(run.window, len(curve) - 1)
    assert row["converged"] == metrics.converged_epoch(curve, tol=run.tolerance, window=run.window)
    assert row["last_gain"] == pytest.approx(curve[-w - 1] - min(curve[-w:]))
    assert row["heldout_loss"] == pytest.approx(curve)
    assert row == fair.long_row(model, config, history, inst, run)


def _long(data="fashion-mnist", changes=(0.01, 0.02, 0.03), converged=(5, 7, None)):
    return [
        {
            "data": data,
            "seed": s,
            "epochs": 9,
            "converged": c,
            "inactive": 10 + s,
            "var_only_inactive": 12 + s,
            "elbo_change": -e,
            "control_elbo_change": -2.0,
            "fid": 50.0,
            "fid_zeroed": 51.0 + s,
            "test_elbo": -240.0 - s,
            "last_gain": 0.5,
        }
        for s, (e, c) in enumerate(zip(changes, converged, strict=True))
    ]


def test_ignored_glue_gives_each_data_sets_means_and_how_many_runs_converged():
    glued = fair.ignored_glue(_long() + _long("mnist", converged=(4, 4, 4)))
    assert glued["long_epochs_fmnist"] == 9 and glued["long_seeds_fmnist"] == 3
    assert glued["long_converged_fmnist"] == 2 and glued["long_converged_mnist"] == 3
    assert glued["long_converged_epochs_fmnist"] == "5, 7, not converged"
    assert glued["asperti_inactive_fmnist"] == 11 and glued["var_only_inactive_fmnist"] == 13
    assert glued["asperti_elbo_fmnist"] == pytest.approx(0.02)
    assert glued["asperti_elbo_fmnist_sd"] == pytest.approx(0.01)
    assert glued["asperti_control_fmnist"] == 2.0 and glued["asperti_fid_zeroed_fmnist"] == 52
    assert glued["long_test_elbo_fmnist"] == -241.0 and glued["long_gain_fmnist"] == 0.5


def _grid_rows():
    rows = []
    for n, elbo in ((5, -250.0), (20, -240.0), (800, -245.0)):
        for s in range(3):
            rows.append(
                {
                    "data": "fashion-mnist",
                    "posterior": "diagonal",
                    "latent_dim": n,
                    "seed": s,
                    "test_elbo": elbo + s - 1,
                    "fid": 60.0 + n / 100,
                }
            )
    return rows


def test_best_point_is_the_grid_dimension_with_the_highest_mean():
    n, mean, sd = fair.best_point(_grid_rows(), "fashion-mnist", "diagonal")
    assert (n, mean, sd) == (20, -240.0, 1.0)
    lowest = fair.best_point(_grid_rows(), "fashion-mnist", "diagonal", metric="fid", lower=True)
    assert lowest[0] == 5
    with pytest.raises(ValueError, match="no diagonal runs of mnist"):
        fair.best_point(_grid_rows(), "mnist", "diagonal")


def test_retrain_glue_puts_n_star_beside_the_best_and_the_largest_grid_point():
    star = [dict(r, latent_dim=6, test_elbo=-242.0 + r["seed"]) for r in _grid_rows()[:3]]
    glued = fair.retrain_glue(_grid_rows(), star, {"fashion-mnist": True})
    assert glued["saturates_fmnist"] == "saturates" and glued["best_n_fmnist"] == 20
    assert glued["best_elbo_fmnist"] == -240.0 and glued["star_elbo_fmnist"] == -241.0
    assert glued["large_elbo_fmnist"] == -245.0 and glued["star_seeds_fmnist"] == 3
    assert glued["star_elbo_fmnist_sd"] == 1.0 and glued["best_fid_fmnist"] == pytest.approx(60.2)


def test_the_ignored_rule_says_every_word_for_its_reason():
    rule = ignored_rule()
    assert set(rule.examples) == set(claims.WORDS)
    base = {"change_mean": 0.01, "change_sd": 0.01, "control": 1.0, "inactive": 5.0}
    base |= {"converged": 3, "seeds": 3}
    assert rule(base).word == claims.CONFIRMED
    assert rule(base | {"change_mean": 0.2}).word == claims.REFUTED
    assert rule(base | {"change_mean": 0.09}).word == claims.PARTLY  # not clear by 2 sd
    assert "cannot tell" in rule(base | {"control": 0.05}).reason
    assert "did not converge" in rule(base | {"converged": 2}).reason
    assert "no unit is inactive" in rule(base | {"inactive": 0.0}).reason
    assert rule(base | {"seeds": 2, "converged": 2}).word == claims.UNTESTABLE


def test_the_retrain_rule_reads_the_best_point_then_the_largest():
    rule = retrain_rule()
    assert set(rule.examples) == set(claims.WORDS)
    base = {"saturates": True, "seeds": 3, "best_n": 20}
    base |= {"star_mean": -241.0, "star_sd": 0.5, "best_mean": -240.0, "best_sd": 0.5}
    base |= {"large_mean": -245.0, "large_sd": 0.5}
    assert rule(base).word == claims.CONFIRMED  # 1 nat below the best, 2 sd = 1.41
    assert rule(base | {"star_mean": -243.0}).word == claims.PARTLY
    assert rule(base | {"star_mean": -247.0}).word == claims.REFUTED
    assert "does not saturate" in rule(base | {"saturates": False}).reason
    assert rule(base | {"seeds": 1}).word == claims.UNTESTABLE
