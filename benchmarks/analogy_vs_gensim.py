"""Time our standard-protocol (3CosAdd) analogy accuracy (paper Section 6.1.2) against
gensim's ``KeyedVectors.evaluate_word_analogies`` on the same vectors and questions.

Both search the whole vocabulary (gensim: ``restrict_vocab = len(vocabulary)``). gensim
upper-cases the questions and the vocabulary (``case_insensitive=True``) and skips
questions with an out-of-vocabulary word; ours lower-cases the questions for a
lower-case vocabulary and skips the same questions, so both count the same questions
(checked).

Ours is :func:`aligned_latents.metrics.analogy.analogy_accuracy` with its default search (pruned
on the CPU, :func:`aligned_latents.metrics.analogy_search.search_pruned`). After the two timed runs
the exhaustive float32 reference search runs too (``exhaustive_s``: the search before
the pruning, with torch's default threads), to check that the pruned search predicts the
same word for every question (``identical_predictions``), and the questions answered
correctly are compared with gensim's (``same_correct_questions``; gensim scores the mean
of the unit vectors, a positive multiple of our query, so the two can differ only on
float32 near-ties).

Usage: ``.venv/bin/python benchmarks/analogy_vs_gensim.py [--vocab-size N]``. The last
line printed is a JSON object with ``ours_s``, ``gensim_s``, ``speedup``,
``ours_accuracy``, ``gensim_accuracy``, ``identical_predictions``. gensim takes minutes
on a 2-core CPU (one ``most_similar`` call per question).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter

import numpy as np
import torch  # imported before timing, as gensim is: imports are not timed

from aligned_latents.data.embeddings import load_embeddings
from aligned_latents.metrics import analogy as an


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--embeddings",
        default=None,
        help="GloVe/word2vec text file (default glove.6B.50d)",
    )
    ap.add_argument("--vocab-size", type=int, default=None)
    args = ap.parse_args()
    logging.getLogger("gensim").setLevel(logging.WARNING)

    emb = load_embeddings(args.embeddings, args.vocab_size)
    q = an.lookup_questions(emb)
    torch.zeros(1).sum()  # torch initialized before timing
    info = {}
    t0 = time.perf_counter()
    std, pred = an.analogy_accuracy(
        emb.vectors, q, protocols=("standard",), return_predictions=True, info=info
    )
    ours_s = time.perf_counter() - t0

    kv = emb.to_keyed_vectors()
    t0 = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(
        an.google_analogy_path(), restrict_vocab=len(emb), case_insensitive=True
    )
    gensim_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    _, ref = an.analogy_accuracy(
        emb.vectors,
        q,
        protocols=("standard",),
        return_predictions=True,
        search="exhaustive",
    )
    exhaustive_s = time.perf_counter() - t0
    total = sections[-1]
    n_gensim = len(total["correct"]) + len(total["incorrect"])
    words = np.array(emb.words, dtype=object)
    ours_correct = Counter(tuple(w.upper() for w in words[row]) for row in q.idx[std])
    gensim_correct = Counter(tuple(w.upper() for w in t) for t in total["correct"])
    print(
        f"questions: ours {q.found}, gensim {n_gensim}; "
        f"correct: ours {int(std.sum())}, gensim {len(total['correct'])}; "
        f"pruned search: {info.get('standard')}"
    )
    if n_gensim != q.found:
        raise SystemExit(
            f"the two evaluations counted different questions: {q.found} vs {n_gensim}"
        )
    print(
        json.dumps(
            {
                "ours_s": round(ours_s, 2),
                "gensim_s": round(gensim_s, 2),
                "speedup": round(gensim_s / ours_s, 1),
                "exhaustive_s": round(exhaustive_s, 2),
                "exhaustive_speedup": round(gensim_s / exhaustive_s, 1),
                "ours_accuracy": float(std.mean()),
                "gensim_accuracy": float(score),
                "questions": q.found,
                "identical_predictions": bool(np.array_equal(pred, ref)),
                "same_correct_questions": ours_correct == gensim_correct,
            }
        )
    )
    if not np.array_equal(pred, ref):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
