"""What the Performance appendix derives from `measurements`: the ratios per latent dimension,
the appendix's table, and every value its text cites, phrased over keys that every run makes
(the lowest and the highest value over n, never one named n), with the targets met and missed."""

from __future__ import annotations

# The appendix's targets, each judged by `summary` from the measurements
TARGETS = (
    "2x DataLoader",  # the tensor loop at least twice as fast as the DataLoader loop, at every n
    "70% of matmul",  # the tensor loop at >= 70 % of torch's matmul at the model's shapes, every n
    "bf16 within 5% of the fp32 ELBO",  # |bf16 - fp32| test ELBO < 5 % of |fp32| (n = 20)
    "workers beat one process",  # 2 one-thread workers train the sweep faster than 2 threads
)


def dense_rows(measured: dict) -> dict[int, dict]:
    """Per latent dimension, from `measurements`: the tensor loop's speed-up over the DataLoader
    loop, the most any fp32 loop could reach (DataLoader over the matmul floor), bf16's speed-up,
    images/s, GFLOP/s, and the fraction of matmul throughput at the model's shapes (the floor
    over the tensor loop's epoch: both do the same FLOPs)."""
    rows, images = {}, measured["images"]
    for n, d in measured["dense"].items():
        t = d["epoch_s"]
        rows[int(n)] = {
            "speedup": t["dataloader"] / t["tensor"],
            "max_speedup": t["dataloader"] / d["floor_s"],
            "bf16_speedup": t["tensor"] / t["bf16"],
            "images_per_s": images / t["tensor"],
            "gflops": d["flops_per_image"] * images / t["tensor"] / 1e9,
            "matmul_fraction": d["floor_s"] / t["tensor"],
        }
    return rows


# The appendix's table by n: {column: (label, decimals)}; `row_columns` fills it
ROW_COLUMNS = {
    "speedup": ("speed-up of the tensor loop over the DataLoader loop (×)", 2),
    "max_speedup": ("largest fp32 speed-up: DataLoader epoch / matmul floor (×)", 2),
    "matmul_percent": ("matmul floor / tensor epoch (%)", 1),
    "bf16_speedup": ("speed-up of bf16 over the fp32 tensor loop (×)", 2),
}


def row_columns(rows: dict[int, dict]) -> dict[str, dict[int, tuple[float, float]]]:
    """`dense_rows` as `{column: {n: (value, 0.0)}}` for `ROW_COLUMNS` (one measurement per n:
    no spread), the matmul fraction in percent."""
    scale = {"matmul_percent": ("matmul_fraction", 100.0)}
    out = {}
    for column in ROW_COLUMNS:
        key, factor = scale.get(column, (column, 1.0))
        out[column] = {n: (factor * r[key], 0.0) for n, r in rows.items()}
    return out


def floor_words(rows: dict[int, dict]) -> str:
    """What the matmul floor says of the 2× target: at which n a loop doing nothing but the
    model's matmuls would be at least twice as fast as the DataLoader loop."""
    reach = [n for n in sorted(rows) if rows[n]["max_speedup"] >= 2]
    if len(reach) == len(rows):
        return "leaves room for the 2× target at every n"
    if not reach:
        return "rules out the 2× target at every n"
    return "rules out the 2× target except at " + ", ".join(f"n = {n}" for n in reach)


def summary(measured: dict) -> dict:
    """The appendix's glued values: `perf_<column>_low`/`_high` over n for each column of
    `ROW_COLUMNS`, the fp32 matmul peak, bf16's test-ELBO change on the n = 20 comparison, the
    convolutional workload's speed-up and matmul share, the sweep's gain,
    `floor_words`, and the `TARGETS` met and missed (comma-separated, or "none"; a target
    missed says by how much: per n for the per-n targets)."""
    rows = dense_rows(measured)
    out = {}
    for column, by_n in row_columns(rows).items():
        values = [value for value, _ in by_n.values()]
        out[f"perf_{column}_low"], out[f"perf_{column}_high"] = min(values), max(values)
    peak, effect = measured["matmul_gflops"], measured["precision"]
    conv, sweep_s = measured["conv"], measured["sweep_s"]
    tensor_s = conv["epoch_s"]["tensor"]
    delta = effect["bf16"]["test_elbo"] - effect["fp32"]["test_elbo"]
    out |= {
        "perf_peak_gflops": peak,
        "perf_bf16_elbo_delta": delta,
        "perf_conv_speedup": conv["epoch_s"]["dataloader"] / tensor_s,
        "perf_conv_percent": 100 * conv["flops_per_image"] * conv["images"] / tensor_s / 1e9 / peak,
        "perf_sweep_gain": sweep_s["sequential_2_threads"] / sweep_s["fit_many_2x1_thread"],
        "perf_floor_words": floor_words(rows),
    }
    gain, tolerance = out["perf_sweep_gain"], 0.05 * abs(effect["fp32"]["test_elbo"])
    by_n = sorted(rows.items())
    short = {  # where each target is missed, with the value as the table shows it
        "2x DataLoader": [f"{r['speedup']:.2f}× at n = {n}" for n, r in by_n if r["speedup"] < 2],
        "70% of matmul": [
            f"{100 * r['matmul_fraction']:.1f} % at n = {n}"
            for n, r in by_n
            if r["matmul_fraction"] < 0.7
        ],
        "bf16 within 5% of the fp32 ELBO": [f"{delta:+.2f} nats"] * (abs(delta) >= tolerance),
        "workers beat one process": [f"{gain:.2f}×"] * (gain <= 1),
    }
    met = {t: not short[t] for t in TARGETS}
    missed = [f"{t} ({', '.join(short[t])})" for t, ok in met.items() if not ok]
    out["perf_targets_met"] = ", ".join(t for t, ok in met.items() if ok) or "none"
    out["perf_targets_missed"] = ", ".join(missed) or "none"
    return out
