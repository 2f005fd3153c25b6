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
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from filelock import FileLock
from safetensors.torch import load_file, save_file

from vaelab import data, elbo, models
from vaelab.checkpoint import atomic_write
from vaelab.data import DataConfig, load_data
from vaelab.train import ADDED_LATER, TrainConfig, heldout_loss, probe_hooks, train

# Bump when a change to the code alters what a config trains into; old entries then miss.
CODE_VERSION = "1"
# When set, every entry a process uses is appended to this JSON-lines file (see `usage`).
LOG_ENV = "VAELAB_CACHE_LOG"
# Epochs between two checkpoints of a training run (`<key>.partial`): a run killed and started
# again resumes from the last one, to the same weights (`vaelab.checkpoint`).
CHECKPOINT_EVERY = 5
KEYED_INTO = "cache: keyed into"  # field metadata: hash this field inside that sibling section


@dataclass(frozen=True)
class FitConfig:
    """Everything that determines a trained model."""

    # entries of VAEs predate every other kind of entry: their keys name no kind (`config_key`)
    cache_kind: ClassVar[str | None] = None

    data: DataConfig = field(default_factory=DataConfig)
    model: models.ModelConfig = field(default_factory=models.ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # seeds the weights, the batch order and the latent noise
    # what training minimises (β, sampling, the mu penalty); these settings were TrainConfig
    # fields when the published models were cached, so the key keeps them in its train section
    objective: elbo.Elbo = field(default_factory=elbo.Elbo, metadata={KEYED_INTO: "train"})


def cache_root() -> Path:
    """`$VAELAB_CACHE_DIR`, else `~/.cache/vaelab/runs`."""
    if os.environ.get("VAELAB_CACHE_DIR"):
        return Path(os.environ["VAELAB_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vaelab" / "runs"


def config_key(config) -> str:
    """The entry's name: a hash of a config (any dataclass with a `data` or `name` naming a data
    set), the concrete data set behind that name and the code version.

    The key follows three rules, so that a field added to a config, or moved from one part of it
    to another, never renames the entries cached before it:
    - a field declared with `added_later(default)` (metadata `ADDED_LATER`) is left out while it
      is at its default;
    - a field declared with `keyed_into(section, factory)` is hashed as if its fields were in
      the sibling field `section` (where they were before they moved);
    - the payload names the config's class, unless the class sets `cache_kind` (None: no kind).
    """
    name = config.data.name if hasattr(config, "data") else config.name
    payload = {"config": key_fields(config), "data": data.resolve(name)}
    kind = getattr(type(config), "cache_kind", type(config).__name__)
    if kind is not None:
        payload["kind"] = kind
    payload["code_version"] = CODE_VERSION
    blob = json.dumps(payload, sort_keys=True, default=list).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def added_later(default):
    """A config field added after entries were cached: left out of the key at its `default`,
    so those entries keep their keys (`config_key`)."""
    return field(default=default, metadata=ADDED_LATER)


def keyed_into(section: str, factory):
    """A config field (a dataclass, default `factory()`) whose fields moved out of the sibling
    field `section`: the key hashes them inside `section`, so entries keep their keys."""
    return field(default_factory=factory, metadata={KEYED_INTO: section})


def key_fields(config) -> dict:
    """`dataclasses.asdict(config)` as the key hashes it, at every level: without the fields that
    `added_later` marks and that are at their default, and with a `keyed_into` field's fields
    inside its section."""
    out, moved = {}, {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.metadata == ADDED_LATER and value == f.default:
            continue
        fields = key_fields(value) if dataclasses.is_dataclass(value) else value
        if KEYED_INTO in f.metadata:
            moved[f.name] = (f.metadata[KEYED_INTO], fields)
        else:
            out[f.name] = fields
    for name, (section, fields) in moved.items():
        both = sorted(fields.keys() & out[section].keys())
        if both:
            raise ValueError(f"{both[0]!r} is in both {section} and {name}: it cannot be keyed")
        out[section] = {**out[section], **fields}
    return out


def mlp_config(
    latent_dim: int,
    *,
    hidden: tuple[int, ...],
    posterior: str,
    epochs: int,
    batch_size: int,
    lr: float,
    train_limit: int = 0,
    seed: int = 0,
    name: str = "fashion-mnist",
    precision: str = "fp32",
    heldout: int = 0,
) -> FitConfig:
    """A dense Bernoulli VAE with hidden widths `hidden`, trained with Adam, as a `FitConfig`.

    The papers' modules pass their own widths; `train_limit=0` trains on every image.
    """
    return FitConfig(
        data=DataConfig(name, "train", limit=train_limit or None),
        model=models.ModelConfig("mlp", latent_dim, tuple(hidden), posterior, "bernoulli"),
        train=TrainConfig(
            epochs=epochs, batch_size=batch_size, lr=lr, precision=precision, heldout=heldout
        ),
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

    The one way vaelab computes a result once: `params` must name everything the result depends
    on (the model's entry key or weight fingerprint (`evals.fingerprint`), the images' fingerprint,
    sizes, seeds). Stored as `<root>/memo/<kind>-<hash>.json`, written atomically; a truncated or
    damaged file is computed again.
    `refresh=True` computes again and replaces what was kept (a timing measured anew).
    """
    payload = json.dumps(
        {"kind": kind, "params": params, "code_version": CODE_VERSION}, sort_keys=True, default=list
    )
    path = (
        cache_root() / "memo" / f"{kind}-{hashlib.sha256(payload.encode()).hexdigest()[:20]}.json"
    )
    _log_memo(path.name)
    if path.exists() and not refresh:
        kept = _read_memo(path)
        if kept is not None:
            return kept
    result = compute()
    if not isinstance(result, dict):
        raise TypeError(f"memo: compute must return a dict, got {type(result).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"kind": kind, "params": params, "result": result}, sort_keys=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return json.loads(text)["result"]


def _read_memo(path: Path) -> dict | None:
    """A memo file's result; None, with a warning, when the file is truncated or damaged (the
    caller then computes it again and replaces the file)."""
    try:
        return json.loads(path.read_text())["result"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as e:
        warnings.warn(f"damaged memo {path} ({e!r}); computing it again", stacklevel=3)
        return None


def _log_use(key: str, run: dict) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        line = {"key": key, "from_cache": run["from_cache"], "train_seconds": run["train_seconds"]}
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


def _log_memo(name: str) -> None:
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"memo": name}) + "\n")


def used(log: Path) -> dict:
    """`{"entries": keys, "memos": memo file names}` that a `LOG_ENV` file lists, each once."""
    lines = (
        [json.loads(t) for t in Path(log).read_text().splitlines()] if Path(log).exists() else []
    )
    return {
        "entries": sorted({r["key"] for r in lines if "key" in r}),
        "memos": sorted({r["memo"] for r in lines if "memo" in r}),
    }


def usage(log: Path) -> dict:
    """Summary of a `LOG_ENV` file, counting each entry once: entries trained, entries only
    loaded, and the training seconds of all of them (what an empty cache would add)."""
    lines = (
        [json.loads(t) for t in Path(log).read_text().splitlines()] if Path(log).exists() else []
    )
    lines = [r for r in lines if "key" in r]  # entries, not memos
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
    heldout = _heldout(config)
    after_epoch = (
        {"heldout_loss": lambda m: heldout_loss(m, heldout)} if heldout is not None else {}
    )
    t0 = time.perf_counter()
    history = train(
        model,
        x,
        config.train,
        objective=config.objective,
        seed=config.seed,
        hooks=probe_hooks(config.train, x),
        hook_every=config.train.probe_every,
        after_epoch=after_epoch,
        device=dev,
        desc=f"{config.model.kind} n={config.model.latent_dim} {config.data.name}",
        checkpoint=cache_root() / f"{key}.partial",
        checkpoint_every=CHECKPOINT_EVERY,
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
    atomic_write(weights, lambda tmp: save_file(state, tmp))
    meta = {
        "key": key,
        "code_version": CODE_VERSION,
        "config": dataclasses.asdict(config),
        "weights_sha256": _sha256(weights),
        "history": history,
    }
    text = json.dumps(meta, indent=1, default=list)
    atomic_write(entry / "meta.json", lambda tmp: Path(tmp).write_text(text))


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
