"""Hygiene of the committed notebooks (the template and every chapter of `_toc.yml`).

Each has a literal `parameters` cell whose names are exactly the parameters of its
`vaelab.profiles` section, and one cell that resolves them; it is committed executed (the outputs
of `vaelab publish`), with no papermill `injected-parameters` cell, no papermill metadata, no
error output, no local absolute path in any output, under 2 MB; every `{glue}` key that its text
uses is glued by one of its cells; code cells have at most 15 physical lines as `ruff format`
leaves them, and none opts out of the formatter with `# fmt: skip` (STYLE.md).
"""

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from vaelab.book import profiles, record, runner

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = runner.notebooks(ROOT)
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(/home/|/root/|/work/|/tmp/|/Users/|/opt/|[A-Z]:\\\\)")
MAX_CELL_LINES = 15


def _read(path: Path):
    return nbformat.read(ROOT / path, as_version=4)


def test_the_book_has_notebooks_to_check():
    assert runner.TEMPLATE in NOTEBOOKS and runner.APPENDIX in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_parameters_cell_is_literal_and_matches_the_profile_section(path):
    nb = _read(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    names = []
    for stmt in ast.parse(cells[0].source).body:
        assert isinstance(stmt, ast.AnnAssign), f"not an annotated assignment: {ast.unparse(stmt)}"
        ast.literal_eval(stmt.value)  # raises on anything but a literal
        names.append(stmt.target.id)
    for line in cells[0].source.splitlines():
        assert re.search(r"\S\s+#\s+\S", line), f"parameter without a comment: {line!r}"
    assert tuple(names) == profiles.names(runner.section_of(ROOT / path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_committed_executed_without_errors_or_papermill_traces(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "committed without being executed"
    assert "papermill" not in nb.metadata
    for c in nb.cells:
        assert "injected-parameters" not in c.metadata.get("tags", [])
        assert "papermill" not in c.metadata and "execution" not in c.metadata
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_outputs_hold_no_local_absolute_path_and_the_file_is_small(path):
    nb = _read(path)
    for c in nb.cells:
        for o in c.get("outputs", []):
            text = json.dumps(
                {k: v for k, v in o.items() if k != "data"}
                | {
                    "data": {
                        m: v for m, v in o.get("data", {}).items() if not m.startswith("image/")
                    }
                }
            )
            assert not ABSOLUTE_PATH.search(text), f"absolute path in an output: {text[:300]}"
    assert (ROOT / path).stat().st_size < 2_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_every_glue_key_used_in_the_text_is_glued(path):
    nb = _read(path)
    assert record.glue_used(nb) - record.glued_names(nb) == set()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_code_cells_are_short_and_one_cell_resolves_the_parameters(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    resolving = [c for c in code if "profiles.resolve(" in c.source]
    assert len(resolving) == 1
    long = [c.source.splitlines()[0] for c in code if len(c.source.splitlines()) > MAX_CELL_LINES]
    assert long == [], f"cells over {MAX_CELL_LINES} lines belong in lib/vaelab"
    assert not [c for c in code if "fmt: skip" in c.source], "a cell opts out of ruff format"


def test_absolute_path_pattern():
    assert ABSOLUTE_PATH.search('"text": "saved to /home/ana/x.png"')
    assert not ABSOLUTE_PATH.search("see https://example.org/home/x and 10/tmp/")
