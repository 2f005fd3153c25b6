"""profiles: run sizes per section and profile, and the validation of chapter parameters."""

import pytest

from vaelab.book import profiles


def test_resolve_takes_the_profile_sizes():
    smoke = profiles.resolve("smoke", section="azmoodeh")
    paper = profiles.resolve("paper", section="azmoodeh")
    assert (paper.epochs, paper.batch_size, paper.lr) == (100, 256, 1e-4)
    assert paper.latent_dims == [2, 20, 200, 800]
    assert smoke.epochs < paper.epochs
    assert smoke.profile == "smoke" and paper["profile"] == "paper"


def test_every_section_sizes_every_profile_with_known_valid_values():
    for section, by_profile in profiles.SIZES.items():
        assert set(by_profile) == set(profiles.PROFILES), section
        names = {frozenset(values) for values in by_profile.values()}
        assert len(names) == 1, f"{section}: profiles size different parameters"
        for profile in profiles.PROFILES:
            profiles.resolve(profile, section=section)  # validates every value


def test_none_means_the_profile_value_and_an_override_wins():
    run = profiles.resolve("quick", section="template", epochs=None, latent_dim=3, seed=7)
    assert run.epochs == profiles.SIZES["template"]["quick"]["epochs"]
    assert (run.latent_dim, run.seed) == (3, 7)
    assert run.overrides == {"latent_dim": 3, "seed": 7}


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match=r"unknown parameter 'bogus'.*latent_dim"):
        profiles.resolve("quick", section="template", bogus=1)


def test_a_parameter_of_another_section_is_unknown_here():
    with pytest.raises(ValueError, match="unknown parameter 'latent_dims'"):
        profiles.resolve("quick", section="template", latent_dims=[2])


def test_out_of_range_names_parameter_and_range():
    with pytest.raises(ValueError, match=r"latent_dim = -3 is out of range.*1 to 4096"):
        profiles.resolve("quick", section="template", latent_dim=-3)
    with pytest.raises(ValueError, match=r"lr = 2.0 is out of range"):
        profiles.resolve("quick", section="template", lr=2.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("latent_dim", 2.5, "latent_dim must be an integer, got 2.5"),
        ("latent_dim", True, "latent_dim must be an integer, got True"),
        ("lr", "abc", "lr must be a number, got 'abc'"),
        ("latent_dims", [2, "x"], r"latent_dims\[1\] must be an integer, got 'x'"),
        ("latent_dims", [], "latent_dims must not be empty"),
        ("latent_dims", 5, "latent_dims must be a list, got 5"),
    ],
)
def test_wrong_type_names_parameter(name, value, message):
    with pytest.raises(ValueError, match=message):
        profiles.check(name, value)


def test_an_integer_is_a_valid_float():
    assert profiles.check("lr", 1) == 1.0 and isinstance(profiles.check("lr", 1), float)


def test_unknown_profile_and_section():
    with pytest.raises(ValueError, match=r"profile = 'huge' is not one of smoke, quick, paper"):
        profiles.resolve("huge", section="template")
    with pytest.raises(ValueError, match="unknown section 'nope'"):
        profiles.resolve("quick", section="nope")


def test_environment_variable_selects_the_profile(monkeypatch, capsys):
    monkeypatch.setenv("VAELAB_PROFILE", "smoke")
    run = profiles.resolve("paper", section="template")
    assert run.profile == "smoke"
    assert "VAELAB_PROFILE" in capsys.readouterr().out
    monkeypatch.setenv("VAELAB_PROFILE", "tiny")
    with pytest.raises(ValueError, match="VAELAB_PROFILE = 'tiny' is not one of"):
        profiles.resolve("quick", section="template")


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("latent_dim", "5", 5),
        ("lr", "1", 1.0),
        ("lr", "3e-4", 3e-4),
        ("profile", "paper", "paper"),
        ("latent_dims", "2,20", [2, 20]),
        ("latent_dims", "[2, 20]", [2, 20]),
    ],
)
def test_parse_command_line_text_by_declared_type(name, text, value):
    assert profiles.parse(name, text) == value


def test_parse_rejects_text_of_the_wrong_type():
    with pytest.raises(ValueError, match="epochs must be an integer, got 'ten'"):
        profiles.parse("epochs", "ten")
    with pytest.raises(ValueError, match="unknown parameter 'bogus'"):
        profiles.parse("bogus", "1")


def test_table_lists_every_profile_value():
    rows = profiles.table("azmoodeh")
    assert [r["parameter"] for r in rows][:1] == ["latent_dims"]
    epochs = next(r for r in rows if r["parameter"] == "epochs")
    assert (epochs["paper"], epochs["smoke"]) == (
        100,
        profiles.SIZES["azmoodeh"]["smoke"]["epochs"],
    )


def test_part_one_sections_share_the_model_sizes():
    for section in ("azmoodeh_code", "azmoodeh_typical", "azmoodeh_sweep"):
        for p in profiles.PROFILES:
            sizes = profiles.SIZES[section][p]
            assert {k: sizes[k] for k in profiles.SIZES["azmoodeh"][p]} == profiles.SIZES[
                "azmoodeh"
            ][p], (section, p)
    paper = profiles.resolve("paper", section="azmoodeh_sweep")
    assert (
        len(paper.seeds) >= 3 and paper.generated == 10_000
    )  # the issue: >= 3 seeds, 10,000 samples
    assert profiles.resolve("paper", section="azmoodeh_code").ppca_dims == [2, 20, 200]
    with pytest.raises(ValueError, match="ppca_dims\\[0\\] = 784 is out of range"):
        profiles.resolve("smoke", section="azmoodeh_code", ppca_dims=[784])
    with pytest.raises(ValueError, match="seeds must not be empty"):
        profiles.resolve("smoke", section="azmoodeh_sweep", seeds=[])


def test_asperti_sections_train_longer_for_the_stability_check():
    for section in ("asperti_mnist", "asperti_tiles"):
        for profile in profiles.PROFILES:
            run = profiles.resolve(profile, section=section)
            assert run.long_epochs > run.epochs and run.batch_size == 128, (section, profile)
    paper = profiles.resolve("paper", section="asperti_mnist")
    assert paper.seeds == [0, 1, 2] and paper.lr == 1e-3
    kl = profiles.resolve("paper", section="asperti_kl")
    assert 0.0 in kl.kl_weights and 1.0 in kl.kl_weights
    assert profiles.resolve("paper", section="asperti_tiles").tiles_images >= 10_000


def test_kl_weights_are_floats_and_non_negative():
    run = profiles.resolve("smoke", section="asperti_kl", kl_weights=[0, 2])
    assert run.kl_weights == [0.0, 2.0] and all(isinstance(b, float) for b in run.kl_weights)
    with pytest.raises(ValueError, match=r"kl_weights\[0\] = -1.0 is out of range"):
        profiles.resolve("smoke", section="asperti_kl", kl_weights=[-1.0])


def test_a_yes_no_parameter_takes_only_true_or_false():
    assert profiles.check("remeasure", True) is True
    assert profiles.parse("remeasure", "False") is False
    for bad in (1, "yes", None):
        with pytest.raises(ValueError, match="remeasure must be True or False"):
            profiles.check("remeasure", bad)
    assert profiles.resolve("paper", section="performance").remeasure is False


def test_resolve_reads_the_parameters_from_the_notebook_namespace():
    namespace = {"profile": "quick", "seed": 3, "latent_dim": 4, "epochs": None, "f": print}
    namespace |= {"batch_size": None, "lr": None, "train_limit": None, "test_limit": None}
    run = profiles.resolve("quick", section="template", namespace=namespace)
    assert (run.seed, run.latent_dim) == (3, 4)
    assert run.epochs == profiles.SIZES["template"]["quick"]["epochs"]
    assert run.overrides == {"seed": 3, "latent_dim": 4}


def test_resolve_names_a_parameter_missing_from_the_namespace():
    with pytest.raises(
        ValueError, match="does not set 'batch_size', 'lr', 'train_limit', 'test_limit'$"
    ):
        profiles.resolve(
            "quick", section="template", namespace={"seed": 0, "latent_dim": 2, "epochs": None}
        )


def test_resolve_takes_a_namespace_or_keywords_not_both():
    with pytest.raises(ValueError, match="either namespace= or keyword parameters"):
        profiles.resolve("quick", section="template", namespace={}, seed=1)


def test_resolve_rejects_a_literal_the_chapter_does_not_take_and_names_the_nearest():
    import math

    namespace = {"seed": 0, "latent_dim": None, "epochs": None, "batch_size": None, "lr": None}
    namespace |= {"train_limit": None, "test_limit": None, "In": [""], "Out": {}, "_i1": "x"}
    namespace |= {"math": math, "glue": print, "profile": "quick"}
    assert profiles.resolve("quick", section="template", namespace=namespace).seed == 0
    with pytest.raises(ValueError, match=r"unknown parameter 'epochz' \(did you mean 'epochs'\?\)"):
        profiles.resolve("quick", section="template", namespace=namespace | {"epochz": 3})
    with pytest.raises(ValueError, match=r"unknown parameter 'zzz'; this chapter takes profile"):
        profiles.resolve("quick", section="template", namespace=namespace | {"zzz": [1]})
