"""Shared fixtures: a private training cache per test, no progress bars, small thread count."""

import pytest
import torch


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
