"""The ledger: every rule returns each of its words on a case made for it, `refuted` included."""

import dataclasses
import math
import re

import pytest

from vaelab import claims, stats
from vaelab.claims import CONFIRMED, PARTLY, REFUTED, UNTESTABLE
from vaelab.papers import asperti, azmoodeh, synthesis

LEDGER = claims.ledger(azmoodeh.CLAIMS, asperti.CLAIMS, synthesis.CLAIMS, synthesis.AHEAD)


def _count(mean, sd, seeds=3):
    return {"mean": mean, "sd": sd, "seeds": seeds}


def test_count_rule_returns_every_word_on_literal_counts():
    rule = claims.count_rule(8, near=4)
    assert rule(_count(9.0, 1.0)).word == CONFIRMED  # 8 within 9 ± 2
    assert rule(_count(10.7, 1.2)).word == PARTLY  # off by 2.7 > 2.4, <= 4
    assert rule(_count(16.0, 0.0)).word == REFUTED  # 16 of 16 inactive is not "8 of 16"
    assert rule(_count(10.3, 0.6)).word == PARTLY  # gap 2.3 > band 1.2
    assert rule(_count(8.0, 0.0, seeds=2)).word == UNTESTABLE
    assert "2 seed(s)" in rule(_count(8.0, 0.0, seeds=2)).reason


def test_count_rule_against_the_papers_conv_count():
    rule = claims.count_rule(3, near=4)
    verdict = rule(_count(10.3, 0.6))
    assert verdict.word == REFUTED and "off by 7.3" in verdict.reason
    assert rule(_count(3.0, 0.0)).word == CONFIRMED
    assert rule(_count(4.5, 0.0)).word == PARTLY  # 1.5 > 2 × 0.5 resolution, <= 4


def test_presence_rule_words():
    rule = claims.presence_rule("inactive units")
    assert rule(_count(10.7, 1.2)).word == CONFIRMED
    assert rule(_count(1 / 3, 0.58)).word == PARTLY  # one seed of three
    assert rule(_count(0.0, 0.0)).word == REFUTED
    assert rule(_count(12.0, 0.0, seeds=1)).word == UNTESTABLE


def test_difference_rule_words():
    rule = claims.difference_rule("dense - conv", paper_gap=5)
    base = {"a_sd": 1.2, "b_sd": 0.6, "seeds": 3}  # 2 sd of the difference: 2.7
    assert rule({**base, "a_mean": 10.7, "b_mean": 4.0}).word == CONFIRMED
    assert rule({**base, "a_mean": 10.7, "b_mean": 8.2}).word == PARTLY  # 2.5: 5 not ruled out
    verdict = rule({**base, "a_mean": 10.67, "b_mean": 10.33})  # the published MNIST counts
    assert verdict.word == REFUTED and "the paper's 5 is ruled out" in verdict.reason
    assert rule({**base, "a_mean": 10.0, "b_mean": 10.3}).word == REFUTED
    assert rule({**base, "seeds": 1, "a_mean": 10.0, "b_mean": 1.0}).word == UNTESTABLE


def test_difference_rule_without_a_paper_gap_judges_only_against_the_spread():
    rule = claims.difference_rule("FID without minus with sampling", paper_gap=None)
    assert "paper" not in rule.text and "refuted if a - b <= 0;" in rule.text
    base = {"a_sd": 1.0, "b_sd": 1.0, "seeds": 3}  # 2 sd of the difference: 2.83
    assert rule({**base, "a_mean": 10.0, "b_mean": 5.0}).word == CONFIRMED
    assert rule({**base, "a_mean": 10.0, "b_mean": 8.0}).word == PARTLY
    assert rule({**base, "a_mean": 92.5, "b_mean": 136.0}).word == REFUTED
    assert rule({**base, "seeds": 2, "a_mean": 10.0, "b_mean": 1.0}).word == UNTESTABLE
    assert set(rule.examples) == {CONFIRMED, PARTLY, REFUTED, UNTESTABLE}


def test_all_some_rule_shows_the_counts_a_measurement_gives():
    rule = claims.all_some_rule("every unit did", "some did", over_seeds=True)
    verdict = rule({"every": False, "some": True, "seeds": 3, "counts": "12 of 32 units"})
    assert verdict.word == PARTLY
    assert verdict.reason == "some did, but not every unit did (12 of 32 units)"
    assert rule({"every": True, "some": True, "seeds": 3}).reason == "every unit did"


def test_floor_rule_words_for_a_measure_where_higher_is_better():
    rule = claims.floor_rule("10-NN accuracy", confirm_at=0.5, partly_at=0.2)
    assert rule.text == (
        "10-NN accuracy: confirmed if >= 0.5, partly confirmed if >= 0.2, refuted otherwise"
    )
    assert rule({"value": 0.69}).word == CONFIRMED
    assert rule({"value": 0.3}).reason == "10-NN accuracy = 0.3 in [0.2, 0.5)"
    assert rule({"value": 0.1}).word == REFUTED
    assert rule({"value": math.nan}).word == UNTESTABLE
    assert set(rule.examples) == {CONFIRMED, PARTLY, REFUTED, UNTESTABLE}
    with pytest.raises(ValueError, match="floor_rule needs partly_at < confirm_at"):
        claims.floor_rule("x", confirm_at=0.2, partly_at=0.5)


def test_holds_rule_and_a_nan_input_is_not_testable():
    rule = claims.holds_rule("it converges at both variances")
    assert [rule({"holds": h}).word for h in (True, False)] == [CONFIRMED, REFUTED]
    seeded = claims.holds_rule("lower with sampling", over_seeds=True)
    assert seeded({"holds": True, "seeds": 1}).word == UNTESTABLE
    count = claims.count_rule(8, near=4)
    verdict = count({"mean": math.nan, "sd": 0.0, "seeds": 3})
    assert verdict.word == UNTESTABLE and "mean not measured (NaN)" in verdict.reason
    assert claims.at_most_rule("x", limit=0.1)({"value": math.nan}).word == UNTESTABLE
    with pytest.raises(ValueError, match="limit >= 0"):
        claims.at_most_rule("x", limit=-1)


def test_all_some_rule_words_and_seeds():
    rule = claims.all_some_rule("every seed", "one seed")
    assert [rule({"every": e, "some": s}).word for e, s in ((1, 1), (0, 1), (0, 0))] == [
        CONFIRMED,
        PARTLY,
        REFUTED,
    ]
    seeded = claims.all_some_rule("every seed", "one seed", over_seeds=True)
    assert seeded({"every": True, "some": True, "seeds": 1}).word == UNTESTABLE
    assert seeded({"every": False, "some": False, "seeds": 3}).word == REFUTED


def test_band_and_at_most_rules():
    band = claims.band_rule("spread", confirm_below=0.05, partly_below=0.15)
    words = [band({"value": v}).word for v in (0.01, 0.05, 0.2, math.nan)]
    assert words == [CONFIRMED, PARTLY, REFUTED, UNTESTABLE]
    with pytest.raises(ValueError, match="0 < confirm_below < partly_below"):
        claims.band_rule("spread", confirm_below=0.2, partly_below=0.1)
    with pytest.raises(ValueError, match="0 < confirm_below"):
        claims.band_rule("spread", confirm_below=0.0, partly_below=0.1)
    limit = claims.at_most_rule("|ELBO change|", limit=0.1)
    assert [limit({"value": v}).word for v in (0.1, 0.11)] == [CONFIRMED, REFUTED]
    assert claims.untestable_rule("no data")({}).word == UNTESTABLE


def test_a_rule_names_a_missing_input_and_a_verdict_only_takes_the_four_words():
    with pytest.raises(ValueError, match="the rule needs sd, seeds"):
        claims.count_rule(8, near=4)({"mean": 8})
    with pytest.raises(ValueError, match="a verdict is one of"):
        claims.Verdict("Confirmed", "capitalised")


def test_ids_are_unique():
    claim = next(iter(LEDGER.values()))
    with pytest.raises(ValueError, match="two claims share the id"):
        claims.ledger([claim], [claim])


@pytest.mark.parametrize("claim_id", sorted(LEDGER))
def test_every_claim_returns_each_of_its_words_on_its_example(claim_id):
    rule = LEDGER[claim_id].rule
    assert rule.words, "a rule with no example cannot be tested"
    for word, example in rule.examples.items():
        assert rule(example).word == word, (claim_id, word, example)
    quantitative = claim_id.endswith((".count", ".less_sparse", ".sparse"))
    if quantitative:
        assert REFUTED in rule.words and UNTESTABLE in rule.words


def _numbers(text: str) -> list[str]:
    """The numbers of a rule's text that are the book's choice: not its seed count."""
    text = text.replace(f">= {claims.MIN_SEEDS} seeds", "")
    return re.findall(r"\d+(?:\.\d+)?", text)


@pytest.mark.parametrize("claim_id", sorted(LEDGER))
def test_every_rule_with_a_number_says_why_it_is_there(claim_id):
    claim = LEDGER[claim_id]
    if _numbers(claim.rule.text):
        assert len(claim.cutoffs) > 40, f"{claim_id}: its rule's numbers have no stated reason"


def test_the_cutoff_reasons_name_only_claims_of_the_ledger():
    for group in (asperti.CUTOFFS, azmoodeh.CUTOFFS, synthesis.CUTOFFS):
        assert set(group) <= set(LEDGER)
    assert _numbers("paper 8: within 2 sd over >= 3 seeds") == ["8", "2"]


def test_counts_and_their_qualitative_claims_are_separate():
    for model in asperti.PAPER_INACTIVE:
        count, sparse = LEDGER[f"asperti.{model}.count"], LEDGER[f"asperti.{model}.sparse"]
        assert count.rule.text != sparse.rule.text
        assert count.earlier and "could not be refuted" in count.earlier[0].reason


def test_a_claim_judges_glued_values_at_the_sizes_it_ran_with():
    claim = LEDGER["asperti.dense_mnist.count"]
    glued = {"inactive_dense_mnist": 10.67, "inactive_dense_mnist_sd": 1.15}
    glued |= {"inactive_dense_mnist_settled_step": 3584, "inactive_dense_mnist_last_step": 6400}
    assert claim.judge_glued(glued, {"seeds": [0, 1, 2]}).word == PARTLY
    assert claim.judge_glued(glued, {"seeds": [0]}).word == UNTESTABLE
    unmeasured = dataclasses.replace(claim, measure=None)
    with pytest.raises(ValueError, match="measures nothing that a chapter glues"):
        unmeasured.judge_glued(glued, {"seeds": [0, 1, 2]})


def test_chapter_glue_gives_word_reason_and_rule_of_each_claim_of_the_chapter():
    glued = {
        "inactive_dense_mnist": 16.0,
        "inactive_dense_mnist_sd": 0.0,
        "sum_error": 0.05,
        "off_error": 0.01,
        "zeroing_max_pixel_diff": 0.001,
        "zeroing_mean_pixel_diff": 1e-4,
        "zeroing_seeds": 3,
        "zeroing_elbo_change": 0.04,
        "control_elbo_change": -197.0,
        "control_elbo_change_min": 150.0,
        "long_drift": 0,
        "long_drift_max": 1,
        "inactive_dense_mnist_gaussian": 9.0,
        "inactive_dense_mnist_gaussian_sd": 1.0,
        "inactive_dense_mnist_settled_step": 3584,
        "inactive_dense_mnist_last_step": 6400,
    }
    out = claims.chapter_glue(
        asperti.CLAIMS, "sparsity/01_dense_mnist", glued, {"seeds": [0, 1, 2]}
    )
    assert out["dense_mnist_verdict"] == REFUTED
    assert out["dense_mnist_gaussian_verdict"] == CONFIRMED  # 9.0 ± 1.0 against the paper's 8
    assert out["asperti_dense_mnist_sparse_verdict"] == CONFIRMED
    assert out["sum_verdict"] == CONFIRMED and out["fig4_verdict"] == CONFIRMED
    assert out["asperti_ignored_verdict"] == CONFIRMED
    assert out["asperti_stable_verdict"] == CONFIRMED  # sd 0 and no drift
    assert "16.0 ± 0.0 over 3 seeds vs 8" in out["dense_mnist_verdict_reason"]
    assert out["dense_mnist_verdict_rule"].startswith("paper 8: confirmed if")
    with pytest.raises(ValueError, match="no claim of the ledger is tested in nowhere"):
        claims.chapter_glue(asperti.CLAIMS, "nowhere", glued, {})


def _sweep_glue(fid: dict, ent: dict) -> dict:
    glued = {f"sweep_fid_{n}": m for n, (m, _) in fid.items()}
    glued |= {f"sweep_class_entropy_{n}": m for n, (m, _) in ent.items()}
    return glued | {"fid_trend": stats.trend(fid), "entropy_trend": stats.trend(ent)}


def test_azmoodeh_fig4_judges_fid_and_entropy_together_at_every_word():
    claim, run = LEDGER["azmoodeh.fig4.samples"], {"latent_dims": [2, 20, 200]}
    fid = {2: (110.0, 1.0), 20: (100.0, 1.0), 200: (190.0, 1.0)}
    ent = {2: (3.1, 0.0), 20: (3.2, 0.0), 200: (2.9, 0.0)}
    assert claim.judge_glued(_sweep_glue(fid, ent), run).word == PARTLY
    steady = {2: (90.0, 1.0), 20: (100.0, 1.0), 200: (190.0, 1.0)}
    falling = {2: (3.3, 0.0), 20: (3.2, 0.0), 200: (2.9, 0.0)}
    assert claim.judge_glued(_sweep_glue(steady, falling), run).word == CONFIRMED
    better = {2: (100.0, 0.0), 20: (90.0, 0.0), 200: (80.0, 0.0)}
    assert claim.judge_glued(_sweep_glue(better, falling), run).word == REFUTED


def test_the_stability_claim_reads_the_largest_drift_over_every_seeds_longer_run():
    claim = LEDGER["asperti.stable"]
    glued = {"inactive_dense_mnist_sd": 1.15, "long_drift_max": 2, "long_drift": 0}
    assert claim.judge_glued(glued, {"seeds": [0, 1, 2]}).word == CONFIRMED
    glued["long_drift_max"] = 3  # one seed's longer run moved the count by 3
    assert claim.judge_glued(glued, {"seeds": [0, 1, 2]}).word == REFUTED
    assert "every seed" in claim.rule.text and "first seed" in claim.earlier[0].reason


@pytest.mark.parametrize(
    ("claim_id", "model", "sd", "drift"),
    [
        (
            "asperti.conv_mnist.stable",
            "convolutional MNIST",
            "inactive_conv_mnist_sd",
            "conv_mnist_drift_max",
        ),
        ("asperti.dense_tiles.stable", "dense tiles", "dense_tiles_sd", "dense_tiles_drift_max"),
        (
            "asperti.conv_tiles.stable",
            "convolutional tiles",
            "conv_tiles_sd",
            "conv_tiles_drift_max",
        ),
    ],
)
def test_the_stability_rule_judges_the_conv_and_tiles_models_on_their_own_drift(
    claim_id, model, sd, drift
):
    claim, three = LEDGER[claim_id], {"seeds": [0, 1, 2]}
    assert claim.rule.text == LEDGER["asperti.stable"].rule.text
    assert claim.judge_glued({sd: 1.5, drift: 2}, three).word == CONFIRMED
    assert claim.judge_glued({sd: 1.6, drift: 0}, three).word == REFUTED  # seeds too far apart
    assert claim.judge_glued({sd: 0.0, drift: 3}, three).word == REFUTED  # a longer run moved
    assert claim.judge_glued({sd: 0.0, drift: 0}, {"seeds": [0, 1]}).word == UNTESTABLE
    assert claim.registered.startswith("2026-12-01 (session 16), before any count of the models")
    assert claim.cutoffs == LEDGER["asperti.stable"].cutoffs
    assert claim.text.endswith(f"(judged here on the {model} VAE).")
    assert claim.section == "§VII"
    assert claim.chapter in ("sparsity/02_convolutional", "sparsity/04_tiles")


def test_the_ignored_claim_compares_with_the_weakest_control_over_the_seeds():
    claim = LEDGER["asperti.ignored"]
    glued = {"zeroing_elbo_change": 0.5, "control_elbo_change": -197.0, "zeroing_seeds": 3}
    glued["control_elbo_change_min"] = 150.0
    assert claim.judge_glued(glued, {}).word == CONFIRMED
    glued["control_elbo_change_min"] = 40.0  # one seed's control moves the ELBO by 40 only
    assert claim.judge_glued(glued, {}).word == REFUTED
    assert "first seed's control only" in claim.earlier[0].reason
