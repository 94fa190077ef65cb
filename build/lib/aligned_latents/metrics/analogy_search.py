"""The exact analogy search behind
:func:`aligned_latents.metrics.analogy.analogy_accuracy` (paper Section 6.1.2, Table 1's
analogy-accuracy): the arg-max over the whole vocabulary of the float32 scores of the
query vectors ``t = (w2 - w1) + w3``.

* :func:`search_exhaustive`, the reference: tiled matrix products in torch (GPU when
  present), every question against every word, lowest row on ties;
* :func:`search_pruned`, the CPU default: the same predictions, most of them proved
  from short candidate lists with a float32-safe bound, the rest scanned.

Split from :mod:`aligned_latents.metrics.analogy` (issue 16): the metric there, the
search engine here.
"""

from __future__ import annotations

__all__ = ["QuestionRows", "num_threads", "search_exhaustive", "search_pruned", "targets"]


class QuestionRows:
    """The raw vectors of the words in columns w1, w2, w3 of ``idx``, indexed by their
    row numbers in the whole matrix ``V`` (``W[i]`` for a tensor ``i`` of such rows):
    all that :func:`targets` and :func:`search_pruned` read of the raw vectors, kept
    when ``V`` itself is normalised in place."""

    def __init__(self, V, idx):
        import torch

        self.rows = torch.unique(idx[:, :3])  # sorted
        self.data = V[self.rows]  # a copy

    def __getitem__(self, i):
        import torch

        return self.data[torch.searchsorted(self.rows, i.contiguous())]


def targets(V, Vn, idx, protocol):
    """Query vectors ``t = (w2 - w1) + w3`` in float32, in that order of operations
    (paper protocol: raw vectors; standard: unit vectors)."""
    W = V if protocol == "paper" else Vn
    return W[idx[:, 1]] - W[idx[:, 0]] + W[idx[:, 2]]


def _score_tile(q, blk, buf):
    """float32 scores ``q @ blk`` of one tile, written into the corner of ``buf``.

    The only place where :func:`search_exhaustive` computes scores. The pruned search
    calls it again, with the same operands and buffer shape, to settle near ties with
    the reference's own float32 values.
    """
    import torch

    scores = buf[: len(q), : blk.shape[1]]
    torch.mm(q, blk, out=scores)
    return scores


def search_exhaustive(Vn, idx, t, exclude, chunk, block=4096):
    """Reference search: exact arg-max of the float32 scores ``Vn @ t`` over the whole
    vocabulary.

    Tiled: ``chunk`` queries times ``block`` vocabulary rows at a time, keeping a
    running maximum, so each score tile stays in cache; the arg-max of a tile is taken
    only for the queries whose maximum it improves. Ties go to the lowest index, as
    ``argmax`` does. With ``exclude`` the three query words of each question are never
    predicted (and a question whose every word is excluded gets row 0).
    :func:`search_pruned` returns the same predictions with a fraction of the
    arithmetic.
    """
    import torch

    n, dev = len(t), t.device
    best = torch.full((n,), -torch.inf, dtype=t.dtype, device=dev)
    pred = torch.zeros(n, dtype=torch.int64, device=dev)
    blocks = [(v, Vn[v : v + block].T.contiguous()) for v in range(0, len(Vn), block)]
    buf = torch.empty(chunk, block, dtype=t.dtype, device=dev)
    for s in range(0, n, chunk):
        q, b, p = t[s : s + chunk], best[s : s + chunk], pred[s : s + chunk]
        ex = idx[s : s + chunk, :3]
        rows = torch.arange(len(q), device=dev).unsqueeze(1).expand(-1, 3)
        for v, blk in blocks:
            scores = _score_tile(q, blk, buf)
            if exclude:
                local = ex - v
                inside = (local >= 0) & (local < blk.shape[1])
                scores[rows[inside], local[inside]] = -torch.inf
            m = scores.amax(dim=1)
            better = (m > b).nonzero().squeeze(1)
            if len(
                better
            ):  # the index is needed only where the running maximum improves
                p[better] = scores[better].argmax(dim=1) + v
                b[better] = m[better]
    return pred


#: Unit roundoff of float32.
_U32 = 2.0**-24


def _error_scale(d: int, vmax: float) -> float:
    """``γ · vmax`` with ``γ = (d + 2) u / (1 - (d + 2) u)``, ``u = 2⁻²⁴``.

    Any float32 evaluation of a dot product ``t · v`` of length ``d`` (any summation
    order, with or without fused multiply-add) is within
    ``γ_d |t|·|v| <= γ ||t|| ||v||`` of the exact value (Higham, *Accuracy and Stability
    of Numerical Algorithms*, Eq. 3.5); ``vmax`` bounds ``||v||`` over the vocabulary.
    """
    n = (d + 2) * _U32
    return n / (1.0 - n) * vmax


def _list_thresholds(Vn, cols, list_size: int, sample: int = 8192):
    """Per column ``c`` of ``cols`` a threshold ``τ_c`` that about ``list_size``
    vocabulary rows reach (``Vn[j] · cols[c] >= τ_c``), estimated on every
    ``N // sample``-th row; ``-inf`` (every row listed) when the vocabulary has at most
    ``list_size`` rows.

    Only the size of the lists depends on this estimate, not the exactness of the
    search.
    """
    import torch

    n = len(Vn)
    if n <= list_size:
        return torch.full(
            (len(cols),), -torch.inf, dtype=cols.dtype, device=cols.device
        )
    sub = Vn[:: max(1, n // sample)]
    rank = max(1, min(len(sub), round(list_size * len(sub) / n)))
    out = []
    for c in range(0, len(cols), 256):
        out.append((cols[c : c + 256] @ sub.T).topk(rank, dim=1).values[:, -1])
    return torch.cat(out)


def _column_lists(Vn, cols, tau, rows_per_block: int = 2048):
    """The vocabulary rows ``j`` with float32 ``Vn[j] · cols[c] >= tau[c]``, per column
    ``c``, as ``(rows, offsets)``: column ``c``'s rows are
    ``rows[offsets[c]:offsets[c+1]]``, in increasing order. Every row left out has
    ``Vn[j] · cols[c] < tau[c]`` as computed here (one float32 matrix product per block
    of rows, into a reused buffer).

    Each listed pair is kept as one int64 key ``c·n + j`` and the keys are sorted: 8
    bytes a pair between the blocks and at most three such arrays at once (about 50 MB
    for the 2.1 million pairs of the Google set on 500,000 random vectors; row and
    column arrays sorted by an arg-sort took twice that)."""
    import torch

    dev, n = Vn.device, len(Vn)
    colsT = cols.T.contiguous()
    buf = torch.empty(rows_per_block, len(cols), dtype=Vn.dtype, device=dev)
    mask = torch.empty(rows_per_block, len(cols), dtype=torch.bool, device=dev)
    keys = []
    for s in range(0, n, rows_per_block):
        blk = Vn[s : s + rows_per_block]
        F, M = buf[: len(blk)], mask[: len(blk)]
        torch.mm(blk, colsT, out=F)
        torch.ge(F, tau, out=M)
        nz = M.nonzero()
        keys.append(nz[:, 1] * n + (nz[:, 0] + s))
    del buf, mask
    key = torch.cat(keys)
    del keys
    key = torch.sort(key).values  # by column, then row
    counts = torch.bincount(torch.div(key, n, rounding_mode="floor"), minlength=len(cols))
    offsets = torch.zeros(len(cols) + 1, dtype=torch.int64, device=dev)
    offsets[1:] = torch.cumsum(counts, 0)
    return key.remainder_(n), offsets


class num_threads:
    """Run torch with ``n`` intra-op threads inside the block (``None``: unchanged); the
    caller's count is restored after and is the value of the ``with`` statement.

    Loops of many small operations run best on one thread: with two or more, each small
    operation pays a thread barrier, which costs milliseconds when the CPU is shared.
    """

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)
        return self.before

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)
        return False


def _listed_top2(Vn, idx, t, exclude, rows, offsets, inv, first_col):
    """For each question, the two best float32 scores (and rows) among the listed rows
    of its column ``first_col + inv[i]`` (one small matrix product per column, all its
    questions, single-threaded)."""
    with num_threads(1):
        return _listed_top2_loop(Vn, idx, t, exclude, rows, offsets, inv, first_col)


def _listed_top2_loop(Vn, idx, t, exclude, rows, offsets, inv, first_col):
    import torch

    m, dev = len(t), t.device
    order = torch.argsort(inv, stable=True)  # questions grouped by column
    ts = t.index_select(0, order)
    ex = idx.index_select(0, order)[:, :3].contiguous()
    vals = torch.full((m, 2), -torch.inf, dtype=t.dtype, device=dev)
    js = torch.full((m, 2), -1, dtype=torch.int64, device=dev)
    counts = torch.bincount(inv).tolist()
    off = offsets.tolist()
    start = 0
    for g, cnt in enumerate(counts):
        s, start = start, start + cnt
        R = rows[off[first_col + g] : off[first_col + g + 1]]  # sorted rows
        n = len(R)
        if cnt == 0 or n == 0:
            continue
        S = ts[s:start] @ Vn.index_select(0, R).T  # (questions, listed rows)
        flat = S.view(-1)
        base = torch.arange(cnt, device=dev) * n
        if exclude:  # the question's own words, found by binary search in R
            e = ex[s:start]
            pos = torch.searchsorted(R, e).clamp_max(n - 1)
            hit = R[pos] == e
            flat.index_fill_(0, (base[:, None] + pos)[hit], -torch.inf)
        v1, i1 = S.max(dim=1)
        vals[s:start, 0], js[s:start, 0] = v1, R[i1]
        if n > 1:
            flat.index_fill_(0, base + i1, -torch.inf)
            v2, i2 = S.max(dim=1)
            vals[s:start, 1], js[s:start, 1] = v2, R[i2]
    out_v, out_j = torch.empty_like(vals), torch.empty_like(js)
    out_v[order], out_j[order] = vals, js
    return out_v, out_j


def _scan_window(Vn, idx, t, exclude, best, window, chunk, block):
    """Exhaustive float32 scan for the questions of ``t``: each question's maximum over
    the whole vocabulary and every row scoring within ``window`` of it.

    ``best`` (float64) must be a lower bound of each maximum (``-inf`` allowed). Returns
    ``(best, q, j, score)``: the maxima and the (question, row, score) triples within
    the window (excluded words never appear; a question with every word excluded has
    none).
    """
    import torch

    n, dev = len(t), t.device
    best = best.clone()
    cq, cj, cs = [], [], []
    buf = torch.empty(min(chunk, n), block, dtype=t.dtype, device=dev)
    for s in range(0, n, chunk):
        q, b, w = t[s : s + chunk], best[s : s + chunk], window[s : s + chunk]
        ex = idx[s : s + chunk, :3]
        rows = torch.arange(len(q), device=dev).unsqueeze(1).expand(-1, 3)
        for v in range(0, len(Vn), block):
            scores = _score_tile(q, Vn[v : v + block].T, buf)
            if exclude:
                local = ex - v
                inside = (local >= 0) & (local < scores.shape[1])
                scores[rows[inside], local[inside]] = -torch.inf
            mx = scores.amax(dim=1).double()
            hit = (mx >= b - w).nonzero().squeeze(1)
            if len(hit):
                b[hit] = torch.maximum(b[hit], mx[hit])
                sub = scores[hit].double()
                keep = (sub >= (b[hit] - w[hit])[:, None]) & torch.isfinite(sub)
                rr, cc = keep.nonzero(as_tuple=True)
                cq.append(hit[rr] + s)
                cj.append(cc + v)
                cs.append(sub[rr, cc])
    if not cq:
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        return best, empty, empty, torch.zeros(0, dtype=torch.float64, device=dev)
    cq, cj, cs = torch.cat(cq), torch.cat(cj), torch.cat(cs)
    keep = cs >= best[cq] - window[cq]
    return best, cq[keep], cj[keep], cs[keep]


def _reference_scores(Vn, t, chunk, block, qi, js, threads=None):
    """The float32 scores that :func:`search_exhaustive` (same ``chunk``, ``block``)
    computes for the (question, row) pairs ``(qi, js)``: their tiles are computed again
    by :func:`_score_tile` with the same operands and buffer, with ``threads`` torch
    threads (those the reference runs with)."""
    with num_threads(threads):
        return _reference_scores_loop(Vn, t, chunk, block, qi, js)


def _reference_scores_loop(Vn, t, chunk, block, qi, js):
    import torch

    out = torch.empty(len(qi), dtype=t.dtype, device=t.device)
    n_blocks = -(-len(Vn) // block)
    key = (qi // chunk) * n_blocks + js // block
    buf = torch.empty(chunk, block, dtype=t.dtype, device=t.device)
    for k in torch.unique(key).tolist():
        sel = (key == k).nonzero().squeeze(1)
        s, v = (k // n_blocks) * chunk, (k % n_blocks) * block
        scores = _score_tile(t[s : s + chunk], Vn[v : v + block].T.contiguous(), buf)
        out[sel] = scores[qi[sel] - s, js[sel] - v]
    return out


def search_pruned(
    Vn,
    W,
    idx,
    t,
    exclude,
    chunk,
    block=4096,
    list_size=2048,
    stats=None,
    ref_threads=None,
):
    """The predictions of :func:`search_exhaustive` (same ``chunk``, ``block``) without
    scoring every question against every word.

    1. *Bound.* ``t = (w2 - w1) + w3`` is a sum of a relation vector ``a = w2 - w1``
       (shared by all questions of a word pair) and a word ``b = w3``. For each distinct
       ``a`` and ``b`` (about 550 + 470 columns for the Google set, against 19,544
       questions), list the ~``list_size`` rows ``j`` with the largest ``v_j · c``;
       every unlisted row has ``v_j · c < τ_c``. So an unlisted row scores less than
       ``τ_a + τ_b`` (threshold algorithm of Fagin et al.).
    2. *Candidates.* Score each question against the rows listed for its ``a`` and its
       ``b`` (one matrix product per column); the best of them, ``s*``, is a lower bound
       of the maximum. The question is *certified* when ``s* - τ_a - τ_b`` exceeds the
       rounding margin ``6 γ (||t|| + ||a|| + ||b||)`` (:func:`_error_scale`; the worst
       case is ``4 γ (...)``: the reference's float32 error and ours on ``s*``, the
       error of the listing products and the elementwise rounding of ``t = fl(a + b)``),
       so no unlisted row can win, *and* the runner-up is below ``s* - 4 γ ||t||``
       (twice the largest gap between two float32 evaluations of a score), so no other
       listed row can either: the prediction is the row of ``s*``.
    3. *The rest* (uncertified or near-tied questions, about 14 % for GloVe 6B 50d with
       ``list_size = 2048``) are scanned exhaustively, keeping every row within
       ``4 γ ||t||`` of the maximum. When more than one row remains, their scores are
       recomputed by the reference's own tile products (:func:`_reference_scores`) and
       the largest wins, the lowest index on ties: exactly the reference's choice, since
       every other row is provably below it.

    ``stats`` (a dict), when given, receives the number of questions, certified
    questions, scanned questions and near ties.
    """
    import torch

    m, dev = len(t), t.device
    d = Vn.shape[1]
    if m == 0 or not bool(torch.isfinite(t).all()):
        return search_exhaustive(Vn, idx, t, exclude, chunk, block)
    a_keys, a_inv = torch.unique(idx[:, :2], dim=0, return_inverse=True)
    b_keys, b_inv = torch.unique(idx[:, 2], return_inverse=True)
    n_a = len(a_keys)
    cols = torch.cat([W[a_keys[:, 1]] - W[a_keys[:, 0]], W[b_keys]])
    tau = _list_thresholds(Vn, cols, list_size)
    rows, offsets = _column_lists(Vn, cols, tau)
    va, ja = _listed_top2(Vn, idx, t, exclude, rows, offsets, a_inv, 0)
    vb, jb = _listed_top2(Vn, idx, t, exclude, rows, offsets, b_inv, n_a)
    vals, js = torch.cat([va, vb], 1), torch.cat([ja, jb], 1)
    top = vals.argmax(dim=1, keepdim=True)
    best = vals.gather(1, top).squeeze(1).double()
    pred = js.gather(1, top).squeeze(1)
    runner_up = vals.masked_fill(js == pred[:, None], -torch.inf).amax(dim=1).double()

    vmax = float(Vn.norm(dim=1).max()) * (1.0 + 1e-4)  # float32 norm: rel. error < 1e-5
    g = _error_scale(d, vmax)
    cnorm = cols.double().norm(dim=1)
    tn = t.double().norm(dim=1)
    margin = 6.0 * g * (tn + cnorm[a_inv] + cnorm[n_a + b_inv])
    window = 4.0 * g * tn
    bound = tau.double()[a_inv] + tau.double()[n_a + b_inv]
    certified = (best - bound > margin) & (runner_up < best - window)
    rest = (~certified).nonzero().squeeze(1)
    n_ties = 0
    if len(rest):
        start = torch.where(
            torch.isfinite(best[rest]),
            best[rest] - window[rest],
            torch.full_like(best[rest], -torch.inf),
        )
        _, cq, cj, _ = _scan_window(
            Vn, idx[rest], t[rest], exclude, start, window[rest], chunk, block
        )
        pred[rest] = 0  # every word excluded: row 0, as the reference
        counts = torch.bincount(cq, minlength=len(rest))
        single = (counts == 1).nonzero().squeeze(1)
        first = torch.zeros(len(rest), dtype=torch.int64, device=dev)
        first[cq] = cj  # read only where the question has a single row in its window
        pred[rest[single]] = first[single]
        tied = (counts > 1).nonzero().squeeze(1)
        n_ties = len(tied)
        if n_ties:
            sel = torch.isin(cq, tied)
            qi, jj = rest[cq[sel]], cj[sel]
            ref = _reference_scores(Vn, t, chunk, block, qi, jj, ref_threads).tolist()
            winner = {}
            for i, j, s in zip(qi.tolist(), jj.tolist(), ref):
                if i not in winner or (s, -j) > winner[i]:
                    winner[i] = (s, -j)
            for i, (_, negj) in winner.items():
                pred[i] = -negj
    if stats is not None:
        stats.update(
            questions=m,
            certified=int(certified.sum()),
            scanned=len(rest),
            near_ties=n_ties,
            list_size=list_size,
            columns=len(cols),
        )
    return pred
