"""bundle: trained models (cache entries and memos) as one checked archive."""

import io
import json
import tarfile

import pytest

from vaelab import bundle, cache, data, models
from vaelab.cache import FitConfig
from vaelab.data import DataConfig
from vaelab.train import TrainConfig

TINY = FitConfig(
    data=DataConfig("tiles", tiles=data.TilesSpec(n=256)),
    model=models.ModelConfig(latent_dim=2, hidden=(16,)),
    train=TrainConfig(epochs=1, batch_size=128),
)


@pytest.fixture
def filled(tmp_path, monkeypatch):
    """A cache with one trained entry and one memo; returns (key, memo file name)."""
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "source"))
    cache.fit(TINY)
    cache.memo("test-result", {"a": 1}, lambda: {"value": 2.5})
    (memo,) = [p.name for p in (cache.cache_root() / "memo").iterdir()]
    return cache.config_key(TINY), memo


def _snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_round_trip_into_an_empty_cache_adds_the_entries_and_memos(filled, tmp_path, monkeypatch):
    key, memo = filled
    archive = tmp_path / "models.tar.gz"
    made = bundle.export(archive, entries=[key], memos=[memo])
    assert made == {"entries": 1, "memos": 1, "bytes": archive.stat().st_size}
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "empty"))
    report = bundle.load(archive)
    assert report == {"entries_added": 1, "memos_added": 1, "already_there": 0}
    model, history = cache.fit(TINY)
    assert history["run"]["from_cache"] is True
    assert cache.memo("test-result", {"a": 1}, lambda: {"value": -1}) == {"value": 2.5}
    assert bundle.load(archive) == {"entries_added": 0, "memos_added": 0, "already_there": 2}


def test_export_names_what_the_cache_lacks(filled, tmp_path):
    with pytest.raises(FileNotFoundError, match="not in the cache: entry 0123456789abcdef0123"):
        bundle.export(tmp_path / "x.tar.gz", entries=["0123456789abcdef0123"], memos=[])


def _rewrite(archive, out, change):
    """Copy `archive` to `out`, `change(name, data) -> (name, data) | None` for each member."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            got = change(member.name, src.extractfile(member).read())
            if got is None:
                continue
            info = tarfile.TarInfo(got[0])
            info.size = len(got[1])
            dst.addfile(info, io.BytesIO(got[1]))


def _rejected(archive, tmp_path, monkeypatch, message):
    target = tmp_path / "target"
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(target))
    before = _snapshot(target)
    with pytest.raises(ValueError, match=message):
        bundle.load(archive)
    assert _snapshot(target) == before


def test_a_tampered_member_is_rejected_by_name_and_nothing_lands(filled, tmp_path, monkeypatch):
    key, memo = filled
    good, bad = tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"
    bundle.export(good, entries=[key], memos=[memo])
    weights = f"runs/{key}/weights.safetensors"
    _rewrite(good, bad, lambda n, d: (n, d[:-1] + b"\0") if n == weights else (n, d))
    _rejected(bad, tmp_path, monkeypatch, f"{weights}: its SHA-256 is not the manifest's")


def test_a_truncated_archive_is_rejected_and_nothing_lands(filled, tmp_path, monkeypatch):
    key, memo = filled
    good, cut = tmp_path / "good.tar.gz", tmp_path / "cut.tar.gz"
    bundle.export(good, entries=[key], memos=[memo])
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _rejected(cut, tmp_path, monkeypatch, "truncated or damaged")


@pytest.mark.parametrize(
    "name, message",
    [
        ("../evil.json", r"'\.\./evil\.json': a path outside the bundle"),
        ("/etc/evil.json", r"'/etc/evil\.json': a path outside the bundle"),
        ("runs/abc/model.pt", r"'runs/abc/model\.pt': not a member a bundle holds"),
    ],
)
def test_a_member_outside_the_bundle_or_unknown_is_rejected(
    filled, tmp_path, monkeypatch, name, message
):
    key, memo = filled
    good, bad = tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"
    bundle.export(good, entries=[key], memos=[memo])
    with tarfile.open(good) as t:
        members = [(m.name, t.extractfile(m).read()) for m in t.getmembers()]
    with tarfile.open(bad, "w:gz") as t:
        for n, d in [*members, (name, b"{}")]:
            info = tarfile.TarInfo(n)
            info.size = len(d)
            t.addfile(info, io.BytesIO(d))
    _rejected(bad, tmp_path, monkeypatch, message)


def test_a_member_the_manifest_does_not_list_is_rejected(filled, tmp_path, monkeypatch):
    key, memo = filled
    good, bad = tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"
    bundle.export(good, entries=[key], memos=[memo])

    def drop(n, d):
        if n == bundle.MANIFEST:
            files = json.loads(d)
            del files["files"][f"memo/{memo}"]
            return n, json.dumps(files).encode()
        return n, d

    _rewrite(good, bad, drop)
    _rejected(bad, tmp_path, monkeypatch, f"memo/{memo}: not listed in the manifest")
