"""Sample quality and diversity, measured with a Fashion-MNIST classifier that vaelab trains.

FID proper uses Inception-v3 features of ImageNet; no such network can be fetched here, and it
was not trained on 28×28 grey clothes anyway. We use the same recipe in the feature space of a
small convolutional classifier trained on Fashion-MNIST (cached like every model; its test
accuracy is stored with it): the Fréchet distance between Gaussians fitted to the features of
generated and of real images, and the entropy of the classes it predicts for generated images
(diversity: log2 10 ≈ 3.32 bits when every class is drawn equally often, 0 for one class).
Numbers are comparable within this book, not with published FIDs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from vaelab import cache, data, elbo, metrics, models, train
from vaelab.models import device as default_device

FEATURES = 128  # width of the classifier's feature layer


@dataclass(frozen=True)
class ClassifierConfig:
    """How the feature classifier is trained; the cache key derives from it."""

    name: str = "fashion-mnist"  # data set (its "train" split)
    epochs: int = 10  # passes over the training images
    batch_size: int = 128  # images per Adam step
    lr: float = 1e-3  # Adam learning rate
    train_limit: int = 0  # training images, 0 for all
    test_limit: int = 0  # test images for the reported accuracy, 0 for all
    seed: int = 0  # weights and batch order
    width: int = 16  # channels of the first convolution (the second has twice as many)

    def __post_init__(self):
        for name in ("epochs", "batch_size", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("train_limit", "test_limit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0: all images), got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")


class Classifier(nn.Module):
    """conv 3×3 → pool → conv 3×3 → pool → dense `FEATURES` (the feature layer) → 10 logits."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (2w, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * width * 49, FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def fit_classifier(config: ClassifierConfig = ClassifierConfig()):
    """`(classifier, info)`: loaded from the training cache or trained; `info["test_accuracy"]`."""
    dev = default_device()
    key = cache.config_key(config)

    def load(entry):
        found = cache.read_entry(entry, key, lambda: Classifier(config.width))
        return None if found is None else (found[0].to(dev).eval(), found[1])

    def make(entry):
        model, info = _train_classifier(config, key, dev)
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        cache.write_entry(entry, key, config, state, info)
        return model, info

    return cache.load_or_make(key, load, make)


def _train_classifier(config: ClassifierConfig, key: str, dev: torch.device):
    """Train through `vaelab.train` (the VAEs' loop) with the cross-entropy objective."""
    x, y = data.load(config.name, "train")
    x, y = x[: config.train_limit or None], y[: config.train_limit or None]
    torch.manual_seed(config.seed)
    model = Classifier(config.width)
    t0 = time.perf_counter()
    info = train.train(
        model,
        x,
        train.TrainConfig(epochs=config.epochs, batch_size=config.batch_size, lr=config.lr),
        objective=elbo.cross_entropy,
        y=y,
        seed=config.seed,
        device=dev,
        desc=f"classifier {config.name}",
        fused_adam=False,  # the entries cached before this loop used torch's default Adam
    )
    info["run"] = cache.run_info(key, config.name, time.perf_counter() - t0, dev)
    x_test, y_test = data.load(config.name, "test", quiet=True)
    n_test = config.test_limit or len(x_test)
    info["test_accuracy"] = (
        (predict(model, x_test[:n_test]) == y_test[:n_test]).float().mean().item()
    )
    return model.eval(), info


@torch.no_grad()
def _batched(fn, model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    dev = next(model.parameters()).device
    return torch.cat(
        [fn(x[s : s + batch_size].to(dev)).cpu() for s in range(0, len(x), batch_size)]
    )


def features(model: Classifier, x: torch.Tensor) -> torch.Tensor:
    """The classifier's feature layer for images `x` (N, 1, 28, 28): `(N, FEATURES)`."""
    return _batched(model.body, model, x)


def predict(model: Classifier, x: torch.Tensor) -> torch.Tensor:
    """Predicted classes `(N,)`."""
    return _batched(lambda b: model(b).argmax(1), model, x)


def frechet_distance(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """‖m1 − m2‖² + tr(S1 + S2 − 2 (S1^½ S2 S1^½)^½) for Gaussians fitted to two feature sets."""
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(
            f"both sets need the same number of features, got {f1.shape[1]} and {f2.shape[1]}"
        )
    f1, f2 = f1.double(), f2.double()
    s1, s2 = torch.cov(f1.T).reshape(f1.shape[1], -1), torch.cov(f2.T).reshape(f2.shape[1], -1)
    evals, evecs = torch.linalg.eigh(s1)
    root1 = evecs @ torch.diag(evals.clamp(min=0).sqrt()) @ evecs.T
    cross = torch.linalg.eigvalsh(root1 @ s2 @ root1).clamp(min=0).sqrt().sum()
    mean_term = (f1.mean(0) - f2.mean(0)).pow(2).sum()
    return (mean_term + torch.trace(s1) + torch.trace(s2) - 2 * cross).item()


def class_entropy(labels: torch.Tensor, num_classes: int = 10) -> float:
    """Entropy in bits of the empirical distribution of `labels`."""
    if labels.numel() == 0:
        raise ValueError("no labels: generate at least one image")
    p = torch.bincount(labels.long(), minlength=num_classes).double() / labels.numel()
    p = p[p > 0]
    return -(p * p.log2()).sum().item()


@torch.no_grad()
def reconstruct(vae, x: torch.Tensor, *, batch_size: int = 1000) -> torch.Tensor:
    """The decoder's pixel means at the posterior means of images `x`: (N, 1, 28, 28)."""
    mu, _ = metrics.encode_all(vae, x, batch_size=batch_size)
    dev = next(vae.parameters()).device
    batches = range(0, len(mu), batch_size)
    out = [models.pixel_means(vae, mu[s : s + batch_size].to(dev)).cpu() for s in batches]
    return torch.cat(out).reshape(len(x), 1, 28, 28)


@torch.no_grad()
def generate(vae, samples: int, *, seed: int = 0, batch_size: int = 1000) -> torch.Tensor:
    """Images decoded from z ~ N(0, I) as pixel means (Bernoulli: probabilities): (N, 1, 28, 28)."""
    vae.eval()
    dev = next(vae.parameters()).device
    z = torch.randn(samples, vae.latent_dim, generator=torch.Generator().manual_seed(seed))
    batches = range(0, samples, batch_size)
    return torch.cat(
        [models.pixel_means(vae, z[s : s + batch_size].to(dev)).cpu() for s in batches]
    )
