"""Training throughput of three loops on the dense, convolutional and sweep workloads.

The loops and the measurements are `vaelab.perf`'s (the Performance appendix runs the same code):
a per-sample DataLoader loop, `vaelab.train` on one tensor, and the same in bf16. For each
workload: seconds per epoch, images/s, the model's GFLOP/s, its fraction of torch's fp32 matmul
throughput (at the model's own layer shapes for the dense model, on 2048² matrices for all,
both measured in this run) and the ratio to the DataLoader loop. The sweep workload trains one
model per dimension one after the other (2 threads) and with `sweep.fit_many` (2 one-thread
workers). A benchmark, not a test: timings vary ±20% between runs, so compare the ratios.

    python bench/train_throughput.py [--workloads dense conv sweep] [--dims 2 20 200 800]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from vaelab import data, perf


def _row(kind: str, n: int, x, args, peak: float) -> dict:
    times = perf.epoch_times(n, x, epochs=args.epochs, batch_size=args.batch_size, kind=kind)
    model = perf.bench_model(kind, n)
    flops = perf.train_flops_per_image(model) * len(x)
    row = {"workload": "dense" if kind == "mlp" else "conv", "latent_dim": n,
           **{f"{m}_epoch_s": t for m, t in times.items()},
           **{f"{m}_images_per_s": len(x) / t for m, t in times.items()},
           "tensor_gflops": flops / times["tensor"] / 1e9,
           "speedup_vs_dataloader": times["dataloader"] / times["tensor"]}  # fmt: skip
    row["fraction_of_matmul_2048"] = row["tensor_gflops"] / peak
    if kind == "mlp":
        at_shapes = perf.layer_gflops(model, batch_size=args.batch_size)
        row["fraction_of_matmul_at_shapes"] = row["tensor_gflops"] / at_shapes
    key, where = (("fraction_of_matmul_at_shapes", "at its shapes") if kind == "mlp"
                  else ("fraction_of_matmul_2048", "2048²"))  # fmt: skip
    epochs = ", ".join(f"{m} {t:.2f} s/epoch" for m, t in times.items())
    print(f"{row['workload']} n={n:>4}: {epochs}; tensor {row['tensor_gflops']:.1f} GFLOP/s = "
          f"{100 * row[key]:.0f}% of matmul {where}; "
          f"{row['speedup_vs_dataloader']:.2f}x the DataLoader loop")  # fmt: skip
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["dense", "conv", "sweep"],
                        choices=["dense", "conv", "sweep"])  # fmt: skip
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 20, 200, 800])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=60_000)
    parser.add_argument("--conv-limit", type=int, default=10_000, help="images of a conv epoch")
    parser.add_argument("--out", type=Path, default=Path("bench/results/train_throughput.json"))
    args = parser.parse_args()
    os.environ.setdefault("VAELAB_PROGRESS", "0")  # one line per result, no progress bars
    x, _ = data.load("fashion-mnist")
    x = x[: args.limit]
    peak = perf.matmul_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(x)} images, "
          f"batch {args.batch_size}; fp32 matmul 2048²: {peak:.0f} GFLOP/s")  # fmt: skip
    rows = []
    if "dense" in args.workloads:
        rows += [_row("mlp", n, x, args, peak) for n in args.dims]
    if "conv" in args.workloads:
        rows.append(_row("conv", 16, x[: args.conv_limit], args, peak))
    if "sweep" in args.workloads:
        seconds = perf.sweep_seconds(latent_dims=args.dims, epochs=1, train_limit=args.limit,
                                     batch_size=args.batch_size)  # fmt: skip
        images = len(x) * len(args.dims)
        rows.append({"workload": "sweep", "latent_dims": args.dims, **seconds,
                     **{f"{k}_images_per_s": images / s for k, s in seconds.items()}})  # fmt: skip
        parts = [f"{k} {s:.1f} s ({images / s:.0f} images/s)" for k, s in seconds.items()]
        print("sweep of one epoch per dimension: " + ", ".join(parts))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"matmul_gflops": peak, "rows": rows}, indent=1))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
