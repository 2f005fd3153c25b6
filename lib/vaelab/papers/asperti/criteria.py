"""How much a count of inactive units owes to the two thresholds of Asperti's criterion.

The book counts a unit as inactive when Var_x mu_j < 0.01 and E_x sigma_j^2 > 0.5
(`metrics.inactive_units`); the paper gives no thresholds. The count is recomputed at every pair
of `VAR_MAXES` and `SIGMA2_MINS`, and a count claim is judged by its own rule at each pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from vaelab import claims, stats

VAR_MAXES = (0.001, 0.003, 0.01, 0.03, 0.1)  # on Var_x mu_j, around the book's 0.01
SIGMA2_MINS = (0.3, 0.5, 0.7, 0.9)  # on E_x sigma_j^2, around the book's 0.5
BOOK = (0.01, 0.5)  # the book's pair (`metrics.inactive_units`' defaults)


def judged(grid: dict, claim: claims.Claim, budget: Mapping | None = None) -> dict:
    """`{(var_max, sigma2_min): (mean, sd, word)}`: the mean count over seeds at each pair of
    thresholds of `grid` (`metrics.inactive_grid`) and the word `claim`'s rule gives it.
    `budget`: the rule's other inputs, the same at every pair (the settled and the last step of
    a count judged only where it settled, measured at the book's thresholds)."""
    out = {}
    for pair, counts in grid.items():
        mean, sd = stats.mean_sd(counts)
        measured = {"mean": mean, "sd": sd, "seeds": len(counts)} | dict(budget or {})
        word = claim.judge(measured).word
        out[pair] = (mean, sd, word)
    return out


def judged_pair(a: dict, b: dict, claim: claims.Claim) -> dict:
    """`{(var_max, sigma2_min): (mean_a, sd_a, mean_b, sd_b, word)}`: a claim that compares the
    counts at two settings (`a` and `b`, two `metrics.inactive_grid` of the same thresholds,
    e.g. the largest and the smallest training set), judged by its rule at each pair."""
    if set(a) != set(b):
        raise ValueError("the two grids differ in their threshold pairs")
    out = {}
    for pair in a:
        (a_mean, a_sd), (b_mean, b_sd) = stats.mean_sd(a[pair]), stats.mean_sd(b[pair])
        measured = {"a_mean": a_mean, "a_sd": a_sd, "b_mean": b_mean, "b_sd": b_sd}
        word = claim.judge(measured | {"seeds": min(len(a[pair]), len(b[pair]))}).word
        out[pair] = (a_mean, a_sd, b_mean, b_sd, word)
    return out


def _cell(value: tuple) -> str:
    counts = [f"{m:.1f} ± {sd:.1f}" for m, sd in zip(value[:-1:2], value[1:-1:2], strict=True)]
    return f"{' vs '.join(counts)} ({value[-1]})"


def table(judged_: dict) -> str:
    """A markdown table of `judged` (or `judged_pair`) values: a row per Var mu threshold, a
    column per E sigma^2 threshold, each cell the mean count(s) ± sd over seeds and the word."""
    var_maxes = sorted({v for v, _ in judged_})
    sigma2_mins = sorted({s for _, s in judged_})
    head = "| Var μ < | " + " | ".join(f"E σ² > {s:g}" for s in sigma2_mins) + " |"
    lines = [head, "|---:|" + "---|" * len(sigma2_mins)]
    for v in var_maxes:
        cells = [_cell(judged_[v, s]) for s in sigma2_mins]
        lines.append(f"| {v:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def words(judged_: dict) -> str:
    """How often each word came out, most frequent first: "refuted at 12 of 20 threshold pairs,
    partly confirmed at 8"."""
    if not judged_:
        raise ValueError("no threshold pair was judged")
    counted = Counter(value[-1] for value in judged_.values()).most_common()
    (first, n), rest = counted[0], counted[1:]
    said = [f"{first} at {n} of {len(judged_)} threshold pairs"] + [f"{w} at {k}" for w, k in rest]
    return ", ".join(said)


def distinct(judged_: dict) -> int:
    """How many different measurements the pairs hold (the counts, rounded to 0.01): 1 when no
    threshold moves any count, so that "confirmed at 20 of 20" is one measurement, not 20."""
    return len({tuple(round(v, 2) for v in value[:-1]) for value in judged_.values()})


def differing(judged_: dict, at: tuple[float, float]) -> str:
    """The pairs whose word differs from the word at the book's pair `at`, with that word:
    "Var μ < 0.001, E σ² > 0.5: partly confirmed; ..."; "none" when every pair agrees."""
    word = judged_[at][-1]
    out = [
        f"Var μ < {v:g}, E σ² > {s:g}: {value[-1]}"
        for (v, s), value in sorted(judged_.items())
        if value[-1] != word
    ]
    return "; ".join(out) or "none"
