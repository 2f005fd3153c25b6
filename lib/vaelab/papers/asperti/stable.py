"""§VII's stability claim ("may slightly vary from training to training, but not
substantially"): one rule, judged on each model that trains every seed twice as long: the dense
MNIST model (`asperti.stable`, the first), the convolutional MNIST one and both tiles models."""

from vaelab import claims

RULE = claims.holds_rule(
    "sd <= 1.5 units and every seed's longer run moves it by <= 2", over_seeds=True
)
TEXT = (
    "The number of inactive units may vary slightly from training to training, but not "
    "substantially (judged here on the {model} VAE)."
)


def _measure(sd: str, drift: str):
    return lambda g, run: {
        "holds": g[sd] <= 1.5 and g[drift] <= 2,
        "seeds": len(run["seeds"]),
    }


def _stable(claim_id: str, model: str, chapter: str, sd: str, drift: str, **more) -> claims.Claim:
    return claims.Claim(
        id=claim_id,
        paper="asperti",
        section="§VII",
        text=TEXT.format(model=model),
        paper_value="'not in a really substantial way'",
        measurement=f"sd of the {model} count over seeds, and its largest change when a seed "
        "trains twice as long",
        rule=RULE,
        chapter=f"sparsity/{chapter}",
        measure=_measure(sd, drift),
        **more,
    )


def longer(seeds, short: list[dict], long: list[dict], *, epochs: int, long_epochs: int):
    """Each seed's change in inactive count from `epochs` to `long_epochs` (rows of `report`, in
    the order of `seeds`), and a line per seed that says it."""
    if not len(seeds) == len(short) == len(long):
        raise ValueError(
            f"{len(seeds)} seeds, {len(short)} short runs and {len(long)} longer runs: one of "
            "each per seed"
        )
    drifts = [abs(b["inactive"] - a["inactive"]) for a, b in zip(short, long, strict=True)]
    lines = [
        f"seed {s}: {a['inactive']} inactive after {epochs} epochs, {b['inactive']} after "
        f"{long_epochs}"
        for s, a, b in zip(seeds, short, long, strict=True)
    ]
    return drifts, "\n".join(lines)


_LATER = (
    "2026-12-01 (session 16), before any count of the models retrained on another host was seen, "
    "seeds 1 and 2 trained longer included"
)
CLAIMS = (
    _stable(
        "asperti.stable",
        "dense MNIST",
        "01_dense_mnist",
        "inactive_dense_mnist_sd",
        "long_drift_max",
        earlier=(
            claims.Revision(
                "sd <= 1.5 units and the longer run moves it by <= 2",
                "it read the longer run of the first seed only; every seed's since 2026-12-01, "
                "before the other seeds were trained longer",
                word="confirmed",
            ),
        ),
        registered="2026-12-01 (session 12), before the other seeds were trained longer",
    ),
    _stable(
        "asperti.conv_mnist.stable",
        "convolutional MNIST",
        "02_convolutional",
        "inactive_conv_mnist_sd",
        "conv_mnist_drift_max",
        registered=_LATER
        + " (the earlier publication's short-run counts and first-seed longer run, 11 to 11 "
        "units, had been seen)",
    ),
    _stable(
        "asperti.dense_tiles.stable",
        "dense tiles",
        "04_tiles",
        "dense_tiles_sd",
        "dense_tiles_drift_max",
        registered=_LATER
        + " (the earlier publication's short-run counts and first-seed longer run, 12 to 13 "
        "units, had been seen)",
    ),
    _stable(
        "asperti.conv_tiles.stable",
        "convolutional tiles",
        "04_tiles",
        "conv_tiles_sd",
        "conv_tiles_drift_max",
        registered=_LATER
        + " (the earlier publication's short-run counts and first-seed longer run, 8 to 8 "
        "units, had been seen)",
    ),
)
