"""linear: probabilistic PCA as a linear-Gaussian VAE, everything in closed form."""

import math

import pytest
import torch

from vaelab import elbo, linear

torch.set_default_dtype(torch.float32)


def _data(n=4000, d=784, k=3, s2=0.05, seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(d, k, generator=gen, dtype=torch.float64)
    z = torch.randn(n, k, generator=gen, dtype=torch.float64)
    x = z @ w.T + 0.3 + math.sqrt(s2) * torch.randn(n, d, generator=gen, dtype=torch.float64)
    return x.reshape(n, 1, 28, 28), w


def test_fit_recovers_the_noise_variance_and_the_covariance():
    x, w = _data()
    model = linear.fit(x, 3)
    assert model.w.shape == (784, 3) and model.b.shape == (784,)
    assert model.s2 == pytest.approx(0.05, rel=0.05)
    # W W^T is identified up to rotation
    assert torch.allclose(model.w @ model.w.T, w @ w.T, rtol=0, atol=0.3 * (w @ w.T).abs().max())
    with pytest.raises(ValueError, match="latent_dim must be between 1 and 783"):
        linear.fit(x, 784)


def test_log_marginal_matches_torch_multivariate_normal():
    x, _ = _data(n=50, d=16 * 49, k=2)
    model = linear.fit(x, 2)
    cov = model.w @ model.w.T + model.s2 * torch.eye(784, dtype=torch.float64)
    ref = torch.distributions.MultivariateNormal(model.b, cov).log_prob(x.reshape(50, -1))
    assert torch.allclose(linear.log_marginal(model, x), ref, atol=1e-8, rtol=0)


def test_posterior_is_gaussian_conditioning_of_the_joint():
    x, _ = _data(n=20, k=2)
    model = linear.rotated(linear.fit(x, 2), seed=1)
    mean, cov = linear.posterior(model, x[:3])
    # joint of (z, x): z ~ N(0, I), x = W z + b + noise
    c_xx = model.w @ model.w.T + model.s2 * torch.eye(784, dtype=torch.float64)
    gain = model.w.T @ torch.linalg.inv(c_xx)  # (k, D)
    ref_mean = (x[:3].reshape(3, -1).double() - model.b) @ gain.T
    ref_cov = torch.eye(2, dtype=torch.float64) - gain @ model.w
    assert torch.allclose(mean, ref_mean, atol=1e-8) and torch.allclose(cov, ref_cov, atol=1e-8)


def test_closed_form_elbo_matches_monte_carlo():
    x, _ = _data(n=10, k=2)
    model = linear.fit(x, 2)
    mean, cov = linear.posterior(model, x)
    q_cov = 2.0 * cov  # any Gaussian q
    exact = linear.elbo(model, x, mean, q_cov)
    gen = torch.Generator().manual_seed(0)
    eps = torch.randn(20000, 10, 2, generator=gen, dtype=torch.float64)
    z = mean + eps @ torch.linalg.cholesky(q_cov).T  # (S, N, k)
    xf = x.reshape(10, -1).double()
    log_px_z = -0.5 * (
        ((xf - z @ model.w.T - model.b) ** 2).sum(-1) / model.s2
        + 784 * math.log(2 * math.pi * model.s2)
    )
    log_pz = -0.5 * (z**2).sum(-1) - math.log(2 * math.pi)
    log_q = torch.distributions.MultivariateNormal(mean, q_cov).log_prob(z)
    mc = (log_px_z + log_pz - log_q).mean(0)
    assert torch.allclose(exact, mc, atol=0.5)


def test_identities_hold_to_precision_and_eq3_as_printed_does_not():
    x, _ = _data(n=200, k=4)
    report = linear.identities(linear.fit(x, 4), x, seed=0)
    assert report["elbo_at_posterior_minus_log_px"] < 1e-8
    assert report["gap_minus_kl"] < 1e-8
    assert report["mean_gap_diagonal_q"] > 1e-3  # the rotated model's posterior is not diagonal
    assert report["eq3_as_printed_error"] > 1  # it drops log p(x)


def test_linear_vae_plugs_into_the_iwae_bound():
    x, _ = _data(n=30, k=3)
    model = linear.fit(x, 3)
    vae = linear.LinearVAE(model)
    assert (vae.latent_dim, vae.posterior, vae.likelihood) == (3, "diagonal", "gaussian")
    log_px = linear.log_marginal(model, x)
    # principal axes: the exact posterior is diagonal, so every importance weight equals p(x)
    for k in (1, 7):
        assert torch.allclose(elbo.iwae_bound(vae, x, k), log_px, atol=1e-7)


def test_iwae_on_a_rotated_model_closes_the_gap_of_the_exact_kl():
    x, _ = _data(n=500, k=3, s2=1.0)
    fitted = linear.fit(x, 3)
    scale = torch.tensor([0.08, 0.03, 0.01], dtype=torch.float64)  # unequal posterior variances
    model = linear.rotated(linear.PPCA(fitted.w * scale, fitted.b, fitted.s2), seed=0)
    mean, cov = linear.posterior(model, x)
    kl = linear.kl_gaussians(mean, torch.diag(cov.diagonal()), mean, cov).mean().item()
    assert kl > 0.2
    log_px = linear.log_marginal(model, x)
    torch.manual_seed(0)
    vae = linear.LinearVAE(model)
    gap_1, gap_1000 = ((log_px - elbo.iwae_bound(vae, x, k)).mean().item() for k in (1, 1000))
    assert gap_1 == pytest.approx(kl, abs=0.1)
    assert abs(gap_1000) < 0.1 * kl
