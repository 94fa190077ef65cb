"""Word-analogy metrics on the Google analogy test set (paper Section 6.1.2, Table 1,
Appendix I.2).

A question ``w1 w2 w3 w4`` of ``questions-words.txt`` reads ``w1 : w2 :: w3 : w4``
(Athens : Greece :: Baghdad : Iraq). In the notation of Appendix I.2,
``(a1, a2) = (w1, w2)`` and ``(b1, b2) = (w3, w4)`` are two pairs with the same
relationship.

* ``analogy`` (:func:`analogy_cosines`): mean of ``cos(a2 - a1, b2 - b1)``, the cosine
  of the two *relation vectors* (Appendix I.2; the companion code's
  ``cos(a1 - a2, b1 - b2)``, the same number). Section 6.1.2 writes the tuple as
  ``(a1, b1, a2, b2)`` with ``a1 : b1 :: a2 : b2``, under which the same formula would
  compare the *other* sides of the parallelogram, ``cos(w3 - w1, w4 - w2)``;
  :func:`analogy_cosines` gives that reading with ``sides=True``.
* ``analogy-accuracy``, two protocols, from one matrix product per chunk of questions:

  - ``paper``: ``argmax_{b*} cos(b*, w2 - w1 + w3)`` over the whole vocabulary, raw (not
    normalised) query vectors, the three query words *not* excluded (the companion
    code);
  - ``standard`` (3CosAdd of Mikolov et al. / Levy & Goldberg, as gensim's
    ``evaluate_word_analogies``): query vectors normalised to unit length,
    ``argmax cos(b*, ŵ2 - ŵ1 + ŵ3)`` with ``w1, w2, w3`` excluded.

The search is exact over the whole vocabulary: the prediction is the arg-max of the
float32 scores of tiled matrix products (lowest row on ties), in torch, on the GPU when
one is present (:func:`~aligned_latents.metrics.analogy_search.search_exhaustive`, the
reference). On the CPU the default search
(:func:`~aligned_latents.metrics.analogy_search.search_pruned`) returns the same
predictions without scoring every question against every word: it proves most answers
from short candidate lists with a float32-safe bound and scans only the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from aligned_latents.metrics.analogy_search import (
    QuestionRows,
    UnitRows,
    low_rank_rows,
    num_threads,
    search_exhaustive,
    search_pruned,
    targets,
)
from aligned_latents.metrics.vectors import rowwise_cosine
from aligned_latents.util.memory import trim_heap
from aligned_latents.util.validation import as_finite_array

__all__ = [
    "AnalogyQuestions",
    "analogy_accuracy",
    "analogy_cosines",
    "load_google_analogy",
    "lookup_questions",
    "per_relation",
]


def google_analogy_path() -> str:
    from gensim.test.utils import datapath

    return datapath("questions-words.txt")


def load_google_analogy(path=None) -> pd.DataFrame:
    """Questions as columns ``relation, w1, w2, w3, w4`` (19,544 rows, 14 relations, in
    file order). ``path`` defaults to gensim's copy of Mikolov et al.'s
    ``questions-words.txt``."""
    path = google_analogy_path() if path is None else path
    rows, relation = [], None
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                relation = line[1:].strip()
                continue
            parts = line.split()
            if len(parts) != 4:
                raise ValueError(
                    f"{path}: line {lineno}: an analogy question needs 4 words, "
                    f"got {len(parts)}"
                )
            if relation is None:
                raise ValueError(
                    f"{path}: line {lineno}: question before any ': relation' header"
                )
            rows.append((relation, *parts))
    return pd.DataFrame(rows, columns=["relation", "w1", "w2", "w3", "w4"])


@dataclass
class AnalogyQuestions:
    """Vocabulary rows ``idx`` (m x 4: w1, w2, w3, w4) of the questions found, their
    relation, and the number of questions in the file."""

    idx: np.ndarray
    relation: np.ndarray
    total: int

    @property
    def found(self) -> int:
        return len(self.idx)


def lookup_questions(emb, questions: pd.DataFrame | None = None) -> AnalogyQuestions:
    """Keep the questions whose four words are in ``emb`` (lower-cased when the
    vocabulary is)."""
    questions = load_google_analogy() if questions is None else questions
    index = emb.index
    cols = [
        [index.get(emb.key(w), -1) for w in questions[c]]
        for c in ("w1", "w2", "w3", "w4")
    ]
    idx = np.array(cols, dtype=np.int64).T.reshape(-1, 4)
    keep = (idx >= 0).all(axis=1)
    return AnalogyQuestions(
        idx[keep], questions["relation"].to_numpy()[keep], len(questions)
    )


def analogy_cosines(vectors, q: AnalogyQuestions, sides: bool = False) -> np.ndarray:
    """Per question ``cos(w2 - w1, w4 - w3)`` (relation vectors, Appendix I.2); its mean
    is Table 1's ``analogy``. With ``sides=True``: ``cos(w3 - w1, w4 - w2)`` (Section
    6.1.2's formula read with its own tuple order). A zero difference (identical
    vectors) gives 0.

    Computed over blocks of 2,048 questions (row-wise: the same values), so that the
    float64 word vectors of all 19,544 questions (4 x 47 MB at d = 300) are never held
    at once beside a 500,000-word matrix."""
    V = vectors
    out = np.empty(len(q.idx))
    for s in range(0, len(q.idx), 2048):
        idx = q.idx[s:s + 2048]
        w1, w2, w3, w4 = (np.asarray(V[idx[:, c]], dtype=np.float64) for c in range(4))
        out[s:s + len(idx)] = (rowwise_cosine(w3 - w1, w4 - w2, zero="zero") if sides
                               else rowwise_cosine(w2 - w1, w4 - w3, zero="zero"))
    return out


def analogy_accuracy(
    vectors,
    q: AnalogyQuestions,
    chunk: int = 512,
    device=None,
    return_predictions: bool = False,
    block: int = 4096,
    protocols: tuple[str, ...] = ("paper", "standard"),
    search: str = "auto",
    list_size: int = 2048,
    threads: int | None = 1,
    info: dict | None = None,
    overwrite: bool = False,
    low_rank: bool = True,
):
    """Analogy accuracy, paper protocol and standard 3CosAdd (see the module docstring).

    The arg-max runs over all n rows of ``vectors`` (the whole vocabulary). Both
    searches return the same predictions as the exhaustive float32 search (ties to the
    lowest row): ``'exhaustive'`` scores every question against every word
    (:func:`search_exhaustive`), ``'pruned'`` proves most answers from short candidate
    lists and scans only the rest (:func:`search_pruned`; on GloVe 6B 50d, standard
    protocol, one thread: 3.7 s against 10.1 s; two threads on an idle machine: 2.3 s
    against 5.6 s).

    Parameters
    ----------
    vectors : array (n, d)
        The vocabulary's embeddings.
    q : AnalogyQuestions
    chunk : int
        Queries per matrix product; the largest temporaries are two ``chunk x block``
        float32 tiles (8 MB each: the scores, and the rows of them near a question's
        maximum), besides a float32 copy of ``vectors`` when they are not float32
        already; their unit vectors are divided tile by tile as they are read
        (:class:`~aligned_latents.metrics.analogy_search.UnitRows`), not held as a
        second n x d matrix.
    block : int
        Vocabulary rows per tile.
    protocols : tuple of 'paper', 'standard'
        Which searches to run (default both).
    device : str, optional
        'cpu' or 'cuda'; default CUDA when present.
    search : {'auto', 'pruned', 'exhaustive'}
        'auto': pruned on the CPU, exhaustive on a GPU (where it is fast enough).
    list_size : int
        Candidate rows listed per relation vector and per third word (pruned search).
    threads : int or None
        torch threads of the pruned search on the CPU (None: the current count). One by
        default: on the book's shared 2-core CPU, one thread takes 3.7 s whatever the
        load, two take 2.3 s when the machine is idle but 9-14 s at load 4 (every
        operation waits for the slower thread). Near ties are settled with the current
        count, as the exhaustive search runs.
    info : dict, optional
        Filled with the pruned search's statistics per protocol (``info[protocol]``).
    overwrite : bool
        Normalise ``vectors`` in place (when it is a float32 array on the CPU: the
        caller gives it up) instead of dividing each tile as it is read, keeping aside
        the raw vectors of the question words, all that the paper protocol reads of them
        (:class:`~aligned_latents.metrics.analogy_search.QuestionRows`): one n x d
        matrix in memory either way, fewer divisions; the same predictions.
    low_rank : bool
        Pruned search: when the vocabulary is numerically of low rank (at most half its
        dimension, as the Leaky ReLU codes ``B x + b``: rank 51 in R^400), scan the
        uncertified questions on its ``r``-dim coordinates with proved bounds
        (:func:`~aligned_latents.metrics.analogy_search.low_rank_rows`); the same
        predictions (the default build's Leaky ReLU codes, both protocols, one thread:
        18 s of CPU against 59 s without it, at load 3).

    Returns
    -------
    paper_correct, standard_correct : bool arrays (m,)
        Per question, whether ``w4`` is the prediction; their means are the accuracies.
        (One array per entry of ``protocols``, in that order.)
    (and the prediction arrays when ``return_predictions``)
    """
    import torch

    from aligned_latents.util.device import torch_device

    if not protocols or any(p not in ("paper", "standard") for p in protocols):
        raise ValueError(
            f"protocols must name 'paper' and/or 'standard', got {protocols!r}"
        )
    for name, val in (
        ("chunk", chunk),
        ("block", block),
        ("list_size", list_size),
        ("threads", 1 if threads is None else threads),
    ):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {val!r}")
    if search not in ("auto", "pruned", "exhaustive"):
        raise ValueError(
            f"search must be 'auto', 'pruned' or 'exhaustive', got {search!r}"
        )
    dev = torch_device(device)
    if search == "auto":
        search = "pruned" if dev.type == "cpu" else "exhaustive"
    V = torch.from_numpy(as_finite_array(vectors, "vectors", ndim=2, dtype=np.float32))
    V = V.to(dev)
    idx = torch.from_numpy(np.ascontiguousarray(q.idx, dtype=np.int64)).to(dev)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= len(V)):
        raise ValueError(
            f"question rows must lie in [0, {len(V)}), got "
            f"[{int(idx.min())}, {int(idx.max())}]"
        )
    norms = V.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
    if overwrite:
        raw = QuestionRows(V, idx)
        Vn, V = V.div_(norms), raw  # IEEE division: the same values as V / norms
    else:
        Vn = UnitRows(V, norms)  # divided tile by tile: the values of V / norms
    del norms
    preds = []
    factors = None
    if search == "pruned" and low_rank:
        with torch.no_grad(), num_threads(threads if dev.type == "cpu" else None):
            factors = low_rank_rows(Vn, block)
    with torch.no_grad():
        for protocol in protocols:
            t = partial(targets, V, Vn, idx, protocol)  # made when the search needs it
            exclude = protocol == "standard"
            if search == "exhaustive":
                p = search_exhaustive(Vn, idx, t(), exclude, chunk, block)
            else:
                stats = {} if info is not None else None
                W = V if protocol == "paper" else Vn
                with num_threads(threads if dev.type == "cpu" else None) as caller:
                    p = search_pruned(
                        Vn,
                        W,
                        idx,
                        t,
                        exclude,
                        chunk,
                        block,
                        list_size,
                        stats,
                        ref_threads=caller,
                        low_rank=factors,
                    )
                if info is not None:
                    info[protocol] = stats
            preds.append(p.cpu().numpy())
            if dev.type == "cpu":
                trim_heap()  # the search's freed temporaries back to the system
    target = q.idx[:, 3]
    correct = tuple(p == target for p in preds)
    return correct + tuple(preds) if return_predictions else correct


def per_relation(q: AnalogyQuestions, **columns) -> pd.DataFrame:
    """Means of per-question arrays (``columns``: name -> array of length m) by
    relation, in file order, with the number of questions found per relation."""
    df = pd.DataFrame(
        {
            "relation": q.relation,
            **{k: np.asarray(v, float) for k, v in columns.items()},
        }
    )
    order = list(dict.fromkeys(q.relation))
    out = df.groupby("relation", sort=False).agg(["mean"]).droplevel(1, axis=1)
    out.insert(0, "questions", df.groupby("relation", sort=False).size())
    return out.loc[order].reset_index()
