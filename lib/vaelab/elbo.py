"""KL terms, likelihoods, the ELBO split into rate and distortion, and the IWAE bound.

All quantities are per example, in nats, unless a name says bits. With the prior p(z) = N(0, I)
and q(z|x) = N(mu, diag(exp(logvar))):

    rate       = KL(q(z|x) || p(z))            (sum over units of `kl_per_unit`)
    distortion = -E_q[log p(x|z)]               (one sample of z, or z = mu)
    -ELBO      = rate + distortion              (Azmoodeh's eq. 2: the code's rate)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .models import ADDED_LATER

LOG_2PI = math.log(2 * math.pi)


KL_PARTS = ("both", "variance")  # the whole KL, or only its variance part (Asperti's eq. 7)


def kl_per_unit(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) for each unit: (batch, latent_dim).

    `logvar` may be `(batch, latent_dim)` (diagonal posterior) or `(batch, 1)` (isotropic: one
    variance shared by all units); it broadcasts against `mu`.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).expand_as(mu)


def kl_isotropic(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Total KL of N(mu, σ² I) from N(0, I), σ² = exp(logvar) of shape (batch,) or (batch, 1).

    0.5 · (‖mu‖² + n σ² − n log σ² − n): the closed form with the shared variance factored out.
    """
    n = mu.shape[1]
    logvar = logvar.reshape(-1)
    return 0.5 * (mu.pow(2).sum(1) + n * (logvar.exp() - logvar - 1))


def log_likelihood(model, x_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) per example, summed over pixels: (batch,).

    Bernoulli: `x_out` are logits; x in [0, 1] (grey levels are used as soft targets, the usual
    practice for Fashion-MNIST and MNIST). Gaussian: `x_out` are means and every pixel has
    variance exp(model.obs_logvar).
    """
    x = x.reshape(x_out.shape)
    if model.likelihood == "bernoulli":
        ll = -F.binary_cross_entropy_with_logits(x_out, x, reduction="none")
    else:
        logvar = model.obs_logvar
        ll = -0.5 * ((x - x_out).pow(2) / logvar.exp() + logvar + LOG_2PI)
    return ll.flatten(1).sum(1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + LOG_2PI).sum(-1)


@dataclass
class ElboTerms:
    """One batch's terms; every tensor is per example except `loss`."""

    loss: torch.Tensor  # scalar to minimise: mean of distortion + kl_weight · rate
    elbo: torch.Tensor  # (batch,) in nats
    rate: torch.Tensor  # (batch,) KL(q(z|x) || p(z)) in nats
    distortion: torch.Tensor  # (batch,) -log p(x|z) in nats
    kl_per_unit: torch.Tensor  # (batch, latent_dim)
    mu: torch.Tensor  # (batch, latent_dim) posterior means


def elbo_terms(model, x: torch.Tensor, *, sample: bool = True, kl_weight: float = 1.0):
    """ELBO of a batch, split into rate and distortion (z sampled, or z = mu if not `sample`)."""
    mu, logvar = model.encode(x)
    z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
    kl = kl_per_unit(mu, logvar)  # (batch, latent_dim)
    rate = kl.sum(1)
    distortion = -log_likelihood(model, model.decode(z), x)
    loss = (distortion + kl_weight * rate).mean()
    return ElboTerms(loss, -(rate + distortion), rate, distortion, kl, mu)


@dataclass
class Step:
    """What an objective returns for one batch: the loss to minimise and the terms to record
    (name -> a batch-mean scalar or a per-example tensor; `train` keeps their epoch means)."""

    minimise: torch.Tensor  # scalar
    terms: dict[str, torch.Tensor]  # batch means (scalars) or per-example tensors (batch, ...)
    size: int  # examples in the batch


@dataclass(frozen=True)
class Elbo:
    """The VAE objective: -ELBO with the rate weighted by `kl_weight` (β), the latent sampled or
    decoded at its mean, and Asperti's quadratic penalty ½‖mu‖² (§VI) added with `mu_penalty`.

    `kl_part="variance"` keeps only the variance part of the KL in the loss, ½(σ² - log σ² - 1)
    per unit (-½ Asperti's eq. 7): nothing then pulls mu to 0. `mu_bound` adds
    `mu_bound · mu_excess(mu)`, which costs nothing while every unit's second moment over the
    batch is within the prior's 1.

    Records the batch's loss (without the penalties), rate (the whole KL), distortion and
    per-unit KL."""

    kl_weight: float = 1.0  # β; 0 drops the rate term
    sample_latent: bool = True  # False: decode z = mu (Asperti's "without sampling")
    mu_penalty: float = 0.0  # weight of ½‖mu‖² added to the loss to minimise
    kl_part: str = field(default="both", metadata=ADDED_LATER)  # one of KL_PARTS
    mu_bound: float = field(default=0.0, metadata=ADDED_LATER)  # weight of `mu_excess`

    def __post_init__(self):
        if self.kl_weight < 0 or self.mu_penalty < 0:
            raise ValueError(
                f"kl_weight and mu_penalty must be >= 0, got {self.kl_weight}, {self.mu_penalty}"
            )
        if self.kl_part not in KL_PARTS:
            raise ValueError(f"kl_part must be one of {KL_PARTS}, got {self.kl_part!r}")
        if self.mu_bound < 0:
            raise ValueError(f"mu_bound must be >= 0, got {self.mu_bound:g}")

    def __call__(self, model, x: torch.Tensor) -> Step:
        t = elbo_terms(model, x, sample=self.sample_latent, kl_weight=self.kl_weight)
        loss = t.loss
        if self.kl_part == "variance":  # the mean part ½mu² of each unit's KL taken out
            loss = (
                t.distortion + self.kl_weight * (t.kl_per_unit - 0.5 * t.mu.pow(2)).sum(1)
            ).mean()
        minimise = loss
        if self.mu_penalty:
            minimise = minimise + self.mu_penalty * 0.5 * t.mu.pow(2).sum(1).mean()
        if self.mu_bound:
            minimise = minimise + self.mu_bound * mu_excess(t.mu)
        terms = {"loss": loss, "rate": t.rate, "distortion": t.distortion}
        return Step(minimise, terms | {"kl_per_unit": t.kl_per_unit}, len(x))


def mu_excess(mu: torch.Tensor) -> torch.Tensor:
    """Σ_j max(0, mean over the batch of mu_j² - 1): how far the units' codes `mu` (batch, n)
    spread beyond the prior's unit second moment."""
    return (mu.pow(2).mean(0) - 1).clamp(min=0).sum()


def cross_entropy(model, batch) -> Step:
    """The classifier's objective: mean cross entropy of `model(x)` against the labels `y`."""
    x, y = batch
    loss = F.cross_entropy(model(x), y)
    return Step(loss, {"loss": loss}, len(x))


def bits_per_dim(nats: float | torch.Tensor, dims: int = 784):
    """Convert nats per example to bits per dimension."""
    return nats / (dims * math.log(2))


@torch.no_grad()
def iwae_bound(model, x: torch.Tensor, k: int, *, chunk: int = 64) -> torch.Tensor:
    """Importance-weighted bound (Burda et al. 2016) with k samples, per example: (batch,).

    log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x), zᵢ ~ q(z|x). k = 1 is an ELBO estimate; the bound
    rises towards log p(x) as k grows. Samples are drawn `chunk` at a time.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    mu, logvar = model.encode(x)
    logvar = logvar.expand_as(mu)
    std = (0.5 * logvar).exp()
    log_w = []
    for start in range(0, k, chunk):
        m = min(chunk, k - start)
        z = mu + torch.randn(m, *mu.shape, device=mu.device, dtype=mu.dtype) * std  # (m, b, n)
        x_out = model.decode(z.reshape(-1, mu.shape[1]))
        ll = log_likelihood(model, x_out, x.repeat(m, 1, 1, 1)).reshape(m, -1)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_w.append(ll + log_pz - log_normal(z, mu, logvar))
    return torch.logsumexp(torch.cat(log_w), 0) - math.log(k)


@torch.no_grad()
def evaluate(
    model, x: torch.Tensor, *, batch_size: int = 1000, sample: bool = True, seed: int | None = None
) -> dict:
    """Mean ELBO, rate and distortion over a data set, in nats and bits per dimension.

    With a `seed`, the posterior draws come from that seed and the global generator is left as
    it was; without one, from the global generator."""
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return evaluate(model, x, batch_size=batch_size, sample=sample)
    was_training = model.training
    model.eval()
    sums = {"elbo": 0.0, "rate": 0.0, "distortion": 0.0}
    dev = next(model.parameters()).device
    for start in range(0, len(x), batch_size):
        t = elbo_terms(model, x[start : start + batch_size].to(dev), sample=sample)
        for key in sums:
            sums[key] += getattr(t, key).sum().item()
    model.train(was_training)
    out = {key: value / len(x) for key, value in sums.items()}
    dims = x[0].numel()
    out.update({f"{key}_bpd": bits_per_dim(value, dims) for key, value in list(out.items())})
    return out


@torch.no_grad()
def iwae_curve(model, x: torch.Tensor, ks, *, seed: int = 0, batch_size: int = 100) -> dict:
    """Mean IWAE bound over the images `x` for each k in `ks`: `{k: nats per image}`.

    k = 1 is an unbiased one-sample ELBO estimate, so `curve[k] − curve[1]` estimates
    E[IWAE_k] − ELBO, a lower bound on E KL(q(z|x) ‖ p(z|x)) that rises to it as k grows. The
    noise is drawn under `seed` (the global generator is left as it was).
    """
    was_training = model.training
    model.eval()
    dev = next(iter(model.state_dict().values())).device  # parameters or, if none, buffers
    out = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for k in ks:
            total = 0.0
            for start in range(0, len(x), batch_size):
                total += iwae_bound(model, x[start : start + batch_size].to(dev), k).sum().item()
            out[k] = total / len(x)
    model.train(was_training)
    return out
