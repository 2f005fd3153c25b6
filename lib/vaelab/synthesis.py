"""Part III: one grid of runs for both papers' questions, and what is measured on it.

The grid crosses two data sets (Fashion-MNIST, MNIST), two posteriors (Azmoodeh's isotropic
N(mu, sigma^2 I), Asperti's diagonal N(mu, diag sigma^2)), the latent dimensions and the seeds, all
with Part I's MLP VAE and Adam. No paper sets this budget, so the number of epochs is measured:
one run per data set and posterior at n = 20 records its held-out -ELBO after every epoch, and the
grid trains for as long as the slower posterior needs to converge (`grid_epochs`).
"""

from __future__ import annotations

from vaelab import cache, metrics

DATASETS = ("fashion-mnist", "mnist")
POSTERIORS = ("isotropic", "diagonal")
HELDOUT = 1000  # test images of every run's held-out -ELBO curve
PROBE_DIM = 20  # latent dimension of the convergence runs
PRECISION = "bf16"  # 1.3-1.5x faster here, ELBO within 0.4 nats of fp32 (appendix Performance)


def fit_config(run, data: str, posterior: str, latent_dim: int, *, seed: int, epochs: int):
    """The `FitConfig` of one run; `run` is a resolved `synthesis` profile. `train_limit` applies to
    Fashion-MNIST only (MNIST here is at most the 5,000-image subset)."""
    limit = run.train_limit if data == "fashion-mnist" else 0
    return cache.mlp_fit_config(latent_dim, posterior=posterior, epochs=epochs,
                                batch_size=run.batch_size, lr=run.lr, train_limit=limit,
                                seed=seed, name=data, precision=PRECISION,
                                heldout=HELDOUT)  # fmt: skip


def probe_configs(run) -> dict:
    """`{(data, posterior): config}`: the convergence runs, n = 20, seed 0, `probe_epochs` long."""
    return {
        (data, post): fit_config(run, data, post, PROBE_DIM, seed=0, epochs=epochs)
        for data, epochs in zip(DATASETS, run.probe_epochs, strict=True)
        for post in POSTERIORS
    }


def grid_epochs(curves: dict, *, tol: float, window: int) -> dict:
    """Epochs of the grid from held-out -ELBO curves `{posterior: [per epoch]}`: the later of
    the posteriors' `metrics.converged_epoch`; a curve that never converged counts its full
    length (`converged` then says None for it)."""
    converged = {p: metrics.converged_epoch(c, tol=tol, window=window) for p, c in curves.items()}
    epochs = max(len(curves[p]) if e is None else e for p, e in converged.items())
    return {"epochs": epochs, "converged": converged}


def grid_configs(run, epochs: dict) -> dict:
    """`{(data, posterior, latent_dim, seed): config}` of the whole grid; `epochs[data]`."""
    return {
        (data, post, n, seed): fit_config(run, data, post, n, seed=seed, epochs=epochs[data])
        for data in DATASETS
        for post in POSTERIORS
        for n in run.latent_dims
        for seed in run.seeds
    }
