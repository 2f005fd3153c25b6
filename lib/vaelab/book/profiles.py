"""Run sizes and parameter validation: the one place that decides how big a chapter's runs are.

Three profiles size every chapter: `smoke` (CI: each chapter in about a minute on 2 cores),
`quick` (the default: the whole book in about 25 min on 2 cores from an empty cache) and
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
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from vaelab.book.sizes import PROFILES, SIZES

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
    "train_sizes": Param(list, "training-set sizes compared (images)", 100, 60_000, item=int),
    "steps": Param(int, "least optimiser steps of a run, in whole epochs of its set", 1, 10**7),
    "conv_sizes": Param(
        list, "training-set sizes of the conv model (images)", 100, 60_000, item=int
    ),
    "conv_steps": Param(
        int, "least steps of a conv run, whole epochs (0: no conv model)", 0, 10**7
    ),
    "remeasure": Param(bool, "measure again instead of reading this machine's kept timings"),
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


_KERNEL_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}  # IPython's own globals
_LITERALS = (int, float, str, bool, list, tuple, dict, type(None))


def _reject_strangers(namespace: Mapping, allowed: tuple[str, ...]) -> None:
    """A literal in the notebook's namespace that is no parameter of the chapter is a mistyped
    parameter that papermill injected (it only warns): name it, and the nearest valid name."""
    for name, value in namespace.items():
        if name.startswith("_") or name in allowed or name in _KERNEL_NAMES:
            continue
        if isinstance(value, _LITERALS):
            near = difflib.get_close_matches(name, allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(
                f"unknown parameter {name!r}{hint}; this chapter takes {', '.join(allowed)}"
            )


def resolve(profile: str, *, section: str, namespace: Mapping | None = None, **parameters) -> Run:
    """Validate a chapter's parameters; `None` takes the profile's value. Returns a `Run`.

    A chapter passes its parameters as keywords, or `namespace=globals()`: then every parameter
    of `section` (but `profile`) is read from the notebook's parameters cell, which must set each.
    """
    allowed = names(section)
    if namespace is not None:
        if parameters:
            raise ValueError("resolve takes either namespace= or keyword parameters, not both")
        _reject_strangers(namespace, allowed)
        missing = [n for n in allowed[1:] if n not in namespace]
        if missing:
            raise ValueError(f"the parameters cell does not set {', '.join(map(repr, missing))}")
        parameters = {n: namespace[n] for n in allowed[1:]}
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
