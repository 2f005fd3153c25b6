"""Part III's fair tests of chapter 02, registered before they were run.

1. **Asperti's criterion on converged models.** The grid's models are trained for a budget
   measured at n = 20, and the largest ones had not converged by it. The diagonal model at the
   grid's largest n is trained again, every seed, as long as the convergence probes (2-3x the
   grid's epochs at `paper`); the convergence rule then reads each run's own held-out curve. On
   these models the units inactive by Asperti's criterion (Var_x mu_j < 0.01 *and* E_x sigma_j^2
   > 0.5: the unit sits at the prior, Part II's test) are zeroed, beside a control that zeroes
   the one unit with the least Var_x mu that the criterion keeps (a control that stays one unit
   wide however many units are inactive).
2. **n\\* against the grid's best point.** The model retrained at the intrinsic dimension n\\*
   is compared with the best diagonal model of the grid (highest mean test ELBO), trained for
   the same epochs, as well as with the largest.
"""

from __future__ import annotations

import functools

from vaelab import cache, elbo, metrics, quality, stats, sweep
from vaelab.papers.synthesis import Instrument, fit_config, place
from vaelab.papers.synthesis.rows import DATASETS, SHORT, summary

VAR_MAX, SIGMA2_MIN = 0.01, 0.5  # Asperti's criterion as Part II applies it (`metrics`)


def long_configs(run) -> dict:
    """`{(data, seed): config}`: the diagonal model at the grid's largest n, every seed,
    `probe_epochs[data]` epochs (the convergence probes' length)."""
    largest = max(run.latent_dims)
    return {
        (name, seed): fit_config(run, name, "diagonal", largest, seed=seed, epochs=epochs)
        for name, epochs in zip(DATASETS, run.probe_epochs, strict=True)
        for seed in run.seeds
    }


def ignored(model, inst: Instrument, run) -> dict:
    """Zero the units inactive by Asperti's criterion in one model: how many (and how many by
    Var_x mu < 0.01 alone), the test-ELBO change with the one-unit control, the pixel change of
    1,000 samples, the FID of `run.generated` samples before and after, and the test ELBO."""
    unit = metrics.unit_stats(model, inst.x_test)
    mask = metrics.inactive_units(unit, var_max=VAR_MAX, sigma2_min=SIGMA2_MIN)
    effect = metrics.zeroing(model, inst.x_test, mask, samples=1000, seed=run.seed, control=1)
    full, zeroed = metrics.zeroed_samples(model, mask, run.generated, seed=run.seed)
    fid = [
        quality.frechet_distance(quality.features(inst.classifier, images), inst.reference)
        for images in (full, zeroed)
    ]
    keep = ("elbo_change", "max_pixel_diff", "control_elbo_change", "control_units")
    return {
        "inactive": int(mask.sum()),
        "var_only_inactive": int((unit.var_mu < VAR_MAX).sum()),
        **{k: effect[k] for k in keep},
        "fid": fid[0],
        "fid_zeroed": fid[1],
        "test_elbo": elbo.evaluate(model, inst.x_test, seed=run.seed)["elbo"],
    }


def long_row(model, config, history: dict, inst: Instrument, run) -> dict:
    """One long run's row, computed once per model and sizes (`cache.memo`): its place, epochs,
    the epoch at which the convergence rule (`run.tolerance`, `run.window`) stops its held-out
    curve (None: not within its epochs), the gain over its last window, the curve itself
    (`heldout_loss`) and `ignored`."""
    params = {
        "model": cache.config_key(config),
        "classifier": inst.key,
        "test_images": len(inst.x_test),
        "generated": run.generated,
        "seed": run.seed,
        "tolerance": run.tolerance,
        "window": run.window,
    }
    compute = functools.partial(_long_row, model, config, history, inst, run)
    return cache.memo("synthesis-long", params, compute)


def _long_row(model, config, history: dict, inst: Instrument, run) -> dict:
    curve = history["heldout_loss"]
    w = min(run.window, len(curve) - 1)
    return place(
        config,
        {
            "epochs": config.train.epochs,
            "converged": metrics.converged_epoch(curve, tol=run.tolerance, window=run.window),
            "last_gain": curve[-w - 1] - min(curve[-w:]),
            "heldout_loss": curve,
            **ignored(model, inst, run),
        },
    )


def long_rows(run, instruments: dict) -> list[dict]:
    """Train (or load) the long runs (`long_configs`, through `sweep.fit_many`) and their rows."""
    configs = long_configs(run)
    fits = sweep.fit_many(list(configs.values()))
    return [
        long_row(m.cpu(), c, h, instruments[c.data.name], run)
        for c, (m, h) in zip(configs.values(), fits, strict=True)
    ]


def ignored_glue(rows: list[dict]) -> dict:
    """The long runs' glued numbers per data set (`<key>_<data>`): epochs, seeds, how many
    converged and at which epoch, the inactive counts, |ELBO change| of zeroing them and of the
    control (mean, and sd as `..._sd`), the FIDs, the test ELBO and the last-window gain."""
    out = {}
    for name in (n for n in DATASETS if any(r["data"] == n for r in rows)):
        mine, s = [r for r in rows if r["data"] == name], SHORT[name]
        epochs = [str(r["converged"] or "not converged") for r in mine]
        out |= {
            f"long_epochs_{s}": mine[0]["epochs"],
            f"long_seeds_{s}": len(mine),
            f"long_converged_{s}": sum(r["converged"] is not None for r in mine),
            f"long_converged_epochs_{s}": ", ".join(epochs),
        }
        for key, field in (
            ("asperti_inactive", "inactive"),
            ("var_only_inactive", "var_only_inactive"),
            ("asperti_elbo", "elbo_change"),
            ("asperti_control", "control_elbo_change"),
            ("asperti_fid", "fid"),
            ("asperti_fid_zeroed", "fid_zeroed"),
            ("long_test_elbo", "test_elbo"),
            ("long_gain", "last_gain"),
        ):
            magnitude = field.endswith("elbo_change")
            values = [abs(r[field]) if magnitude else r[field] for r in mine]
            out[f"{key}_{s}"], out[f"{key}_{s}_sd"] = stats.mean_sd(values)
    return out


def best_point(
    rows: list[dict], data: str, posterior: str, *, metric: str = "test_elbo", lower=False
) -> tuple[int, float, float]:
    """`(n, mean, sd over seeds)` of the grid's dimension with the highest mean `metric` (the
    lowest with `lower=True`) for one data set and posterior."""
    by_n = summary(rows, metric, data, posterior)
    if not by_n:
        raise ValueError(f"no {posterior} runs of {data} among the rows")
    n = (min if lower else max)(by_n, key=lambda k: by_n[k][0])
    return n, *by_n[n]


def retrain_glue(rows: list[dict], retrained: list[dict], saturates: dict) -> dict:
    """The diagonal model retrained at n* beside the grid's best diagonal point (test ELBO) and
    its largest, per data set: `saturates_<data>` (the word of `saturates[data]`, whether the
    count n* comes from stops growing), `best_n_`, `best_elbo_`, `star_elbo_`, `large_elbo_`
    (mean, and sd as `..._sd`), `star_seeds_`, and the FIDs `best_fid_`, `star_fid_`."""
    out = {}
    for name in (n for n in DATASETS if any(r["data"] == n for r in retrained)):
        s = SHORT[name]
        n, *best = best_point(rows, name, "diagonal")
        star = [r for r in retrained if r["data"] == name and r["posterior"] == "diagonal"]
        grid = summary(rows, "test_elbo", name, "diagonal")
        large = grid[max(grid)]
        out |= {
            f"saturates_{s}": "saturates" if saturates[name] else "does not saturate",
            f"best_n_{s}": n,
            f"star_seeds_{s}": len(star),
            f"best_fid_{s}": summary(rows, "fid", name, "diagonal")[n][0],
            f"star_fid_{s}": stats.mean_sd(r["fid"] for r in star)[0],
        }
        star_elbo = stats.mean_sd(r["test_elbo"] for r in star)
        for key, (mean, sd) in (("best", best), ("star", star_elbo), ("large", large)):
            out[f"{key}_elbo_{s}"], out[f"{key}_elbo_{s}_sd"] = mean, sd
    return out
