"""Many fits at once: `fit_many(configs)` trains what the cache lacks in parallel, then loads all.

Backend `local`: one spawned process per missing config, at most `workers` at a time (default:
the machine's cores), each with `threads` torch threads (default 1: on our 2-core machines two
1-thread processes side by side train ~20% more images per second than one 2-thread process).
The dearest fits start first (work ~ epochs × images × parameters), so that the last ones to
finish are short and the workers end together.
Workers write only to the training cache; the parent loads every result from it, so models never
cross a process boundary as pickles. A worker that raises or dies is reported with its config in
`SweepFailed`, after the others have finished; what they trained stays in the cache.

Backend `ray` (the optional extra: `pip install -e '.[ray]'`): each missing config is a Ray task
with `threads` CPUs, on the cluster at `RAY_ADDRESS`, or on a local instance when none is set (or
on the one already started with `ray.init`). A task trains into its node's cache and returns the
entry's files (JSON text and safetensors bytes), which the driver checks and writes into its own.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

import torch

from . import bundle, cache, models
from .train import progress_bar

BACKENDS = ("local", "ray")
BACKEND_ENV = "VAELAB_SWEEP_BACKEND"  # the backend of a `fit_many` call that names none


@dataclass
class Failure:
    """A config whose worker raised or died."""

    config: cache.FitConfig
    error: str  # "ExceptionType: message", or how the process ended


class SweepFailed(RuntimeError):
    """Some fits failed; `results` holds `(model, history)` or None in config order."""

    def __init__(self, failures: list[Failure], results: list):
        self.failures, self.results = failures, results
        lines = [f"  {_describe(f.config)}: {f.error}" for f in failures]
        super().__init__(f"{len(failures)} of {len(results)} fits failed:\n" + "\n".join(lines))


def _describe(config: cache.FitConfig) -> str:
    m = config.model
    return f"{m.kind} n={m.latent_dim} {m.posterior} on {config.data.name}, seed={config.seed}"


def worker(config: cache.FitConfig, error_path: str, threads: int) -> None:
    """Train one config into the cache (the body of a worker process)."""
    os.environ["VAELAB_PROGRESS"] = "0"
    torch.set_num_threads(threads)
    try:
        cache.fit(config)
    except BaseException as e:
        Path(error_path).write_text(f"{type(e).__name__}: {e}")
        raise SystemExit(1) from None


def fit_many(
    configs,
    *,
    backend: str | None = None,
    workers: int | None = None,
    threads: int = 1,
    progress: bool = True,
    target=worker,
    device=None,
) -> list:
    """`[(model, history), ...]` in the order of `configs`, training in parallel what is missing.

    `backend` None takes `$VAELAB_SWEEP_BACKEND` (default "local"): that is how an unchanged
    chapter runs its sweeps on a Ray cluster. `target(config, error_path, threads)` is the local
    worker's body (replaceable for tests); `workers` caps the local pool (Ray schedules its tasks
    by their `threads` CPUs).
    """
    source = "backend"
    if backend is None:
        backend, source = os.environ.get(BACKEND_ENV, "local"), BACKEND_ENV
    if backend not in BACKENDS:
        raise ValueError(f"{source} must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers is None:
        workers = os.cpu_count() or 1
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    configs = list(configs)
    keys = [cache.config_key(c) for c in configs]
    todo = {k: c for k, c in zip(keys, configs, strict=True) if not _cached(k)}
    todo = dict(sorted(todo.items(), key=lambda item: -work(item[1])))
    if backend == "ray":
        errors = _run_ray(todo, threads=threads, progress=progress)
    else:
        errors = _run_local(
            todo, workers=workers, threads=threads, progress=progress, target=target
        )
    results = [
        None if k in errors else cache.fit(c, device=device)
        for k, c in zip(keys, configs, strict=True)
    ]
    failures = [Failure(c, errors[k]) for k, c in zip(keys, configs, strict=True) if k in errors]
    if failures:
        raise SweepFailed(failures, results)
    return results


def work(config: cache.FitConfig) -> int:
    """How dear a fit is, to order them: epochs × training images × the model's parameters."""
    images = config.data.limit or (config.data.tiles.n if config.data.tiles else 60_000)
    model = models.build(config.model)
    return config.train.epochs * images * sum(p.numel() for p in model.parameters())


def _cached(key: str) -> bool:
    return (cache.cache_root() / key / "meta.json").exists()


def _run_local(todo: dict, *, workers: int, threads: int, progress: bool, target) -> dict:
    """Run `target` for each config of `todo` in spawned processes; `{key: error}` of failures."""
    ctx = mp.get_context("spawn")
    pending, running, errors = list(todo.items()), {}, {}
    bar = progress_bar(len(todo), "fits") if progress and todo else None
    with tempfile.TemporaryDirectory() as tmp:
        while pending or running:
            while pending and len(running) < workers:
                key, config = pending.pop(0)
                error_path = str(Path(tmp) / f"{key}.err")
                proc = ctx.Process(target=target, args=(config, error_path, threads))
                proc.start()
                running[proc.sentinel] = (proc, key, error_path)
            for sentinel in wait(list(running)):
                proc, key, error_path = running.pop(sentinel)
                proc.join()
                if proc.exitcode != 0 or not _cached(key):
                    errors[key] = _error(proc.exitcode, Path(error_path))
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    return errors


def _error(exitcode: int | None, error_path: Path) -> str:
    if error_path.exists():
        return error_path.read_text()
    if exitcode is not None and exitcode < 0:
        return f"the worker was killed by signal {-exitcode}"
    return f"the worker died with exit code {exitcode} and no error message"


def ray_task(config: cache.FitConfig, threads: int) -> dict:
    """The body of a Ray task: train one config into this node's cache and return the entry."""
    os.environ["VAELAB_PROGRESS"] = "0"
    torch.set_num_threads(threads)
    _, history = cache.fit(config)
    return bundle.export_entry(history["run"]["key"])


def ray_error(error: BaseException) -> str:
    """What a failed Ray task reports: the task's own exception when Ray carries it (`cause`),
    else Ray's error (a worker that died, a lost node)."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"
    return f"{type(error).__name__}: {error}"


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError(
            "backend='ray' needs Ray: install the optional extra with pip install -e '.[ray]'"
        ) from None
    return ray


def _run_ray(todo: dict, *, threads: int, progress: bool) -> dict:
    """Run each config of `todo` as a Ray task; `{key: error}` of failures."""
    if not todo:
        return {}
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(log_to_driver=False)  # RAY_ADDRESS, when set, names the cluster
    try:
        return _ray_tasks(ray, todo, threads=threads, progress=progress)
    finally:
        if started:  # a local instance would otherwise outlive the kernel and be killed with it
            ray.shutdown()


def _ray_tasks(ray, todo: dict, *, threads: int, progress: bool) -> dict:
    task = ray.remote(num_cpus=threads, max_retries=0)(ray_task)
    refs = {task.remote(config, threads): key for key, config in todo.items()}
    pending, errors = list(refs), {}
    bar = progress_bar(len(refs), "fits (ray)") if progress else None
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        key = refs[done[0]]
        try:
            bundle.import_entry(key, ray.get(done[0]))
        except Exception as e:  # the task raised, its worker died, or the entry is damaged
            errors[key] = ray_error(e)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return errors
