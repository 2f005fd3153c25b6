"""What a terminal shows while a chapter runs: the models its kernel (and the kernel's worker
processes) are training, each with its share done and an ETA, read from the progress file that
`vaelab.train` writes when `PROGRESS_FILE_ENV` is set."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

# The kernel's own log is not the chapter's output: its "running over TCP without encryption"
# (a local kernel, as every Jupyter front end starts one) and its "KeyboardInterrupt caught" at
# shutdown read as failures in a terminal. A cell's error still stops the run (papermill).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


def progress_line(path: Path, chapter) -> str:
    """One status line from a progress file (`train.PROGRESS_FILE_ENV`): each model still in
    training, by its latest report, with its share done and an ETA; "" when none is."""
    latest = {}
    if Path(path).is_file():
        for text in Path(path).read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                r = json.loads(text)
                latest[(r["pid"], r["desc"])] = r
    parts = []
    for r in latest.values():
        if r.get("closed") or not r["total"]:
            continue
        share = r["done"] / r["total"]
        eta = f" (ETA {r['seconds'] * (1 - share) / share:.0f} s)" if r["done"] else ""
        parts.append(f"{r['desc']} {bar(share)} {100 * share:.0f}%{eta}")
    return f"{chapter}: training {', '.join(parts)}" if parts else ""


def bar(share: float, width: int = 10) -> str:
    """`[#####-----]` for a share done in [0, 1]."""
    filled = round(min(max(share, 0.0), 1.0) * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


@contextlib.contextmanager
def watch(path: Path, chapter, show: bool):
    """While the block runs, show on one stderr line, every 2 s (when `show`), the chapter, the
    time it has run, and `progress_line` (the models in training)."""
    import threading
    import time

    stop, start = threading.Event(), time.monotonic()

    def loop():
        while not stop.wait(2.0):
            line = progress_line(path, chapter) or f"{chapter}: running"
            line = f"{line} | {time.monotonic() - start:.0f} s"
            print(f"\r\033[K{line[:160]}", end="", file=sys.stderr, flush=True)

    thread = threading.Thread(target=loop, daemon=True)
    if show:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if show:
            thread.join()
            print("\r\033[K", end="", file=sys.stderr, flush=True)
