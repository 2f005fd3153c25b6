"""Per-unit statistics of a trained encoder, active and inactive units, and the typicality gap.

Notation: for data x, the encoder gives q(z|x) = N(mu(x), diag(σ²(x))) over n units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .elbo import kl_per_unit, log_normal


@dataclass
class UnitStats:
    """Per-unit statistics over a data set; each field is a `(latent_dim,)` tensor."""

    var_mu: torch.Tensor  # Var_x[mu_j(x)] (Burda et al.'s Cov_x E_q[z_j]; Asperti's "variance")
    mean_sigma2: torch.Tensor  # E_x[σ_j²(x)] (Asperti's "mean(σ²_θ(X))")
    mean_kl: torch.Tensor  # E_x[KL(q(z_j|x) || N(0, 1))] in nats
    mean_mu: torch.Tensor  # E_x[mu_j(x)]


@torch.no_grad()
def encode_all(model, x: torch.Tensor, *, batch_size: int = 1000):
    """`(mu, logvar)` of every image, both `(N, latent_dim)`, with the model in eval mode."""
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    mus, logvars = [], []
    for start in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[start : start + batch_size].to(dev))
        mus.append(mu.cpu())
        logvars.append(logvar.expand_as(mu).cpu())
    model.train(was_training)
    return torch.cat(mus), torch.cat(logvars)


def unit_stats(model, x: torch.Tensor, *, batch_size: int = 1000) -> UnitStats:
    """Per-unit statistics of `model`'s posterior over the images `x`."""
    return stats_of(*encode_all(model, x, batch_size=batch_size))


def stats_of(mu: torch.Tensor, logvar: torch.Tensor) -> UnitStats:
    """`UnitStats` from encoded `(mu, logvar)`, both `(N, latent_dim)`."""
    return UnitStats(
        var_mu=mu.var(0),
        mean_sigma2=logvar.exp().mean(0),
        mean_kl=kl_per_unit(mu, logvar).mean(0),
        mean_mu=mu.mean(0),
    )


def inactive_units(
    stats: UnitStats, *, var_max: float = 0.01, sigma2_min: float = 0.5
) -> torch.Tensor:
    """Asperti's inactive units: Var_x[mu_j] < `var_max` and E_x[σ_j²] > `sigma2_min`.

    A unit the decoder ignores sits at the prior: mu_j ≈ 0 for every x and σ_j² ≈ 1. Returns a
    boolean `(latent_dim,)` mask.
    """
    return (stats.var_mu < var_max) & (stats.mean_sigma2 > sigma2_min)


def active_units(stats: UnitStats, *, threshold: float = 0.01) -> torch.Tensor:
    """Burda et al. (2016): unit j is active when Cov_x(E_q[z_j]) = Var_x[mu_j] > `threshold`."""
    return stats.var_mu > threshold


@dataclass
class TypicalityGap:
    """Azmoodeh's Fig. 3 quantity; see `typicality_gap`."""

    per_unit: torch.Tensor  # (N,) −(1/n) log q(z|x) − h̄(x), in nats per unit
    relative_percent: torch.Tensor  # (N,) 100 · per_unit / |h̄(x)|
    entropy_per_unit: torch.Tensor  # (N,) h̄(x) = (1/n) Σ_j ½ log(2πe σ_j²(x))

    @property
    def mean_abs_relative_percent(self) -> float:
        return self.relative_percent.abs().mean().item()

    @property
    def mean_abs_per_unit(self) -> float:
        return self.per_unit.abs().mean().item()


@torch.no_grad()
def typicality_gap(model, x: torch.Tensor, *, seed: int = 0) -> TypicalityGap:
    """The gap between a posterior sample's log density and the posterior's entropy.

    For each image x: draw one z ~ q(z|x), take the per-unit code length −(1/n) log q(z|x) and
    the per-unit differential entropy h̄(x) = (1/n) Σ_j ½ log(2πe σ_j²(x)) (the "probability of a
    typical sequence" of Azmoodeh's Fig. 3, in log form). Returns, per image, the difference in
    nats per unit and the relative gap in % of |h̄(x)|.

    Whatever the model, the difference equals (χ²_n − n) / (2n) for a Gaussian q: its size is
    set by n alone, shrinking like 1/√(2n). The relative gap divides by h̄, which passes through 0
    at σ² = 1/(2πe) ≈ 0.0585, where it blows up.
    """
    return gap_of(*encode_all(model, x), seed=seed)


def gap_of(mu: torch.Tensor, logvar: torch.Tensor, *, seed: int = 0) -> TypicalityGap:
    """`typicality_gap` from encoded `(mu, logvar)`, both `(N, latent_dim)`."""
    gen = torch.Generator().manual_seed(seed)
    z = mu + torch.randn(mu.shape, generator=gen) * (0.5 * logvar).exp()
    n = mu.shape[1]
    code_length = -log_normal(z, mu, logvar) / n
    entropy = (0.5 * (logvar + math.log(2 * math.pi * math.e))).mean(1)
    gap = code_length - entropy
    return TypicalityGap(gap, 100.0 * gap / entropy.abs(), entropy)


@torch.no_grad()
def knn_accuracy(z: torch.Tensor, labels: torch.Tensor, *, k: int = 10, chunk: int = 1000) -> float:
    """Leave-one-out k-nearest-neighbour accuracy of `labels` from the points `z` (N, d).

    How well classes separate in a latent space (chance: the largest class's share); ties in
    the vote go to the smallest label. Distances are computed `chunk` rows at a time.
    """
    if not 1 <= k < len(z):
        raise ValueError(f"k must be between 1 and {len(z) - 1}, got {k}")
    z, labels = z.double(), labels.long()
    correct = 0
    for start in range(0, len(z), chunk):
        d = torch.cdist(z[start : start + chunk], z)  # (chunk, N)
        d[torch.arange(len(d)), torch.arange(start, start + len(d))] = float("inf")
        votes = labels[d.topk(k, largest=False).indices]  # (chunk, k)
        counts = torch.nn.functional.one_hot(votes, int(labels.max()) + 1).sum(1)
        correct += (counts.argmax(1) == labels[start : start + chunk]).sum().item()
    return correct / len(z)


def bonheme_active(stats: UnitStats, *, threshold: float = 0.1) -> torch.Tensor:
    """Bonheme & Grześ (2022): unit j is active when Var_x[mu_j] > `threshold` (0.1)."""
    return stats.var_mu > threshold


def kl_collapsed(mu: torch.Tensor, logvar: torch.Tensor, *, eps: float = 0.01,
                 delta: float = 0.01) -> torch.Tensor:  # fmt: skip
    """Lucas et al. (2019), (eps, delta)-collapse: unit j has collapsed when
    KL(q(z_j|x) || N(0, 1)) < `eps` nats for at least a fraction 1 - `delta` of the images.
    `mu`, `logvar`: `(N, latent_dim)`; returns a boolean `(latent_dim,)` mask."""
    small = kl_per_unit(mu, logvar.expand_as(mu)) < eps  # (N, latent_dim)
    return small.float().mean(0) >= 1 - delta


def active_counts(mu: torch.Tensor, logvar: torch.Tensor) -> dict[str, int]:
    """Active units of one encoding `(mu, logvar)` by three definitions, on the same data:
    Burda et al. (Var mu > 0.01), Bonheme & Grześ (Var mu > 0.1), Lucas et al. (not collapsed)."""
    stats = stats_of(mu, logvar.expand_as(mu))
    return {
        "burda": int(active_units(stats).sum()),
        "bonheme": int(bonheme_active(stats).sum()),
        "lucas": int((~kl_collapsed(mu, logvar)).sum()),
    }


def threshold_counts(values: torch.Tensor, thresholds) -> list[int]:
    """How many of `values` (one per unit) exceed each threshold: a count's sensitivity."""
    return [int((values > t).sum()) for t in thresholds]


def converged_epoch(loss, *, tol: float, window: int) -> int | None:
    """The first epoch (1-based) after which the loss falls by less than `tol` over the next
    `window` epochs; None when no such epoch has a full window after it."""
    if window < 1:
        raise ValueError(f"window must be a positive number of epochs, got {window}")
    for e in range(1, len(loss) - window + 1):
        if loss[e - 1] - min(loss[e : e + window]) < tol:
            return e
    return None
