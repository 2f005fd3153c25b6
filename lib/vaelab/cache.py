"""Train-or-load: `fit(config)` trains only when no valid cache entry exists.

An entry is a folder `<root>/<key>/` with `weights.safetensors` and `meta.json` (config, history,
timings, torch version, the weights' SHA-256). The key hashes the full config (data, model,
training, seed), the concrete data set behind it and `CODE_VERSION`. Files are written to a
temporary name and moved into place with `os.replace`, `meta.json` last, so an entry without a
valid `meta.json` is partial. A file lock makes a second process wait for the first one's
training instead of training the same entry again. Nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from filelock import FileLock
from safetensors.torch import load_file, save_file

from . import data, models
from .train import TrainConfig, probe_hooks, train

# Bump when a change to the code alters what a config trains into; old entries then miss.
CODE_VERSION = "1"
# When set, every entry a process uses is appended to this JSON-lines file (see `usage`).
LOG_ENV = "VAELAB_CACHE_LOG"


@dataclass(frozen=True)
class DataConfig:
    """Which images to train on; part of the cache key."""

    name: str = "fashion-mnist"  # a name of vaelab.data.NAMES
    split: str = "train"  # "train" or "test"
    limit: int | None = None  # keep only the first `limit` images (None: all)
    tiles: data.TilesSpec | None = None  # options of the "tiles" data set


@dataclass(frozen=True)
class FitConfig:
    """Everything that determines a trained model."""

    data: DataConfig = field(default_factory=DataConfig)
    model: models.ModelConfig = field(default_factory=models.ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # seeds the weights, the batch order and the latent noise


def cache_root() -> Path:
    """`$VAELAB_CACHE_DIR`, else `~/.cache/vaelab/runs`."""
    if os.environ.get("VAELAB_CACHE_DIR"):
        return Path(os.environ["VAELAB_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vaelab" / "runs"


def config_key(config) -> str:
    """The entry's name: a hash of a config (any dataclass with a `data` or `name` naming a data
    set), the concrete data set behind that name and the code version."""
    name = config.data.name if hasattr(config, "data") else config.name
    payload = {
        "kind": type(config).__name__,
        "config": dataclasses.asdict(config),
        "data": data.resolve(name),
        "code_version": CODE_VERSION,
    }
    if payload["kind"] == "FitConfig":
        del payload["kind"]  # keys of VAE entries predate other kinds of entry
        for name, default in (("precision", "fp32"), ("heldout", 0)):  # added later: entries
            if getattr(config.train, name) == default:  # cached before them keep their key
                del payload["config"]["train"][name]
    blob = json.dumps(payload, sort_keys=True, default=list).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def load_data(config: DataConfig):
    """The training tensor `(x, y)` a `DataConfig` describes."""
    x, y = data.load(config.name, config.split, tiles=config.tiles)
    if config.limit is not None:
        if config.limit <= 0:
            raise ValueError(f"data.limit must be positive or None, got {config.limit}")
        x, y = x[: config.limit], y[: config.limit]
    return x, y


def mlp_fit_config(latent_dim: int, *, posterior: str, epochs: int, batch_size: int, lr: float,
                   train_limit: int = 0, seed: int = 0, name: str = "fashion-mnist",
                   hidden: tuple[int, ...] = (256, 256), precision: str = "fp32",
                   heldout: int = 0) -> FitConfig:  # fmt: skip
    """The dense Bernoulli VAE of Azmoodeh et al. (two layers of 256) as a `FitConfig`.

    One constructor for every chapter that trains it, so that equal sizes hit equal cache
    entries. `train_limit=0` trains on every image.
    """
    return FitConfig(
        data=DataConfig(name, "train", limit=train_limit or None),
        model=models.ModelConfig("mlp", latent_dim, hidden, posterior, "bernoulli"),
        train=TrainConfig(
            epochs=epochs, batch_size=batch_size, lr=lr, precision=precision, heldout=heldout
        ),  # fmt: skip
        seed=seed,
    )


def fit(config: FitConfig, *, device: torch.device | None = None):
    """`(model, history)` for `config`: loaded from the cache, or trained and cached.

    `history["run"]` tells where the result came from (`from_cache`, the entry's key, training
    seconds, torch version, device, the process that trained it).
    """
    dev = device or models.device()
    key = config_key(config)  # resolves the data set once (the MNIST probe is not free)

    def make(entry: Path):
        model, history = _train(config, key, dev)
        _write_entry(entry, key, config, model, history)
        return model, history

    return load_or_make(key, lambda entry: _load_entry(entry, key, config, dev), make)


def load_or_make(key: str, load, make):
    """`load(entry)` if it finds a valid entry, else `make(entry)` under a file lock.

    A second process asking for the same key waits for the first one's `make` and then loads.
    Both callables return `(module, history)`; `history["run"]["from_cache"]` says which ran.
    """
    entry = cache_root() / key
    found = load(entry)
    if found is None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(entry) + ".lock"):
            found = load(entry)  # another process may have made it
            if found is None:
                found = make(entry)
                found[1]["run"]["from_cache"] = False
    _log_use(key, found[1]["run"])
    return found


def memo(kind: str, params: dict, compute, *, refresh: bool = False) -> dict:
    """The JSON result of `compute()` for `(kind, params)`, computed once and kept in the cache.

    For evaluations of cached models: `params` must name everything the result depends on (the
    model's key, sizes, seeds). Stored as `<root>/memo/<kind>-<hash>.json`, written atomically.
    `refresh=True` computes again and replaces what was kept (a timing measured anew).
    """
    payload = json.dumps({"kind": kind, "params": params, "code_version": CODE_VERSION},
                         sort_keys=True, default=list)  # fmt: skip
    path = (
        cache_root() / "memo" / f"{kind}-{hashlib.sha256(payload.encode()).hexdigest()[:20]}.json"
    )
    if path.exists() and not refresh:
        return json.loads(path.read_text())["result"]
    result = compute()
    if not isinstance(result, dict):
        raise TypeError(f"memo: compute must return a dict, got {type(result).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"kind": kind, "params": params, "result": result}, sort_keys=True)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return json.loads(text)["result"]


def _log_use(key: str, run: dict) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        line = {"key": key, "from_cache": run["from_cache"], "train_seconds": run["train_seconds"]}
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


def usage(log: Path) -> dict:
    """Summary of a `LOG_ENV` file, counting each entry once: entries trained, entries only
    loaded, and the training seconds of all of them (what an empty cache would add)."""
    lines = (
        [json.loads(t) for t in Path(log).read_text().splitlines()] if Path(log).exists() else []
    )
    trained = {r["key"] for r in lines if not r["from_cache"]}
    seconds = {r["key"]: r["train_seconds"] for r in lines}
    return {
        "trained": len(trained),
        "loaded": len(seconds.keys() - trained),
        "train_seconds": sum(seconds.values()),
    }


def _train(config: FitConfig, key: str, dev: torch.device):
    x, _ = load_data(config.data)
    torch.manual_seed(config.seed)
    model = models.build(config.model)
    t0 = time.perf_counter()
    history = train(
        model,
        x,
        config.train,
        seed=config.seed,
        hooks=probe_hooks(config.train, x),
        hook_every=config.train.probe_every,
        device=dev,
        heldout=_heldout(config),
        desc=f"{config.model.kind} n={config.model.latent_dim} {config.data.name}",
    )
    history["run"] = run_info(key, config.data.name, time.perf_counter() - t0, dev)
    return model, history


def _heldout(config: FitConfig) -> torch.Tensor | None:
    """The first `config.train.heldout` test images of the training data's set, or None."""
    if not config.train.heldout:
        return None
    test = dataclasses.replace(config.data, split="test", limit=config.train.heldout)
    return load_data(test)[0]


def run_info(key: str, name: str, seconds: float, dev: torch.device) -> dict:
    """Where and how an entry was trained; stored as `history["run"]`."""
    return {
        "key": key,
        "data": data.resolve(name),
        "train_seconds": seconds,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(dev),
        "host": platform.node(),
        "pid": os.getpid(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _write_entry(entry: Path, key: str, config: FitConfig, model, history: dict) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_entry(entry, key, config, state, history)


def write_entry(entry: Path, key: str, config, state: dict, history: dict) -> None:
    """Store weights (`safetensors`) and `meta.json` (config, history, checksum) atomically."""
    if entry.exists():
        shutil.rmtree(entry)  # a corrupt or partial entry
    entry.mkdir(parents=True)
    weights = entry / "weights.safetensors"
    _atomic_write(weights, lambda tmp: save_file(state, tmp))
    meta = {
        "key": key,
        "code_version": CODE_VERSION,
        "config": dataclasses.asdict(config),
        "weights_sha256": _sha256(weights),
        "history": history,
    }
    text = json.dumps(meta, indent=1, default=list)
    _atomic_write(entry / "meta.json", lambda tmp: Path(tmp).write_text(text))


def read_entry(entry: Path, key: str, build):
    """`(module, history)` from an entry, `build()` giving the empty module; None when the entry
    is missing, and None with a warning when it is damaged (the caller then trains again)."""
    meta_path, weights = entry / "meta.json", entry / "weights.safetensors"
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta["key"] != key or meta["weights_sha256"] != _sha256(weights):
            raise ValueError("key or weights checksum does not match")
        module = build()
        module.load_state_dict(load_file(str(weights), device="cpu"), strict=True)
        history = meta["history"]
        history["run"]["from_cache"] = True
    except Exception as e:  # any damage means: train again
        warnings.warn(f"corrupt cache entry {entry} ({e!r}); retraining", stacklevel=3)
        return None
    return module, history


def _load_entry(entry: Path, key: str, config: FitConfig, dev: torch.device):
    found = read_entry(entry, key, lambda: models.build(config.model))
    if found is None:
        return None
    model, history = found
    return model.to(dev).eval(), history


def export_entry(key: str) -> dict:
    """An entry's files as `{"meta": text, "weights": bytes}`, to carry it to another machine's
    cache (a Ray worker returns this to the driver)."""
    entry = cache_root() / key
    if not (entry / "meta.json").exists():
        raise FileNotFoundError(f"no cache entry {key} under {cache_root()}")
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
    entry = cache_root() / key
    entry.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(entry) + ".lock"):
        if (entry / "meta.json").exists():
            return
        if entry.exists():
            shutil.rmtree(entry)  # a partial entry
        entry.mkdir()
        _atomic_write(entry / "weights.safetensors", lambda t: Path(t).write_bytes(blob["weights"]))
        _atomic_write(entry / "meta.json", lambda t: Path(t).write_text(blob["meta"]))


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
