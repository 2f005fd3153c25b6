"""In which order `vaelab book --jobs N` starts the chapters, and which chapter waits for which.

Chapters share trained models (Part I's four models, Part III's grid of runs). The training
cache's file lock makes a chapter that needs a model another chapter is training wait for it, and
the core it was given sits idle meanwhile. From the record of the published run
(`book/appendix/cache_use.json`: the cache entries each chapter used; `run_times.json`: what each
cost), `plan` makes a chapter that mostly reuses an earlier chapter's models start after it, and
starts the dearest ready chapter first, so that a long chapter does not end the run alone. A
chapter the record does not know costs 0 and waits for nobody.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

RECORD = Path("book/appendix")  # cache_use.json and run_times.json, written by `vaelab publish`


def plan(order: Sequence[str], entries: Mapping, costs: Mapping) -> tuple[list, dict]:
    """`(priority, after)` for the chapters `order` (reading order): `priority` is `order` sorted
    by `costs`, dearest first (reading order among equals; 0 for a chapter without a cost);
    `after[c]` lists each earlier chapter that used more than half of `c`'s `entries` (a
    chapter that shares a model or two, such as a classifier, does not wait)."""
    after = {}
    for i, chapter in enumerate(order):
        mine = set(entries.get(chapter, ()))
        shared = {b: len(mine & set(entries.get(b, ()))) for b in order[:i]}
        after[chapter] = [b for b, n in shared.items() if 2 * n > len(mine)]
    rank = {chapter: i for i, chapter in enumerate(order)}
    priority = sorted(order, key=lambda c: (-costs.get(c, 0.0), rank[c]))
    return priority, after


def published(root: Path, profile: str = "paper") -> tuple[dict, dict]:
    """`(entries, costs)` by chapter (its path as a string) from the record of the run at
    `profile`: the cache entries it used, and its run time plus the training time of its models
    (what it costs with an empty cache). Empty when there is no record."""
    record = {}
    for name in ("cache_use.json", "run_times.json"):
        path = root / RECORD / name
        record[name] = json.loads(path.read_text()).get(profile, {}) if path.is_file() else {}
    entries = {c: use["entries"] for c, use in record["cache_use.json"].items()}
    costs = {
        c: t["seconds"] + t["train_seconds_of_models"] for c, t in record["run_times.json"].items()
    }
    return entries, costs


def run(
    priority: Sequence[str], after: Mapping, *, jobs: int, submit: Callable
) -> dict[str, object]:
    """Start the chapters of `priority` through `submit(chapter) -> Future`, at most `jobs` at a
    time, each once the chapters `after[chapter]` are done, the first ready in `priority` first;
    `{chapter: its future's result}`. A chapter waited for that is not in `priority` is not
    waited for; chapters that wait for each other raise `ValueError`."""
    results, running, waiting = {}, {}, list(priority)
    known = set(priority)
    while waiting or running:
        for chapter in list(waiting):
            if len(running) >= jobs:
                break
            if all(b in results for b in after.get(chapter, ()) if b in known):
                waiting.remove(chapter)
                running[submit(chapter)] = chapter
        if not running:
            raise ValueError(f"these chapters wait for each other: {', '.join(waiting)}")
        done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in done:
            results[running.pop(future)] = future.result()
    return results
