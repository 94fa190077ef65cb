"""Time our standard-protocol (3CosAdd) analogy accuracy against gensim's
``KeyedVectors.evaluate_word_analogies`` on the same vectors and questions.

Both search the whole vocabulary (gensim: ``restrict_vocab = len(vocabulary)``). gensim
upper-cases the questions and the vocabulary (``case_insensitive=True``) and skips questions
with an out-of-vocabulary word; ours lower-cases the questions for a lower-case vocabulary and
skips the same questions, so both count the same questions (checked below).

Usage: ``.venv/bin/python benchmarks/analogy_vs_gensim.py [--vocab-size N]``. The last line
printed is a JSON object with ``ours_s``, ``gensim_s``, ``ours_accuracy``, ``gensim_accuracy``.
gensim takes minutes on a 2-core CPU (one ``most_similar`` call per question).
"""
from __future__ import annotations

import argparse
import json
import logging
import time

from aligned_latents import analogy as an
from aligned_latents.embeddings import load_embeddings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embeddings", default=None, help="GloVe/word2vec text file (default glove.6B.50d)")
    ap.add_argument("--vocab-size", type=int, default=None)
    args = ap.parse_args()
    logging.getLogger("gensim").setLevel(logging.WARNING)

    emb = load_embeddings(args.embeddings, args.vocab_size)
    q = an.lookup_questions(emb)
    t0 = time.perf_counter()
    (std,) = an.analogy_accuracy(emb.vectors, q, protocols=("standard",))
    ours_s = time.perf_counter() - t0

    kv = emb.to_keyed_vectors()
    t0 = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(an.google_analogy_path(), restrict_vocab=len(emb),
                                                 case_insensitive=True)
    gensim_s = time.perf_counter() - t0
    total = sections[-1]
    n_gensim = len(total["correct"]) + len(total["incorrect"])
    print(f"questions: ours {q.found}, gensim {n_gensim}; correct: ours {int(std.sum())}, "
          f"gensim {len(total['correct'])}")
    if n_gensim != q.found:
        raise SystemExit(f"the two evaluations counted different questions: {q.found} vs {n_gensim}")
    print(json.dumps(dict(ours_s=round(ours_s, 2), gensim_s=round(gensim_s, 2),
                          ours_accuracy=float(std.mean()), gensim_accuracy=float(score),
                          questions=q.found, equal=int(std.sum()) == len(total["correct"]))))
    if int(std.sum()) != len(total["correct"]):
        raise SystemExit(1)  # the two accuracies differ: the JSON above says by how much


if __name__ == "__main__":
    main()
