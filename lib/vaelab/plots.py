"""Every figure the book draws. Functions take measured numbers and return a matplotlib Figure;
they compute nothing that a test could not check elsewhere."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch

sns.set_theme(context="notebook", style="whitegrid")


def training_curves(history: dict, *, title: str = ""):
    """The training ELBO per epoch (left) and its terms, rate and distortion (right), in nats."""
    if not history.get("epoch"):
        raise ValueError("history has no epochs to plot")
    fig, (bound, terms) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    bound.plot(history["epoch"], [-v for v in history["loss"]], marker="o")
    bound.set(xlabel="epoch", ylabel="ELBO (nats per image)", title="training bound")
    for name in ("rate", "distortion"):
        terms.plot(history["epoch"], history[name], marker="o", label=name)
    terms.set(xlabel="epoch", ylabel="nats per image", title="rate = KL, distortion = -log p(x|z)")
    terms.legend()
    if title:
        fig.suptitle(title)
    return fig


def image_grid(x: torch.Tensor, *, ncol: int = 10, pad: int = 1) -> np.ndarray:
    """Tile images `(n, 1, h, w)`, `(n, h, w)` or flat `(n, 784)` into one array, white padding."""
    if x.dim() == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(
            f"expected images of shape (n, h, w), (n, 1, h, w) or (n, 784), got {tuple(x.shape)}"
        )
    n, h, w = x.shape
    nrow = -(-n // ncol)
    grid = np.ones((nrow * (h + pad) + pad, ncol * (w + pad) + pad), dtype=np.float32)
    for i, image in enumerate(x.detach().cpu().float().numpy()):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) :][:, :w] = image
    return grid


def show_images(x: torch.Tensor, *, ncol: int = 10, title: str = ""):
    """A figure of `image_grid(x)` in grey levels (black = 0)."""
    grid = image_grid(x, ncol=ncol)
    fig, ax = plt.subplots(figsize=(0.6 * ncol, 0.6 * grid.shape[0] / grid.shape[1] * ncol + 0.4))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig
