"""Every figure the book draws. Functions take measured numbers and return a matplotlib Figure;
they compute nothing that a test could not check elsewhere."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib import ticker

sns.set_theme(context="notebook", style="whitegrid")


def training_curves(history: dict, *, title: str = ""):
    """The training ELBO per epoch (left) and its terms, rate and distortion (right), in nats."""
    if not history.get("epoch"):
        raise ValueError("history has no epochs to plot")
    fig, (bound, terms) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    bound.plot(history["epoch"], [-v for v in history["loss"]], marker="o")
    bound.set(xlabel="epoch", ylabel="ELBO (nats per image)", title="training bound")
    for name in ("rate", "distortion"):
        terms.plot(history["epoch"], history[name], marker="o", label=name)
    terms.set(xlabel="epoch", ylabel="nats per image", title="rate = KL, distortion = -log p(x|z)")
    terms.legend()
    if title:
        fig.suptitle(title)
    return fig


def image_grid(x: torch.Tensor, *, ncol: int = 10, pad: int = 1) -> np.ndarray:
    """Tile images `(n, 1, h, w)`, `(n, h, w)` or flat `(n, 784)` into one array, white padding."""
    if x.dim() == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(
            f"expected images of shape (n, h, w), (n, 1, h, w) or (n, 784), got {tuple(x.shape)}"
        )
    n, h, w = x.shape
    nrow = -(-n // ncol)
    grid = np.ones((nrow * (h + pad) + pad, ncol * (w + pad) + pad), dtype=np.float32)
    for i, image in enumerate(x.detach().cpu().float().numpy()):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) :][:, :w] = image
    return grid


def show_images(x: torch.Tensor, *, ncol: int = 10, title: str = ""):
    """A figure of `image_grid(x)` in grey levels (black = 0)."""
    grid = image_grid(x, ncol=ncol)
    fig, ax = plt.subplots(figsize=(0.6 * ncol, 0.6 * grid.shape[0] / grid.shape[1] * ncol + 0.4))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def aep(rows_by_label: dict[str, list[dict]]):
    """Lemma 1: the per-unit log density -log f_n(Z)/n (mean, 5-95% band) against n, and h."""
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    for label, rows in rows_by_label.items():
        n = [r["n"] for r in rows]
        (line,) = ax.plot(n, [r["mean"] for r in rows], marker="o", label=f"{label}: simulated")
        ax.fill_between(
            n, [r["q05"] for r in rows], [r["q95"] for r in rows], color=line.get_color(), alpha=0.2
        )
        ax.axhline(rows[0]["entropy"], color=line.get_color(), ls="--", lw=1, label=f"{label}: h")
    ax.set(
        xscale="log",
        xlabel="n",
        ylabel="-log f_n(Z) / n  (nats per unit)",
        title="AEP: the per-unit log density concentrates at h",
    )
    ax.legend(fontsize="small")
    return fig


def theorem3(rows_by_label: dict[str, list[dict]]):
    """Theorem 3 simulated: log|f_n(Z1) - f_n(Z2)|, the spread of log f_n(Z1)/f_n(Z2), and the
    spread of the per-unit log density, against n, one line per regime."""
    fig, (diff, ratio, per_unit) = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
    for label, rows in rows_by_label.items():
        n = [r["n"] for r in rows]
        diff.plot(n, [r["log_abs_diff_median"] for r in rows], marker="o", label=label)
        ratio.plot(n, [r["log_ratio_sd"] for r in rows], marker="o", label=label)
        per_unit.plot(n, [r["per_unit_sd"] for r in rows], marker="o", label=label)
    n = np.array(sorted({r["n"] for rows in rows_by_label.values() for r in rows}), dtype=float)
    ratio.plot(n, np.sqrt(n), "k--", lw=1, label="sqrt(n)")
    per_unit.plot(n, 1 / np.sqrt(2 * n), "k--", lw=1, label="1/sqrt(2n)")
    diff.axhline(0, color="grey", lw=0.8)
    diff.set(
        xscale="log",
        xlabel="n",
        ylabel="median log|f(Z1) - f(Z2)|",
        title="the difference (Theorem 3)",
    )
    ratio.set(
        xscale="log", yscale="log", xlabel="n", ylabel="sd of log f(Z1)/f(Z2)", title="the ratio"
    )
    per_unit.set(
        xscale="log",
        yscale="log",
        xlabel="n",
        ylabel="sd of -log f(Z)/n",
        title="the per-unit log density",
    )
    for ax in (diff, ratio, per_unit):
        ax.legend(fontsize="small")
    return fig


def entropy_vs_variance(sigma2_by_label: dict[str, float]):
    """h(N(0, sigma2)) against sigma2, its zero at 1/(2 pi e), and where given models sit."""
    from .theory import CRITICAL_VARIANCE, gaussian_entropy

    grid = np.logspace(-4, 1, 200)
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    ax.plot(grid, [gaussian_entropy(s) for s in grid], label="h = log(2 pi e sigma2) / 2")
    ax.axvline(CRITICAL_VARIANCE, color="grey", ls="--", lw=1, label="sigma2 = 1/(2 pi e)")
    ax.axhline(0, color="grey", lw=0.8)
    for label, s in sigma2_by_label.items():
        ax.plot([s], [gaussian_entropy(s)], "o", color="C3")
        ax.annotate(label, (s, gaussian_entropy(s)), textcoords="offset points", xytext=(4, -12))
    ax.set(
        xscale="log",
        xlabel="posterior variance sigma2",
        ylabel="h per unit (nats)",
        title="the sign of h: where trained posteriors sit",
    )
    ax.legend(fontsize="small", loc="upper left")
    return fig


def rate_distortion(rows: list[dict], *, unit: str = "nats"):
    """−ELBO per image split into rate (KL) and distortion, stacked, one bar per dimension."""
    names = [str(r["latent_dim"]) for r in rows]
    rate = [r["rate"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    ax.bar(names, rate, label="rate: KL(q(z|x) || p(z))")
    ax.bar(names, [r["distortion"] for r in rows], bottom=rate, label="distortion: -E log p(x|z)")
    ax.set(
        xlabel="latent dimension n",
        ylabel=f"{unit} per test image",
        title="the code's rate, -ELBO = rate + distortion",
    )
    ax.legend(fontsize="small", loc="lower right")
    return fig


def iwae_gaps(gaps_by_label: dict[str, dict[int, float]]):
    """IWAE_k − ELBO against k, one line per model: a lower bound on E KL(q(z|x) || p(z|x))."""
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    for label, gaps in gaps_by_label.items():
        ax.plot(list(gaps), list(gaps.values()), marker="o", label=label)
    ax.set(
        xscale="log",
        xlabel="importance samples k",
        ylabel="IWAE_k - ELBO (nats per image)",
        title="how far the ELBO sits below log p(x), at least",
    )
    ax.legend(fontsize="small")
    return fig


def identity_check(gap: torch.Tensor, kl: torch.Tensor):
    """Per image: log p(x) − ELBO(q) against KL(q || p(z|x)), both closed form, on y = x."""
    fig, ax = plt.subplots(figsize=(4.2, 3.8), layout="constrained")
    ax.scatter(kl.numpy(), gap.numpy(), s=8, alpha=0.6)
    top = float(max(kl.max(), gap.max()))
    ax.plot([0, top], [0, top], "k--", lw=1, label="y = x")
    ax.set(
        xlabel="KL(q(z|x) || p(z|x))  (nats)",
        ylabel="log p(x) - ELBO(q)  (nats)",
        title="probabilistic PCA, diagonal q",
    )
    ax.legend(fontsize="small")
    return fig


def latent_scatter(mu: torch.Tensor, labels: torch.Tensor, class_names: list[str]):
    """Azmoodeh's Fig. 2: 2-D posterior means of images, one colour per class."""
    if mu.dim() != 2 or mu.shape[1] != 2:
        raise ValueError(f"expected 2-D latent means of shape (N, 2), got {tuple(mu.shape)}")
    fig, ax = plt.subplots(figsize=(6.4, 5), layout="constrained")
    palette = sns.color_palette("tab10", len(class_names))
    for c, name in enumerate(class_names):
        pts = mu[labels == c].numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5, color=palette[c], label=name)
    ax.set(xlabel="mu_1", ylabel="mu_2", title="posterior means, n = 2")
    ax.legend(markerscale=4, fontsize="small", loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def image_rows(images_by_label: dict[str, torch.Tensor], *, ncol: int = 10):
    """One row of images per label (samples or reconstructions per model), labelled on the left."""
    rows = len(images_by_label)
    fig, axes = plt.subplots(
        rows, 1, figsize=(0.6 * ncol + 0.8, 0.7 * rows), layout="constrained", squeeze=False
    )
    for ax, (label, x) in zip(axes[:, 0], images_by_label.items(), strict=True):
        ax.imshow(image_grid(x[:ncol], ncol=ncol), cmap="gray", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    return fig


def _errorbar(ax, summary: dict, **kwargs):
    n = list(summary)
    return ax.errorbar(
        n,
        [m for m, _ in summary.values()],
        yerr=[s for _, s in summary.values()],
        marker="o",
        capsize=3,
        **kwargs,
    )


def typicality_gap(per_unit: dict, relative: dict, *, prediction: dict[int, float]):
    """Fig. 3 twice: the per-unit gap (mean ± sd over seeds) with its χ² prediction, and the
    paper's relative gap in % of |h|. Summaries map n to (mean, sd)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    _errorbar(left, per_unit, label="measured")
    left.plot(list(prediction), list(prediction.values()), "k--", lw=1, label="chi2 prediction")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="latent dimension n",
        ylabel="E|-log q(z|x)/n - h|  (nats/unit)",
        title="per-unit gap: set by n alone",
    )
    left.legend(fontsize="small")
    _errorbar(right, relative, color="C1")
    right.set(
        xscale="log",
        yscale="log",
        xlabel="latent dimension n",
        ylabel="E|gap| / |h|  (%)",
        title="the paper's relative gap",
    )
    return fig


def sweep_metrics(summary: dict[str, dict], *, labels: dict[str, str]):
    """One panel per metric against n (log axis): mean ± sd over seeds. `summary[metric][n]`."""
    fig, axes = plt.subplots(
        1, len(summary), figsize=(3.3 * len(summary), 3.2), layout="constrained", squeeze=False
    )
    for ax, (metric, by_n) in zip(axes[0], summary.items(), strict=True):
        _errorbar(ax, by_n)
        ax.set(xscale="log", xlabel="latent dimension n", ylabel=labels.get(metric, metric))
    return fig


def epoch_times(rows: dict[int, dict[str, float]]):
    """Seconds per epoch against the latent dimension, one line per training method."""
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    dims = sorted(rows)
    for method in rows[dims[0]]:
        ax.plot(dims, [rows[n][method] for n in dims], marker="o", label=method)
    ax.set(
        xscale="log",
        xlabel="latent dimension n",
        ylabel="seconds per epoch",
        title="one epoch of Azmoodeh's model",
    )
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    return fig


def unit_scatter(points_by_label: dict[str, list[tuple[float, float]]]):
    """Tables I and II as a figure: each unit at (Var_x mu, mean sigma^2), one marker per model.

    Active units sit at the lower right, inactive ones at the upper left; a unit on the dashed
    line has Var mu + E sigma^2 = 1, as a posterior whose mixture matches the prior would."""
    fig, ax = plt.subplots(figsize=(6.2, 4), layout="constrained")
    markers = ["o", "s", "^", "D", "v", "x", "+"]
    for i, (label, pts) in enumerate(points_by_label.items()):
        v, s = zip(*pts, strict=True)
        ax.scatter(v, s, marker=markers[i % len(markers)], s=28, alpha=0.7, label=label)
    grid = np.logspace(-6, 0, 100)
    ax.plot(grid, 1 - grid, "k--", lw=1, label="Var mu + E sigma^2 = 1")
    ax.set(
        xscale="log",
        xlabel="Var_x mu_j (log)",
        ylabel="E_x sigma_j^2",
        title="one point per latent unit",
    )
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def trajectories(track: list[dict], *, every: int = 5):
    """Asperti's Fig. 1: (mu_1, mu_2) of tracked images along training, one colour per image,
    an ellipse of half-axes sigma_1, sigma_2 (area ∝ variance) fading from early to late."""
    from matplotlib.collections import EllipseCollection

    steps = track[::every] + ([track[-1]] if (len(track) - 1) % every else [])
    fig, ax = plt.subplots(figsize=(6, 5.2), layout="constrained")
    palette = sns.color_palette("tab10", len(steps[0]["value"]["mu"]))
    for t, point in enumerate(steps):
        mu = np.array(point["value"]["mu"])  # (images, 2)
        sd = np.exp(0.5 * np.array(point["value"]["logvar"]))
        alpha = 0.05 + 0.6 * t / max(len(steps) - 1, 1)
        ax.add_collection(
            EllipseCollection(
                2 * sd[:, 0],
                2 * sd[:, 1],
                0,
                units="xy",
                offsets=mu,
                offset_transform=ax.transData,
                facecolors=palette,
                alpha=alpha,
            )
        )
    for i, color in enumerate(palette):
        path = np.array([p["value"]["mu"][i] for p in track])
        ax.plot(path[:, 0], path[:, 1], color=color, lw=0.8, label=str(i))
    ax.set(
        xlabel="mu_1",
        ylabel="mu_2",
        aspect="equal",
        title=f"steps 0 to {track[-1]['step']}: ellipse = 1 sigma",
    )
    ax.autoscale_view()
    ax.legend(title="digit", fontsize="small", loc="center left", bbox_to_anchor=(1, 0.5))
    return fig


def latent_3d(codes_by_label: dict[str, torch.Tensor], labels: torch.Tensor):
    """Asperti's Fig. 2: 3-D posterior means, one panel per model, one colour per digit."""
    fig = plt.figure(figsize=(5 * len(codes_by_label), 4.6), layout="constrained")
    for i, (title, mu) in enumerate(codes_by_label.items()):
        ax = fig.add_subplot(1, len(codes_by_label), i + 1, projection="3d")
        pts = mu.numpy()
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=labels.numpy(), cmap="tab10", s=2)
        ax.set(title=title, xlabel="mu_1", ylabel="mu_2", zlabel="mu_3")
    return fig


def sigma2_training(units: list[dict], inactive: list[bool]):
    """Asperti's Fig. 11: each unit's mean sigma^2 along training, inactive units in red."""
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    steps = [u["step"] for u in units]
    sigma2 = np.array([u["value"]["mean_sigma2"] for u in units])  # (probes, units)
    for j in range(sigma2.shape[1]):
        ax.plot(steps, sigma2[:, j], lw=1, color="C3" if inactive[j] else "C0")
    ax.plot([], [], color="C3", label="inactive at the end")
    ax.plot([], [], color="C0", label="active at the end")
    ax.set(
        xscale="symlog",
        xlabel="minibatches of 128 (symlog)",
        ylabel="mean sigma_j^2",
        title="each unit's mean posterior variance",
    )
    ax.legend(fontsize="small")
    return fig


def tile_counts(fractions_by_label: dict[str, dict]):
    """Distribution of the number of tiles per image, one group of bars per source."""
    fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
    width = 0.8 / len(fractions_by_label)
    for i, (label, fractions) in enumerate(fractions_by_label.items()):
        x = np.arange(len(fractions)) + i * width
        ax.bar(x, list(fractions.values()), width=width, label=label)
    ticks = list(next(iter(fractions_by_label.values())))
    ax.set_xticks(np.arange(len(ticks)) + 0.4 - width / 2, [str(t) for t in ticks])
    ax.set(xlabel="tiles in the image (connected components)", ylabel="fraction of images")
    ax.legend(fontsize="small")
    return fig


def kl_sweep(inactive: dict, used: dict):
    """Inactive units (Asperti's criterion) and units the decoder uses against the KL weight β;
    summaries map β to (mean, sd) over seeds."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.4), layout="constrained")
    _errorbar(left, inactive)
    left.set(
        xscale="symlog",
        xlabel="KL weight beta",
        ylabel="inactive units (of 16)",
        title="Var mu < 0.01 and E sigma^2 > 0.5",
    )
    _errorbar(right, used, color="C1")
    right.set(
        xscale="symlog",
        xlabel="KL weight beta",
        ylabel="units used (of 16)",
        title="decoder use > 0.1 nats per image",
    )
    return fig


def eq7(points_by_label: dict[str, list[float]]):
    """Asperti's eq. (7), -sigma^2 + log sigma^2 + 1, with each unit's mean sigma^2 on it."""
    fig, ax = plt.subplots(figsize=(6.2, 3.6), layout="constrained")
    s = np.logspace(-3, 0.6, 300)
    ax.plot(s, -s + np.log(s) + 1, "k", lw=1.2, label="eq. (7)")
    for i, (label, sigma2) in enumerate(points_by_label.items()):
        v = np.array(sigma2)
        ax.scatter(v, -v + np.log(v) + 1, s=30, color=f"C{i}", label=label, zorder=3)
    ax.set(
        xscale="log",
        xlabel="sigma^2 (log)",
        ylabel="-sigma^2 + log sigma^2 + 1",
        title="the variance part of -2 KL: 0 only at sigma^2 = 1",
    )
    ax.legend(fontsize="small")
    return fig


def inactive_along(curves: dict[str, tuple[list[int], list[int]]]):
    """The number of inactive units along training, one line per run: `{label: (steps, counts)}`."""
    fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
    for label, (steps, counts) in curves.items():
        ax.step(steps, counts, where="post", label=label)
    ax.set(
        xscale="symlog",
        xlabel="minibatches of 128 (symlog)",
        ylabel="inactive units",
        title="inactive units along training (probed training images)",
    )
    ax.legend(fontsize="small")
    return fig


def convergence(curves: dict[str, dict[str, list[float]]], marks: dict[str, int]):
    """One panel per data set: held-out -ELBO per epoch of each run `curves[panel][label]`, and a
    dashed line at the epochs chosen for the grid, `marks[panel]`."""
    fig, axes = plt.subplots(
        1, len(curves), figsize=(4.6 * len(curves), 3.4), layout="constrained", squeeze=False
    )
    for ax, (panel, by_label) in zip(axes[0], curves.items(), strict=True):
        for label, loss in by_label.items():
            ax.plot(range(1, len(loss) + 1), loss, label=label)
        ax.axvline(marks[panel], ls="--", c="k", lw=1, label=f"grid: {marks[panel]} epochs")
        low = min(min(v) for v in by_label.values())
        ax.set(
            title=panel, xlabel="epoch", ylabel="held-out −ELBO (nats)", ylim=(low - 5, low + 60)
        )
        ax.legend(fontsize=8)
    return fig


def lines_vs_dim(
    panels: dict[str, dict[str, dict]],
    *,
    ylabels: dict[str, str],
    identity: bool = False,
    ncol: int = 2,
):
    """One panel per key of `panels`, one line per `panels[panel][label] = {n: (mean, sd)}` with
    sd error bars, against n on a log axis; `identity` adds the line y = n (every unit used)."""
    rows = -(-len(panels) // ncol)
    fig, axes = plt.subplots(
        rows, ncol, figsize=(4.8 * ncol, 3.4 * rows), layout="constrained", squeeze=False
    )
    for ax, (panel, by_label) in zip(axes.flat, panels.items(), strict=False):
        for label, summary in by_label.items():
            _errorbar(ax, summary, label=label, ms=3)
        ns = sorted({n for s in by_label.values() for n in s})
        if identity:
            ax.plot(ns, ns, ls=":", c="grey", label="all n units")
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(ticker.ScalarFormatter())
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set(xscale="log", xlabel="latent dimension n", ylabel=ylabels[panel], title=panel)
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.legend(fontsize=7)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    return fig


def threshold_sensitivity(
    panels: dict[str, dict[str, list[int]]], thresholds, *, defaults: dict[str, float]
):
    """Active-unit counts against the threshold (log axis), one panel per key of `panels`, one
    line per label; `defaults[panel]` marks the published threshold(s) of that panel."""
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.8 * len(panels), 3.4), layout="constrained", squeeze=False
    )
    for ax, (panel, by_label) in zip(axes[0], panels.items(), strict=True):
        for label, counts in by_label.items():
            ax.step(thresholds, counts, where="post", label=label)
        for name, t in defaults[panel].items():
            ax.axvline(t, ls="--", c="grey", lw=1)
            ax.text(t, ax.get_ylim()[1], f" {name}", rotation=90, va="top", fontsize=7)
        ax.set(xscale="log", xlabel="threshold", ylabel="active units", title=panel)
        ax.legend(fontsize=7)
    return fig
