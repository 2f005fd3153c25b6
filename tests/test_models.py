import math

import pytest
import torch

from vaelab import elbo, models

FIG5_COUNTS = [160, 64, 4640, 9248, 128, 9248, 9248, 128, 4128, 4128, 128, 4128, 528, 528]


@pytest.mark.parametrize("posterior", ["diagonal", "isotropic"])
def test_mlp_shapes_and_posterior(posterior):
    model = models.MLPVAE(20, posterior=posterior)
    mu, logvar = model.encode(torch.rand(5, 1, 28, 28))
    assert mu.shape == logvar.shape == (5, 20)
    assert model.decode(mu).shape == (5, 1, 28, 28)
    shared = bool((logvar == logvar[:, :1]).all())
    assert shared == (posterior == "isotropic")
    assert model.logvar.out_features == (20 if posterior == "diagonal" else 1)


def test_mlp_hidden_layers_follow_the_tuple():
    model = models.MLPVAE(16, (256, 32, 24))  # Asperti's 784-256-32-24-16
    widths = [m.out_features for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 32, 24]
    dec = [m.out_features for m in model.decoder.modules() if isinstance(m, torch.nn.Linear)]
    assert dec == [24, 32, 256, 784]


def test_gaussian_likelihood_gives_means_in_unit_interval():
    model = models.MLPVAE(4, likelihood="gaussian")
    out = model.decode(torch.randn(3, 4) * 10)
    assert ((out >= 0) & (out <= 1)).all() and model.obs_logvar.shape == ()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_latent_dim_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        models.MLPVAE(bad)


def test_unknown_posterior_and_likelihood():
    with pytest.raises(ValueError, match="unknown posterior 'full'"):
        models.MLPVAE(2, posterior="full")
    with pytest.raises(ValueError, match="unknown likelihood 'poisson'"):
        models.ConvVAE(2, likelihood="poisson")
    with pytest.raises(ValueError, match="unknown model kind 'rnn'"):
        models.build(models.ModelConfig(kind="rnn"))


def test_conv_encoder_matches_asperti_fig5_parameter_counts():
    model = models.ConvVAE(16)
    encoder_rows = [
        c for name, c in models.keras_param_counts(model) if not name.startswith("decoder")
    ]
    assert encoder_rows == FIG5_COUNTS


def test_conv_shapes_through_the_network():
    model = models.ConvVAE(16).eval()
    x = torch.rand(3, 1, 28, 28)
    sizes = []
    h = x
    for layer in model.encoder:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            sizes.append(h.shape[-1])
    assert sizes == [14, 14, 7, 4, 4, 2, 2, 1]
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 16)
    assert model.decode(mu).shape == (3, 1, 28, 28)


def test_build_from_config():
    m = models.build(models.ModelConfig(kind="conv", latent_dim=8, posterior="isotropic"))
    assert isinstance(m, models.ConvVAE) and m.latent_dim == 8 and m.posterior == "isotropic"


def test_pixel_means_are_probabilities_for_bernoulli_and_means_for_gaussian():
    torch.manual_seed(0)
    z = torch.randn(3, 2)
    bern = models.MLPVAE(2, (8,))
    assert torch.allclose(models.pixel_means(bern, z), torch.sigmoid(bern.decode(z)))
    gauss = models.MLPVAE(2, (8,), likelihood="gaussian")
    assert torch.equal(models.pixel_means(gauss, z), gauss.decode(z))


def test_a_gaussian_decoder_of_fixed_variance_keeps_it_out_of_the_parameters():
    fixed = models.build(models.ModelConfig(likelihood="gaussian", obs_var=0.5))
    learned = models.build(models.ModelConfig(likelihood="gaussian"))
    assert "obs_logvar" not in dict(fixed.named_parameters())
    assert "obs_logvar" in dict(learned.named_parameters())
    assert fixed.obs_logvar.item() == pytest.approx(math.log(0.5))
    assert "obs_logvar" in fixed.state_dict()  # saved with the weights, loaded back the same
    conv = models.build(models.ModelConfig("conv", 4, (), likelihood="gaussian", obs_var=0.25))
    assert conv.obs_logvar.item() == pytest.approx(math.log(0.25))
    # at variance 1/2, -log p(x|z) is the sum of squared errors plus a constant per pixel
    x, out = torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28)
    nll = -elbo.log_likelihood(fixed, out, x)
    const = 784 * 0.5 * math.log(2 * math.pi * 0.5)
    torch.testing.assert_close(nll, (x - out).pow(2).flatten(1).sum(1) + const)


def test_a_fixed_variance_needs_a_gaussian_decoder_and_a_positive_value():
    with pytest.raises(ValueError, match="obs_var is the variance of a Gaussian decoder"):
        models.build(models.ModelConfig(obs_var=0.5))
    with pytest.raises(ValueError, match="obs_var must be > 0 .fixed. or 0 .learned., got -1"):
        models.build(models.ModelConfig(likelihood="gaussian", obs_var=-1.0))
