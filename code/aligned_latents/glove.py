"""The GloVe chapter's pipeline (paper Sections 6.1-6.2, Appendices H-I): data, models,
Tables 1-2, the degree sweep and the numbers behind Figures 3 and 6-10.

Models (rows of ``X`` are words):

* ``Original``: the embeddings themselves.
* ``Linear AE (k)``: the encoder ``B_inf`` of a linear autoencoder ``f(x) = A B x`` trained to
  convergence by gradient flow from ``A0 = 0``, ``B0 = ((1/N) XᵀX + I)^k`` (Theorem 1 with
  the asymmetric spectral initialization, :func:`aligned_latents.linear_ae.asymmetric_encoder`);
  latent codes ``x B`` (B is symmetric).
* ``Leaky ReLU AE``: ``A φ(B x + b)`` of width 400 trained with SGD (Appendix H), latent codes
  the pre-activation ``B x + b`` (:mod:`aligned_latents.nonlinear_ae`).

The reference point ``o' = λ₁ u₁`` (:func:`aligned_latents.wsim.top_singular`) is encoded
along with the words.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import analogy as an
from . import wsim as ws
from .embeddings import Embeddings, load_embeddings
from .linear_ae import asymmetric_encoder, theorem1_final
from .validation import check_degree

__all__ = ["Benchmarks", "load_benchmarks", "linear_model", "evaluate", "table_rows",
           "gd_check", "mds_pairs", "PAPER_TABLE1", "PAPER_TABLE2"]

#: Table 1 of the paper (glove.840B.300d, 500,000 words), for display beside ours.
PAPER_TABLE1 = pd.DataFrame(
    [("Original", 0.629, 0.739, 0.417, 0.338),
     ("Linear AE (k=1)", 0.628, 0.738, 0.512, 0.382),
     ("Linear AE (k=2)", 0.611, 0.729, 0.656, 0.322),
     ("Leaky ReLU AE", 0.592, 0.698, 0.509, 0.370)],
    columns=["model", "wsim_mturk771", "wsim_men", "analogy", "analogy_accuracy"])

#: Table 2 of the paper.
PAPER_TABLE2 = pd.DataFrame(
    [("Original", 0.715, 0.804, 0.629, 0.739),
     ("Linear AE (k=1)", 0.431, 0.457, 0.628, 0.738),
     ("Linear AE (k=2)", 0.253, 0.221, 0.611, 0.729)],
    columns=["model", "mturk771_default", "men_default", "mturk771_corrected", "men_corrected"])


@dataclass
class Benchmarks:
    """The Google analogy questions and the two word-similarity benchmarks, looked up in a
    vocabulary (lower-cased when the vocabulary is)."""

    questions: an.AnalogyQuestions
    mturk771: ws.WordSimPairs
    men: ws.WordSimPairs

    def found(self) -> pd.DataFrame:
        return pd.DataFrame([
            ("Google analogy (questions)", self.questions.found, self.questions.total),
            ("MTurk-771 (pairs)", self.mturk771.found, self.mturk771.total),
            ("MEN (pairs)", self.men.found, self.men.total)], columns=["benchmark", "found", "total"])


def load_benchmarks(emb: Embeddings) -> Benchmarks:
    return Benchmarks(an.lookup_questions(emb), ws.lookup_pairs("mturk771", emb),
                      ws.lookup_pairs("men", emb))


def linear_model(X, k: int) -> np.ndarray:
    """Theorem 1's encoder ``B_inf`` (d x d, symmetric) for ``A0 = 0, B0 = ((1/N)XᵀX + I)^k``."""
    return asymmetric_encoder(X, check_degree(k))


def encode_linear(X, B, chunk: int = 65536) -> np.ndarray:
    """Latent codes ``x B`` of every row (float32, computed in float64 chunks)."""
    out = np.empty((len(X), B.shape[1]), dtype=np.float32)
    for s in range(0, len(X), chunk):
        out[s:s + chunk] = np.asarray(X[s:s + chunk], dtype=np.float64) @ B
    return out


def evaluate(Z, origin_enc, bench: Benchmarks, accuracy: bool = True, device=None) -> dict:
    """All metrics of one latent space ``Z`` (rows = words) with encoded reference point
    ``origin_enc``: Table 1's row (corrected origin for wsim, as the paper's Table 1) and
    Table 2's row, plus per-question arrays (``cos``, ``paper_correct``, ``standard_correct``)."""
    out = {
        "wsim_mturk771": ws.wsim(Z, bench.mturk771, origin_enc),
        "wsim_men": ws.wsim(Z, bench.men, origin_enc),
        "mturk771_default": ws.wsim(Z, bench.mturk771),
        "men_default": ws.wsim(Z, bench.men),
    }
    cos = an.analogy_cosines(Z, bench.questions)
    out["analogy"] = float(cos.mean())
    out["cos"] = cos
    if accuracy:
        pc, sc = an.analogy_accuracy(Z, bench.questions, device=device)
        out.update(analogy_accuracy=float(pc.mean()), analogy_accuracy_standard=float(sc.mean()),
                   paper_correct=pc, standard_correct=sc)
    return out


TABLE1_COLUMNS = ["model", "wsim_mturk771", "wsim_men", "analogy", "analogy_accuracy",
                  "analogy_accuracy_standard"]
TABLE2_COLUMNS = ["model", "mturk771_default", "men_default", "mturk771_corrected", "men_corrected"]


def table_rows(results: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables 1 and 2 from ``{model name: evaluate(...)}`` (in insertion order)."""
    t1 = pd.DataFrame([{c: (name if c == "model" else r.get(c, np.nan)) for c in TABLE1_COLUMNS}
                       for name, r in results.items()], columns=TABLE1_COLUMNS)
    t2 = pd.DataFrame([{"model": name, "mturk771_default": r["mturk771_default"],
                        "men_default": r["men_default"], "mturk771_corrected": r["wsim_mturk771"],
                        "men_corrected": r["wsim_men"]} for name, r in results.items()],
                      columns=TABLE2_COLUMNS)
    return t1, t2


def gd_check(X, k: int = 1, n_words: int = 2000, max_steps: int = 200_000, lr_scale: float = 0.5,
             grad_tol: float = 1e-10, seed: int = 0) -> dict:
    """Train ``f(x) = A B x`` by plain gradient descent on a random subsample of words, from
    ``A0 = 0, B0 = ((1/n)XᵀX + I)^k``, and compare with Theorem 1's closed form.

    Loss ``L(A, B) = (1/2n) Σ_i ‖x_i - A B x_i‖²``; its exact gradients depend on the data
    through ``Σ = XᵀX / n`` only: ``∇_A L = -(I - AB) Σ Bᵀ``, ``∇_B L = -Aᵀ (I - AB) Σ``
    (full-batch gradient descent, every step on all ``n_words`` words). Step size
    ``lr_scale / (λ_max(Σ) σ_max(B0)²)``: small enough that gradient descent tracks gradient
    flow (its conserved quantity ``AᵀA - BBᵀ`` drifts by O(step), see the chapter).

    Returns a dict with the GD and closed-form encoders, their relative Frobenius difference,
    ``‖AB - I‖`` after GD, the number of steps and the final gradient norm.
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(X)
    sub = np.asarray(X[np.sort(rng.choice(len(X), size=min(n_words, len(X)), replace=False))],
                     dtype=np.float64)
    n, d = sub.shape
    S = sub.T @ sub / n
    eye = np.eye(d)
    B0 = np.linalg.matrix_power(S + eye, check_degree(k))
    A = np.zeros((d, d))
    B = B0.copy()
    lam_max = np.linalg.eigvalsh(S)[-1]
    lr = lr_scale / (lam_max * np.linalg.norm(B0, 2) ** 2)
    steps, gnorm = 0, np.inf
    for steps in range(1, max_steps + 1):
        G = (eye - A @ B) @ S          # minus dL/d(AB)
        gA = G @ B.T
        gB = A.T @ G
        A += lr * gA
        B += lr * gB
        if steps % 1000 == 0:
            gnorm = np.sqrt((gA ** 2).sum() + (gB ** 2).sum())
            if gnorm < grad_tol:
                break
    B_closed = asymmetric_encoder(sub, k)
    sv_gd = np.sort(np.linalg.svd(B, compute_uv=False))[::-1]
    sv_closed = np.sort(np.linalg.svd(B_closed, compute_uv=False))[::-1]
    _, b_pred = theorem1_final(0.0, np.sort(np.linalg.eigvalsh(B0))[::-1])
    return dict(B_gd=B, B_closed=B_closed, steps=steps, lr=lr, grad_norm=float(gnorm),
                rel_diff=float(np.linalg.norm(B - B_closed) / np.linalg.norm(B_closed)),
                interp=float(np.linalg.norm(A @ B - eye, 2)),
                sv_gd=sv_gd, sv_closed=sv_closed, sv_pred=b_pred, n_words=n)


def relation_pairs(emb_or_words, q: an.AnalogyQuestions, relation: str):
    """Distinct (w1, w2) and (w3, w4) word-row pairs of one relation, in question order."""
    rows = q.idx[q.relation == relation]
    seen = dict.fromkeys([(a, b) for a, b, _, _ in rows] + [(c, e) for _, _, c, e in rows])
    return list(seen)


def mds_pairs(spaces: dict, pairs: list, seed: int = 42) -> pd.DataFrame:
    """Two-dimensional metric MDS (sklearn, ``random_state=seed``, as the companion code) of
    the words of ``pairs`` in each space of ``spaces`` (name -> latent matrix); one row per
    pair and space with the coordinates of both words."""
    from sklearn.manifold import MDS

    words = sorted({w for p in pairs for w in p})
    pos = {w: i for i, w in enumerate(words)}
    rows = []
    for name, Z in spaces.items():
        emb2 = MDS(n_components=2, random_state=seed, n_init=4, max_iter=300, init="random",
                   metric="euclidean", normalized_stress="auto").fit_transform(
            np.asarray(Z[words], dtype=np.float64))
        for a, b in pairs:
            rows.append(dict(space=name, a=a, b=b, xa=emb2[pos[a], 0], ya=emb2[pos[a], 1],
                             xb=emb2[pos[b], 0], yb=emb2[pos[b], 1]))
    return pd.DataFrame(rows)


def arrow_alignment(df: pd.DataFrame) -> pd.Series:
    """Mean pairwise cosine between the MDS arrows (b - a) of each space: 1 = all parallel."""
    out = {}
    for name, g in df.groupby("space", sort=False):
        v = np.c_[g.xb - g.xa, g.yb - g.ya]
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        c = v @ v.T
        n = len(v)
        out[name] = float((c.sum() - n) / (n * (n - 1))) if n > 1 else np.nan
    return pd.Series(out)
