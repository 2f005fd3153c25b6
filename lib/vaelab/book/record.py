"""How a chapter records its results: glue every number, and the ledger's verdicts on them.

A chapter collects the numbers its text cites in one dict and ends with `verdicts(...)`, which
adds each claim's word, reason and rule (`vaelab.claims.chapter_glue`), glues everything with
myst-nb (hidden where it is computed, shown where the text cites it) and prints the verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from vaelab import claims as ledger


def _glue(name: str, value, display: bool) -> None:
    from myst_nb import glue  # imported when a chapter glues, not when the package loads

    glue(name, value, display=display)


def values(glued: Mapping) -> None:
    """Glue each of `glued`'s values under its key, without displaying it."""
    for name, value in glued.items():
        _glue(name, value, display=False)


def verdicts(claims: Iterable[ledger.Claim], chapter: str, glued: Mapping, run: Mapping) -> dict:
    """Judge the claims of `chapter` on its `glued` numbers at the sizes `run`; glue the numbers
    and every claim's `<key>`, `<key>_reason` and `<key>_rule`, print the verdicts, and return
    everything glued."""
    out = dict(glued) | ledger.chapter_glue(claims, chapter, glued, run)
    values(out)
    ledger.print_verdicts(out)
    return out
