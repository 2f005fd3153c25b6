"""Training throughput of `vaelab.train` against a per-sample DataLoader loop.

Same model (Azmoodeh's: 784-256-256-n, isotropic posterior, Bernoulli decoder), same loss, same
optimizer, same process, for n = 2, 20, 200, 800. The DataLoader loop is the pytorch/examples
style: a Dataset that turns one uint8 image into a float tensor per `__getitem__`, batched by
`DataLoader(shuffle=True)`, stepping torch's default Adam as pytorch/examples does (vaelab.train
uses the fused Adam: part of what is measured). Reports images/s and the model's GFLOP/s against
torch's own fp32 matmul throughput measured in the same run. A benchmark, not a test: timings
vary ±20% between runs, so compare the ratios.

    python bench/train_throughput.py [--dims 2 20 200 800] [--epochs 3] [--limit 60000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from vaelab import data, elbo, models
from vaelab.train import TrainConfig, train


class PerSampleImages(Dataset):
    """Builds each sample separately from uint8 pixels, as torchvision's datasets do."""

    def __init__(self, x: torch.Tensor):
        self.pixels = (x * 255).round().to(torch.uint8).numpy()

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, i):
        return torch.from_numpy(self.pixels[i]).float().div(255.0)


def dataloader_epoch(model, loader, opt) -> None:
    for batch in loader:
        loss = elbo.elbo_terms(model, batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def train_flops_per_image(model) -> float:
    """2 FLOPs per multiply-add of every Linear layer, ×3 for forward + backward."""
    macs = sum(
        m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)
    )
    return 3 * 2 * macs


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - t0) / 1e9


def measure(n: int, x: torch.Tensor, epochs: int, batch_size: int) -> dict:
    """Best epoch time of each loop; their epochs alternate, so both see the same machine load."""
    cfg = TrainConfig(epochs=1, batch_size=batch_size, lr=1e-4)
    torch.manual_seed(0)
    ours_model = models.MLPVAE(n, posterior="isotropic")
    model = models.MLPVAE(n, posterior="isotropic")
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loader = DataLoader(PerSampleImages(x), batch_size=batch_size, shuffle=True)
    ours, theirs = [], []
    for epoch in range(epochs):
        history = train(ours_model, x, cfg, seed=epoch, device=torch.device("cpu"))
        ours.append(history["epoch_seconds"][0])
        t0 = time.perf_counter()
        dataloader_epoch(model, loader, opt)
        theirs.append(time.perf_counter() - t0)
    ours, theirs = min(ours), min(theirs)
    flops = train_flops_per_image(model) * len(x)
    return {
        "latent_dim": n,
        "vaelab_epoch_s": ours,
        "dataloader_epoch_s": theirs,
        "vaelab_images_per_s": len(x) / ours,
        "dataloader_images_per_s": len(x) / theirs,
        "vaelab_gflops": flops / ours / 1e9,
        "speedup": theirs / ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 20, 200, 800])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=60_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/train_throughput.json"))
    args = parser.parse_args()
    x, _ = data.load("fashion-mnist")
    x = x[: args.limit]
    peak = matmul_gflops()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(x)} images, "
        f"batch {args.batch_size}; fp32 matmul 2048²: {peak:.0f} GFLOP/s"
    )
    print(
        f"{'n':>5} {'vaelab s/ep':>11} {'DataLoader s/ep':>15} {'speed-up':>8} "
        f"{'img/s':>8} {'GFLOP/s':>8} {'% matmul':>8}"
    )
    rows = []
    for n in args.dims:
        r = measure(n, x, args.epochs, args.batch_size)
        r["matmul_fraction"] = r["vaelab_gflops"] / peak
        rows.append(r)
        print(
            f"{n:>5} {r['vaelab_epoch_s']:>11.2f} {r['dataloader_epoch_s']:>15.2f} "
            f"{r['speedup']:>7.2f}x {r['vaelab_images_per_s']:>8.0f} "
            f"{r['vaelab_gflops']:>8.1f} {100 * r['matmul_fraction']:>7.0f}%"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"matmul_gflops": peak, "rows": rows}, indent=1))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
