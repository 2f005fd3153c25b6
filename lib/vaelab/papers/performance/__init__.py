"""What training costs here: epoch times of three training loops, throughput against torch's own
matmul, the effect of bf16 on the ELBO, and a sweep in parallel workers against one process.

Used by the Performance appendix and by `bench/train_throughput.py`. The loops compared, on
Azmoodeh's model (784-256-256-n, isotropic posterior, Bernoulli decoder):

- `dataloader`: the pytorch/examples style, a Dataset that builds each image from uint8 pixels in
  `__getitem__`, batched by `DataLoader(shuffle=True)`, torch's default Adam;
- `tensor`: `vaelab.train`, the data set held as one tensor, sliced by a permutation, fused Adam;
- `bf16`: the same with `precision="bf16"` (autocast of the forward pass).

Timings vary ±20% between runs: epochs of the methods alternate so that they share the machine's
load, the best epoch of each is kept, and only ratios measured in one process are compared.
"""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from vaelab import cache, data, elbo, models, sweep
from vaelab.papers.performance.summary import (  # noqa: F401  (re-exported: what the appendix cites)
    ROW_COLUMNS,
    TARGETS,
    dense_rows,
    floor_words,
    row_columns,
    summary,
)
from vaelab.train import TrainConfig, progress_bar, train

METHODS = ("dataloader", "tensor", "bf16")
HIDDEN = (256, 256)  # Azmoodeh's network, the dense model every timing trains
CONV_IMAGES = 10_000  # images of a timed epoch of the convolutional model (~10x dearer per image)


class PerSampleImages(Dataset):
    """Builds each sample separately from uint8 pixels, as torchvision's datasets do."""

    def __init__(self, x: torch.Tensor):
        self.pixels = (x * 255).round().to(torch.uint8).numpy()

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, i):
        return torch.from_numpy(self.pixels[i]).float().div(255.0)


def _layers_seen(model) -> list[tuple[torch.nn.Module, int, bool]]:
    """`(layer, MACs of one image, needs an input gradient)` for every Linear and (transposed)
    convolution layer, in the order one image's encode and decode run them."""
    seen, handles = [], []

    def count(layer, inputs, out):
        if isinstance(layer, torch.nn.Linear):
            macs = layer.in_features * layer.out_features
        elif isinstance(layer, torch.nn.ConvTranspose2d):  # every input pixel feeds a kernel
            k = layer.out_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
            macs = inputs[0].numel() * k
        else:  # Conv2d: every output pixel sums a kernel
            k = layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
            macs = out.numel() * k
        seen.append((layer, macs, inputs[0].requires_grad))

    kinds = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    for layer in model.modules():
        if isinstance(layer, kinds):
            handles.append(layer.register_forward_hook(count))
    was_training = model.training
    model.eval()
    with torch.enable_grad():  # as in training: the images need no gradient, the weights do
        h, _ = model.encode(torch.zeros(1, *models.IMAGE_SHAPE))
        model.decode(h)
    model.train(was_training)
    for handle in handles:
        handle.remove()
    return seen


def train_flops_per_image(model) -> float:
    """Training FLOPs of one image: 2 per multiply-add of every Linear and (transposed)
    convolution layer, for the forward product and for the two backward products (the weight
    gradient and the input gradient), less the input gradient of the layers that read the
    images, which backpropagation never computes."""
    return sum(2.0 * macs * (3 if grad else 2) for _, macs, grad in _layers_seen(model))


def training_products(model, *, batch_size: int) -> list[list[tuple[int, int, int]]]:
    """Per Linear layer of a dense model, the `(m, k, n)` shapes of the matmuls one training
    batch runs: forward `(B, in) @ (in, out)`, weight gradient `(out, B) @ (B, in)` and, unless
    the layer reads the images, input gradient `(B, out) @ (out, in)`."""
    out = []
    for layer, _, grad in _layers_seen(model):
        if not isinstance(layer, torch.nn.Linear):
            raise ValueError(f"training products are defined for dense models, not {layer}")
        i, o, b = layer.in_features, layer.out_features, batch_size
        out.append([(b, i, o), (o, b, i)] + ([(b, o, i)] if grad else []))
    return out


def _gflops(pairs, repeats: int) -> float:
    for a, b in pairs:  # warm-up
        a @ b
    t0 = time.perf_counter()
    for _ in range(repeats):
        for a, b in pairs:
            a @ b
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in pairs) * repeats
    return flops / (time.perf_counter() - t0) / 1e9


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """torch's fp32 matmul throughput on square matrices, GFLOP/s."""
    return _gflops([(torch.randn(size, size), torch.randn(size, size))], repeats)


def layer_gflops(model, *, batch_size: int, repeats: int = 20) -> float:
    """torch's fp32 matmul throughput on contiguous matrices of the shapes of a dense model's
    `training_products`, each run once per repeat (one batch's work)."""
    shapes = [s for layer in training_products(model, batch_size=batch_size) for s in layer]
    return _gflops([(torch.randn(m, k), torch.randn(k, n)) for m, k, n in shapes], repeats)


def matmul_floor_seconds(model, *, images: int, batch_size: int, repeats: int = 20) -> float:
    """Seconds an epoch of `images` would take if training did nothing but the model's matmuls
    at torch's throughput on their shapes: no fp32 training loop can be faster."""
    gflops = layer_gflops(model, batch_size=batch_size, repeats=repeats)
    return train_flops_per_image(model) * images / (gflops * 1e9)


def bench_model(kind: str, latent_dim: int):
    """The model a workload times: "mlp" (Azmoodeh's dense VAE) or "conv" (Asperti's)."""
    if kind == "conv":
        return models.ConvVAE(latent_dim)
    if kind == "mlp":
        return models.MLPVAE(latent_dim, posterior="isotropic")
    raise ValueError(f"kind must be 'mlp' or 'conv', got {kind!r}")


def _dataloader_epoch(model, loader, opt) -> None:
    for batch in loader:
        loss = elbo.elbo_terms(model, batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def epoch_times(
    latent_dim: int,
    x: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    methods=METHODS,
    kind: str = "mlp",
) -> dict[str, float]:
    """Best seconds per epoch over `x` of each method (on the CPU), epochs alternating.

    kind: "mlp" (Azmoodeh's model) or "conv" (Asperti's convolutional VAE)."""
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown method(s) {sorted(unknown)}; known: {', '.join(METHODS)}")
    torch.manual_seed(0)
    nets = {m: bench_model(kind, latent_dim) for m in methods}
    if "dataloader" in nets:
        loader = DataLoader(PerSampleImages(x), batch_size=batch_size, shuffle=True)
        opt = torch.optim.Adam(nets["dataloader"].parameters(), lr=1e-4)
    best = {m: float("inf") for m in methods}
    for epoch in range(epochs):
        for m in methods:
            t0 = time.perf_counter()
            if m == "dataloader":
                _dataloader_epoch(nets[m], loader, opt)
            else:
                precision = "bf16" if m == "bf16" else "fp32"
                config = TrainConfig(epochs=1, batch_size=batch_size, lr=1e-4, precision=precision)
                cpu = torch.device("cpu")
                train(nets[m], x, config, objective=elbo.Elbo(), seed=epoch, device=cpu)
            best[m] = min(best[m], time.perf_counter() - t0)
    return best


def precision_effect(
    latent_dim: int,
    x: torch.Tensor,
    x_test: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float = 1e-3,
) -> dict:
    """Train the same model from the same seed in fp32 and in bf16: test ELBO and seconds."""
    out = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = models.MLPVAE(latent_dim, posterior="isotropic")
        config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, precision=precision)
        t0 = time.perf_counter()
        train(model, x, config, objective=elbo.Elbo(), seed=0, device=torch.device("cpu"))
        seconds = time.perf_counter() - t0
        out[precision] = {
            "test_elbo": elbo.evaluate(model, x_test, seed=0)["elbo"],
            "seconds": seconds,
        }
    return out


@contextlib.contextmanager
def _private_cache():
    old = os.environ.get("VAELAB_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VAELAB_CACHE_DIR"] = tmp
        try:
            yield
        finally:
            if old is None:
                del os.environ["VAELAB_CACHE_DIR"]
            else:
                os.environ["VAELAB_CACHE_DIR"] = old


def sweep_seconds(*, latent_dims, epochs: int, train_limit: int, batch_size: int) -> dict:
    """Wall seconds to train one model per latent dimension: one after the other in this process
    with 2 torch threads, and with `sweep.fit_many` in 2 one-thread workers (private caches)."""

    def configs(seed):
        return [
            cache.mlp_config(
                n,
                hidden=HIDDEN,
                posterior="isotropic",
                epochs=epochs,
                lr=1e-4,
                batch_size=batch_size,
                train_limit=train_limit,
                seed=seed,
            )
            for n in latent_dims
        ]

    threads = torch.get_num_threads()
    out = {}
    with _private_cache():
        torch.set_num_threads(2)
        t0 = time.perf_counter()
        for config in configs(0):
            cache.fit(config, device=torch.device("cpu"))
        out["sequential_2_threads"] = time.perf_counter() - t0
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        sweep.fit_many(configs(1), workers=2, threads=1, progress=False)
        out["fit_many_2x1_thread"] = time.perf_counter() - t0
    return out


def machine() -> dict:
    """What a timing depends on: the CPU model and the instruction set torch uses on it (one
    "AMD EPYC" host has AVX-512 with bf16, another AVX2 only, with bf16 emulated), the cores,
    torch's build and its thread count."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "capability": torch.backends.cpu.get_cpu_capability(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def measurements(
    *,
    latent_dims,
    epochs: int,
    batch_size: int,
    train_limit: int,
    test_limit: int,
    remeasure: bool = False,
) -> dict:
    """Everything the Performance appendix reports, measured once per `machine()` and sizes and
    kept in the cache (`cache.memo`), so that a re-run reads this machine's timings back;
    `remeasure=True` measures again and replaces them. See `_measure` for what is inside."""
    sizes = dict(
        latent_dims=list(latent_dims),
        epochs=epochs,
        batch_size=batch_size,
        train_limit=train_limit,
        test_limit=test_limit,
    )
    params = {"machine": machine(), **sizes}
    found = cache.memo("perf-measurements", params, lambda: _measure(**sizes), refresh=remeasure)
    for timed in (*found.get("dense", {}).values(), found.get("conv", {})):
        if "epoch_s" in timed:  # the cache keeps keys sorted: give back the methods' order
            timed["epoch_s"] = {m: timed["epoch_s"][m] for m in METHODS}
    return found


def _measure(
    *, latent_dims, epochs: int, batch_size: int, train_limit: int, test_limit: int
) -> dict:
    """When and where it was measured; the fp32 matmul throughput on 2048² matrices; per latent
    dimension of the dense model the best epoch of each method, the matmul floor and the FLOPs
    per image; bf16's effect at n = 20; the convolutional workload; the sweep in workers."""
    x, _ = data.load("fashion-mnist", "train", quiet=True)
    x_test, _ = data.load("fashion-mnist", "test", quiet=True)
    x, x_test = x[: train_limit or None], x_test[: test_limit or None]
    bar = progress_bar(len(latent_dims) + 3, "measuring")
    out = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "images": len(x),
        "matmul_gflops": matmul_gflops(),
        "dense": {},
    }
    for n in latent_dims:
        model = bench_model("mlp", n)
        out["dense"][str(n)] = {
            "epoch_s": epoch_times(n, x, epochs=epochs, batch_size=batch_size),
            "floor_s": matmul_floor_seconds(model, images=len(x), batch_size=batch_size),
            "flops_per_image": train_flops_per_image(model),
        }
        bar.update(1)
    out["precision"] = precision_effect(20, x, x_test, epochs=epochs, batch_size=batch_size)
    bar.update(1)
    x_conv = x[:CONV_IMAGES]
    out["conv"] = {
        "images": len(x_conv),
        "flops_per_image": train_flops_per_image(bench_model("conv", 16)),
        "epoch_s": epoch_times(16, x_conv, epochs=epochs, batch_size=batch_size, kind="conv"),
    }
    bar.update(1)
    out["sweep_s"] = sweep_seconds(
        latent_dims=latent_dims, epochs=1, train_limit=train_limit, batch_size=batch_size
    )
    bar.update(1)
    bar.close()
    return out
