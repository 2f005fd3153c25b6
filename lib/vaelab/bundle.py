"""Trained models as one archive: cache entries and evaluation memos, with SHA-256 checksums.

`export(path, entries=..., memos=...)` writes a gzipped tar of the named training-cache entries
(`runs/<key>/meta.json`, `runs/<key>/weights.safetensors`) and memos (`memo/<name>.json`),
with `manifest.json` listing every member's SHA-256. `load(path)` checks the whole archive
before anything lands in the cache: only those member names (no absolute or `..` path, no
links, nothing else), every member listed in the manifest and matching its checksum, each
entry's key and weights checksum its own; a truncated archive fails. Nothing is unpickled:
weights are safetensors, the rest JSON. Entries already in the cache are left as they are.

`export_entry` and `import_entry` carry one entry between two caches (a Ray worker's and the
driver's), with the same checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

from filelock import FileLock

from vaelab import cache
from vaelab.checkpoint import atomic_write

MANIFEST = "manifest.json"
FORMAT = "vaelab-models/1"
_ENTRY = re.compile(r"runs/([0-9a-f]{20})/(meta\.json|weights\.safetensors)")
_MEMO = re.compile(r"memo/([A-Za-z0-9][A-Za-z0-9._-]*\.json)")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _members(entries, memos) -> dict[str, Path]:
    root, missing, out = cache.cache_root(), [], {}
    for key in entries:
        for name in ("meta.json", "weights.safetensors"):
            path = root / key / name
            if not path.is_file():
                missing.append(f"entry {key}")
                break
            out[f"runs/{key}/{name}"] = path
    for name in memos:
        path = root / "memo" / name
        if not path.is_file():
            missing.append(f"memo {name}")
        out[f"memo/{name}"] = path
    if missing:
        raise FileNotFoundError(f"not in the cache: {', '.join(missing)} (under {root})")
    return out


def export(path: Path, *, entries, memos) -> dict:
    """Write the archive of `entries` (cache keys) and `memos` (memo file names) to `path`,
    atomically; returns what it holds and its size."""
    entries, memos = sorted(set(entries)), sorted(set(memos))
    files = _members(entries, memos)
    blobs = {name: p.read_bytes() for name, p in files.items()}
    manifest = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": {name: _sha256(b) for name, b in blobs.items()},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            members = {MANIFEST: json.dumps(manifest, indent=1, sort_keys=True).encode(), **blobs}
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(data))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep the archive from the user's group
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return {"entries": len(entries), "memos": len(memos), "bytes": path.stat().st_size}


def _check_name(member: tarfile.TarInfo) -> None:
    name = member.name
    if name.startswith("/") or ".." in Path(name).parts or re.match(r"^[A-Za-z]:", name):
        raise ValueError(f"{name!r}: a path outside the bundle; nothing was imported")
    if not member.isfile():
        raise ValueError(f"{name!r}: not a plain file; nothing was imported")
    if name != MANIFEST and not _ENTRY.fullmatch(name) and not _MEMO.fullmatch(name):
        raise ValueError(f"{name!r}: not a member a bundle holds; nothing was imported")


def _read(path: Path) -> dict[str, bytes]:
    """Every member of the archive, checked by name, read in full."""
    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                _check_name(member)
                if member.name in blobs:
                    raise ValueError(f"{member.name}: twice in the archive; nothing was imported")
                blobs[member.name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ValueError(
            f"{path}: the archive is truncated or damaged ({e}); nothing was imported"
        ) from None
    return blobs


def _verify(blobs: dict[str, bytes]) -> None:
    if MANIFEST not in blobs:
        raise ValueError(f"no {MANIFEST} in the archive; nothing was imported")
    manifest = json.loads(blobs[MANIFEST])
    if manifest.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} archive: {manifest.get('format')!r}")
    listed = manifest["files"]
    for name, data in blobs.items():
        if name == MANIFEST:
            continue
        if name not in listed:
            raise ValueError(f"{name}: not listed in the manifest; nothing was imported")
        if _sha256(data) != listed[name]:
            raise ValueError(f"{name}: its SHA-256 is not the manifest's; nothing was imported")
    absent = sorted(set(listed) - set(blobs))
    if absent:
        raise ValueError(f"{absent[0]}: in the manifest, not in the archive; nothing was imported")
    for name, data in blobs.items():
        found = _ENTRY.fullmatch(name)
        if found and found.group(2) == "meta.json":
            key = found.group(1)
            meta = json.loads(data)
            weights = blobs.get(f"runs/{key}/weights.safetensors")
            if meta.get("key") != key or weights is None:
                raise ValueError(f"{name}: not the entry {key}; nothing was imported")
            if _sha256(weights) != meta.get("weights_sha256"):
                raise ValueError(f"{name}: the weights do not match it; nothing was imported")


def load(path: Path) -> dict:
    """Check the archive at `path` in full, then add what the cache lacks; returns counts."""
    blobs = _read(Path(path))
    _verify(blobs)
    added = {"entries_added": 0, "memos_added": 0, "already_there": 0}
    for name, data in blobs.items():
        found = _ENTRY.fullmatch(name)
        if found and found.group(2) == "meta.json":
            key = found.group(1)
            if (cache.cache_root() / key / "meta.json").is_file():
                added["already_there"] += 1
                continue
            weights = blobs[f"runs/{key}/weights.safetensors"]
            import_entry(key, {"meta": data.decode(), "weights": weights})
            added["entries_added"] += 1
        elif _MEMO.fullmatch(name):
            target = cache.cache_root() / name
            if target.is_file():
                added["already_there"] += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, lambda tmp, data=data: Path(tmp).write_bytes(data))
            added["memos_added"] += 1
    return added


def export_entry(key: str) -> dict:
    """An entry's files as `{"meta": text, "weights": bytes}`, to carry it to another machine's
    cache (a Ray worker returns this to the driver)."""
    entry = cache.cache_root() / key
    if not (entry / "meta.json").exists():
        raise FileNotFoundError(f"no cache entry {key} under {cache.cache_root()}")
    return {
        "meta": (entry / "meta.json").read_text(),
        "weights": (entry / "weights.safetensors").read_bytes(),
    }


def import_entry(key: str, blob: dict) -> None:
    """Write an `export_entry` blob into this cache after checking its key and weights checksum;
    nothing to do when a valid entry is already there."""
    meta = json.loads(blob["meta"])
    if meta.get("key") != key:
        raise ValueError(f"the entry is for key {meta.get('key')!r}, not {key!r}")
    if hashlib.sha256(blob["weights"]).hexdigest() != meta.get("weights_sha256"):
        raise ValueError(f"entry {key}: the weights do not match their checksum")
    entry = cache.cache_root() / key
    entry.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(entry) + ".lock"):
        if (entry / "meta.json").exists():
            return
        if entry.exists():
            shutil.rmtree(entry)  # a partial entry
        entry.mkdir()
        weights = blob["weights"]
        atomic_write(entry / "weights.safetensors", lambda t: Path(t).write_bytes(weights))
        atomic_write(entry / "meta.json", lambda t: Path(t).write_text(blob["meta"]))
