"""The models of Section 6.3 (Figure 4) on CMap / LINCS L1000 drug signatures.

The signatures come from :mod:`aligned_latents.applications.cmap_signatures` (GSE92742, or the
simulated set of :mod:`aligned_latents.data.l1000_sim`); here they are mapped through the
paper's models (linear autoencoders with asymmetric spectral initialization, Theorem 1's
stretch factors, the Leaky ReLU autoencoder of Appendix H) and the pipeline is rerun on
simulated data across the share of the programme on top (:func:`sweep_shared_on_top`).
Figure 4's tables are measured by :mod:`aligned_latents.metrics.drug_alignment`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.applications.cmap_signatures import CMapData, latent_signatures, load_cmap
from aligned_latents.data.l1000_sim import SimulationConfig, write_simulated_l1000
from aligned_latents.metrics.drug_alignment import alignment_tables, figure4_summary
from aligned_latents.theory.nonlinear_ae import TrainConfig, encode, train_autoencoder
from aligned_latents.util.model_names import model_label
from aligned_latents.util.validation import as_finite_array, check_degree, check_int, check_positive

SWEEP_COLUMNS = ["model", "n_drugs", "share_increased", "median_increase",
                 "median_cos_original", "median_cos_latent",
                 "mismatched_median_abs_cos_original",
                 "mismatched_median_abs_cos_latent",
                 "share_negative_latent", "share_negative_original"]


def linear_ae_latents(data: CMapData, degrees, cell_a: str = "A549",
                      cell_b: str = "MCF7", train_cell_types=None) -> tuple[dict, dict]:
    """Latent signatures under linear autoencoders with asymmetric spectral
    initialization.

    For each degree ``k``, the encoder is Theorem 1's limit from ``A0 = 0``,
    ``B0 = (XᵀX/(n g) + I)^k`` (:func:`aligned_latents.theory.linear_ae.asymmetric_encoder`,
    the companion code's normalization ``n * g``), ``X`` the processed profiles of
    ``train_cell_types`` (default: the compared cell types).

    Parameters
    ----------
    data : CMapData
    degrees : sequence of int >= 0
    cell_a, cell_b : str
    train_cell_types : sequence of str, optional

    Returns
    -------
    latents : dict
        ``'linear k=K'`` -> (latent signatures in cell a, in cell b).
    encoders : dict
        ``'linear k=K'`` -> encoder ``B`` (d, d).
    """
    from aligned_latents.theory.linear_ae import asymmetric_encoder

    X = data.training_profiles(train_cell_types)
    n, g = X.shape
    latents, encoders = {}, {}
    for k in degrees:
        k = check_degree(k, "degree")
        B = asymmetric_encoder(X, k, normalizer=n * g)
        name = model_label("linear", k, "short")
        latents[name] = (latent_signatures(data, cell_a, lambda x, B=B: x @ B.T),
                         latent_signatures(data, cell_b, lambda x, B=B: x @ B.T))
        encoders[name] = B
    return latents, encoders


def stretch_factors(X, degrees, top: int = 5,
                    normalizer: float | None = None) -> pd.DataFrame:
    """Theorem 1's singular values ``b_inf`` of the encoder along the training data's
    top right singular vectors, per degree, and the ratio of the first two.

    Parameters
    ----------
    X : array-like (n, g)
    degrees : sequence of int
        ``B0 = (XᵀX/normalizer + I)^k`` with ``A0 = 0``.
    top : int >= 1
    normalizer : float, optional
        Default ``n g`` (the companion code's).

    Returns
    -------
    DataFrame
        One row per degree; ``attrs["eigenvalues"]`` holds ``λ_i / normalizer``.
    """
    from aligned_latents.theory.linear_ae import theorem1_final

    X = as_finite_array(X, "X", ndim=2)
    top = check_int(top, "top", minimum=1)
    n, g = X.shape
    normalizer = (float(n * g) if normalizer is None
                  else check_positive(normalizer, "normalizer"))
    s = np.linalg.svd(X, compute_uv=False)[:top]
    lam = s ** 2 / normalizer
    rows = []
    for k in degrees:
        k = check_degree(k, "degree")
        _, b = theorem1_final(np.zeros_like(lam), (lam + 1.0) ** k)
        rows.append({"degree": k, **{f"b_{i + 1}": float(v) for i, v in enumerate(b)},
                     "b_1 / b_2": float(b[0] / b[1]) if len(b) > 1 else float("nan")})
    out = pd.DataFrame(rows)
    out.attrs["eigenvalues"] = lam
    return out


def leaky_relu_latents(data: CMapData, config: TrainConfig, cell_a: str = "A549",
                       cell_b: str = "MCF7", train_cell_types=None, weights_dir=None,
                       progress: bool = True, threads: int | None = 1):
    """Train the Leaky ReLU autoencoder of Appendix H on the processed profiles.

    ``config`` holds the training settings (Appendix H: Adam, learning rate 1e-4, 1024
    hidden units). The latent space is the first layer's pre-activation ``W x + c``; the
    bias cancels in a signature (a difference of means), so a latent signature is
    ``W s``. Weights are cached in ``weights_dir`` by
    :func:`~aligned_latents.theory.nonlinear_ae.train_autoencoder`.

    Parameters
    ----------
    data : CMapData
    config : TrainConfig
    cell_a, cell_b : str
    train_cell_types : sequence of str, optional
    weights_dir : str or Path, optional
    progress : bool
    threads : int, optional
        torch threads while training (None: torch's count). One by default: on the
        book's shared 2-core machine, under load, one seed (7 epochs over 1,884 x 978
        profiles) trained in 11.6 s wall (4.7 s CPU) on one thread and 53.7 s (18.6 s
        CPU) on two.

    Returns
    -------
    (latent signatures in cell a, in cell b), model, history
    """
    X = data.training_profiles(train_cell_types).astype(np.float32)
    model, history = train_autoencoder(X, config, weights_dir=weights_dir,
                                       prefix="leakyrelu", progress=progress,
                                       threads=threads,
                                       desc=f"Leaky ReLU autoencoder, seed {config.seed}")

    def f(x):
        return encode(model, x)
    sigs = (latent_signatures(data, cell_a, f), latent_signatures(data, cell_b, f))
    return sigs, model, history


def leaky_relu_over_seeds(data: CMapData, config: TrainConfig, seeds,
                          cell_a: str = "A549", cell_b: str = "MCF7",
                          train_cell_types=None, weights_dir=None,
                          progress: bool = True, threads: int | None = 1) -> dict:
    """:func:`leaky_relu_latents` once per initialization seed (issue 17: a trained
    network depends on its random initialization, so every number of it is measured over
    seeds).

    Only the network's seed varies (``config.seed`` is replaced by each of ``seeds``):
    the data, and so the simulation's seed, stay the same. Each seed's weights are cached
    in ``weights_dir`` under their own name (the configuration, seed included, is
    hashed).

    Returns
    -------
    dict
        seed -> ((latent signatures in cell a, in cell b), model, history), in the order
        of ``seeds``.
    """
    import dataclasses

    seeds = [check_int(s, "seed", minimum=0) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    return {s: leaky_relu_latents(data, dataclasses.replace(config, seed=s), cell_a,
                                  cell_b, train_cell_types, weights_dir, progress,
                                  threads)
            for s in seeds}


def sweep_shared_on_top(values, base: SimulationConfig, degrees, cell_a: str = "A549",
                        cell_b: str = "MCF7", seed: int = 0) -> pd.DataFrame:
    """Rerun simulation -> .gctx -> signatures -> linear autoencoders for each
    ``shared_on_top`` value (only the two compared cell types are simulated).

    An experiment on the pipeline of this module, fed by
    :func:`aligned_latents.data.l1000_sim.write_simulated_l1000` and measured by
    :mod:`aligned_latents.metrics.drug_alignment`.

    Parameters
    ----------
    values : sequence of float in [0, 1]
    base : SimulationConfig
        Every other parameter of the simulation.
    degrees : sequence of int >= 0
    cell_a, cell_b : str
    seed : int
        Seed of k-means and of the mismatched pairs.

    Returns
    -------
    DataFrame
        One row per value and linear model: ``shared_on_top``, ``model``, ``n_drugs``,
        ``share_increased``, ``median_increase``, the median cosines, the mismatched
        pairs' median absolute cosines, ``share_negative_latent`` (drugs whose latent
        cosine is < 0) and ``share_negative_original``.
    """
    import dataclasses
    import tempfile

    out = []
    with tempfile.TemporaryDirectory(prefix="cmap-sweep-") as tmp:
        for f in values:
            cfg = dataclasses.replace(base, shared_on_top=float(f),
                                      cell_types=(cell_a, cell_b))
            paths = write_simulated_l1000(Path(tmp) / f"f{f}", cfg, compression=None)
            data = load_cmap(paths["gctx"], paths["inst_info"], paths["pert_info"],
                             paths["cell_info"], cell_types=(cell_a, cell_b), seed=seed,
                             verbose=False)
            latents, _ = linear_ae_latents(data, degrees, cell_a, cell_b)
            table, mism = alignment_tables(data, latents, cell_a, cell_b, seed)
            summ = figure4_summary(table, mism)[SWEEP_COLUMNS]
            summ.insert(0, "shared_on_top", float(f))
            out.append(summ)
    return pd.concat(out, ignore_index=True)
