"""The package's layers: core -> papers -> book; no paper module imports another."""

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"
ORDER = {"core": 0, "papers": 1, "book": 2}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ("papers", "book") else "core"


def _imports(path: Path, module: str) -> list[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = package + (f".{base}" if base else "")
            if base.startswith("vaelab"):
                found += [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("vaelab")]
    return found


def _modules():
    for path in sorted((LIB / "vaelab").rglob("*.py")):
        parts = path.relative_to(LIB).with_suffix("").parts
        yield path, ".".join(p for p in parts if p != "__init__")


def test_imports_flow_from_core_to_papers_to_book_and_papers_never_import_each_other():
    wrong = []
    for path, module in _modules():
        for target in _imports(path, module):
            if ORDER[_layer(target)] > ORDER[_layer(module)]:
                wrong.append(f"{module} imports {target} (upwards)")
            paper, other = module.split(".")[:3], target.split(".")[:3]
            if _layer(module) == _layer(target) == "papers" and paper != other:
                wrong.append(f"{module} imports {target} (another paper)")
    assert wrong == []


def test_the_layers_are_where_the_docs_say():
    modules = {m for _, m in _modules()}
    assert {
        f"vaelab.papers.{p}" for p in ("azmoodeh", "asperti", "synthesis", "performance")
    } <= modules
    assert {
        f"vaelab.book.{m}" for m in ("profiles", "runner", "cli", "sphinxext", "scoreboard")
    } <= modules
    assert {"vaelab.claims", "vaelab.stats", "vaelab.train", "vaelab.cache"} <= modules
    assert not any(
        m.startswith(("vaelab.sparsity", "vaelab.perf", "vaelab.profiles")) for m in modules
    )


def test_every_module_stays_under_about_400_lines():
    long = {
        str(p.relative_to(LIB)): n
        for p in sorted(LIB.rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}, "split these modules (architecture issue, item 7)"
