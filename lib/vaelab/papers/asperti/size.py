"""Does the inactive count depend on the training-set size, and does it follow steps or epochs?

Asperti trains on MNIST's 60,000 images; Part II here on the 4,000 of the offline subset. The
dense model of §IV.A is trained on the first 4k / 15k / 60k Fashion-MNIST images (on disk) for
about the same number of optimiser steps (whole epochs: at least `steps`, at most one epoch more),
so that steps, epochs and data size come apart: at a given step the smaller set has seen each
image more often. Every run probes its units on the same first `asperti.PROBE_IMAGES` training
images (all of a smaller set) every `asperti.PROBE_EVERY` steps, so the count is followed along
training.
"""

from __future__ import annotations

import dataclasses
import math

from vaelab import claims
from vaelab.papers import asperti
from vaelab.papers.asperti import rules

DATA = "fashion-mnist"


def epochs_for(images: int, steps: int, batch_size: int) -> int:
    """The fewest epochs of `images` in batches of `batch_size` that make at least `steps` steps
    (the last batch of an epoch may be short)."""
    if images <= 0 or steps <= 0 or batch_size <= 0:
        given = f"{images}, {steps}, {batch_size}"
        raise ValueError(f"images, steps and batch_size must be positive, got {given}")
    return math.ceil(steps / math.ceil(images / batch_size))


def configs(run) -> dict:
    """`{(images, seed): FitConfig}`: the dense model on the first `images` Fashion-MNIST
    training images for each of `run.train_sizes` and `run.seeds`, `run.steps` steps each. Each
    probes the first `asperti.PROBE_IMAGES` images (all of a smaller set)."""
    return {(n, s): _probing(n, _config(run, n, s)) for n in run.train_sizes for s in run.seeds}


def _probing(images: int, config):
    if images >= asperti.PROBE_IMAGES:
        return config
    train = dataclasses.replace(config.train, probe_indices=tuple(range(images)))
    return dataclasses.replace(config, train=train)


def _config(run, n: int, s: int):
    return asperti.fit_config(
        "mlp",
        data=DATA,
        train_images=n,
        epochs=epochs_for(n, run.steps, run.batch_size),
        seed=s,
        batch_size=run.batch_size,
        lr=run.lr,
        probe=True,
    )


def mean_curve(curves: list[tuple[list[int], list[int]]], steps: int) -> tuple[list, list]:
    """The mean over runs of inactive-count curves `(steps, counts)`, up to step `steps`; the
    runs' probes fall on the same steps (every `PROBE_EVERY`) up to there."""
    kept = [[(t, c) for t, c in zip(*curve, strict=True) if t <= steps] for curve in curves]
    length = min(len(k) for k in kept)
    at = [kept[0][i][0] for i in range(length)]
    if any(k[i][0] != at[i] for k in kept for i in range(length)):
        raise ValueError("the runs were not probed at the same steps")
    return at, [sum(k[i][1] for k in kept) / len(kept) for i in range(length)]


CLAIMS = (
    claims.Claim(
        id="asperti.dense.size",
        paper="asperti",
        section="set-up: 4,000 training images here, 60,000 in the paper",
        text="The dense VAE's inactive count is not a property of a small training set: on the "
        "largest Fashion-MNIST set it is the count on the smallest, after about the same number "
        "of steps (whole epochs: at least `steps`, at most one epoch more).",
        paper_value="not stated (the paper trains on 60,000 MNIST images)",
        measurement="inactive units (Asperti's criterion, test images) at the largest and the "
        "smallest training set, mean ± sd over seeds",
        rule=rules.same_rule("largest set against smallest"),
        chapter="sparsity/06_data_size",
        measure=lambda g, run: {
            "a_mean": g["inactive_dense_fmnist"],
            "a_sd": g["inactive_dense_fmnist_sd"],
            "b_mean": g["inactive_dense_fmnist_smallest"],
            "b_sd": g["inactive_dense_fmnist_smallest_sd"],
            "seeds": len(run["seeds"]),
        },
        registered="2026-11-30, before any Fashion-MNIST result was seen (made stricter during "
        "training, after a code review: within the spread and one unit)",
        word_key="size_verdict",
    ),
)
