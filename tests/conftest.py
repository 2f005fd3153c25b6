"""Shared fixtures: no test touches user state, no progress bars, a small thread count.

At import (before any test module, and so before any module- or session-scoped fixture) every
place a test could write under `$HOME` is pointed into one temporary folder: the training cache,
the XDG cache/config/data folders, matplotlib's, IPython's, Jupyter's and npm's folders (and Ray's
token, by running the tests' local Ray instance without one). Data sets and
MathJax already in the user's cache are still read from there (through `VAELAB_DATA_DIR` and
`VAELAB_MATHJAX_DIR`), never written. `make test-unit` runs the suite with `HOME` pointed at an
empty folder and fails if anything appears in it.
"""

import os
import tempfile
from pathlib import Path

import pytest
import torch

from vaelab.book import sphinxext

_USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vaelab"
_SESSION = Path(tempfile.mkdtemp(prefix="vaelab-tests-"))
if (_USER_CACHE / "data").is_dir():
    os.environ.setdefault("VAELAB_DATA_DIR", str(_USER_CACHE / "data"))
if (sphinxext.vendor_dir() / "es5" / sphinxext.ENTRY).is_file():
    os.environ.setdefault("VAELAB_MATHJAX_DIR", str(sphinxext.vendor_dir() / "es5"))
for _var, _sub in {
    "VAELAB_CACHE_DIR": "runs",
    "XDG_CACHE_HOME": "xdg-cache",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_DATA_HOME": "xdg-data",
    "MPLCONFIGDIR": "matplotlib",
    "IPYTHONDIR": "ipython",
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "npm_config_cache": "npm",  # npm's cache and logs (a book build may fetch MathJax)
}.items():
    os.environ[_var] = str(_SESSION / _sub)
# A local Ray instance would otherwise write a token to ~/.ray/auth_token; the tests' instance
# listens on this machine only.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("VAELAB_PROGRESS", "0")
    torch.set_num_threads(2)


@pytest.fixture
def offline_data(tmp_path, monkeypatch):
    """No data anywhere and no network: only what a test writes under the returned folder."""
    from vaelab import data

    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("VAELAB_DATA_DIR", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("VAELAB_OFFLINE", "1")
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"fashion-mnist": (), "mnist": ()})
    return root
