"""Simulated L1000-like data in GSE92742's formats (the CMap chapter's default input).

The paper's data, CMap/LINCS L1000 (GEO GSE92742), cannot be downloaded on the machines
that build the book. This module draws profiles from an explicit generative model
(:func:`simulate_profiles`) and writes them as a ``.gctx`` matrix and tab-separated
``inst_info``, ``pert_info`` and ``cell_info`` tables (:func:`write_simulated_l1000`),
so that the chapter runs the loading and processing code of :mod:`aligned_latents.applications.cmap`
unchanged on it. The generator lives apart from the analysis, as POT keeps
``ot/datasets.py`` apart from its solvers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.data.gctx import write_gctx
from aligned_latents.util.validation import check_int, check_positive

__all__ = ["SimulationConfig", "broad_program", "simulate_profiles",
           "write_simulated_l1000"]


@dataclass
class SimulationConfig:
    """Parameters of the generative model of :func:`simulate_profiles` (log2 scale).

    Attributes
    ----------
    n_genes : int
        Genes per profile (L1000 measures 978 landmark genes); at least 20.
    cell_types : tuple of str
        Cell types simulated (distinct names).
    n_drugs : int
        Compounds.
    replicates : int
        Profiles per compound and cell type.
    n_controls : int
        DMSO profiles per cell type; at least 4 (k-means splits them in two).
    p_present : float in [0, 1]
        Chance that a drug was profiled in a given cell type.
    baseline_low, baseline_high : float
        Gene baselines ``~ U(low, high)`` (log2 units), ``low < high``.
    cell_sd : float
        Cell-type baseline deviation per gene.
    shared_scale : float
        Per-gene RMS of the shared drug effect.
    shared_on_top : float in [0, 1]
        Fraction of the shared effect's energy on the broad program.
    specific_scale : float
        Per-gene RMS of the cell-specific drug effect.
    noise_sd : float
        Per-profile noise.
    outlier_fraction : float in [0, 1]
        Share of controls in the second (outlier) control cluster.
    outlier_shift_sd : float
        Per-gene RMS of the outlier clusters' shift.
    seed : int
        Seed of the random generator.
    """

    n_genes: int = 978
    cell_types: tuple = ("A549", "MCF7", "PC3", "HA1E")
    n_drugs: int = 300
    replicates: int = 3
    n_controls: int = 120
    p_present: float = 0.9
    baseline_low: float = 4.0
    baseline_high: float = 12.0
    cell_sd: float = 0.5
    shared_scale: float = 0.5
    shared_on_top: float = 0.2
    specific_scale: float = 0.5
    noise_sd: float = 0.3
    outlier_fraction: float = 0.3
    outlier_shift_sd: float = 1.0
    seed: int = 0

    def check(self) -> SimulationConfig:
        """Validate every field; returns ``self``.

        Raises
        ------
        ValueError
            Naming the first field out of range.
        """
        for name in ("shared_scale", "specific_scale", "noise_sd", "cell_sd",
                     "outlier_shift_sd"):
            check_positive(getattr(self, name), name, allow_zero=True)
        for name in ("shared_on_top", "p_present", "outlier_fraction"):
            v = getattr(self, name)
            if isinstance(v, bool) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v!r}")
        for name in ("n_drugs", "replicates"):
            check_int(getattr(self, name), name, minimum=1)
        # k-means splits the controls in two clusters
        check_int(self.n_controls, "n_controls", minimum=4)
        check_int(self.n_genes, "n_genes", minimum=20)
        check_int(self.seed, "seed", minimum=0)
        cells = [str(c) for c in self.cell_types]
        if not cells or len(set(cells)) != len(cells):
            raise ValueError(f"cell_types must be distinct names, got "
                             f"{self.cell_types!r}")
        if not self.baseline_low < self.baseline_high:
            raise ValueError("baseline_low must be < baseline_high")
        return self


def broad_program(baseline: np.ndarray) -> np.ndarray:
    """The shared 'broad' response direction, scaled to per-gene RMS 1.

    A uniform shift of the genes whose baseline lies strictly between the 10th and 90th
    percentile, none on the extremes. Per-profile min-max scaling removes any shift that
    is affine in the baseline (including a shift of *all* genes); a shift of the
    mid-expressed genes only survives it and moves the profile along the processed
    data's top singular vector (the mean profile).

    Parameters
    ----------
    baseline : array-like (g,)
        Gene baselines (log2).

    Returns
    -------
    ndarray (g,)
    """
    lo, hi = np.quantile(baseline, [0.1, 0.9])
    t = ((baseline > lo) & (baseline < hi)).astype(float)
    return t / np.sqrt(np.mean(t ** 2))


def simulate_profiles(cfg: SimulationConfig):
    """Draw raw (linear-scale) profiles and their metadata from the generative model.

    On the log2 scale, profile ``p`` of cell type ``c`` treated with drug ``j`` is

    .. math:: z_p = μ_c + a_j (\\sqrt{f}\\, t + \\sqrt{1 - f}\\, w_j)
              + s_{sp} e_{jc} + ε_p

    with gene baselines ``mu_c = mu_0 + eta_c`` (``mu_0 ~ U(low, high)``,
    ``eta_c ~ N(0, cell_sd²)``), the shared effect's size
    ``a_j = shared_scale * sign_j * |N(1, 0.25²)|`` (sign ±1 at random: drugs that raise
    or lower the broad program), the broad program ``t`` (:func:`broad_program`), a
    drug-specific random direction ``w_j ~ N(0, I)``, the cell-specific effect
    ``e_jc ~ N(0, I)`` scaled by ``specific_scale`` and noise
    ``eps_p ~ N(0, noise_sd²)``; ``f = shared_on_top``. DMSO controls have no drug term;
    a share ``outlier_fraction`` of them carries a fixed shift
    ``o_c ~ N(0, outlier_shift_sd²)`` (a second control cluster, which the k-means step
    must discard). Raw values are ``2^z - 1`` so that ``log2(x + 1)`` recovers ``z``.

    Parameters
    ----------
    cfg : SimulationConfig

    Returns
    -------
    raw : ndarray (n, genes)
        Raw profiles, in a shuffled (plate-like) order.
    inst : DataFrame
        The ``inst_info`` rows (``inst_id``, ``pert_iname``, ``cell_id``, ...) plus
        ``control_cluster`` (``main``/``outlier`` for controls).
    truth : dict
        The true effects (``baseline``, ``broad``, ``shared``, ``specific``,
        ``outlier_shift``, ``drug_names``), for checks.
    """
    cfg.check()
    rng = np.random.default_rng(cfg.seed)
    g = cfg.n_genes
    mu0 = rng.uniform(cfg.baseline_low, cfg.baseline_high, g)
    t = broad_program(mu0)
    f = cfg.shared_on_top
    sign = rng.choice([-1.0, 1.0], cfg.n_drugs)
    a = cfg.shared_scale * sign * np.abs(rng.normal(1.0, 0.25, cfg.n_drugs))
    w = rng.standard_normal((cfg.n_drugs, g))
    shared = a[:, None] * (np.sqrt(f) * t[None, :] + np.sqrt(1.0 - f) * w)
    drug_names = [f"SIM-DRUG-{j:03d}" for j in range(cfg.n_drugs)]
    blocks, meta, specific, outlier_shifts = [], [], {}, {}
    for cell in cfg.cell_types:
        mu = mu0 + cfg.cell_sd * rng.standard_normal(g)
        present = rng.random(cfg.n_drugs) < cfg.p_present
        e = cfg.specific_scale * rng.standard_normal((cfg.n_drugs, g))
        specific[cell] = e
        shift = cfg.outlier_shift_sd * rng.standard_normal(g)
        outlier_shifts[cell] = shift
        n_out = round(cfg.outlier_fraction * cfg.n_controls)
        for i in range(cfg.n_controls):
            noise = cfg.noise_sd * rng.standard_normal(g)
            z = mu + noise + (shift if i < n_out else 0.0)
            blocks.append(z)
            meta.append({"pert_id": "DMSO", "pert_iname": "DMSO",
                         "pert_type": "ctl_vehicle", "cell_id": cell,
                         "control_cluster": "outlier" if i < n_out else "main"})
        for j in np.flatnonzero(present):
            for _ in range(cfg.replicates):
                z = mu + shared[j] + e[j] + cfg.noise_sd * rng.standard_normal(g)
                blocks.append(z)
                meta.append({"pert_id": f"BRD-SIM{j:05d}", "pert_iname": drug_names[j],
                             "pert_type": "trt_cp", "cell_id": cell,
                             "control_cluster": ""})
    z = np.array(blocks)
    inst = pd.DataFrame(meta)
    # profile order as on a plate run: shuffled, so selection must use the metadata
    order = rng.permutation(len(inst))
    z, inst = z[order], inst.iloc[order].reset_index(drop=True)
    n = len(inst)
    inst.insert(0, "inst_id", [f"SIM001_{i:06d}" for i in range(n)])
    inst["rna_plate"] = [f"SIM001_P{i // 384:03d}" for i in range(n)]
    inst["rna_well"] = [f"{chr(65 + (i % 384) // 24)}{(i % 24) + 1:02d}"
                        for i in range(n)]
    is_drug = inst["pert_type"] == "trt_cp"
    inst["pert_dose"] = np.where(is_drug, "10.0", "0.1")
    inst["pert_dose_unit"] = np.where(is_drug, "µM", "%")
    inst["pert_time"] = "24"
    inst["pert_time_unit"] = "h"
    raw = np.exp2(z) - 1.0
    truth = {"baseline": mu0, "broad": t, "shared": shared, "specific": specific,
             "outlier_shift": outlier_shifts, "drug_names": drug_names}
    return raw, inst, truth


def write_simulated_l1000(out_dir, cfg: SimulationConfig,
                          compression: str | None = "gzip") -> dict:
    """Simulate (:func:`simulate_profiles`) and write GSE92742-style files.

    Parameters
    ----------
    out_dir : str or Path
        Folder (created when missing).
    cfg : SimulationConfig
    compression : str or None
        HDF5 filter of the ``.gctx`` matrix.

    Returns
    -------
    dict
        Paths under the keys ``gctx`` (``sim_level3.gctx``, profiles x genes, float32,
        every gene a landmark: row metadata ``pr_is_lm = 1``), ``inst_info``,
        ``pert_info``, ``cell_info`` (tab-separated ``.txt``), plus ``truth`` and
        ``inst`` from :func:`simulate_profiles`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw, inst, truth = simulate_profiles(cfg)
    gene_ids = [str(10000 + i) for i in range(cfg.n_genes)]
    paths = {"gctx": out / "sim_level3.gctx", "inst_info": out / "inst_info.txt",
             "pert_info": out / "pert_info.txt", "cell_info": out / "cell_info.txt"}
    symbols = np.array([f"SIMG{i:04d}" for i in range(cfg.n_genes)])
    write_gctx(paths["gctx"], raw, inst["inst_id"], gene_ids, compression=compression,
               col_meta={"cell_id": inst["cell_id"].to_numpy(),
                         "pert_iname": inst["pert_iname"].to_numpy()},
               row_meta={"pr_gene_symbol": symbols,
                         "pr_is_lm": np.ones(cfg.n_genes, dtype=np.int8)})
    cols = ["inst_id", "rna_plate", "rna_well", "pert_id", "pert_iname", "pert_type",
            "pert_dose", "pert_dose_unit", "pert_time", "pert_time_unit", "cell_id"]
    inst[cols].to_csv(paths["inst_info"], sep="\t", index=False)
    pert = (inst[["pert_id", "pert_iname", "pert_type"]].drop_duplicates()
            .sort_values("pert_id"))
    pert["is_touchstone"] = "0"
    pert["inchi_key"] = "-666"      # GSE92742's placeholder for 'unknown'
    pert["canonical_smiles"] = "-666"
    pert.to_csv(paths["pert_info"], sep="\t", index=False)
    cell = pd.DataFrame({"cell_id": list(cfg.cell_types), "cell_type": "cell line",
                         "primary_site": "simulated", "sample_type": "tumor"})
    cell.to_csv(paths["cell_info"], sep="\t", index=False)
    return {**paths, "truth": truth, "inst": inst}
