"""theory: Gaussian typical sets, the AEP and Theorem 3 of Azmoodeh et al., in nats."""

import math

import numpy as np
import pytest
import torch

from vaelab import theory


def test_entropy_and_the_variance_where_it_changes_sign():
    assert theory.gaussian_entropy(1.0) == pytest.approx(0.5 * math.log(2 * math.pi * math.e))
    assert theory.gaussian_entropy(theory.CRITICAL_VARIANCE) == pytest.approx(0.0, abs=1e-12)
    assert theory.gaussian_entropy(0.01) < 0 < theory.gaussian_entropy(0.1)
    with pytest.raises(ValueError, match="sigma2 must be positive"):
        theory.gaussian_entropy(0.0)


def test_log_density_of_samples_matches_torch():
    z, log_f = theory.sample_log_density(5, sigma2=0.3, mu=1.5, samples=4, seed=0)
    assert z.shape == (4, 5) and log_f.shape == (4,)
    ref = torch.distributions.Normal(1.5, math.sqrt(0.3)).log_prob(z).sum(1)
    assert torch.allclose(log_f, ref, atol=1e-9)


def test_aep_per_unit_log_density_concentrates_at_the_entropy():
    rows = theory.aep([10, 1000], sigma2=0.05, samples=2000, seed=0)
    h = theory.gaussian_entropy(0.05)
    small, large = rows
    assert large["mean"] == pytest.approx(h, abs=0.01)
    assert large["sd"] == pytest.approx(1 / math.sqrt(2 * 1000), rel=0.1)  # sd of chi2_n / 2n
    assert small["sd"] > 5 * large["sd"]


def test_typical_set_probability_exact_against_monte_carlo():
    exact = theory.typical_probability(50, eps=0.1)
    rows = theory.aep([50], sigma2=2.0, samples=20000, seed=1, eps=0.1)
    assert rows[0]["typical_fraction"] == pytest.approx(exact, abs=0.01)
    assert theory.typical_probability(5000, eps=0.1) > 1 - 0.1  # Lemma 2 (ii) for large n
    assert theory.typical_probability(2, eps=0.1) < 1 - 0.1  # and not for small n


def test_typical_set_volume_within_lemma_2_bounds_once_it_is_likely():
    for sigma2 in (0.01, 1.0):
        v = theory.typical_set_log_volume(2000, sigma2=sigma2, eps=0.05)
        h = theory.gaussian_entropy(sigma2)
        assert math.log(1 - 0.05) + 2000 * (h - 0.05) <= v <= 2000 * (h + 0.05)


def test_log_abs_diff_is_exact_and_stable():
    a, b = torch.tensor([0.0, -800.0, 3.0]), torch.tensor([-1.0, -801.0, 3.0])
    out = theory.log_abs_diff(a, b)
    assert out[0].item() == pytest.approx(math.log(1 - math.exp(-1)))
    assert out[1].item() == pytest.approx(-800 + math.log(1 - math.exp(-1)))
    assert out[2].item() == -math.inf


def test_theorem3_holds_for_positive_entropy_and_fails_for_negative():
    ns = [10, 100, 1000, 10000]
    pos = theory.theorem3(ns, sigma2=1.0, samples=500, seed=0)
    neg = theory.theorem3(ns, sigma2=0.01, samples=500, seed=0)
    med_pos = [r["log_abs_diff_median"] for r in pos]
    med_neg = [r["log_abs_diff_median"] for r in neg]
    assert np.all(np.diff(med_pos) < 0) and med_pos[-1] < -1000  # |f(Z1) - f(Z2)| -> 0
    assert np.all(np.diff(med_neg) > 0) and med_neg[-1] > 1000  # |f(Z1) - f(Z2)| -> infinity
    for rows in (pos, neg):  # the log of the ratio spreads like sqrt(n): no convergence either
        sds = [r["log_ratio_sd"] for r in rows]
        assert sds[-1] == pytest.approx(math.sqrt(10000), rel=0.1) and sds[0] < sds[-1] / 10
        assert rows[-1]["per_unit_sd"] < rows[0]["per_unit_sd"] / 10  # the AEP does converge


def test_proof_bound_of_step_5_vanishes_only_when_h_exceeds_eps():
    assert theory.proof_log_bound(1000, h=0.5, eps=0.1) < theory.proof_log_bound(10, h=0.5, eps=0.1)
    assert theory.proof_log_bound(1000, h=-1.0, eps=0.1) > 100  # step (6) fails for h < eps


def test_typicality_gap_prediction_is_the_mean_absolute_deviation_of_chi2():
    # n = 2: chi2_2 is exponential with mean 2, whose mean absolute deviation is 4/e
    assert theory.typicality_gap_prediction(2) == pytest.approx(4 / math.e / 4)
    gen = np.random.default_rng(0)
    for n in (20, 800):
        draws = gen.chisquare(n, size=200_000)
        mc = np.abs(draws - n).mean() / (2 * n)
        assert theory.typicality_gap_prediction(n) == pytest.approx(mc, rel=0.01)
    # large n: E|chi2_n - n| / (2n) -> sqrt(2n) sqrt(2/pi) / (2n) = 1/sqrt(pi n)
    limit = 1 / math.sqrt(math.pi * 1e6)
    assert theory.typicality_gap_prediction(10**6) == pytest.approx(limit, rel=1e-4)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        theory.typicality_gap_prediction(0)
