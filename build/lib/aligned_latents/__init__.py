"""aligned_latents: the computations behind the reproducible edition of
*A Mechanism for Producing Aligned Latent Spaces with Autoencoders*
(Jain, Radhakrishnan, Uhler).

The package is layered; each subpackage imports only from the ones listed before it
(``tests/test_layers.py`` checks it):

- :mod:`~aligned_latents.util`: input checks, paths, the device, the list of chapters,
  the paper's constants and reported values, the models' names;
- :mod:`~aligned_latents.data`: readers and writers of the data (embeddings, GCTX, CMap's
  tables, the simulated L1000 set);
- :mod:`~aligned_latents.theory`: the paper's mathematics: closed forms (Lemmas 1-4,
  Corollaries 1-4, Theorems 1-2) and its linear, ReLU and Leaky ReLU autoencoders;
- :mod:`~aligned_latents.metrics`: what the applications measure (word analogy, word
  similarity, drug-signature alignment, row-wise vector operations);
- :mod:`~aligned_latents.applications`: the paper's Section 6 pipelines (GloVe, CMap,
  fluVaccine) built from the layers below;
- :mod:`~aligned_latents.record`: the paper's statements, the checks, their verdicts,
  errata, the ledger and the pages built from it;
- :mod:`~aligned_latents.book`: figures, sliders, the style and the Sphinx extension;
- :mod:`~aligned_latents.runs`: parameters, reruns, sweeps and the command line.

Modules are imported on demand (``from aligned_latents.theory import closed_forms``) so
that importing the package stays cheap; torch is only loaded by the modules that train.
"""

__version__ = "0.1.0"
