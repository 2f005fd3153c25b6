"""Statistics over seeds and over the latent dimension: mean ± sd, trends, when a count settles.

Pure functions of numbers (and of rows of numbers keyed by `latent_dim`); nothing here knows a
model or a paper.
"""

from __future__ import annotations

import statistics

import torch


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    values = [float(v) for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), sd


def nanmax(values) -> float:
    """The largest value that is not NaN; NaN when there is none."""
    kept = [float(v) for v in values if v == v]
    return max(kept) if kept else float("nan")


def nanmin(values) -> float:
    """The smallest value that is not NaN; NaN when there is none."""
    kept = [float(v) for v in values if v == v]
    return min(kept) if kept else float("nan")


def by_dimension(rows: list[dict], key: str) -> dict[int, tuple[float, float]]:
    """`{latent_dim: (mean, sd)}` of `row[key]` over the rows (seeds) of each dimension.

    The sd is the sample standard deviation (n − 1), 0 for a single seed.
    """
    values: dict[int, list[float]] = {}
    for row in rows:
        values.setdefault(row["latent_dim"], []).append(float(row[key]))
    out = {}
    for n, v in values.items():
        t = torch.tensor(v, dtype=torch.float64)
        out[n] = (t.mean().item(), t.std().item() if len(v) > 1 else 0.0)
    return out


def trend(summary: dict[int, tuple[float, float]]) -> str:
    """How the means of a `by_dimension` summary move as n grows, in words."""
    means = [summary[n][0] for n in sorted(summary)]
    steps = list(zip(means, means[1:], strict=False))
    if all(a < b for a, b in steps):
        return "rises at every step"
    if all(a > b for a, b in steps):
        return "falls at every step"
    return "is not monotone"


def relative_spread(summary: dict[int, tuple[float, float]]) -> float:
    """(largest mean − smallest mean) / smallest mean of a `by_dimension` summary."""
    means = [m for m, _ in summary.values()]
    return (max(means) - min(means)) / min(means)


def settled_step(steps: list[int], counts: list[int]) -> int:
    """The first step from which the count never changes again."""
    last = len(counts) - 1
    while last > 0 and counts[last - 1] == counts[-1]:
        last -= 1
    return steps[last]
