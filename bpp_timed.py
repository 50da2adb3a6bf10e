import numpy as np, time
from typing import Any
from napari_unmix.core._passive_sets import _codes, _count, _pivot_products, _Pivots
from napari_unmix.core.nnls import BLOCK, _take, _Pivots
ACC = {}
_last = [0.0]
def _T(i):
    t = time.perf_counter(); ACC[i] = ACC.get(i, 0) + t - _last[0]; _last[0] = t
def _bpp(
    G: np.ndarray,
    B: np.ndarray,
    max_rounds: int,
    passive0: np.ndarray | None = None,
    pivots: _Pivots | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Block principal pivoting over all columns of ``B`` (see :func:`nnls_gram`).

    ``passive0`` (k × n bool) warm-starts the passive sets, e.g. from the previous NNMF
    _T(9)
    iterate's support: most columns are then feasible at once. ``pivots`` (the
    :class:`~napari_unmix.core._passive_sets._Pivots` of ``G``) is shared by the blocks of
    one call. Wide problems run in blocks of :data:`BLOCK` columns: the working arrays
    _T(12)
    then stay in cache (about twice as fast on 512 x 512 pixels).
    _T(13)
    """
    k, n = B.shape
    _T(15)
    pivots = _Pivots(G) if pivots is None else pivots
    _T(16)
    if n > BLOCK:
        W = np.empty((k, n))
        _T(18)
        rounds = unconverged = 0
        _T(19)
        for lo in range(0, n, BLOCK):
            part = slice(lo, lo + BLOCK)
            _T(21)
            W[:, part], info = _bpp(
                G, B[:, part], max_rounds, None if passive0 is None else passive0[:, part],
                pivots,
            )  # fmt: skip
            rounds = max(rounds, info["rounds"])
            _T(26)
            unconverged += info["unconverged"]
            _T(27)
        return W, {"rounds": rounds, "unconverged": unconverged}
    if k == 0 or n == 0:
        return np.zeros((k, n)), {"rounds": 0, "unconverged": 0}
    # one tolerance for both tests: the solution is scaled by ``pivots.scale`` (~max diag G)
    floor = np.abs(B[0])  # -1e-11 max|b|: below it a value is negative
    _T(32)
    for row in B[1:]:
        np.maximum(floor, np.abs(row), out=floor)
        _T(34)
    np.maximum(floor, np.finfo(float).tiny, out=floor)
    _T(35)
    floor *= -1e-11
    _T(36)
    W = np.zeros((k, n))
    _T(37)
    # Working arrays hold the columns still open, sorted by passive set (a stable radix
    # sort of small integer codes) so each set's columns are one contiguous slice; finished
    # columns are written to W once. With no warm start every column starts with all
    # components passive (the unconstrained solution, one product): the non-negative ones
    # are done, the others drop their negative components (Kim & Park's start).
    cols = np.arange(n)
    _T(43)
    Bc = B
    _T(44)
    Pc = np.ones((k, n), dtype=bool) if passive0 is None else np.array(passive0, dtype=bool)
    _T(45)
    codes = _codes(Pc)
    _T(46)
    if not (codes == codes[0]).all():
        order = np.argsort(codes, kind="stable")
        _T(48)
        cols, codes, Bc, Pc = cols[order], codes[order], _take(Bc, order), _take(Pc, order)
        _T(49)
    # Kim & Park's backup rule: full exchanges while the infeasible count drops, at most
    # three more without progress, then single exchanges (guarantees termination)
    best = np.full(n, k + 1, dtype=np.int16)
    _T(52)
    budget = np.full(n, 3, dtype=np.int16)
    _T(53)
    rounds = 0
    _T(54)
    while True:
        Vc = _pivot_products(pivots, Bc, Pc, codes)  # scale * w on P, gradient off P
        _T(56)
        inf = Vc < floor
        _T(57)
        n_inf = _count(inf)
        _T(58)
        open_ = n_inf > 0
        _T(59)
        if rounds >= max_rounds:
            open_[:] = False
            _T(61)
        keep = np.flatnonzero(open_)
        _T(62)
        if keep.size < cols.size:
            done = np.flatnonzero(~open_)
            _T(64)
            Wd = _take(Vc, done)
            _T(65)
            np.maximum(Wd, 0.0, out=Wd)
            _T(66)
            Wd *= _take(Pc, done)
            _T(67)
            Wd *= 1.0 / pivots.scale  # exact: a power of two
            _T(68)
            cd = cols[done]
            _T(69)
            for j in range(k):
                W[j, cd] = Wd[j]
                _T(71)
            if keep.size == 0:
                break
        rounds += 1
        _T(74)
        improved = n_inf < best
        _T(75)
        np.copyto(best, n_inf, where=improved)
        _T(76)
        spend = ~improved & (budget >= 1)
        _T(77)
        budget -= spend
        _T(78)
        budget[improved] = 3
        _T(79)
        full = improved | spend
        _T(80)
        if full.all():
            Pc ^= inf
            _T(82)
        else:
            Pc ^= inf & full
            _T(84)
            one = np.flatnonzero(~full)
            _T(85)
            last = k - 1 - np.argmax(inf[::-1, one], axis=0)
            _T(86)
            Pc[last, one] ^= True
            _T(87)
        # the open columns, regrouped by their new passive sets
        codes = _codes(Pc)[keep]
        _T(89)
        by_set = np.argsort(codes, kind="stable")
        _T(90)
        order, codes = keep[by_set], codes[by_set]
        _T(91)
        cols, floor, best, budget = (a[order] for a in (cols, floor, best, budget))
        _T(92)
        Bc, Pc = _take(Bc, order), _take(Pc, order)
        _T(93)
    unconverged = int(rounds >= max_rounds and n_inf.sum() > 0)
    _T(94)
    return W, {"rounds": rounds, "unconverged": unconverged}


def _take(A: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``A[:, idx]`` row by row (1-D gathers are several times faster than a 2-D one)."""
    out = np.empty((A.shape[0], idx.size), dtype=A.dtype)
    _T(100)
    for row, dst in zip(A, out, strict=True):
        np.take(row, idx, out=dst)
        _T(102)
    return out


