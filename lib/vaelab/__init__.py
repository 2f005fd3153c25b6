"""vaelab: the tested library behind the book on the latent space of VAEs.

Modules: `data` (data sets), `models` (VAEs), `elbo` (bounds), `train` (the loop), `cache`
(train-or-load), `metrics` (per-unit statistics, typicality), `theory` (typical sets, Theorem 3),
`plots` (figures), `profiles` (run sizes), `book` (papermill), `sphinxext` (MathJax), `cli`
(the `vaelab` command).
"""

__version__ = "0.1.0"
