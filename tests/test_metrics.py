import math

import pytest
import torch

from vaelab import metrics


class FixedEncoder(torch.nn.Module):
    """encode(x) returns rows of given mu/logvar, indexed by x's first pixel."""

    def __init__(self, mu, logvar):
        super().__init__()
        self.register_buffer("mu_", mu)
        self.register_buffer("logvar_", logvar)
        self.w = torch.nn.Parameter(torch.zeros(()))

    def encode(self, x):
        idx = x.flatten(1)[:, 0].long()
        return self.mu_[idx], self.logvar_[idx]


def index_images(n):
    x = torch.zeros(n, 1, 28, 28)
    x[:, 0, 0, 0] = torch.arange(n, dtype=torch.float32)
    return x


def test_unit_stats_active_and_inactive_units():
    torch.manual_seed(0)
    n = 2000
    mu = torch.randn(n, 4) * torch.tensor([1.0, 0.003, 0.5, 0.0])
    logvar = torch.log(torch.tensor([0.01, 0.98, 0.05, 0.2])).expand(n, 4).clone()
    stats = metrics.unit_stats(FixedEncoder(mu, logvar), index_images(n), batch_size=300)
    torch.testing.assert_close(stats.var_mu, mu.var(0))
    torch.testing.assert_close(stats.mean_sigma2, torch.tensor([0.01, 0.98, 0.05, 0.2]))
    assert metrics.inactive_units(stats).tolist() == [False, True, False, False]
    # unit 3 has no variance of mu but a small σ²: neither active nor Asperti-inactive
    assert metrics.active_units(stats).tolist() == [True, False, True, False]
    assert metrics.inactive_units(stats, sigma2_min=0.1).tolist() == [False, True, False, True]
    kl0 = 0.5 * (mu[:, 0] ** 2 + 0.01 - math.log(0.01) - 1).mean()
    assert stats.mean_kl[0].item() == pytest.approx(kl0.item(), rel=1e-5)


@pytest.mark.parametrize("n", [20, 800])
def test_typicality_gap_follows_chi_square_whatever_the_posterior(n):
    torch.manual_seed(1)
    count = 4000
    mu = torch.randn(count, n)
    logvar = torch.randn(count, n) * 0.5 - 4.0  # diagonal, σ² around e^-4 (h < 0)
    gap = metrics.typicality_gap(FixedEncoder(mu, logvar), index_images(count), seed=3)
    # −(1/n) log q(z|x) − h̄ = (χ²ₙ − n) / (2n): mean 0, standard deviation 1 / √(2n)
    assert abs(gap.per_unit.mean().item()) < 4 / math.sqrt(2 * n * count)
    assert gap.per_unit.std().item() == pytest.approx(1 / math.sqrt(2 * n), rel=0.05)
    expected_h = (0.5 * (logvar + math.log(2 * math.pi * math.e))).mean(1)
    torch.testing.assert_close(gap.entropy_per_unit, expected_h)
    torch.testing.assert_close(gap.relative_percent, 100 * gap.per_unit / expected_h.abs())
    assert gap.mean_abs_per_unit == pytest.approx(gap.per_unit.abs().mean().item())


def test_knn_accuracy_leaves_each_point_out():
    z = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    assert metrics.knn_accuracy(z, labels, k=2) == 1.0
    mixed = torch.tensor([0, 1, 0, 1, 0, 1])
    assert metrics.knn_accuracy(z, mixed, k=1, chunk=2) == metrics.knn_accuracy(z, mixed, k=1)
    assert metrics.knn_accuracy(z, mixed, k=1) <= 0.5
    with pytest.raises(ValueError, match="k must be between 1 and 5"):
        metrics.knn_accuracy(z, labels, k=6)


def test_bonheme_and_grzes_count_units_with_var_mu_above_a_tenth():
    stats = metrics.stats_of(
        torch.randn(5000, 3) * torch.tensor([0.2, 0.5, 1.0]), torch.zeros(5000, 3)
    )
    # Var mu = 0.04, 0.25, 1.0: Burda counts all three, Bonheme & Grzes two
    assert metrics.active_units(stats).tolist() == [True, True, True]
    assert metrics.bonheme_active(stats).tolist() == [False, True, True]


def test_kl_collapse_is_lucas_epsilon_delta_collapse():
    n = 1000
    mu, logvar = torch.zeros(n, 4), torch.zeros(n, 4)
    mu[:, 1] = 1.0  # KL = 0.5 nats for every image: not collapsed
    mu[:5, 2] = 3.0  # informative for 0.5% of the images: collapsed at delta = 1%
    mu[:50, 3] = 3.0  # informative for 5%: not collapsed
    collapsed = metrics.kl_collapsed(mu, logvar, eps=0.01, delta=0.01)
    assert collapsed.tolist() == [True, False, True, False]
    loose = metrics.kl_collapsed(mu, logvar, eps=0.01, delta=0.1)
    assert loose.tolist() == [True, False, True, True]


def test_active_counts_by_three_definitions():
    n = 2000
    torch.manual_seed(0)
    mu = torch.randn(n, 3) * torch.tensor([1.0, 0.2, 0.0])
    logvar = torch.log(torch.tensor([0.01, 0.5, 1.0])).expand(n, 3)
    counts = metrics.active_counts(mu, logvar)
    assert counts == {"burda": 2, "bonheme": 1, "lucas": 2}


def test_threshold_counts_and_convergence():
    assert metrics.threshold_counts(torch.tensor([0.001, 0.05, 0.5]), [0.01, 0.1, 1.0]) == [2, 1, 0]
    loss = [300.0, 250.0, 230.0, 225.0, 224.0, 223.8, 223.7, 223.6, 223.6, 223.5]
    assert metrics.converged_epoch(loss, tol=1.0, window=3) == 5  # 224.0 -> at best 223.6
    assert metrics.converged_epoch(loss, tol=0.01, window=3) is None
    with pytest.raises(ValueError, match="window"):
        metrics.converged_epoch(loss, tol=1.0, window=0)
