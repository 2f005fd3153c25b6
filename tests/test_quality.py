"""quality: the Fashion-MNIST classifier, Fréchet distance, class entropy, the per-model report."""

import math

import pytest
import torch

from vaelab import cache, data, metrics, models, quality, stats
from vaelab.papers import azmoodeh


def test_frechet_distance_of_gaussians():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(5000, 3, generator=gen, dtype=torch.float64)
    assert quality.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    assert quality.frechet_distance(a, a + shift) == pytest.approx(5.0, abs=1e-6)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2, with the sample moments
    x, y = a[:, :1], 3 * a[:, 1:2] + 1
    expected = (x.mean() - y.mean()) ** 2 + (x.std() - y.std()) ** 2
    assert quality.frechet_distance(x, y) == pytest.approx(expected.item(), rel=1e-6)
    assert quality.frechet_distance(x, y) == pytest.approx(quality.frechet_distance(y, x), rel=1e-9)
    with pytest.raises(ValueError, match="same number of features"):
        quality.frechet_distance(a, a[:, :2])


def test_class_entropy_in_bits():
    assert quality.class_entropy(torch.arange(1000) % 10) == pytest.approx(math.log2(10))
    assert quality.class_entropy(torch.full((50,), 3)) == pytest.approx(0.0)
    assert quality.class_entropy(torch.tensor([0, 1])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no labels"):
        quality.class_entropy(torch.tensor([], dtype=torch.long))


def test_classifier_config_is_checked():
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        quality.ClassifierConfig(epochs=0)
    with pytest.raises(ValueError, match="train_limit must be >= 0"):
        quality.ClassifierConfig(train_limit=-1)


def test_classifier_learns_and_is_cached():
    config = quality.ClassifierConfig(epochs=2, train_limit=4000, test_limit=1000)
    model, info = quality.fit_classifier(config)
    assert info["run"]["from_cache"] is False
    assert info["test_accuracy"] > 0.7  # chance is 0.1
    x = torch.rand(7, 1, 28, 28)
    assert quality.features(model, x).shape == (7, quality.FEATURES)
    assert quality.predict(model, x).shape == (7,)
    again, info2 = quality.fit_classifier(config)
    assert info2["run"]["from_cache"] is True and info2["test_accuracy"] == info["test_accuracy"]
    assert torch.equal(quality.features(again, x), quality.features(model, x))
    assert cache.config_key(config) != cache.config_key(
        azmoodeh.fit_config(2, posterior="isotropic", epochs=1, batch_size=128, lr=1e-3)
    )


def test_dimension_report_of_a_small_vae(fmnist_small):
    x_test, y_test = fmnist_small
    vae, _ = cache.fit(
        azmoodeh.fit_config(
            4, posterior="isotropic", epochs=1, batch_size=128, lr=1e-3, train_limit=1000
        )
    )
    clf, _ = quality.fit_classifier(quality.ClassifierConfig(epochs=1, train_limit=2000))
    reference = quality.features(clf, x_test)
    row = azmoodeh._dimension_report(vae, x_test, clf, reference, samples=300, seed=0)
    expected = {
        "test_elbo",
        "rate",
        "distortion",
        "fid",
        "class_entropy",
        "active_units",
        "typicality_gap",
        "relative_gap_percent",
        "median_sigma2",
    }
    assert expected <= set(row)
    assert row["test_elbo"] == pytest.approx(-(row["rate"] + row["distortion"]), rel=1e-6)
    assert 0 <= row["active_units"] <= 4 and 0 <= row["class_entropy"] <= math.log2(10)
    assert row["fid"] > 0 and row["typicality_gap"] > 0
    # same seed, same samples: the sample-based numbers repeat exactly
    again = azmoodeh._dimension_report(vae, x_test, clf, reference, samples=300, seed=0)
    assert again["fid"] == row["fid"] and again["class_entropy"] == row["class_entropy"]


@pytest.fixture
def fmnist_small():

    x, y = data.load("fashion-mnist", "test", quiet=True)
    return x[:500], y[:500]


def test_by_dimension_gives_mean_and_sd_over_seeds():
    rows = [
        {"latent_dim": 2, "seed": 0, "fid": 1.0},
        {"latent_dim": 2, "seed": 1, "fid": 3.0},
        {"latent_dim": 20, "seed": 0, "fid": 5.0},
    ]
    summary = stats.by_dimension(rows, "fid")
    assert summary == {2: (2.0, pytest.approx(math.sqrt(2))), 20: (5.0, 0.0)}


def test_trend_names_the_direction_in_order_of_dimension():
    assert stats.trend({20: (2.0, 0.1), 2: (1.0, 0.1), 200: (3.0, 0.0)}) == "rises at every step"
    assert stats.trend({2: (3.0, 0.0), 20: (2.0, 0.0)}) == "falls at every step"
    assert stats.trend({2: (1.0, 0.0), 20: (0.5, 0.0), 200: (3.0, 0.0)}) == "is not monotone"


def test_relative_spread_of_the_means():
    assert stats.relative_spread({2: (100.0, 1.0), 20: (110.0, 0.0), 200: (105.0, 0.0)}) == 0.1


def test_reconstruct_decodes_the_posterior_means_as_pixel_means_in_batches():
    torch.manual_seed(0)
    vae = models.build(models.ModelConfig(kind="mlp", latent_dim=3, hidden=(8,)))
    x = torch.rand(5, 1, 28, 28)
    got = quality.reconstruct(vae, x, batch_size=2)
    mu, _ = metrics.encode_all(vae, x)
    assert got.shape == (5, 1, 28, 28)
    assert torch.allclose(got, models.pixel_means(vae, mu).reshape(5, 1, 28, 28), atol=1e-6)
    assert got.min() >= 0 and got.max() <= 1  # Bernoulli: probabilities
