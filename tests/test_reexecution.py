"""Every chapter re-executed with parameters unlike the published ones still reads right.

A reader re-runs a chapter with other latent dimensions, one seed, other beta values. The text
must then cite only numbers that this run made: every `{glue}` key the chapter's markdown uses is
glued by the re-executed copy (a sentence that names `sweep_fid_20` fails when the run trained
n = 3, 7, 50), and no cell raises.
"""

from pathlib import Path

import nbformat
import pytest

from vaelab.book import record, runner

ROOT = Path(__file__).resolve().parents[1]

# Values no profile uses: other dimensions (odd ones, not the papers' 2/20/200/800), one seed
# where a chapter averages over seeds, other beta values, a seed other than 0.
UNUSUAL = {
    "book/template.ipynb": {"latent_dim": 3, "seed": 1},
    "book/bigger_is_not_better/01_source_code.ipynb": {
        "latent_dims": [3, 7],
        "ppca_dims": [3],
        "iwae_k": [1, 5],
    },
    "book/bigger_is_not_better/02_typical_sets.ipynb": {"latent_dims": [3, 7], "n_values": [5, 50]},
    "book/bigger_is_not_better/03_dimension_sweep.ipynb": {"latent_dims": [3, 7, 50], "seeds": [1]},
    "book/sparsity/01_dense_mnist.ipynb": {"seeds": [1], "seed": 1},
    "book/sparsity/02_convolutional.ipynb": {"seeds": [1], "seed": 1},
    "book/sparsity/03_training_dynamics.ipynb": {"seed": 1, "track_steps": 7},
    "book/sparsity/04_tiles.ipynb": {"seeds": [1], "seed": 1},
    "book/sparsity/05_kl_and_sparsity.ipynb": {"seeds": [1], "kl_weights": [0.3, 3.0]},
    "book/sparsity/06_data_size.ipynb": {
        "seeds": [1],
        "train_sizes": [300, 700, 1100],
        "steps": 40,
        "conv_sizes": [300, 500],
        "conv_steps": 8,
        "test_limit": 300,
    },
    "book/synthesis/01_active_units_vs_dimension.ipynb": {"latent_dims": [3, 30], "seeds": [1]},
    "book/synthesis/02_pruning_inactive_units.ipynb": {"latent_dims": [3, 30], "seeds": [1]},
    "book/appendix/performance.ipynb": {"latent_dims": [3, 30]},
    "book/appendix/reproducing.ipynb": {"seed": 1},
}


def test_every_notebook_of_the_book_has_unusual_values():
    assert sorted(UNUSUAL) == sorted(str(p) for p in runner.notebooks(ROOT))
    for path, values in UNUSUAL.items():
        assert set(values) <= set(runner.parameters(ROOT / path)), path


@pytest.mark.parametrize("path", sorted(UNUSUAL))
def test_a_chapter_run_with_unusual_values_cites_only_what_it_glued(path, tmp_path):
    done = runner.execute(
        ROOT,
        Path(path),
        tmp_path / Path(path).name,
        profile="smoke",
        parameters=UNUSUAL[path],
        cwd=tmp_path,
        progress=False,
    )
    nb = nbformat.read(done.output, as_version=4)
    missing = record.glue_used(nb) - record.glued_names(nb)
    assert missing == set(), f"the text cites keys this run did not glue: {sorted(missing)}"
