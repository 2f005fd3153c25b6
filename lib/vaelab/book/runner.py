"""Execute chapters with papermill and build the book: what the `vaelab` command runs.

- `run_chapter`: one chapter, out of place, with validated parameters.
- `execute_book`: every chapter of `_toc.yml` into `_build/executed/`, then the HTML from there.
- `record_times`: the run times the Reproducing appendix shows.

Publishing in place and the HTML build are in `vaelab.book.site`.

The profile reaches the kernel through `VAELAB_PROFILE` (see `vaelab.book.profiles`), so a published
notebook keeps its literal parameters cell and shows in its output which profile produced it.
"""

from __future__ import annotations

import ast
import concurrent.futures
import contextlib
import functools
import json
import multiprocessing
import os
import platform
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from . import profiles, schedule, terminal

TEMPLATE = Path("book/template.ipynb")
APPENDIX = Path("book/appendix/reproducing.ipynb")  # shows the run times of the other chapters
TIMING = Path("book/appendix/performance.ipynb")  # times the machine: never beside another chapter
RUN_TIMES = APPENDIX.parent / "run_times.json"
CACHE_USE = APPENDIX.parent / "cache_use.json"  # the cache entries and memos each chapter used


class ChapterFailed(RuntimeError):
    """A chapter raised: names the notebook, the cell and the error."""

    def __init__(
        self, chapter: Path, *, cell: int, exec_count, source: str, error: str, output: Path
    ):
        self.chapter, self.cell, self.exec_count, self.error, self.output = (
            chapter,
            cell,
            exec_count,
            error,
            output,
        )
        self.source = source
        first = (source.strip().splitlines() or [""])[0]
        super().__init__(
            f"{chapter} failed in cell {cell} of the executed copy (In [{exec_count}]: {first!r})"
            f"\n  {error}\n  the executed copy, with the traceback: {output}"
        )

    def __reduce__(self):  # rebuilt from its fields when it comes back from a worker process
        fields = dict(
            cell=self.cell,
            exec_count=self.exec_count,
            source=self.source,
            error=self.error,
            output=self.output,
        )
        return functools.partial(ChapterFailed, self.chapter, **fields), ()


@dataclass(frozen=True)
class Executed:
    """One chapter run."""

    chapter: Path  # relative to the book root
    output: Path  # the executed notebook
    profile: str
    seconds: float
    trained: int = 0  # models it trained (cache entries made)
    loaded: int = 0  # models it loaded from the training cache
    train_seconds: float = 0.0  # training time of every model it used, when they were trained
    entries: tuple[str, ...] = ()  # the training-cache entries it used (keys)
    memos: tuple[str, ...] = ()  # the memos it used (file names)


def find_root(start: Path | None = None) -> Path:
    """The book's root: the first folder from `start` (default: cwd) upwards with `_toc.yml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "_config.yml").is_file():
            return folder
    raise FileNotFoundError(
        f"no _toc.yml and _config.yml in {here} or above: run vaelab from "
        "the book's folder (the clone of the repository)"
    )


def toc_entries(root: Path) -> list[str]:
    """Every file of `_toc.yml`, in reading order, as written there (no suffix)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return found


def chapters(root: Path) -> list[Path]:
    """The notebooks of the table of contents, relative to `root`, in reading order."""
    out = []
    for entry in toc_entries(root):
        path = Path(entry).with_suffix(".ipynb")
        if (root / path).is_file():
            out.append(path)
    return out


def notebooks(root: Path) -> list[Path]:
    """The template (if any) and the chapters: every notebook that is published and tested."""
    extra = [TEMPLATE] if (root / TEMPLATE).is_file() else []
    return extra + chapters(root)


def find_chapter(name: str, root: Path) -> Path:
    """A chapter by path, by file name, or by name without its `NN_` number."""
    candidates = notebooks(root)
    wanted = Path(name).with_suffix(".ipynb")
    for path in candidates:
        stem = path.stem.split("_", 1)[-1] if path.stem[:2].isdigit() else path.stem
        if name in (str(path), str(path.with_suffix("")), path.stem, stem) or path == wanted:
            return path
    listed = "\n  ".join(str(p.with_suffix("")) for p in candidates)
    raise ValueError(f"no chapter {name!r}; the chapters are:\n  {listed}")


def parameters(path: Path) -> dict[str, dict]:
    """The chapter's parameters cell: name -> {type, default, help} (papermill's reading)."""
    import papermill

    nb = nbformat.read(path, as_version=4)
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        raise ValueError(f"{path} has no cell tagged 'parameters'")
    found = papermill.inspect_notebook(str(path))
    return {
        k: {"type": v["inferred_type_name"], "default": v["default"], "help": v["help"]}
        for k, v in found.items()
    }


def section_of(path: Path) -> str:
    """The `vaelab.book.profiles` section a chapter resolves its parameters in (`section="..."`)."""
    nb = nbformat.read(path, as_version=4)
    found = {
        m
        for c in nb.cells
        if c.cell_type == "code"
        for m in re.findall(r"profiles\.resolve\([^)]*section=\"(\w+)\"", c.source)
    }
    if len(found) != 1:
        raise ValueError(
            f'{path}: expected one profiles.resolve(..., section="...") call, '
            f"found sections {sorted(found)}"
        )
    return found.pop()


def parse_overrides(path: Path, pairs: list[tuple[str, str]], known: dict | None = None) -> dict:
    """`-p NAME VALUE` pairs, checked against the chapter's parameters (`known`, else read from
    `path`) and `vaelab.book.profiles`."""
    known = parameters(path) if known is None else known
    out = {}
    for name, text in pairs:
        if name not in known:
            raise ValueError(
                f"{path.name} has no parameter {name!r}; its parameters are: {', '.join(known)}"
            )
        out[name] = profiles.parse(name, text)
    return out


@contextlib.contextmanager
def _environment(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(
    root: Path,
    chapter: Path,
    output: Path,
    *,
    profile: str,
    parameters=None,
    cwd: Path | None = None,
    progress: bool = True,
) -> Executed:
    """Execute `root/chapter` into `output` at `profile`; raise `ChapterFailed` if a cell raises.

    The kernel runs in `cwd` (default: the chapter's own folder), with `VAELAB_PROFILE=profile`.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from vaelab import cache  # torch: imported only when a chapter runs
    from vaelab.train import PROGRESS_FILE_ENV

    profiles.check("profile", profile)
    output.parent.mkdir(parents=True, exist_ok=True)
    log = output.with_name(output.name + ".cache.jsonl")
    log.unlink(missing_ok=True)
    start = time.perf_counter()
    watched = output.with_name(output.name + ".progress.jsonl")
    watched.unlink(missing_ok=True)
    env = {profiles.ENV: profile, "VAELAB_PROGRESS": "0", cache.LOG_ENV: str(log)}
    env[PROGRESS_FILE_ENV] = str(watched)
    with _environment(**env), terminal.watch(watched, chapter, progress):
        try:
            papermill.execute_notebook(
                str(root / chapter),
                str(output),
                parameters=parameters or None,
                progress_bar=False,  # terminal.watch shows the chapter and its models
                cwd=str(cwd or (root / chapter).parent),
                kernel_name="python3",
                extra_arguments=terminal.KERNEL_ARGUMENTS,
            )
        except PapermillExecutionError as e:
            error = f"{e.ename}: {e.evalue}"
            raise ChapterFailed(
                chapter,
                cell=e.cell_index,
                exec_count=e.exec_count,
                source=e.source,
                error=error,
                output=output,
            ) from None
    seconds = time.perf_counter() - start
    nbformat.write(strip(nbformat.read(output, as_version=4)), output)
    used, names = cache.usage(log), cache.used(log)
    log.unlink(missing_ok=True)
    watched.unlink(missing_ok=True)
    return Executed(
        chapter=chapter,
        output=output,
        profile=profile,
        seconds=seconds,
        trained=used["trained"],
        loaded=used["loaded"],
        train_seconds=used["train_seconds"],
        entries=tuple(names["entries"]),
        memos=tuple(names["memos"]),
    )


def strip(nb):
    """Remove papermill's and nbclient's run metadata (timings, absolute paths) from `nb`."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


def run_chapter(
    root: Path,
    name: str,
    *,
    pairs=(),
    profile: str | None = None,
    output_dir: Path | None = None,
    progress: bool = True,
) -> Executed:
    """`vaelab run`: one chapter, out of place (default `_build/runs/`), parameters validated."""
    chapter = find_chapter(name, root)
    known = parameters(root / chapter)
    given = parse_overrides(root / chapter, list(pairs), known)
    if profile is not None:
        given["profile"] = profiles.check("profile", profile)
    default = known.get("profile", {}).get("default", "'quick'")
    effective = given.get("profile") or os.environ.get(profiles.ENV) or ast.literal_eval(default)
    profiles.check("profile", effective)
    output = (output_dir or root / "_build" / "runs") / chapter
    return execute(root, chapter, output, profile=effective, parameters=given, progress=progress)


def stage(root: Path, dest: Path) -> None:
    """Copy the book's sources (config, TOC, bibliography, `book/`) to `dest` for a build."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(root / name, dest / name)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(root / "book", dest / "book", ignore=ignore)


def execute_book(
    root: Path, *, profile: str, dest: Path | None = None, progress: bool = True, jobs: int = 1
) -> tuple[list[Executed], list[ChapterFailed]]:
    """Every chapter into `dest` (default `_build/executed/`); keeps going past a failure.

    With `jobs` > 1 that many chapters run at a time, each in its own process whose kernel gets
    `cores // jobs` threads, in the order of `vaelab.book.schedule`; the two appendices (one
    times the machine, one shows the others' run times) then run alone. Results come back in
    reading order."""
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    dest = dest or root / "_build" / "executed"
    stage(root, dest)
    order = chapters(root)
    last = [c for c in order if c in (TIMING, APPENDIX)] if jobs > 1 else []
    first = [c for c in order if c not in last]
    results = {}
    if jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        priority, after = schedule.plan([str(c) for c in first], *schedule.published(root))
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            args = {c: (root, Path(c), dest / c, profile, threads) for c in priority}
            done = schedule.run(
                priority, after, jobs=jobs, submit=lambda c: pool.submit(_execute_alone, args[c])
            )
        results |= {Path(c): outcome for c, outcome in done.items()}
    else:
        last = first
    for chapter in last:
        if chapter == APPENDIX:
            done = [r for r in results.values() if isinstance(r, Executed)]
            record_times(dest / RUN_TIMES, done, base=root / RUN_TIMES)
        results[chapter] = _execute_alone((root, chapter, dest / chapter, profile, None), progress)
    done = [results[c] for c in order if isinstance(results[c], Executed)]
    failed = [results[c] for c in order if isinstance(results[c], ChapterFailed)]
    record_times(dest / RUN_TIMES, done, base=root / RUN_TIMES)
    return done, failed


def _execute_alone(args, progress: bool = False):
    """`execute` one chapter for `execute_book`: its `Executed` or its `ChapterFailed`. A kernel
    started from here gets `threads` torch threads when given (through OMP_NUM_THREADS)."""
    root, chapter, out, profile, threads = args
    print(f"vaelab: executing {chapter} at {profile}", file=sys.stderr)
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # this process only runs chapters
    try:
        return execute(root, chapter, out, profile=profile, cwd=out.parent, progress=progress)
    except ChapterFailed as e:
        print(f"vaelab: {e}", file=sys.stderr)
        return e


def _merged(path: Path, base: Path | None) -> dict:
    source = base if base is not None and base.is_file() else path
    return json.loads(source.read_text()) if source.is_file() else {}


def record_times(path: Path, runs: list[Executed], *, base: Path | None = None) -> None:
    """Merge the run times of `runs` into the JSON file `path` (read from `base` if given), and
    the cache entries and memos each used into `cache_use.json` beside it."""
    table = _merged(path, base)
    use = _merged(path.with_name(CACHE_USE.name), base and base.with_name(CACHE_USE.name))
    for r in runs:
        use.setdefault(r.profile, {})[str(r.chapter)] = {
            "entries": sorted(r.entries),
            "memos": sorted(r.memos),
        }
    import torch

    for r in runs:
        table.setdefault(r.profile, {})[str(r.chapter)] = {
            "seconds": round(r.seconds, 1),
            "models_trained": r.trained,
            "models_loaded": r.loaded,
            "train_seconds_of_models": round(r.train_seconds, 1),
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads",
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    path.with_name(CACHE_USE.name).write_text(json.dumps(use, indent=1, sort_keys=True) + "\n")
