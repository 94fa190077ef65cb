"""The exact analogy search behind
:func:`aligned_latents.metrics.analogy.analogy_accuracy` (paper Section 6.1.2, Table 1's
analogy-accuracy): the arg-max over the whole vocabulary of the float32 scores of the
query vectors ``t = (w2 - w1) + w3``.

* :func:`search_exhaustive`, the reference: tiled matrix products in torch (GPU when
  present), every question against every word, lowest row on ties;
* :func:`search_pruned`, the CPU default: the same predictions, most of them proved
  from short candidate lists with a float32-safe bound, the rest scanned; when the
  vocabulary is numerically of low rank (:func:`low_rank_rows`: the Leaky ReLU codes
  ``B x + b``, rank 51 in R^400), the lists and the scan run on its r-dim coordinates
  with proved bounds (:func:`_scan_low_rank`), the same predictions again.

The unit vectors are read through :class:`UnitRows` when the caller keeps the matrix:
each tile divided as it is read, bit for bit the values of the normalised copy that is
not made.

Split from :mod:`aligned_latents.metrics.analogy` (issue 16): the metric there, the
search engine here.
"""

from __future__ import annotations

__all__ = [
    "LowRankRows",
    "QuestionRows",
    "UnitRows",
    "low_rank_rows",
    "num_threads",
    "search_exhaustive",
    "search_pruned",
    "targets",
]


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


class UnitRows:
    """The unit vectors ``V[j] / norms[j]`` of the rows of ``V``, divided as they are
    read (a tile, a sample, the rows of an index) instead of held as an n x d copy.

    Each element is one IEEE division of float32 numbers, correctly rounded, so every
    read gives exactly the values of the normalised copy ``V / norms`` (which divides
    the same numbers element by element): the searches see the same matrix and return
    the same predictions, with one n x d matrix less in memory when the caller keeps
    ``V``. Supports what the searches read: ``len``, ``shape``, ``dtype``, ``device``,
    indexing rows by a slice or an index tensor, and ``index_select(0, rows)``.
    """

    def __init__(self, V, norms):
        self.V, self.norms = V, norms  # norms: (n, 1)
        self.shape, self.dtype, self.device = V.shape, V.dtype, V.device

    def __len__(self):
        return len(self.V)

    def __getitem__(self, rows):
        return self.V[rows] / self.norms[rows]

    def read(self, start, stop, out):
        """Rows ``start:stop`` divided into ``out`` (a buffer of at least that many
        rows, reused by the caller's loop: a new array per block made the allocator
        grow the heap by about the whole matrix over one pass); returns the view."""
        import torch

        k = min(stop, len(self.V)) - start
        return torch.div(self.V[start:stop], self.norms[start:stop], out=out[:k])

    def index_select(self, dim, rows):
        if dim != 0:
            raise ValueError(f"UnitRows selects rows (dim 0), got dim={dim}")
        return self.V.index_select(0, rows) / self.norms.index_select(0, rows)


def _read(Vn, start, stop, buf):
    """Rows ``start:stop`` of ``Vn``: a view of a tensor, or for :class:`UnitRows`
    their division written into ``buf`` (``None``: one is made)."""
    if isinstance(Vn, UnitRows):
        import torch

        if buf is None:
            buf = torch.empty(stop - start, Vn.shape[1], dtype=Vn.dtype, device=Vn.device)
        return Vn.read(start, stop, buf)
    return Vn[start:stop]


def _row_buffer(Vn, rows):
    """A reusable buffer for :func:`_read` of ``rows`` rows (``None`` for a tensor)."""
    import torch

    if isinstance(Vn, UnitRows):
        return torch.empty(min(rows, len(Vn)), Vn.shape[1], dtype=Vn.dtype,
                           device=Vn.device)
    return None


def targets(V, Vn, idx, protocol):
    """Query vectors ``t = (w2 - w1) + w3`` in float32, in that order of operations
    (paper protocol: raw vectors; standard: unit vectors)."""
    import torch

    W = V if protocol == "paper" else Vn
    t = torch.empty(len(idx), Vn.shape[1], dtype=Vn.dtype, device=idx.device)
    for s in range(0, len(idx), 2048):  # elementwise: the same values in any blocks
        i, out = idx[s : s + 2048], t[s : s + 2048]
        out.copy_(W[i[:, 1]])  # in place: one gathered block at a time
        out.sub_(W[i[:, 0]])
        out.add_(W[i[:, 2]])
    return t


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
    # one buffer for every block's scores: a new 8 MB array per block was not reused by
    # the allocator (the process grew by about 8 MB a block at 500,000 words)
    buf = torch.empty(min(256, len(cols)), len(sub), dtype=cols.dtype, device=cols.device)
    for c in range(0, len(cols), 256):
        blk = cols[c : c + 256]
        scores = torch.mm(blk, sub.T, out=buf[: len(blk)])
        out.append(scores.topk(rank, dim=1).values[:, -1].clone())
    return torch.cat(out)


def _column_lists(Vn, cols, tau, rows_per_block: int = 2048, low_rank=None,
                  list_size: int = 2048):
    """The vocabulary rows ``j`` with float32 ``Vn[j] · cols[c] >= tau[c]``, per column
    ``c``, as ``(rows, offsets)``: column ``c``'s rows are
    ``rows[offsets[c]:offsets[c+1]]``, in increasing order. Every row left out has
    ``Vn[j] · cols[c] < tau[c]`` as computed here (one float32 matrix product per block
    of rows, into a reused buffer).

    Each listed pair is kept as one integer key ``c·n + j`` and the keys are sorted:
    int32 when every key fits (``len(cols)·n < 2³¹``: the Google set's ~1,000 columns
    on up to 2 million words), else int64; 4 bytes a pair between the blocks and at
    most two such arrays at once (17 MB for the 2.1 million pairs of the Google set on
    500,000 random vectors; int64 keys took twice that, row and column arrays sorted by
    an arg-sort four times). The rows returned have the keys' dtype.

    With ``low_rank`` (:class:`LowRankRows` of ``Vn``) the products are taken on the
    r-dim coordinates instead (``fl32(C[j] · p32_c)``, :meth:`LowRankRows.project`),
    and a third array is returned: per column ``c`` a bound ``ε_c`` (float64) such
    that every row left out has the *exact* ``Vn[j] · cols[c] < tau[c] + ε_c``.
    Without it, ``ε_c = 0`` (the rows left out are below ``tau[c]`` in float32, within
    the float32 error that :func:`search_pruned`'s margin counts)."""
    import torch

    dev, n = Vn.device, len(Vn)
    if low_rank is not None:
        pc, E, _ = low_rank.project(cols)
        colsT, extra = pc.T.contiguous(), E.amax(dim=1)
        rows_per_block = low_rank.block
    else:
        colsT = cols.T.contiguous()
        extra = torch.zeros(len(cols), dtype=torch.float64, device=dev)
    buf = torch.empty(rows_per_block, len(cols), dtype=Vn.dtype, device=dev)
    mask = torch.empty(rows_per_block, len(cols), dtype=torch.bool, device=dev)
    rbuf = None if low_rank is not None else _row_buffer(Vn, rows_per_block)
    kt = torch.int32 if len(cols) * n < 2**31 else torch.int64
    # the keys go into one array sized for the expected pairs (about list_size a column,
    # a quarter more), grown by half when that is exceeded: no list of per-block arrays
    # joined at the end (twice the keys at once, and scattered pieces the allocator
    # kept after they were freed)
    key = torch.empty(len(cols) * min(list_size, n) * 5 // 4 + 1, dtype=kt, device=dev)
    count = 0
    for s in range(0, n, rows_per_block):
        if low_rank is not None:
            blk = low_rank.C[s : s + rows_per_block]
        else:
            blk = _read(Vn, s, s + rows_per_block, rbuf)
        F, M = buf[: len(blk)], mask[: len(blk)]
        torch.mm(blk, colsT, out=F)
        torch.ge(F, tau, out=M)
        nz = M.nonzero()
        if count + len(nz) > len(key):
            grown = torch.empty(max(count + len(nz), len(key) * 3 // 2), dtype=kt,
                                device=dev)
            grown[:count] = key[:count]
            key = grown
        torch.add(nz[:, 0] + s, nz[:, 1], alpha=n, out=key[count : count + len(nz)])
        count += len(nz)
    del buf, mask
    key = key[:count]
    if key.device.type == "cpu":
        key.numpy().sort()  # in place: no second array, no index array
    else:
        key = torch.sort(key).values
    # by column, then row; column c's keys start at the first key >= c·n
    bounds = torch.arange(len(cols) + 1, dtype=torch.int64, device=dev) * n
    offsets = torch.searchsorted(key, bounds.to(kt))
    return key.remainder_(n), offsets, extra


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
    ex = idx.index_select(0, order)[:, :3].contiguous().to(rows.dtype)
    vals = torch.full((m, 2), -torch.inf, dtype=t.dtype, device=dev)
    js = torch.full((m, 2), -1, dtype=torch.int64, device=dev)
    counts = torch.bincount(inv).tolist()
    off = offsets.tolist()
    # one buffer each for every group's query vectors, listed rows and scores (the
    # largest group's sizes): a new array of a few MB per group, a thousand groups,
    # left the allocator's heap about 12 MB larger at 500,000 x 300
    sizes = [off[first_col + g + 1] - off[first_col + g] for g in range(len(counts))]
    qmax, nmax, d = max(counts, default=0), max(sizes, default=0), t.shape[1]
    qbuf = torch.empty(qmax * d, dtype=t.dtype, device=dev)
    sbuf = torch.empty(qmax * nmax, dtype=t.dtype, device=dev)
    rbuf = None if isinstance(Vn, UnitRows) else torch.empty(nmax * d, dtype=Vn.dtype,
                                                              device=dev)
    start = 0
    for g, cnt in enumerate(counts):
        s, start = start, start + cnt
        R = rows[off[first_col + g] : off[first_col + g + 1]]  # sorted rows
        n = len(R)
        if cnt == 0 or n == 0:
            continue
        # (questions, listed rows); the group's query vectors gathered here, not a
        # reordered copy of all of them (m x d)
        q = torch.index_select(t, 0, order[s:start], out=qbuf[: cnt * d].view(cnt, d))
        if rbuf is None:
            L = Vn.index_select(0, R)
        else:
            L = torch.index_select(Vn, 0, R, out=rbuf[: n * d].view(n, d))
        S = torch.mm(q, L.T, out=sbuf[: cnt * n].view(cnt, n))
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


def _scan_window(Vn, idx, t, exclude, best, window, chunk, block, sel=None):
    """Exhaustive float32 scan for the questions ``sel`` (rows of ``t`` and ``idx``;
    ``None``: all): each question's maximum over the whole vocabulary and every row
    scoring within ``window`` of it.

    ``best`` and ``window`` (float64, one per question scanned): ``best`` must be a
    lower bound of each maximum (``-inf`` allowed). Returns ``(best, q, j, score)``:
    the maxima and the (question, row, score) triples within the window, ``q``
    numbering the questions scanned from 0 (excluded words never appear; a question
    with every word excluded has none).

    Memory: the scanned questions' query vectors are gathered a chunk at a time into a
    reused buffer (no copy of ``t[sel]``), and the window is found in float32: the
    tile's rows whose maximum reaches the window are gathered into a reused buffer,
    each score ``f`` compared with the float64 bound ``β - w`` rounded down to float32
    (:func:`_floor32`; ``f >= β - w`` implies it), and only the scores it keeps are
    compared exactly in float64: the same triples as comparing a float64 copy of those
    rows (a new float32 and a float64 array per tile, 3x the tile, before).
    """
    import torch

    n = len(t) if sel is None else len(sel)
    dev = t.device
    best = best.clone()
    cq, cj, cs = [], [], []
    m = min(chunk, n)
    buf = torch.empty(m, block, dtype=t.dtype, device=dev)
    mask = torch.empty(m, block, dtype=torch.bool, device=dev)
    hbuf = torch.empty(m * block, dtype=t.dtype, device=dev)  # a tile's rows that hit
    qbuf = None if sel is None else torch.empty(m, t.shape[1], dtype=t.dtype, device=dev)
    ex_all = idx[:, :3] if sel is None else idx.index_select(0, sel)[:, :3]
    rows = torch.arange(m, device=dev).unsqueeze(1).expand(-1, 3)
    rbuf = _row_buffer(Vn, block)
    for v in range(0, len(Vn), block):  # each tile read (and divided: UnitRows) once
        tile = _read(Vn, v, v + block, rbuf).T
        for s in range(0, n, chunk):
            b, w = best[s : s + chunk], window[s : s + chunk]
            if sel is None:
                q = t[s : s + chunk]
            else:
                k = len(b)
                q = torch.index_select(t, 0, sel[s : s + chunk], out=qbuf[:k])
            ex = ex_all[s : s + chunk]
            scores = _score_tile(q, tile, buf)
            if exclude:
                local = ex - v
                inside = (local >= 0) & (local < scores.shape[1])
                scores[rows[: len(q)][inside], local[inside]] = -torch.inf
            mx = scores.amax(dim=1).double()
            hit = (mx >= b - w).nonzero().squeeze(1)
            if len(hit):
                b[hit] = torch.maximum(b[hit], mx[hit])
                lo = b[hit] - w[hit]
                width = scores.shape[1]
                sub = hbuf[: len(hit) * width].view(len(hit), width)
                torch.index_select(scores, 0, hit, out=sub)
                keep = mask[: len(hit), : scores.shape[1]]
                torch.ge(sub, _floor32(lo)[:, None], out=keep)
                rr, cc = keep.nonzero(as_tuple=True)
                f = sub[rr, cc].double()
                ok = (f >= lo[rr]) & torch.isfinite(f)
                cq.append(hit[rr[ok]] + s)
                cj.append(cc[ok] + v)
                cs.append(f[ok])
    if not cq:
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        return best, empty, empty, torch.zeros(0, dtype=torch.float64, device=dev)
    cq, cj, cs = torch.cat(cq), torch.cat(cj), torch.cat(cs)
    keep = cs >= best[cq] - window[cq]
    return best, cq[keep], cj[keep], cs[keep]


def _floor32(x):
    """float64 ``x`` rounded down to float32 (``-inf`` and ``+inf`` kept), at least
    ``-FLT_MAX``: every finite float32 ``f >= x`` has ``f >= _floor32(x)``."""
    import torch

    f = x.float()
    f = torch.where(f.double() > x, torch.nextafter(f, torch.full_like(f, -torch.inf)), f)
    return f.clamp_min(-torch.finfo(torch.float32).max)


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
    low_rank=None,
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

    With ``low_rank`` (a :class:`LowRankRows` of ``Vn``, :func:`low_rank_rows`) steps
    1-3 run on its r-dim coordinates, with bounds instead of float32 rounding:

    1'. the lists are taken on ``fl32(C[j] · p32_c)``; a row left out has the exact
        ``v_j · c < τ_c + ε_c`` (:func:`_column_lists`), so with ``t = fl(a + b)``
        (``|t - (a + b)| <= u (|a| + |b|)``) an unlisted row has
        ``s_j < τ_a + ε_a + τ_b + ε_b + u (||a|| + ||b||) vmax =: β_0``;
    2'. listed rows are scored as ``ŝ_j = fl32(p32 · C[j])``, within ``E`` (the
        question's largest block bound, :meth:`LowRankRows.project`) of the exact
        ``s_j``; the reference's ``r_j`` is within ``G = γ_d ||t|| vmax`` of ``s_j``. With
        ``s*`` the best ``ŝ`` (row ``m``) and ``ℓ = s* - E - G <= r_m``: when
        ``ℓ - G > β_0`` every unlisted row has ``r_j < s_j + G < ℓ <= r_m``, and when the
        runner-up has ``ŝ + E + G < ℓ`` so has every other listed row: the reference's
        arg-max is ``m`` (strictly, so no tie rule is involved);
    3'. the rest are scanned by :func:`_scan_low_rank` from the lower bound ``ℓ`` of the
        winner's score (also a lower bound of every float32 maximum the full scan
        computes); the questions it declines go to the full scan.

    ``t``: the query vectors (:func:`targets`), or a function of no arguments that
    returns them, called once the candidate lists are built, so that the lists'
    temporaries and the m x d query vectors are not in memory at once.

    ``stats`` (a dict), when given, receives the number of questions, certified
    questions, scanned questions (of which ``low_rank`` on the low-rank scan) and near
    ties, and the rank used.
    """
    import torch

    make_t = t if callable(t) else (lambda: t)
    m, dev = len(idx), idx.device
    d = Vn.shape[1]
    if m == 0:
        return search_exhaustive(Vn, idx, make_t(), exclude, chunk, block)
    a_keys, a_inv = torch.unique(idx[:, :2], dim=0, return_inverse=True)
    b_keys, b_inv = torch.unique(idx[:, 2], return_inverse=True)
    n_a = len(a_keys)
    cols = torch.cat([W[a_keys[:, 1]] - W[a_keys[:, 0]], W[b_keys]])
    if not _all_finite(cols):  # then t = fl(a + b) is not finite either
        return search_exhaustive(Vn, idx, make_t(), exclude, chunk, block)
    tau = _list_thresholds(Vn, cols, list_size)
    rows, offsets, extra = _column_lists(Vn, cols, tau, low_rank=low_rank,
                                         list_size=list_size)
    t = make_t()  # after the lists: their temporaries and t are not held at once
    if not _all_finite(t):  # a + b overflowed
        del rows, offsets
        return search_exhaustive(Vn, idx, t, exclude, chunk, block)
    if low_rank is not None:  # listed rows scored on the r-dim coordinates
        src, tq, E, _ = low_rank.C, *low_rank.project(t)
    else:
        src, tq = Vn, t
    va, ja = _listed_top2(src, idx, tq, exclude, rows, offsets, a_inv, 0)
    vb, jb = _listed_top2(src, idx, tq, exclude, rows, offsets, b_inv, n_a)
    del rows, offsets  # the lists are read only here (a third of the search's peak)
    vals, js = torch.cat([va, vb], 1), torch.cat([ja, jb], 1)
    top = vals.argmax(dim=1, keepdim=True)
    best = vals.gather(1, top).squeeze(1).double()
    pred = js.gather(1, top).squeeze(1)
    runner_up = vals.masked_fill(js == pred[:, None], -torch.inf).amax(dim=1).double()

    vmax = float(_row_norms(Vn).max()) * (1.0 + 1e-4)  # float32 norm: rel. error < 1e-5
    g = _error_scale(d, vmax)
    cnorm = cols.double().norm(dim=1)
    tn = _norms64(t)
    window = 4.0 * g * tn
    if low_rank is None:
        margin = 6.0 * g * (tn + cnorm[a_inv] + cnorm[n_a + b_inv])
        bound = tau.double()[a_inv] + tau.double()[n_a + b_inv]
        certified = (best - bound > margin) & (runner_up < best - window)
    else:  # see the docstring's last paragraph
        slack = 1.0 + 1e-12
        emax = E.amax(dim=1)
        G = g * tn * (1.0 + _gamma64(d + 2)) * slack
        tau = tau.double() + extra
        ab = (cnorm[a_inv] + cnorm[n_a + b_inv]) * (1.0 + _gamma64(d + 2))
        bound = (tau[a_inv] + tau[n_a + b_inv] + _U32 * ab * vmax) * slack
        lower = best - emax - G  # <= the winner's reference score, any float32 score
        certified = (lower - G > bound) & (runner_up + emax + G < lower)
        best = lower
    rest = (~certified).nonzero().squeeze(1)
    n_ties = n_low_rank = 0
    if len(rest):
        start = torch.where(
            torch.isfinite(best[rest]),
            best[rest] - window[rest],
            torch.full_like(best[rest], -torch.inf),
        )
        full = torch.arange(len(rest), device=dev)
        cq = cj = torch.zeros(0, dtype=torch.int64, device=dev)
        if low_rank is not None:
            declined, cq, cj = _scan_low_rank(
                low_rank, Vn, idx[rest], t[rest], exclude, best[rest], vmax, chunk
            )
            full = declined.nonzero().squeeze(1)
            n_low_rank = len(rest) - len(full)
        if len(full):
            r_full = rest[full]  # scanned by index: no copy of their query vectors
            _, fq, fj, _ = _scan_window(
                Vn, idx, t, exclude, start[full], window[r_full], chunk, block, r_full
            )
            cq, cj = torch.cat([cq, full[fq]]), torch.cat([cj, fj])
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
            low_rank=n_low_rank,
            rank=None if low_rank is None else low_rank.rank,
            list_size=list_size,
            columns=len(cols),
        )
    return pred


#: Unit roundoff of float64.
_U64 = 2.0**-53


def _gamma64(k: int) -> float:
    """Higham's ``γ_k = k u / (1 - k u)`` for float64 (``u = 2⁻⁵³``)."""
    return k * _U64 / (1.0 - k * _U64)


class LowRankRows:
    """A float32 factorisation ``Vn[j] = Q C[j] + e_j`` of the unit vectors, with a
    float64 bound on every residual ``||e_j||``, for :func:`_scan_low_rank`.

    ``Q`` (d x r) holds float32 numbers (kept in float64), ``C[j]`` the float32
    coordinates ``fl(Vn[j] Q)``; ``e_j`` is *defined* as ``Vn[j] - Q C[j]`` in exact
    arithmetic, whatever ``Q`` is (orthonormal or not, good or bad): the bounds below
    hold for any ``Q``, only their size depends on it. Per block of ``block`` rows
    (the scan's tiles): ``rho[b] >= max ||e_j||`` and ``cnorm[b] >= max ||C[j]||``;
    ``qf >= ||Q||_F``.

    ``rho`` is computed in float64 as ``ρ̂_j = ||fl(Vn[j] - fl(C[j] Q^T))||``. Each
    entry of ``fl(C[j] Q^T)`` is within ``γ_r (|C[j]| |Q^T|)_i`` of the exact product
    (Higham Eq. 3.5), the subtraction adds a rounding of ``u |.|`` and the norm a
    relative ``γ_{d+1}`` (all float64), so
    ``||e_j|| <= (ρ̂_j + γ_{r+2} (||Vn[j]|| + ||Q||_F ||C[j]||)) (1 + γ_{d+2})``,
    which is what ``rho`` stores (rounded up by a further relative ``1e-12``).
    """

    def __init__(self, Q, C, rho, cnorm, qf, block):
        self.Q, self.C, self.rho, self.cnorm = Q, C, rho, cnorm
        self.qf, self.block = qf, block

    @property
    def rank(self) -> int:
        return self.Q.shape[1]

    def project(self, T):
        """For vectors ``T`` (m x d, float32): their float32 coordinates ``p32`` (m x r)
        and per (vector, block) a bound ``E`` (float64, m x blocks) with
        ``|t · v_j - fl32(p32 · C[j])| <= E[i, b]`` for every row ``j`` of block ``b``,
        for any float32 evaluation of the r-dim product (see :func:`_scan_low_rank`),
        and the float64 bound ``tn >= ||t||``."""
        import torch

        d, r = self.Q.shape
        slack = 1.0 + 1e-12  # float64 rounding of the bound arithmetic below
        tn = _norms64(T) * (1.0 + _gamma64(d + 2))
        P = torch.cat([T[s : s + 2048].double() @ self.Q for s in range(0, len(T), 2048)])
        p32 = P.float()
        delta = (P - p32.double()).norm(dim=1) + _gamma64(d + 2) * self.qf * tn
        coef = (delta + _error_scale(r, 1.0) * p32.double().norm(dim=1)) * slack
        E = (tn[:, None] * self.rho[None, :] + coef[:, None] * self.cnorm[None, :])
        return p32, E * slack, tn


def low_rank_rows(Vn, block=4096, sample=4096, max_fraction=0.5, rank=None):
    """A :class:`LowRankRows` of ``Vn`` when the vocabulary is numerically of rank at
    most ``max_fraction · d``, else ``None`` (the full-width scan is then as cheap).

    ``Q`` is the top right singular vectors of every ``n // sample``-th row (the
    eigenvectors of their float64 Gram matrix, rounded to float32); its rank ``r`` is
    the smallest whose per-row residual on the sample (root mean square of the
    discarded singular values) is at most the float32 error scale
    ``γ_d max ||Vn[j]||`` of one score (:func:`_error_scale`): residuals below the
    rounding the search already tolerates. Only the speed of :func:`_scan_low_rank`
    depends on this choice, never its predictions: the bounds are computed on every
    row, after ``Q`` is fixed. ``rank`` forces ``r`` (tests: residuals far above the
    rounding, where the bounds must still hold).
    """
    import torch

    n, d = Vn.shape
    if n == 0 or d < 2:
        return None
    vmax = float(_row_norms(Vn).max()) * (1.0 + 1e-4)
    sub = Vn[:: max(1, n // sample)]
    gram = torch.zeros(d, d, dtype=torch.float64, device=Vn.device)
    for s in range(0, len(sub), 1024):  # float64 Gram matrix, no float64 sample
        b = sub[s : s + 1024].double()
        gram += b.T @ b
    S2, vecs = torch.linalg.eigh(gram)  # squared singular values, ascending
    S2, Vt = S2.flip(0).clamp_min(0.0), vecs.flip(1).T
    tail = (S2.flip(0).cumsum(0).flip(0) / len(sub)).sqrt()  # tail[r]: drop r..
    small = (tail <= _error_scale(d, vmax)).nonzero()
    r = int(small[0]) if len(small) else d
    if rank is not None:
        r = min(rank, d)
    elif r == 0 or r > max_fraction * d:
        return None
    Q32 = Vt[:r].T.contiguous().float()
    Q = Q32.double()
    qf = float(Q.norm()) * (1.0 + 1e-12)
    g_r, g_d = _gamma64(r + 2), _gamma64(d + 2)
    C_all = torch.empty(n, r, dtype=Vn.dtype, device=Vn.device)
    rho, cnorm = [], []
    rbuf = _row_buffer(Vn, block)
    for v in range(0, n, block):
        blk = _read(Vn, v, v + block, rbuf)
        C = torch.mm(blk, Q32, out=C_all[v : v + block])  # any rounding: e_j takes it
        C64, B64 = C.double(), blk.double()
        cn = C64.norm(dim=1) * (1.0 + g_r)
        res = (B64 - C64 @ Q.T).norm(dim=1)
        bound = (res + g_r * (B64.norm(dim=1) * (1.0 + g_d) + qf * cn)) * (1.0 + g_d)
        rho.append(float(bound.max()) * (1.0 + 1e-12))
        cnorm.append(float(cn.max()) * (1.0 + 1e-12))
    dt = torch.float64
    return LowRankRows(
        Q,
        C_all,
        torch.tensor(rho, dtype=dt, device=Vn.device),
        torch.tensor(cnorm, dtype=dt, device=Vn.device),
        qf,
        block,
    )


def _all_finite(T, rows=2048):
    """Whether every entry of ``T`` is finite, a block of rows at a time
    (``torch.isfinite`` of a float tensor makes a copy of its absolute values: 1.5x
    ``T`` at once)."""
    import torch

    return all(bool(torch.isfinite(T[s : s + rows]).all()) for s in range(0, len(T), rows))


def _norms64(T, rows=2048):
    """float64 norms of the rows of ``T``, a block of rows at a time (no float64 copy
    of ``T``)."""
    import torch

    return torch.cat([T[s : s + rows].double().norm(dim=1) for s in range(0, len(T), rows)])


def _row_norms(Vn, rows=4096):
    """float32 norms of the rows of ``Vn``, a block of rows at a time."""
    import torch

    buf = _row_buffer(Vn, rows)
    return torch.cat(
        [_read(Vn, s, s + rows, buf).norm(dim=1) for s in range(0, len(Vn), rows)]
    )


def _scan_low_rank(L, Vn, idx, t, exclude, lower, vmax, chunk, cap=256):
    """The exhaustive scan of :func:`_scan_window`, on ``r``-dim coordinates: for each
    question of ``t``, rows that may be the reference's prediction, proved from the
    factorisation ``L`` (:class:`LowRankRows`) of ``Vn``; the questions it cannot
    settle with at most ``cap`` candidate rows are *declined* (left to the full scan).

    Returns ``(declined, q, j)``: a bool mask over the questions, and (question, row)
    pairs, for every question not declined, that contain the reference's prediction
    and every row whose score may lie within float32 rounding of it.

    *Proof.* Let ``s_j = t · v_j`` (exact), ``r_j`` the reference's float32 score:
    ``|r_j - s_j| <= γ_d ||t|| ||v_j|| <= G := g ||t||`` (``g`` from
    :func:`_error_scale`, ``vmax >= max ||v_j||``). With ``p = Qᵀt`` (exact),
    ``s_j = p · C_j + t · e_j``. We compute ``P = fl64(Qᵀ t)`` (within
    ``γ_d ||Q||_F ||t||`` of ``p``, float64), round it to float32 ``p32``, and
    ``ŝ_j = fl32(p32 · C_j)`` (within ``γ_r ||p32|| ||C_j||``, float32). Hence
    ``|s_j - ŝ_j| <= E_j`` with ``E_j = ||t|| ρ_b + (δ + γ_r ||p32||) c_b`` for row
    ``j`` of block ``b``, where ``δ >= ||p - p32||`` and ``ρ_b``, ``c_b`` are the
    block's bounds of ``L``. Every non-excluded row ``m`` gives a lower bound of the
    reference's winning score ``r* >= r_m >= ŝ_m - E_m - G`` (``lower`` gives one
    more, from the candidate lists: :func:`search_pruned`); the running maximum ``β``
    of these bounds only grows. A row with ``ŝ_j + E_j + G < β`` has ``r_j < r*``: it
    is not the prediction, ties included. The rows kept are scored again in float64
    (``σ_j``, within ``h = γ_d ||t|| max ||v_j||`` of ``s_j``) and those below
    ``max σ - 2G - 2h`` dropped: the winner ``j*`` has ``s_{j*} >= s_m - 2G`` for
    every ``m``. What remains holds ``j*`` and is settled as the full scan's window
    is (:func:`search_pruned`: one row is the prediction, several go to the
    reference's own tile products).
    """
    import torch

    m, dev = len(t), t.device
    block, d = L.block, Vn.shape[1]
    slack = 1.0 + 1e-12  # float64 rounding of the bound arithmetic below
    p32, E, tn = L.project(t)
    G = _error_scale(d, vmax) * tn * slack
    beta = torch.where(torch.isfinite(lower), lower, torch.full_like(lower, -torch.inf))
    count = torch.zeros(m, dtype=torch.int64, device=dev)
    cq, cj, cs, ce = [], [], [], []
    buf = torch.empty(min(chunk, m), block, dtype=t.dtype, device=dev)
    for s in range(0, m, chunk):
        q, b = p32[s : s + chunk], beta[s : s + chunk]
        ex = idx[s : s + chunk, :3]
        rows = torch.arange(len(q), device=dev).unsqueeze(1).expand(-1, 3)
        for bi, v in enumerate(range(0, len(L.C), block)):
            CT = L.C[v : v + block].T
            scores = buf[: len(q), : CT.shape[1]]
            torch.mm(q, CT, out=scores)
            if exclude:
                local = ex - v
                inside = (local >= 0) & (local < scores.shape[1])
                scores[rows[inside], local[inside]] = -torch.inf
            e = E[s : s + chunk, bi]
            mx = scores.amax(dim=1).double()
            torch.maximum(b, mx - e - G[s : s + chunk], out=b)
            hit = (mx + e + G[s : s + chunk] >= b).nonzero().squeeze(1)
            if len(hit):
                sub = scores[hit].double()
                eh = e[hit]
                keep = sub + (eh + G[s + hit])[:, None] >= b[hit][:, None]
                rr, cc = keep.nonzero(as_tuple=True)
                qq = hit[rr] + s
                count += torch.bincount(qq, minlength=m)
                cq.append(qq)
                cj.append(cc + v)
                cs.append(sub[rr, cc])
                ce.append(eh[rr])
                if int(count[s : s + chunk].max()) > cap:
                    # stop collecting for declined questions of this chunk
                    over = count[s : s + chunk] > cap
                    b.masked_fill_(over, torch.inf)
    declined = (count > cap) | (count == 0)
    if not cq:
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        return declined, empty, empty
    cq, cj, cs, ce = torch.cat(cq), torch.cat(cj), torch.cat(cs), torch.cat(ce)
    keep = ~declined[cq] & (cs + ce + G[cq] >= beta[cq])
    cq, cj = cq[keep], cj[keep]
    sig = torch.empty(len(cq), dtype=torch.float64, device=dev)
    for s in range(0, len(cq), 4096):
        qq, jj = cq[s : s + 4096], cj[s : s + 4096]
        sig[s : s + 4096] = (t[qq].double() * Vn[jj].double()).sum(dim=1)
    top = torch.full((m,), -torch.inf, dtype=torch.float64, device=dev)
    top.scatter_reduce_(0, cq, sig, reduce="amax")
    h = _gamma64(d + 2) * tn * vmax
    keep = sig >= top[cq] - (2.0 * G[cq] + 2.0 * h[cq]) * slack
    return declined, cq[keep], cj[keep]
