"""The claims of Part III, each with the rule that judges it (`vaelab.claims`)."""

import dataclasses

from vaelab import claims, stats
from vaelab.papers.synthesis.rows import posterior_verdict


def _posterior_rule() -> claims.Rule:
    """`posterior_verdict` as a ledger rule (inputs `isotropic`, `diagonal`: FID ratios)."""

    def decide(m):
        word = posterior_verdict(m["isotropic"], m["diagonal"])
        said = f"FID ratio 800/20: isotropic {m['isotropic']:.2f}, diagonal {m['diagonal']:.2f}"
        return claims.Verdict(word, said)

    examples = {
        claims.CONFIRMED: {"isotropic": 1.5, "diagonal": 1.0},
        claims.PARTLY: {"isotropic": 1.5, "diagonal": 1.2},
        claims.REFUTED: {"isotropic": 1.0, "diagonal": 1.5},
    }
    text = (
        "worse = FID ratio > 1.1; confirmed if only the isotropic models get worse; partly "
        "confirmed if both do, the isotropic more; refuted otherwise"
    )
    return claims.Rule(text, ("isotropic", "diagonal"), decide, examples)


def _pruned(tag: str):
    return lambda g, run: {
        "value": stats.nanmax(abs(g[f"pruned_worst_elbo_{tag}_{d}"]) for d in ("fmnist", "mnist"))
    }


def _q2(suffix: str):
    return lambda g, run: {
        "isotropic": g[f"fid_ratio_800_vs_20_isotropic{suffix}"],
        "diagonal": g[f"fid_ratio_800_vs_20_diagonal{suffix}"],
    }


CLAIMS = (
    *(
        claims.Claim(
            id=f"synthesis.posterior.{short}",
            paper="synthesis",
            section="Q2",
            text=f"On {name}, 'bigger is worse' is a property of the isotropic posterior.",
            measurement="FID at the largest n over FID at n = 20, by posterior, mean of seeds",
            rule=_posterior_rule(),
            chapter="synthesis/01_active_units_vs_dimension",
            measure=_q2(suffix),
            word_key=f"q2_{short}",
        )
        for short, name, suffix in (("fmnist", "Fashion-MNIST", ""), ("mnist", "MNIST", "_mnist"))
    ),
    *(
        claims.Claim(
            id=f"synthesis.pruning.{tag}",
            paper="synthesis",
            section="Q3",
            text=f"Units inactive by {who}'s threshold ({t}) can be pruned without changing the "
            "test ELBO.",
            measurement="largest |ELBO change| (nats) from zeroing them, both data sets",
            rule=claims.at_most_rule("largest |ELBO change| in nats", limit=0.1),
            chapter="synthesis/02_pruning_inactive_units",
            measure=_pruned(tag),
            word_key=f"pruned_verdict_{tag}",
        )
        for tag, who, t in (
            ("burda", "Burda et al.", "0.01"),
            ("bonheme", "Bonheme & Grześ", "0.1"),
        )
    ),
)
# Why each number of Part III's rules is where it is (shown under each rule on the scoreboard)
CUTOFFS = {
    **{
        f"synthesis.posterior.{d}": "1.1: a model is 'worse' when its FID is more than 10% above "
        "that of the model at n = 20; set after the result was seen (the ratios are in the reason)"
        for d in ("fmnist", "mnist")
    },
    **{
        f"synthesis.pruning.{tag}": "0.1 nats: the book's one bar for a negligible ELBO change "
        "(Part II's decoder-use threshold is the same); set after the result was seen (the "
        "reason gives the largest change)"
        for tag in ("burda", "bonheme")
    },
}
CLAIMS = tuple(dataclasses.replace(c, cutoffs=CUTOFFS.get(c.id, "")) for c in CLAIMS)
