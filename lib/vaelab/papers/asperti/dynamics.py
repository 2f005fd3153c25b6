"""Part II's training dynamics (Figs. 1, 2 and 11), one model per figure and seed.

`configs` builds the four models of each seed, `row` measures one seed's models, `glue` turns the
rows into the numbers the ledger's rules read: counts of seeds for Fig. 1, means and sds over the
seeds for Fig. 2, totals over every inactive unit of every seed for Fig. 11.
"""

from __future__ import annotations

import numpy as np

from vaelab import cache, metrics, quality, stats
from vaelab.papers import asperti

FIGURES = ("fig1", "sampling", "no sampling", "fig11")
FOUGHT_BELOW = 0.5  # Fig. 11: an inactive unit "fought" if its mean sigma^2 went below this
PAIRED = ("sphericity_sampling", "sphericity_no_sampling", "fid_sampling", "fid_no_sampling")


def configs(run, *, images: int, digits) -> dict[tuple[str, int], cache.FitConfig]:
    """`{(figure, seed): config}` for every seed of `run`: Fig. 1's 2-D model that records the ten
    `digits` every step for `run.track_steps` steps (on `images` training images), Fig. 2's 3-D
    model with and without sampling (the quadratic penalty kept), and the dense 16-unit model of
    §IV.A that records every unit (Fig. 11)."""
    track = asperti.epochs_for(run["track_steps"], images=images, batch_size=run["batch_size"])
    off = dict(kl_weight=0.0, mu_penalty=1.0, sample_latent=False)
    sizes = dict(epochs=run["epochs"], batch_size=run["batch_size"], lr=run["lr"])
    out = {}
    for s in run["seeds"]:
        kw = dict(seed=s, batch_size=run["batch_size"], lr=run["lr"], hidden=asperti.DENSE_FIG2)
        out[("fig1", s)] = asperti.fit_config("mlp", epochs=track, latent_dim=2, track=digits, **kw)
        out[("sampling", s)] = asperti.fit_config("mlp", epochs=run["epochs"], latent_dim=3, **kw)
        out[("no sampling", s)] = asperti.fit_config(
            "mlp", epochs=run["epochs"], latent_dim=3, **off, **kw
        )
        out[("fig11", s)] = asperti.runs("mlp", seeds=[s], data="mnist", **sizes)[0]
    return out


def sigma2_track(fit, steps: int) -> np.ndarray:
    """The ten tracked digits' mean sigma^2 at each of the first `steps` + 1 steps of Fig. 1."""
    track = fit[1]["hooks"]["track"][: steps + 1]
    return np.array([np.exp(p["value"]["logvar"]).mean() for p in track])


def row(
    fits: dict, *, steps: int, codes_x, x_test, classifier, reference, generated: int, seed: int
):
    """One seed's measurements from its `fits = {figure: (model, info)}`: Fig. 1's first and last
    mean sigma^2, Fig. 2's sphericity of the codes of `codes_x` and FID of `generated` samples
    (with generation seed `seed`) with and without sampling, and Fig. 11's inactive units (on
    `x_test`) and how many of them went below `FOUGHT_BELOW`."""
    sigma2 = sigma2_track(fits["fig1"], steps)
    out = {"sigma2_start": float(sigma2[0]), "sigma2_end": float(sigma2[-1])}
    for name in ("sampling", "no sampling"):
        model, key = fits[name][0].cpu(), name.replace(" ", "_")
        out[f"sphericity_{key}"] = asperti.sphericity(metrics.encode_all(model, codes_x)[0])
        fake = quality.features(classifier, quality.generate(model, generated, seed=seed))
        out[f"fid_{key}"] = quality.frechet_distance(fake, reference)
    model, info = fits["fig11"]
    mask = metrics.inactive_units(metrics.unit_stats(model.cpu(), x_test)).tolist()
    paths = asperti.give_up(info["hooks"]["units"])
    out["inactive"] = sum(mask)
    out["fought"] = sum(
        off and p["min_sigma2"] < FOUGHT_BELOW for p, off in zip(paths, mask, strict=True)
    )
    return out


def glue(rows: list[dict]) -> dict:
    """What the ledger's Fig. 1, 2 and 11 rules read, from one `row` per seed."""
    out = {
        "dynamics_seeds": len(rows),
        "fig1_strong_seeds": sum(r["sigma2_end"] < 0.1 * r["sigma2_start"] for r in rows),
        "fig1_falls_seeds": sum(r["sigma2_end"] < r["sigma2_start"] for r in rows),
        "fig11_inactive_total": sum(r["inactive"] for r in rows),
        "fig11_fought_total": sum(r["fought"] for r in rows),
    }
    for key in PAIRED:
        out[f"{key}_mean"], out[f"{key}_sd"] = stats.mean_sd([r[key] for r in rows])
    return out
