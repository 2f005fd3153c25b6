"""The book as it is published: the committed chapters re-executed in place (`publish`), and the
HTML built from a folder of executed chapters (`build_html`, what `vaelab book` and the browser
tests use)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from vaelab.book.runner import (
    APPENDIX,
    RUN_TIMES,
    Executed,
    execute,
    find_chapter,
    notebooks,
    record_times,
)


def build_html(source: Path, *, output: Path, strict: bool = True) -> Path:
    """`jupyter-book build -W --keep-going` of `source` (without `-W` when not `strict`); the
    HTML lands in `output/_build/html`."""
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", *(["-W"] if strict else [])]
    cmd += ["--keep-going", str(source), "--path-output", str(output)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise RuntimeError(f"jupyter-book build failed (exit {done.returncode}):\n{tail}")
    index = output / "_build" / "html" / "index.html"
    if not index.is_file():
        raise RuntimeError(f"jupyter-book build wrote no {index}")
    return index


def render_chapter(root: Path, executed: Path, chapter: Path) -> Path:
    """One executed chapter (`executed` = `<folder>/<chapter>`, as `vaelab run` writes it) as a
    page in the book's theme: the book's config, bibliography and assets beside it, a table of
    contents of that page alone, built into `<folder>/_build/html`; returns the page's path.
    Built without `-W`: a link to a chapter that is not there is a warning, not a failure."""
    folder = Path(str(executed)[: -len(str(chapter))].rstrip("/"))
    for name in ("_config.yml", "references.bib"):
        shutil.copy2(root / name, folder / name)
    for asset in (root / "book").glob("*.svg"):
        shutil.copy2(asset, folder / "book" / asset.name)
    (folder / "_toc.yml").write_text(f"format: jb-book\nroot: {chapter.with_suffix('')}\n")
    build_html(folder, output=folder, strict=False)
    page = folder / "_build" / "html" / chapter.with_suffix(".html")
    if not page.is_file():
        raise RuntimeError(f"jupyter-book build wrote no {page}")
    return page


def publish(
    root: Path, *, profile: str = "paper", progress: bool = True, only: list[str] | None = None
) -> list[Executed]:
    """Re-execute the committed chapters in place (all, or those named in `only`); stops at the
    first failure, leaving the failed chapter as committed. Run times are merged into
    `book/appendix/run_times.json` (before the appendix runs, so that it shows them)."""
    done = []
    todo = [find_chapter(name, root) for name in only] if only else notebooks(root)
    for chapter in todo:
        if chapter == APPENDIX:
            record_times(root / RUN_TIMES, done)
        scratch = root / "_build" / "publish" / chapter
        print(f"vaelab: publishing {chapter} at {profile}", file=sys.stderr)
        done.append(execute(root, chapter, scratch, profile=profile, progress=progress))
        shutil.copyfile(scratch, root / chapter)
    record_times(root / RUN_TIMES, done)
    return done
