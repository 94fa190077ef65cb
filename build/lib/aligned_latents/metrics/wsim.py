"""Word-similarity metric ``wsim`` with the default and the corrected reference point
(paper Section 6.2, Appendix I.4, Table 2).

``wsim`` is Spearman's rank correlation between human relatedness scores of word pairs and
the cosine similarity ``cos(a - o, b - o)`` of their embeddings seen from a reference point
``o``: the origin (default) or ``o' = λ₁ u₁``, the top singular value and left singular
vector of the data matrix (the paper's ``X`` is d x N, ours N x d, so ``u₁`` is the top
eigenvector of ``XᵀX`` and ``λ₁`` the square root of its eigenvalue, *not* normalised by N,
as in the companion code's ``compute_origin``). After encoding, the reference point is
encoded along with the words: ``o'`` becomes ``enc(o')``.

Sign convention for ``u₁`` (an eigen-solver returns ``±u₁`` arbitrarily): we take the sign
for which the words project positively on average, ``Σ_i x_iᵀ u₁ > 0``, so that ``o'`` lies
on the data's side of the origin. :func:`top_singular` returns that ``u₁``. The paper fixes
no sign (a singular vector is defined up to one; Appendix I.4 asks only for a reference point
"along the stretching direction"), so the GloVe chapter computes the corrected ``wsim`` from
both ``+λ₁u₁`` and ``-λ₁u₁`` (:func:`aligned_latents.applications.glove.evaluate`'s
``origin_neg_enc``) and its checks of Tables 1-2 hold only when they hold for both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from aligned_latents.metrics.vectors import rowwise_cosine
from aligned_latents.util.paths import data_dir
from aligned_latents.util.validation import as_finite_array

__all__ = ["WordSimPairs", "load_wordsim", "lookup_pairs", "pair_cosines", "top_singular",
           "wsim"]

#: benchmark name -> (file in data/, separator)
BENCHMARKS = {"mturk771": ("MTURK-771.csv", ","), "men": ("MEN.txt", " ")}


def load_wordsim(name: str) -> pd.DataFrame:
    """A word-similarity benchmark from ``data/`` as columns ``word1, word2, score``.

    ``name``: ``'mturk771'`` (MTurk-771, 771 pairs, scores 0-5) or ``'men'`` (MEN, 3000 pairs,
    scores 0-50). Words are read as strings (``keep_default_na=False``: 'null' is a word).
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown word-similarity benchmark {name!r}; "
                         f"choose from {list(BENCHMARKS)}")
    fname, sep = BENCHMARKS[name]
    df = pd.read_csv(data_dir() / fname, sep=sep, header=None, names=["word1", "word2", "score"],
                     keep_default_na=False, dtype={"word1": str, "word2": str, "score": float})
    return df


def top_singular(X) -> tuple[float, np.ndarray]:
    """Top singular value ``λ₁`` and left singular vector ``u₁`` of the paper's d x N data
    (our ``X`` is N x d: ``u₁`` is the top eigenvector of ``XᵀX``, ``λ₁ = sqrt`` of its
    eigenvalue). Sign convention: ``Σ_i x_iᵀ u₁ > 0`` (words project positively on average).

    Computed in float64 from ``XᵀX`` accumulated in chunks (no N x N or float64 copy of X).
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-d array, got shape {X.shape}")
    d = X.shape[1]
    gram = np.zeros((d, d))
    total = np.zeros(d)
    for s in range(0, len(X), 65536):
        block = as_finite_array(X[s:s + 65536], "X", ndim=2)
        gram += block.T @ block
        total += block.sum(axis=0)
    evals, evecs = np.linalg.eigh(gram)
    u1 = evecs[:, -1]
    if total @ u1 < 0:
        u1 = -u1
    return float(np.sqrt(max(evals[-1], 0.0))), u1


@dataclass
class WordSimPairs:
    """Row indices of the benchmark pairs found in a vocabulary, with their human scores."""

    name: str
    i: np.ndarray
    j: np.ndarray
    score: np.ndarray
    total: int

    @property
    def found(self) -> int:
        return len(self.i)


def lookup_pairs(name: str, emb, df: pd.DataFrame | None = None) -> WordSimPairs:
    """Look the pairs of benchmark ``name`` up in ``emb`` (an :class:`Embeddings`), lower-casing
    them when the vocabulary is lower-case; pairs with a missing word are dropped (counted)."""
    df = load_wordsim(name) if df is None else df
    idx = emb.index
    a = [idx.get(emb.key(w)) for w in df["word1"]]
    b = [idx.get(emb.key(w)) for w in df["word2"]]
    keep = [x is not None and y is not None for x, y in zip(a, b)]
    return WordSimPairs(name, np.array([x for x, k in zip(a, keep) if k], dtype=np.int64),
                        np.array([y for y, k in zip(b, keep) if k], dtype=np.int64),
                        df["score"].to_numpy(float)[np.array(keep, dtype=bool)], len(df))


def pair_cosines(vectors, pairs: WordSimPairs, origin=None) -> np.ndarray:
    """Per pair of ``pairs``, the cosine ``cos(a - o, b - o)`` that :func:`wsim` ranks
    (:func:`aligned_latents.metrics.vectors.rowwise_cosine` of the translated rows).

    ``origin`` None is the origin ``o = 0``; for an encoded space pass the *encoded*
    reference point. A word at the reference point is a ``ValueError`` (its cosine is
    undefined).
    """
    a = np.asarray(vectors[pairs.i], dtype=np.float64)
    b = np.asarray(vectors[pairs.j], dtype=np.float64)
    if origin is not None:
        o = as_finite_array(origin, "origin", shape=(a.shape[1],))
        a, b = a - o, b - o
    if not (a.any(axis=1).all() and b.any(axis=1).all()):
        raise ValueError("a word vector coincides with the reference point: cosine undefined")
    return rowwise_cosine(a, b)


def wsim(vectors, pairs: WordSimPairs, origin=None) -> float:
    """Spearman correlation between human scores and ``cos(a - o, b - o)`` (paper Section 6.2).

    Parameters
    ----------
    vectors : array (n, d)
        Embeddings (original or encoded), rows indexed as in ``pairs``.
    pairs : WordSimPairs
    origin : array (d,), optional
        Reference point ``o``; ``None`` is the origin. For an encoded space pass the
        *encoded* reference point.
    """
    if pairs.found < 3:
        raise ValueError(f"only {pairs.found} pairs of {pairs.name} found: too few for a "
                         "correlation")
    return float(spearmanr(pair_cosines(vectors, pairs, origin), pairs.score).statistic)
