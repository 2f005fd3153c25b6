"""Lemma 2 of Azmoodeh et al. (properties of the typical set), measured exactly for a Gaussian.

For Z ~ N(mu 1, sigma2 I_n), Z is in A_eps^(n) exactly when chi2_n / n lies in (1 - 2 eps,
1 + 2 eps) (nats; `vaelab.theory`), so the set's probability (ii) and its volume (iii) are exact
at every n, and neither depends on mu or sigma2 against the lemma's bounds (sigma2 shifts the log
volume and n·h by the same n/2 log sigma2). The paper states (i)-(iii) for every n; the
textbook lemma states (ii) and the lower bound of (iii) for n large enough. The paper writes the
bounds in base 2 (eps in bits: the typical set is narrower, |-(1/n) ln f - h| <= eps ln 2); both
units are measured. Each part is judged as printed, over n = 1 .. `N_MAX`: a part that fails at
some n is refuted as printed, and the first n from which it holds says how large "large enough"
is (the AEP makes every part hold eventually).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from vaelab import claims, theory

N_MAX = 10**6
EPS = (0.1, 0.01)
UNITS = ("bits", "nats")  # the paper's 2^{...} is bits; the book's chapters are in nats


def _n(n_max: int) -> np.ndarray:
    if not isinstance(n_max, int) or n_max < 1:
        raise ValueError(f"n_max must be a positive integer, got {n_max!r}")
    return np.arange(1, n_max + 1, dtype=np.float64)


def _check_eps(eps: float) -> None:
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps!r}")


def holds_from(ok: np.ndarray) -> float:
    """The first n (1-based) from which `ok[n - 1]` is true up to the end; inf if the last fails."""
    if not ok[-1]:
        return math.inf
    failing = np.flatnonzero(~ok)
    return int(failing[-1]) + 2 if failing.size else 1


def mass(eps: float, n_max: int) -> np.ndarray:
    """mu(A_eps^(n)) exactly for n = 1 .. n_max."""
    _check_eps(eps)
    n = _n(n_max)
    return stats.chi2.cdf(n * (1 + 2 * eps), n) - stats.chi2.cdf(n * (1 - 2 * eps), n)


def log_volume(eps: float, n_max: int, sigma2: float = 1.0) -> np.ndarray:
    """log |A_eps^(n)| (its volume) for n = 1 .. n_max: a spherical shell."""
    _check_eps(eps)
    n = _n(n_max)
    ball = 0.5 * n * math.log(math.pi) - special.gammaln(n / 2 + 1)
    ratio = (1 - 2 * eps) / (1 + 2 * eps)
    shell = 0.5 * n * math.log1p(2 * eps) + np.log1p(-np.power(ratio, n / 2))
    return ball + 0.5 * n * np.log(n * sigma2) + shell


def measure(*, eps_values=EPS, n_max: int = N_MAX, units=UNITS) -> list[dict]:
    """Per unit ("nats", "bits") and eps: the first n from which (ii) mu(A) > 1 - eps, and
    (iii)'s lower bound (1 - eps) e^{n(h - w)} <= |A| and upper bound |A| <= e^{n(h + w)}, hold up
    to n_max; w = eps in nats, eps ln 2 when eps is in bits (the set's half-width in nats)."""
    rows = []
    for unit in units:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        for eps in eps_values:
            _check_eps(eps)
            w = eps * math.log(2) if unit == "bits" else eps
            n, h = _n(n_max), theory.gaussian_entropy(1.0)
            volume = log_volume(w, n_max)
            rows.append(
                {
                    "unit": unit,
                    "eps": eps,
                    "mass_from": holds_from(mass(w, n_max) > 1 - eps),
                    "lower_from": holds_from(volume >= math.log1p(-eps) + n * (h - w)),
                    "upper_from": holds_from(volume <= n * (h + w)),
                }
            )
    return rows


def density_check(*, n: int, eps: float, samples: int, seed: int = 0) -> dict:
    """(i) on samples of N(0, I_n): how many are typical by the chi-square test, how many of
    those lie outside e^{-n(h + eps)} <= f_n <= e^{-n(h - eps)}, and on how many samples the
    chi-square test and the density test of membership disagree."""
    _check_eps(eps)
    z, log_f = theory.sample_log_density(n, sigma2=1.0, samples=samples, seed=seed)
    h = theory.gaussian_entropy(1.0)
    chi2 = (z**2).sum(-1) / n
    typical = (chi2 > 1 - 2 * eps) & (chi2 < 1 + 2 * eps)
    inside = (log_f >= -n * (h + eps)) & (log_f <= -n * (h - eps))
    return {
        "typical": int(typical.sum()),
        "outside": int((typical & ~inside).sum()),
        "disagree": int((typical != inside).sum()),
    }


def every_n_rule(what: str) -> claims.Rule:
    """A statement the paper makes for every n, judged as printed on n = 1 .. `n_max` from
    `from_n` (the first n from which it holds to n_max, the latest over the eps values; inf if it
    still fails at n_max): confirmed if it holds at every n, refuted otherwise."""
    text = (
        f"{what}, as printed (every n): confirmed if it holds at every n checked; refuted if it "
        "fails at some n (the reason says from which n it holds: the textbook's 'for n large "
        "enough')"
    )

    def decide(m):
        start, top = float(m["from_n"]), int(m["n_max"])
        if start == 1:
            return claims.Verdict(claims.CONFIRMED, f"{what}: holds at every n up to {top}")
        if start <= top:
            said = f"{what}: fails below n = {start:.0f} (the latest over the table's eps), holds"
            return claims.Verdict(
                claims.REFUTED, f"{said} from there to {top}: only for n large enough"
            )
        return claims.Verdict(claims.REFUTED, f"{what}: still fails at n = {top}")

    examples = {
        claims.CONFIRMED: {"from_n": 1, "n_max": 100},
        claims.REFUTED: {"from_n": 50, "n_max": 100},
    }
    return claims.Rule(text, ("from_n", "n_max"), decide, examples)


def bounds_rule() -> claims.Rule:
    """(iii)'s two volume bounds as printed (every n), from the first n from which each holds:
    confirmed if both hold at every n, partly confirmed if one does, refuted if neither."""
    text = (
        "both volume bounds, as printed (every n): confirmed if both hold at every n checked; "
        "partly confirmed if one does; refuted if neither"
    )

    def decide(m):
        lower, upper, top = float(m["lower_from"]), float(m["upper_from"]), int(m["n_max"])
        said = (
            f"the lower bound holds from n = {lower:.0f}, the upper from n = {upper:.0f} "
            f"(the latest over the table's eps; checked to {top})"
        )
        ok = (lower == 1) + (upper == 1)
        word = {2: claims.CONFIRMED, 1: claims.PARTLY, 0: claims.REFUTED}[ok]
        return claims.Verdict(word, said)

    examples = {
        claims.CONFIRMED: {"lower_from": 1, "upper_from": 1, "n_max": 100},
        claims.PARTLY: {"lower_from": 10, "upper_from": 1, "n_max": 100},
        claims.REFUTED: {"lower_from": 10, "upper_from": 5, "n_max": 100},
    }
    return claims.Rule(text, ("lower_from", "upper_from", "n_max"), decide, examples)


def _definition_rule() -> claims.Rule:
    text = (
        "confirmed if no sampled typical point lies outside the bounds and the chi-square and "
        "density tests of membership agree on every sample; refuted otherwise; not testable "
        "without a typical sample"
    )

    def decide(m):
        typical, outside, disagree = (int(m[k]) for k in ("typical", "outside", "disagree"))
        said = f"{outside} of {typical} typical samples outside the bounds, {disagree} disagree"
        if typical == 0:
            return claims.Verdict(claims.UNTESTABLE, "no typical sample drawn")
        if outside or disagree:
            return claims.Verdict(claims.REFUTED, said)
        return claims.Verdict(claims.CONFIRMED, f"{said}: (i) restates the definition of A")

    examples = {
        claims.CONFIRMED: {"typical": 10, "outside": 0, "disagree": 0},
        claims.REFUTED: {"typical": 10, "outside": 1, "disagree": 1},
        claims.UNTESTABLE: {"typical": 0, "outside": 0, "disagree": 0},
    }
    return claims.Rule(text, ("typical", "outside", "disagree"), decide, examples)


def glue(rows: list[dict], check: dict, n_max: int) -> dict:
    """The chapter's glued values: the latest first n over the eps values of each part."""
    latest = {k: max(r[k] for r in rows) for k in ("mass_from", "lower_from", "upper_from")}
    out = {f"lemma2_{k}": v for k, v in latest.items()} | {"lemma2_n_max": n_max}
    return out | {f"lemma2_{k}": v for k, v in check.items()}


def table(rows: list[dict]) -> str:
    """A markdown table: per eps, the first n from which each part holds."""
    lines = [
        "| ε | (ii) μ(A) > 1 − ε | (iii) lower bound | (iii) upper bound |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        cells = [
            f"{r[k]:,}" if r[k] != math.inf else "never"
            for k in ("mass_from", "lower_from", "upper_from")
        ]
        eps = f"{r['eps']:g} {r['unit']}"
        lines.append(f"| {eps} | " + " | ".join(f"from n = {c}" for c in cells) + " |")
    return "\n".join(lines)


_REGISTERED = (
    "2026-11-30 (session 11), after the exact values had been computed (they are computations, "
    "not experiments); (ii)'s failure at small n was already published in this chapter"
)
_LEMMA = "Sec. III, Lemma 2"
_EARLIER = claims.Revision(
    "confirmed if it holds at every n checked; partly confirmed if it holds only from some n on "
    "(the textbook's 'for n large enough'); refuted if it fails at the largest n",
    "a cold review the same day: 'partly confirmed' graded the textbook's form under a claim "
    "stated for every n, and its 'refuted' could fire only when n_max was too small (the AEP "
    "makes every part hold eventually); changed after its words had been seen",
    word="partly confirmed",
)
CLAIMS = (
    claims.Claim(
        id="azmoodeh.lemma2.i",
        paper="azmoodeh",
        section=_LEMMA,
        text="(i) On the typical set, e^{-n(h+eps)} <= f(x_1..x_n) <= e^{-n(h-eps)} (nats; the "
        "paper's (i) omits 'on the typical set', and read so it restates the set's definition: "
        "a consistency check of the book's membership test, not a test of the paper).",
        paper_value="stated for every n",
        measurement="samples of N(0, I_n), n = 50, eps = 0.1: typical points (chi-square test) "
        "outside the density bounds, and disagreements between the two membership tests",
        rule=_definition_rule(),
        chapter="bigger_is_not_better/02_typical_sets",
        measure=lambda g, run: {k: g[f"lemma2_{k}"] for k in ("typical", "outside", "disagree")},
        registered=_REGISTERED,
        word_key="lemma2_i_verdict",
    ),
    claims.Claim(
        id="azmoodeh.lemma2.ii",
        paper="azmoodeh",
        section=_LEMMA,
        text="(ii) mu(A_eps^(n)) > 1 - eps, for every n as printed.",
        paper_value="stated for every n (the textbook: for n large enough)",
        measurement="the exact mu(A) at n = 1 .. 10^6, eps = 0.1 and 0.01 in bits and in nats: "
        "the first n from which it holds (the latest)",
        rule=every_n_rule("mu(A) > 1 - eps"),
        earlier=(_EARLIER,),
        chapter="bigger_is_not_better/02_typical_sets",
        measure=lambda g, run: {"from_n": g["lemma2_mass_from"], "n_max": g["lemma2_n_max"]},
        registered=_REGISTERED,
        word_key="lemma2_ii_verdict",
    ),
    claims.Claim(
        id="azmoodeh.lemma2.iii",
        paper="azmoodeh",
        section=_LEMMA,
        text="(iii) (1 - eps) e^{n(h-eps)} <= |A_eps^(n)| <= e^{n(h+eps)}, for every n as printed.",
        paper_value="stated for every n (the textbook: the lower bound for n large enough)",
        measurement="the exact volume of A at n = 1 .. 10^6, eps = 0.1 and 0.01 in bits and in "
        "nats: the first n from which each bound holds (the latest)",
        rule=bounds_rule(),
        earlier=(_EARLIER,),
        chapter="bigger_is_not_better/02_typical_sets",
        measure=lambda g, run: {
            "lower_from": g["lemma2_lower_from"],
            "upper_from": g["lemma2_upper_from"],
            "n_max": g["lemma2_n_max"],
        },
        registered=_REGISTERED,
        word_key="lemma2_iii_verdict",
    ),
)
