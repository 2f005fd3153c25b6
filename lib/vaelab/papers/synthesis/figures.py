"""The figures of Part III: functions of measured numbers that return a matplotlib Figure,
drawn in the book's style (`vaelab.plots`)."""

from __future__ import annotations

import matplotlib.pyplot as plt


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
