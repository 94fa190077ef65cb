"""The GloVe chapter's pipeline (paper Sections 6.1-6.2, Appendices H-I): data, models,
Tables 1-2 and the MDS coordinates of Figures 3, 8 and 9 (the degree sweep, Figure 6's
vocabulary sweep and the other figure data are in :mod:`aligned_latents.applications.glove_sweep`).

Models (rows of ``X`` are words):

* ``Original``: the embeddings themselves.
* ``Linear AE (k)``: the encoder ``B_inf`` of a linear autoencoder ``f(x) = A B x`` trained to
  convergence by gradient flow from ``A0 = 0``, ``B0 = ((1/N) XᵀX + I)^k`` (Theorem 1 with
  the asymmetric spectral initialization,
  :func:`aligned_latents.theory.linear_ae.asymmetric_encoder`);
  latent codes ``x B`` (B is symmetric).
* ``Leaky ReLU AE``: ``A φ(B x + b)`` of width 400 trained with SGD (Appendix H), latent codes
  the pre-activation ``B x + b`` (:mod:`aligned_latents.theory.nonlinear_ae`).

The reference point ``o' = λ₁ u₁`` (:func:`aligned_latents.metrics.wsim.top_singular`) is encoded
along with the words.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aligned_latents.data.embeddings import Embeddings
from aligned_latents.metrics import analogy as an
from aligned_latents.metrics import wsim as ws
from aligned_latents.theory.linear_ae import asymmetric_encoder, theorem1_final
from aligned_latents.util import paper
from aligned_latents.util.validation import check_degree

__all__ = ["PAPER_TABLE1", "PAPER_TABLE2", "REFERENCE_SIGNS", "Benchmarks", "LatentSpace",
           "arrow_alignment", "encode_linear", "evaluate", "gd_check", "leaky_space",
           "linear_model", "linear_space", "load_benchmarks", "mds_pairs", "original_space",
           "table_rows"]

#: Tables 1 and 2 of the paper (glove.840B.300d, 500,000 words; values:
#: :mod:`aligned_latents.util.paper`), as tables to display beside ours.
PAPER_TABLE1 = pd.DataFrame(list(paper.TABLE1), columns=list(paper.TABLE1_COLUMNS))
PAPER_TABLE2 = pd.DataFrame(list(paper.TABLE2), columns=list(paper.TABLE2_COLUMNS))


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
            ("MEN (pairs)", self.men.found, self.men.total)],
            columns=["benchmark", "found", "total"])


def load_benchmarks(emb: Embeddings) -> Benchmarks:
    return Benchmarks(an.lookup_questions(emb), ws.lookup_pairs("mturk771", emb),
                      ws.lookup_pairs("men", emb))


def linear_model(X, k: int, gram=None) -> np.ndarray:
    """Theorem 1's encoder ``B_inf`` (d x d, symmetric) for ``A0 = 0, B0 = ((1/N)XᵀX + I)^k``
    (``gram``: ``XᵀX`` by :func:`aligned_latents.theory.linear_ae.data_gram`, when several
    degrees share it)."""
    return asymmetric_encoder(X, check_degree(k), gram=gram)


def encode_linear(X, B, chunk: int = 8192) -> np.ndarray:
    """Latent codes ``x B`` of every row (float32, computed in float64 chunks of ``chunk``
    rows: 20 MB of float64 temporaries at d = 300, whatever the number of words)."""
    out = np.empty((len(X), B.shape[1]), dtype=np.float32)
    for s in range(0, len(X), chunk):
        out[s:s + chunk] = np.asarray(X[s:s + chunk], dtype=np.float64) @ B
    return out


@dataclass
class LatentSpace:
    """One model's latent space kept as its encoder, not its codes: :meth:`codes`
    encodes every word when called, so that at the paper's scale (500,000 x 300) one
    latent matrix at a time is in memory, not one per model (the codes are the same
    at every call: deterministic encoders on fixed data)."""

    encode: Callable[[], np.ndarray]
    origin: np.ndarray  # the encoded reference point o' = λ₁u₁
    fresh: bool = True  # codes() returns a new array, which evaluate may consume

    def codes(self) -> np.ndarray:
        return self.encode()


def original_space(X, origin) -> LatentSpace:
    """The embeddings themselves (``Original``)."""
    return LatentSpace(lambda: X, origin, fresh=False)


def linear_space(X, B, origin) -> LatentSpace:
    """Codes ``x B`` of the linear autoencoder with encoder ``B``
    (:func:`encode_linear`)."""
    return LatentSpace(lambda: encode_linear(X, B), origin @ B)


def leaky_space(net, X, origin) -> LatentSpace:
    """Pre-activation codes ``B x + b`` of a trained Leaky ReLU autoencoder
    (:func:`aligned_latents.theory.nonlinear_ae.encode`)."""
    from aligned_latents.theory.nonlinear_ae import encode

    return LatentSpace(lambda: encode(net, X), encode(net, origin[None, :])[0])


def evaluate(Z, origin_enc, bench: Benchmarks, accuracy: bool = True, device=None,
             consume: bool = False, origin_neg_enc=None) -> dict:
    """All metrics of one latent space ``Z`` (rows = words) with encoded reference point
    ``origin_enc``: Table 1's row (corrected origin for wsim, as the paper's Table 1) and
    Table 2's row, plus per-question arrays (``cos``, ``paper_correct``, ``standard_correct``).

    ``origin_neg_enc``: the encoded reference point of the other sign of ``u₁``,
    ``-λ₁u₁`` (the paper fixes no sign, Appendix I.4); when given, the corrected wsim
    from it too (``wsim_mturk771_neg``, ``wsim_men_neg``), so that a check can hold for
    both signs (:data:`REFERENCE_SIGNS`).

    ``consume``: ``Z`` is given up (codes nobody else holds): the analogy search
    normalises it in place instead of copying it (one n x d matrix less at the peak; the
    same numbers), so ``Z`` is not the codes afterwards."""
    out = {
        "wsim_mturk771": ws.wsim(Z, bench.mturk771, origin_enc),
        "wsim_men": ws.wsim(Z, bench.men, origin_enc),
        "mturk771_default": ws.wsim(Z, bench.mturk771),
        "men_default": ws.wsim(Z, bench.men),
    }
    if origin_neg_enc is not None:
        out.update(wsim_mturk771_neg=ws.wsim(Z, bench.mturk771, origin_neg_enc),
                   wsim_men_neg=ws.wsim(Z, bench.men, origin_neg_enc))
    cos = an.analogy_cosines(Z, bench.questions)
    out["analogy"] = float(cos.mean())
    out["cos"] = cos
    if accuracy:
        pc, sc = an.analogy_accuracy(Z, bench.questions, device=device, overwrite=consume)
        out.update(analogy_accuracy=float(pc.mean()), analogy_accuracy_standard=float(sc.mean()),
                   paper_correct=pc, standard_correct=sc)
    return out


#: The two signs of ``u₁`` in the corrected reference point ``o' = ±λ₁u₁``: the suffix
#: of the corrected wsim keys of :func:`evaluate` (``wsim_men``, ``wsim_men_neg``), label.
REFERENCE_SIGNS = {"": "+λ₁u₁", "_neg": "−λ₁u₁"}

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


def gd_check(X, k: int = 1, n_words: int = 2000, max_steps: int = 200_000,
             lr_scale: float = 0.5, grad_tol: float = 1e-10, seed: int = 0,
             rank: int = 50, flow_tol: float | None = None, halvings: int = 12) -> dict:
    """Theorem 1 checked by gradient descent on words: train ``f(x) = A B x`` by plain
    full-batch gradient descent from ``A0 = 0, B0 = ((1/n)XᵀX + I)^k`` and compare with
    the closed form (Appendix E; :func:`aligned_latents.theory.linear_ae.asymmetric_encoder`).

    The work is bounded: gradient descent costs O(r³) per step on r x r matrices. A
    seeded random subsample of ``n_words`` words is taken; when the dimension ``d``
    exceeds ``rank``, the words are restricted to the top-``rank`` principal subspace of
    the subsample (eigenvectors of ``XᵀX`` with the largest eigenvalues), written in a
    seeded random orthonormal basis of that subspace, so that ``XᵀX`` stays a full
    matrix and the check exercises full-matrix gradient descent, not the diagonal
    recursion alone. With the default ``rank = 50``, ``d = 50`` (glove.6B.50d) runs as
    is and ``d = 300`` (glove.840B.300d) takes seconds instead of about 8 minutes.

    Gradient descent is :func:`aligned_latents.theory.linear_ae.train_linear_gd` on the loss of
    Eq. (1), ``L = Σ_i ‖x_i - A B x_i‖²``, with step
    ``γ = lr_scale / (2 λ_max(XᵀX) σ_max(B0)²)``. (Earlier versions minimized the
    per-word loss ``L / (2n)`` with step ``lr_scale / (λ_max(XᵀX/n) σ_max(B0)²)``: the
    same iterates, the step expressed on the other scale.) Training stops after
    ``max_steps`` steps or when the per-word loss has gradient norm
    ``‖∇L‖ / (2n) < grad_tol`` (checked every 1000 steps). The step is small enough
    that gradient descent tracks gradient flow (its conserved quantity ``AᵀA - BBᵀ``
    drifts by O(step), see the chapter).

    How far that step's gradient descent must end from gradient flow is known before it
    runs: Appendix E's recursion on the subsample's singular values
    (:func:`aligned_latents.theory.linear_ae.gd_flow_gap`) gives it (``flow_gap``). With
    ``flow_tol``, the step is halved (at most ``halvings`` times) until that predicted
    gap is at most ``flow_tol``, or until halving no longer lowers it (the step budget,
    not the step, then limits it): on a flat spectrum (random vectors) every direction
    moves at the largest step and GD's own limit is 0.1 away from the flow's at
    ``lr_scale = 1``, on glove.6B.50d 1e-3. The step never depends on the full-matrix
    run it sets up.

    Returns
    -------
    dict
        ``d`` (dimension of the data), ``r`` (dimension gradient descent ran in),
        ``space`` (``'all d coordinates'`` or ``'top-r principal subspace'``),
        ``n_words``, ``steps``, ``lr`` (on Eq. (1)), ``grad_norm`` (``‖∇L‖``, Eq. (1)),
        ``converged`` (the gradient rule stopped it), ``seconds``, ``lr_scale`` (after
        the halvings), ``flow_gap`` (predicted ``rel_diff`` at that step), ``rel_diff``
        (``‖B_GD - B_closed‖_F / ‖B_closed‖_F``), ``interp`` (``‖A B - I‖₂``),
        ``B_gd``, ``B_closed`` (r x r), ``sv_gd``, ``sv_closed``, ``sv_pred`` (singular
        values, descending).
    """
    import time

    from aligned_latents.theory.linear_ae import gd_flow_gap, train_linear_gd
    from aligned_latents.util.validation import as_finite_array, check_int, check_positive

    k = check_degree(k)
    n_words = check_int(n_words, "n_words", minimum=1)
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    rank = check_int(rank, "rank", minimum=1)
    lr_scale = check_positive(lr_scale, "lr_scale")
    grad_tol = check_positive(grad_tol, "grad_tol")
    seed = check_int(seed, "seed", minimum=0)
    halvings = check_int(halvings, "halvings", minimum=0)
    if flow_tol is not None:
        flow_tol = check_positive(flow_tol, "flow_tol")
    X = np.asarray(X)
    if X.ndim != 2 or min(X.shape) == 0:
        raise ValueError(f"X must be a non-empty (words, d) matrix, got shape "
                         f"{X.shape}")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(n_words, len(X)), replace=False))
    sub = as_finite_array(X[rows], "X", ndim=2, dtype=np.float64)
    n, d = sub.shape
    space = "all d coordinates"
    if d > rank:
        _, V = np.linalg.eigh(sub.T @ sub)
        Q, Rq = np.linalg.qr(rng.normal(size=(rank, rank)))
        basis = V[:, ::-1][:, :rank] @ (Q * np.sign(np.diag(Rq)))
        sub = sub @ basis
        space = "top-r principal subspace"
    r = sub.shape[1]
    G = sub.T @ sub
    B0 = np.linalg.matrix_power(G / n + np.eye(r), k)
    s2 = np.clip(np.linalg.eigvalsh(G), 0.0, None)  # ascending; B0's eigenvalues follow
    lr = float(lr_scale / (2.0 * s2[-1] * np.linalg.norm(B0, 2) ** 2))
    gap = None
    if flow_tol is not None:
        sv, b0 = np.sqrt(s2), (s2 / n + 1.0) ** k
        gap = gd_flow_gap(sv, b0, lr, max_steps)[0]
        for _ in range(halvings):
            if gap <= flow_tol:
                break
            half = gd_flow_gap(sv, b0, lr / 2.0, max_steps)[0]
            if half >= gap:
                break
            lr, lr_scale, gap = lr / 2.0, lr_scale / 2.0, half
    t0 = time.perf_counter()
    gd = train_linear_gd(sub, np.zeros((r, r)), B0, lr, max_steps=max_steps, tol=None,
                         check_every=1000, grad_tol=2.0 * n * grad_tol,
                         commutators=False)
    seconds = time.perf_counter() - t0
    A, B = gd["A"], gd["B"]
    B_closed = asymmetric_encoder(sub, k)
    sv_gd = np.sort(np.linalg.svd(B, compute_uv=False))[::-1]
    sv_closed = np.sort(np.linalg.svd(B_closed, compute_uv=False))[::-1]
    _, b_pred = theorem1_final(0.0, np.sort(np.linalg.eigvalsh(B0))[::-1])
    return {"d": d, "r": r, "space": space, "n_words": n, "steps": gd["steps"],
            "lr": lr, "grad_norm": gd["grad_norm"], "converged": gd["converged"],
            "seconds": seconds, "lr_scale": lr_scale, "flow_gap": gap,
            "rel_diff": float(np.linalg.norm(B - B_closed) / np.linalg.norm(B_closed)),
            "interp": float(np.linalg.norm(A @ B - np.eye(r), 2)),
            "B_gd": B, "B_closed": B_closed, "sv_gd": sv_gd, "sv_closed": sv_closed,
            "sv_pred": b_pred}


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
            rows.append({"space": name, "a": a, "b": b,
                         "xa": emb2[pos[a], 0], "ya": emb2[pos[a], 1],
                         "xb": emb2[pos[b], 0], "yb": emb2[pos[b], 1]})
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
