"""perf: the measurements of the Performance appendix, at sizes a test can afford."""

import pytest
import torch

from vaelab import data, models
from vaelab.papers import performance


def test_flops_per_image_count_forward_and_both_backward_products_but_the_data_gradient():
    model = models.MLPVAE(20, (256, 256), posterior="isotropic")
    macs = 784 * 256 + 256 * 256 + 256 * 20 + 256 * 1 + 20 * 256 + 256 * 256 + 256 * 784
    # forward, weight gradient and input gradient: 3 products of 2 FLOPs per MAC, except that
    # nothing asks for the gradient of the images, so the first layer has no input gradient
    assert performance.train_flops_per_image(model) == 6 * macs - 2 * 784 * 256


def test_training_products_are_the_shapes_of_each_layers_three_matmuls():
    model = models.MLPVAE(3, (8,), posterior="diagonal")
    shapes = performance.training_products(model, batch_size=5)
    # encoder 784->8 (no input gradient), heads 8->3 twice, decoder 3->8 and 8->784
    assert shapes[0] == [(5, 784, 8), (8, 5, 784)]
    assert shapes[1] == [(5, 8, 3), (3, 5, 8), (5, 3, 8)]
    assert len(shapes) == 5 and [len(s) for s in shapes] == [2, 3, 3, 3, 3]
    flops = sum(2 * m * k * n for layer in shapes for m, k, n in layer) / 5
    assert flops == performance.train_flops_per_image(model)


def test_matmul_throughput_at_the_model_shapes_is_positive():
    model = models.MLPVAE(20, (64,), posterior="isotropic")
    assert performance.matmul_gflops(size=128, repeats=2) > 0
    assert performance.layer_gflops(model, batch_size=64, repeats=2) > 0


def test_matmul_floor_is_the_epoch_of_the_training_products_alone():
    model = models.MLPVAE(20, (64,), posterior="isotropic")
    floor = performance.matmul_floor_seconds(model, images=6400, batch_size=64, repeats=2)
    assert 0 < floor < float("inf")
    with pytest.raises(ValueError, match="dense"):
        performance.matmul_floor_seconds(models.ConvVAE(4), images=64, batch_size=64)


def test_epoch_times_of_each_method():
    x, _ = data.load("fashion-mnist", quiet=True)
    rows = performance.epoch_times(4, x[:512], epochs=1, batch_size=128)
    assert set(rows) == set(performance.METHODS)
    assert all(v > 0 for v in rows.values())
    only = performance.epoch_times(4, x[:256], epochs=1, batch_size=128, methods=("tensor",))
    assert list(only) == ["tensor"]
    with pytest.raises(ValueError, match="unknown method"):
        performance.epoch_times(4, x[:512], epochs=1, batch_size=128, methods=("fast",))


def test_precision_effect_trains_both_and_reports_test_elbo():
    x, _ = data.load("fashion-mnist", quiet=True)
    xt, _ = data.load("fashion-mnist", "test", quiet=True)
    out = performance.precision_effect(4, x[:1024], xt[:256], epochs=1, batch_size=128)
    assert set(out) == {"fp32", "bf16"}
    assert out["bf16"]["test_elbo"] == pytest.approx(out["fp32"]["test_elbo"], rel=0.05)
    assert all(v["seconds"] > 0 for v in out.values())


def test_sweep_timing_uses_a_private_cache(tmp_path):
    from vaelab import cache

    before = set(cache.cache_root().glob("*")) if cache.cache_root().exists() else set()
    out = performance.sweep_seconds(latent_dims=[2, 4], epochs=1, train_limit=512, batch_size=128)
    assert set(out) == {"sequential_2_threads", "fit_many_2x1_thread"} and min(out.values()) > 0
    after = set(cache.cache_root().glob("*")) if cache.cache_root().exists() else set()
    assert after == before
    assert torch.get_num_threads() == 2  # restored


def test_flops_per_image_count_convolutions_at_their_output_size():
    class OneConv(torch.nn.Module):
        latent_dim = 1

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)  # 28 -> 14
            self.up = torch.nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1)

        def encode(self, x):
            return self.conv(x), None

        def decode(self, h):
            return self.up(h)

    # conv: 4 x 14 x 14 outputs of 1 x 3 x 3 MACs; transposed: 4 x 14 x 14 inputs x 1 x 3 x 3;
    # the conv reads the images: no input gradient (4 FLOPs per MAC); the transposed one: 6
    assert performance.train_flops_per_image(OneConv()) == 4 * 4 * 14 * 14 * 9 + 6 * 4 * 14 * 14 * 9
    assert performance.train_flops_per_image(models.ConvVAE(16)) > 6e6


def test_epoch_times_of_the_convolutional_model():
    x, _ = data.load("fashion-mnist", quiet=True)
    rows = performance.epoch_times(
        16, x[:256], epochs=1, batch_size=128, kind="conv", methods=("dataloader", "tensor")
    )
    assert set(rows) == {"dataloader", "tensor"} and all(v > 0 for v in rows.values())
    with pytest.raises(ValueError, match="kind must be 'mlp' or 'conv'"):
        performance.epoch_times(16, x[:256], epochs=1, batch_size=128, kind="rnn")


def test_machine_names_what_a_timing_depends_on():
    m = performance.machine()
    assert set(m) == {"cpu", "capability", "cores", "torch", "threads"}
    assert m["torch"] == torch.__version__ and m["threads"] == torch.get_num_threads()
    # two hosts both called "AMD EPYC" differ: one with AVX-512 and bf16, one with AVX2 only,
    # where bf16 is emulated (measured on 2026-11-30: an epoch 12x slower than fp32)
    assert m["capability"] == torch.backends.cpu.get_cpu_capability()


SIZES = dict(latent_dims=[2], epochs=1, batch_size=128, train_limit=512, test_limit=128)


def test_measurements_are_kept_per_machine_and_sizes_until_remeasured(monkeypatch):
    calls = []

    def fake(**sizes):
        calls.append(sizes)
        return {"measured": f"run {len(calls)}"}

    monkeypatch.setattr(performance, "_measure", fake)
    assert performance.measurements(**SIZES)["measured"] == "run 1"
    assert performance.measurements(**SIZES)["measured"] == "run 1" and len(calls) == 1
    assert performance.measurements(**SIZES, remeasure=True)["measured"] == "run 2"
    assert performance.measurements(**{**SIZES, "epochs": 2})["measured"] == "run 3"
    torch.set_num_threads(1)  # another thread count is another machine
    try:
        assert performance.measurements(**SIZES)["measured"] == "run 4"
    finally:
        torch.set_num_threads(2)


def test_measure_reports_every_workload_and_dense_rows_derive_the_ratios():
    m = performance.measurements(**SIZES)
    assert m["images"] == 512 and m["machine"] == performance.machine()
    assert list(m["dense"]["2"]["epoch_s"]) == list(performance.METHODS)  # in the methods' order
    assert set(m["precision"]) == {"fp32", "bf16"} and m["conv"]["images"] == 512
    assert set(m["sweep_s"]) == {"sequential_2_threads", "fit_many_2x1_thread"}
    rows = performance.dense_rows(m)
    t, d = m["dense"]["2"]["epoch_s"], m["dense"]["2"]
    assert list(rows) == [2]
    assert rows[2]["speedup"] == t["dataloader"] / t["tensor"]
    assert rows[2]["max_speedup"] == t["dataloader"] / d["floor_s"]
    assert rows[2]["matmul_fraction"] == d["floor_s"] / t["tensor"]
    assert rows[2]["gflops"] == d["flops_per_image"] * 512 / t["tensor"] / 1e9


def test_row_columns_give_the_appendix_table_per_n_with_the_matmul_share_in_percent():
    rows = {
        2: {"speedup": 1.5, "max_speedup": 2.0, "bf16_speedup": 1.25, "matmul_fraction": 0.75},
        800: {"speedup": 1.0, "max_speedup": 1.5, "bf16_speedup": 1.5, "matmul_fraction": 0.5},
    }
    columns = performance.row_columns(rows)
    assert list(columns) == list(performance.ROW_COLUMNS)
    assert columns["matmul_percent"] == {2: (75.0, 0.0), 800: (50.0, 0.0)}
    assert columns["speedup"][800] == (1.0, 0.0) and columns["bf16_speedup"][2] == (1.25, 0.0)


def _measured(max_speedups, *, speedup=1.5, fraction=0.8, gain=1.2, elbo=(-266.0, -266.5)):
    """A `measurements` result with one dense row per max speed-up (n = 2, 20, 200, ...)."""
    dense = {}
    for i, top in enumerate(max_speedups):
        epoch = {"dataloader": 3.0, "tensor": 3.0 / speedup, "bf16": 1.5 / speedup}
        dense[str(2 * 10**i)] = {
            "epoch_s": epoch,
            "floor_s": fraction * epoch["tensor"] if top is None else 3.0 / top,
            "flops_per_image": 3e6,
        }
    return {
        "images": 1000,
        "matmul_gflops": 200.0,
        "dense": dense,
        "precision": {
            "fp32": {"test_elbo": elbo[0], "seconds": 6.0},
            "bf16": {"test_elbo": elbo[1], "seconds": 4.0},
        },
        "conv": {
            "images": 100,
            "flops_per_image": 2e7,
            "epoch_s": {"dataloader": 2.0, "tensor": 1.0},
        },
        "sweep_s": {"sequential_2_threads": 12.0, "fit_many_2x1_thread": 12.0 / gain},
    }


def test_floor_words_say_at_which_n_the_matmul_floor_leaves_room_for_the_2x_target():
    words = performance.floor_words
    assert words(performance.dense_rows(_measured([2.5, 2.0]))) == (
        "leaves room for the 2× target at every n"
    )
    assert words(performance.dense_rows(_measured([1.9, 1.5]))) == (
        "rules out the 2× target at every n"
    )
    assert words(performance.dense_rows(_measured([1.6, 1.6, 2.1]))) == (
        "rules out the 2× target except at n = 200"
    )


def test_summary_glues_ranges_over_n_the_bf16_comparison_the_conv_and_sweep_ratios():
    s = performance.summary(_measured([1.8, 2.4], speedup=1.5))
    assert s["perf_max_speedup_low"] == pytest.approx(1.8)
    assert s["perf_max_speedup_high"] == pytest.approx(2.4)
    assert s["perf_speedup_low"] == s["perf_speedup_high"] == pytest.approx(1.5)
    assert s["perf_bf16_speedup_low"] == pytest.approx(2.0)
    assert s["perf_matmul_percent_low"] == pytest.approx(100 * 1.5 / 2.4)
    assert s["perf_bf16_elbo_delta"] == pytest.approx(-0.5)
    assert s["perf_conv_speedup"] == pytest.approx(2.0)
    assert s["perf_conv_percent"] == pytest.approx(100 * 2e7 * 100 / 1.0 / 1e9 / 200.0)
    assert s["perf_sweep_gain"] == pytest.approx(1.2) and s["perf_peak_gflops"] == 200.0
    assert s["perf_floor_words"] == "rules out the 2× target except at n = 20"


def test_summary_names_each_target_met_or_missed():
    met = performance.summary(_measured([None, None], speedup=2.5, fraction=0.8, gain=1.5))
    assert met["perf_targets_met"] == ", ".join(performance.TARGETS)
    assert met["perf_targets_missed"] == "none"
    missed = performance.summary(
        _measured([None], speedup=1.5, fraction=0.6, gain=0.9, elbo=(-100.0, -110.0))
    )
    assert missed["perf_targets_met"] == "none"
    where = [" (1.50× at n = 2)", " (60.0 % at n = 2)", " (-10.00 nats)", " (0.90×)"]
    assert missed["perf_targets_missed"] == ", ".join(
        t + w for t, w in zip(performance.TARGETS, where, strict=True)
    )
    one = performance.summary(_measured([None, None, None], fraction=0.8))
    assert one["perf_targets_missed"] == (
        "2x DataLoader (1.50× at n = 2, 1.50× at n = 20, 1.50× at n = 200)"
    )
