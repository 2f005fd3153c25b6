"""record: how a chapter glues its numbers and the ledger's verdicts."""

from pathlib import Path

import nbformat
import pytest

from vaelab import claims
from vaelab.book import record, runner, scoreboard

CLAIM = claims.Claim(
    id="test.count",
    paper="test",
    section="§1",
    text="Eight units are inactive.",
    paper_value=8,
    measurement="inactive units",
    rule=claims.at_most_rule("count", limit=8),
    chapter="test/chapter",
    measure=lambda g, run: {"value": g["count"]},
)


@pytest.fixture
def glued(monkeypatch):
    calls = []
    monkeypatch.setattr(record, "_glue", lambda name, value, display: calls.append((name, value)))
    return calls


def test_values_glues_each_value_without_display(glued):
    record.values({"a": 1, "b": "x"})
    assert glued == [("a", 1), ("b", "x")]


def test_verdicts_glue_the_numbers_and_each_claims_word_reason_and_rule(glued, capsys):
    out = record.verdicts([CLAIM], "test/chapter", {"count": 3}, {})
    names = [n for n, _ in glued]
    key = CLAIM.glue_key
    assert names == ["count", key, f"{key}_reason", f"{key}_rule"]
    assert out["count"] == 3 and out[key] == CLAIM.judge({"value": 3}).word
    assert f"{key}: {out[key]}" in capsys.readouterr().out


def test_verdicts_refuse_a_chapter_without_claims(glued):
    with pytest.raises(ValueError, match="no claim of the ledger is tested in other"):
        record.verdicts([CLAIM], "other", {"count": 3}, {})
    assert glued == []


PUBLISHED = {
    "test.count": {
        "chapter": "test/chapter",
        "glue_key": CLAIM.glue_key,
        "word": "refuted",
        "reason": "count = 12 > 8",
        "section": "asperti_mnist",
        "sizes": {"epochs": 200, "seeds": [0, 1, 2]},
        "data_used": "mnist (5,000-image subset)",
    }
}


def test_a_run_at_another_profile_shows_each_verdict_beside_the_published_one(glued, monkeypatch):
    shown = []
    monkeypatch.setattr(record, "published", lambda: PUBLISHED)
    monkeypatch.setattr(record, "_show", shown.append)
    run = {"profile": "quick", "epochs": 30, "seeds": [0, 1], "lr": 1e-3}
    out = record.verdicts([CLAIM], "test/chapter", {"count": 3, "data_used": "mnist"}, run)
    key = CLAIM.glue_key
    assert out[key] == "confirmed" and out[f"{key}_published"] == "refuted"
    assert out[f"{key}_differs"] is True
    (table,) = shown
    assert (
        "| Eight units are inactive. | confirmed: count = 3 <= 8 | refuted: count = 12 > 8 |"
        in (table)
    )
    assert "⚠ differs: epochs 30 (published 200), seeds [0, 1] (published [0, 1, 2])" in table
    assert "data mnist (published mnist (5,000-image subset))" in table
    assert "1 of 1 verdicts differ" in table


def test_a_run_that_agrees_says_so_and_a_paper_run_shows_no_comparison(glued, monkeypatch):
    shown = []
    monkeypatch.setattr(record, "published", lambda: PUBLISHED)
    monkeypatch.setattr(record, "_show", shown.append)
    out = record.verdicts([CLAIM], "test/chapter", {"count": 12}, {"profile": "smoke"})
    assert out[f"{CLAIM.glue_key}_differs"] is False and "| agrees |" in shown[0]
    shown.clear()
    out = record.verdicts([CLAIM], "test/chapter", {"count": 3}, {"profile": "paper"})
    assert shown == [] and f"{CLAIM.glue_key}_published" not in out


def test_a_claim_missing_from_the_published_record_is_flagged_as_new(glued, monkeypatch):
    shown = []
    monkeypatch.setattr(record, "published", lambda: {})
    monkeypatch.setattr(record, "_show", shown.append)
    record.verdicts([CLAIM], "test/chapter", {"count": 3}, {"profile": "quick"})
    assert "not in the published book yet" in shown[0]


@pytest.mark.slow
def test_a_chapter_run_at_smoke_flags_every_verdict_that_differs_from_the_published(tmp_path):
    root = Path(__file__).resolve().parents[1]
    chapter = Path("book/sparsity/01_dense_mnist.ipynb")
    runner.execute(root, chapter, tmp_path / chapter, profile="smoke", progress=False)
    ledger = [c for c in scoreboard.ledger().values() if c.chapter == "sparsity/01_dense_mnist"]
    published = record.published()
    smoke = {c.id: scoreboard.judge(c, tmp_path / "book", profile="smoke")["word"] for c in ledger}
    differ = {c.id for c in ledger if smoke[c.id] != published[c.id]["word"]}
    assert differ, "one seed at smoke: the count rules cannot judge, unlike the published book"
    nb = nbformat.read(tmp_path / chapter, as_version=4)
    shown = [
        o["data"]["text/markdown"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    ]
    (page,) = [t for t in shown if "This run is at the `smoke` profile" in t]
    rows = {
        c.id: next(line for line in page.splitlines() if line.startswith(f"| {c.text}"))
        for c in ledger
    }
    flagged = {i for i, line in rows.items() if "⚠ differs" in line}
    assert flagged == differ
    assert f"{len(differ)} of {len(ledger)} verdicts differ" in page
    glued = scoreboard.glued_values(tmp_path / chapter)
    assert {c.id for c in ledger if glued[f"{c.glue_key}_differs"]} == differ


def test_glue_used_finds_roles_and_directives_and_glued_names_reads_the_outputs():
    nb = nbformat.v4.new_notebook()
    text = "{glue:text}`a_b:.2f` and {glue}`c` and\n```{glue:md} t_x\n:format: myst\n```"
    nb.cells = [nbformat.v4.new_markdown_cell(text), nbformat.v4.new_code_cell("x")]
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/plain": "1"}, metadata={"scrapbook": {"name": "a_b"}}
        )
    ]
    assert record.glue_used(nb) == {"a_b", "c", "t_x"}
    assert record.glued_names(nb) == {"a_b"}


def test_by_n_table_shows_one_row_per_dimension_and_the_spread_only_over_seeds():
    columns = {
        "fid": {20: (12.345, 0.5), 2: (30.0, 1.25)},
        "units": {2: (2.0, 0.0), 20: (7.0, 0.0)},
    }
    text = record.by_n_table(columns, {"fid": ("FID", 1), "units": ("active units", 0)}, seeds=3)
    assert text.splitlines() == [
        "| $n$ | FID | active units |",
        "|---:|---:|---:|",
        "| 2 | 30.0 ± 1.2 | 2 ± 0 |",
        "| 20 | 12.3 ± 0.5 | 7 ± 0 |",
    ]
    one = record.by_n_table(columns, {"fid": ("FID", 2)}, seeds=1)
    assert one.splitlines()[2:] == ["| 2 | 30.00 |", "| 20 | 12.35 |"]


def test_by_n_table_refuses_a_label_for_a_column_it_does_not_have():
    with pytest.raises(KeyError, match="no column 'fdi'; the columns are: fid"):
        record.by_n_table({"fid": {2: (1.0, 0.0)}}, {"fdi": ("FID", 1)}, seeds=1)


def test_ends_are_the_values_at_the_smallest_and_largest_dimension_the_run_trained():
    got = record.ends("sweep_fid", {7: (2.0, 0.1), 3: (1.0, 0.1), 50: (9.0, 0.2)})
    assert got == {"sweep_fid_smallest": 1.0, "sweep_fid_largest": 9.0}
    with pytest.raises(ValueError, match="sweep_fid: no dimensions"):
        record.ends("sweep_fid", {})
