"""evals: evaluations of trained models computed once, keyed by what they are computed from."""

import pytest
import torch

from vaelab import cache, elbo, evals, linear, models, quality
from vaelab.papers import azmoodeh


def _model(seed=0, latent_dim=3):
    torch.manual_seed(seed)
    return models.MLPVAE(latent_dim, (16,), posterior="isotropic").eval()


def _images(n=40, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def _memos():
    root = cache.cache_root() / "memo"
    return sorted(p.name for p in root.glob("*.json")) if root.exists() else []


def test_fingerprint_names_the_weights_the_architecture_and_the_images():
    a, b = _model(0), _model(1)
    assert evals.fingerprint(a) == evals.fingerprint(_model(0))
    assert evals.fingerprint(a) != evals.fingerprint(b)
    diagonal = models.MLPVAE(3, (16,), posterior="diagonal")
    assert evals.fingerprint(diagonal) != evals.fingerprint(a)
    x = _images()
    assert evals.fingerprint(x) == evals.fingerprint(x.clone())
    assert evals.fingerprint(x) != evals.fingerprint(x[:39])
    assert evals.fingerprint(x) != evals.fingerprint(x.double())
    with pytest.raises(TypeError, match="fingerprint: a tensor or a module"):
        evals.fingerprint([1, 2])


def test_fingerprint_of_a_linear_vae_follows_its_ppca():
    x = _images(200)
    two, three = linear.fit(x, 2), linear.fit(x, 3)
    assert evals.fingerprint(linear.LinearVAE(two)) == evals.fingerprint(linear.LinearVAE(two))
    assert evals.fingerprint(linear.LinearVAE(two)) != evals.fingerprint(linear.LinearVAE(three))
    turned = linear.LinearVAE(linear.rotated(two, seed=0))
    assert evals.fingerprint(turned) != evals.fingerprint(linear.LinearVAE(two))


def test_iwae_curve_is_computed_once_and_equals_elbo_iwae_curve():
    model, x = _model(), _images()
    direct = elbo.iwae_curve(model, x, [1, 5], seed=3)
    first = evals.iwae_curve(model, x, [1, 5], seed=3)
    assert first == direct and list(first) == [1, 5]
    made = _memos()
    assert evals.iwae_curve(model, x, [1, 5], seed=3) == direct
    assert _memos() == made  # read back, not recomputed into a new entry
    evals.iwae_curve(model, x, [1, 5], seed=4)
    evals.iwae_curve(model, x[:20], [1, 5], seed=3)
    assert len(_memos()) == len(made) + 2


def test_evaluate_under_a_seed_is_memoized_and_leaves_the_global_generator_alone():
    model, x = _model(), _images()
    torch.manual_seed(7)
    state = torch.get_rng_state()
    got = evals.evaluate(model, x, seed=2)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(2)
    assert got == elbo.evaluate(model, x)
    assert evals.evaluate(model, x, seed=2) == got


def test_dimension_report_is_memoized_per_model_classifier_and_sizes(monkeypatch):
    model, x = _model(), _images(64)
    classifier = quality.Classifier(8).eval()
    reference = quality.features(classifier, x)
    row = azmoodeh.dimension_report(model, x, classifier, reference, samples=32, seed=0)
    assert row == azmoodeh._dimension_report(model, x, classifier, reference, samples=32, seed=0)
    monkeypatch.setattr(azmoodeh, "_dimension_report", lambda *a, **k: pytest.fail("recomputed"))
    assert azmoodeh.dimension_report(model, x, classifier, reference, samples=32, seed=0) == row


def test_a_named_model_is_keyed_by_its_name_not_its_weights():
    x = _images()
    first = evals.iwae_curve(_model(0), x, [1, 2], seed=0, key="ppca of these images, k=3")
    # a model equal up to rounding (here: another one) under the same name reads the memo back
    assert evals.iwae_curve(_model(1), x, [1, 2], seed=0, key="ppca of these images, k=3") == first
    assert evals.iwae_curve(_model(1), x, [1, 2], seed=0) != first
