"""Per-unit statistics of a trained encoder, every active-unit definition, the typicality gap,
and unit ablation (what zeroing a unit, or holding it at its mean, does to the decoder).

Notation: for data x, the encoder gives q(z|x) = N(mu(x), diag(σ²(x))) over n units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vaelab import elbo, models
from vaelab.elbo import kl_per_unit, log_normal


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


def kl_collapsed(
    mu: torch.Tensor, logvar: torch.Tensor, *, eps: float = 0.01, delta: float = 0.01
) -> torch.Tensor:
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


def inactive_mask(model, x: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """`(latent_dim,)` True where Var_x mu_j <= `threshold` on the images `x`: the units that
    are not active (Burda et al.: 0.01; Bonheme & Grześ: 0.1)."""
    mu, _ = encode_all(model, x)
    return mu.var(0) <= threshold


@torch.no_grad()
def decoder_use(model, x: torch.Tensor, *, mu: torch.Tensor | None = None) -> torch.Tensor:
    """How much the decoder uses each unit: `(latent_dim,)` nats per image.

    E_x[log p(x | mu(x)) - log p(x | mu(x) with mu_j replaced by its mean over x)]. It does not
    depend on the scale of mu_j, so it also applies to models trained without the KL term.
    `mu`: the images' posterior means when the caller has them already.
    """
    model.eval()
    dev = next(model.parameters()).device
    if mu is None:
        mu, _ = encode_all(model, x)
    mu, mean = mu.to(dev), mu.mean(0).to(dev)
    use = torch.zeros(model.latent_dim)
    for start in range(0, len(x), 500):
        xb, mb = x[start : start + 500].to(dev), mu[start : start + 500]
        base = elbo.log_likelihood(model, model.decode(mb), xb)
        for j in range(model.latent_dim):
            moved = mb.clone()
            moved[:, j] = mean[j]
            use[j] += (base - elbo.log_likelihood(model, model.decode(moved), xb)).sum().item()
    return use / len(x)


@torch.no_grad()
def zeroing(
    model,
    x: torch.Tensor,
    mask: torch.Tensor,
    *,
    samples: int,
    seed: int = 0,
    control: int | None = None,
    control_from: torch.Tensor | None = None,
) -> dict:
    """What setting the units in `mask` to 0 changes (Asperti's Fig. 4, measured).

    On `samples` draws z ~ N(0, I): the max and mean absolute change of the decoded pixel means.
    On the images `x`: the mean change of the ELBO (nats) when the decoder gets z ~ q(z|x) with
    those units zeroed (same noise; the KL term does not change). A control zeroes `control` of
    the other units (those with the least Var_x mu; default: as many as `mask` zeroes), taken
    among the units of `control_from` when given, to show what zeroing a used unit does.
    """
    if control is not None and control < 1:
        raise ValueError(f"control must be a positive number of units, got {control}")
    model.eval()
    mask = mask.bool().cpu()
    stats = unit_stats(model, x)
    allowed = torch.ones_like(mask) if control_from is None else control_from.bool().cpu()
    others = [j for j in stats.var_mu.argsort().tolist() if not mask[j] and allowed[j]]
    control = sorted(others[: int(mask.sum()) if control is None else control])
    out = {"zeroed": int(mask.sum()), **_zero_effect(model, x, mask, samples, seed)}
    effect = dict.fromkeys(("max_pixel_diff", "mean_pixel_diff", "elbo_change"), float("nan"))
    if control:
        control_mask = torch.zeros_like(mask)
        control_mask[control] = True
        effect = _zero_effect(model, x, control_mask, samples, seed)
    out.update({f"control_{k}": v for k, v in effect.items()}, control_units=control)
    return out


def one_unit_control(
    model, x: torch.Tensor, mask, unit: UnitStats, *, threshold: float = 0.1, **kw
) -> dict:
    """`zeroing` of the units in `mask` with a one-unit control: the least-varying unit above
    `threshold` in Var_x mu (Bonheme & Grześ' 0.1 by default, `bonheme_active`), so that the
    control is a clearly used unit however many units are inactive; adds its `control_var_mu`
    (NaN when no unit qualifies). `unit`: the model's `UnitStats` on `x`; `kw`: samples, seed."""
    used = bonheme_active(unit, threshold=threshold)
    out = zeroing(model, x, mask, control=1, control_from=used, **kw)
    picked = out["control_units"]
    return out | {"control_var_mu": unit.var_mu[picked[0]].item() if picked else float("nan")}


def _zero_effect(model, x, mask, samples: int, seed: int) -> dict:
    dev = next(model.parameters()).device
    keep = (~mask).float().to(dev)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, model.latent_dim, generator=gen).to(dev)
    diff = (models.pixel_means(model, z) - models.pixel_means(model, z * keep)).abs()
    change, count = 0.0, 0
    for start in range(0, len(x), 500):
        xb = x[start : start + 500].to(dev)
        mu, logvar = model.encode(xb)
        eps = torch.randn(mu.shape, generator=gen).to(dev)
        zq = mu + eps * (0.5 * logvar).exp()
        ll = elbo.log_likelihood(model, model.decode(zq * keep), xb)
        change += (ll - elbo.log_likelihood(model, model.decode(zq), xb)).sum().item()
        count += len(xb)
    return {
        "max_pixel_diff": diff.max().item(),
        "mean_pixel_diff": diff.mean().item(),
        "elbo_change": change / count,
    }


@torch.no_grad()
def zeroed_samples(model, mask: torch.Tensor, samples: int, *, seed: int = 0):
    """`(images, images with the units of mask zeroed)`, decoded from the same z ~ N(0, I)."""
    model.eval()
    dev = next(model.parameters()).device
    z = torch.randn(samples, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    z = z.to(dev)
    keep = (~mask.bool()).float().to(dev)
    return models.pixel_means(model, z).cpu(), models.pixel_means(model, z * keep).cpu()


def inactive_grid(stats: list[UnitStats], var_maxes, sigma2_mins) -> dict:
    """`{(var_max, sigma2_min): [inactive units of each of `stats`]}`: `inactive_units` at every
    pair of thresholds, to show how much a count owes to them."""
    return {
        (v, s): [int(inactive_units(st, var_max=v, sigma2_min=s).sum()) for st in stats]
        for v in var_maxes
        for s in sigma2_mins
    }
