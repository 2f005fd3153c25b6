"""Part III: one grid of runs for both papers' questions, and what is measured on it.

The grid crosses two data sets (Fashion-MNIST, MNIST), two posteriors (Azmoodeh's isotropic
N(mu, sigma^2 I), Asperti's diagonal N(mu, diag sigma^2)), the latent dimensions and the seeds, all
with Part I's MLP VAE and Adam. No paper sets this budget, so the number of epochs is measured:
one run per data set and posterior at n = 20 records its held-out -ELBO after every epoch, and the
grid trains for as long as the slower posterior needs to converge (`grid_epochs`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import torch

from vaelab import cache, claims, data, elbo, metrics, quality, stats, sweep

DATASETS = ("fashion-mnist", "mnist")
POSTERIORS = ("isotropic", "diagonal")
HELDOUT = 1000  # test images of every run's held-out -ELBO curve
HIDDEN = (256, 256)  # Part I's network (Azmoodeh et al.'s two layers of 256)
PROBE_DIM = 20  # latent dimension of the convergence runs
PRECISION = "bf16"  # 1.3-1.5x faster here, ELBO within 0.4 nats of fp32 (appendix Performance)


def fit_config(run, data: str, posterior: str, latent_dim: int, *, seed: int, epochs: int):
    """The `FitConfig` of one run; `run` is a resolved `synthesis` profile. `train_limit` applies to
    Fashion-MNIST only (MNIST here is at most the 5,000-image subset)."""
    limit = run.train_limit if data == "fashion-mnist" else 0
    return cache.mlp_config(
        latent_dim,
        hidden=HIDDEN,
        posterior=posterior,
        epochs=epochs,
        batch_size=run.batch_size,
        lr=run.lr,
        train_limit=limit,
        seed=seed,
        name=data,
        precision=PRECISION,
        heldout=HELDOUT,
    )


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


@dataclass(frozen=True)
class Instrument:
    """What one data set's runs are measured with (the Part I metrics)."""

    x_test: torch.Tensor  # the test images of every metric
    classifier: torch.nn.Module  # feature space of the FID, labels of the class entropy
    reference: torch.Tensor  # classifier features of `x_test`
    key: str  # the classifier's cache key (part of every evaluation's memo key)
    accuracy: float  # the classifier's test accuracy
    fid_real: float  # FID of as many real training images against `x_test`: the metric's floor


def instruments(run) -> dict[str, Instrument]:
    """`{data: Instrument}`: the Fashion-MNIST classifier of Part I, the MNIST one of Part II."""
    out = {}
    for name in DATASETS:
        extra = {"train_limit": run.train_limit} if name == "fashion-mnist" else {}
        config = quality.ClassifierConfig(name=name, epochs=run.classifier_epochs, **extra)
        classifier, info = quality.fit_classifier(config)
        x_test = data.load(name, "test")[0][: run.test_limit or None]
        x_train = data.load(name, "train")[0]
        pick = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))
        reference = quality.features(classifier, x_test)
        real = quality.features(classifier, x_train[pick[: len(x_test)]])
        fid_real = quality.frechet_distance(real, reference)
        out[name] = Instrument(
            x_test, classifier, reference, cache.config_key(config), info["test_accuracy"], fid_real
        )
    return out


# thresholds of the sensitivity figure: on Var_x mu_j (Burda 0.01, Bonheme & Grześ 0.1) and on
# the per-image KL of Lucas et al.'s collapse (eps = 0.01); delta stays at Lucas' 0.01
THRESHOLDS = tuple(10.0 ** (k / 4) for k in range(-20, 5))  # 1e-5 ... 10
DELTA = 0.01


def evaluate(model, config, history: dict, inst: Instrument, run) -> dict:
    """One run's row, computed once per model and sizes (`cache.memo`): its place in the grid,
    training time and held-out curve, test ELBO, rate and distortion, the IWAE bound, FID and
    class entropy of generated samples, active units by the three definitions, the sorted
    Var_x mu_j and the counts at every `THRESHOLDS` value."""
    params = {
        "model": cache.config_key(config),
        "classifier": inst.key,
        "test_images": len(inst.x_test),
        "iwae_samples": run.iwae_samples,
        "iwae_images": run.iwae_images,
        "generated": run.generated,
        "seed": run.seed,
    }
    compute = functools.partial(_evaluate, model, config, history, inst, run)
    return cache.memo("synthesis-eval", params, compute)


def place(config, values: dict) -> dict:
    """`values` with the run's place in the grid (data, posterior, latent_dim, seed) in front."""
    return {
        "data": config.data.name,
        "posterior": config.model.posterior,
        "latent_dim": config.model.latent_dim,
        "seed": config.seed,
        **values,
    }


def _evaluate(model, config, history: dict, inst: Instrument, run) -> dict:
    t0 = time.perf_counter()
    x = inst.x_test
    ev = elbo.evaluate(model, x, seed=run.seed)
    k = run.iwae_samples
    iwae = elbo.iwae_curve(model, x[: run.iwae_images], [k], seed=run.seed)[k]
    fake = quality.generate(model, run.generated, seed=run.seed)
    mu, logvar = metrics.encode_all(model, x)
    unit = metrics.stats_of(mu, logvar)
    kl = elbo.kl_per_unit(mu, logvar)  # (N, latent_dim), per image and unit
    return place(
        config,
        {
            "epochs": config.train.epochs,
            "train_seconds": history["run"]["train_seconds"],
            "heldout_loss": history["heldout_loss"],
            "train_loss": history["loss"][-1],
            "test_elbo": ev["elbo"],
            "rate": ev["rate"],
            "distortion": ev["distortion"],
            "iwae": iwae,
            "fid": quality.frechet_distance(
                quality.features(inst.classifier, fake), inst.reference
            ),
            "class_entropy": quality.class_entropy(quality.predict(inst.classifier, fake)),
            "active": metrics.active_counts(mu, logvar),
            "median_sigma2": logvar.exp().median().item(),
            "var_mu_sorted": unit.var_mu.sort(descending=True).values.tolist(),
            "sensitivity": {
                "var_mu": metrics.threshold_counts(unit.var_mu, THRESHOLDS),
                "kl": [int(((kl < t).float().mean(0) < 1 - DELTA).sum()) for t in THRESHOLDS],
            },
            "eval_seconds": time.perf_counter() - t0,
        },
    )


def prune(model, inst: Instrument, run, *, threshold: float = 0.01) -> dict:
    """Zero the units that are not active, Var_x mu_j <= `threshold` (Burda et al.: 0.01;
    Bonheme & Grześ: 0.1), in one model.

    ELBO change on the test images and pixel change of decoded samples, with a control that zeroes
    as many active units (`metrics.zeroing`), and the FID of `run.generated` samples before and
    after zeroing, decoded from the same z."""
    mask = metrics.inactive_mask(model, inst.x_test, threshold)
    effect = metrics.zeroing(model, inst.x_test, mask, samples=1000, seed=run.seed)
    full, zeroed = metrics.zeroed_samples(model, mask, run.generated, seed=run.seed)
    fid = [
        quality.frechet_distance(quality.features(inst.classifier, images), inst.reference)
        for images in (full, zeroed)
    ]
    keep = ("elbo_change", "max_pixel_diff", "mean_pixel_diff", "control_elbo_change")
    return {
        "inactive": int(mask.sum()),
        **{k: effect[k] for k in keep},
        "fid": fid[0],
        "fid_zeroed": fid[1],
    }


def intrinsic_dim(rows: list[dict], data_name: str, *, definition: str = "bonheme") -> float:
    """Active units of the largest diagonal model of `data_name`, mean over seeds, by one of the
    `DEFINITIONS` (default: Bonheme & Grześ, the one proposed to find a VAE's dimensionality)."""
    diag = [r for r in rows if r["data"] == data_name and r["posterior"] == "diagonal"]
    if not diag:
        raise ValueError(f"no diagonal runs of {data_name} among the rows")
    largest = max(r["latent_dim"] for r in diag)
    counts = [r["active"][definition] for r in diag if r["latent_dim"] == largest]
    return sum(counts) / len(counts)


def _value(row: dict, metric: str) -> float:
    for part in metric.split("."):  # "fid", or "active.burda"
        row = row[part]
    return float(row)


def summary(rows: list[dict], metric: str, data_name: str, posterior: str) -> dict:
    """`{latent_dim: (mean, sd over seeds)}` of `metric` ("fid", "active.burda", ...) for one data
    set and posterior."""
    picked = [
        {"latent_dim": r["latent_dim"], "v": _value(r, metric)}
        for r in rows
        if r["data"] == data_name and r["posterior"] == posterior
    ]
    return dict(sorted(stats.by_dimension(picked, "v").items()))


def fid_ratio(
    rows: list[dict], data_name: str, posterior: str, *, large: int = 800, small: int = 20
) -> float:
    """Mean FID at n = `large` over that at n = `small`: above 1, the larger space samples worse."""
    fid = summary(rows, "fid", data_name, posterior)
    return fid[large][0] / fid[small][0]


def saturation(active: dict, *, slack: float = 0.1) -> dict:
    """Does an active-unit count `{n: (mean, sd)}` stop growing with n? It saturates when the count
    at the largest n is within `slack` (10%, at least one unit) of the count at the next n and
    below half of the next n, so that units were free to be used and were not."""
    ns = sorted(active)
    largest, previous = ns[-1], ns[-2]
    count, before = active[largest][0], active[previous][0]
    saturates = abs(count - before) <= max(1.0, slack * before) and count < previous / 2
    return {"largest": largest, "count": count, "previous": before, "saturates": saturates}


def measure_epochs(run) -> dict:
    """Train (or load) the convergence runs and choose the grid's epochs for each data set:
    `{data: {"epochs", "converged", "curves": {posterior: held-out -ELBO per epoch},
    "train_seconds"}}`."""
    probes = probe_configs(run)
    fits = dict(zip(probes, sweep.fit_many(list(probes.values())), strict=True))
    out = {}
    for name in DATASETS:
        curves = {p: fits[name, p][1]["heldout_loss"] for p in POSTERIORS}
        seconds = sum(fits[name, p][1]["run"]["train_seconds"] for p in POSTERIORS)
        out[name] = {
            **grid_epochs(curves, tol=run.tolerance, window=run.window),
            "curves": curves,
            "train_seconds": seconds,
        }
    return out


def retrain_configs(run, epochs: dict, dims: dict) -> dict:
    """`{(data, posterior, n, seed): config}` at n = round(`dims[data]`) (at least 1), the measured
    intrinsic dimension, for both posteriors and every seed, `epochs[data]` long."""
    return {
        (name, post, max(1, round(dim)), seed): fit_config(
            run, name, post, max(1, round(dim)), seed=seed, epochs=epochs[name]
        )
        for name, dim in dims.items()
        for post in POSTERIORS
        for seed in run.seeds
    }


def prune_row(model, config, inst: Instrument, run, *, threshold: float = 0.01) -> dict:
    """`prune` of a cached model, computed once per model, sizes and threshold (`cache.memo`)."""
    params = {
        "model": cache.config_key(config),
        "classifier": inst.key,
        "test_images": len(inst.x_test),
        "generated": run.generated,
        "seed": run.seed,
        "threshold": threshold,
    }
    compute = functools.partial(prune, model, inst, run, threshold=threshold)
    return cache.memo("synthesis-prune", params, compute)


def with_last_gain(rows: list[dict], window: int) -> list[dict]:
    """The rows with "last_gain": how much each run's held-out -ELBO fell over its last `window`
    epochs (all its epochs when it is shorter), in nats; near 0 when the run had converged."""
    out = []
    for r in rows:
        curve = r["heldout_loss"]
        w = min(window, len(curve) - 1)
        out.append({**r, "last_gain": curve[-w - 1] - min(curve[-w:])})
    return out


def posterior_verdict(ratio_isotropic: float, ratio_diagonal: float, *, margin: float = 0.1) -> str:
    """Is "bigger is worse" (FID at n = 800 over n = 20 above 1 + `margin`) a property of the
    isotropic posterior? Confirmed: only the isotropic models get worse; partly: both get worse,
    the isotropic ones more; refuted otherwise."""
    worse_iso, worse_diag = ratio_isotropic > 1 + margin, ratio_diagonal > 1 + margin
    if worse_iso and not worse_diag:
        return "confirmed"
    if worse_iso and ratio_isotropic > ratio_diagonal:
        return "partly confirmed"
    return "refuted"


DEFINITIONS = {"burda": "Burda et al.", "bonheme": "Bonheme & Grześ", "lucas": "Lucas et al."}


def _names(rows: list[dict], field: str, order: tuple) -> list[str]:
    present = {r[field] for r in rows}
    return [v for v in order if v in present]


def active_panels(rows: list[dict]) -> dict:
    """`{data: {"posterior, definition": {n: (mean, sd)}}}` of the active-unit counts."""
    return {
        name: {
            f"{post}, {label}": summary(rows, f"active.{d}", name, post)
            for post in _names(rows, "posterior", POSTERIORS)
            for d, label in DEFINITIONS.items()
        }
        for name in _names(rows, "data", DATASETS)
    }


def metric_panels(rows: list[dict], metrics_: dict[str, str]) -> dict:
    """`{"label, data": {posterior: {n: (mean, sd)}}}` for each `metrics_` item (key: label)."""
    return {
        f"{label}, {name}": {
            post: summary(rows, key, name, post) for post in _names(rows, "posterior", POSTERIORS)
        }
        for key, label in metrics_.items()
        for name in _names(rows, "data", DATASETS)
    }


def sensitivity_panels(rows: list[dict], latent_dim: int) -> dict:
    """Active-unit counts at every `THRESHOLDS` value, mean over seeds, of the n = `latent_dim`
    runs: `{"data: criterion": {posterior: [count per threshold]}}`."""
    out = {}
    for name in _names(rows, "data", DATASETS):
        for crit, title in (("var_mu", "Var_x mu_j > t"), ("kl", "KL > t (Lucas et al.)")):
            out[f"{name}: {title}"] = {
                post: torch.tensor(
                    [
                        r["sensitivity"][crit]
                        for r in rows
                        if (r["data"], r["posterior"], r["latent_dim"]) == (name, post, latent_dim)
                    ],
                    dtype=torch.float64,
                )
                .mean(0)
                .tolist()
                for post in _names(rows, "posterior", POSTERIORS)
            }
    return out


GLUED = (
    "test_elbo",
    "iwae",
    "fid",
    "class_entropy",
    "active.burda",
    "active.bonheme",
    "active.lucas",
)


def glue_table(rows: list[dict], dims) -> dict:
    """`{(data, posterior, n): {metric: mean over seeds}}` of the `GLUED` metrics at the `dims`
    that the rows hold ("active.burda" becomes "active_burda"), for the text of a chapter."""
    out = {}
    for name in _names(rows, "data", DATASETS):
        for post in _names(rows, "posterior", POSTERIORS):
            sums = {m: summary(rows, m, name, post) for m in GLUED}
            for n in dims:
                if n in sums["fid"]:
                    out[name, post, n] = {m.replace(".", "_"): s[n][0] for m, s in sums.items()}
    return out


@dataclass
class Grid:
    """Everything the Part III chapters read: the measured epochs, the instruments, and the grid's
    configs, models and evaluated rows (in the same order)."""

    measured: dict  # `measure_epochs(run)`
    epochs: dict  # {data: epochs of the grid}
    instruments: dict  # {data: Instrument}
    configs: list
    models: list
    histories: list
    rows: list


def load_grid(run) -> Grid:
    """Measure the epochs, then train (or load) and evaluate (or read) every run of the grid."""
    measured = measure_epochs(run)
    epochs = {name: m["epochs"] for name, m in measured.items()}
    insts = instruments(run)
    configs = list(grid_configs(run, epochs).values())
    fits = sweep.fit_many(configs)
    models = [model.cpu() for model, _ in fits]
    histories = [history for _, history in fits]
    rows = [
        evaluate(m, c, h, insts[c.data.name], run)
        for m, c, h in zip(models, configs, histories, strict=True)
    ]
    return Grid(measured, epochs, insts, configs, models, histories, rows)


COMPARED = ("test_elbo", "iwae", "fid", "class_entropy")


def compare(small: list[dict], rows: list[dict], largest: int) -> dict:
    """`{(data, posterior): {"n_small": n, metric: (mean of the small runs, mean at n =
    largest)}}` for each `COMPARED` metric: the retrained models against the large ones."""
    out = {}
    for name in _names(small, "data", DATASETS):
        for post in _names(small, "posterior", POSTERIORS):
            entry = {}
            for metric in COMPARED:
                ((n_small, (mean, _)),) = summary(small, metric, name, post).items()
                entry[metric] = (mean, summary(rows, metric, name, post)[largest][0])
            out[name, post] = {"n_small": n_small, **entry}
    return out


def pruned_rows(grid: Grid, run, *, threshold: float = 0.01) -> list[dict]:
    """`prune_row` of every diagonal run of the grid, with its place in the grid."""
    return [
        place(c, prune_row(m, c, grid.instruments[c.data.name], run, threshold=threshold))
        for c, m in zip(grid.configs, grid.models, strict=True)
        if c.model.posterior == "diagonal"
    ]


def retrained_rows(grid: Grid, run) -> tuple[dict, list[dict]]:
    """`(dims, rows)`: the intrinsic dimension of each data set (`intrinsic_dim`) and the evaluated
    runs of both posteriors retrained there (`retrain_configs`, through `sweep.fit_many`)."""
    dims = {name: intrinsic_dim(grid.rows, name) for name in DATASETS}
    small = retrain_configs(run, grid.epochs, dims)
    fits = sweep.fit_many(list(small.values()))
    rows = [
        evaluate(m.cpu(), c, h, grid.instruments[c.data.name], run)
        for c, (m, h) in zip(small.values(), fits, strict=True)
    ]
    return dims, rows


# --- The claims of Part III (`vaelab.claims`) -------------------------------------------------
def _posterior_rule() -> claims.Rule:
    """`posterior_verdict` as a ledger rule (inputs `isotropic`, `diagonal`: FID ratios)."""

    def decide(m):
        word = posterior_verdict(m["isotropic"], m["diagonal"])
        said = f"FID ratio 800/20: isotropic {m['isotropic']:.2f}, diagonal {m['diagonal']:.2f}"
        return claims.Verdict(word, said)

    examples = {
        claims.CONFIRMED: {"isotropic": 1.5, "diagonal": 1.0},
        claims.PARTLY: {"isotropic": 1.5, "diagonal": 1.2},
        claims.REFUTED: {"isotropic": 1.0, "diagonal": 1.5},
    }
    text = (
        "worse = FID ratio > 1.1; confirmed if only the isotropic models get worse; partly "
        "confirmed if both do, the isotropic more; refuted otherwise"
    )
    return claims.Rule(text, ("isotropic", "diagonal"), decide, examples)


def _pruned(tag: str):
    return lambda g, run: {
        "value": stats.nanmax(abs(g[f"pruned_worst_elbo_{tag}_{d}"]) for d in ("fmnist", "mnist"))
    }


def _q2(suffix: str):
    return lambda g, run: {
        "isotropic": g[f"fid_ratio_800_vs_20_isotropic{suffix}"],
        "diagonal": g[f"fid_ratio_800_vs_20_diagonal{suffix}"],
    }


CLAIMS = (
    *(
        claims.Claim(
            id=f"synthesis.posterior.{short}",
            paper="synthesis",
            section="Q2",
            text=f"On {name}, 'bigger is worse' is a property of the isotropic posterior.",
            measurement="FID at the largest n over FID at n = 20, by posterior, mean of seeds",
            rule=_posterior_rule(),
            chapter="synthesis/01_active_units_vs_dimension",
            measure=_q2(suffix),
            word_key=f"q2_{short}",
        )
        for short, name, suffix in (("fmnist", "Fashion-MNIST", ""), ("mnist", "MNIST", "_mnist"))
    ),
    *(
        claims.Claim(
            id=f"synthesis.pruning.{tag}",
            paper="synthesis",
            section="Q3",
            text=f"Units inactive by {who}'s threshold ({t}) can be pruned without changing the "
            "test ELBO.",
            measurement="largest |ELBO change| (nats) from zeroing them, both data sets",
            rule=claims.at_most_rule("largest |ELBO change| in nats", limit=0.1),
            chapter="synthesis/02_pruning_inactive_units",
            measure=_pruned(tag),
            word_key=f"pruned_verdict_{tag}",
        )
        for tag, who, t in (
            ("burda", "Burda et al.", "0.01"),
            ("bonheme", "Bonheme & Grześ", "0.1"),
        )
    ),
)
