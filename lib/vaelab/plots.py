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


def errorbar(ax, summary: dict, **kwargs):
    n = list(summary)
    return ax.errorbar(
        n,
        [m for m, _ in summary.values()],
        yerr=[s for _, s in summary.values()],
        marker="o",
        capsize=3,
        **kwargs,
    )


def sweep_metrics(summary: dict[str, dict], *, labels: dict[str, str]):
    """One panel per metric against n (log axis): mean ± sd over seeds. `summary[metric][n]`."""
    fig, axes = plt.subplots(
        1, len(summary), figsize=(3.3 * len(summary), 3.2), layout="constrained", squeeze=False
    )
    for ax, (metric, by_n) in zip(axes[0], summary.items(), strict=True):
        errorbar(ax, by_n)
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
            errorbar(ax, summary, label=label, ms=3)
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
