"""Asperti's sparsity experiments: his models as configs, and what Part II measures on them.

The architectures are the paper's (dense MNIST 784-256-32-24-16, Fig. 2's 784-256-64-16-3, dense
tiles 784-512-256-64-32-16, the convolutional net of Fig. 5); the paper gives no optimiser or
epochs, so every config uses Adam, batch 128 (its Fig. 11) and a learning rate of 1e-3.
Measurements: the per-unit table (Tables I and II), what zeroing the inactive units changes,
how much the decoder uses each unit, tiles counted as connected components, and eq. (7).
The paper's own numbers are in `asperti.paper`, its claims and their rules in `asperti.claims`
(with the counts in `asperti.counts`).
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import torch

from vaelab import cache, elbo, evals, metrics, models, stats
from vaelab import data as dataset
from vaelab.elbo import evaluate
from vaelab.papers.asperti.claims import CLAIMS, CUTOFFS  # noqa: F401 (re-exported)
from vaelab.papers.asperti.paper import (  # noqa: F401 (re-exported: asperti.PAPER_*)
    PAPER_FIG5,
    PAPER_INACTIVE,
    PAPER_TABLE_I,
    PAPER_TABLE_II,
)
from vaelab.papers.asperti.stable import longer  # noqa: F401 (re-exported)
from vaelab.papers.asperti.tiles import (  # noqa: F401 (re-exported: the tiles chapter uses them)
    COUNT_THRESHOLDS,
    MIN_TILE_PIXELS,
    count_fractions,
    count_tiles,
    counters,
    counting_measure,
    counting_table,
    counting_words,
    filtered_shares,
    fraction_over,
    over3_by_counter,
)
from vaelab.train import TrainConfig

LATENT_DIM = 16  # every model of §IV.A, §IV.B and §V
DENSE_MNIST = (256, 32, 24)  # Fig. 3: 784-256-32-24-16
DENSE_TILES = (512, 256, 64, 32)  # §V: 784-512-256-64-32-16
DENSE_FIG2 = (256, 64, 16)  # Fig. 2: 784-256-64-16-3 (and Fig. 1, in two dimensions)
PROBE_IMAGES = 1000  # training images whose per-unit statistics are followed (Fig. 11)
PROBE_EVERY = 8  # steps between two probes
USE_MIN = 0.1  # nats per image: a unit whose removal costs less is not used by the decoder
TILES_TEST = 2000  # held-out tiles images


def fit_config(
    kind: str,
    *,
    epochs: int,
    seed: int,
    data: str = "mnist",
    tiles_images: int = 0,
    train_images: int = 0,
    hidden: tuple[int, ...] | None = None,
    latent_dim: int = LATENT_DIM,
    batch_size: int = 128,
    lr: float = 1e-3,
    kl_weight: float = 1.0,
    sample_latent: bool = True,
    mu_penalty: float = 0.0,
    kl_part: str = "both",
    mu_bound: float = 0.0,
    likelihood: str = "bernoulli",
    obs_var: float = 0.0,
    probe: bool = False,
    track: tuple[int, ...] = (),
) -> cache.FitConfig:
    """One of Asperti's models as a `FitConfig`; every chapter of Part II builds its runs here.

    kind: "mlp" (hidden defaults to the paper's widths for `data`) or "conv" (Fig. 5).
    data: "mnist" (full when available, else the 5k subset), "fashion-mnist" (the first
    `train_images`, 0 for all: the data-size chapter) or "tiles" (`tiles_images` images).
    kl_part, mu_bound: `elbo.Elbo`'s (eq. 7 alone: "variance", with mu bounded).
    likelihood, obs_var: the decoder's (`models.ModelConfig`; Bernoulli unless asked).
    probe: record Var mu and mean sigma^2 of `PROBE_IMAGES` training images every `PROBE_EVERY`
    steps (Fig. 11); track: record (mu, logvar) of these training images at every step (Fig. 1).
    """
    if kind not in ("mlp", "conv"):
        raise ValueError(f"kind must be 'mlp' or 'conv', got {kind!r}")
    if data not in ("mnist", "fashion-mnist", "tiles"):
        raise ValueError(f"data must be 'mnist', 'fashion-mnist' or 'tiles', got {data!r}")
    if train_images and data != "fashion-mnist":
        raise ValueError(f"train_images takes a subset of Fashion-MNIST, not of {data!r}")
    if data == "tiles" and not (isinstance(tiles_images, int) and tiles_images > 0):
        raise ValueError(f"tiles_images must be a positive integer for tiles, got {tiles_images}")
    if probe and track:
        raise ValueError("a run records either probe (Fig. 11) or track (Fig. 1), not both")
    if hidden is None:
        hidden = () if kind == "conv" else DENSE_TILES if data == "tiles" else DENSE_MNIST
    tiles = dataset.TilesSpec(n=tiles_images) if data == "tiles" else None
    hooks = {}
    if probe:
        hooks = dict(probe_every=PROBE_EVERY, probe_indices=tuple(range(PROBE_IMAGES)))
    if track:
        hooks = dict(probe_every=1, track_indices=tuple(track))
    return cache.FitConfig(
        data=dataset.DataConfig(data, "train", limit=train_images or None, tiles=tiles),
        model=models.ModelConfig(kind, latent_dim, tuple(hidden), "diagonal", likelihood, obs_var),
        train=TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, **hooks),
        seed=seed,
        objective=elbo.Elbo(kl_weight, sample_latent, mu_penalty, kl_part, mu_bound),
    )


def tiles_test(images: int):
    """Held-out tiles images `(x, y)`: the test split of the same generator."""
    return dataset.load("tiles", "test", tiles=dataset.TilesSpec(n=images))


def one_per_class(y: torch.Tensor, *, classes: int = 10) -> tuple[int, ...]:
    """Index of the first image of each class (Fig. 1 follows one digit per class)."""
    found = []
    for c in range(classes):
        idx = torch.nonzero(y == c).flatten()
        if len(idx) == 0:
            raise ValueError(f"class {c} has no image")
        found.append(int(idx[0]))
    return tuple(found)


def unit_rows(stats: metrics.UnitStats) -> list[dict]:
    """Table I / II: per unit, Var_x mu, mean sigma^2, their sum and whether it is inactive."""
    inactive = metrics.inactive_units(stats).tolist()
    pairs = zip(stats.var_mu.tolist(), stats.mean_sigma2.tolist(), inactive, strict=True)
    return [
        {"unit": j, "var_mu": v, "mean_sigma2": s, "sum": v + s, "inactive": off}
        for j, (v, s, off) in enumerate(pairs)
    ]


def eq7(sigma2: torch.Tensor) -> torch.Tensor:
    """Asperti's eq. (7), the variance part of -2 KL: -sigma^2 + log sigma^2 + 1 (max 0 at 1)."""
    return -sigma2 + torch.log(sigma2) + 1


def nearest_beta(weights) -> float | None:
    """The KL weight of a sweep closest to 1, the plain ELBO (1 itself when it was swept; the
    smaller of two equally close); None when no weight is above 0."""
    positive = [float(b) for b in weights if b > 0]
    return min(positive, key=lambda b: (abs(b - 1), b)) if positive else None


def prior_frechet(codes: torch.Tensor) -> float:
    """Fréchet distance between a Gaussian fit of `codes` (N, n) and the prior N(0, I)."""
    codes = codes.double()
    mean, cov = codes.mean(0), torch.cov(codes.T).reshape(codes.shape[1], -1)
    eig = torch.linalg.eigvalsh(cov).clamp(min=0)
    return float(mean.pow(2).sum() + eig.sum() + len(eig) - 2 * eig.sqrt().sum())


def sphericity(codes: torch.Tensor) -> float:
    """How spherical the cloud of `codes` (N, n) is, free of scale and position: the smallest
    over the largest eigenvalue of their covariance (1 for a ball, near 0 for a flat cloud)."""
    codes = codes.double()
    eig = torch.linalg.eigvalsh(torch.cov(codes.T).reshape(codes.shape[1], -1)).clamp(min=0)
    return float(eig[0] / eig[-1])


@torch.no_grad()
def slice_grid(model, *, per_side: int = 5, slices: int = 5):
    """Fig. 2's generations: a per_side x per_side grid of (z1, z2) at each of `slices` values
    of z3, all at quantiles of N(0, 1) from 10% to 90%. Returns `(images, z)`."""
    normal = torch.distributions.Normal(0.0, 1.0)
    side = normal.icdf(torch.linspace(0.1, 0.9, per_side))
    levels = normal.icdf(torch.linspace(0.1, 0.9, slices))
    z = torch.stack(
        [torch.tensor([a, b, c]) for c in levels for a in side for b in side]
    )  # (slices * per_side^2, 3)
    model.eval()
    dev = next(model.parameters()).device
    return models.pixel_means(model, z.to(dev)).cpu(), z


def runs(
    kind: str,
    *,
    data: str,
    epochs: int,
    seeds,
    batch_size: int,
    lr: float,
    tiles_images: int = 0,
    probe: bool | None = None,
    **variant,
) -> list[cache.FitConfig]:
    """One `fit_config` per seed; the dense MNIST models probe their units (Fig. 11), so the
    β = 1 run of the KL sweep is the model of §IV.A; `probe` asks it of another model."""
    probe = kind == "mlp" and data == "mnist" if probe is None else probe
    return [
        fit_config(
            kind,
            data=data,
            tiles_images=tiles_images,
            epochs=epochs,
            seed=s,
            batch_size=batch_size,
            lr=lr,
            probe=probe,
            **variant,
        )
        for s in seeds
    ]


def epochs_for(steps: int, *, images: int, batch_size: int) -> int:
    """Epochs that give at least `steps` optimiser steps."""
    per_epoch = -(-images // batch_size)
    return -(-steps // per_epoch)


def report(model, x: torch.Tensor, *, seed: int = 0) -> dict:
    """One model's row: units inactive (Asperti), active (Burda: Var mu > 0.01) and used by the
    decoder (`decoder_use` > `USE_MIN`), the test ELBO (nats), max_j |Var mu_j + E sigma_j^2 - 1|
    over all units and over the inactive ones (NaN when there are none), and the per-unit
    `stats` and `use`. Computed once (`cache.memo`, keyed by the weights and the images)."""
    params = {"model": evals.fingerprint(model), "images": evals.fingerprint(x), "seed": seed}
    row = cache.memo("asperti-report", params, lambda: _report(model, x, seed=seed))
    stats = metrics.UnitStats(
        *(torch.tensor(row["stats"][f.name]) for f in fields(metrics.UnitStats))
    )
    return {**row, "stats": stats, "use": torch.tensor(row["use"])}


def _report(model, x: torch.Tensor, *, seed: int) -> dict:
    mu, logvar = metrics.encode_all(model, x)
    stats = metrics.stats_of(mu, logvar)
    use = metrics.decoder_use(model, x, mu=mu)
    off = metrics.inactive_units(stats)
    error = (stats.var_mu + stats.mean_sigma2 - 1).abs()
    return {
        "inactive": int(off.sum()),
        "active_burda": int(metrics.active_units(stats).sum()),
        "used": int((use > USE_MIN).sum()),
        "test_elbo": evaluate(model, x, seed=seed)["elbo"],
        "max_sum_error": error.max().item(),
        "max_sum_error_inactive": error[off].max().item() if off.any() else float("nan"),
        "stats": {f.name: getattr(stats, f.name).tolist() for f in fields(metrics.UnitStats)},
        "use": use.tolist(),
    }


def give_up(units: list[dict]) -> list[dict]:
    """Per unit, from the "units" probes of a run: the lowest mean sigma^2 it reached, the step it
    did, and its last value (Fig. 11: did inactive units first fight for a small variance?)."""
    sigma2 = np.array([u["value"]["mean_sigma2"] for u in units])  # (probes, units)
    steps = [u["step"] for u in units]
    rows = []
    for j in range(sigma2.shape[1]):
        low = int(sigma2[:, j].argmin())
        rows.append(
            {
                "unit": j,
                "min_sigma2": float(sigma2[low, j]),
                "min_step": steps[low],
                "final_sigma2": float(sigma2[-1, j]),
            }
        )
    return rows


def describe(config, row: dict) -> str:
    """One line for a trained model (`config`) and its `report` row: kind, seed, epochs, the
    three unit counts and the test ELBO."""
    return (
        f"{config.model.kind} seed {config.seed}, {config.train.epochs:>4} epochs: inactive "
        f"{row['inactive']:>2}, active (Burda) {row['active_burda']:>2}, used {row['used']:>2}, "
        f"test ELBO {row['test_elbo']:.2f} nats"
    )


def describe_zeroing(z: dict, one: dict | None = None) -> str:
    """One line for `metrics.zeroing`'s result: the inactive units' effect, then the control's;
    with `one` (`metrics.one_unit_control`), a second line for the one-unit control."""
    line = (
        f"{z['zeroed']} units zeroed: max pixel change {z['max_pixel_diff']:.2e}, mean "
        f"{z['mean_pixel_diff']:.2e}, ELBO change {z['elbo_change']:+.4f} nats | control (units "
        f"{z['control_units']}): max {z['control_max_pixel_diff']:.3f}, ELBO change "
        f"{z['control_elbo_change']:+.2f} nats"
    )
    if one is None:
        return line
    unit = one["control_units"][0] if one["control_units"] else "none"
    return (
        f"{line}\n  control of one unit ({unit}, Var mu {one['control_var_mu']:.3f}): ELBO change "
        f"{one['control_elbo_change']:+.2f} nats"
    )


def zeroing_glue(rows: list[dict], *, one_unit: list[dict] | None = None) -> dict:
    """What Fig. 4's rules read from one `metrics.zeroing` row per seed: the largest pixel and
    ELBO changes over the seeds, how many seeds had inactive units to zero, the first seed's
    control and the weakest control (smallest |ELBO change|) of the seeds that zeroed units.
    `one_unit`: the same seeds zeroed with a one-unit control (`control=1`); their weakest
    control is `one_unit_control_min`, and `one_unit_ratio` is that over the largest change."""
    tested = [z for z in rows if z["zeroed"]]
    out = {
        f"zeroing_{k}": stats.nanmax(z[k] for z in tested)
        for k in ("max_pixel_diff", "mean_pixel_diff")
    }
    out |= {"zeroing_seeds": len(tested), "control_elbo_change": rows[0]["control_elbo_change"]}
    out["zeroing_elbo_change"] = max(abs(z["elbo_change"]) for z in rows)
    out["control_elbo_change_min"] = stats.nanmin(abs(z["control_elbo_change"]) for z in tested)
    if one_unit is not None:
        pairs = zip(rows, one_unit, strict=True)
        weakest = stats.nanmin(abs(o["control_elbo_change"]) for z, o in pairs if z["zeroed"])
        out["one_unit_control_min"] = weakest
        change = out["zeroing_elbo_change"]
        out["one_unit_ratio"] = weakest / change if change else float("inf")
    return out


def inactive_along(units: list[dict]) -> tuple[list[int], list[int]]:
    """`(steps, counts)`: the number of inactive units (`metrics.inactive_units`' criterion) at
    each "units" probe of a run, on the probed training images."""
    steps, counts = [], []
    for u in units:
        stats = metrics.UnitStats(
            torch.tensor(u["value"]["var_mu"]), torch.tensor(u["value"]["mean_sigma2"]), None, None
        )
        steps.append(u["step"])
        counts.append(int(metrics.inactive_units(stats).sum()))
    return steps, counts


def kl_parts(mu: torch.Tensor, logvar: torch.Tensor):
    """The per-unit mean KL split as eq. (6) adds it: (E mu^2 / 2, -E eq7(sigma^2) / 2)."""
    return 0.5 * mu.pow(2).mean(0), -0.5 * eq7(logvar.exp()).mean(0)


def fig5_rows(model: models.ConvVAE) -> list[dict]:
    """The encoder's layers with their output shapes (channels, height, width) and parameter
    counts, beside Fig. 5's counts."""
    encoder = [r for r in models.keras_param_counts(model) if not r[0].startswith("decoder")]
    if len(encoder) != len(PAPER_FIG5):
        raise ValueError(f"expected {len(PAPER_FIG5)} encoder layers, got {len(encoder)}")
    shapes, handles = {}, []
    for name, layer in model.named_modules():
        if name.split(".")[0] in ("encoder", "mu", "logvar") and not list(layer.children()):
            hook = lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))  # noqa: E731
            handles.append(layer.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model.encode(torch.zeros(1, *models.IMAGE_SHAPE))
    model.train(was_training)
    for h in handles:
        h.remove()
    return [
        {"layer": name, "output": shapes[name.split(" ")[0]], "ours": n, "paper": p}
        for (name, n), p in zip(encoder, PAPER_FIG5, strict=True)
    ]
