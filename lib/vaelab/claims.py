"""The claims ledger: each claim of a paper as data, with the rule that judges it.

A `Claim` is a frozen record: an id, the paper and section, the claim in one sentence, the
paper's value where it gives one, what we measure to test it, and a `Rule` written before the
measurement was looked at. A rule maps measurements to one of four words (`WORDS`) and says
why, in one sentence. A rule that judges seeds compares with their spread and needs at least
`MIN_SEEDS` of them; with fewer it answers "not testable here". A rule changed after its
result was seen keeps its earlier form in `Claim.earlier`, with the reason.

Rules are built by the constructors below (`count_rule`, `presence_rule`, `difference_rule`,
`all_some_rule`, `band_rule`, `at_most_rule`, `untestable_rule`); the papers' modules
(`vaelab.papers`) declare their claims with them, and the chapters and the scoreboard judge
through `Claim.judge`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

CONFIRMED, PARTLY, REFUTED, UNTESTABLE = (
    "confirmed",
    "partly confirmed",
    "refuted",
    "not testable here",
)
WORDS = (CONFIRMED, PARTLY, REFUTED, UNTESTABLE)
MIN_SEEDS = 3  # a rule over seeds compares with their spread: at least three of them
# The ledger was written for a book already published: its first rules were registered after
# those results had been seen. A rule written before its measurement says so in `registered`.
REGISTERED = "2026-11-30, after the published results were seen"


@dataclass(frozen=True)
class Verdict:
    """A rule's answer: one of `WORDS` and the sentence that says which condition decided."""

    word: str  # one of WORDS
    reason: str  # why, with the numbers

    def __post_init__(self):
        if self.word not in WORDS:
            raise ValueError(f"a verdict is one of {WORDS}, got {self.word!r}")


@dataclass(frozen=True)
class Rule:
    """A pre-registered rule: its text, the measurements it reads, the function that decides,
    and for every word it can return an example of inputs that give it (the unit tests check
    each one, so a rule that cannot return "refuted" shows in its examples)."""

    text: str  # the rule in words, as registered
    inputs: tuple[str, ...]  # names of the measurements it reads
    decide: Callable[[Mapping[str, float]], Verdict]  # measurements -> verdict
    examples: Mapping[str, Mapping[str, float]]  # for every word it can return, inputs that give it

    @property
    def words(self) -> tuple[str, ...]:
        """Every word the rule can return, in the order of `WORDS`."""
        return tuple(w for w in WORDS if w in self.examples)

    def __call__(self, measured: Mapping[str, float]) -> Verdict:
        missing = [name for name in self.inputs if name not in measured]
        if missing:
            raise ValueError(f"the rule needs {', '.join(missing)}; got {sorted(measured)}")
        unmeasured = [n for n in self.inputs if _is_nan(measured[n])]
        if unmeasured:
            return Verdict(UNTESTABLE, f"{', '.join(unmeasured)} not measured (NaN)")
        return self.decide(measured)


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


@dataclass(frozen=True)
class Revision:
    """An earlier form of a claim's rule, kept when the rule changed after a result was seen."""

    text: str  # the rule as it was
    reason: str  # why it changed
    word: str = ""  # the word it gave on the published result, where one was published


@dataclass(frozen=True)
class Claim:
    """One claim of a paper (or of Part III), and how this book tests it."""

    id: str  # unique within the ledger, e.g. "asperti.dense_mnist.count"
    paper: str  # "azmoodeh", "asperti" or "synthesis"
    section: str  # where the paper makes it, e.g. "§IV.A, Table I"
    text: str  # the claim in one sentence
    measurement: str  # what is measured to test it
    rule: Rule  # how the measurement is judged
    chapter: str  # the chapter that measures it (path under book/, without suffix)
    paper_value: str = ""  # the paper's number or statement, where it gives one
    # the rule's inputs from the chapter's glued values and its profile sizes (`measure(g, run)`)
    measure: Callable[[Mapping, Mapping], Mapping] | None = None
    earlier: tuple[Revision, ...] = ()  # earlier forms of the rule, with the reason
    word_key: str = ""  # the glue key under which the chapter glues its own verdict word
    registered: str = REGISTERED  # when the rule was written, and whether results were seen
    cutoffs: str = ""  # why the rule's numbers are where they are, and when they were chosen

    def judge(self, measured: Mapping[str, float]) -> Verdict:
        """The rule's verdict on `measured` (a mapping from the rule's input names)."""
        return self.rule(measured)

    @property
    def glue_key(self) -> str:
        """The glue key of the claim's word in its chapter (its `_reason` and `_rule` follow)."""
        return self.word_key or self.id.replace(".", "_") + "_verdict"

    def judge_glued(self, glued: Mapping, run: Mapping) -> Verdict:
        """The verdict on a chapter's glued values `glued` at the sizes `run` it ran with."""
        if self.measure is None:
            raise ValueError(f"claim {self.id} measures nothing that a chapter glues")
        return self.judge(self.measure(glued, run))


def ledger(*groups) -> dict[str, Claim]:
    """`{id: claim}` of the claims in `groups` (iterables of claims); ids must be unique."""
    out: dict[str, Claim] = {}
    for group in groups:
        for claim in group:
            if claim.id in out:
                raise ValueError(f"two claims share the id {claim.id!r}")
            out[claim.id] = claim
    return out


def seeds_missing(measured: Mapping[str, float]) -> Verdict | None:
    seeds = int(measured["seeds"])
    if seeds < MIN_SEEDS:
        return Verdict(UNTESTABLE, f"{seeds} seed(s): the rule needs at least {MIN_SEEDS}")
    return None


def count_rule(paper: float, *, resolution: float = 0.5, near: float) -> Rule:
    """A count against the paper's, over seeds (`mean`, `sd`, `seeds`).

    confirmed: the paper's count lies within mean ± 2·max(sd, resolution) (the seed spread,
    never narrower than the count's own resolution); partly confirmed: outside it, but the gap
    is at most `near`; refuted: a larger gap; not testable here: fewer than `MIN_SEEDS` seeds.
    """
    text = (
        f"paper {paper:g}: confirmed if it lies within mean ± 2·max(sd, {resolution:g}) over "
        f">= {MIN_SEEDS} seeds; partly confirmed if outside but |mean - paper| <= {near:g}; "
        "refuted otherwise"
    )

    def decide(m):
        untested = seeds_missing(m)
        if untested:
            return untested
        band = 2 * max(float(m["sd"]), resolution)
        gap = abs(float(m["mean"]) - paper)
        said = f"{m['mean']:.1f} ± {m['sd']:.1f} over {int(m['seeds'])} seeds vs {paper:g}"
        if gap <= band:
            return Verdict(CONFIRMED, f"{said}: within ± {band:.1f}")
        if gap <= near:
            return Verdict(PARTLY, f"{said}: off by {gap:.1f} (> {band:.1f}, <= {near:g})")
        return Verdict(REFUTED, f"{said}: off by {gap:.1f} (> {near:g})")

    r = resolution
    examples = {
        CONFIRMED: {"mean": paper + r, "sd": r, "seeds": MIN_SEEDS},
        PARTLY: {"mean": paper + (2 * r + near) / 2, "sd": r / 2, "seeds": MIN_SEEDS},
        REFUTED: {"mean": paper + max(near, 2 * r) + 1, "sd": 0.0, "seeds": MIN_SEEDS},
        UNTESTABLE: {"mean": float("nan"), "sd": 0.0, "seeds": MIN_SEEDS},
    }
    if near <= 2 * r:
        del examples[PARTLY]  # no gap is both outside the band and within `near`
    return Rule(text, ("mean", "sd", "seeds"), decide, examples)


def presence_rule(what: str) -> Rule:
    """Something appears (a count > 0) reliably over seeds (`mean`, `sd`, `seeds`).

    confirmed: mean - 2·sd > 0 (present beyond the seed spread); partly confirmed: mean > 0
    but within 2·sd of 0; refuted: mean = 0 (absent in every seed); not testable: < 3 seeds.
    """
    text = (
        f"{what}: confirmed if mean - 2·sd > 0 over >= {MIN_SEEDS} seeds; partly confirmed "
        "if mean > 0; refuted if mean = 0"
    )

    def decide(m):
        untested = seeds_missing(m)
        if untested:
            return untested
        mean, sd = float(m["mean"]), float(m["sd"])
        said = f"{what}: {mean:.1f} ± {sd:.1f} over {int(m['seeds'])} seeds"
        if mean - 2 * sd > 0:
            return Verdict(CONFIRMED, f"{said}, above 0 by more than 2 sd")
        if mean > 0:
            return Verdict(PARTLY, f"{said}, not clear of 0 by 2 sd")
        return Verdict(REFUTED, f"{said}: none in any seed")

    examples = {
        CONFIRMED: {"mean": 3.0, "sd": 1.0, "seeds": MIN_SEEDS},
        PARTLY: {"mean": 1 / 3, "sd": 0.58, "seeds": MIN_SEEDS},
        REFUTED: {"mean": 0.0, "sd": 0.0, "seeds": MIN_SEEDS},
        UNTESTABLE: {"mean": 5.0, "sd": 0.0, "seeds": 1},  # too few seeds (or a NaN)
    }
    return Rule(text, ("mean", "sd", "seeds"), decide, examples)


def difference_rule(what: str, *, paper_gap: float | None, digits: int = 1) -> Rule:
    """`a` exceeds `b`, as the paper's `paper_gap` says (means and sds over the same seeds);
    `paper_gap=None` where the paper gives no size ("a drastic improvement"). The reason shows
    the numbers with `digits` decimals.

    With spread = 2·sqrt(sd_a² + sd_b²): confirmed when a - b > spread (clearly positive);
    refuted when a - b <= 0, or when the paper's gap exceeds ours by more than the spread (our
    seeds rule it out); partly confirmed otherwise (positive, but not clearly); not testable
    with fewer than `MIN_SEEDS` seeds.
    """
    paper = "" if paper_gap is None else f", paper {paper_gap:g}"
    ruled_out = "" if paper_gap is None else f" or {paper_gap:g} - (a - b) exceeds that spread"
    text = (
        f"{what}{paper}: confirmed if a - b > 2·sqrt(sd_a² + sd_b²) over >= {MIN_SEEDS} seeds; "
        f"refuted if a - b <= 0{ruled_out}; partly confirmed otherwise"
    )

    def decide(m):
        untested = seeds_missing(m)
        if untested:
            return untested
        gap = float(m["a_mean"]) - float(m["b_mean"])
        spread = 2 * math.hypot(float(m["a_sd"]), float(m["b_sd"]))
        a, b, d = float(m["a_mean"]), float(m["b_mean"]), digits
        said = f"{what}: {a:.{d}f} - {b:.{d}f} = {gap:+.{d}f} (2 sd: {spread:.{d}f})"
        if gap > spread:
            return Verdict(CONFIRMED, f"{said}: clearly positive")
        if gap <= 0:
            return Verdict(REFUTED, f"{said}: not positive")
        if paper_gap is not None and paper_gap - gap > spread:
            return Verdict(REFUTED, f"{said}: the paper's {paper_gap:g} is ruled out")
        return Verdict(PARTLY, f"{said}: positive, within the spread")

    sds = {"seeds": MIN_SEEDS, "a_sd": 0.5, "b_sd": 0.5}
    examples = {
        CONFIRMED: {**sds, "a_mean": (paper_gap or 0.0) + 3.0, "b_mean": 1.0},
        PARTLY: {**sds, "a_sd": paper_gap or 1.0, "b_sd": paper_gap or 1.0, "a_mean": 1.0}
        | {"b_mean": 0.5},
        REFUTED: {**sds, "a_mean": 8.0, "b_mean": 8.0},
        UNTESTABLE: {**sds, "seeds": 2, "a_mean": 8.0, "b_mean": 3.0},
    }
    return Rule(text, ("a_mean", "a_sd", "b_mean", "b_sd", "seeds"), decide, examples)


def all_some_rule(every: str, some: str, *, over_seeds: bool = False) -> Rule:
    """Two yes/no measurements: `every` (the claim holds in every case measured) and `some`
    (it holds in at least one). confirmed / partly confirmed / refuted. `over_seeds`: the cases
    are seeds, and fewer than `MIN_SEEDS` of them are not testable here. A measurement may add
    `counts`, the numbers behind the two answers in words, which the reason then shows."""
    text = f"confirmed if {every}; partly confirmed if only {some}; refuted if neither"
    if over_seeds:
        text += f"; over >= {MIN_SEEDS} seeds"

    def decide(m):
        untested = seeds_missing(m) if over_seeds else None
        if untested:
            return untested
        counts = f" ({m['counts']})" if m.get("counts") else ""
        if bool(m["every"]):
            return Verdict(CONFIRMED, every + counts)
        if bool(m["some"]):
            return Verdict(PARTLY, f"{some}, but not {every}{counts}")
        return Verdict(REFUTED, f"neither {every} nor {some}{counts}")

    seeds = {"seeds": MIN_SEEDS} if over_seeds else {}
    examples = {
        CONFIRMED: {"every": True, "some": True, **seeds},
        PARTLY: {"every": False, "some": True, **seeds},
        REFUTED: {"every": False, "some": False, **seeds},
    }
    if over_seeds:
        examples[UNTESTABLE] = {"every": True, "some": True, "seeds": 1}
    return Rule(text, ("every", "some", *seeds), decide, examples)


def band_rule(what: str, *, confirm_below: float, partly_below: float) -> Rule:
    """A non-negative `value` (e.g. a relative spread) judged by two cut-offs: confirmed below
    `confirm_below`, partly confirmed below `partly_below`, refuted from there on."""
    if not 0 < confirm_below < partly_below:
        raise ValueError("band_rule needs 0 < confirm_below < partly_below")
    text = (
        f"{what}: confirmed if < {confirm_below:g}, partly confirmed if < {partly_below:g}, "
        "refuted otherwise"
    )

    def decide(m):
        value = float(m["value"])
        said = f"{what} = {value:.3g}"
        if math.isnan(value):
            return Verdict(UNTESTABLE, f"{said}: not measured at this profile")
        if value < confirm_below:
            return Verdict(CONFIRMED, f"{said} < {confirm_below:g}")
        if value < partly_below:
            return Verdict(PARTLY, f"{said} in [{confirm_below:g}, {partly_below:g})")
        return Verdict(REFUTED, f"{said} >= {partly_below:g}")

    examples = {
        CONFIRMED: {"value": confirm_below / 2},
        PARTLY: {"value": (confirm_below + partly_below) / 2},
        REFUTED: {"value": partly_below},
        UNTESTABLE: {"value": float("nan")},
    }
    return Rule(text, ("value",), decide, examples)


def floor_rule(what: str, *, confirm_at: float, partly_at: float) -> Rule:
    """A `value` where higher is better (e.g. an accuracy): confirmed from `confirm_at` up,
    partly confirmed from `partly_at`, refuted below; NaN (not measured) is not testable."""
    if not partly_at < confirm_at:
        raise ValueError("floor_rule needs partly_at < confirm_at")
    text = f"{what}: confirmed if >= {confirm_at:g}, partly confirmed if >= {partly_at:g}, "

    def decide(m):
        value = float(m["value"])
        said = f"{what} = {value:.3g}"
        if value >= confirm_at:
            return Verdict(CONFIRMED, f"{said} >= {confirm_at:g}")
        if value >= partly_at:
            return Verdict(PARTLY, f"{said} in [{partly_at:g}, {confirm_at:g})")
        return Verdict(REFUTED, f"{said} < {partly_at:g}")

    examples = {CONFIRMED: {"value": confirm_at}, PARTLY: {"value": partly_at}}
    examples |= {REFUTED: {"value": partly_at / 2}, UNTESTABLE: {"value": float("nan")}}
    return Rule(text + "refuted otherwise", ("value",), decide, examples)


def at_most_rule(what: str, *, limit: float) -> Rule:
    """A non-negative `value` that the claim says is negligible: confirmed at most `limit`,
    refuted above it."""
    if limit < 0:
        raise ValueError(f"at_most_rule needs limit >= 0, got {limit}")
    text = f"{what}: confirmed if <= {limit:g}, refuted otherwise"

    def decide(m):
        value = float(m["value"])
        if value <= limit:
            return Verdict(CONFIRMED, f"{what} = {value:.3g} <= {limit:g}")
        return Verdict(REFUTED, f"{what} = {value:.3g} > {limit:g}")

    examples = {CONFIRMED: {"value": limit}, REFUTED: {"value": 2 * limit + 1}}
    return Rule(text, ("value",), decide, examples | {UNTESTABLE: {"value": float("nan")}})


def holds_rule(what: str, *, over_seeds: bool = False) -> Rule:
    """One yes/no measurement `holds`: confirmed when it holds, refuted when it does not (for a
    claim with no middle ground, e.g. "for all sigma"). `over_seeds`: it must hold over at least
    `MIN_SEEDS` seeds, else not testable here."""
    text = f"confirmed if {what}; refuted otherwise" + (
        f"; over >= {MIN_SEEDS} seeds" if over_seeds else ""
    )

    def decide(m):
        untested = seeds_missing(m) if over_seeds else None
        if untested:
            return untested
        return Verdict(CONFIRMED, f"{what}: yes") if m["holds"] else Verdict(REFUTED, f"{what}: no")

    seeds = {"seeds": MIN_SEEDS} if over_seeds else {}
    examples = {CONFIRMED: {"holds": True, **seeds}, REFUTED: {"holds": False, **seeds}}
    if over_seeds:
        examples[UNTESTABLE] = {"holds": True, "seeds": 1}
    return Rule(text, ("holds", *seeds), decide, examples)


def untestable_rule(reason: str) -> Rule:
    """A claim that nothing measured here can test; `reason` says why."""
    return Rule(
        f"not testable here: {reason}", (), lambda m: Verdict(UNTESTABLE, reason), {UNTESTABLE: {}}
    )


def chapter_glue(claims: Iterable[Claim], chapter: str, glued: Mapping, run: Mapping) -> dict:
    """What a chapter glues for the claims it tests: for each claim of `chapter`, judged on the
    chapter's `glued` values at the sizes `run`, `<glue_key>` (the word), `<glue_key>_reason`
    and `<glue_key>_rule` (the rule's text)."""
    out = {}
    for claim in claims:
        if claim.chapter != chapter:
            continue
        verdict = claim.judge_glued(glued, run)
        key = claim.glue_key
        out |= {key: verdict.word, f"{key}_reason": verdict.reason, f"{key}_rule": claim.rule.text}
    if not out:
        raise ValueError(f"no claim of the ledger is tested in {chapter}")
    return out


def print_verdicts(glued: Mapping) -> None:
    """Print each verdict of `chapter_glue` in `glued`: its key, word and reason."""
    for key, word in glued.items():
        if f"{key}_reason" in glued and f"{key}_rule" in glued:
            print(f"{key}: {word} ({glued[key + '_reason']})")
