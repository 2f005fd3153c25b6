import math

import pytest
import torch

from vaelab import elbo, models


def test_kl_closed_form_matches_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[-1.0, 0.3, -3.0]])
    z = mu + torch.randn(400_000, 3) * (0.5 * logvar).exp()
    log_q = -0.5 * ((z - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi))
    log_p = -0.5 * (z**2 + math.log(2 * math.pi))
    mc = (log_q - log_p).mean(0)
    torch.testing.assert_close(elbo.kl_per_unit(mu, logvar)[0], mc, atol=0.01, rtol=0.0)


def test_isotropic_kl_broadcasts_and_matches_its_closed_form():
    mu, logvar = torch.randn(4, 7), torch.randn(4, 1)
    per_unit = elbo.kl_per_unit(mu, logvar)
    assert per_unit.shape == (4, 7)
    torch.testing.assert_close(per_unit, elbo.kl_per_unit(mu, logvar.expand(4, 7)))
    torch.testing.assert_close(per_unit.sum(1), elbo.kl_isotropic(mu, logvar))


def test_likelihoods_match_torch_distributions():
    x = torch.rand(3, 1, 28, 28)
    out = torch.randn(3, 1, 28, 28)
    bern = models.MLPVAE(2)
    expected = -torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none")
    torch.testing.assert_close(elbo.log_likelihood(bern, out, x), expected.sum((1, 2, 3)))
    gauss = models.MLPVAE(2, likelihood="gaussian")
    with torch.no_grad():
        gauss.obs_logvar.fill_(-2.0)
    normal = torch.distributions.Normal(out, math.exp(-1.0))
    torch.testing.assert_close(
        elbo.log_likelihood(gauss, out, x), normal.log_prob(x).sum((1, 2, 3)), rtol=1e-5, atol=1e-3
    )


def test_elbo_is_minus_rate_minus_distortion_and_beta_weights_the_rate():
    torch.manual_seed(1)
    model, x = models.MLPVAE(5), torch.rand(8, 1, 28, 28)
    t = elbo.elbo_terms(model, x, sample=False, kl_weight=0.0)
    torch.testing.assert_close(t.elbo, -(t.rate + t.distortion))
    torch.testing.assert_close(t.loss, t.distortion.mean())
    t2 = elbo.elbo_terms(model, x, sample=False, kl_weight=2.0)
    torch.testing.assert_close(t2.loss, (t.distortion + 2 * t.rate).mean())
    assert elbo.bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)


def test_iwae_bound_is_above_the_elbo_and_rises_with_k():
    torch.manual_seed(2)
    model, x = models.MLPVAE(3, (32,)).eval(), torch.rand(16, 1, 28, 28)
    with torch.no_grad():
        mean_elbo = torch.stack([elbo.elbo_terms(model, x).elbo for _ in range(200)]).mean(0)
    k1, k200 = elbo.iwae_bound(model, x, 1), elbo.iwae_bound(model, x, 200, chunk=64)
    assert k200.shape == (16,)
    assert (k200 >= mean_elbo).all()
    assert k200.mean() > k1.mean()
    with pytest.raises(ValueError, match="k must be >= 1"):
        elbo.iwae_bound(model, x, 0)


def test_evaluate_reports_nats_and_bits():
    model, x = models.MLPVAE(2, (16,)), torch.rand(30, 1, 28, 28)
    out = elbo.evaluate(model, x, batch_size=7, sample=False)
    assert out["elbo"] == pytest.approx(-(out["rate"] + out["distortion"]), rel=1e-5)
    assert out["elbo_bpd"] == pytest.approx(out["elbo"] / (784 * math.log(2)))
    assert model.training  # restored


def test_iwae_curve_means_per_k_repeat_with_the_seed_and_equal_log_px_at_the_exact_posterior():
    from vaelab import linear

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 28, 28, generator=gen)
    x[:, :, :14] *= 0.1  # some structure, so the fit has distinct principal axes
    ppca = linear.fit(x, 3)
    curve = elbo.iwae_curve(linear.LinearVAE(ppca), x, [1, 5, 50], seed=0, batch_size=16)
    assert list(curve) == [1, 5, 50]
    log_px = linear.log_marginal(ppca, x).mean().item()
    assert all(v == pytest.approx(log_px, abs=1e-6) for v in curve.values())
    vae = models.MLPVAE(4, (32,))
    first = elbo.iwae_curve(vae, x, [1, 100], seed=3)
    assert first == elbo.iwae_curve(vae, x, [1, 100], seed=3)
    assert first[100] > first[1]


def test_evaluate_under_a_seed_draws_the_same_as_seeding_first_and_keeps_the_global_state():
    model, x = models.MLPVAE(3, (16,)), torch.rand(20, 1, 28, 28)
    torch.manual_seed(5)
    expected = elbo.evaluate(model, x)
    torch.manual_seed(11)
    state = torch.get_rng_state()
    assert elbo.evaluate(model, x, seed=5) == expected
    assert torch.equal(torch.get_rng_state(), state)


def test_the_variance_part_alone_is_eq7_and_the_bound_on_mu_costs_only_above_the_prior_scale():
    torch.manual_seed(2)
    model, x = models.MLPVAE(4), torch.rand(16, 1, 28, 28)
    torch.manual_seed(3)
    full = elbo.Elbo()(model, x)
    torch.manual_seed(3)
    step = elbo.Elbo(kl_part="variance")(model, x)
    mu, logvar = model.encode(x)
    var_part = 0.5 * (logvar.exp() - logvar - 1).sum(1)  # -1/2 eq. (7), summed over units
    torch.manual_seed(3)
    t = elbo.elbo_terms(model, x)
    torch.testing.assert_close(step.minimise, (t.distortion + var_part).mean())
    torch.testing.assert_close(step.terms["loss"], step.minimise)
    torch.testing.assert_close(step.terms["rate"], full.terms["rate"])  # the true KL, recorded
    # the bound: weight * sum_j relu(mean_batch mu_j^2 - 1), zero while every unit is within 1
    torch.manual_seed(3)
    bounded = elbo.Elbo(kl_part="variance", mu_bound=5.0)(model, x)
    excess = (mu.pow(2).mean(0) - 1).clamp(min=0).sum()
    torch.testing.assert_close(bounded.minimise, step.minimise + 5.0 * excess)
    assert elbo.mu_excess(torch.full((8, 3), 0.5)) == 0.0
    assert elbo.mu_excess(torch.full((8, 3), 2.0)).item() == pytest.approx(9.0)


def test_an_unknown_kl_part_or_a_negative_bound_is_refused():
    with pytest.raises(ValueError, match="kl_part must be one of .'both', 'variance'., got 'mean'"):
        elbo.Elbo(kl_part="mean")
    with pytest.raises(ValueError, match="mu_bound must be >= 0, got -1"):
        elbo.Elbo(mu_bound=-1.0)


def test_the_variance_part_alone_with_the_isotropic_posterior_counts_the_shared_variance_per_unit():
    torch.manual_seed(4)
    model, x = models.MLPVAE(4, posterior="isotropic"), torch.rand(8, 1, 28, 28)
    torch.manual_seed(5)
    step = elbo.Elbo(kl_part="variance")(model, x)
    mu, logvar = model.encode(x)  # logvar (8, 4): the one variance, repeated per unit
    torch.manual_seed(5)
    t = elbo.elbo_terms(model, x)
    var_part = 0.5 * (logvar.exp() - logvar - 1).sum(1)
    torch.testing.assert_close(step.minimise, (t.distortion + var_part).mean())
    torch.testing.assert_close(var_part, 4 * 0.5 * (logvar[:, 0].exp() - logvar[:, 0] - 1))
