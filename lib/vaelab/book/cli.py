"""The `vaelab` command: data set-up, and running the book's chapters with papermill.

vaelab data status|fetch NAME
vaelab run CHAPTER [-p NAME VALUE ...] [--profile P] [--output DIR] [--html]  (--help: parameters)
vaelab book [--profile P] [--jobs N]
vaelab publish [CHAPTER ...]
vaelab scoreboard [--check]
vaelab models export [--profile P] FILE | vaelab models import FILE
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from vaelab import data
from vaelab.book import profiles, runner, scoreboard, site


def ensure(name: str) -> str:
    """Make sure the IDX files of `name` are present; returns where they are.

    Order: already on disk; Debian's package via apt-get (Fashion-MNIST, when apt-get exists and
    we are root); a checksum-verified download into the cache.
    """
    if not data.missing_files(name):
        return data.sources()[name]
    if name == "fashion-mnist" and shutil.which("apt-get") and os.geteuid() == 0:
        print("vaelab: installing Debian's dataset-fashion-mnist with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"], check=False)
    data.fetch(name)  # downloads what is still missing (or says how to get it), verifies all
    return data.sources()[name]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaelab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("data", help="show where the data sets come from, or fetch one")
    d.add_argument("action", choices=["status", "fetch"])
    d.add_argument("name", nargs="?", choices=list(data.SHA256), default="fashion-mnist")
    r = sub.add_parser("run", add_help=False, help="execute one chapter out of place")
    r.add_argument("chapter", nargs="?", help="path or name of the chapter, e.g. template")
    r.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter (repeatable)",
    )
    r.add_argument("--profile", choices=profiles.PROFILES, help="run size (default: the chapter's)")
    r.add_argument("--output", type=Path, help="folder of the executed copy (default _build/runs)")
    r.add_argument("-h", "--help", action="store_true", help="list the chapter's parameters")
    r.add_argument(
        "--html", action="store_true", help="also render the executed copy as a page of the book"
    )
    b = sub.add_parser("book", help="execute every chapter into _build/executed, build the HTML")
    b.add_argument("--profile", choices=profiles.PROFILES, default="quick")
    b.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="chapters executed at a time, each with its share of the cores; the "
        "appendices run after them, alone (default 1)",
    )
    p = sub.add_parser("publish", help="re-execute the committed chapters in place at paper")
    p.add_argument("chapters", nargs="*", help="only these chapters (default: every chapter)")
    s = sub.add_parser("scoreboard", help="write book/scoreboard.md from the committed chapters")
    s.add_argument("--check", action="store_true", help="only say whether the page is current")
    m = sub.add_parser("models", help="trained models as one archive: export or import")
    m.add_argument("action", choices=["export", "import"])
    m.add_argument("file", type=Path, help="the archive (.tar.gz)")
    m.add_argument(
        "--profile",
        choices=profiles.PROFILES,
        default="paper",
        help="export: the models the book uses at this profile (default paper)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "data":
            return _data(args)
        root = runner.find_root()
        if args.command == "run":
            return _run(root, args)
        if args.command == "book":
            return _book(root, args.profile, args.jobs)
        if args.command == "scoreboard":
            return _scoreboard(root, check=args.check)
        if args.command == "models":
            return _models(root, args)
        return _publish(root, args.chapters)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"vaelab: {e}", file=sys.stderr)
        return 1


def _run(root: Path, args) -> int:
    if not args.chapter:
        print(_RUN_USAGE, file=sys.stdout if args.help else sys.stderr)
        return 0 if args.help else 2
    if args.help:
        print(chapter_help(root, args.chapter))
        return 0
    done = runner.run_chapter(
        root,
        args.chapter,
        pairs=[tuple(p) for p in args.parameter],
        profile=args.profile,
        output_dir=args.output,
    )
    print(f"vaelab: {done.chapter} ran at {done.profile} in {done.seconds:.1f} s -> {done.output}")
    if args.html:
        print(f"vaelab: page {site.render_chapter(root, done.output, done.chapter)}")
    return 0


_RUN_USAGE = (
    "usage: vaelab run CHAPTER [-p NAME VALUE ...] [--profile smoke|quick|paper] [--output DIR] "
    "[--html]\n"
    "       vaelab run CHAPTER --help     lists the chapter's parameters"
)


def chapter_help(root: Path, name: str) -> str:
    """The usage line and the parameters of a chapter, with their values at each profile."""
    chapter = runner.find_chapter(name, root)
    params = runner.parameters(root / chapter)
    section = runner.section_of(root / chapter)
    lines = [
        _RUN_USAGE.splitlines()[0].replace("CHAPTER", str(chapter.with_suffix(""))),
        "",
        f"Parameters of {chapter} (section {section!r} of vaelab.book.profiles):",
    ]
    for name_, p in params.items():
        sized = profiles.SIZES.get(section, {})
        by_profile = ", ".join(f"{pr} {sized[pr][name_]!r}" for pr in sized if name_ in sized[pr])
        default = p["default"] + (
            f" ({by_profile})" if p["default"] == "None" and by_profile else ""
        )
        lines.append(f"  {name_:<12} {p['type']:<6} {default}")
        lines.append(f"  {'':<12} {p['help']}")
    return "\n".join(lines)


def _book(root: Path, profile: str, jobs: int = 1) -> int:
    start = time.perf_counter()
    done, failed = runner.execute_book(root, profile=profile, jobs=jobs)
    if not failed:  # the scoreboard of what ran, each verdict beside the published one
        scoreboard.write_executed(root / "_build" / "executed", root, profile=profile)
    index = site.build_html(root / "_build" / "executed", output=root)
    for r in done:
        print(f"vaelab: {r.chapter}: {r.seconds:.1f} s at {r.profile}")
    print(f"vaelab: book built in {time.perf_counter() - start:.0f} s -> {index}")
    if failed:
        print(f"vaelab: {len(failed)} chapter(s) failed:", file=sys.stderr)
        for e in failed:
            print(f"  {e}", file=sys.stderr)
        return 1
    return 0


def _publish(root: Path, chapters: list[str]) -> int:
    for r in site.publish(root, only=chapters):
        print(f"vaelab: {r.chapter}: {r.seconds:.1f} s at {r.profile}")
    return _scoreboard(root, check=False)


def _data(args) -> int:
    if args.action == "fetch":
        print(f"{args.name}: {ensure(args.name)}")
        return 0
    for name, where in data.sources().items():
        print(f"{name}: {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def uses(root: Path, profile: str) -> dict:
    """`{"entries": [...], "memos": [...]}` the book's chapters used at `profile`, from the
    committed record (`vaelab publish`) and the executed book's (`vaelab book`)."""
    found = {"entries": set(), "memos": set()}
    records = [root / runner.CACHE_USE, root / "_build" / "executed" / runner.CACHE_USE]
    chapters = [
        use
        for path in records
        if path.is_file()
        for use in json.loads(path.read_text()).get(profile, {}).values()
    ]
    if not chapters:
        raise FileNotFoundError(
            f"no record of what the book uses at {profile}: run `vaelab book --profile "
            f"{profile}` (or `vaelab publish` for paper) first"
        )
    for use in chapters:
        found["entries"] |= set(use["entries"])
        found["memos"] |= set(use["memos"])
    return {k: sorted(v) for k, v in found.items()}


def _models(root: Path, args) -> int:
    from vaelab import bundle, cache

    if args.action == "export":
        made = bundle.export(args.file, **uses(root, args.profile))
        print(
            f"vaelab: wrote {args.file}: {made['entries']} cache entries and {made['memos']} "
            f"memos of the book at {args.profile}, {made['bytes'] / 1e6:.1f} MB"
        )
        return 0
    got = bundle.load(args.file)
    print(
        f"vaelab: {args.file}: added {got['entries_added']} entries and {got['memos_added']} "
        f"memos ({got['already_there']} already in the cache) to {cache.cache_root()}"
    )
    return 0


def _scoreboard(root: Path, *, check: bool) -> int:
    wanted = {
        root / scoreboard.PAGE: scoreboard.page(root / "book"),
        root / scoreboard.RECORD: scoreboard.record_text(root / "book"),
    }
    if check:
        stale = [p for p, text in wanted.items() if not (p.exists() and p.read_text() == text)]
        for path in wanted:
            state = "out of date: vaelab scoreboard" if path in stale else "current"
            print(f"vaelab: {path} is {state}")
        return 1 if stale else 0
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"vaelab: wrote {path}")
    return 0
