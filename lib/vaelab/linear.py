"""Probabilistic PCA as a linear-Gaussian VAE: log p(x), the ELBO and the posterior in closed form.

The model (Tipping & Bishop 1999): z ~ N(0, I_k), x | z ~ N(W z + b, s² I_D). Then
p(x) = N(b, W Wᵀ + s² I) and p(z|x) = N(M⁻¹ Wᵀ (x − b), s² M⁻¹) with M = Wᵀ W + s² I_k. For any
Gaussian q(z|x) = N(m, S) the ELBO is closed form too, so the identity behind Azmoodeh's eq. (3),

    log p(x) − ELBO(q) = KL(q(z|x) ‖ p(z|x)),

can be checked to float64 precision, with no Monte Carlo. At the maximum-likelihood W (principal
axes) Wᵀ W is diagonal, so the exact posterior is a diagonal Gaussian and a VAE encoder can
represent it (`LinearVAE`); a rotation W R leaves p(x) unchanged but makes the posterior
correlated, so a diagonal q then leaves a gap. Pixels are continuous here: these are densities on
[0, 1]^784, not comparable with the Bernoulli VAEs' log-probabilities. All in float64, nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class PPCA:
    """A linear-Gaussian model x = W z + b + noise."""

    w: torch.Tensor  # (D, k) loadings
    b: torch.Tensor  # (D,) mean of x
    s2: float  # s², the variance of every pixel's noise

    @property
    def latent_dim(self) -> int:
        return self.w.shape[1]


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).double()  # (N, D)


def fit(x: torch.Tensor, latent_dim: int) -> PPCA:
    """Maximum-likelihood PPCA: W = U_k (Λ_k − s² I)^½, s² = mean of the D − k least eigenvalues."""
    x = _flat(x)
    d = x.shape[1]
    if not isinstance(latent_dim, int) or not 1 <= latent_dim < d:
        raise ValueError(f"latent_dim must be between 1 and {d - 1}, got {latent_dim!r}")
    b = x.mean(0)
    cov = (x - b).T @ (x - b) / len(x)
    evals, evecs = torch.linalg.eigh(cov)  # ascending
    evals, evecs = evals.flip(0).clamp(min=0), evecs.flip(1)
    s2 = evals[latent_dim:].mean().item()
    if not s2 > 0:
        raise ValueError("the data lie in a subspace of dimension <= latent_dim: s² would be 0")
    w = evecs[:, :latent_dim] * (evals[:latent_dim] - s2).clamp(min=0).sqrt()
    return PPCA(w, b, s2)


def rotated(model: PPCA, *, seed: int) -> PPCA:
    """The same p(x) with loadings W R for a random orthogonal R: its posterior is correlated."""
    gen = torch.Generator().manual_seed(seed)
    k = model.latent_dim
    r, _ = torch.linalg.qr(torch.randn(k, k, generator=gen, dtype=torch.float64))
    return PPCA(model.w @ r, model.b, model.s2)


def log_marginal(model: PPCA, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log N(x; b, W Wᵀ + s² I) per image: (N,)."""
    x = _flat(x) - model.b
    d = x.shape[1]
    chol = torch.linalg.cholesky(model.w @ model.w.T + model.s2 * torch.eye(d, dtype=x.dtype))
    white = torch.linalg.solve_triangular(chol, x.T, upper=False)  # (D, N)
    logdet = 2 * chol.diagonal().log().sum()
    return -0.5 * (white.pow(2).sum(0) + logdet + d * LOG_2PI)


def posterior(model: PPCA, x: torch.Tensor):
    """`(mean, cov)` of p(z|x): means `(N, k)` and the covariance `(k, k)` shared by every x."""
    k = model.latent_dim
    m = model.w.T @ model.w + model.s2 * torch.eye(k, dtype=model.w.dtype)
    mean = torch.linalg.solve(m, model.w.T @ (_flat(x) - model.b).T).T
    return mean, model.s2 * torch.linalg.inv(m)


def elbo(model: PPCA, x: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """ELBO of q(z|x) = N(mean, cov) in closed form, per image: (N,). `cov` is `(k, k)`."""
    x = _flat(x)
    d, k = x.shape[1], model.latent_dim
    residual = (x - model.b - mean @ model.w.T).pow(2).sum(1)
    spread = torch.trace(model.w @ cov @ model.w.T)
    expected_ll = -0.5 * ((residual + spread) / model.s2 + d * math.log(2 * math.pi * model.s2))
    return expected_ll - kl_gaussians(mean, cov, torch.zeros_like(mean), torch.eye(k).double())


def kl_gaussians(m1, s1, m2, s2) -> torch.Tensor:
    """KL(N(m1, s1) ‖ N(m2, s2)) per row of the means `(N, k)`; covariances `(k, k)`."""
    k = m1.shape[1]
    s2_inv = torch.linalg.inv(s2)
    diff = m2 - m1
    maha = ((diff @ s2_inv) * diff).sum(1)
    logdets = torch.logdet(s2) - torch.logdet(s1)
    return 0.5 * (torch.trace(s2_inv @ s1) + maha - k + logdets)


def gaps(model: PPCA, x: torch.Tensor, *, seed: int = 0) -> dict:
    """Per image `(N,)`, in nats: the terms the ELBO's decompositions relate.

    `log_px`; `elbo_posterior`, the ELBO of q = p(z|x); and, on a rotated copy (same p(x)) with
    the diagonal q = N(posterior mean, diag of the posterior covariance): `elbo_diagonal`,
    `kl_posterior` = KL(q ‖ p(z|x)) and `kl_prior` = KL(q ‖ p(z)).
    """
    log_px = log_marginal(model, x)
    mean, cov = posterior(model, x)
    elbo_posterior = elbo(model, x, mean, cov)
    turned = rotated(model, seed=seed)
    mean, cov = posterior(turned, x)
    q_cov = torch.diag(cov.diagonal())
    prior_cov = torch.eye(model.latent_dim, dtype=cov.dtype)
    return {
        "log_px": log_px,
        "elbo_posterior": elbo_posterior,
        "elbo_diagonal": elbo(turned, x, mean, q_cov),
        "kl_posterior": kl_gaussians(mean, q_cov, mean, cov),
        "kl_prior": kl_gaussians(mean, q_cov, torch.zeros_like(mean), prior_cov),
    }


def identities(model: PPCA, x: torch.Tensor, *, seed: int = 0) -> dict:
    """Check, image by image, what the ELBO's decompositions say (see `gaps`); errors in nats.

    - `elbo_at_posterior_minus_log_px`: max |ELBO(p(z|x)) − log p(x)| (should be 0);
    - `gap_minus_kl`: max |log p(x) − ELBO(q) − KL(q ‖ p(z|x))| for the diagonal q (should be 0),
      and `mean_gap_diagonal_q`, that KL;
    - `eq3_as_printed_error`: mean |ELBO(q) − (−KL(q ‖ p(z)) − KL(q ‖ p(z|x)))|, the paper's
      eq. (3) as printed, which leaves out log p(x).
    """
    g = gaps(model, x, seed=seed)
    return {
        "elbo_at_posterior_minus_log_px": (g["elbo_posterior"] - g["log_px"]).abs().max().item(),
        "gap_minus_kl": (g["log_px"] - g["elbo_diagonal"] - g["kl_posterior"]).abs().max().item(),
        "mean_gap_diagonal_q": g["kl_posterior"].mean().item(),
        "eq3_as_printed_error": (g["elbo_diagonal"] + g["kl_prior"] + g["kl_posterior"])
        .abs()
        .mean()
        .item(),
        "mean_log_px": g["log_px"].mean().item(),
    }


class LinearVAE(nn.Module):
    """A `PPCA` behind the VAE interface (`encode`, `decode`, Gaussian likelihood), in float64.

    The encoder returns the exact posterior mean and the diagonal of its covariance: the exact
    posterior when W has orthogonal columns (as `fit` returns it), a mean-field q otherwise.
    """

    def __init__(self, model: PPCA):
        super().__init__()
        self.model = model
        self.latent_dim, self.posterior, self.likelihood = model.latent_dim, "diagonal", "gaussian"
        self.register_buffer("obs_logvar", torch.tensor(math.log(model.s2), dtype=torch.float64))
        self.register_buffer("w", model.w)  # W and b in the state too, so that it names the model
        self.register_buffer("b", model.b)

    def encode(self, x: torch.Tensor):
        mean, cov = posterior(self.model, x)
        return mean, cov.diagonal().log().expand_as(mean)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.model.w.T + self.model.b).reshape(-1, 1, 28, 28)
