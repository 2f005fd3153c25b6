"""Part III's fair tests of chapter 02, registered before they were run.

1. **Asperti's criterion on converged models.** The grid's models are trained for a budget
   measured at n = 20, and the largest ones had not converged by it. The diagonal model at the
   grid's largest n is trained again, every seed, for `LONG_FACTOR` times the grid's epochs, and
   a run counts as converged when its training loss gains less than `tolerance` nats over its
   last `window` epochs (the final state, not the first flat stretch). On these models the
   units inactive by Asperti's criterion (Var_x mu_j < 0.01 *and* E_x sigma_j^2 > 0.5: the unit
   sits at the prior, Part II's test) are zeroed, beside a control that zeroes one clearly
   active unit: the one with the least Var_x mu above `CONTROL_MIN` (Bonheme & Grześ' 0.1).
2. **n\\* against the grid's best point.** The model retrained at the intrinsic dimension n\\*
   is compared with the best diagonal model of the grid (highest mean test ELBO), trained for
   the same epochs.
"""

from __future__ import annotations

import functools
import math

from vaelab import cache, claims, elbo, metrics, quality, stats, sweep
from vaelab.papers.synthesis import Instrument, fit_config, memo_params, place
from vaelab.papers.synthesis.rows import DATASETS, LABELS, SHORT, summary

VAR_MAX, SIGMA2_MIN = 0.01, 0.5  # Asperti's criterion as Part II applies it (`metrics`)
CONTROL_MIN = 0.1  # the control unit is active by Bonheme & Grześ' threshold, not a border case
# the long runs: 4x the grid's epochs (chosen when the bf16 grid's n = 800 Fashion-MNIST models
# still gained 5.7 nats in its last 10 of 27 epochs; the fp32 grid's 29 and 102 epochs make 116
# and 408); about 75 min on 2 cores at paper
LONG_FACTOR = 4


def long_configs(run, epochs: dict) -> dict:
    """`{(data, seed): config}`: the diagonal model at the grid's largest n, every seed,
    `LONG_FACTOR` times the grid's `epochs[data]`; empty with fewer than `claims.MIN_SEEDS`
    seeds, which the rule could not judge (the chapter says so)."""
    if len(run.seeds) < claims.MIN_SEEDS:
        return {}
    largest = max(run.latent_dims)
    return {
        (name, seed): fit_config(
            run, name, "diagonal", largest, seed=seed, epochs=LONG_FACTOR * epochs[name]
        )
        for name in DATASETS
        for seed in run.seeds
    }


def final_gain(curve: list[float], *, window: int) -> float:
    """How much `curve` (a loss per epoch) fell over its last `window` epochs (all of them when
    it is shorter): the final state, where `metrics.converged_epoch` finds the first flat one."""
    w = min(window, len(curve) - 1)
    return curve[-w - 1] - min(curve[-w:])


def ignored(model, inst: Instrument, run) -> dict:
    """Zero the units inactive by Asperti's criterion in one model: how many (and how many by
    Var_x mu < 0.01 alone) and their summed mean KL (what pruning them would also remove), the
    change of the reconstruction term with the one-unit control (and that unit's Var_x mu), the
    pixel change of 1,000 samples, the FID of `run.generated` samples before and after, and the
    test ELBO."""
    unit = metrics.unit_stats(model, inst.x_test)
    mask = metrics.inactive_units(unit, var_max=VAR_MAX, sigma2_min=SIGMA2_MIN)
    effect = metrics.one_unit_control(
        model, inst.x_test, mask, unit, threshold=CONTROL_MIN, samples=1000, seed=run.seed
    )
    full, zeroed = metrics.zeroed_samples(model, mask, run.generated, seed=run.seed)
    fid = [
        quality.frechet_distance(quality.features(inst.classifier, images), inst.reference)
        for images in (full, zeroed)
    ]
    keep = (
        "elbo_change",
        "max_pixel_diff",
        "control_elbo_change",
        "control_units",
        "control_var_mu",
    )
    return {
        "inactive": int(mask.sum()),
        "var_only_inactive": int((unit.var_mu < VAR_MAX).sum()),
        "zeroed_kl": unit.mean_kl[mask].sum().item(),
        **{k: effect[k] for k in keep},
        "fid": fid[0],
        "fid_zeroed": fid[1],
        "test_elbo": elbo.evaluate(model, inst.x_test, seed=run.seed)["elbo"],
    }


def long_row(model, config, history: dict, inst: Instrument, run) -> dict:
    """One long run's row, computed once per model and sizes (`cache.memo`): its place, epochs,
    whether it converged (`final_gain` of its training loss < `run.tolerance` over `run.window`
    epochs) and that gain, how far its final held-out -ELBO is above the curve's minimum
    (`overfit`), the held-out gain over the last window and the curve itself, and `ignored`."""
    params = memo_params(config, inst, run, tolerance=run.tolerance, window=run.window)
    compute = functools.partial(_long_row, model, config, history, inst, run)
    return cache.memo("synthesis-long", params, compute)


def _long_row(model, config, history: dict, inst: Instrument, run) -> dict:
    held = history["heldout_loss"]
    train_gain = final_gain(history["loss"], window=run.window)
    return place(
        config,
        {
            "epochs": config.train.epochs,
            "converged": train_gain < run.tolerance,
            "train_gain": train_gain,
            "overfit": held[-1] - min(held),
            "last_gain": final_gain(held, window=run.window),
            "heldout_loss": held,
            **ignored(model, inst, run),
        },
    )


def long_rows(run, instruments: dict, epochs: dict) -> list[dict]:
    """Train (or load) the long runs (`long_configs`, through `sweep.fit_many`) and their rows."""
    configs = long_configs(run, epochs)
    fits = sweep.fit_many(list(configs.values())) if configs else []
    return [
        long_row(m.cpu(), c, h, instruments[c.data.name], run)
        for c, (m, h) in zip(configs.values(), fits, strict=True)
    ]


_FIELDS = (
    ("asperti_inactive", "inactive"),
    ("var_only_inactive", "var_only_inactive"),
    ("asperti_kl", "zeroed_kl"),
    ("asperti_elbo", "elbo_change"),
    ("asperti_elbo_signed", "elbo_change"),
    ("asperti_control", "control_elbo_change"),
    ("asperti_control_var_mu", "control_var_mu"),
    ("asperti_fid", "fid"),
    ("asperti_fid_zeroed", "fid_zeroed"),
    ("long_test_elbo", "test_elbo"),
    ("long_gain", "last_gain"),
    ("long_train_gain", "train_gain"),
    ("long_overfit", "overfit"),
)


def ignored_glue(rows: list[dict], names) -> dict:
    """The long runs' glued numbers for each data set of `names` (`<key>_<data>`): epochs,
    seeds, how many converged, and the mean (and sd as `..._sd`) of each `_FIELDS` value
    (`asperti_elbo` and `asperti_control` of |change|, `asperti_elbo_signed` of the change). A
    data set without long runs gets 0 seeds and NaN, which its rule cannot judge."""
    out = {}
    for name in names:
        mine, s = [r for r in rows if r["data"] == name], SHORT[name]
        out |= {
            f"long_epochs_{s}": mine[0]["epochs"] if mine else 0,
            f"long_seeds_{s}": len(mine),
            f"long_converged_{s}": sum(bool(r["converged"]) for r in mine),
        }
        for key, field in _FIELDS:
            magnitude = key in ("asperti_elbo", "asperti_control")
            values = [abs(r[field]) if magnitude else r[field] for r in mine]
            mean_sd = stats.mean_sd(values) if values else (math.nan, math.nan)
            out[f"{key}_{s}"], out[f"{key}_{s}_sd"] = mean_sd
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
    (mean, and sd as `..._sd`), `star_seeds_`, and at n* and the best point the FID (`best_fid_`,
    `star_fid_`) and the IWAE bound (`best_iwae_`, `star_iwae_`)."""
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
        }
        for metric in ("fid", "iwae"):
            out[f"best_{metric}_{s}"] = summary(rows, metric, name, "diagonal")[n][0]
            out[f"star_{metric}_{s}"] = stats.mean_sd(r[metric] for r in star)[0]
        star_elbo = stats.mean_sd(r["test_elbo"] for r in star)
        for key, (mean, sd) in (("best", best), ("star", star_elbo), ("large", large)):
            out[f"{key}_elbo_{s}"], out[f"{key}_elbo_{s}_sd"] = mean, sd
    return out


def ignored_text(g: dict, name: str, *, largest: int) -> str:
    """One markdown sentence of the long runs of data set `name`, from `ignored_glue`'s values:
    how many ran, for how long and converged, the units inactive by Asperti's criterion, what
    zeroing them changes (and one active unit, and the FID), or that there were none."""
    s, label = SHORT[name], LABELS[name]
    seeds = g[f"long_seeds_{s}"]
    if not seeds:
        need = claims.MIN_SEEDS
        return f"**{label}**: no long runs (the rule needs {need} seeds): not testable here."

    def pm(key, f):
        return f"{g[key]:{f}} ± {g[key + '_sd']:{f.lstrip('+')}}"

    return (
        f"**{label}**: {seeds} runs of {g[f'long_epochs_{s}']} epochs, "
        f"{g[f'long_converged_{s}']} of them converged; {pm(f'asperti_inactive_{s}', '.1f')} of "
        f"{largest} units inactive by Asperti's criterion ({g[f'var_only_inactive_{s}']:.1f} by "
        f"Var μ < 0.01 alone). Zeroing them changes the reconstruction term by "
        f"{pm(f'asperti_elbo_{s}', '.3f')} nats (signed mean "
        f"{pm(f'asperti_elbo_signed_{s}', '+.3f')}), zeroing one active unit "
        f"(Var μ {g[f'asperti_control_var_mu_{s}']:.2f}) by "
        f"{pm(f'asperti_control_{s}', '.3f')}, and the FID of generated samples goes from "
        f"{g[f'asperti_fid_{s}']:.1f} to {g[f'asperti_fid_zeroed_{s}']:.1f}; pruning the units "
        f"would also remove their KL, {pm(f'asperti_kl_{s}', '.2f')} nats."
    )
