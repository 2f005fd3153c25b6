"""The figures of Part II (Asperti): functions of measured numbers that return a matplotlib
Figure, drawn in the book's style (`vaelab.plots`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

from vaelab import plots


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
    plots.errorbar(left, inactive)
    left.set(
        xscale="symlog",
        xlabel="KL weight beta",
        ylabel="inactive units (of 16)",
        title="Var mu < 0.01 and E sigma^2 > 0.5",
    )
    plots.errorbar(right, used, color="C1")
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


def count_by_size(curves: dict[int, tuple[list, list]], steps_per_epoch: dict[int, int]):
    """The mean inactive count along training for each training-set size `{images: (steps,
    counts)}`, against optimiser steps (left) and against epochs (right): the curves coincide
    on the axis that the count follows."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained", sharey=True)
    for images, (steps, counts) in curves.items():
        label = f"{images:,} images"
        axes[0].step(steps, counts, where="post", label=label)
        epochs = [s / steps_per_epoch[images] for s in steps]
        axes[1].step(epochs, counts, where="post", label=label)
    axes[0].set(xscale="symlog", xlabel="optimiser steps (symlog)", ylabel="inactive units")
    axes[1].set(xscale="symlog", xlabel="epochs (symlog)")
    axes[0].set_title("mean over seeds, probed training images")
    axes[1].legend(fontsize="small")
    return fig
