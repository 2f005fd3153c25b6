"""Checkpoints of a training run, so that a run killed at any point resumes where it was.

A checkpoint is a folder: `tensors-<epoch>.safetensors` (the model's parameters and buffers,
Adam's state, and the RNG states: torch's global generator and the batch-order generator) and
`state.json` (which run it belongs to, the epoch and step reached, the history so far, and the
tensors file it goes with). Each file is written to a temporary name and renamed; `state.json`
is renamed last, so a kill at any moment leaves the previous complete checkpoint or the new one.
Nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

STATE = "state.json"


def describe(objective) -> str:
    """An objective as the fingerprint sees it: a dataclass by its fields (its repr), a function
    by its module and name (its repr would carry a memory address, new in every process)."""
    name = getattr(objective, "__qualname__", None)
    return f"{objective.__module__}.{name}" if name else repr(objective)


def fingerprint(config, *, seed: int, images: int, objective, model, extra=()) -> str:
    """What must match for a checkpoint to continue a run: the training config, seed, number of
    images, objective, the model's parameter shapes and `extra` (e.g. the optimiser's kind)."""
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    blob = json.dumps(
        [dataclasses.asdict(config), seed, images, describe(objective), shapes, list(extra)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def atomic_write(path: Path, write) -> None:
    """`write(tmp)` to a temporary file beside `path`, then rename it onto `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(folder: Path, *, run: str, epoch: int, step: int, history: dict, model, opt, gen) -> None:
    """Write the checkpoint of `run` after `epoch` (`step` optimiser steps) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for i, state in opt.state_dict()["state"].items():
        for name, value in state.items():
            tensors[f"opt.{i}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.batches"] = gen.get_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    name = f"tensors-{epoch}.safetensors"
    atomic_write(folder / name, lambda tmp: save_file(tensors, tmp))
    state = {"run": run, "epoch": epoch, "step": step, "tensors": name, "history": history}
    text = json.dumps(state, default=list)
    atomic_write(folder / STATE, lambda tmp: Path(tmp).write_text(text))
    for old in folder.glob("tensors-*.safetensors"):
        if old.name != name:
            old.unlink()


def load(folder: Path, *, run: str, model, opt, gen) -> dict | None:
    """Restore `model`, `opt` and the RNG states from the checkpoint in `folder`, and return its
    `{"epoch", "step", "history"}`; None when there is none. A checkpoint of another run is an
    error (its folder is named after a run that should be this one)."""
    if not (folder / STATE).is_file():
        return None
    state = json.loads((folder / STATE).read_text())
    if state["run"] != run:
        raise ValueError(
            f"checkpoint {folder} is of another run ({state['run']}, not {run}): remove it"
        )
    tensors = load_file(folder / state["tensors"])
    device = next(iter(model.state_dict().values())).device
    model.load_state_dict(
        {k[len("model.") :]: v.to(device) for k, v in tensors.items() if k.startswith("model.")}
    )
    saved = opt.state_dict()
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, i, name = key.split(".", 2)
            saved["state"].setdefault(int(i), {})[name] = value.to(device)
    opt.load_state_dict(saved)
    torch.set_rng_state(tensors["rng.torch"])
    gen.set_state(tensors["rng.batches"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    return {"epoch": state["epoch"], "step": state["step"], "history": state["history"]}


def remove(folder: Path) -> None:
    """Delete a finished run's checkpoint."""
    shutil.rmtree(folder, ignore_errors=True)
