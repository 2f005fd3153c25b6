"""Run sizes and parameter validation: the one place that decides how big a chapter's runs are.

Three profiles size every chapter: `smoke` (CI: each chapter in about a minute on 2 cores),
`quick` (the default: the whole book in about a quarter of an hour, every phenomenon visible) and
`paper` (the papers' own hyper-parameters). A chapter belongs to a *section* (`azmoodeh`,
`template`, ...) whose table `SIZES[section][profile]` holds its run sizes.

A chapter's parameters cell sets `profile`, `seed`, and `None` for every size it leaves to the
profile; `resolve(profile, section=..., **parameters)` checks names, types and ranges, stops with a
message that names the parameter, and returns a `Run`. papermill only warns on an unknown
parameter: `resolve` and the `vaelab run` command fail instead.

The environment variable `VAELAB_PROFILE`, when set, replaces the notebook's `profile`: it is how
nbval (which cannot inject parameters) runs every chapter at `smoke`, and how `vaelab publish`
runs them at `paper` while the committed parameters cell keeps its literal default.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("smoke", "quick", "paper")
ENV = "VAELAB_PROFILE"


@dataclass(frozen=True)
class Param:
    """What values a parameter takes."""

    kind: type  # int, float, str, bool or list
    help: str  # one line, shown by `vaelab run CHAPTER --help`
    low: float | None = None  # inclusive bounds of a number (of each item, for a list)
    high: float | None = None
    choices: tuple = ()  # allowed strings
    item: type | None = None  # type of a list's items


PARAMS: dict[str, Param] = {
    "profile": Param(str, "run size: smoke | quick | paper", choices=PROFILES),
    "seed": Param(int, "seed of every fit and sample in the chapter", 0, 2**31 - 1),
    "latent_dim": Param(int, "number of latent units", 1, 4096),
    "latent_dims": Param(list, "latent dimensions to compare", 1, 4096, item=int),
    "epochs": Param(int, "passes over the training images", 1, 10_000),
    "batch_size": Param(int, "images per optimiser step", 1, 65_536),
    "lr": Param(float, "Adam learning rate", 1e-8, 1.0),
    "train_limit": Param(int, "training images used (0: all)", 0, 10_000_000),
    "test_limit": Param(int, "test images evaluated (0: all)", 0, 10_000_000),
    "n_values": Param(list, "dimensions n of the typical-set simulations", 1, 100_000, item=int),
    "samples": Param(int, "draws per n in a simulation", 10, 1_000_000),
    "seeds": Param(
        list, "seeds of the models trained at each size (one fit per seed)", 0, 2**31 - 1, item=int
    ),
    "generated": Param(int, "images generated per model for FID and class entropy", 10, 1_000_000),
    "classifier_epochs": Param(
        int, "epochs of the feature classifier (FID, class entropy)", 1, 1000
    ),
    "iwae_k": Param(list, "importance samples of the IWAE bounds", 1, 100_000, item=int),
    "iwae_images": Param(int, "test images the IWAE bounds are computed on", 1, 10_000),
    "ppca_dims": Param(list, "latent dimensions of the probabilistic PCA check", 1, 783, item=int),
    "long_epochs": Param(int, "epochs of the longer run that checks a count is stable", 1, 10**4),
    "tiles_images": Param(int, "training images of the synthetic tiles data set", 100, 1_000_000),
    "kl_weights": Param(list, "weights beta of the KL term in the sweep", 0, 1000, item=float),
    "track_steps": Param(int, "optimiser steps over which Fig. 1 follows ten digits", 1, 100_000),
    "probe_epochs": Param(
        list, "epochs of the convergence runs: [Fashion-MNIST, MNIST]", 1, 10_000, item=int
    ),
    "tolerance": Param(float, "converged: held-out -ELBO gains less (nats) in `window`", 0, 100),
    "window": Param(int, "epochs over which the convergence gain is measured", 1, 1000),
    "iwae_samples": Param(int, "importance samples k of the IWAE bound", 1, 100_000),
    "remeasure": Param(bool, "measure again instead of reading this machine's kept timings"),
}


def _azmoodeh(*, epochs: int, lr: float, train_limit: int, test_limit: int) -> dict:
    """Sizes of Azmoodeh's sweep: the paper's four dimensions and batch 256 in every profile."""
    return dict(
        latent_dims=[2, 20, 200, 800],
        epochs=epochs,
        batch_size=256,
        lr=lr,
        train_limit=train_limit,
        test_limit=test_limit,
    )


# SIZES[section][profile]: the values a profile gives to each sized parameter of a section.
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "template": {  # book/template.ipynb: a tiny VAE, to show the pattern of a chapter
        "smoke": dict(
            latent_dim=2, epochs=2, batch_size=128, lr=1e-3, train_limit=2000, test_limit=500
        ),
        "quick": dict(
            latent_dim=2, epochs=5, batch_size=128, lr=1e-3, train_limit=10_000, test_limit=2000
        ),
        "paper": dict(
            latent_dim=2, epochs=10, batch_size=128, lr=1e-3, train_limit=0, test_limit=0
        ),
    },
    "azmoodeh": {  # Part I; paper: Sec. IV, 100 epochs, batch 256, lr 1e-4, n in {2, 20, 200, 800}
        "smoke": _azmoodeh(epochs=1, lr=1e-3, train_limit=5000, test_limit=1000),
        "quick": _azmoodeh(epochs=10, lr=1e-3, train_limit=0, test_limit=0),
        "paper": _azmoodeh(epochs=100, lr=1e-4, train_limit=0, test_limit=0),
    },
    "appendix": {p: {} for p in PROFILES},  # book/appendix: runs nothing, reports run sizes
}
# Part I, Sec. III: the simulations, plus the Sec. IV models (same sizes, so the same cache entries)
SIZES["azmoodeh_typical"] = {
    "smoke": {**SIZES["azmoodeh"]["smoke"], "n_values": [10, 100, 1000], "samples": 200},
    "quick": {**SIZES["azmoodeh"]["quick"], "n_values": [10, 100, 1000, 10_000], "samples": 1000},
    "paper": {**SIZES["azmoodeh"]["paper"], "n_values": [10, 100, 1000, 10_000], "samples": 5000},
}

# Part I, Sec. II: rate and distortion of the same models, IWAE gaps, the closed-form PPCA check
SIZES["azmoodeh_code"] = {
    "smoke": {
        **SIZES["azmoodeh"]["smoke"],
        "iwae_k": [1, 10, 100],
        "iwae_images": 100,
        "ppca_dims": [2, 20],
    },
    "quick": {
        **SIZES["azmoodeh"]["quick"],
        "iwae_k": [1, 10, 100, 1000],
        "iwae_images": 300,
        "ppca_dims": [2, 20, 200],
    },
    "paper": {
        **SIZES["azmoodeh"]["paper"],
        "iwae_k": [1, 10, 100, 1000],
        "iwae_images": 1000,
        "ppca_dims": [2, 20, 200],
    },
}
# Part I, Sec. IV: the sweep over seeds, and the classifier behind FID and class entropy
SIZES["azmoodeh_sweep"] = {
    "smoke": {
        **SIZES["azmoodeh"]["smoke"],
        "seeds": [0],
        "generated": 1000,
        "classifier_epochs": 1,
    },
    "quick": {
        **SIZES["azmoodeh"]["quick"],
        "seeds": [0, 1],
        "generated": 10_000,
        "classifier_epochs": 2,
    },
    "paper": {
        **SIZES["azmoodeh"]["paper"],
        "seeds": [0, 1, 2],
        "generated": 10_000,
        "classifier_epochs": 5,
    },
}

# Appendix "Performance": epoch timings, bf16's effect, and a sweep in workers
SIZES["performance"] = {
    p: dict(
        latent_dims=dims,
        epochs=epochs,
        batch_size=256,
        train_limit=train,
        test_limit=test,
        remeasure=False,
    )
    for p, dims, epochs, train, test in (
        ("smoke", [2, 20], 1, 2000, 500),
        ("quick", [2, 20, 200, 800], 2, 20_000, 2000),
        ("paper", [2, 20, 200, 800], 3, 0, 0),
    )
}


def _asperti(*, epochs: int, long_epochs: int, seeds: list, generated: int, **extra) -> dict:
    """Sizes of Part II: Adam at 1e-3, batch 128 (Asperti's Fig. 11) in every profile."""
    return dict(
        epochs=epochs,
        long_epochs=long_epochs,
        batch_size=128,
        lr=1e-3,
        seeds=seeds,
        generated=generated,
        **extra,
    )


# Part II, §IV (dense and convolutional MNIST). The paper gives no epochs: 200 epochs of the 5k
# subset are 6,400 steps of 128; `long_epochs` doubles them to check the counts are stable.
SIZES["asperti_mnist"] = {
    "smoke": _asperti(epochs=2, long_epochs=3, seeds=[0], generated=200),
    "quick": _asperti(epochs=30, long_epochs=60, seeds=[0, 1], generated=1000),
    "paper": _asperti(epochs=200, long_epochs=400, seeds=[0, 1, 2], generated=1000),
}
# Part II, §V: tiles (1 to 3 tiles of 4x4 in 28x28 images)
SIZES["asperti_tiles"] = {
    "smoke": _asperti(epochs=1, long_epochs=2, seeds=[0], generated=200, tiles_images=1000),
    "quick": _asperti(epochs=10, long_epochs=20, seeds=[0, 1], generated=2000, tiles_images=5000),
    "paper": _asperti(
        epochs=50, long_epochs=100, seeds=[0, 1, 2], generated=2000, tiles_images=10_000
    ),
}
# Part II, Figs. 1, 2 and 11: training dynamics (one model per figure, the chapter's seed)
SIZES["asperti_dynamics"] = {
    p: {k: v for k, v in SIZES["asperti_mnist"][p].items() if k not in ("seeds", "long_epochs")}
    | {"track_steps": steps, "classifier_epochs": clf}
    for p, steps, clf in (("smoke", 20, 1), ("quick", 469, 3), ("paper", 469, 5))
}
# Part II, §VI: the KL term and sparsity
SIZES["asperti_kl"] = {
    p: {k: v for k, v in SIZES["asperti_mnist"][p].items() if k != "long_epochs"}
    | {"kl_weights": betas}
    for p, betas in (
        ("smoke", [0.0, 1.0]),
        ("quick", [0.0, 0.5, 1.0, 2.0]),
        ("paper", [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]),
    )
}


def _synthesis(
    *,
    dims: list,
    seeds: list,
    train_limit: int,
    probe_epochs: list,
    tolerance: float,
    window: int,
    test_limit: int,
    iwae_images: int,
    generated: int,
    classifier_epochs: int,
) -> dict:
    """Sizes of Part III: Part I's MLP and Adam (batch 256) at lr 1e-3, trained in bf16."""
    return dict(
        latent_dims=dims,
        seeds=seeds,
        batch_size=256,
        lr=1e-3,
        train_limit=train_limit,
        probe_epochs=probe_epochs,
        tolerance=tolerance,
        window=window,
        test_limit=test_limit,
        iwae_samples=100,
        iwae_images=iwae_images,
        generated=generated,
        classifier_epochs=classifier_epochs,
    )


# Part III: the grid of dimensions x posteriors x seeds on Fashion-MNIST and MNIST. No paper sets
# its budget: the epochs are measured, from `probe_epochs`-long runs at n = 20 (see synthesis).
SIZES["synthesis"] = {
    "smoke": _synthesis(
        dims=[2, 20],
        seeds=[0],
        train_limit=2000,
        probe_epochs=[2, 3],
        tolerance=1.0,
        window=1,
        test_limit=500,
        iwae_images=50,
        generated=500,
        classifier_epochs=1,
    ),
    "quick": _synthesis(
        dims=[2, 20, 200, 800],
        seeds=[0, 1],
        train_limit=10_000,
        probe_epochs=[20, 100],
        tolerance=1.0,
        window=5,
        test_limit=2000,
        iwae_images=200,
        generated=2000,
        classifier_epochs=3,
    ),
    "paper": _synthesis(
        dims=[2, 5, 10, 20, 50, 100, 200, 400, 800],
        seeds=[0, 1, 2],
        train_limit=0,
        probe_epochs=[60, 300],
        tolerance=1.0,
        window=10,
        test_limit=0,
        iwae_images=500,
        generated=10_000,
        classifier_epochs=5,
    ),
}

_COMMON = ("profile", "seed")  # parameters every chapter has, not sized by a profile


@dataclass(frozen=True)
class Run(Mapping):
    """The validated parameters of one chapter run; read them as attributes or items."""

    profile: str
    section: str
    values: dict = field(repr=False)  # every parameter, profile values filled in
    overrides: dict = field(default_factory=dict)  # values the caller changed from the profile

    def __getattr__(self, name: str):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str):
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __str__(self) -> str:
        sized = ", ".join(f"{k}={v!r}" for k, v in self.values.items() if k != "profile")
        given = ", ".join(self.overrides) or "none"
        return (
            f"profile {self.profile!r} ({self.section}): {sized}; changed from the profile: {given}"
        )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_one(label: str, spec: Param, kind: type, value):
    if kind is int and not _is_int(value):
        raise ValueError(f"{label} must be an integer, got {value!r}")
    if kind is float:
        if not (_is_int(value) or isinstance(value, float)):
            raise ValueError(f"{label} must be a number, got {value!r}")
        value = float(value)
    if kind is bool and not isinstance(value, bool):
        raise ValueError(f"{label} must be True or False, got {value!r}")
    if kind is str and not isinstance(value, str):
        raise ValueError(f"{label} must be a string, got {value!r}")
    if spec.choices and value not in spec.choices:
        raise ValueError(f"{label} = {value!r} is not one of {', '.join(spec.choices)}")
    low = -float("inf") if spec.low is None else spec.low
    high = float("inf") if spec.high is None else spec.high
    if kind in (int, float) and not low <= value <= high:
        what = "an integer" if kind is int else "a number"
        raise ValueError(
            f"{label} = {value!r} is out of range: it must be {what} from "
            f"{spec.low:g} to {spec.high:g}"
        )
    return value


def check(name: str, value):
    """Return `value` validated for parameter `name` (an int becomes a float where one is due)."""
    spec = PARAMS.get(name)
    if spec is None:
        raise ValueError(f"unknown parameter {name!r}; known: {', '.join(PARAMS)}")
    if spec.kind is not list:
        return _check_one(name, spec, spec.kind, value)
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be a list, got {value!r}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return [_check_one(f"{name}[{i}]", spec, spec.item, v) for i, v in enumerate(value)]


def parse(name: str, text: str):
    """Turn command-line text into a validated value of parameter `name` (by its declared type).

    Lists are written `2,20,200` or `[2, 20, 200]`.
    """
    spec = PARAMS.get(name)
    if spec is None:
        raise ValueError(f"unknown parameter {name!r}; known: {', '.join(PARAMS)}")
    if spec.kind is str:
        return check(name, text)
    if spec.kind is list:
        stripped = text.strip()
        items = stripped[1:-1] if stripped.startswith("[") and stripped.endswith("]") else text
        return check(name, [_literal(item.strip()) for item in items.split(",") if item.strip()])
    return check(name, _literal(text))


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _profile(profile: str) -> str:
    env = os.environ.get(ENV)
    if env and env != profile:
        if env not in PROFILES:
            raise ValueError(f"{ENV} = {env!r} is not one of {', '.join(PROFILES)}")
        print(
            f"profile {env!r} from the environment variable {ENV} (the notebook says {profile!r})"
        )
        return env
    return check("profile", profile)


def names(section: str) -> tuple[str, ...]:
    """The parameters a chapter of `section` takes."""
    if section not in SIZES:
        raise ValueError(f"unknown section {section!r}; known: {', '.join(SIZES)}")
    return _COMMON + tuple(SIZES[section][PROFILES[0]])


def resolve(profile: str, *, section: str, **parameters) -> Run:
    """Validate a chapter's parameters; `None` takes the profile's value. Returns a `Run`."""
    allowed = names(section)
    profile = _profile(profile)
    base = {"profile": profile, "seed": 0, **SIZES[section][profile]}
    overrides = {}
    for name, value in parameters.items():
        if name not in allowed:
            raise ValueError(f"unknown parameter {name!r}; this chapter takes {', '.join(allowed)}")
        if value is not None and check(name, value) != base[name]:
            overrides[name] = check(name, value)
    values = {**base, **overrides}
    for name, value in values.items():
        check(name, value)  # the tables themselves are checked too
    return Run(profile=profile, section=section, values=values, overrides=overrides)


def table(section: str) -> list[dict]:
    """One row per sized parameter of `section`: its value in each profile, and what it means."""
    sized = names(section)[len(_COMMON) :]
    return [
        {"parameter": n, **{p: SIZES[section][p][n] for p in PROFILES}, "meaning": PARAMS[n].help}
        for n in sized
    ]
