"""How a chapter records its results: glue every number, and the ledger's verdicts on them.

A chapter collects the numbers its text cites in one dict and ends with `verdicts(...)`, which
adds each claim's word, reason and rule (`vaelab.claims.chapter_glue`), glues everything with
myst-nb (hidden where it is computed, shown where the text cites it) and prints the verdicts.

At any profile but `paper`, `verdicts` also shows a table in the page: each verdict of this run
beside the published one (`published.json`, which `vaelab publish` and `vaelab scoreboard` write
from the committed chapters), a disagreement flagged ⚠ with what this run did differently (its
sizes against the published run's, and its data), and glues `<key>_published` and
`<key>_differs`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from vaelab import claims as ledger

PUBLISHED = Path(__file__).with_name("published.json")  # what the published book says
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)")  # {glue:text}`key:.2f`
GLUE_DIRECTIVE = re.compile(r"^```\{glue(?::\w+)?\}\s+(\S+)", re.MULTILINE)  # ```{glue:md} key


def published() -> dict:
    """`{claim id: {word, reason, chapter, section, sizes, data_used, ...}}` of the published
    book; empty when no book was published with this package."""
    return json.loads(PUBLISHED.read_text()) if PUBLISHED.is_file() else {}


def _glue(name: str, value, display: bool) -> None:
    from myst_nb import glue  # imported when a chapter glues, not when the package loads

    glue(name, value, display=display)


def values(glued: Mapping) -> None:
    """Glue each of `glued`'s values under its key, without displaying it."""
    for name, value in glued.items():
        _glue(name, value, display=False)


def verdicts(claims: Iterable[ledger.Claim], chapter: str, glued: Mapping, run: Mapping) -> dict:
    """Judge the claims of `chapter` on its `glued` numbers at the sizes `run`; glue the numbers
    and every claim's `<key>`, `<key>_reason` and `<key>_rule`, print the verdicts, and return
    everything glued."""
    claims = [c for c in claims if c.chapter == chapter]
    out = dict(glued) | ledger.chapter_glue(claims, chapter, glued, run)
    profile = run.get("profile", "paper")
    if profile != "paper":
        rows = compare(claims, out, run, published())
        for row in rows:
            key = row["claim"].glue_key
            out |= {f"{key}_published": row["published"], f"{key}_differs": row["differs"]}
        _show(table(rows, profile))
    values(out)
    ledger.print_verdicts(out)
    return out


def differences(run: Mapping, record: dict, glued: Mapping) -> str:
    """What this run did differently from the published one: sizes, then data."""
    said = [
        f"{name} {run[name]} (published {value})"
        for name, value in record.get("sizes", {}).items()
        if name in run and run[name] != value
    ]
    data, was = glued.get("data_used"), record.get("data_used")
    if data is not None and was is not None and data != was:
        said.append(f"data {data} (published {was})")
    return ", ".join(said) or "the same sizes and data"


def compare(claims: Iterable[ledger.Claim], glued: Mapping, run: Mapping, record: dict) -> list:
    """One row per claim: this run's word and reason (in `glued`), the published word and
    reason (`record[claim.id]`), whether they differ, and why they may."""
    rows = []
    for claim in claims:
        key, was = claim.glue_key, record.get(claim.id)
        row = {"claim": claim, "word": glued[key], "reason": glued[f"{key}_reason"]}
        if was is None:
            rows.append(
                row | {"published": "", "differs": True, "why": "not in the published book yet"}
            )
            continue
        differs = was["word"] != row["word"]
        why = differences(run, was, glued) if differs else ""
        rows.append(
            row
            | {"published": was["word"], "published_reason": was["reason"]}
            | {"differs": differs, "why": why}
        )
    return rows


def table(rows: list[dict], profile: str) -> str:
    """The comparison as a markdown table, with a sentence that counts the disagreements."""
    moved = sum(r["differs"] for r in rows)
    lines = [
        f"**This run is at the `{profile}` profile; the published book ran at `paper`.** "
        f"{moved} of {len(rows)} verdicts differ from the published ones (⚠).",
        "",
        f"| claim | this run ({profile}) | published (paper) | |",
        "|---|---|---|---|",
    ]
    for r in rows:
        ours = f"{r['word']}: {r['reason']}"
        theirs = f"{r['published']}: {r['published_reason']}" if r["published"] else "—"
        flag = f"⚠ differs: {r['why']}" if r["differs"] else "agrees"
        cells = (r["claim"].text, ours, theirs, flag)
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _show(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def markdown(name: str, text: str) -> None:
    """Glue `text` as markdown (a table, a sentence the run writes), for `{glue:md}` in the text."""
    from IPython.display import Markdown

    _glue(name, Markdown(text), display=False)


def by_n_table(
    columns: Mapping, labels: Mapping[str, tuple[str, int]], *, seeds: int, first: str = "$n$"
) -> str:
    """A markdown table with one row per latent dimension: `columns[key][n] = (mean, sd)`
    (`stats.by_dimension`), one column per key of `labels = {key: (label, decimals)}`; mean ± sd
    over `seeds` seeds, the mean alone when there is one seed. `first` heads the rows' column
    (another quantity than n, such as training images)."""
    for key in labels:
        if key not in columns:
            raise KeyError(f"no column {key!r}; the columns are: {', '.join(columns)}")
    dims = sorted({n for key in labels for n in columns[key]})
    head = [label for label, _ in labels.values()]
    lines = [f"| {first} | " + " | ".join(head) + " |", "|---:|" + "---:|" * len(labels)]
    for n in dims:
        cells = []
        for key, (_, d) in labels.items():
            mean, sd = columns[key][n]
            cells.append(f"{mean:.{d}f}" + (f" ± {sd:.{d}f}" if seeds > 1 else ""))
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ends(prefix: str, by_n: Mapping) -> dict:
    """`{prefix}_smallest` and `{prefix}_largest`: the mean at the smallest and at the largest
    latent dimension of `by_n = {n: (mean, sd)}`, keys that every run makes whatever its n."""
    if not by_n:
        raise ValueError(f"{prefix}: no dimensions")
    return {f"{prefix}_smallest": by_n[min(by_n)][0], f"{prefix}_largest": by_n[max(by_n)][0]}


def glue_used(nb) -> set[str]:
    """The glue keys that the markdown cells of notebook `nb` cite (roles and directives)."""
    used = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            used |= set(GLUE_ROLE.findall(cell.source)) | set(GLUE_DIRECTIVE.findall(cell.source))
    return used


def glued_names(nb) -> set[str]:
    """The names that the outputs of notebook `nb` glued."""
    return {
        output["metadata"]["scrapbook"]["name"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }
