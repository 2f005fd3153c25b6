"""Training throughput of three loops on the dense, convolutional and sweep workloads.

The measurement is `vaelab.papers.performance.measurements`, the one the Performance appendix
reports: a per-sample DataLoader loop, `vaelab.train` on one tensor, and the same in bf16, on
Azmoodeh's dense model at each latent dimension and on Asperti's convolutional VAE; the matmul
floor of the dense model (its training matmuls alone, at their shapes); torch's fp32 matmul on 2048²
matrices; and one epoch per dimension trained one after the other (2 threads) and with
`sweep.fit_many` (2 one-thread workers). For each workload it prints seconds per epoch,
images/s, GFLOP/s, the fraction of matmul throughput and the ratio to the DataLoader loop. A
benchmark, not a test: timings vary ±20% between runs, so compare the ratios. It always measures
afresh (and replaces the timings the appendix keeps for this machine and these sizes).

    python bench/train_throughput.py [--dims 2 20 200 800] [--epochs 3] [--limit 0]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from vaelab.papers import performance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 20, 200, 800])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0, help="training images, 0 for all")
    parser.add_argument("--test-limit", type=int, default=0, help="test images, 0 for all")
    parser.add_argument("--out", type=Path, default=Path("bench/results/train_throughput.json"))
    args = parser.parse_args()
    os.environ.setdefault("VAELAB_PROGRESS", "0")  # one line per result, no progress bars
    m = performance.measurements(
        latent_dims=args.dims,
        epochs=args.epochs,
        batch_size=args.batch_size,
        train_limit=args.limit,
        test_limit=args.test_limit,
        remeasure=True,
    )
    machine, peak = m["machine"], m["matmul_gflops"]
    print(
        f"{machine['cpu']}, {machine['cores']} cores, torch {machine['torch']}, "
        f"{machine['threads']} threads; {m['images']} images, batch {args.batch_size}; "
        f"fp32 matmul 2048²: {peak:.0f} GFLOP/s"
    )
    for n, r in performance.dense_rows(m).items():
        d = m["dense"][str(n)]
        epochs = ", ".join(f"{k} {t:.2f}" for k, t in d["epoch_s"].items())
        print(
            f"dense n={n:>4}: s/epoch {epochs}, matmul floor {d['floor_s']:.2f}; tensor "
            f"{r['images_per_s']:.0f} images/s, {r['gflops']:.1f} GFLOP/s = "
            f"{100 * r['matmul_fraction']:.0f}% of matmul at its shapes; "
            f"{r['speedup']:.2f}x the DataLoader loop, at most {r['max_speedup']:.2f}x"
        )
    c = m["conv"]
    gflops = c["flops_per_image"] * c["images"] / c["epoch_s"]["tensor"] / 1e9
    epochs = ", ".join(f"{k} {t:.2f}" for k, t in c["epoch_s"].items())
    ratio = c["epoch_s"]["dataloader"] / c["epoch_s"]["tensor"]
    print(
        f"conv n=16 ({c['images']} images): s/epoch {epochs}; tensor {gflops:.1f} GFLOP/s = "
        f"{100 * gflops / peak:.0f}% of matmul 2048²; {ratio:.2f}x the DataLoader loop"
    )
    p = m["precision"]
    print(
        f"bf16 at n=20: test ELBO {p['bf16']['test_elbo']:.2f} vs fp32 "
        f"{p['fp32']['test_elbo']:.2f} nats"
    )
    images = m["images"] * len(args.dims)
    parts = [f"{k} {s:.1f} s ({images / s:.0f} images/s)" for k, s in m["sweep_s"].items()]
    print("sweep of one epoch per dimension: " + ", ".join(parts))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**m, "dense_rows": performance.dense_rows(m)}, indent=1))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
