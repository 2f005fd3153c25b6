"""schedule: the order in which `vaelab book --jobs N` starts chapters, and who waits for whom."""

import concurrent.futures
import json
import threading
import time

import pytest

from vaelab.book import schedule

ORDER = ["p1/01", "p1/02", "p1/03", "p3/01", "p3/02"]
ENTRIES = {
    "p1/01": ["a", "b", "c", "d"],
    "p1/02": ["a", "b", "c", "d"],  # all reused from p1/01: waits for it
    "p1/03": ["a", "e", "f", "g", "h"],  # 1 of 5 reused: starts when a slot is free
    "p3/01": ["g1", "g2", "g3"],
    "p3/02": ["g1", "g2", "g3", "x", "a"],  # 3 of 5 from p3/01 (waits), 1 from p1/01 (not)
}
COSTS = {"p1/01": 100.0, "p1/02": 90.0, "p1/03": 300.0, "p3/01": 600.0, "p3/02": 500.0}


def test_plan_starts_the_dearest_first_and_makes_a_mostly_reusing_chapter_wait():
    priority, after = schedule.plan(ORDER, ENTRIES, COSTS)
    assert priority == ["p3/01", "p3/02", "p1/03", "p1/01", "p1/02"]
    assert after == {"p1/01": [], "p1/02": ["p1/01"], "p1/03": [], "p3/01": [], "p3/02": ["p3/01"]}


def test_plan_without_a_record_keeps_the_reading_order_and_waits_for_nobody():
    priority, after = schedule.plan(ORDER, {}, {})
    assert priority == ORDER and all(not a for a in after.values())
    half = {"x": ["a", "b"], "y": ["a", "c"]}  # half reused is not more than half
    assert schedule.plan(["x", "y"], half, {})[1] == {"x": [], "y": []}
    split = {"x": ["a", "b"], "y": ["c", "d"], "z": ["a", "c", "e"]}  # 2 of 3 reused, 1 from each
    assert schedule.plan(["x", "y", "z"], split, {})[1]["z"] == []


def test_published_reads_entries_and_empty_cache_costs_from_the_record(tmp_path):
    folder = tmp_path / schedule.RECORD
    folder.mkdir(parents=True)
    use = {"paper": {"c1": {"entries": ["k1"], "memos": []}}, "quick": {}}
    times = {"paper": {"c1": {"seconds": 2.5, "train_seconds_of_models": 40.0}}}
    (folder / "cache_use.json").write_text(json.dumps(use))
    (folder / "run_times.json").write_text(json.dumps(times))
    assert schedule.published(tmp_path) == ({"c1": ["k1"]}, {"c1": 42.5})
    assert schedule.published(tmp_path, "quick") == ({}, {})
    assert schedule.published(tmp_path / "nothing") == ({}, {})


def test_run_holds_a_chapter_until_those_it_waits_for_are_done_and_fills_every_slot():
    priority, after = schedule.plan(ORDER, ENTRIES, COSTS)
    log, lock = [], threading.Lock()

    def work(chapter):
        with lock:
            log.append(("start", chapter))
        time.sleep(0.05)
        with lock:
            log.append(("end", chapter))
        return chapter.upper()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = schedule.run(priority, after, jobs=2, submit=lambda c: pool.submit(work, c))
    assert results == {c: c.upper() for c in ORDER}
    assert set(log[:2]) == {("start", "p3/01"), ("start", "p1/03")}  # p3/02 is not ready yet
    for chapter, first in (("p3/02", "p3/01"), ("p1/02", "p1/01")):
        assert log.index(("end", first)) < log.index(("start", chapter))
    running = peak = 0
    for event, _ in log:
        running += 1 if event == "start" else -1
        peak = max(peak, running)
    assert peak == 2


def test_run_does_not_wait_for_a_chapter_it_was_not_given():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        out = schedule.run(["b"], {"b": ["a"]}, jobs=1, submit=lambda c: pool.submit(str, c))
    assert out == {"b": "b"}


def test_run_refuses_chapters_that_wait_for_each_other():
    cycle = {"a": ["b"], "b": ["a"]}
    with pytest.raises(ValueError, match="wait for each other: a, b"):
        schedule.run(["a", "b"], cycle, jobs=1, submit=lambda c: None)  # nothing is started
