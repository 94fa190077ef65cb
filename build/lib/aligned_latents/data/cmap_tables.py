"""GSE92742's metadata tables and gene selection (Section 6.3's data; the first step of
the pipeline of :mod:`aligned_latents.applications.cmap_signatures`).

The tab-separated ``inst_info``, ``pert_info`` and ``cell_info`` tables (``.txt`` or
``.txt.gz``) and ``gene_info`` (which genes are the 978 measured landmarks,
``pr_is_lm = 1``, among the file's 12,328). Readers check their input and name the file at
fault. The simulated data set of the book's default run is written in the same formats by
:mod:`aligned_latents.data.l1000_sim`.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.data.gctx import gctx_meta
from aligned_latents.util.text import one_line

INST_COLUMNS = ["inst_id", "pert_id", "pert_iname", "pert_type", "cell_id"]
PERT_COLUMNS = ["pert_id", "pert_iname", "pert_type"]
CELL_COLUMNS = ["cell_id"]
GENE_COLUMNS = ["pr_gene_id", "pr_is_lm"]
CONTROL_INAME = "DMSO"
DRUG_TYPE = "trt_cp"
CHUNK_PROFILES = 10000


# --------------------------------------------------------------------------------------
# metadata tables
# --------------------------------------------------------------------------------------
def read_table(path, required: list[str], name: str,
               unique: str | None = None) -> pd.DataFrame:
    """Read a tab-separated metadata table (``.txt`` or ``.txt.gz``), check its columns.

    Every value is read as a string (``-666``, GSE92742's 'unknown', stays a string).

    Parameters
    ----------
    path : str or Path
    required : list of str
        Columns the table must have.
    name : str
        The table's name in messages (``inst_info``, ...).
    unique : str, optional
        A column whose values must be unique (a key).

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        Naming the file: missing, empty (no header, or no rows), not gzip / truncated
        gzip, not tab-separated text, missing column(s), a repeated key.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: {name} table not found")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: empty table (no header, no rows)") from None
    except gzip.BadGzipFile as exc:
        if str(exc).startswith("Not a gzipped file"):
            raise ValueError(f"{path}: not a gzip file") from None
        raise ValueError(f"{path}: corrupt gzip file ({one_line(exc)})") from None
    except EOFError:
        raise ValueError(f"{path}: truncated gzip file") from None
    except zlib.error as exc:
        raise ValueError(f"{path}: corrupt gzip file ({one_line(exc)})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: the {name} table is not UTF-8 text") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: not a tab-separated {name} table "
                         f"({one_line(exc)})") from None
    if df.empty:
        raise ValueError(f"{path}: empty table (a header, no rows)")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: {name} table lacks column(s) {missing}; it has "
                         f"{list(df.columns)}")
    if unique is not None:
        dup = df[unique].duplicated()
        if dup.any():
            raise ValueError(f"{path}: {unique} values must be unique; "
                             f"{int(dup.sum())} repeated, e.g. "
                             f"{df[unique][dup].tolist()[:5]}")
    return df


def load_metadata(inst_info, pert_info=None, cell_info=None) -> pd.DataFrame:
    """The profiles' metadata (``inst_info``), checked against the other tables.

    Parameters
    ----------
    inst_info : str or Path
        One row per profile (GSE92742 ``inst_info``).
    pert_info, cell_info : str or Path, optional
        When given, every ``pert_id`` (``cell_id``) of ``inst_info`` must be listed
        there (GSE92742's tables satisfy both).

    Returns
    -------
    DataFrame
        ``inst_info``, index ``inst_id`` (also kept as a column).
    """
    inst = read_table(inst_info, INST_COLUMNS, "inst_info", unique="inst_id")
    for path, columns, name, key in ((pert_info, PERT_COLUMNS, "pert_info", "pert_id"),
                                     (cell_info, CELL_COLUMNS, "cell_info", "cell_id")):
        if path is None:
            continue
        table = read_table(path, columns, name)
        unknown = sorted(set(inst[key]) - set(table[key]))
        if unknown:
            raise ValueError(f"{path}: {len(unknown)} {key}(s) of inst_info "
                             f"({inst_info}) are not in {name}, e.g. {unknown[:5]}")
    return inst.set_index("inst_id", drop=False)


def read_drug_list(drugs) -> list[str] | None:
    """The drugs to keep.

    Parameters
    ----------
    drugs : None, sequence of str, or str / Path
        ``pert_iname`` values, or a text file with one name per line (blank lines and
        lines starting with ``#`` skipped).

    Returns
    -------
    list of str or None
    """
    if drugs is None:
        return None
    if isinstance(drugs, (str, Path)):
        path = Path(drugs)
        if not path.is_file():
            raise ValueError(f"{path}: drug list file not found")
        names = [line.strip() for line in path.read_text().splitlines()]
        return [n for n in names if n and not n.startswith("#")]
    return [str(d) for d in drugs]


def select_profiles(inst: pd.DataFrame, cell_types, control_iname: str = CONTROL_INAME,
                    drug_type: str = DRUG_TYPE, drugs=None) -> pd.DataFrame:
    """Rows of ``inst`` for the given cell types: drug treatments and vehicle controls.

    Parameters
    ----------
    inst : DataFrame
        From :func:`load_metadata`.
    cell_types : sequence of str
    control_iname : str
        ``pert_iname`` of the controls.
    drug_type : str
        ``pert_type`` of the drug treatments.
    drugs : see :func:`read_drug_list`

    Returns
    -------
    DataFrame
        The selected rows with a boolean column ``is_control``.

    Raises
    ------
    ValueError
        Unknown cell types, or a cell type without controls.
    """
    cell_types = [str(c) for c in cell_types]
    if len(cell_types) < 1:
        raise ValueError("give at least one cell type")
    known = set(inst["cell_id"])
    unknown = [c for c in cell_types if c not in known]
    if unknown:
        raise ValueError(f"unknown cell type(s) {unknown}; inst_info has {len(known)} "
                         f"cell types, e.g. {sorted(known)[:10]}")
    sel = inst[inst["cell_id"].isin(cell_types)]
    is_ctl = sel["pert_iname"] == control_iname
    is_drug = (sel["pert_type"] == drug_type) & ~is_ctl
    names = read_drug_list(drugs)
    if names is not None:
        is_drug &= sel["pert_iname"].isin(names)
    out = sel[is_ctl | is_drug].copy()
    out["is_control"] = is_ctl[is_ctl | is_drug].to_numpy()
    for c in cell_types:
        if not out[(out["cell_id"] == c) & out["is_control"]].shape[0]:
            raise ValueError(f"cell type {c!r} has no {control_iname} control profiles")
    return out


# --------------------------------------------------------------------------------------
# genes
# --------------------------------------------------------------------------------------
def read_gene_info(path) -> pd.DataFrame:
    """GSE92742's ``gene_info`` table (``pr_gene_id``, ``pr_is_lm``, ...), checked.

    Parameters
    ----------
    path : str or Path
        ``GSE92742_Broad_LINCS_gene_info.txt`` (tab-separated; columns ``pr_gene_id``,
        ``pr_gene_symbol``, ``pr_gene_title``, ``pr_is_lm``, ``pr_is_bing``).

    Returns
    -------
    DataFrame
        All values as strings.

    Raises
    ------
    ValueError
        Naming the file: see :func:`read_table`; repeated ``pr_gene_id``; a ``pr_is_lm``
        other than 0 / 1; no landmark gene.
    """
    table = read_table(path, GENE_COLUMNS, "gene_info", unique="pr_gene_id")
    bad = sorted(set(table["pr_is_lm"]) - {"0", "1"})
    if bad:
        raise ValueError(f"{path}: pr_is_lm must be 0 or 1, found {bad[:5]}")
    if not (table["pr_is_lm"] == "1").any():
        raise ValueError(f"{path}: no landmark gene (pr_is_lm = 1)")
    return table


def select_genes(gctx_path, gene_info=None, genes: str = "landmark") -> np.ndarray:
    """Identifiers of the genes to read, in the order of the ``.gctx`` file.

    Parameters
    ----------
    gctx_path : str or Path
    gene_info : str or Path, optional
        GSE92742 ``gene_info`` table; without it the landmarks come from the file's own
        row metadata field ``pr_is_lm`` (the simulated files have it).
    genes : {"landmark", "all"}
        The landmark genes (``pr_is_lm = 1``, 978 in GSE92742, the paper's choice) or
        all genes of the file (12,328 in the Level 3 file: measured and inferred).

    Returns
    -------
    ndarray of str
    """
    if genes not in ("landmark", "all"):
        raise ValueError(f"genes must be 'landmark' or 'all', got {genes!r}")
    row_meta = gctx_meta(gctx_path, "row")
    rids = row_meta.index.to_numpy()
    if genes == "all":
        return rids
    if gene_info is not None:
        table = read_gene_info(gene_info)
        landmarks = table.loc[table["pr_is_lm"] == "1", "pr_gene_id"].to_numpy()
        absent = sorted(set(landmarks) - set(rids))
        if absent:
            raise ValueError(f"{gctx_path}: {len(absent)} of the {len(landmarks)} "
                             f"landmark genes of {gene_info} are not among its gene "
                             f"ids, e.g. {absent[:5]}")
        return rids[np.isin(rids, landmarks)]
    if "pr_is_lm" not in row_meta.columns:
        raise ValueError(f"{gctx_path}: no row metadata pr_is_lm to find the landmark "
                         f"genes among its {len(rids)}: give gene_info (GSE92742's "
                         "gene_info table) or genes='all'")
    flag = pd.to_numeric(pd.Series(row_meta["pr_is_lm"].to_numpy()), errors="coerce")
    if not flag.isin([0, 1]).all():
        raise ValueError(f"{gctx_path}: row metadata pr_is_lm must be 0 or 1")
    if not (flag == 1).any():
        raise ValueError(f"{gctx_path}: no landmark gene (pr_is_lm = 1)")
    return rids[(flag == 1).to_numpy()]


def memory_note(gctx_path, n_profiles: int, n_genes: int,
                chunk_profiles: int = CHUNK_PROFILES) -> str:
    """One line estimating the memory a selection needs, printed before reading it.

    The processed profiles are float64 (``n_profiles * n_genes * 8`` bytes); they are
    read as stored (float32, half that) in blocks of ``chunk_profiles`` profiles.

    Parameters
    ----------
    gctx_path : str or Path
    n_profiles, n_genes : int
        The selection.
    chunk_profiles : int

    Returns
    -------
    str
    """
    stored = n_profiles * n_genes * 4
    mib = 2 ** 20
    return (f"{Path(gctx_path).name}: reading {n_profiles:,} profiles x {n_genes:,} "
            f"genes ({stored / mib:,.1f} MiB as stored in float32, "
            f"{2 * stored / mib:,.1f} MiB processed in float64) in blocks of "
            f"{min(chunk_profiles, max(n_profiles, 1)):,} profiles")
