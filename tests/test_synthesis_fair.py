"""synthesis.fair: Part III's fair tests (Asperti's criterion on converged models, n* against
the grid's best point) and their two rules."""

import copy
import math

import pytest
import torch

from vaelab import cache, claims, metrics
from vaelab.book import profiles, scoreboard
from vaelab.papers import synthesis
from vaelab.papers.synthesis import fair
from vaelab.papers.synthesis.claims import ignored_rule, retrain_rule


@pytest.fixture
def smoke():
    return profiles.resolve("smoke", section="synthesis")


def test_long_runs_are_the_largest_diagonal_model_trained_4x_the_grid(smoke):
    three = profiles.resolve("smoke", section="synthesis", seeds=[0, 1, 2])
    configs = fair.long_configs(three, {"fashion-mnist": 3, "mnist": 5})
    assert set(configs) == {(d, s) for d in synthesis.DATASETS for s in (0, 1, 2)}
    fm = configs["fashion-mnist", 0]
    assert fm.model.latent_dim == max(three.latent_dims) and fm.model.posterior == "diagonal"
    assert fm.train.epochs == 3 * fair.LONG_FACTOR == 12 and fm.train.heldout == synthesis.HELDOUT
    assert configs["mnist", 2].train.epochs == 5 * fair.LONG_FACTOR
    assert fm == synthesis.fit_config(
        three, "fashion-mnist", "diagonal", max(three.latent_dims), seed=0, epochs=12
    )
    assert fair.long_configs(smoke, {"fashion-mnist": 3, "mnist": 5}) == {}  # one seed: none


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
    assert out["zeroed_kl"] == pytest.approx(0.0, abs=1e-6)  # unit 0 sits at the prior
    (unit,) = out["control_units"]
    stats = metrics.unit_stats(model, inst.x_test)
    assert stats.var_mu[unit] == stats.var_mu[stats.var_mu > fair.CONTROL_MIN].min()
    assert out["control_var_mu"] == pytest.approx(stats.var_mu[unit].item())
    # the decoder reads the control unit: zeroing it moves the reconstruction term (either way:
    # the rule reads |change|; in fp32 this tiny model's ELBO rises when it is zeroed)
    assert abs(out["control_elbo_change"]) > 0.01 and out["test_elbo"] < 0
    with torch.no_grad():
        model.logvar.bias[0] = -4.0  # sigma^2 = e^-4: mu still constant, no longer at the prior
    out = fair.ignored(model, inst, run)
    assert out["inactive"] == 0 and out["var_only_inactive"] == 1


def test_long_row_judges_convergence_on_the_final_training_window_and_is_memoized():
    run, inst, config, model, history = _tiny()
    row = fair.long_row(model, config, history, inst, run)
    assert (row["data"], row["latent_dim"], row["seed"], row["epochs"]) == (
        "fashion-mnist",
        6,
        0,
        3,
    )
    loss, held = history["loss"], history["heldout_loss"]
    w = min(run.window, len(loss) - 1)
    assert row["train_gain"] == pytest.approx(loss[-w - 1] - min(loss[-w:]))
    assert row["converged"] == (row["train_gain"] < run.tolerance)
    assert row["overfit"] == pytest.approx(held[-1] - min(held))
    assert row["heldout_loss"] == pytest.approx(held)
    assert row == fair.long_row(model, config, history, inst, run)


def test_final_state_convergence_reads_the_last_window_not_the_first_flat_one():
    falling = [100.0 - 0.3 * e for e in range(40)]  # 3 nats per 10 epochs to the end
    assert fair.final_gain(falling, window=10) == pytest.approx(3.0)
    flat_then_falling = [50.0] * 20 + [50.0 - e for e in range(1, 21)]
    assert fair.final_gain(flat_then_falling, window=10) == pytest.approx(10.0)
    assert fair.final_gain([5.0, 4.0], window=10) == pytest.approx(1.0)  # shorter than a window


def _long(data="fashion-mnist", changes=(0.01, -0.02, 0.03), converged=(True, True, False)):
    return [
        {
            "data": data,
            "seed": s,
            "epochs": 9,
            "converged": c,
            "train_gain": 0.5 + s,
            "overfit": 2.0,
            "inactive": 10 + s,
            "var_only_inactive": 12 + s,
            "zeroed_kl": 0.1,
            "elbo_change": e,
            "control_elbo_change": -2.0,
            "control_var_mu": 0.2,
            "fid": 50.0,
            "fid_zeroed": 51.0 + s,
            "test_elbo": -240.0 - s,
            "last_gain": 0.5,
        }
        for s, (e, c) in enumerate(zip(changes, converged, strict=True))
    ]


def test_ignored_glue_gives_each_data_sets_means_and_how_many_runs_converged():
    glued = fair.ignored_glue(_long() + _long("mnist", converged=(True,) * 3), synthesis.DATASETS)
    assert glued["long_epochs_fmnist"] == 9 and glued["long_seeds_fmnist"] == 3
    assert glued["long_converged_fmnist"] == 2 and glued["long_converged_mnist"] == 3
    assert glued["long_train_gain_fmnist"] == 1.5 and glued["long_overfit_fmnist"] == 2.0
    assert glued["asperti_inactive_fmnist"] == 11 and glued["var_only_inactive_fmnist"] == 13
    assert glued["asperti_elbo_fmnist"] == pytest.approx(0.02)  # mean |change|
    assert glued["asperti_elbo_signed_fmnist"] == pytest.approx(0.02 / 3)
    assert glued["asperti_elbo_fmnist_sd"] == pytest.approx(0.01)
    assert glued["asperti_control_fmnist"] == 2.0 and glued["asperti_fid_zeroed_fmnist"] == 52
    assert glued["asperti_kl_fmnist"] == pytest.approx(0.1)
    assert glued["long_test_elbo_fmnist"] == -241.0 and glued["long_gain_fmnist"] == 0.5


def test_ignored_glue_without_long_runs_gives_nan_that_the_rule_cannot_judge():
    glued = fair.ignored_glue([], ("fashion-mnist",))
    assert glued["long_seeds_fmnist"] == 0 and math.isnan(glued["asperti_elbo_fmnist"])
    claim = scoreboard.ledger()["synthesis.ignored.fmnist"]
    assert claim.judge_glued(glued, {}).word == claims.UNTESTABLE


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
    grid = [dict(r, iwae=r["test_elbo"] + 5) for r in _grid_rows()]
    star = [dict(r, latent_dim=6, test_elbo=-242.0 + r["seed"]) for r in grid[:3]]
    glued = fair.retrain_glue(grid, star, {"fashion-mnist": True})
    assert glued["saturates_fmnist"] == "saturates" and glued["best_n_fmnist"] == 20
    assert glued["best_elbo_fmnist"] == -240.0 and glued["star_elbo_fmnist"] == -241.0
    assert glued["large_elbo_fmnist"] == -245.0 and glued["star_seeds_fmnist"] == 3
    assert glued["star_elbo_fmnist_sd"] == 1.0
    assert glued["best_fid_fmnist"] == pytest.approx(60.2)
    assert glued["best_iwae_fmnist"] == -235.0 and glued["star_iwae_fmnist"] == -245.0


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
    assert rule(base | {"control": float("nan")}).word == claims.UNTESTABLE


def test_the_retrain_rule_reads_a_fixed_margin_against_the_best_point():
    rule = retrain_rule()
    assert set(rule.examples) == set(claims.WORDS)
    base = {"saturates": True, "seeds": 3, "best_n": 20}
    base |= {"star_mean": -240.2, "star_sd": 0.3, "best_mean": -240.0, "best_sd": 0.3}
    assert rule(base).word == claims.CONFIRMED  # 0.2 + 2 SE (0.49) <= 1 nat
    assert rule(base | {"star_mean": -241.0}).word == claims.PARTLY  # 1 nat below: undecided
    assert rule(base | {"star_mean": -242.5}).word == claims.REFUTED  # 2.5 - 0.49 > 1
    noisy = base | {"star_sd": 3.0, "best_sd": 3.0, "star_mean": -240.0}
    assert rule(noisy).word == claims.PARTLY  # noisy seeds cannot confirm
    assert "does not saturate" in rule(base | {"saturates": False}).reason
    assert rule(base | {"seeds": 1}).word == claims.UNTESTABLE


def test_memo_params_are_the_keys_every_evaluation_of_part_iii_was_stored_under():
    run, inst, config, _, _ = _tiny()
    base = {
        "model": cache.config_key(config),
        "classifier": inst.key,
        "test_images": len(inst.x_test),
        "generated": run.generated,
        "seed": run.seed,
    }
    assert synthesis.memo_params(config, inst, run) == base
    assert synthesis.memo_params(config, inst, run, threshold=0.1) == base | {"threshold": 0.1}


def test_chapter_02_judges_the_fair_tests():
    ids = {c.id for c in synthesis.CLAIMS if c.chapter == "synthesis/02_pruning_inactive_units"}
    tests = ("ignored", "retrain")
    assert {f"synthesis.{t}.{d}" for t in tests for d in ("fmnist", "mnist")} <= ids
    assert synthesis.AHEAD == ()


def test_ignored_text_states_the_long_runs_numbers_or_that_there_were_none():
    glued = fair.ignored_glue(_long() + _long("mnist", converged=(True,) * 3), synthesis.DATASETS)
    text = fair.ignored_text(glued, "fashion-mnist", largest=800)
    assert text.startswith("**Fashion-MNIST**: 3 runs of 9 epochs, 2 of them converged")
    assert "11.0 ± 1.0 of 800 units inactive by Asperti's criterion (13.0 by" in text
    assert "reconstruction term by 0.020 ± 0.010 nats (signed mean +0.007" in text
    assert "one active unit (Var μ 0.20) by 2.000" in text and "from 50.0 to 52.0" in text
    none = fair.ignored_text(fair.ignored_glue([], ("mnist",)), "mnist", largest=800)
    assert none == "**MNIST**: no long runs (the rule needs 3 seeds): not testable here."
