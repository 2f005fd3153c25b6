import dataclasses
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from vaelab import bundle, cache, data, models, quality
from vaelab.book import profiles
from vaelab.cache import FitConfig
from vaelab.data import DataConfig
from vaelab.papers import asperti, azmoodeh
from vaelab.train import TrainConfig, TrainingDiverged

TINY = FitConfig(
    data=DataConfig("tiles", tiles=data.TilesSpec(n=512)),
    model=models.ModelConfig(latent_dim=4, hidden=(32,)),
    train=TrainConfig(epochs=2, batch_size=128),
)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_second_fit_comes_from_the_cache_fast():
    model, history = cache.fit(TINY)
    assert history["run"]["from_cache"] is False
    t0 = time.perf_counter()
    model2, history2 = cache.fit(TINY)
    assert time.perf_counter() - t0 < 1.0
    assert history2["run"]["from_cache"] is True
    assert same_weights(model, model2) and history2["loss"] == history["loss"]
    entry = cache.cache_root() / cache.config_key(TINY)
    assert sorted(p.name for p in entry.iterdir()) == ["meta.json", "weights.safetensors"]
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["config"]["model"]["latent_dim"] == 4
    assert meta["history"]["run"]["torch_version"] == torch.__version__


def test_key_covers_config_and_code_version(monkeypatch):
    keys = {
        cache.config_key(TINY),
        cache.config_key(FitConfig(TINY.data, TINY.model, TINY.train, 1)),
    }
    monkeypatch.setattr(cache, "CODE_VERSION", "test")
    keys.add(cache.config_key(TINY))
    assert len(keys) == 3


@pytest.mark.parametrize("damage", ["flip_weights", "drop_meta", "garbage_meta", "meta_no_history"])
def test_corrupt_or_partial_entry_is_retrained(damage):
    model, _ = cache.fit(TINY)
    entry = cache.cache_root() / cache.config_key(TINY)
    if damage == "flip_weights":
        raw = bytearray((entry / "weights.safetensors").read_bytes())
        raw[-5] ^= 0xFF
        (entry / "weights.safetensors").write_bytes(bytes(raw))
    elif damage == "drop_meta":
        (entry / "meta.json").unlink()
    elif damage == "garbage_meta":
        (entry / "meta.json").write_text("{not json")
    else:
        meta = json.loads((entry / "meta.json").read_text())
        del meta["history"]
        (entry / "meta.json").write_text(json.dumps(meta))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        model2, history = cache.fit(TINY)
    assert history["run"]["from_cache"] is False
    assert same_weights(model, model2)  # same seed, same machine: same result
    assert cache.fit(TINY)[1]["run"]["from_cache"] is True


def test_loading_never_unpickles(monkeypatch):
    cache.fit(TINY)
    import pickle

    def refuse(*a, **k):
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert cache.fit(TINY)[1]["run"]["from_cache"] is True


def test_diverged_training_caches_nothing(monkeypatch):
    build = models.build

    def poisoned(config):
        model = build(config)
        with torch.no_grad():
            model.decoder[-1].bias.fill_(float("nan"))
        return model

    monkeypatch.setattr(models, "build", poisoned)
    with pytest.raises(TrainingDiverged, match="epoch 1, step 1"):
        cache.fit(TINY)
    entry = cache.cache_root() / cache.config_key(TINY)
    assert not (entry / "meta.json").exists()
    monkeypatch.setattr(models, "build", build)
    assert cache.fit(TINY)[1]["run"]["from_cache"] is False


SLOW = FitConfig(
    data=DataConfig("tiles", tiles=data.TilesSpec(n=4096)),
    model=models.ModelConfig(latent_dim=4, hidden=(64,)),
    train=TrainConfig(epochs=20, batch_size=64),  # several seconds: the two calls overlap
)


def _fit_in_child(queue):
    torch.set_num_threads(1)
    start = time.time()
    _, history = cache.fit(SLOW)
    queue.put({**history["run"], "start": start, "end": time.time()})


def test_two_processes_train_one_entry_once():
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_fit_in_child, args=(queue,)) for _ in range(2)]
    for p in procs:
        p.start()
    runs = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    trained, waited = sorted(runs, key=lambda r: r["from_cache"])
    assert (trained["from_cache"], waited["from_cache"]) == (False, True)
    assert trained["pid"] == waited["pid"]  # both report the one process that trained
    assert waited["start"] < trained["end"]  # the two calls overlapped: the lock made one wait


def test_mlp_fit_config_is_azmoodehs_model_and_zero_means_all_images():
    config = azmoodeh.fit_config(20, posterior="isotropic", epochs=3, batch_size=256, lr=1e-4)
    assert config.model == models.ModelConfig("mlp", 20, (256, 256), "isotropic", "bernoulli")
    assert config.data.limit is None and config.train.epochs == 3 and config.train.lr == 1e-4
    same = azmoodeh.fit_config(20, posterior="isotropic", epochs=3, batch_size=256, lr=1e-4)
    assert cache.config_key(same) == cache.config_key(config)
    assert (
        azmoodeh.fit_config(
            20, posterior="isotropic", epochs=3, batch_size=256, lr=1e-4, train_limit=500
        ).data.limit
        == 500
    )


def test_every_entry_used_is_logged_when_asked(tmp_path, monkeypatch):
    log = tmp_path / "used.jsonl"
    monkeypatch.setenv(cache.LOG_ENV, str(log))
    cache.fit(TINY)
    cache.fit(TINY)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["from_cache"] for r in lines] == [False, True]
    assert lines[0]["key"] == lines[1]["key"] == cache.config_key(TINY)
    assert lines[0]["train_seconds"] == lines[1]["train_seconds"] > 0
    seconds = lines[0]["train_seconds"]
    assert cache.usage(log) == {"trained": 1, "loaded": 0, "train_seconds": seconds}
    log.unlink()
    cache.fit(TINY)
    assert cache.usage(log) == {"trained": 0, "loaded": 1, "train_seconds": seconds}
    assert cache.usage(tmp_path / "missing.jsonl") == {
        "trained": 0,
        "loaded": 0,
        "train_seconds": 0.0,
    }


def test_precision_enters_the_key_only_when_it_is_not_the_default():
    # entries cached before `precision` existed keep their key (a regression value)
    assert cache.config_key(TINY) == "14b4c5a9f35f9c742e44"
    bf16 = FitConfig(
        data=TINY.data,
        model=TINY.model,
        train=TrainConfig(epochs=2, batch_size=128, precision="bf16"),
    )
    assert cache.config_key(bf16) != cache.config_key(TINY)


def test_an_entry_exported_from_one_cache_imports_into_another(tmp_path, monkeypatch):
    config = FitConfig(
        data=DataConfig("tiles", tiles=data.TilesSpec(n=64)),
        model=models.ModelConfig(latent_dim=2, hidden=(8,)),
        train=TrainConfig(epochs=1, batch_size=32),
    )
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "node"))
    model, history = cache.fit(config)
    key = history["run"]["key"]
    blob = bundle.export_entry(key)
    assert set(blob) == {"meta", "weights"} and isinstance(blob["weights"], bytes)
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "driver"))
    bundle.import_entry(key, blob)
    loaded, again = cache.fit(config)
    assert again["run"]["from_cache"] and again["run"]["key"] == key
    torch.testing.assert_close(loaded.state_dict(), model.state_dict())
    bundle.import_entry(key, blob)  # already there: nothing to do
    with pytest.raises(ValueError, match="checksum"):
        bundle.import_entry(
            "0" * 20,
            {
                **blob,
                "meta": blob["meta"].replace(key, "0" * 20),
                "weights": blob["weights"][:-1] + b"x",
            },
        )
    with pytest.raises(ValueError, match="is for key"):
        bundle.import_entry("1" * 20, blob)
    with pytest.raises(FileNotFoundError, match="no cache entry"):
        bundle.export_entry("2" * 20)


def test_heldout_enters_the_key_only_when_set_and_fit_records_the_test_curve():
    assert cache.config_key(TINY) == "14b4c5a9f35f9c742e44"  # heldout=0: old entries still hit
    config = FitConfig(
        data=TINY.data, model=TINY.model, train=TrainConfig(epochs=2, batch_size=128, heldout=100)
    )
    assert cache.config_key(config) != cache.config_key(TINY)
    _, history = cache.fit(config)
    assert len(history["heldout_loss"]) == 2
    assert all(0 < v < 1000 for v in history["heldout_loss"])


def test_memo_computes_once_per_kind_and_params_and_keeps_json():
    calls = []

    def compute():
        calls.append(1)
        return {"value": 1.5, "counts": [1, 2]}

    first = cache.memo("eval", {"key": "abc", "k": 10}, compute)
    again = cache.memo("eval", {"k": 10, "key": "abc"}, compute)
    assert first == again == {"value": 1.5, "counts": [1, 2]} and len(calls) == 1
    cache.memo("eval", {"key": "abc", "k": 11}, compute)
    cache.memo("other", {"key": "abc", "k": 10}, compute)
    assert len(calls) == 3
    with pytest.raises(TypeError, match="memo: compute must return a dict"):
        cache.memo("bad", {}, lambda: [1])


def test_memo_refresh_computes_again_and_replaces_the_kept_result():
    results = iter([{"seconds": 1.0}, {"seconds": 2.0}])
    assert cache.memo("timing", {"m": 1}, lambda: next(results)) == {"seconds": 1.0}
    assert cache.memo("timing", {"m": 1}, lambda: {"seconds": 9.0}) == {"seconds": 1.0}
    assert cache.memo("timing", {"m": 1}, lambda: next(results), refresh=True) == {"seconds": 2.0}
    assert cache.memo("timing", {"m": 1}, lambda: {"seconds": 9.0}) == {"seconds": 2.0}


PUBLISHED = Path(__file__).parent / "data" / "published_keys.json"


def _published_config(row: dict):
    kw = dict(row["kwargs"])
    if row["builder"] == "azmoodeh":
        return azmoodeh.fit_config(**kw)
    if row["builder"] == "classifier":
        return quality.ClassifierConfig(**kw)
    if row["builder"] == "asperti_runs":
        return asperti.runs(kw.pop("kind"), **kw)[0]
    if row["builder"] == "asperti_fit_config":
        for name in ("hidden", "track"):
            if name in kw:
                kw[name] = tuple(kw[name])
        return asperti.fit_config(kw.pop("kind"), **kw)
    if row["builder"] in ("mlp_bf16_heldout", "mlp_heldout"):  # Part III: bf16, then fp32
        return cache.mlp_config(**kw, hidden=(256, 256))
    raise AssertionError(f"unknown builder {row['builder']}")


def test_every_published_kind_of_model_keeps_its_key(monkeypatch, tmp_path):
    # keys that the code before the paper modules existed gave to the configs the paper profile
    # trains (every builder, variant and data set of the book; MNIST as the 5k subset), and the 24
    # published since (2026-11-30: the probed conv models, the Gaussian decoders, eq. 7 alone and
    # the Fashion-MNIST sizes; session 11: the 6 conv models on Fashion-MNIST sizes; session 12:
    # the 3 conv models on 15k images; session 14: Part III in fp32, its 4 probes, 108 grid runs,
    # 12 models at n* and 6 long runs), each checked against the real cache when it was added
    monkeypatch.setenv("VAELAB_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "SYSTEM_DIRS", {**data.SYSTEM_DIRS, "mnist": ()})
    rows = json.loads(PUBLISHED.read_text())
    assert len(rows) == 238
    for row in rows:
        assert cache.config_key(_published_config(row)) == row["key"], row


def test_a_field_added_later_stays_out_of_the_key_at_its_default():
    @dataclasses.dataclass(frozen=True)
    class Old:
        name: str = "tiles"
        size: int = 3

    @dataclasses.dataclass(frozen=True)
    class New:
        name: str = "tiles"
        size: int = 3
        extra: int = cache.added_later(0)

    New.__name__ = "Old"
    assert cache.config_key(New()) == cache.config_key(Old())
    assert cache.config_key(New(extra=1)) != cache.config_key(Old())
    assert cache.key_fields(New(extra=1)) == {"name": "tiles", "size": 3, "extra": 1}
    Old.cache_kind = None
    assert cache.config_key(Old()) != cache.config_key(New())  # no kind in the payload


def test_a_truncated_or_damaged_memo_is_computed_again():
    first = cache.memo("eval", {"k": 1}, lambda: {"v": 1.0})
    (path,) = (cache.cache_root() / "memo").glob("eval-*.json")
    text = path.read_text()
    for damaged in (text[: len(text) // 2], '{"kind": "eval"}', "\x00\x01", "[1, 2]"):
        path.write_text(damaged)
        with pytest.warns(UserWarning, match="damaged memo"):
            again = cache.memo("eval", {"k": 1}, lambda: {"v": 2.0})
        assert again == {"v": 2.0} != first
        assert json.loads(path.read_text())["result"] == {"v": 2.0}


def test_azmoodeh_sweep_configs_are_the_published_fit_configs_by_n_then_seed():
    run = profiles.resolve("paper", section="azmoodeh_sweep")
    configs = azmoodeh.sweep_configs(run, seeds=[0, 1])
    assert [(c.model.latent_dim, c.seed) for c in configs] == [
        (n, s) for n in (2, 20, 200, 800) for s in (0, 1)
    ]
    published = {r["key"] for r in json.loads(PUBLISHED.read_text())}
    assert {cache.config_key(c) for c in configs} <= published
    one = azmoodeh.sweep_configs(run, seeds=[run.seed])[0]
    assert one == azmoodeh.fit_config(
        2, posterior="isotropic", epochs=100, lr=1e-4, batch_size=256, train_limit=0, seed=0
    )


def test_a_field_keyed_into_a_sibling_section_hashes_as_if_it_were_there():
    @dataclasses.dataclass(frozen=True)
    class Train:
        epochs: int = 3
        beta: float = 1.0

    @dataclasses.dataclass(frozen=True)
    class Before:
        name: str = "tiles"
        train: Train = Train()

    @dataclasses.dataclass(frozen=True)
    class Loss:
        beta: float = 1.0

    @dataclasses.dataclass(frozen=True)
    class Epochs:
        epochs: int = 3

    @dataclasses.dataclass(frozen=True)
    class After:
        name: str = "tiles"
        train: Epochs = Epochs()
        loss: Loss = cache.keyed_into("train", Loss)

    After.__name__ = "Before"
    assert cache.config_key(After()) == cache.config_key(Before())
    assert cache.config_key(After(loss=Loss(beta=2.0))) == cache.config_key(
        Before(train=Train(beta=2.0))
    )

    @dataclasses.dataclass(frozen=True)
    class Clash:
        name: str = "tiles"
        train: Train = Train()
        loss: Loss = cache.keyed_into("train", Loss)

    with pytest.raises(ValueError, match="'beta' is in both train and loss"):
        cache.config_key(Clash())


def test_the_objective_of_a_fit_is_keyed_with_its_training_settings():
    config = asperti.fit_config("mlp", epochs=2, seed=0, kl_weight=0.0, mu_penalty=1.0)
    assert cache.key_fields(config)["train"]["mu_penalty"] == 1.0
    assert "objective" not in cache.key_fields(config)


def test_the_log_lists_every_entry_and_memo_a_process_used(tmp_path, monkeypatch):
    log = tmp_path / "used.jsonl"
    monkeypatch.setenv(cache.LOG_ENV, str(log))
    cache.fit(TINY)
    cache.memo("result", {"x": 1}, lambda: {"v": 1})
    cache.memo("result", {"x": 1}, lambda: {"v": 2})
    used = cache.used(log)
    (memo,) = [p.name for p in (cache.cache_root() / "memo").iterdir()]
    assert used == {"entries": [cache.config_key(TINY)], "memos": [memo]}
    assert cache.usage(log)["trained"] == 1  # memo lines are not entries


_TRAIN_ONE = """
import sys, torch
torch.set_num_threads(1)
from vaelab import cache, data, models
from vaelab.cache import FitConfig
from vaelab.data import DataConfig
from vaelab.train import TrainConfig
config = FitConfig(
    data=DataConfig("tiles", tiles=data.TilesSpec(n=4096)),
    model=models.ModelConfig(latent_dim=8, hidden=(256, 256)),
    train=TrainConfig(epochs=20, batch_size=64),
)
model, history = cache.fit(config)
print(history["run"]["key"], history.get("resumed_from_epoch", 0))
"""


def _train_one(cache_dir, **kw):
    env = {**os.environ, "VAELAB_CACHE_DIR": str(cache_dir), "VAELAB_PROGRESS": "0"}
    return subprocess.Popen([sys.executable, "-c", _TRAIN_ONE], env=env, text=True, **kw)


@pytest.mark.slow
def test_a_training_process_killed_mid_run_resumes_to_the_weights_of_an_uninterrupted_one(
    tmp_path,
):
    whole = _train_one(tmp_path / "whole", stdout=subprocess.PIPE)
    victim = _train_one(tmp_path / "killed")
    partial = None
    deadline = time.time() + 300
    while partial is None and time.time() < deadline and victim.poll() is None:
        found = list((tmp_path / "killed").glob("*.partial/state.json"))
        partial = found[0] if found else None
        time.sleep(0.02)
    victim.kill()
    victim.wait()
    assert partial is not None, "no checkpoint appeared before the run ended"
    key = partial.parent.name.removesuffix(".partial")
    assert not (tmp_path / "killed" / key / "meta.json").exists(), "killed too late"
    done = _train_one(tmp_path / "killed", stdout=subprocess.PIPE).communicate(timeout=600)[0]
    assert done.split()[0] == key and int(done.split()[1]) >= cache.CHECKPOINT_EVERY
    whole_key = whole.communicate(timeout=600)[0].split()[0]
    a = json.loads((tmp_path / "whole" / whole_key / "meta.json").read_text())
    b = json.loads((tmp_path / "killed" / key / "meta.json").read_text())
    assert a["weights_sha256"] == b["weights_sha256"]
    assert a["history"]["loss"] == b["history"]["loss"]
    assert not (tmp_path / "killed" / f"{key}.partial").exists()


def test_the_variance_only_objective_is_a_new_key_and_the_default_keeps_the_old_one():
    base = asperti.fit_config("mlp", epochs=2, seed=0)
    same = asperti.fit_config("mlp", epochs=2, seed=0, kl_part="both", mu_bound=0.0)
    eq7 = asperti.fit_config("mlp", epochs=2, seed=0, kl_part="variance", mu_bound=100.0)
    assert cache.config_key(same) == cache.config_key(base)
    assert cache.config_key(eq7) != cache.config_key(base)
    assert cache.key_fields(eq7)["train"]["kl_part"] == "variance"
    assert "kl_part" not in cache.key_fields(base)["train"]


def test_a_gaussian_decoder_of_fixed_variance_is_a_new_key_and_bernoulli_keeps_the_old_one():
    base = asperti.fit_config("mlp", epochs=2, seed=0)
    gauss = asperti.fit_config("mlp", epochs=2, seed=0, likelihood="gaussian", obs_var=0.5)
    learned = asperti.fit_config("mlp", epochs=2, seed=0, likelihood="gaussian")
    assert len({cache.config_key(c) for c in (base, gauss, learned)}) == 3
    assert cache.key_fields(gauss)["model"]["obs_var"] == 0.5
    assert "obs_var" not in cache.key_fields(learned)["model"]
