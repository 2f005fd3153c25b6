"""Part II's training dynamics (Figs. 1, 2 and 11), one model per figure and seed.

`configs` builds the four models of each seed, `row` measures one seed's models, `glue` turns the
rows into the numbers the ledger's rules read: counts of seeds for Fig. 1, means and sds over the
seeds for Fig. 2, totals over every inactive unit of every seed for Fig. 11.
"""

from __future__ import annotations

import numpy as np

from vaelab import cache, claims, metrics, quality, stats
from vaelab.papers import asperti

FIGURES = ("fig1", "sampling", "no sampling", "fig11")
FOUGHT_BELOW = 0.5  # Fig. 11: an inactive unit "fought" if its mean sigma^2 went below this
# The bars at which the chapter shows how Fig. 11's word depends on FOUGHT_BELOW (added
# 2026-12-01, after the published word at 0.5 was seen; the word is still judged at 0.5)
FOUGHT_BARS = (0.3, 0.4, 0.5, 0.7)
# Fig. 1: codes lie "around the origin" when their centroid is nearer to it than half their mean
# distance from the centroid; judged on the codes of the Fig. 2 images (5,000), not on the ten
# tracked digits, which pass it only ~81% of the time even when drawn from N(0, I)
CENTRED = 0.5
PAIRED = (
    "sphericity_sampling",
    "sphericity_no_sampling",
    "fid_sampling",
    "fid_no_sampling",
    "entropy_sampling",
    "entropy_no_sampling",
)


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


def track(fit, steps: int) -> list[dict]:
    """Fig. 1's probes of the ten tracked digits at the first `steps` + 1 steps of `fit`."""
    return fit[1]["hooks"]["track"][: steps + 1]


def sigma2_track(fit, steps: int) -> np.ndarray:
    """The ten tracked digits' mean sigma^2 at each of the first `steps` + 1 steps of Fig. 1."""
    return np.array([np.exp(p["value"]["logvar"]).mean() for p in track(fit, steps)])


def fought(paths: list[dict], mask: list[bool], bar: float = FOUGHT_BELOW) -> list[dict]:
    """Fig. 11: of the units' `asperti.give_up` rows, the inactive ones (`mask`) whose lowest mean
    sigma^2 went below `bar` before they gave up."""
    return [p for p, off in zip(paths, mask, strict=True) if off and p["min_sigma2"] < bar]


def layout(mu) -> tuple[float, float]:
    """Fig. 1: `(spread, centre)` of posterior means `mu` (points, 2), the ten tracked digits' or
    many images' codes: their mean distance from their centroid, and the centroid's distance from
    the origin."""
    mu = np.asarray(mu, dtype=float)
    centroid = mu.mean(0)
    return float(np.linalg.norm(mu - centroid, axis=1).mean()), float(np.linalg.norm(centroid))


def words_by_bar(glued: dict) -> str:
    """Fig. 11's word at each of `FOUGHT_BARS`: the ledger's rule on the totals `glue` made."""
    claim = claims.ledger(asperti.CLAIMS)["asperti.fig11.give_up"]
    words = []
    for bar in FOUGHT_BARS:
        at = dict(glued) | {"fig11_fought_total": glued[f"fig11_fought_below_{bar:g}"]}
        words.append(f"{claim.rule(claim.measure(at, {})).word} below {bar:g}")
    return "; ".join(words)


def row(
    fits: dict, *, steps: int, codes_x, x_test, classifier, reference, generated: int, seed: int
):
    """One seed's measurements from its `fits = {figure: (model, info)}`: Fig. 1's first and last
    mean sigma^2, Fig. 2's sphericity of the codes of `codes_x` and the FID and class entropy of
    `generated` samples (with generation seed `seed`) with and without sampling, Fig. 11's
    inactive units (on `x_test`) and how many of them went below `FOUGHT_BELOW` (and below each
    of `FOUGHT_BARS`), Fig. 1's `layout` of the ten digits at the first (spread) and the last step
    (both), and that of its model's codes of `codes_x` at the end."""
    sigma2, probes = sigma2_track(fits["fig1"], steps), track(fits["fig1"], steps)
    out = {"sigma2_start": float(sigma2[0]), "sigma2_end": float(sigma2[-1])}
    (out["spread_start"], _), (out["spread_end"], out["centre_end"]) = (
        layout(p["value"]["mu"]) for p in (probes[0], probes[-1])
    )
    codes = metrics.encode_all(fits["fig1"][0].cpu(), codes_x)[0]
    out["codes_spread"], out["codes_centre"] = layout(codes)
    for name in ("sampling", "no sampling"):
        model, key = fits[name][0].cpu(), name.replace(" ", "_")
        out[f"sphericity_{key}"] = asperti.sphericity(metrics.encode_all(model, codes_x)[0])
        images = quality.generate(model, generated, seed=seed)
        out[f"fid_{key}"] = quality.frechet_distance(
            quality.features(classifier, images), reference
        )
        out[f"entropy_{key}"] = quality.class_entropy(quality.predict(classifier, images))
    model, info = fits["fig11"]
    mask = metrics.inactive_units(metrics.unit_stats(model.cpu(), x_test)).tolist()
    paths = asperti.give_up(info["hooks"]["units"])
    out["inactive"] = sum(mask)
    out |= {f"fought_below_{bar:g}": len(fought(paths, mask, bar)) for bar in FOUGHT_BARS}
    return out


def glue(rows: list[dict]) -> dict:
    """What the ledger's Fig. 1, 2 and 11 rules read, from one `row` per seed."""
    out = {
        "dynamics_seeds": len(rows),
        "fig1_strong_seeds": sum(r["sigma2_end"] < 0.1 * r["sigma2_start"] for r in rows),
        "fig1_falls_seeds": sum(r["sigma2_end"] < r["sigma2_start"] for r in rows),
        "fig11_inactive_total": sum(r["inactive"] for r in rows),
        "fig11_fought_total": sum(r[f"fought_below_{FOUGHT_BELOW:g}"] for r in rows),
        "fig1_start_spread_max": max(r["spread_start"] for r in rows),
        "fig1_centred_seeds": sum(r["codes_centre"] < CENTRED * r["codes_spread"] for r in rows),
    }
    for bar in FOUGHT_BARS:
        out[f"fig11_fought_below_{bar:g}"] = sum(r[f"fought_below_{bar:g}"] for r in rows)
    for key in PAIRED:
        out[f"{key}_mean"], out[f"{key}_sd"] = stats.mean_sd([r[key] for r in rows])
    return out
