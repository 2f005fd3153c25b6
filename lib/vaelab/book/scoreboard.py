"""The scoreboard page: every claim of the ledger, judged on what the chapters glued.

For each claim (`vaelab.claims`, declared by the papers' modules) it reads the glued values of
the claim's chapter, the sizes of the profile the chapter ran at, and hands them to the claim's
rule. The page shows the paper's value, ours (the rule's reason, with the numbers), the verdict
and the chapter. Two things are flagged rather than hidden: a claim whose chapter does not glue
what its rule reads yet ("pending"), and a chapter whose own glued word differs from the
ledger's (a rule changed since the chapter was executed).

`vaelab scoreboard` writes `book/scoreboard.md` from the committed chapters, and the published
verdicts beside it (`published.json` in this package, which a chapter run at another profile
compares itself with: `vaelab.book.record`); a test checks that both are current.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat

from vaelab import claims
from vaelab.book import profiles, runner
from vaelab.book.record import differences
from vaelab.papers import asperti, azmoodeh, synthesis

PAGE = Path("book") / "scoreboard.md"
RECORD = Path("lib") / "vaelab" / "book" / "published.json"  # read back by vaelab.book.record
PAPERS = {
    "azmoodeh": "Part I: Azmoodeh et al., *Why Bigger is Not Better*",
    "asperti": "Part II: Asperti, *Sparsity in Variational Autoencoders*",
    "synthesis": "Part III: what neither paper measured",
}


def ledger() -> dict[str, claims.Claim]:
    """Every claim of the book, by id (with those registered ahead of their chapter)."""
    return claims.ledger(azmoodeh.CLAIMS, asperti.CLAIMS, synthesis.CLAIMS, synthesis.AHEAD)


def glued_values(path: Path) -> dict:
    """`{name: value}` of every value a notebook glued (myst-nb records, as Python literals;
    markdown as its text)."""
    nb = nbformat.read(path, as_version=4)
    out = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                data, prefix = output["data"], record["mime_prefix"]
                if prefix + "text/markdown" in data:  # a table or sentence glued as markdown
                    out[record["name"]] = data[prefix + "text/markdown"]
                else:
                    out[record["name"]] = literal(data[prefix + "text/plain"])
    return out


class _Floats(ast.NodeTransformer):
    def visit_Name(self, node):  # the reprs of float("nan") and float("inf")
        return ast.Constant(float(node.id)) if node.id in ("nan", "inf") else node


def literal(text: str):
    """A glued value's `repr` read back as a Python literal, `nan` and `inf` included (a run
    that measured nothing glues NaN); anything else than a literal raises ValueError."""
    return ast.literal_eval(_Floats().visit(ast.parse(text.strip(), mode="eval")))


def judge(claim: claims.Claim, book: Path, *, profile: str) -> dict:
    """One row: the claim judged on its chapter's notebook under `book` (a folder of chapters)
    at the sizes of `profile`; `status` is "judged", "pending" or "differs"."""
    path = book / f"{claim.chapter}.ipynb"
    if not path.exists():
        reason = f"no executed chapter {claim.chapter} in this book"
        return {
            "claim": claim,
            "chapter_word": "",
            "status": "pending",
            "word": "",
            "reason": reason,
        }
    glued = glued_values(path)
    run = profiles.SIZES[runner.section_of(path)][profile]
    row = {"claim": claim, "chapter_word": glued.get(claim.word_key, "")}
    if claim.measure is None:
        return row | {"status": "pending", "word": "", "reason": "the rule reads nothing glued"}
    try:
        verdict = claim.judge_glued(glued, run)
    except (KeyError, ValueError) as e:
        missing = e.args[0] if isinstance(e, KeyError) else str(e)
        reason = f"the chapter does not glue {missing!r} yet"
        return row | {"status": "pending", "word": "", "reason": reason}
    same = str(row["chapter_word"]).lower() in ("", verdict.word)
    return row | {
        "status": "judged" if same else "differs",
        "word": verdict.word,
        "reason": verdict.reason,
    }


def published_record(book: Path) -> dict:
    """`{claim id: ...}` of what the chapters under `book` (the committed ones, run at `paper`)
    say of each claim: the word and reason, the chapter and its section, the section's `paper`
    sizes and the data the chapter used."""
    out = {}
    for claim in ledger().values():
        row = judge(claim, book, profile="paper")
        path = book / f"{claim.chapter}.ipynb"
        section = runner.section_of(path) if path.exists() else None
        out[claim.id] = {
            "chapter": claim.chapter,
            "glue_key": claim.glue_key,
            "word": row["word"],
            "reason": row["reason"],
            "status": row["status"],
            "section": section,
            "sizes": profiles.SIZES[section]["paper"] if section else {},
            "data_used": glued_values(path).get("data_used") if path.exists() else None,
        }
    return out


def record_text(book: Path) -> str:
    """`published_record(book)` as the JSON text of `RECORD`."""
    return json.dumps(published_record(book), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _row(r: dict) -> str:
    c = r["claim"]
    if r["status"] == "pending":
        word = f"*pending* (the chapter says: {r['chapter_word'] or 'no word'})"
    elif r["status"] == "differs":
        word = (
            f"**{r['word']}** (the chapter, executed before this rule, says: {r['chapter_word']})"
        )
    else:
        word = f"**{r['word']}**"
    cells = [c.text, c.section, c.paper_value or "—", r["reason"], word]
    if "published" in r:  # a book run at another profile: the published word in its own column
        flag = f" ⚠ differs: {r['why']}" if r["published"] != r["word"] else ""
        cells.append((r["published"] or "pending") + flag)
    cells.append(f"{{doc}}`{c.chapter}`")
    return "| " + " | ".join(_cell(x) for x in cells) + " |"


def page(book: Path, *, profile: str = "paper", published: Path | None = None) -> str:
    """The scoreboard's markdown for the chapters under `book` at `profile`. With `published`
    (the committed chapters, run at `paper`), each verdict that differs from the published one
    is flagged beside it."""
    rows = [judge(c, book, profile=profile) for c in ledger().values()]
    if published is not None:
        record = published_record(published)
        for r in rows:
            was = record[r["claim"].id]
            r["published"] = was["word"]
            if was["word"] != r["word"]:
                path = book / f"{r['claim'].chapter}.ipynb"
                ran = profiles.SIZES[was["section"]][profile] if was["section"] else {}
                glued = glued_values(path) if path.exists() else {}
                r["why"] = differences(ran, was, glued)
    counts = {w: sum(r["word"] == w for r in rows) for w in claims.WORDS}
    pending = sum(r["status"] == "pending" for r in rows)
    differs = sum(r["status"] == "differs" for r in rows)
    lines = [
        "# Scoreboard",
        "",
        f"Every claim the book tests, judged by its rule in the claims ledger (`vaelab.claims`) on "
        f"the numbers the chapters glued at the `{profile}` profile. Generated by "
        "`vaelab scoreboard`; do not edit by hand.",
        "",
        f"Of {len(rows)} claims: "
        + ", ".join(f"{n} {w}" for w, n in counts.items() if n)
        + f"; {pending} pending (the chapter does not glue what the rule reads yet); {differs} "
        "whose chapter, executed before its rule, still shows another word.",
        "",
        "A rule returns one of four words: confirmed, partly confirmed, refuted, not testable "
        f"here. A rule over seeds needs at least {claims.MIN_SEEDS} and compares with their "
        "spread. *Ours* is the rule's own reason, with the numbers it read.",
    ]
    if published is not None:
        moved = [r for r in rows if r["published"] != r["word"]]
        untestable = sum(r["word"] == claims.UNTESTABLE for r in moved)
        lines += [
            "",
            f"**This book ran at the `{profile}` profile, not at the papers' sizes.** "
            f"{len(moved)} of {len(rows)} verdicts differ from the published book (`paper` "
            "profile); each is flagged ⚠ in the column of the published word, with the sizes "
            f"that differ from the published run. {untestable} of the {len(moved)} are 'not "
            "testable here' in this run: a rule over seeds needs three, and an experiment the "
            "profile does not run leaves its numbers nan. Each chapter's verdict cell shows the "
            "same comparison.",
        ]
    for paper, title in PAPERS.items():
        lines += ["", f"## {title}", ""]
        if published is None:
            lines += [
                "| claim | where | paper | ours | verdict | chapter |",
                "|---|---|---|---|---|---|",
            ]
        else:
            lines += [
                f"| claim | where | paper | ours ({profile}) | {profile} | paper (published) "
                "| chapter |",
                "|---|---|---|---|---|---|---|",
            ]
        lines += [_row(r) for r in rows if r["claim"].paper == paper]
    lines += ["", "## The rules", ""]
    for r in rows:
        c = r["claim"]
        lines.append(f"- `{c.id}`: {c.rule.text}. Registered {c.registered}.")
        if c.cutoffs:
            lines.append(f"  Cut-offs: {c.cutoffs}.")
        for old in c.earlier:
            was = f" (it said: {old.word})" if old.word else ""
            lines.append(f"  Earlier rule{was}: {old.text}. Changed because {old.reason}.")
    return "\n".join(lines) + "\n"


def write_executed(executed: Path, published: Path, *, profile: str) -> Path:
    """The scoreboard of a book executed at `profile` under `executed` (`vaelab book`), with
    every verdict that differs from the `published` chapters flagged."""
    path = executed / PAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(executed / "book", profile=profile, published=published / "book"))
    return path


def write(root: Path, *, profile: str = "paper") -> Path:
    """Write the scoreboard of the committed chapters under `root` to `root/PAGE`."""
    path = root / PAGE
    path.write_text(page(root / "book", profile=profile))
    (root / RECORD).parent.mkdir(parents=True, exist_ok=True)
    (root / RECORD).write_text(record_text(root / "book"))
    return path
