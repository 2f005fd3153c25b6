"""Lemma 2 of Azmoodeh et al.: the typical set's density bounds, mass and volume, measured."""

import math

import numpy as np
import pytest

from vaelab import claims, theory
from vaelab.papers import azmoodeh
from vaelab.papers.azmoodeh import lemma2


def test_holds_from_is_the_first_n_after_which_a_bound_never_fails():
    assert lemma2.holds_from(np.array([True, True, True])) == 1
    assert lemma2.holds_from(np.array([False, True, False, True, True])) == 4
    assert lemma2.holds_from(np.array([True, True, False])) == math.inf


def test_the_mass_and_the_volume_are_the_exact_ones_at_every_n():
    mass = lemma2.mass(0.1, 1000)
    assert mass.shape == (1000,)
    for n in (1, 10, 300):
        assert mass[n - 1] == pytest.approx(theory.typical_probability(n, eps=0.1), abs=1e-12)
    log_volume = lemma2.log_volume(0.1, 1000)
    for n in (1, 7, 500):
        expected = theory.typical_set_log_volume(n, sigma2=1.0, eps=0.1)
        assert log_volume[n - 1] == pytest.approx(expected, rel=1e-10)


def test_the_lemma_measured_at_two_epsilons():
    rows = lemma2.measure(eps_values=(0.1, 0.01), n_max=10**6, units=("nats",))
    by_eps = {r["eps"]: r for r in rows}
    # (ii): mu(A) > 1 - eps needs n large; the normal approximation of chi2_n says
    # 2 eps sqrt(n / 2) > z_(1 - eps/2): n > 135 at eps 0.1 (exact: 134), n > 33,000 at eps 0.01
    assert by_eps[0.1]["mass_from"] == 134 and 33_000 < by_eps[0.01]["mass_from"] < 34_000
    assert by_eps[0.1]["upper_from"] == 1 and by_eps[0.01]["upper_from"] == 1  # (iii) upper
    assert 1 < by_eps[0.1]["lower_from"] <= 10 < by_eps[0.01]["lower_from"] <= 300
    with pytest.raises(ValueError, match="eps must be in"):
        lemma2.measure(eps_values=(0.6,), n_max=10)
    # in bits the set is narrower (half-width eps ln 2), so every part holds later
    bits = lemma2.measure(eps_values=(0.1,), n_max=10**4, units=("bits",))[0]
    assert bits["unit"] == "bits" and bits["mass_from"] > 134 and bits["lower_from"] > 10
    with pytest.raises(ValueError, match="unit must be one of"):
        lemma2.measure(eps_values=(0.1,), n_max=10, units=("decibans",))


def test_the_density_bounds_hold_on_every_sampled_typical_point():
    check = lemma2.density_check(n=50, eps=0.1, samples=4000, seed=0)
    assert check["typical"] > 1000 and check["outside"] == 0 and check["disagree"] == 0


def test_the_rules_judge_the_lemma_as_printed_for_every_n():
    rule = lemma2.every_n_rule("mu(A) > 1 - eps")
    assert set(rule.words) == {"confirmed", "refuted"}
    assert rule({"from_n": 1, "n_max": 100}).word == "confirmed"
    late = rule({"from_n": 272, "n_max": 10**6})
    assert late.word == "refuted"
    assert late.reason == (
        "mu(A) > 1 - eps: fails below n = 272 (the latest over the table's eps), holds from "
        "there to 1000000: only for n large enough"
    )
    assert rule({"from_n": math.inf, "n_max": 10**6}).reason.endswith("still fails at n = 1000000")
    bounds = lemma2.bounds_rule()
    assert set(bounds.words) == {"confirmed", "partly confirmed", "refuted"}
    one = bounds({"lower_from": 242, "upper_from": 1, "n_max": 10**6})
    assert one.word == "partly confirmed" and "lower bound holds from n = 242" in one.reason
    assert bounds({"lower_from": 1, "upper_from": 1, "n_max": 9}).word == "confirmed"
    assert bounds({"lower_from": 3, "upper_from": 2, "n_max": 9}).word == "refuted"


def test_the_three_claims_read_the_chapter_glue():
    ledger = claims.ledger(azmoodeh.CLAIMS)
    glued = {"lemma2_mass_from": 33_000, "lemma2_lower_from": 150, "lemma2_upper_from": 1}
    glued |= {"lemma2_n_max": 10**6, "lemma2_typical": 3000, "lemma2_outside": 0}
    glued |= {"lemma2_disagree": 0}
    words = {k: ledger[f"azmoodeh.lemma2.{k}"].judge_glued(glued, {}).word for k in ["i", "ii"]}
    assert words == {"i": "confirmed", "ii": "refuted"}
    assert ledger["azmoodeh.lemma2.iii"].judge_glued(glued, {}).word == "partly confirmed"
    assert ledger["azmoodeh.lemma2.ii"].earlier[0].word == "partly confirmed"
    assert ledger["azmoodeh.lemma2.i"].judge_glued(glued | {"lemma2_outside": 2}, {}).word == (
        "refuted"
    )
