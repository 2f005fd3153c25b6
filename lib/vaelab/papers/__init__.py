"""One module per part of the book: the papers' models as configs, what each chapter measures, and
the claims each part tests (`vaelab.claims`).

- `azmoodeh`: Part I, Azmoodeh et al., *Why Bigger is Not Better*.
- `asperti`: Part II, Asperti, *Sparsity in Variational Autoencoders*.
- `synthesis`: Part III, the questions neither paper asked, on one grid of runs.
- `performance`: the appendix on what training costs on this machine.

Each imports the core (`vaelab.*`) and never another paper's module.
"""
