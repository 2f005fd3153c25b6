"""The scoreboard page is generated from the ledger and the chapters' glued values."""

import json
import math
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from vaelab import claims
from vaelab.book import cli, scoreboard

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_scoreboard_is_the_one_the_ledger_gives():
    assert (ROOT / scoreboard.PAGE).read_text() == scoreboard.page(ROOT / "book"), (
        "book/scoreboard.md is out of date: run `vaelab scoreboard`"
    )


def test_the_published_record_is_current_and_holds_every_claim():
    text = (ROOT / scoreboard.RECORD).read_text()
    assert text == scoreboard.record_text(ROOT / "book"), "run `vaelab scoreboard`"
    record = json.loads(text)
    assert set(record) == set(scoreboard.ledger())
    count = record["asperti.dense_mnist.count"]
    assert count["section"] == "asperti_mnist" and count["sizes"]["seeds"] == [0, 1, 2]
    assert count["word"] in claims.WORDS and count["glue_key"] == "dense_mnist_verdict"


def test_every_claim_appears_once_with_its_chapter():
    text = scoreboard.page(ROOT / "book")
    for claim in scoreboard.ledger().values():
        assert text.count(f"`{claim.id}`:") == 1
        assert f"{{doc}}`{claim.chapter}`" in text
        assert (ROOT / "book" / f"{claim.chapter}.ipynb").exists()


def _set_glued(path: Path, name: str, value) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record and record["name"] == name:
                output["data"][record["mime_prefix"] + "text/plain"] = repr(value)
    nbformat.write(nb, path)


def test_a_changed_measurement_changes_the_word_and_a_disagreement_is_flagged(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    chapter = book / "sparsity" / "01_dense_mnist.ipynb"
    claim = scoreboard.ledger()["asperti.dense_mnist.count"]
    _set_glued(chapter, "inactive_dense_mnist", 16.0)
    _set_glued(chapter, "inactive_dense_mnist_sd", 0.0)
    _set_glued(chapter, "dense_mnist_verdict", "partly confirmed")
    row = scoreboard.judge(claim, book, profile="paper")
    assert row["word"] == "refuted" and row["status"] == "differs"
    assert "16.0 ± 0.0 over 3 seeds vs 8" in row["reason"]
    assert "(the chapter, executed before this rule, says: partly confirmed)" in scoreboard.page(
        book
    )
    smoke = scoreboard.judge(claim, book, profile="smoke")  # one seed at smoke
    assert smoke["word"] == "not testable here"


def test_a_claim_whose_chapter_lacks_a_glued_input_is_pending(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    chapter = book / "sparsity" / "02_convolutional.ipynb"
    nb = nbformat.read(chapter, as_version=4)
    for cell in nb.cells:  # as if the chapter had been executed before it glued this value
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if o.get("metadata", {}).get("scrapbook", {}).get("name")
            != "inactive_dense_for_conv_sd"
        ]
    nbformat.write(nb, chapter)
    claim = scoreboard.ledger()["asperti.conv_mnist.less_sparse"]
    row = scoreboard.judge(claim, book, profile="paper")
    assert row["status"] == "pending" and "inactive_dense_for_conv_sd" in row["reason"]


def test_cli_scoreboard_check_says_whether_the_page_is_current(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "book", tmp_path / "book")
    for name in ("_toc.yml", "_config.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / scoreboard.PAGE).write_text("stale\n")
    assert cli.main(["scoreboard", "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert cli.main(["scoreboard"]) == 0
    assert cli.main(["scoreboard", "--check"]) == 0


def test_a_book_run_at_another_profile_flags_each_verdict_that_differs_from_the_published(
    tmp_path,
):
    executed = tmp_path / "executed"
    shutil.copytree(ROOT / "book", executed / "book")
    chapter = executed / "book" / "sparsity" / "04_tiles.ipynb"
    _set_glued(chapter, "inactive_conv_tiles", 0.0)
    path = scoreboard.write_executed(executed, ROOT, profile="quick")
    text = path.read_text()
    assert "ran at the `quick` profile" in text
    # quick has two seeds: the count rules cannot judge, and say so beside the published word
    assert "**not testable here** (the chapter, executed before this rule, says: partly" in text
    assert "| quick | paper (published) | chapter |" in text
    assert (
        "| refuted ⚠ differs: epochs 10 (published 50), long_epochs 20 (published 100), "
        "seeds [0, 1] (published [0, 1, 2]), tiles_images 5000 (published 10000) |" in text
    )
    assert "verdicts differ from the published book" in text
    moved, untestable = re.search(
        r"(\d+) of \d+ verdicts differ.*?(\d+) of the \1 are", text
    ).groups()
    assert 0 < int(untestable) <= int(moved)


def test_a_book_without_a_claims_chapter_shows_it_pending(tmp_path):
    (tmp_path / "book").mkdir()
    claim = scoreboard.ledger()["asperti.dense_mnist.count"]
    row = scoreboard.judge(claim, tmp_path / "book", profile="smoke")
    assert (
        row["status"] == "pending"
        and "no executed chapter sparsity/01_dense_mnist" in row["reason"]
    )
    assert "pending" in scoreboard.page(tmp_path / "book", profile="smoke")


def test_a_glued_nan_or_infinity_is_read_back_and_its_claim_is_not_testable(tmp_path):
    # a run with no unused unit glues NaN for their smallest Var mu (Part II 05 at quick)
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    chapter = book / "sparsity" / "05_kl_and_sparsity.ipynb"
    _set_glued(chapter, "eq7_unused_var_mu_min", float("nan"))
    _set_glued(chapter, "unused_full_kl", float("nan"))
    _set_glued(chapter, "eq7_mu2_max", float("-inf"))
    glued = scoreboard.glued_values(chapter)
    assert math.isnan(glued["eq7_unused_var_mu_min"]) and glued["eq7_mu2_max"] == -math.inf
    row = scoreboard.judge(scoreboard.ledger()["asperti.kl.eq7"], book, profile="paper")
    assert row["word"] == "not testable here" and "b_mean not measured (NaN)" in row["reason"]
    assert scoreboard.literal("[1.0, nan, inf]")[2] == math.inf
    with pytest.raises(ValueError, match="malformed"):
        scoreboard.literal("open('x')")


def test_the_rules_section_gives_each_rules_cutoffs_and_their_reason():
    page = scoreboard.page(ROOT / "book")
    claim = scoreboard.ledger()["asperti.dense_mnist.count"]
    assert f"  Cut-offs: {claim.cutoffs}" in page
    assert "quarter of the 16 units" in claim.cutoffs
