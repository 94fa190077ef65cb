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

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from aligned_latents.applications import glove as gl
from aligned_latents.metrics import analogy as an
from aligned_latents.metrics.vectors import project_prefixes
from aligned_latents.metrics.wsim import top_singular_of_gram
from aligned_latents.theory.linear_ae import data_gram
from aligned_latents.util.validation import as_finite_array, check_degree, check_int

__all__ = ["SWEEP_COLUMNS", "benchmark_rows", "benchmarks_on_rows", "companion_accuracy",
           "degree_sweep", "questions_on_rows", "relation_mds", "relation_rows",
           "side_by_side", "u1_sign_cutoff", "u1_vocabulary_sweep"]

#: Columns of :func:`degree_sweep` (and of ``results/glove/degree_sweep.csv``).
SWEEP_COLUMNS = ["k", "analogy", "wsim_mturk771", "wsim_men", "mturk771_default",
                 "men_default"]


def degree_sweep(X, origin, bench: gl.Benchmarks, degrees, gram=None) -> pd.DataFrame:
    """Analogy and word similarity of the linear autoencoder for each degree ``k``.

    For each ``k`` the encoder is Theorem 1's ``B_inf`` from ``B0 = ((1/N)XᵀX + I)^k``
    (:func:`aligned_latents.applications.glove.linear_model`); the words and the reference point
    ``origin`` (``o' = λ₁u₁``, Appendix I.4) are encoded and scored like Table 1's rows
    (``analogy``; ``wsim`` from the corrected and from the default reference point). The
    analogy accuracy is left out (the slow nearest-neighbour search).

    Only the words of the benchmarks are encoded (:func:`benchmark_rows`; about 2,500 of
    GloVe's 400,000): these metrics read no other row, and each encoded row is the same
    ``x B`` as in the whole matrix's encoding. The sweep's BLAS calls run on one thread
    (small products and d x d eigen-decompositions, as :func:`u1_vocabulary_sweep`'s).

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
    gram : array (d, d), optional
        ``XᵀX`` by :func:`aligned_latents.theory.linear_ae.data_gram`, when the caller has
        it (else one pass over ``X`` computes it).

    Returns
    -------
    DataFrame with :data:`SWEEP_COLUMNS`, one row per degree.
    """
    ks = sorted({check_degree(k, "degree") for k in degrees})
    if not ks:
        raise ValueError("degree_sweep needs at least one degree")
    o = as_finite_array(origin, "origin", ndim=1)
    gram = data_gram(X) if gram is None else gram  # one pass over X for every degree
    rows = benchmark_rows(bench)
    words, on_rows = X[rows], benchmarks_on_rows(bench, rows)
    out = []
    with threadpool_limits(1, user_api="blas"):
        for k in ks:
            B = gl.linear_model(X, k, gram=gram)
            r = gl.evaluate(gl.encode_linear(words, B), o @ B, on_rows, accuracy=False)
            out.append({"k": k, **{c: r[c] for c in SWEEP_COLUMNS[1:]}})
    return pd.DataFrame(out, columns=SWEEP_COLUMNS)


def benchmark_rows(bench: gl.Benchmarks) -> np.ndarray:
    """The vocabulary rows of every word of ``bench``'s questions and pairs, sorted."""
    return np.unique(np.concatenate([bench.questions.idx.ravel(), bench.mturk771.i,
                                     bench.mturk771.j, bench.men.i, bench.men.j]))


def relation_rows(q: an.AnalogyQuestions, relation: str) -> np.ndarray:
    """The vocabulary rows of every word of ``relation``'s questions, sorted (the words
    :func:`relation_mds` can draw for that relation)."""
    return np.unique(q.idx[q.relation == relation])


def questions_on_rows(q: an.AnalogyQuestions, rows) -> an.AnalogyQuestions:
    """The questions of ``q`` whose four words are among ``rows`` (sorted vocabulary rows),
    in their order, with row numbers into ``X[rows]``: a matrix of those words' codes
    stands for the whole latent matrix (the same questions, the same vectors)."""
    rows = np.asarray(rows)
    if np.any(np.diff(rows) <= 0):
        raise ValueError("rows must be sorted, without repeats")
    keep = np.isin(q.idx, rows).all(axis=1)
    return an.AnalogyQuestions(np.searchsorted(rows, q.idx[keep]), q.relation[keep],
                               q.total)


def benchmarks_on_rows(bench: gl.Benchmarks, rows) -> gl.Benchmarks:
    """``bench`` with row numbers into ``X[rows]`` (``rows`` sorted, without repeats, and
    holding every word of ``bench``, e.g. :func:`benchmark_rows`)."""
    rows = np.asarray(rows)
    if np.any(np.diff(rows) <= 0) or not np.isin(benchmark_rows(bench), rows).all():
        raise ValueError("rows must be sorted, without repeats, and hold every word of the "
                         "benchmarks")
    pairs = [replace(p, i=np.searchsorted(rows, p.i), j=np.searchsorted(rows, p.j))
             for p in (bench.mturk771, bench.men)]
    return gl.Benchmarks(questions_on_rows(bench.questions, rows), *pairs)


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

    Two passes over ``X``, no float64 copy of it: the first accumulates ``XᵀX`` and ``Σx``
    up to each size and takes its ``u₁``; the second projects each block of rows, converted
    to float64 once, on the ``u₁`` of every size that includes it
    (:func:`aligned_latents.metrics.vectors.project_prefixes`), for groups of sizes whose
    cosines together take at most a quarter of ``X``'s bytes (or one size). Its BLAS calls
    (a d x d eigen-decomposition per size, products of blocks of rows) run on one thread:
    on this project's two-core machine, beside other work (load 3), the sweep at 500,000 x
    300 took 10-19 s on two OpenBLAS threads against 6-7 s on one; on GloVe 6B 50d both
    give the same bits.

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
    with threadpool_limits(1, user_api="blas"):
        lam1, rho = _u1_sweep(X, ns)
    return pd.DataFrame({"n_words": ns, "lam1": lam1, "rho": rho},
                        columns=["n_words", "lam1", "rho"])


def _u1_sweep(X, ns):
    """:func:`u1_vocabulary_sweep`'s ``lam1`` and ``rho`` for the sizes ``ns``
    (increasing, validated)."""
    d = X.shape[1]
    norms = np.empty(ns[-1])
    gram, total, done = np.zeros((d, d)), np.zeros(d), 0
    lam1, u1s = [], []
    for n in ns:  # accumulate XᵀX and Σx over rows done..n (no float64 copy of X)
        for s in range(done, n, 65536):
            block = as_finite_array(X[s:min(s + 65536, n)], "X", ndim=2)
            gram += block.T @ block
            total += block.sum(axis=0)
            norms[s:s + len(block)] = np.linalg.norm(block, axis=1)
        if np.any(norms[done:n] == 0):
            raise ValueError("a word vector is zero: cos(w, u1) is undefined")
        done = n
        lam, u1 = top_singular_of_gram(gram, total)
        lam1.append(lam)
        u1s.append(u1)
    rho, budget, first = [], max(X.nbytes // 4, 8 * ns[-1]), 0
    while first < len(ns):  # the sizes first..last: their cosines fit in the budget
        last = first + 1
        while last < len(ns) and 8 * sum(ns[first:last + 1]) <= budget:
            last += 1
        coss = project_prefixes(X, np.column_stack(u1s[first:last]), ns[first:last])
        for n, proj in zip(ns[first:last], coss):
            cos = proj / norms[:n]
            rho.append(float(spearmanr(np.arange(n), cos).statistic))
        first = last
    return lam1, rho


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
