"""The GloVe chapter's sweeps and figure data (paper Sections 6.1-6.2, Appendix I).

* :func:`degree_sweep`: analogy and word similarity of the linear autoencoder against its
  degree ``k`` (Table 1's ``analogy`` grows with ``k``; the book's trade-off plot).
* :func:`u1_vocabulary_sweep`: Figure 6's relation between frequency rank and
  ``cos(w, u1)`` for the ``N`` most frequent words, ``N`` swept; under the book's sign
  convention for ``u1`` the direction of the relation flips at a vocabulary size that this
  function locates (Appendix I.1 states the direction without fixing the sign).
* :func:`relation_mds`: the MDS pictures of one relation (Figures 3, 8 and 9).
* :func:`companion_accuracy`: the analogy accuracy as the companion code computes it, over
  whole batches of 1000 questions only.
* :func:`side_by_side`: our Table 1 / Table 2 beside the paper's, one row per metric.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from aligned_latents.applications import glove as gl
from aligned_latents.metrics import analogy as an
from aligned_latents.metrics.vectors import project_rows
from aligned_latents.theory.linear_ae import data_gram
from aligned_latents.util.validation import as_finite_array, check_degree, check_int

__all__ = ["SWEEP_COLUMNS", "companion_accuracy", "degree_sweep", "relation_mds",
           "side_by_side", "u1_sign_cutoff", "u1_vocabulary_sweep"]

#: Columns of :func:`degree_sweep` (and of ``results/glove/degree_sweep.csv``).
SWEEP_COLUMNS = ["k", "analogy", "wsim_mturk771", "wsim_men", "mturk771_default",
                 "men_default"]


def degree_sweep(X, origin, bench: gl.Benchmarks, degrees) -> pd.DataFrame:
    """Analogy and word similarity of the linear autoencoder for each degree ``k``.

    For each ``k`` the encoder is Theorem 1's ``B_inf`` from ``B0 = ((1/N)XᵀX + I)^k``
    (:func:`aligned_latents.applications.glove.linear_model`); the words and the reference point
    ``origin`` (``o' = λ₁u₁``, Appendix I.4) are encoded and scored like Table 1's rows
    (``analogy``; ``wsim`` from the corrected and from the default reference point). The
    analogy accuracy is left out (the slow nearest-neighbour search).

    Parameters
    ----------
    X : array (N, d)
        The word vectors (rows).
    origin : array (d,)
        The corrected reference point ``o'`` of the original space.
    bench : Benchmarks
        The benchmark questions and pairs
        (:func:`aligned_latents.applications.glove.load_benchmarks`).
    degrees : iterable of int >= 0
        The degrees, returned in increasing order.

    Returns
    -------
    DataFrame with :data:`SWEEP_COLUMNS`, one row per degree.
    """
    ks = sorted({check_degree(k, "degree") for k in degrees})
    if not ks:
        raise ValueError("degree_sweep needs at least one degree")
    o = as_finite_array(origin, "origin", ndim=1)
    gram = data_gram(X)  # one pass over X for every degree
    rows = []
    for k in ks:
        B = gl.linear_model(X, k, gram=gram)
        r = gl.evaluate(gl.encode_linear(X, B), o @ B, bench, accuracy=False)
        rows.append({"k": k, **{c: r[c] for c in SWEEP_COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


def _rank_correlation(X, norms, gram, total, n):
    """λ₁, Σ xᵢᵀu₁ before the sign is fixed, and Spearman(rank, cos(w, u₁)) for the first
    ``n`` rows, with :func:`aligned_latents.metrics.wsim.top_singular`'s sign convention."""
    evals, evecs = np.linalg.eigh(gram)
    u1 = evecs[:, -1]
    if total @ u1 < 0:
        u1 = -u1
    cos = project_rows(X[:n], u1) / norms[:n]  # no float64 copy of X
    rho = spearmanr(np.arange(n), cos).statistic if n > 2 else np.nan
    return float(np.sqrt(max(evals[-1], 0.0))), float(rho)


def u1_vocabulary_sweep(X, sizes) -> pd.DataFrame:
    """Figure 6's rank correlation for the ``N`` most frequent words, for each ``N`` in
    ``sizes``.

    For each ``N``, ``u₁`` is the top left singular vector of the paper's ``d x N`` data
    (the top eigenvector of ``XᵀX`` over the first ``N`` rows) with the book's sign
    convention ``Σ_i xᵢᵀu₁ > 0`` (:func:`aligned_latents.metrics.wsim.top_singular`), and ``rho``
    is Spearman's correlation between the frequency rank ``1..N`` and ``cos(w, u₁)``.
    ``rho < 0`` means that frequent words are more aligned with ``u₁`` (Appendix I.1's
    statement); ``|rho|`` does not depend on the sign of ``u₁``.

    Rows of ``X`` must be ordered by decreasing frequency (GloVe files are).

    Returns
    -------
    DataFrame with columns ``n_words``, ``lam1`` (unnormalized top singular value) and
    ``rho``, one row per size (increasing).
    """
    X = np.asarray(X)
    if X.ndim != 2 or len(X) < 3:
        raise ValueError(f"X must be a 2-d array with at least 3 rows, got shape {X.shape}")
    ns = sorted({check_int(n, "vocabulary size", minimum=3) for n in sizes})
    if not ns:
        raise ValueError("u1_vocabulary_sweep needs at least one vocabulary size")
    if ns[-1] > len(X):
        raise ValueError(f"vocabulary size {ns[-1]} exceeds the {len(X)} words of X")
    d = X.shape[1]
    norms = np.empty(len(X))
    gram, total, done = np.zeros((d, d)), np.zeros(d), 0
    rows = []
    for n in ns:  # accumulate XᵀX and Σx over rows done..n (no float64 copy of X)
        for s in range(done, n, 65536):
            block = as_finite_array(X[s:min(s + 65536, n)], "X", ndim=2)
            gram += block.T @ block
            total += block.sum(axis=0)
            norms[s:s + len(block)] = np.linalg.norm(block, axis=1)
        done = n
        if np.any(norms[:n] == 0):
            raise ValueError("a word vector is zero: cos(w, u1) is undefined")
        lam1, rho = _rank_correlation(X, norms, gram, total, n)
        rows.append({"n_words": n, "lam1": lam1, "rho": rho})
    return pd.DataFrame(rows, columns=["n_words", "lam1", "rho"])


def u1_sign_cutoff(X, coarse: int = 10_000, fine: int = 1_000):
    """Where Figure 6's direction flips under the book's sign convention.

    Sweeps the vocabulary size ``N`` over multiples of ``coarse`` (and ``N`` = all rows)
    with :func:`u1_vocabulary_sweep`, finds the first ``N`` at which ``rho >= 0`` (frequent
    words no longer more aligned with ``u₁``), and refines between the previous size and
    that one in steps of ``fine``.

    Returns
    -------
    sweep : DataFrame
        :func:`u1_vocabulary_sweep`'s columns plus ``grid`` (``'coarse'`` or ``'fine'``),
        sorted by ``n_words``.
    cutoff : int or None
        The smallest swept ``N`` with ``rho >= 0`` (after refinement), or None when
        ``rho < 0`` at every swept size.
    """
    coarse = check_int(coarse, "coarse", minimum=3)
    fine = check_int(fine, "fine", minimum=3)
    n = len(X)
    sizes = list(range(coarse, n, coarse)) + [n]
    sweep = u1_vocabulary_sweep(X, sizes).assign(grid="coarse")
    flipped = sweep.index[sweep["rho"] >= 0]
    if len(flipped) == 0:
        return sweep, None
    j = int(flipped[0])
    lo = int(sweep.loc[j - 1, "n_words"]) if j > 0 else 0
    hi = int(sweep.loc[j, "n_words"])
    between = [m for m in range(lo + fine, hi, fine) if m >= 3]
    if between:
        refined = u1_vocabulary_sweep(X, between).assign(grid="fine")
        sweep = pd.concat([sweep, refined], ignore_index=True)
        sweep = sweep.sort_values("n_words", kind="stable").reset_index(drop=True)
    candidates = sweep[(sweep["n_words"] > lo) & (sweep["rho"] >= 0)]
    return sweep, int(candidates["n_words"].iloc[0])


def relation_mds(words, spaces: dict, q: an.AnalogyQuestions, relation: str,
                 every: int = 1, seed: int = 42) -> pd.DataFrame:
    """The data of one MDS picture (Figures 3, 8 and 9, Appendix I.3).

    Takes the distinct word pairs ``(w1, w2)`` and ``(w3, w4)`` of every ``every``-th
    question of ``relation`` (the companion code's Figure 3 takes every 260th negation
    question), embeds their words with two-dimensional metric MDS in each space
    (:func:`aligned_latents.applications.glove.mds_pairs`, ``random_state=seed``) and returns
    one row per space and pair: ``space, pair, word_a, word_b, xa, ya, xb, yb``.

    ``words`` is the vocabulary (row ``i`` of every space is ``words[i]``); ``spaces`` maps a
    space's name to its latent matrix.
    """
    every = check_int(every, "every", minimum=1)
    rows = q.idx[q.relation == relation][::every]
    if len(rows) == 0:
        raise ValueError(f"no question of relation {relation!r} was found in the vocabulary")
    pairs = list(dict.fromkeys([(a, b) for a, b, _, _ in rows]
                               + [(c, e) for _, _, c, e in rows]))
    df = gl.mds_pairs(spaces, pairs, seed=seed)
    df.insert(1, "pair", [i for _ in spaces for i in range(len(pairs))])
    df["word_a"] = [words[a] for a in df["a"]]
    df["word_b"] = [words[b] for b in df["b"]]
    return df[["space", "pair", "word_a", "word_b", "xa", "ya", "xb", "yb"]]


def companion_accuracy(correct, batch: int = 1000) -> tuple[float, int]:
    """Analogy accuracy as the companion code computes it (glove/glove_analysis.ipynb).

    Its loop runs over ``N // batch`` batches of ``batch`` = 1000 questions, so the last
    partial batch is never scored: the accuracy is the mean of ``correct`` over the first
    ``(N // batch) * batch`` questions. Returns ``(accuracy, questions scored)``; the
    accuracy is NaN when no batch is complete (the companion code divides by zero).
    """
    correct = np.asarray(correct, dtype=bool).ravel()
    batch = check_int(batch, "batch", minimum=1)
    n = (len(correct) // batch) * batch
    return (float(correct[:n].mean()) if n else float("nan")), n


def side_by_side(ours: pd.DataFrame, paper: pd.DataFrame, metrics: dict) -> pd.DataFrame:
    """Our table beside the paper's, one row per (metric, source), one column per model.

    ``ours`` and ``paper`` have a ``model`` column; ``metrics`` maps a column name to the
    label of its row. Models of ``ours`` missing from ``paper`` (e.g. a degree the paper
    did not run) get NaN in the paper's rows; the paper's other models are dropped.
    """
    models = list(ours["model"])
    o = ours.set_index("model")
    p = paper.set_index("model").reindex(models)
    rows, index = [], []
    for col, label in metrics.items():
        for source, t in (("this book", o), ("paper", p)):
            rows.append([t.loc[m, col] if col in t.columns else np.nan for m in models])
            index.append((label, source))
    return pd.DataFrame(rows, columns=models,
                        index=pd.MultiIndex.from_tuples(index, names=["metric", "source"]))
