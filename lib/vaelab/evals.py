"""Evaluations of trained models, computed once and kept in the cache (`cache.memo`).

Each function takes the arguments of the `elbo` or `quality` function it wraps and returns the
same values. The memo key is a fingerprint of what the result is computed from: the model's
weights and architecture, the images (their bytes, not their count), the sizes and the seed. A
re-run of a chapter with warm caches therefore reads its evaluations back instead of
recomputing them, and any change to a model, to the images or to a size computes afresh.
"""

from __future__ import annotations

import hashlib

import torch

from vaelab import cache, elbo


def fingerprint(thing) -> str:
    """A hash of a tensor (dtype, shape, bytes) or of a module (class, latent_dim, posterior,
    likelihood and every parameter and buffer, by name)."""
    h = hashlib.sha256()
    if isinstance(thing, torch.Tensor):
        _add(h, "tensor", thing)
    elif isinstance(thing, torch.nn.Module):
        described = [type(thing).__name__] + [
            str(getattr(thing, a, None)) for a in ("latent_dim", "posterior", "likelihood")
        ]
        h.update("|".join(described).encode())
        for name, tensor in thing.state_dict().items():
            _add(h, name, tensor)
    else:
        raise TypeError(f"fingerprint: a tensor or a module, got {type(thing).__name__}")
    return h.hexdigest()[:20]


def _add(h, name: str, tensor: torch.Tensor) -> None:
    t = tensor.detach().cpu().contiguous()
    h.update(f"{name}:{t.dtype}:{tuple(t.shape)}:".encode())
    h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())


def iwae_curve(model, x: torch.Tensor, ks, *, seed: int = 0, key: str | None = None) -> dict:
    """`elbo.iwae_curve(model, x, ks, seed=seed)`, computed once: `{k: nats per image}`.

    `key` names the model instead of its weights' fingerprint: for a model computed afresh on
    every run whose weights differ in the last bits with the thread count (a PPCA fit)."""
    ks = [int(k) for k in ks]
    name = key if key is not None else fingerprint(model)
    params = {"model": name, "images": fingerprint(x), "ks": ks, "seed": seed}
    found = cache.memo(
        "iwae-curve",
        params,
        lambda: {str(k): v for k, v in elbo.iwae_curve(model, x, ks, seed=seed).items()},
    )
    return {k: found[str(k)] for k in ks}


def evaluate(model, x: torch.Tensor, *, seed: int = 0) -> dict:
    """`elbo.evaluate(model, x)` with its posterior draws seeded by `seed`, computed once; the
    global generator is left as it was."""

    params = {"model": fingerprint(model), "images": fingerprint(x), "seed": seed}
    return cache.memo("elbo-evaluate", params, lambda: elbo.evaluate(model, x, seed=seed))
