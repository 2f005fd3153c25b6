"""vaelab: the tested library behind the book on the latent space of VAEs.

Three layers; imports flow one way, core -> papers -> book, and no paper imports another.

The core, which knows no paper:
`data` (data sets, `DataConfig`), `models` (dense and convolutional VAEs), `linear` (PPCA in
closed form), `elbo` (KL, likelihoods, the ELBO and its variants as objectives, IWAE), `train`
(one loop, handed an objective), `checkpoint` (resumable runs), `cache` (train-or-load, the one
memo, cache keys), `bundle` (trained models as one checked archive), `evals`
(fingerprints and memoized evaluations), `sweep` (`fit_many`: local processes or Ray),
`metrics` (per-unit statistics, active units, typicality, unit ablation), `quality` (the feature
classifier, Fréchet distance, class entropy), `theory` (typical sets, Theorem 3), `stats`
(mean ± sd over seeds, trends), `claims` (the claims ledger and its rules), `plots` (figures).

`vaelab.papers`, one module per part of the book: `azmoodeh` (Part I), `asperti` (Part II),
`synthesis` (Part III), `performance` (the appendix); each holds its configs, measurements and
claims; all four are packages: the three parts' `figures` draw their figures (`asperti.paper`,
`asperti.claims`, `synthesis.rows`, `synthesis.claims`, `synthesis.fair` beside them), and
`performance.summary` derives what the appendix cites from its timings.

`vaelab.book`, the tooling: `profiles` and `sizes` (run sizes), `runner` (papermill), `site`
(publish in place, the HTML build), `record` (a chapter's glue and verdicts), `scoreboard` (the
verdicts page), `cli` (the `vaelab` command), `sphinxext` (MathJax).
"""

__version__ = "0.1.0"
