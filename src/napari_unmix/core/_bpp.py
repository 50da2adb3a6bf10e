"""Block principal pivoting (Kim & Park) over many right-hand sides: the solver behind
:func:`~napari_unmix.core.nnls.nnls_gram`, :func:`~napari_unmix.core.nnls.nnls_cube` and
the exact-NNLS NNMF update; the passive-set bookkeeping is :mod:`._passive_sets`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._passive_sets import _bit, _code_dtype, _count, _highest_bits, _pack, _pivot_products, _Pivots

#: pixels per block of the pivoting solver (working arrays of a few MB stay in cache)
BLOCK = 32768


def _bpp(
    G: np.ndarray,
    B: np.ndarray,
    max_rounds: int,
    passive0: np.ndarray | None = None,
    pivots: _Pivots | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Block principal pivoting over all columns of ``B`` (see :func:`nnls_gram`).

    ``passive0`` (k × n bool) warm-starts the passive sets, e.g. from the previous NNMF
    iterate's support: most columns are then feasible at once. ``pivots`` (the
    :class:`~napari_unmix.core._passive_sets._Pivots` of ``G``) is shared by the blocks of
    one call. Wide problems run in blocks of :data:`BLOCK` columns: the working arrays
    then stay in cache (about twice as fast on 512 x 512 pixels).
    """
    k, n = B.shape
    pivots = _Pivots(G) if pivots is None else pivots
    if n > BLOCK:
        W = np.empty((k, n))
        rounds = unconverged = 0
        for lo in range(0, n, BLOCK):
            part = slice(lo, lo + BLOCK)
            W[:, part], info = _bpp(
                G, B[:, part], max_rounds, None if passive0 is None else passive0[:, part],
                pivots,
            )  # fmt: skip
            rounds = max(rounds, info["rounds"])
            unconverged += info["unconverged"]
        return W, {"rounds": rounds, "unconverged": unconverged}
    if k == 0 or n == 0:
        return np.zeros((k, n)), {"rounds": 0, "unconverged": 0}
    # one tolerance for both tests: the solution is scaled by ``pivots.scale`` (~max diag G)
    floor = np.abs(B[0])  # -1e-11 max|b|: below it a value is negative
    for row in B[1:]:
        np.maximum(floor, np.abs(row), out=floor)
    np.maximum(floor, np.finfo(float).tiny, out=floor)
    floor *= -1e-11
    W = np.empty((k, n))
    # Working arrays hold the columns still open, sorted by passive-set code (a stable
    # radix sort of small integers) so each set's columns are one contiguous slice;
    # finished columns are written to W once. With no warm start every column starts with
    # all components passive (the unconstrained solution, one product): the non-negative
    # ones are done, the others drop their negative components (Kim & Park's start).
    dtype = _code_dtype(k)
    final = np.empty(n, dtype=dtype)  # each column's last passive set
    cols = np.arange(n)
    Bc = B
    if passive0 is None:
        codes = np.full(n, (1 << k) - 1, dtype=dtype)
    else:
        codes = _pack(np.asarray(passive0, dtype=bool), dtype)
        order = np.argsort(codes, kind="stable")
        cols, codes, Bc = cols[order], codes[order], _take(Bc, order)
    # Kim & Park's backup rule: full exchanges while the infeasible count drops, at most
    # three more without progress, then single exchanges (guarantees termination)
    best = np.full(n, k + 1, dtype=np.uint8 if k < 255 else np.int32)  # (as _count)
    budget = np.full(n, 3, dtype=np.uint8)
    spent = False  # some budget below 3
    rounds = 0
    while True:
        Vc = _pivot_products(pivots, Bc, codes)  # scale * w on the set, gradient off it
        inf = Vc < floor
        n_inf = _count(inf)
        open_ = n_inf > 0
        if rounds >= max_rounds:
            open_[:] = False
        keep = np.flatnonzero(open_)
        if keep.size < cols.size:
            done = np.flatnonzero(~open_)
            cd = cols[done]
            final[cd] = codes[done]
            for j in range(k):
                W[j, cd] = np.take(Vc[j], done)
            if keep.size == 0:
                break
        rounds += 1
        full = None  # full exchanges everywhere, or where True
        improved = None if rounds == 1 else n_inf < best  # (the first round improves on k + 1)
        if improved is None or improved.all():  # the usual case: no budget spent
            best = n_inf
            if spent:
                budget.fill(3)
                spent = False
        else:
            np.copyto(best, n_inf, where=improved)
            spend = ~improved & (budget >= 1)
            budget -= spend
            budget[improved] = 3
            full = improved | spend
            spent = True
        if full is None or full.all():
            codes ^= _pack(inf, dtype)
        else:
            codes ^= _pack(inf & full, dtype)
            one = np.flatnonzero(~full)
            codes[one] ^= _highest_bits(inf[:, one], dtype)
        # the open columns, regrouped by their new passive sets
        codes = codes[keep]
        by_set = np.argsort(codes, kind="stable")
        order, codes = keep[by_set], codes[by_set]
        cols, floor, best, budget = (a[order] for a in (cols, floor, best, budget))
        Bc = _take(Bc, order)
    # scale * w on the final sets, gradients off them: keep max(w, 0) on the sets, 0 off
    np.maximum(W, 0.0, out=W)
    for j in range(k):
        W[j] *= _bit(final, j)
    W *= 1.0 / pivots.scale  # exact: a power of two
    unconverged = int(rounds >= max_rounds and n_inf.sum() > 0)
    return W, {"rounds": rounds, "unconverged": unconverged}


def _take(A: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``A[:, idx]`` row by row (1-D gathers are several times faster than a 2-D one)."""
    out = np.empty((A.shape[0], idx.size), dtype=A.dtype)
    for row, dst in zip(A, out, strict=True):
        np.take(row, idx, out=dst)
    return out
