"""Part III's results as rows (one dict per trained model): their constants, summaries over
seeds, the figures' panels and the glued tables. Pure functions of numbers, no model."""

from __future__ import annotations

import torch

from vaelab import stats

DATASETS = ("fashion-mnist", "mnist")


PROBE_DIM = 20  # latent dimension of the convergence runs, and the n the largest is compared with


POSTERIORS = ("isotropic", "diagonal")


# thresholds of the sensitivity figure: on Var_x mu_j (Burda 0.01, Bonheme & Grześ 0.1) and on
# the per-image KL of Lucas et al.'s collapse (eps = 0.01); delta stays at Lucas' 0.01
THRESHOLDS = tuple(10.0 ** (k / 4) for k in range(-20, 5))  # 1e-5 ... 10


DELTA = 0.01


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


SHORT = {"fashion-mnist": "fmnist", "mnist": "mnist"}  # the data sets' names in glue keys
LABELS = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}  # their names in the text


def saturations(rows: list[dict]) -> dict:
    """`{(data, definition): saturation(...)}` of the diagonal models' active-unit counts."""
    return {
        (name, d): saturation(summary(rows, f"active.{d}", name, "diagonal"))
        for name in _names(rows, "data", DATASETS)
        for d in DEFINITIONS
    }


def reference_dim(dims) -> int:
    """The n that the largest is compared with (FID ratios, the text's tables): the convergence
    probes' `PROBE_DIM` when the grid has it, else the grid's smallest n."""
    dims = sorted(set(dims))
    if not dims:
        raise ValueError("no latent dimension to choose a reference from")
    return PROBE_DIM if PROBE_DIM in dims else dims[0]


def question_glue(rows: list[dict], largest: int) -> dict:
    """The glued numbers of Part III's questions 1 and 2 for the data sets the rows hold, named
    so that any grid makes them: `reference_n` (`reference_dim`), `previous_n` (the n before the
    largest) and `largest_n`; `intrinsic_dim_<data>`, `q1_<data>_<definition>` (saturates or not)
    and `prev_...` (the count at `previous_n`), `fid_ratio_<posterior>[_mnist]` (FID at `largest`
    over the reference's), and `gain_<data>_<posterior>_ref` / `_largest` (last-window gains)."""
    dims = sorted({r["latent_dim"] for r in rows})
    ref = reference_dim(dims)
    out = {"reference_n": ref, "previous_n": dims[-2], "largest_n": largest}
    names = _names(rows, "data", DATASETS)
    out |= {f"intrinsic_dim_{SHORT[name]}": intrinsic_dim(rows, name) for name in names}
    for (name, d), v in saturations(rows).items():
        out[f"q1_{SHORT[name]}_{d}"] = "saturates" if v["saturates"] else "does not saturate"
        out[f"prev_{SHORT[name]}_{d}"] = v["previous"]
    for name in names:
        suffix = "" if name == "fashion-mnist" else f"_{SHORT[name]}"
        for post in _names(rows, "posterior", POSTERIORS):
            ratio = fid_ratio(rows, name, post, large=largest, small=ref)
            out[f"fid_ratio_{post}{suffix}"] = ratio
            gains = summary(rows, "last_gain", name, post)
            out |= {
                f"gain_{SHORT[name]}_{post}_{tag}": gains[n][0]
                for tag, n in (("ref", ref), ("largest", largest))
                if n in gains
            }
    return out


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


PRUNE_TAGS = {"Burda et al. (0.01)": "burda", "Bonheme & Grześ (0.1)": "bonheme"}  # in glue keys


def pruning_panels(pruned: dict[str, list[dict]]) -> dict:
    """The pruning figure's panels from `{threshold label: pruned rows}`: per data set, the ELBO
    change of zeroing the inactive units and of the control at each threshold, and the FID with
    every unit and with the inactive ones zeroed (diagonal models)."""
    labels = list(pruned)
    panels = {}
    for name in _names(pruned[labels[0]], "data", DATASETS):
        panels[f"ELBO change (nats), {name}"] = {
            f"{what}{t}": summary(rows, metric, name, "diagonal")
            for what, metric in (
                ("zeroed below ", "elbo_change"),
                ("control, ", "control_elbo_change"),
            )
            for t, rows in pruned.items()
        }
    for name in _names(pruned[labels[0]], "data", DATASETS):
        panels[f"FID, {name}"] = {"all units": summary(pruned[labels[0]], "fid", name, "diagonal")}
        panels[f"FID, {name}"] |= {
            f"zeroed below {t}": summary(rows, "fid_zeroed", name, "diagonal")
            for t, rows in pruned.items()
        }
    return panels


def retrain_panels(rows: list[dict], retrained: list[dict], labels: dict[str, str]) -> dict:
    """Per data set and metric of `labels`, each posterior's curve over n and its retrained
    models at n*."""
    panels = {}
    for name in _names(rows, "data", DATASETS):
        for key, label in labels.items():
            panel = {post: summary(rows, key, name, post) for post in POSTERIORS}
            panel |= {f"{post} at n*": summary(retrained, key, name, post) for post in POSTERIORS}
            panels[f"{label}, {name}"] = panel
    return panels


def pruning_glue(pruned: dict[str, list[dict]], dims: dict, compare_: dict) -> dict:
    """Question 3's glued numbers: the worst |ELBO change| of zeroing at each threshold and data
    set, the largest pixel change, n* per data set (the rounded intrinsic dimension, at least 1),
    and the retrained models at n* (`small_`), the models at the largest n (`large_`) and their
    difference (`retrain_`) for each `COMPARED` metric."""
    out = {}
    for t, rows in pruned.items():
        for name in _names(rows, "data", DATASETS):
            changes = summary(rows, "elbo_change", name, "diagonal").values()
            out[f"pruned_worst_elbo_{PRUNE_TAGS[t]}_{SHORT[name]}"] = max(
                abs(m) for m, _ in changes
            )
        out[f"pruned_max_pixel_{PRUNE_TAGS[t]}"] = max(r["max_pixel_diff"] for r in rows)
    out |= {f"n_star_{SHORT[name]}": max(1, round(d)) for name, d in dims.items()}
    for (name, post), c in compare_.items():
        for k in COMPARED:
            where = f"{k}_{SHORT[name]}_{post}"
            out |= {f"retrain_{where}": c[k][0] - c[k][1], f"small_{where}": c[k][0]}
            out[f"large_{where}"] = c[k][1]
    return out
