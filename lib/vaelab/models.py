"""Dense and convolutional VAEs behind one interface.

Every model has `encode(x) -> (mu, logvar)` with both `(batch, latent_dim)`, `decode(z) ->`
logits (Bernoulli likelihood) or means (Gaussian likelihood) of shape `(batch, 1, 28, 28)`, and
the attributes `latent_dim`, `posterior` and `likelihood`. A Gaussian likelihood adds a scalar
`obs_logvar` (the log-variance of every pixel): learned, or fixed by `obs_var`. The training loop
and the ELBO only use this interface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

POSTERIORS = ("diagonal", "isotropic")
LIKELIHOODS = ("bernoulli", "gaussian")
IMAGE_SHAPE = (1, 28, 28)

# metadata of a config field added after entries were cached: `cache.config_key` leaves it out
# while it is at its default, so those entries keep their keys
ADDED_LATER = {"cache": "added later"}


@dataclass(frozen=True)
class ModelConfig:
    """What `build` needs to make a model; part of the cache key."""

    kind: str = "mlp"  # "mlp" (MLPVAE) or "conv" (ConvVAE, Asperti Fig. 5)
    latent_dim: int = 20  # n, the number of latent units
    hidden: tuple[int, ...] = (256, 256)  # widths of the dense encoder (decoder mirrors it)
    posterior: str = "diagonal"  # "diagonal": one variance per unit; "isotropic": one per input
    likelihood: str = "bernoulli"  # "bernoulli" (logits) or "gaussian" (means, learned variance)
    obs_var: float = field(default=0.0, metadata=ADDED_LATER)  # Gaussian: fixed variance; 0 learned


class VAE(nn.Module):
    """Common checks and the Gaussian observation variance; subclasses build the networks."""

    def __init__(self, latent_dim: int, posterior: str, likelihood: str, obs_var: float = 0.0):
        super().__init__()
        if not isinstance(latent_dim, int) or isinstance(latent_dim, bool) or latent_dim <= 0:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        if posterior not in POSTERIORS:
            raise ValueError(f"unknown posterior {posterior!r}; choose one of {POSTERIORS}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
        self.latent_dim = latent_dim
        self.posterior = posterior
        self.likelihood = likelihood
        if obs_var < 0:
            raise ValueError(f"obs_var must be > 0 (fixed) or 0 (learned), got {obs_var:g}")
        if obs_var and likelihood != "gaussian":
            raise ValueError(f"obs_var is the variance of a Gaussian decoder, not {likelihood!r}")
        if likelihood == "gaussian" and obs_var:
            self.register_buffer("obs_logvar", torch.tensor(math.log(obs_var)))
        elif likelihood == "gaussian":
            self.obs_logvar = nn.Parameter(torch.zeros(()))

    def _output(self, h: torch.Tensor) -> torch.Tensor:
        h = h.reshape(-1, *IMAGE_SHAPE)
        return torch.sigmoid(h) if self.likelihood == "gaussian" else h

    def _posterior(self, mu: torch.Tensor, logvar: torch.Tensor):
        return mu, logvar.expand_as(mu)  # isotropic: (batch, 1) shared by all units

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(mu), mu, logvar


class MLPVAE(VAE):
    """Fully connected VAE: 784 -> hidden... -> (mu, logvar); decoder mirrors the encoder.

    With `posterior="isotropic"` the encoder outputs μ ∈ Rⁿ and one log σ² per input, shared by
    all units (Azmoodeh's model); with "diagonal", one log σ² per unit (Asperti's).
    """

    def __init__(
        self,
        latent_dim: int,
        hidden: tuple[int, ...] = (256, 256),
        *,
        posterior: str = "diagonal",
        likelihood: str = "bernoulli",
        obs_var: float = 0.0,
    ):
        super().__init__(latent_dim, posterior, likelihood, obs_var)
        hidden = tuple(hidden)
        if not hidden or any(not isinstance(h, int) or h <= 0 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive ints, got {hidden!r}")
        self.hidden = hidden
        widths = (784, *hidden)
        self.encoder = _mlp(widths)
        self.mu = nn.Linear(hidden[-1], latent_dim)
        self.logvar = nn.Linear(hidden[-1], latent_dim if posterior == "diagonal" else 1)
        self.decoder = nn.Sequential(_mlp((latent_dim, *hidden[::-1])), nn.Linear(hidden[0], 784))

    def encode(self, x: torch.Tensor):
        h = self.encoder(x.reshape(x.shape[0], -1))  # (batch, hidden[-1])
        return self._posterior(self.mu(h), self.logvar(h))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self._output(self.decoder(z))


def _mlp(widths: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class ConvVAE(VAE):
    """Asperti's convolutional VAE (Fig. 5), taken literally from the figure's table.

    Encoder 28→14→14→7→4→4→2→2→1, with BatchNorm + ReLU exactly where the figure lists them
    (the other convolutions have no activation between them, as in the figure); the three layers
    it labels "3x3" at 4→2, 2→2 and 2→1 must be 2×2 kernels to have its 4,128 parameters.
    Two 1×1 convolutions give μ and log σ². The decoder mirrors the encoder with transposed
    convolutions: 1→2→2→4→4→7→14→14→28.
    """

    def __init__(
        self,
        latent_dim: int = 16,
        *,
        posterior: str = "diagonal",
        likelihood: str = "bernoulli",
        obs_var: float = 0.0,
        channels: int = 32,
    ):
        super().__init__(latent_dim, posterior, likelihood, obs_var)
        c, h = channels, channels // 2
        self.encoder = nn.Sequential(
            nn.Conv2d(1, h, 3, stride=2, padding=1),
            nn.BatchNorm2d(h),
            nn.ReLU(),  # 14
            nn.Conv2d(h, c, 3, padding=1),  # 14
            nn.Conv2d(c, c, 3, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 7
            nn.Conv2d(c, c, 3, stride=2, padding=1),  # 4
            nn.Conv2d(c, c, 3, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 4
            nn.Conv2d(c, c, 2, stride=2),  # 2
            nn.ZeroPad2d((0, 1, 0, 1)),  # Keras "same" padding of an even kernel
            nn.Conv2d(c, c, 2),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 2
            nn.Conv2d(c, c, 2, stride=2),  # 1
        )
        self.mu = nn.Conv2d(c, latent_dim, 1)
        self.logvar = nn.Conv2d(c, latent_dim if posterior == "diagonal" else 1, 1)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, c, 1),  # 1
            nn.ConvTranspose2d(c, c, 2, stride=2),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 2
            nn.ConvTranspose2d(c, c, 3, padding=1),  # 2
            nn.ConvTranspose2d(c, c, 2, stride=2),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 4
            nn.ConvTranspose2d(c, c, 3, padding=1),  # 4
            nn.ConvTranspose2d(c, c, 3, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # 7
            nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1),  # 14
            nn.ConvTranspose2d(c, h, 3, padding=1),
            nn.BatchNorm2d(h),
            nn.ReLU(),  # 14
            nn.ConvTranspose2d(h, 1, 3, stride=2, padding=1, output_padding=1),  # 28
        )

    def encode(self, x: torch.Tensor):
        h = self.encoder(x)  # (batch, channels, 1, 1)
        return self._posterior(self.mu(h).flatten(1), self.logvar(h).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self._output(self.decoder(z.reshape(z.shape[0], -1, 1, 1)))


def keras_param_counts(module: nn.Module) -> list[tuple[str, int]]:
    """Per-layer parameter counts as Keras reports them (BatchNorm counts its running stats).

    Returns `(layer name, count)` for every layer with parameters, in order, so a model can be
    checked against a Keras `summary()` table such as Asperti's Fig. 5.
    """
    rows = []
    for name, layer in module.named_modules():
        if list(layer.children()) or not list(layer.parameters(recurse=False)):
            continue
        count = sum(p.numel() for p in layer.parameters(recurse=False))
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            count += layer.running_mean.numel() + layer.running_var.numel()
        rows.append((f"{name} ({type(layer).__name__})", count))
    return rows


def build(config: ModelConfig) -> VAE:
    """The model a `ModelConfig` describes."""
    if config.kind == "mlp":
        return MLPVAE(
            config.latent_dim,
            tuple(config.hidden),
            posterior=config.posterior,
            likelihood=config.likelihood,
            obs_var=config.obs_var,
        )
    if config.kind == "conv":
        return ConvVAE(
            config.latent_dim,
            posterior=config.posterior,
            likelihood=config.likelihood,
            obs_var=config.obs_var,
        )
    raise ValueError(f"unknown model kind {config.kind!r}; choose 'mlp' or 'conv'")


def pixel_means(vae, z: torch.Tensor) -> torch.Tensor:
    """`decode(z)` as pixel means: probabilities for a Bernoulli decoder (its output is logits),
    the output itself for a Gaussian one."""
    out = vae.decode(z)
    return torch.sigmoid(out) if vae.likelihood == "bernoulli" else out


def device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
