"""The claims of Part II (Asperti), each with the rule that judges it (`vaelab.claims`)."""

import dataclasses

from vaelab import claims
from vaelab.papers.asperti.counts import COUNT_NEAR, PAPER_VALUE, count, count_claims
from vaelab.papers.asperti.cutoffs import CUTOFFS
from vaelab.papers.asperti.kl import CLAIMS as KL_CLAIMS
from vaelab.papers.asperti.paper import PAPER_INACTIVE
from vaelab.papers.asperti.size import CLAIMS as SIZE_CLAIMS
from vaelab.papers.asperti.stable import CLAIMS as STABLE_CLAIMS
from vaelab.papers.asperti.tiles import COUNTING


def _seeds(run) -> int:
    return len(run["seeds"])


def _pair(g, a: str, b: str) -> dict:
    """`a` against `b` over the seeds: the glued `<key>_mean` and `<key>_sd` of each."""
    pair = {
        f"{side}_{stat}": g[f"{key}_{stat}"]
        for side, key in (("a", a), ("b", b))
        for stat in ("mean", "sd")
    }
    return pair | {"seeds": g["dynamics_seeds"]}


def _less_sparse(dense: str, conv: str, conv_sd: str, dense_sd: str):
    return lambda g, run: {
        "a_mean": g[dense],
        "a_sd": g[dense_sd],
        "b_mean": g[conv],
        "b_sd": g[conv_sd],
        "seeds": _seeds(run),
    }


_OLD_LESS = claims.Revision(
    "confirmed if dense - conv >= 2 units; partly confirmed if >= 1; refuted otherwise",
    "it compared means of seeds without their spread",
)
_ZERO, _SUM = "zeroing_max_pixel_diff", "zeroing_mean_pixel_diff"
_OLD_FIG2 = claims.Revision(
    "one claim: confirmed if both the codes' distance to N(0, I) and the FID are lower with "
    "sampling; partly confirmed if one is",
    "it bundled two claims, so 'partly' hid that the FID half failed; split into the shape and "
    "the samples",
    word="partly confirmed",
)
CLAIMS = (
    *count_claims(
        "dense_mnist",
        "sparsity/01_dense_mnist",
        "§IV.A, Table I",
        ("inactive_dense_mnist", "inactive_dense_mnist_sd"),
        "dense_mnist_verdict",
        budget=("inactive_dense_mnist", "partly confirmed"),
    ),
    claims.Claim(
        id="asperti.dense_mnist.count_gaussian",
        paper="asperti",
        section="§II, §IV.A, Table I",
        text="With the Gaussian decoder of the paper's text ('the quadratic distance'), the dense "
        "MNIST VAE has 8 inactive latent units of 16.",
        paper_value=PAPER_VALUE["dense_mnist"],
        measurement="inactive units with a Gaussian decoder of fixed variance 1/2 (the loss is "
        "the sum of squared errors), mean ± sd",
        rule=claims.count_rule(PAPER_INACTIVE["dense_mnist"], near=COUNT_NEAR),
        chapter="sparsity/01_dense_mnist",
        measure=count("inactive_dense_mnist_gaussian", "inactive_dense_mnist_gaussian_sd"),
        registered="2026-11-30, before the Gaussian-decoder models were trained",
        word_key="dense_mnist_gaussian_verdict",
    ),
    *count_claims(
        "conv_mnist",
        "sparsity/02_convolutional",
        "§IV.B",
        ("inactive_conv_mnist", "inactive_conv_mnist_sd"),
        "conv_mnist_verdict",
        budget=("inactive_conv_mnist", "refuted"),
    ),
    *count_claims(
        "dense_tiles",
        "sparsity/04_tiles",
        "§V, Table II",
        ("inactive_dense_tiles", "dense_tiles_sd"),
        "dense_tiles_verdict",
    ),
    *count_claims(
        "conv_tiles",
        "sparsity/04_tiles",
        "§V.A",
        ("inactive_conv_tiles", "conv_tiles_sd"),
        "conv_tiles_verdict",
    ),
    claims.Claim(
        id="asperti.conv_mnist.less_sparse",
        paper="asperti",
        section="§IV.B",
        text="With convolutional networks, sparsity is less evident (3 inactive against 8).",
        paper_value="3 vs 8 of 16",
        measurement="inactive units of the dense and the convolutional MNIST VAE, mean ± sd",
        rule=claims.difference_rule("dense minus convolutional inactive units", paper_gap=5),
        chapter="sparsity/02_convolutional",
        measure=_less_sparse(
            "inactive_dense_for_conv",
            "inactive_conv_mnist",
            "inactive_conv_mnist_sd",
            "inactive_dense_for_conv_sd",
        ),
        earlier=(_OLD_LESS,),
        word_key="less_sparse_verdict",
    ),
    claims.Claim(
        id="asperti.tiles.less_sparse",
        paper="asperti",
        section="§V.A",
        text="On tiles too the convolutional VAE is less sparse than the dense one.",
        paper_value="4 vs 8 of 16 (8: our count of Table II; the paper does not compare them)",
        measurement="inactive units of the dense and the convolutional tiles VAE, mean ± sd",
        rule=claims.difference_rule("dense minus convolutional inactive units", paper_gap=4),
        chapter="sparsity/04_tiles",
        measure=_less_sparse(
            "inactive_dense_tiles", "inactive_conv_tiles", "conv_tiles_sd", "dense_tiles_sd"
        ),
        earlier=(_OLD_LESS,),
        word_key="tiles_less_sparse_verdict",
    ),
    claims.Claim(
        id="asperti.fig4.zeroing",
        paper="asperti",
        section="§IV.A, Fig. 4",
        text="Zeroing the inactive units leaves generated digits indistinguishable.",
        paper_value="indistinguishable (figure)",
        measurement="max and mean |pixel change| of 1,000 samples when the inactive units are "
        "zeroed, every seed with inactive units",
        rule=claims.all_some_rule(
            "max pixel change < 0.01", "mean pixel change < 0.01", over_seeds=True
        ),
        chapter="sparsity/01_dense_mnist",
        measure=lambda g, run: {
            "every": g[_ZERO] < 0.01,
            "some": g[_SUM] < 0.01,
            "seeds": g["zeroing_seeds"],  # seeds with inactive units to zero
        },
        earlier=(
            claims.Revision(
                "confirmed if max pixel change < 0.01; partly confirmed if mean < 0.01 and the "
                "ELBO change is under 1% of the control's; refuted otherwise",
                "the ELBO condition is measured on one seed's control only; the seeds are now "
                "required to number at least three",
            ),
        ),
        word_key="fig4_verdict",
    ),
    claims.Claim(
        id="asperti.ignored",
        paper="asperti",
        section="§IV.A, Fig. 4",
        text="Inactive latent variables are completely ignored by the generator.",
        paper_value="'completely ignored by the generator'",
        measurement="largest |ELBO change| over seeds when the inactive units are zeroed, against "
        "zeroing as many active units, or all of them where there are fewer (the control: its "
        "smallest change over the seeds)",
        rule=claims.holds_rule(
            "the ELBO change is under 1% of every seed's control", over_seeds=True
        ),
        chapter="sparsity/01_dense_mnist",
        measure=lambda g, run: {
            "holds": g["zeroing_elbo_change"] < 0.01 * g["control_elbo_change_min"],
            "seeds": g["zeroing_seeds"],
        },
        earlier=(
            claims.Revision(
                "the ELBO change is under 1% of the control's",
                "it compared with the first seed's control only; every seed's since 2026-12-01, "
                "after the published changes were seen",
                word="confirmed",
            ),
        ),
        registered="2026-12-01 (session 12), after every seed's control had been printed",
    ),
    *STABLE_CLAIMS,
    claims.Claim(
        id="asperti.table1.sum",
        paper="asperti",
        section="§IV.A, Table I",
        text="For every unit, Var_x mu + E sigma^2 is close to 1 (what Table I's columns suggest).",
        paper_value="0.96 to 1.03: the sums of Table I's columns (the paper does not state it)",
        measurement="max over units and seeds of |Var_x mu + E sigma^2 - 1|",
        rule=claims.holds_rule("|Var_x mu + E sigma^2 - 1| < 0.1 for every unit"),
        chapter="sparsity/01_dense_mnist",
        measure=lambda g, run: {"holds": g["sum_error"] < 0.1},
        earlier=(
            claims.Revision(
                "confirmed if < 0.1 for every unit; partly confirmed if < 0.1 for the inactive "
                "units; refuted otherwise",
                "an inactive unit has Var mu ~ 0 and sigma^2 ~ 1 by definition, so 'partly' held "
                "by construction and 'refuted' could not happen",
                word="partly confirmed",
            ),
        ),
        word_key="sum_verdict",
    ),
    claims.Claim(
        id="asperti.fig1.variance",
        paper="asperti",
        section="§III, §IV, Fig. 1",
        text="Early in training the posterior variances collapse towards 0.",
        paper_value="figure",
        measurement="mean sigma^2 of ten tracked digits at the first and the last tracked step, "
        "one model per seed",
        rule=claims.all_some_rule(
            "in every seed the last mean sigma^2 < 0.1 × the first",
            "in every seed it falls at all",
            over_seeds=True,
        ),
        chapter="sparsity/03_training_dynamics",
        measure=lambda g, run: {
            "every": g["fig1_strong_seeds"] == g["dynamics_seeds"],
            "some": g["fig1_falls_seeds"] == g["dynamics_seeds"],
            "seeds": g["dynamics_seeds"],
            "counts": f"below a tenth in {g['fig1_strong_seeds']} of {g['dynamics_seeds']} "
            f"seeds, lower at all in {g['fig1_falls_seeds']}",
        },
        earlier=(
            claims.Revision(
                "confirmed if the last mean sigma^2 < 0.1 × the first; partly confirmed if only "
                "it falls at all; refuted if neither; over >= 3 seeds",
                "one model never said how seeds combine; 'in every seed' written on 2026-11-30, "
                "after seed 0 was seen, before the three-seed run",
                word="not testable here",
            ),
        ),
        word_key="fig1_verdict",
    ),
    claims.Claim(
        id="asperti.fig1.origin",
        paper="asperti",
        section="§IV, Fig. 1",
        text="During training the digits come to lie around the origin (they 'progressively "
        "dispose around the origin in a Gaussian-like shape'; 'initially very sparse' depends on "
        "an initialisation the paper does not give, and is not judged).",
        paper_value="figure",
        measurement="per seed, the centroid of the Fig. 1 model's codes of 5,000 images at the end "
        "of the tracked steps against their mean distance from it; where the digits start is "
        "the untrained encoder's output (reported, not judged); the shape is Fig. 2's question",
        rule=claims.all_some_rule(
            "in every seed the codes end centred on the origin (centroid nearer to it than half "
            "their mean distance from it)",
            "in some seed they do",
            over_seeds=True,
        ),
        chapter="sparsity/03_training_dynamics",
        measure=lambda g, run: {
            "every": g["fig1_centred_seeds"] == g["dynamics_seeds"],
            "some": g["fig1_centred_seeds"] > 0,
            "seeds": g["dynamics_seeds"],
            "counts": f"centred in {g['fig1_centred_seeds']} of {g['dynamics_seeds']} seeds",
        },
        earlier=(
            claims.Revision(
                "confirmed if in every seed the ten digits' spread shrinks and they end centred "
                "on the origin; partly confirmed if only they end centred; refuted if neither",
                "the first step is the untrained encoder's output (every digit near one point), "
                "so 'shrinks' could hardly hold, and ten points drawn from N(0, I) pass the "
                "centring test only ~81% of the time; replaced on 2026-12-01 after its word was "
                "seen (shrinks in 0 of 3 seeds, centred in 2), before the codes were measured",
                word="refuted",
            ),
        ),
        registered="2026-12-01 (session 12), after the first form's word was seen, before the "
        "codes of 5,000 images were measured",
        word_key="fig1_origin_verdict",
    ),
    claims.Claim(
        id="asperti.fig2.shape",
        paper="asperti",
        section="§IV, Fig. 2",
        text="Sampling at training time gives the encodings a much more spherical shape than "
        "decoding the mean (with the quadratic penalty kept).",
        paper_value="figure",
        measurement="sphericity of the codes of 5,000 digits: the smallest over the largest "
        "eigenvalue of their covariance (1: a ball; free of scale), with and without sampling",
        rule=claims.difference_rule(
            "sphericity with sampling minus without", paper_gap=None, digits=3
        ),
        chapter="sparsity/03_training_dynamics",
        measure=lambda g, run: _pair(g, "sphericity_sampling", "sphericity_no_sampling"),
        earlier=(
            _OLD_FIG2,
            claims.Revision(
                "confirmed if the Fréchet distance of the codes' Gaussian fit to N(0, I) is "
                "lower with sampling; refuted otherwise; over >= 3 seeds",
                "that distance is mostly scale (the review: the per-unit sd of mu, ~0.55 "
                "without sampling, alone gives ~0.61), so it cannot tell a shape; replaced on "
                "2026-11-30 by a scale-free statistic, before the three-seed run",
                word="not testable here",
            ),
        ),
        word_key="fig2_verdict",
    ),
    claims.Claim(
        id="asperti.fig2.samples",
        paper="asperti",
        section="§IV, Fig. 2",
        text="Sampling at training time gives a drastic improvement in the quality of "
        "generated samples.",
        paper_value="figure ('drastic', no number)",
        measurement="FID of generated samples (MNIST classifier features), without minus with "
        "sampling, mean over seeds",
        rule=claims.difference_rule("FID without sampling minus with", paper_gap=None),
        chapter="sparsity/03_training_dynamics",
        measure=lambda g, run: _pair(g, "fid_no_sampling", "fid_sampling"),
        earlier=(
            _OLD_FIG2,
            claims.Revision(
                "confirmed if the FID is lower with sampling; refuted otherwise; over >= 3 seeds",
                "a comparison of means ignores the seeds' spread; now the difference against "
                "2 sd, written on 2026-11-30 before the three-seed run (seed 0 was seen: FID "
                "137.5 with sampling, 93.5 without)",
                word="not testable here",
            ),
        ),
    ),
    claims.Claim(
        id="asperti.fig11.give_up",
        paper="asperti",
        section="§VI, Fig. 11",
        text="Units that end inactive first fight for a small variance, then give up.",
        paper_value="figure",
        measurement="inactive units, over all seeds, whose mean sigma^2 fell below 0.5 before "
        "rising to ~1",
        rule=claims.all_some_rule("every inactive unit did", "some did", over_seeds=True),
        chapter="sparsity/03_training_dynamics",
        measure=lambda g, run: {
            "every": g["fig11_fought_total"] == g["fig11_inactive_total"],
            "some": g["fig11_fought_total"] > 0,
            "seeds": g["dynamics_seeds"] if g["fig11_inactive_total"] else 0,
            "counts": f"{g['fig11_fought_total']} of {g['fig11_inactive_total']} inactive units "
            f"over {g['dynamics_seeds']} seeds went below 0.5",
        },
        earlier=(
            claims.Revision(
                "the same rule on one model (the chapter's seed)",
                "one seed judged 1 unit of 12; all units of all seeds, set before the 3-seed run",
                word="not testable here",
            ),
        ),
        registered="2026-11-30, after the first seed's result was seen, before the 3-seed run",
        word_key="fig11_verdict",
    ),
    COUNTING,
    *KL_CLAIMS,
    *SIZE_CLAIMS,
)
CLAIMS = tuple(dataclasses.replace(c, cutoffs=CUTOFFS.get(c.id, "")) for c in CLAIMS)
