"""Azmoodeh et al., *Why Bigger is Not Better*: the network of Part I, its measurements, its claims.

The VAE is the paper's dense Bernoulli network (784-256-256-n-256-256-784) with an isotropic or
diagonal Gaussian posterior, trained with Adam on Fashion-MNIST. Part I's chapters build every
model here (`fit_config`), so that equal sizes hit equal cache entries.
"""

from __future__ import annotations

import dataclasses

from vaelab import cache, claims, elbo, evals, metrics, quality
from vaelab.papers.azmoodeh.lemma2 import CLAIMS as LEMMA2_CLAIMS

HIDDEN = (256, 256)  # the paper's two hidden layers of 256 units


def fit_config(latent_dim: int, **sizes) -> cache.FitConfig:
    """The paper's VAE at latent dimension `latent_dim` on Fashion-MNIST: `cache.mlp_config` with
    the paper's hidden layers; `sizes` are its keyword arguments (posterior, epochs, batch_size,
    lr, train_limit=0 for every image, seed, precision, heldout)."""
    return cache.mlp_config(latent_dim, hidden=HIDDEN, **sizes)


def sweep_configs(run, *, seeds, posterior: str = "isotropic") -> list[cache.FitConfig]:
    """The paper's VAE at each of `run.latent_dims` (outer) and `seeds` (inner), at the sizes of
    `run` (a chapter's `Run`: epochs, lr, batch_size, train_limit)."""
    sizes = {k: run[k] for k in ("epochs", "lr", "batch_size", "train_limit")}
    return [
        fit_config(n, posterior=posterior, seed=s, **sizes)
        for n in run["latent_dims"]
        for s in seeds
    ]


def _dimension_report(vae, x_test, classifier, reference, *, samples: int, seed: int = 0):
    """One model's row of the dimension sweep; `reference` = `features(classifier, real images)`.

    Test ELBO, rate and distortion (nats), FID and class entropy of `samples` generated images,
    active units (Burda et al.), the mean |per-unit typicality gap| and its relative form (%),
    and the median posterior variance. The same `seed` gives the same numbers.
    """
    ev = elbo.evaluate(vae, x_test, seed=seed)
    fake = quality.generate(vae, samples, seed=seed)
    mu, logvar = metrics.encode_all(vae, x_test)
    gap = metrics.gap_of(mu, logvar, seed=seed)
    return {
        "test_elbo": ev["elbo"],
        "rate": ev["rate"],
        "distortion": ev["distortion"],
        "fid": quality.frechet_distance(quality.features(classifier, fake), reference),
        "class_entropy": quality.class_entropy(quality.predict(classifier, fake)),
        "active_units": int(metrics.active_units(metrics.stats_of(mu, logvar)).sum()),
        "typicality_gap": gap.mean_abs_per_unit,
        "relative_gap_percent": gap.mean_abs_relative_percent,
        "median_sigma2": logvar.exp().median().item(),
    }


def dimension_report(vae, x_test, classifier, reference, *, samples: int, seed: int = 0) -> dict:
    """One model's row of the dimension sweep, computed once (`cache.memo`): see
    `_dimension_report`."""
    params = {
        "model": evals.fingerprint(vae),
        "images": evals.fingerprint(x_test),
        "classifier": evals.fingerprint(classifier),
        "reference": evals.fingerprint(reference),
        "samples": samples,
        "seed": seed,
    }
    return cache.memo(
        "dimension-report",
        params,
        lambda: _dimension_report(vae, x_test, classifier, reference, samples=samples, seed=seed),
    )


# The columns of the sweep's table by n: {summary key: (label, decimals)}
SWEEP_COLUMNS = {
    "test_elbo": ("test ELBO (nats)", 1),
    "rate": ("rate (nats)", 1),
    "distortion": ("distortion (nats)", 1),
    "fid": ("FID", 1),
    "class_entropy": ("class entropy (bits)", 2),
    "active_units": ("active units", 0),
    "typicality_gap": ("typicality gap per unit (nats)", 4),
}

# The columns of the code-length table by n (Part I 01, one seed): {key: (label, decimals)}
CODE_COLUMNS = {
    "neg_elbo_bits": ("$-\\mathcal L$ (bits)", 1),
    "rate_bits": ("rate (bits)", 1),
    "distortion_bits": ("distortion (bits)", 1),
    "iwae_gap_bits": ("$\\mathrm{IWAE}_k - \\mathcal L$, largest $k$ (bits)", 2),
}


def fid_jump_words(fid: dict) -> str:
    """What the FID does on the step from n = 20 to n = 200 (where the paper sees the samples
    break down), in words from `fid = {n: (mean, sd)}`; says so when the run lacks that step."""
    if not {20, 200} <= set(fid):
        return "this run has no $n = 20$ and $n = 200$ pair, the step the paper points at"
    jump = fid[200][0] - fid[20][0]
    return f"the step from $n = 20$ to $n = 200$, the one the paper points at, adds {jump:.1f}"


def knn_words(accuracy: float) -> str:
    """How well the n = 2 posterior means give the class (10 nearest neighbours), in words; NaN
    (no n = 2 model in the run) says so."""
    if accuracy != accuracy:
        return "this run has no $n = 2$ model to look at"
    return (
        f"the 10 nearest neighbours in the plane give an image's class {accuracy:.2f} of the time "
        "(chance 0.1)"
    )


# --- The claims of Part I (`vaelab.claims`) ---------------------------------------------------
def _fig3(g, run) -> dict:
    gaps = [g[f"sweep_relative_gap_percent_{n}"] for n in sorted(run["latent_dims"])]
    steps = list(zip(gaps, gaps[1:], strict=False))
    said = " -> ".join(f"{v:.3g}" for v in gaps) + " %"
    return {"every": all(b < a for a, b in steps), "some": gaps[-1] < gaps[0], "counts": said}


def _fig4(g, run) -> dict:
    lo, hi = min(run["latent_dims"]), max(run["latent_dims"])
    fid, ent = (
        (g[f"sweep_fid_{lo}"], g[f"sweep_fid_{hi}"]),
        (
            g[f"sweep_class_entropy_{lo}"],
            g[f"sweep_class_entropy_{hi}"],
        ),
    )
    every = g["fid_trend"] == "rises at every step" and g["entropy_trend"] == "falls at every step"
    return {"every": every, "some": fid[1] > fid[0] and ent[1] < ent[0]}


CLAIMS = (
    claims.Claim(
        id="azmoodeh.eq3",
        paper="azmoodeh",
        section="§II, eq. (3)",
        text="Eq. (3), as printed, holds: the ELBO = -KL(q(z|x) || p(z)) - E KL(q(z|x) || p(z|x)).",
        paper_value="stated, no measurement",
        measurement="mean |ELBO - the right-hand side of eq. (3)| over images, on PPCA models "
        "where every term is closed form (nats)",
        rule=claims.at_most_rule("its smallest error over the PPCA models, nats", limit=1e-3),
        chapter="bigger_is_not_better/01_source_code",
        measure=lambda g, run: {"value": g["eq3_error_nats"]},
    ),
    claims.Claim(
        id="azmoodeh.fig4.samples",
        paper="azmoodeh",
        section="§IV, Fig. 4",
        text="As the latent dimension n grows, generated samples get worse and less varied.",
        paper_value="figure (n = 2, 20, 200, 800)",
        measurement="FID and class entropy of 10,000 samples, mean over seeds, by n",
        rule=claims.all_some_rule(
            "FID rises and class entropy falls at every step of n",
            "both are worse at the largest n than at the smallest",
        ),
        chapter="bigger_is_not_better/03_dimension_sweep",
        measure=_fig4,
        earlier=(
            claims.Revision(
                "the same rule (`worse_with_n`), inline in the chapter",
                "moved to the ledger unchanged; it still compares means without the seeds' "
                "spread (the science issue revisits it)",
                word="Partly confirmed",
            ),
        ),
        word_key="fig4_verdict",
    ),
    claims.Claim(
        id="azmoodeh.fig2.clusters",
        paper="azmoodeh",
        section="§IV, Fig. 2",
        text="At n = 2, clothing of the same kind forms (loose) clusters in the latent space.",
        paper_value="figure ('loose clusters', and a gradient between types)",
        measurement="leave-one-out 10-nearest-neighbour accuracy of the class from mu at n = 2 "
        "(chance 0.1); the gradient between types is not measured",
        rule=claims.floor_rule("10-NN class accuracy", confirm_at=0.5, partly_at=0.2),
        chapter="bigger_is_not_better/03_dimension_sweep",
        measure=lambda g, run: {"value": g["latent2_knn_accuracy"]},
        earlier=(
            claims.Revision(
                "none: the chapter wrote 'confirmed'",
                "a verdict needs a rule; its cut-offs (5 and 2 times chance) were set after the "
                "published accuracy, 0.69, was seen",
                word="confirmed",
            ),
        ),
        word_key="fig2_verdict",
    ),
    claims.Claim(
        id="azmoodeh.fig3.typicality",
        paper="azmoodeh",
        section="§IV, Fig. 3",
        text="As n grows, the density of sampled latents gets closer to that of a typical "
        "sequence (their difference as a percent of the probability shrinks).",
        paper_value="figure (n = 2, 20, 200, 800)",
        measurement="relative typicality gap (%) by n, mean over seeds",
        rule=claims.all_some_rule(
            "it falls at every step of n", "it is smaller at the largest n than at the smallest"
        ),
        chapter="bigger_is_not_better/03_dimension_sweep",
        measure=_fig3,
        earlier=(
            claims.Revision(
                "none: the chapter wrote 'confirmed as a plot' for the per-unit gap",
                "the paper's Fig. 3 is the relative gap, and a verdict needs a rule",
                word="confirmed",
            ),
        ),
        word_key="fig3_verdict",
    ),
    claims.Claim(
        id="azmoodeh.fig5.reconstructions",
        paper="azmoodeh",
        section="§IV, Fig. 5",
        text="Reconstructions are of similar quality at every latent dimension.",
        paper_value="figure",
        measurement="relative spread of the test distortion over n: (max - min) / min",
        rule=claims.band_rule("relative spread", confirm_below=0.05, partly_below=0.15),
        chapter="bigger_is_not_better/03_dimension_sweep",
        measure=lambda g, run: {"value": g["distortion_spread_percent"] / 100},
        word_key="fig5_verdict",
    ),
    claims.Claim(
        id="azmoodeh.theorem3",
        paper="azmoodeh",
        section="§III.A, Theorem 3",
        text="For Z1, Z2 ~ N(mu 1, sigma^2 I) in R^n with density f_n, f_n(Z1) - f_n(Z2) -> 0 "
        "in probability as n -> infinity, for any mu and sigma.",
        paper_value="for all mu, sigma (proof, no simulation)",
        measurement="median log|f_n(Z1) - f_n(Z2)| of simulated pairs as n grows, at sigma^2 = 1 "
        "(h > 0) and sigma^2 = 0.01 (h < 0): it converges if it falls by more than 10 nats",
        rule=claims.holds_rule(
            "the difference converges at both variances (the theorem is for all sigma)"
        ),
        chapter="bigger_is_not_better/02_typical_sets",
        measure=lambda g, run: {
            "holds": g["theorem3_converges_pos"] and g["theorem3_converges_neg"]
        },
        word_key="theorem3_verdict",
    ),
    *LEMMA2_CLAIMS,
)
# Why each number of Part I's rules is where it is (shown under each rule on the scoreboard)
CUTOFFS = {
    "azmoodeh.eq3": "0.001 nats: a numerical tolerance, far above the float64 round-off of the "
    "exact PPCA terms; set after the result was seen; only a tolerance above the measured error "
    "(in the reason) would change the word",
    "azmoodeh.fig2.clusters": "10 neighbours; with 10 classes chance accuracy is 0.1, so 0.2 "
    "(twice chance) is some clustering and 0.5 (most neighbours of the same kind) is clusters; "
    "set after the result was seen",
    "azmoodeh.fig5.reconstructions": "round bands for the relative spread of the distortion "
    "across n: under 5% 'similar', under 15% similar up to a minor difference; set after the "
    "result was seen (the reason gives the measured spread, so which band would change the "
    "word shows)",
    "azmoodeh.lemma2.ii": "none of the book's: 1 - eps is the lemma's own bound; the eps values "
    "are the chapter's table (0.1 and 0.01, in bits and in nats)",
}
CLAIMS = tuple(dataclasses.replace(c, cutoffs=CUTOFFS.get(c.id, "")) for c in CLAIMS)
