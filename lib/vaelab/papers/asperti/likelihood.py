"""The decoder's likelihood: Bernoulli in this book, Gaussian in Asperti's text (§II: "the
quadratic distance between X and its reconstruction"). The dense MNIST model of §IV.A is
trained again with two Gaussian decoders, and its inactive units are counted as with Bernoulli.
"""

from __future__ import annotations

import math

from vaelab import stats
from vaelab.papers import asperti

# label -> `asperti.fit_config` options: variance 1/2 makes -log p(x|z) the sum of squared
# errors plus a constant, the plainest reading of "the quadratic distance"
DECODERS = {
    "Gaussian, variance 1/2": {"likelihood": "gaussian", "obs_var": 0.5},
    "Gaussian, learned variance": {"likelihood": "gaussian"},
}
TAGS = {"Gaussian, variance 1/2": "", "Gaussian, learned variance": "_learned"}  # in glue keys


def configs(run) -> dict:
    """`{label: [FitConfig per seed]}`: the dense MNIST model with each of `DECODERS`, for the
    `epochs`, `seeds`, `batch_size` and `lr` of `run` (an `asperti_mnist` profile)."""
    kw = dict(epochs=run.epochs, seeds=run.seeds, batch_size=run.batch_size, lr=run.lr)
    return {label: asperti.runs("mlp", data="mnist", **kw, **v) for label, v in DECODERS.items()}


def glue(reports: dict, models: dict, bernoulli: list[dict]) -> dict:
    """`inactive_dense_mnist_gaussian[_learned]` and their `_sd` over seeds, from `{label:
    [asperti.report per seed]}`; `gaussian_learned_var`, the learned pixel variance (mean over
    the learned decoder's `models[label]`), and `gaussian_weight_ratio`, how many times more a
    squared error weighs with it than with variance 1/2; `gaussian_vs_bernoulli`, where the
    variance-1/2 count lies against the `bernoulli` reports' count (words)."""
    out = {}
    for label, tag in TAGS.items():
        key = f"inactive_dense_mnist_gaussian{tag}"
        mean, sd = stats.mean_sd(r["inactive"] for r in reports[label])
        out |= {key: mean, f"{key}_sd": sd}
    learned = models["Gaussian, learned variance"]
    out["gaussian_learned_var"] = stats.mean_sd(m.obs_logvar.exp().item() for m in learned)[0]
    out["gaussian_weight_ratio"] = 0.5 / out["gaussian_learned_var"]
    b, b_sd = stats.mean_sd(r["inactive"] for r in bernoulli)
    a, a_sd = out["inactive_dense_mnist_gaussian"], out["inactive_dense_mnist_gaussian_sd"]
    within = abs(a - b) <= 2 * math.hypot(a_sd, b_sd)
    out["gaussian_vs_bernoulli"] = (
        "within twice the seeds' spread of" if within else "above" if a > b else "below"
    )
    return out
