"""sweep: fit_many trains what the cache lacks in worker processes and reports failures."""

import os

import pytest

from vaelab import cache, data, models, sweep
from vaelab.cache import FitConfig
from vaelab.data import DataConfig
from vaelab.train import TrainConfig


def tiny(seed: int, limit: int | None = None) -> FitConfig:
    return FitConfig(
        data=DataConfig("tiles", limit=limit, tiles=data.TilesSpec(n=256)),
        model=models.ModelConfig(latent_dim=2, hidden=(8,)),
        train=TrainConfig(epochs=1, batch_size=128),
        seed=seed,
    )


def die_on_seed_1(config, error_path, threads):
    """A worker that dies without a word for seed 1 (as a killed or crashed process would)."""
    if config.seed == 1:
        os._exit(3)
    sweep.worker(config, error_path, threads)


def test_fit_many_trains_in_workers_and_returns_in_config_order():
    configs = [tiny(0), tiny(1), tiny(0)]  # a repeated config is trained once
    fitted = sweep.fit_many(configs, workers=2, progress=False)
    assert [h["run"]["key"] for _, h in fitted] == [cache.config_key(c) for c in configs]
    assert all(h["run"]["from_cache"] for _, h in fitted)  # trained by workers, loaded here
    assert {h["run"]["pid"] for _, h in fitted}.isdisjoint({os.getpid()})
    assert all(h["run"]["threads"] == 1 for _, h in fitted)
    again = sweep.fit_many(configs, progress=False)  # nothing left to train: no worker starts
    assert [h["run"]["key"] for _, h in again] == [h["run"]["key"] for _, h in fitted]


def test_a_raising_and_a_dying_worker_are_reported_with_their_config_and_the_rest_kept():
    bad = tiny(2, limit=-5)  # load_data raises in the worker
    configs = [tiny(0), tiny(1), bad]
    with pytest.raises(sweep.SweepFailed) as info:
        sweep.fit_many(configs, workers=2, progress=False, target=die_on_seed_1)
    failures = info.value.failures
    assert [f.config for f in failures] == [tiny(1), bad]
    assert "exit code 3" in failures[0].error
    assert "ValueError: data.limit must be positive" in failures[1].error
    kept = info.value.results
    assert kept[0] is not None and kept[1] is None and kept[2] is None
    assert "2 of 3 fits failed" in str(info.value) and "seed=1" in str(info.value)


def test_fit_many_checks_its_arguments():
    with pytest.raises(ValueError, match="backend must be one of local"):
        sweep.fit_many([tiny(0)], backend="dask")
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        sweep.fit_many([tiny(0)], workers=0)
    assert sweep.fit_many([], progress=False) == []


def test_the_ray_backend_without_ray_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(ImportError, match=r"pip install -e '\.\[ray\]'"):
        sweep.fit_many([tiny(0)], backend="ray", progress=False)


def test_ray_errors_name_the_task_exception_or_the_death():
    class TaskError(Exception):
        cause = ValueError("data.limit must be positive")

    assert sweep.ray_error(TaskError("long traceback")) == (
        "ValueError: data.limit must be positive"
    )
    assert sweep.ray_error(RuntimeError("the worker died")) == "RuntimeError: the worker died"


def test_ray_backend_trains_on_a_local_ray_instance_and_ships_entries_back(tmp_path):
    """A local Ray instance started here; its workers use their own cache, as a cluster node
    would, so every result reaches the driver's cache through the task's return value."""
    import ray

    node_cache = str(tmp_path / "node")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=80 * 2**20,
        runtime_env={"env_vars": {"VAELAB_CACHE_DIR": node_cache}},
    )
    try:
        bad = tiny(2, limit=-5)
        with pytest.raises(sweep.SweepFailed) as info:
            sweep.fit_many([tiny(0), tiny(1), bad], backend="ray", progress=False)
        assert [f.config for f in info.value.failures] == [bad]
        assert "ValueError: data.limit must be positive" in info.value.failures[0].error
        kept = info.value.results
        assert kept[2] is None and all(r[1]["run"]["from_cache"] for r in kept[:2])
        assert {r[1]["run"]["pid"] for r in kept[:2]}.isdisjoint({os.getpid()})
        assert (tmp_path / "node").is_dir()  # trained there, imported here
        assert (cache.cache_root() / cache.config_key(tiny(0)) / "meta.json").exists()
    finally:
        ray.shutdown()


def test_the_backend_comes_from_the_environment_when_not_given(monkeypatch):
    seen = {}

    def fake_ray(todo, *, threads, progress):
        seen["todo"] = list(todo)
        return {key: "RuntimeError: no cluster here" for key in todo}

    monkeypatch.setattr(sweep, "_run_ray", fake_ray)
    monkeypatch.setenv("VAELAB_SWEEP_BACKEND", "ray")
    with pytest.raises(sweep.SweepFailed, match="no cluster here"):
        sweep.fit_many([tiny(0)], progress=False)
    assert seen["todo"] == [cache.config_key(tiny(0))]
    monkeypatch.setenv("VAELAB_SWEEP_BACKEND", "spark")
    with pytest.raises(ValueError, match="VAELAB_SWEEP_BACKEND"):
        sweep.fit_many([tiny(0)], progress=False)


def record_start(config, error_path, threads):
    """A worker that notes which config it was given, then trains it."""
    with open(os.environ["VAELAB_TEST_STARTS"], "a") as f:
        f.write(f"{config.model.latent_dim}\n")
    sweep.worker(config, error_path, threads)


def test_the_dearest_fits_start_first_and_results_keep_config_order(tmp_path, monkeypatch):
    starts = tmp_path / "starts.txt"
    monkeypatch.setenv("VAELAB_TEST_STARTS", str(starts))
    configs = [
        FitConfig(
            data=DataConfig("tiles", tiles=data.TilesSpec(n=256)),
            model=models.ModelConfig(latent_dim=n, hidden=(8,)),
            train=TrainConfig(epochs=epochs, batch_size=128),
        )
        for n, epochs in ((2, 1), (64, 1), (8, 1), (2, 3))
    ]
    fitted = sweep.fit_many(configs, workers=1, progress=False, target=record_start)
    # work ~ epochs x images x parameters: 3 epochs of n=2 (3 x 13,396 parameters), then one
    # epoch of n=64 (15,008), n=8 (13,552) and n=2
    assert starts.read_text().split() == ["2", "64", "8", "2"]
    assert [h["run"]["key"] for _, h in fitted] == [cache.config_key(c) for c in configs]
