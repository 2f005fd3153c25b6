"""Typical sets of Gaussians, the AEP (Lemma 1), Lemma 2 and Theorem 3 of Azmoodeh et al.

Everything is in nats (natural logs), so the paper's 2^{-n h} reads e^{-n h} with h in nats. For
Z ~ N(mu 1, sigma2 I) in R^n, log f_n(Z) = -n/2 log(2 pi sigma2) - chi2_n / 2 exactly, and the
differential entropy h = 1/2 log(2 pi e sigma2) is negative for sigma2 < 1/(2 pi e): the regime
where the densities themselves, and the bound of step (5) of the paper's proof, grow with n.
Simulations draw Z itself (in float64 chunks), not the chi-square shortcut, so they check the
formulas rather than assume them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special, stats

CRITICAL_VARIANCE = 1 / (2 * math.pi * math.e)  # h(N(0, sigma2)) = 0 here
_CHUNK = 2_000_000  # float64 elements drawn at once


def gaussian_entropy(sigma2: float) -> float:
    """Differential entropy of N(mu, sigma2) in nats."""
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be positive, got {sigma2!r}")
    return 0.5 * math.log(2 * math.pi * math.e * sigma2)


def _log_density(z: torch.Tensor, sigma2: float, mu: float) -> torch.Tensor:
    n = z.shape[-1]
    return -0.5 * n * math.log(2 * math.pi * sigma2) - ((z - mu) ** 2).sum(-1) / (2 * sigma2)


def sample_log_density(n: int, *, sigma2: float, mu: float = 0.0, samples: int, seed: int = 0):
    """`(z, log f_n(z))` for draws of N(mu 1, sigma2 I_n): shapes (samples, n) and (samples,)."""
    gen = torch.Generator().manual_seed(seed)
    z = mu + math.sqrt(sigma2) * torch.randn(samples, n, generator=gen, dtype=torch.float64)
    return z, _log_density(z, sigma2, mu)


def _log_densities(n: int, sigma2: float, samples: int, gen: torch.Generator) -> torch.Tensor:
    """log f_n of `samples` fresh draws, without holding all of them: shape (samples,)."""
    rows = max(1, _CHUNK // n)
    out = []
    for start in range(0, samples, rows):
        k = min(rows, samples - start)
        z = math.sqrt(sigma2) * torch.randn(k, n, generator=gen, dtype=torch.float64)
        out.append(_log_density(z, sigma2, 0.0))  # the mean does not change log f_n(Z)
    return torch.cat(out)


def typical_probability(n: int, *, eps: float) -> float:
    """P(Z in A_eps^(n)) exactly: P(chi2_n in (n(1 - 2 eps), n(1 + 2 eps))), for any mu, sigma2."""
    lo, hi = max(0.0, n * (1 - 2 * eps)), n * (1 + 2 * eps)
    return float(stats.chi2.cdf(hi, n) - stats.chi2.cdf(lo, n))


def typical_set_log_volume(n: int, *, sigma2: float, eps: float) -> float:
    """log of the volume of A_eps^(n): a spherical shell with r^2 / (n sigma2) in (1 -+ 2 eps)."""
    log_ball = 0.5 * n * math.log(math.pi) - special.gammaln(n / 2 + 1)  # unit n-ball
    lo = max(0.0, 1 - 2 * eps)
    shell = 0.5 * n * math.log1p(2 * eps)
    if lo > 0:
        shell += math.log1p(-(((lo) / (1 + 2 * eps)) ** (n / 2)))
    return log_ball + 0.5 * n * math.log(n * sigma2) + shell


def aep(n_values, *, sigma2: float, samples: int, seed: int = 0, eps: float = 0.1) -> list[dict]:
    """Lemma 1 simulated: the per-unit log density -log f_n(Z)/n against h, for each n."""
    gen = torch.Generator().manual_seed(seed)
    h = gaussian_entropy(sigma2)
    rows = []
    for n in n_values:
        per_unit = (-_log_densities(n, sigma2, samples, gen) / n).numpy()
        rows.append(
            {
                "n": n,
                "entropy": h,
                "mean": float(per_unit.mean()),
                "sd": float(per_unit.std()),
                "q05": float(np.quantile(per_unit, 0.05)),
                "q95": float(np.quantile(per_unit, 0.95)),
                "typical_fraction": float((np.abs(per_unit - h) < eps).mean()),
                "typical_probability": typical_probability(n, eps=eps),
            }
        )
    return rows


def log_abs_diff(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log |e^a - e^b|, exact for densities far outside float range (-inf where a == b)."""
    hi, gap = torch.maximum(a, b), (a - b).abs()
    return hi + torch.log(-torch.expm1(-gap))


def theorem3(n_values, *, sigma2: float, samples: int, seed: int = 0) -> list[dict]:
    """Theorem 3 simulated: for pairs Z1, Z2 ~ N(mu 1, sigma2 I_n), per n, the median of
    log |f_n(Z1) - f_n(Z2)| (the theorem says it tends to -inf), the spread of the log ratio
    log f_n(Z1) - log f_n(Z2), and the spread of the per-unit log density (Lemma 1)."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for n in n_values:
        a, b = _log_densities(n, sigma2, samples, gen), _log_densities(n, sigma2, samples, gen)
        diff = log_abs_diff(a, b)
        rows.append(
            {
                "n": n,
                "sigma2": sigma2,
                "entropy": gaussian_entropy(sigma2),
                "log_abs_diff_median": float(diff.median()),
                "log_ratio_sd": float((a - b).std()),
                "per_unit_sd": float((a / n).std()),
            }
        )
    return rows


def proof_log_bound(n: int, *, h: float, eps: float) -> float:
    """log of the bound in step (5) of the proof: e^{-n(h - eps)} (1 - e^{-2 n eps}).

    It tends to -inf (the bound vanishes, step (6)) only when h > eps; for h < eps it grows.
    """
    return -n * (h - eps) + math.log(-math.expm1(-2 * n * eps))


def typicality_gap_prediction(n: int) -> float:
    """E|−(1/n) log q(z) − h̄| for z ~ q = any Gaussian on Rⁿ, in nats per unit.

    The gap is (χ²ₙ − n) / (2n) whatever the mean and covariance, so its expected size is the
    mean absolute deviation of χ²ₙ (a Gamma(n/2, 2): 4 (n/2)^{n/2} e^{−n/2} / Γ(n/2)) over 2n.
    It falls like 1/√(πn): a property of n alone, not of the model.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    k = n / 2
    log_mad = math.log(4) + k * math.log(k) - k - math.lgamma(k)
    return math.exp(log_mad) / (2 * n)
