import pytest

from vaelab import cache, profiles, synthesis


@pytest.fixture
def smoke():
    return profiles.resolve("smoke", section="synthesis")


def test_probes_are_n20_seed0_per_data_set_and_posterior_with_a_heldout_curve(smoke):
    probes = synthesis.probe_configs(smoke)
    assert set(probes) == {(d, p) for d in synthesis.DATASETS for p in synthesis.POSTERIORS}
    fm = probes["fashion-mnist", "diagonal"]
    assert (fm.model.latent_dim, fm.seed, fm.train.epochs) == (20, 0, smoke.probe_epochs[0])
    assert fm.data.limit == smoke.train_limit and fm.train.heldout == synthesis.HELDOUT
    mn = probes["mnist", "isotropic"]
    assert (mn.data.name, mn.data.limit, mn.train.epochs) == ("mnist", None, 3)
    assert mn.train.precision == "bf16" and mn.model.posterior == "isotropic"


def test_grid_epochs_is_the_later_convergence_of_the_two_posteriors():
    flat_at_3 = [10.0, 5.0, 4.0, 3.9, 3.8, 3.8]
    flat_at_2 = [10.0, 4.0, 3.9, 3.9, 3.9, 3.9]
    out = synthesis.grid_epochs({"isotropic": flat_at_3, "diagonal": flat_at_2}, tol=0.5, window=2)
    assert out == {"epochs": 3, "converged": {"isotropic": 3, "diagonal": 2}}
    still_falling = [10.0, 8.0, 6.0, 4.0]
    out = synthesis.grid_epochs({"isotropic": still_falling, "diagonal": flat_at_2}, tol=0.5,
                                window=2)  # fmt: skip
    assert out == {"epochs": 4, "converged": {"isotropic": None, "diagonal": 2}}


def test_grid_holds_every_data_set_posterior_dimension_and_seed(smoke):
    configs = synthesis.grid_configs(smoke, {"fashion-mnist": 4, "mnist": 7})
    assert len(configs) == 2 * 2 * len(smoke.latent_dims) * len(smoke.seeds)
    cell = configs["mnist", "diagonal", 20, 0]
    assert cell.train.epochs == 7 and cell.model.latent_dim == 20
    assert cell == synthesis.fit_config(smoke, "mnist", "diagonal", 20, seed=0, epochs=7)
    assert cache.config_key(cell) != cache.config_key(configs["mnist", "isotropic", 20, 0])
