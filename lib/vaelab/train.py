"""The training loop. It knows the model interface (`encode`, `decode`) and nothing else.

The data set is held as one tensor on the device; each epoch draws a permutation and slices
batches from it (no DataLoader: building samples one by one is the slow part of a small model).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import checkpoint as ckpt
from . import elbo
from .models import device as default_device

PRECISIONS = ("fp32", "bf16")
# Field metadata of a config field added after entries were cached (see `cache.config_key`).
ADDED_LATER = elbo.ADDED_LATER  # see `cache.config_key`


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train; part of the cache key."""

    epochs: int = 20  # passes over the training set
    batch_size: int = 256  # examples per Adam step
    lr: float = 1e-3  # Adam learning rate
    probe_every: int = 0  # record probes every this many steps (0: never)
    probe_indices: tuple[int, ...] = ()  # training images whose per-unit stats are probed
    track_indices: tuple[int, ...] = ()  # training images whose (mu, logvar) are recorded
    # added after entries were cached: at their defaults they stay out of the key (cache.config_key)
    precision: str = field(default="fp32", metadata=ADDED_LATER)  # "fp32", or "bf16" (autocast)
    heldout: int = field(default=0, metadata=ADDED_LATER)  # test images scored after each epoch

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if not isinstance(self.heldout, int) or self.heldout < 0:
            raise ValueError(f"heldout must be >= 0 (test images), got {self.heldout!r}")
        if self.probe_every < 0:
            raise ValueError(f"probe_every must be >= 0, got {self.probe_every}")


def progress_enabled() -> bool:
    """Progress bars are on unless `VAELAB_PROGRESS=0`."""
    return os.environ.get("VAELAB_PROGRESS", "1") != "0"


def train(
    model: torch.nn.Module,
    x: torch.Tensor,
    config: TrainConfig,
    *,
    objective: Callable,
    y: torch.Tensor | None = None,
    seed: int = 0,
    hooks: Mapping[str, Callable[[torch.nn.Module], object]] | None = None,
    hook_every: int = 0,
    after_epoch: Mapping[str, Callable[[torch.nn.Module], float]] | None = None,
    device: torch.device | None = None,
    desc: str = "train",
    fused_adam: bool = True,
    checkpoint: Path | None = None,
    checkpoint_every: int = 0,
) -> dict:
    """Train `model` on `x` (N, ...) (and labels `y`) with Adam; return the per-epoch history.

    `objective(model, batch)` returns a `Step`: the loss to minimise and the per-batch terms to
    record; `batch` is the slice of `x`, or `(x, y)` slices when `y` is given. Each recorded term
    becomes a history list of its epoch mean (`elbo.Elbo`: loss, rate, distortion, kl_per_unit).
    `hooks[name](model)` runs every `hook_every` steps (and before the first step); its values go
    to `history["hooks"][name]` as `{"step": s, "value": v}`. `after_epoch[name](model)` is
    appended to `history[name]` after each epoch. `fused_adam=False`: torch's default Adam (the
    classifier's entries were trained with it). The same seed on the same machine, torch build
    and thread count gives identical weights and history.

    `checkpoint`: a folder where the run's state is saved every `checkpoint_every` epochs
    (`vaelab.checkpoint`); a run that finds one there resumes after its epoch, and ends with the
    weights an uninterrupted run would have (`history["resumed_from_epoch"]` says so). The
    folder is removed when the run completes.
    """
    dev = device or default_device()
    torch.manual_seed(seed)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    model.to(dev).train()
    x = x.to(dev)
    y = None if y is None else y.to(dev)
    hooks, after_epoch = dict(hooks or {}), dict(after_epoch or {})
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=fused_adam or None)
    steps_per_epoch = math.ceil(len(x) / config.batch_size)
    history = {"epoch": [], "epoch_seconds": [], "hooks": {name: [] for name in hooks}}
    history |= {name: [] for name in after_epoch}
    step, first = 0, 1
    run = ""
    if checkpoint is not None:
        extra = ("adam", fused_adam, sorted(hooks), hook_every, sorted(after_epoch))
        run = ckpt.fingerprint(
            config, seed=seed, images=len(x), objective=objective, model=model, extra=extra
        )
        found = ckpt.load(Path(checkpoint), run=run, model=model, opt=opt, gen=gen)
        if found is not None:
            step, first = found["step"], found["epoch"] + 1
            history = found["history"] | {"resumed_from_epoch": found["epoch"]}
    if first == 1:
        _run_hooks(hooks, model, 0, history)
    bar = progress_bar(config.epochs * steps_per_epoch, desc)
    bar.update(step)
    for epoch in range(first, config.epochs + 1):
        t0 = time.perf_counter()
        sums = _EpochSums()
        perm = torch.randperm(len(x), generator=gen).to(dev)
        for start in range(0, len(x), config.batch_size):
            idx = perm[start : start + config.batch_size]
            batch = x[idx] if y is None else (x[idx], y[idx])
            out = _step(model, opt, batch, objective, config.precision)
            step += 1
            _check_finite(out.minimise.item(), epoch, step, config)
            sums.add(out.terms, out.size)
            if hook_every and step % hook_every == 0:
                _run_hooks(hooks, model, step, history)
            bar.update(1)
        _history_append(history, epoch, sums.means(), time.perf_counter() - t0)
        for name, fn in after_epoch.items():
            history[name].append(fn(model))
        bar.set_postfix(epoch=epoch, loss=f"{history['loss'][-1]:.2f}")
        due = checkpoint is not None and checkpoint_every and epoch % checkpoint_every == 0
        if due and epoch < config.epochs:
            state = dict(run=run, epoch=epoch, step=step, history=history)
            ckpt.save(Path(checkpoint), **state, model=model, opt=opt, gen=gen)
    bar.close()
    if checkpoint is not None:
        ckpt.remove(Path(checkpoint))
    model.eval()
    return history


def _check_finite(loss: float, epoch: int, step: int, config: TrainConfig) -> None:
    if not math.isfinite(loss):
        raise TrainingDiverged(
            f"non-finite loss ({loss}) at epoch {epoch}, step {step} "
            f"(lr={config.lr}, batch_size={config.batch_size}); nothing was cached"
        )


def heldout_loss(model, x: torch.Tensor) -> float:
    """-ELBO (nats per image) of `x`, one posterior draw each from seed 0; the caller's RNG
    state is left as it was, so measuring does not change the training that follows."""
    return -elbo.evaluate(model, x, seed=0)["elbo"]


def _step(model, opt, batch, objective, precision: str):
    bf16 = precision == "bf16"
    dev = (batch[0] if isinstance(batch, tuple) else batch).device
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        out = objective(model, batch)
    opt.zero_grad(set_to_none=True)
    out.minimise.backward()
    opt.step()
    return out


class _EpochSums:
    """Running sums of the epoch's recorded terms, kept on the device (one sync per epoch).

    A scalar term is a batch mean (weighted by the batch size); a term with a batch dimension
    is summed over it. `means()` divides by the images seen."""

    def __init__(self):
        self.n, self.sums = 0, {}

    @torch.no_grad()
    def add(self, terms: Mapping[str, torch.Tensor], b: int) -> None:
        self.n += b
        for name, t in terms.items():
            t = t.detach()
            value = t * b if t.dim() == 0 else t.sum() if t.dim() == 1 else t.sum(0)
            if name not in self.sums:
                self.sums[name] = torch.zeros(value.shape, device=value.device)  # fp32
            self.sums[name] += value

    def means(self) -> dict:
        return {
            name: (s / self.n).tolist() if s.dim() else s.item() / self.n
            for name, s in self.sums.items()
        }


def _history_append(history: dict, epoch: int, means: dict, seconds: float) -> None:
    """Add one epoch's means to `history`."""
    history["epoch"].append(epoch)
    for key, value in means.items():
        history.setdefault(key, []).append(value)
    history["epoch_seconds"].append(seconds)


def _run_hooks(hooks, model, step: int, history: dict) -> None:
    if not hooks:
        return
    model.eval()  # probes see the model as it would be used (BatchNorm on running stats)
    with torch.no_grad():
        for name, fn in hooks.items():
            history["hooks"][name].append({"step": step, "value": fn(model)})
    model.train()


def probe_hooks(config: TrainConfig, x: torch.Tensor) -> dict:
    """The hooks a `TrainConfig` asks for, on training images `x`.

    "units": per-unit Var_x[mu] and E_x[σ²] over `probe_indices` (Asperti's Fig. 11);
    "track": (mu, logvar) of each of `track_indices` (trajectories, Asperti's Fig. 1).
    """
    hooks = {}
    if config.probe_indices:
        xp = x[list(config.probe_indices)]

        def units(model):
            mu, logvar = model.encode(xp.to(next(model.parameters()).device))
            return {"var_mu": mu.var(0).tolist(), "mean_sigma2": logvar.exp().mean(0).tolist()}

        hooks["units"] = units
    if config.track_indices:
        xt = x[list(config.track_indices)]

        def track(model):
            mu, logvar = model.encode(xt.to(next(model.parameters()).device))
            return {"mu": mu.tolist(), "logvar": logvar.tolist()}

        hooks["track"] = track
    return hooks


# When set (by `vaelab run`/`book`/`publish` for the kernel), every progress bar also appends its
# state to this file as JSON lines, at most one a second, so the terminal can show it.
PROGRESS_FILE_ENV = "VAELAB_PROGRESS_FILE"


def progress_bar(total: int, desc: str):
    """A tqdm bar: a widget in a Jupyter kernel that has ipywidgets, text on stderr otherwise;
    reported to `PROGRESS_FILE_ENV` when that is set."""
    from tqdm import tqdm

    if _in_kernel_with_widgets():
        from tqdm.notebook import tqdm
    bar = tqdm(total=total, desc=desc, unit="step", disable=not progress_enabled(), leave=False)
    path = os.environ.get(PROGRESS_FILE_ENV)
    return _Reported(bar, desc, total, path) if path else bar


class _Reported:
    """A bar that also writes `{pid, desc, done, total, seconds[, closed]}` lines to `path`."""

    def __init__(self, bar, desc: str, total: int, path: str):
        self.bar, self.desc, self.total, self.path = bar, desc, total, path
        self.done, self.start, self.last = 0, time.monotonic(), -1.0

    def _write(self, closed: bool = False) -> None:
        now = time.monotonic()
        line = {"pid": os.getpid(), "desc": self.desc, "done": self.done, "total": self.total}
        line |= {"seconds": round(now - self.start, 2)} | ({"closed": True} if closed else {})
        with open(self.path, "a") as f:
            f.write(json.dumps(line) + "\n")
        self.last = now

    def update(self, n: int = 1) -> None:
        self.bar.update(n)
        self.done += n
        if time.monotonic() - self.last >= 1.0:
            self._write()

    def set_postfix(self, **kwargs) -> None:
        self.bar.set_postfix(**kwargs)

    def close(self) -> None:
        self.bar.close()
        self._write(closed=True)


def _in_kernel_with_widgets() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None else None
    in_kernel = ip is not None and "IPKernelApp" in getattr(ip, "config", {})
    return in_kernel and importlib.util.find_spec("ipywidgets") is not None
