"""record: how a chapter glues its numbers and the ledger's verdicts."""

import pytest

from vaelab import claims
from vaelab.book import record

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
