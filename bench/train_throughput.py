"""Training throughput of three loops on Azmoodeh's model, against torch's own matmul.

The loops and the measurements are `vaelab.perf`'s (the Performance appendix runs the same code):
a per-sample DataLoader loop, `vaelab.train` on one tensor, and the same in bf16. Reports seconds
per epoch, images/s, the model's GFLOP/s and its fraction of torch's fp32 matmul throughput at
the model's own layer shapes and on 2048² matrices. A benchmark, not a test: timings vary ±20%
between runs, so compare the ratios.

    python bench/train_throughput.py [--dims 2 20 200 800] [--epochs 3] [--limit 60000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vaelab import data, models, perf


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
    peak = perf.matmul_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(x)} images, "
          f"batch {args.batch_size}; fp32 matmul 2048²: {peak:.0f} GFLOP/s")  # fmt: skip
    rows = []
    for n in args.dims:
        times = perf.epoch_times(n, x, epochs=args.epochs, batch_size=args.batch_size)
        model = models.MLPVAE(n, posterior="isotropic")
        gflops = perf.train_flops_per_image(model) * len(x) / times["tensor"] / 1e9
        at_shapes = perf.layer_gflops(model, batch_size=args.batch_size)
        rows.append({"latent_dim": n, **{f"{m}_epoch_s": t for m, t in times.items()},
                     "tensor_gflops": gflops, "matmul_gflops_at_shapes": at_shapes,
                     "speedup_vs_dataloader": times["dataloader"] / times["tensor"]})  # fmt: skip
        speedup = times["dataloader"] / times["tensor"]
        print(f"n={n:>4}: " + ", ".join(f"{m} {t:.2f} s/epoch" for m, t in times.items())
              + f"; tensor {gflops:.1f} GFLOP/s = {100 * gflops / at_shapes:.0f}% of matmul at"
              f" its shapes; {speedup:.2f}x the DataLoader loop")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"matmul_gflops": peak, "rows": rows}, indent=1))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
