"""The figures of Part I (Azmoodeh et al.): functions of measured numbers that return a
matplotlib Figure, drawn in the book's style (`vaelab.plots`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from vaelab import plots


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
    from vaelab.theory import CRITICAL_VARIANCE, gaussian_entropy

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


def typicality_gap(per_unit: dict, relative: dict, *, prediction: dict[int, float]):
    """Fig. 3 twice: the per-unit gap (mean ± sd over seeds) with its χ² prediction, and the
    paper's relative gap in % of |h|. Summaries map n to (mean, sd)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    plots.errorbar(left, per_unit, label="measured")
    left.plot(list(prediction), list(prediction.values()), "k--", lw=1, label="chi2 prediction")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="latent dimension n",
        ylabel="E|-log q(z|x)/n - h|  (nats/unit)",
        title="per-unit gap: set by n alone",
    )
    left.legend(fontsize="small")
    plots.errorbar(right, relative, color="C1")
    right.set(
        xscale="log",
        yscale="log",
        xlabel="latent dimension n",
        ylabel="E|gap| / |h|  (%)",
        title="the paper's relative gap",
    )
    return fig
