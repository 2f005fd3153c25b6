import dataclasses
import json
import os

import pytest
import torch

from vaelab import data, elbo, models
from vaelab.train import TrainConfig, TrainingDiverged, heldout_loss, probe_hooks, train

ELBO = elbo.Elbo()


@pytest.fixture(scope="module")
def fmnist():
    x, _ = data.load("fashion-mnist")
    xt, _ = data.load("fashion-mnist", "test")
    return x[:2048], xt[:1000]


def test_a_run_really_learns(fmnist):
    """Azmoodeh's model: 200 Adam steps lift the held-out ELBO by more than 200 nats."""
    x, xt = fmnist
    torch.manual_seed(0)
    model = models.MLPVAE(20, posterior="isotropic")
    before = elbo.evaluate(model, xt)["elbo"]
    history = train(
        model, x, TrainConfig(epochs=25, batch_size=256, lr=1e-3), objective=ELBO, seed=0
    )
    after = elbo.evaluate(model, xt)["elbo"]
    assert after - before > 200, (before, after)
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["epoch"]) == 25 and len(history["kl_per_unit"][0]) == 20


def test_same_seed_same_result_different_seed_different(fmnist):
    x = fmnist[0][:512]
    cfg = TrainConfig(epochs=2, batch_size=64)
    results = []
    for seed in (7, 7, 8):
        torch.manual_seed(seed)
        model = models.MLPVAE(4, (32,))
        h = train(model, x, cfg, objective=ELBO, seed=seed)
        results.append((model.state_dict(), h["loss"]))
    (a, la), (b, lb), (c, lc) = results
    assert la == lb and all(torch.equal(a[k], b[k]) for k in a)
    assert la != lc


def test_history_and_hooks_every_n_steps(fmnist):
    x = fmnist[0][:256]
    cfg = TrainConfig(
        epochs=3, batch_size=64, probe_every=2, probe_indices=(0, 1, 2, 3), track_indices=(5, 9)
    )
    model = models.MLPVAE(3, (16,))
    h = train(model, x, cfg, objective=ELBO, hooks=probe_hooks(cfg, x), hook_every=cfg.probe_every)
    steps = [r["step"] for r in h["hooks"]["units"]]
    assert steps == [0, 2, 4, 6, 8, 10, 12]  # 4 steps an epoch, 3 epochs
    assert len(h["hooks"]["units"][0]["value"]["mean_sigma2"]) == 3
    assert torch.tensor(h["hooks"]["track"][-1]["value"]["mu"]).shape == (2, 3)
    assert set(h) >= {"epoch", "loss", "rate", "distortion", "kl_per_unit", "epoch_seconds"}


def test_without_sampling_and_without_kl(fmnist):
    x = fmnist[0][:256]
    model = models.MLPVAE(3, (16,))
    config = TrainConfig(epochs=2, batch_size=128)
    objective = elbo.Elbo(kl_weight=0.0, sample_latent=False, mu_penalty=1.0)
    h = train(model, x, config, objective=objective)
    assert h["rate"][-1] > 0  # still measured, though not optimised


def test_non_finite_loss_stops_with_epoch_and_step(fmnist):
    model = models.MLPVAE(3, (16,))
    with torch.no_grad():
        model.decoder[-1].bias.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="non-finite loss .* at epoch 1, step 1"):
        train(model, fmnist[0][:128], TrainConfig(epochs=1, batch_size=64), objective=ELBO)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"probe_every": -1}, "probe_every must be >= 0"),
    ],
)
def test_train_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


@pytest.mark.parametrize("kwargs", [{"kl_weight": -1.0}, {"mu_penalty": -0.5}])
def test_elbo_objective_validation(kwargs):
    with pytest.raises(ValueError, match="kl_weight and mu_penalty must be >= 0"):
        elbo.Elbo(**kwargs)


def test_the_elbo_variants_are_objectives_not_training_settings():
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    assert not names & {"kl_weight", "sample_latent", "mu_penalty"}


def test_progress_bar_on_stderr_unless_disabled(fmnist, monkeypatch, capsys):
    model = models.MLPVAE(2, (8,))
    for setting, shown in (("1", True), ("0", False)):
        monkeypatch.setenv("VAELAB_PROGRESS", setting)
        config = TrainConfig(epochs=1, batch_size=64)
        train(model, fmnist[0][:128], config, objective=ELBO, desc="bar-test")
        assert ("bar-test" in capsys.readouterr().err) is shown


def test_bf16_precision_trains_close_to_fp32_and_is_checked(fmnist):
    x = fmnist[0]
    results = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = models.MLPVAE(8, (64,), posterior="isotropic")
        config = TrainConfig(epochs=2, batch_size=128, precision=precision)
        results[precision] = train(model, x, config, objective=ELBO, seed=0)["loss"][-1]
        assert next(model.parameters()).dtype == torch.float32  # weights stay fp32
    assert results["bf16"] == pytest.approx(results["fp32"], rel=0.03)
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16"):
        TrainConfig(precision="fp16")


def test_heldout_curve_is_the_test_elbo_after_each_epoch_and_leaves_training_unchanged(fmnist):
    x, xt = fmnist
    x = x[:512]
    runs = {}
    for heldout in (0, 200):
        torch.manual_seed(0)
        model = models.MLPVAE(4, (32,))
        config = TrainConfig(epochs=3, batch_size=64, heldout=heldout)
        images = xt[:heldout]
        after = {"heldout_loss": lambda m, xh=images: heldout_loss(m, xh)} if heldout else {}
        history = train(model, x, config, seed=0, objective=ELBO, after_epoch=after)
        runs[heldout] = (model, history)
    (plain, h0), (model, h1) = runs[0], runs[200]
    assert "heldout_loss" not in h0 and h0["loss"] == h1["loss"]
    assert all(
        torch.equal(a, b)
        for a, b in zip(plain.state_dict().values(), model.state_dict().values(), strict=True)
    )
    assert len(h1["heldout_loss"]) == 3
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        last = -elbo.evaluate(model, xt[:200])["elbo"]
    assert h1["heldout_loss"][-1] == pytest.approx(last, rel=1e-6)
    assert h1["heldout_loss"][-1] < h1["heldout_loss"][0]


def test_heldout_must_not_be_negative():
    with pytest.raises(ValueError, match="heldout must be >= 0"):
        TrainConfig(heldout=-1)


def test_the_loop_trains_any_objective_on_images_and_labels():
    """A linear classifier through the VAEs' loop: the objective comes from outside."""
    torch.manual_seed(0)
    x = torch.randn(256, 1, 28, 28)
    y = (x.flatten(1)[:, 0] > 0).long()
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 2))
    config = TrainConfig(epochs=5, batch_size=64, lr=1e-2)
    history = train(model, x, config, objective=elbo.cross_entropy, y=y, seed=0)
    assert history["epoch"] == [1, 2, 3, 4, 5] and set(history) >= {"loss", "epoch_seconds"}
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert "rate" not in history


def test_recorded_terms_are_epoch_means_weighted_by_batch_size():
    seen = []

    def objective(model, x):
        out = model(x.flatten(1)).mean()
        seen.append(len(x))
        size = torch.full((len(x),), float(len(x)))  # (batch,): each example records its batch size
        terms = {"loss": out, "size": size, "pair": torch.ones(len(x), 2)}
        return elbo.Step(out, terms, len(x))

    model = torch.nn.Linear(784, 1)
    history = train(
        model,
        torch.zeros(100, 1, 28, 28),
        TrainConfig(epochs=1, batch_size=64),
        objective=objective,
    )
    assert seen == [64, 36]
    assert history["size"] == [pytest.approx((64 * 64 + 36 * 36) / 100)]
    assert history["pair"] == [[1.0, 1.0]]


class _Crash(RuntimeError):
    pass


def _crash_after(epoch: int, armed: list):
    """An after-epoch hook that raises after `epoch` while `armed` holds True: a kill."""

    def hook(model):
        if armed[0] and len(seen) == epoch - 1:
            raise _Crash(f"killed after epoch {epoch}")
        seen.append(epoch)
        return 0.0

    seen: list[int] = []
    return hook


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_run_interrupted_after_a_checkpoint_resumes_to_identical_weights(
    fmnist, tmp_path, precision
):
    x = fmnist[0][:512]
    cfg = TrainConfig(epochs=5, batch_size=128, precision=precision)

    def fresh():
        torch.manual_seed(3)
        return models.MLPVAE(4, (32,))

    never = [False]
    whole = fresh()
    expected = train(
        whole, x, cfg, objective=ELBO, seed=3, after_epoch={"k": _crash_after(4, never)}
    )
    ckpt, armed = tmp_path / "ckpt", [True]
    kw = dict(objective=ELBO, seed=3, checkpoint=ckpt, checkpoint_every=2)
    with pytest.raises(_Crash):
        train(fresh(), x, cfg, **kw, after_epoch={"k": _crash_after(4, armed)})
    assert (ckpt / "state.json").is_file()
    resumed, armed[0] = fresh(), False
    history = train(resumed, x, cfg, **kw, after_epoch={"k": _crash_after(4, armed)})
    assert history["resumed_from_epoch"] == 2
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert history["loss"] == expected["loss"] and history["epoch"] == expected["epoch"]
    assert not ckpt.exists()  # removed once the run is complete


def test_a_checkpoint_of_another_run_is_refused(fmnist, tmp_path):
    x = fmnist[0][:256]
    ckpt = tmp_path / "ckpt"
    cfg = TrainConfig(epochs=3, batch_size=128)
    with pytest.raises(_Crash):
        train(
            models.MLPVAE(4, (32,)),
            x,
            cfg,
            objective=ELBO,
            seed=1,
            checkpoint=ckpt,
            checkpoint_every=1,
            after_epoch={"crash": _crash_after(2, [True])},
        )
    with pytest.raises(ValueError, match="checkpoint .* is of another run"):
        train(
            models.MLPVAE(4, (32,)),
            x,
            dataclasses.replace(cfg, lr=0.5),
            objective=ELBO,
            seed=1,
            checkpoint=ckpt,
            checkpoint_every=1,
        )


def test_training_reports_its_progress_to_the_file_a_runner_watches(fmnist, tmp_path, monkeypatch):
    from vaelab import train as train_module

    report = tmp_path / "progress.jsonl"
    monkeypatch.setenv(train_module.PROGRESS_FILE_ENV, str(report))
    model = models.MLPVAE(2, (8,))
    train(model, fmnist[0][:256], TrainConfig(epochs=2, batch_size=128), objective=ELBO, desc="m1")
    lines = [json.loads(t) for t in report.read_text().splitlines()]
    assert lines[-1] | {"seconds": 0} == {
        "pid": os.getpid(),
        "desc": "m1",
        "done": 4,
        "total": 4,
        "closed": True,
        "seconds": 0,
    }


def test_the_watcher_shows_each_running_model_with_its_eta(tmp_path):
    from vaelab.book import terminal

    report = tmp_path / "progress.jsonl"
    lines = [
        {"pid": 1, "desc": "mlp n=800", "done": 50, "total": 200, "seconds": 10.0},
        {"pid": 2, "desc": "conv n=16", "done": 10, "total": 10, "seconds": 3.0, "closed": True},
        {"pid": 3, "desc": "mlp n=2", "done": 0, "total": 100, "seconds": 0.0},
    ]
    report.write_text("".join(json.dumps(x) + "\n" for x in lines))
    text = terminal.progress_line(report, "book/a.ipynb")
    assert text == (
        "book/a.ipynb: training mlp n=800 [##--------] 25% (ETA 30 s), mlp n=2 [----------] 0%"
    )
    assert terminal.progress_line(tmp_path / "none.jsonl", "book/a.ipynb") == ""


def test_a_checkpoint_of_a_function_objective_resumes_in_another_process(fmnist):
    from vaelab import checkpoint

    model, cfg = models.MLPVAE(2, (8,)), TrainConfig(epochs=1, batch_size=128)
    kw = dict(seed=0, images=256, model=model)
    here = checkpoint.fingerprint(cfg, objective=elbo.cross_entropy, **kw)
    assert "0x" not in checkpoint.describe(elbo.cross_entropy)  # no address in the fingerprint
    assert here == checkpoint.fingerprint(cfg, objective=elbo.cross_entropy, **kw)
    assert here != checkpoint.fingerprint(cfg, objective=ELBO, **kw)
