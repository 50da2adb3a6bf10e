"""Exact non-negative least squares for many pixels at once (fixed spectra).

Solves, for every pixel ``x`` (a row of ``X``, pixels × channels), ``min_w ||x - w H||²``
subject to ``w >= 0`` with the spectra ``H`` (k × channels) fixed. The solver is block
principal pivoting (Kim & Park, 2011) on the normal equations ``G = H Hᵀ``,
``B = X Hᵀ``: every pixel carries its own passive set, pixels with the same passive set are
solved together with one small k × k factorisation, and the pivoting rules (full exchange
with a backup single exchange) make it finite and exact. No Python loop runs over pixels;
the loop runs over at most ``2**k`` distinct passive sets per pivoting round.

Dask cubes stay lazy: :func:`nnls_maps` maps the solver over spatial chunks.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> H = rng.random((3, 20))
>>> W_true = rng.random((100, 3))
>>> W, info = nnls(W_true @ H, H)
>>> bool(np.allclose(W, W_true, atol=1e-8)), info["kkt_violation"] < 1e-8
(True, True)
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from dask import is_dask_collection
from threadpoolctl import ThreadpoolController

from ._bpp import BLOCK, _bpp
from ._passive_sets import _Pivots

__all__ = ["kkt_violation", "nnls", "nnls_cube", "nnls_gram", "nnls_maps"]

#: the products here are k × k by k × n or tall and skinny: memory-bound, and a second
#: BLAS thread only adds synchronisation (10-50× slower on a loaded machine), so the
#: solvers run them on one BLAS thread (restored on return).
_THREADPOOLS = ThreadpoolController()


class _OneBlasThread:
    """Re-entrant, thread-safe "one BLAS thread" context (dask runs blocks in threads).

    The BLAS limit is process-wide: the first entry sets it, the last exit restores it,
    so concurrent solver calls cannot leave it changed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._limiter = _THREADPOOLS.limit(limits=1, user_api="blas")
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


one_blas_thread = _OneBlasThread()


def nnls_gram(
    G: np.ndarray, B: np.ndarray, /, *, max_rounds: int | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """NNLS from the Gram form: minimise ``½ wᵀGw − bᵀw`` over ``w >= 0`` for each column of ``B``.

    Parameters
    ----------
    G : (k, k) array
        ``H Hᵀ`` (symmetric positive semi-definite).
    B : (k, n) array
        ``H Xᵀ``, one column per pixel.
    max_rounds : int, optional
        Safety cap on pivoting rounds (default ``10 * k + 50``; never reached in practice).

    Returns
    -------
    W : (k, n) float64 array
        Exact NNLS solutions.
    info : dict
        ``rounds`` (pivoting rounds) and ``unconverged`` (pixels left infeasible; 0).

    Examples
    --------
    >>> G = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> W, info = nnls_gram(G, np.array([[1.0, -1.0], [3.0, 0.0]]))
    >>> W.round(3).tolist()
    [[0.0, 0.0], [1.5, 0.0]]
    """
    G = np.asarray(G, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    k = B.shape[0]
    if B.ndim != 2 or G.shape != (k, k):
        raise ValueError(f"G must be {k}x{k} to match B with {k} rows, got {G.shape=}")
    with one_blas_thread:
        return _bpp(G, B, 10 * k + 50 if max_rounds is None else int(max_rounds))


def kkt_violation(X: np.ndarray, H: np.ndarray, W: np.ndarray) -> float:
    """Largest KKT violation of an NNLS solution, relative to ``max|X Hᵀ|``.

    KKT for ``min ||X - W H||²`` with ``W >= 0``: ``W >= 0``, the gradient
    ``(W H - X) Hᵀ >= 0``, and ``W * gradient = 0`` (scaled by ``max W``).

    Examples
    --------
    >>> kkt_violation(np.array([[1.0, -1.0]]), np.eye(2), np.array([[1.0, 0.0]]))
    0.0
    """
    X = np.asarray(X, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    return _kkt_gram(H @ H.T, H @ X.T, np.asarray(W, dtype=np.float64).T)


def _kkt_gram(G: np.ndarray, B: np.ndarray, Wt: np.ndarray) -> float:
    if B.size == 0:
        return 0.0
    return _kkt_from(G @ Wt - B, B, Wt, G)


def nnls(X: np.ndarray, H: np.ndarray, /) -> tuple[np.ndarray, dict[str, Any]]:
    """Exact NNLS of every row of ``X`` (pixels × channels) on the spectra ``H`` (k × channels).

    Parameters
    ----------
    X : (n, C) array
        Pixels × channels (finite values; mask NaN pixels before calling).
    H : (k, C) array
        Fixed spectra.

    Returns
    -------
    W : (n, k) float64 array
        Abundances, in the units of ``X`` / ``H`` (no normalisation).
    info : dict
        ``rounds``, ``unconverged`` and ``kkt_violation`` (relative; ~1e-12 for exact).

    Examples
    --------
    >>> W, _ = nnls(np.array([[1.0, 2.0], [-1.0, 0.0]]), np.eye(2))
    >>> W.tolist()
    [[1.0, 2.0], [0.0, 0.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    if X.ndim != 2 or H.ndim != 2 or X.shape[1] != H.shape[1]:
        raise ValueError(
            f"X must be pixels x channels and H components x channels with the same number "
            f"of channels, got {X.shape=} and {H.shape=}"
        )
    with one_blas_thread:
        G, B = H @ H.T, H @ X.T
        Wt, info = nnls_gram(G, B)
        info["kkt_violation"] = _kkt_gram(G, B, Wt)
        return np.ascontiguousarray(Wt.T), info


def nnls_cube(
    cube: np.ndarray, H: np.ndarray, /, *, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Exact NNLS maps, residual map and fit statistics of a C × Y × X numpy cube.

    Runs in blocks of :data:`BLOCK` pixels and reads the cube once: slices of
    :data:`SLAB` pixels are converted to float64 (float64 input is used as it is), give
    their right-hand sides ``H X`` (one BLAS product) and squared norms ``||x||²`` while
    they are in cache; the pivoting solver runs on the right-hand sides, and the residual
    norm and the KKT check come from the Gram form (``||x − wH||² = ||x||² − 2 wᵀb +
    wᵀGw``, gradient ``G w − b``) without forming ``X − W H``. Where that difference
    cancels (a residual below :data:`EXACT_BELOW` of the terms), the residual is
    recomputed from the pixel itself. Peak memory is the cube plus the outputs plus a few
    block-sized buffers.

    Parameters
    ----------
    cube : (C, Y, X) array
        Any real dtype; never modified. Pixels with a NaN or inf are skipped.
    H : (k, C) array
        Fixed spectra.
    exclude : (Y, X) bool, optional
        Pixels to skip (NaN in the outputs).

    Returns
    -------
    W : (k, Y, X) float32
    residual : (Y, X) float32
        Per-pixel residual norm.
    stats : dict
        ``sum_r2`` and ``sum_x2`` (over the pixels used), ``kkt_violation`` (relative),
        ``negative_fraction`` of the used values, ``n_pixels``, ``rounds``,
        ``unconverged``, ``exact_residuals`` (pixels whose residual was recomputed),
        ``max_abundance``.

    Examples
    --------
    >>> cube = np.stack([np.full((2, 2), 2.0), np.full((2, 2), -1.0)])
    >>> W, res, st = nnls_cube(cube, np.eye(2))
    >>> W[:, 0, 0].tolist(), float(res[0, 0]), st["kkt_violation"] < 1e-12
    ([2.0, 0.0], 1.0, True)
    """
    H = np.asarray(H, dtype=np.float64)
    C, ny, nx = cube.shape
    k, n = H.shape[0], ny * nx
    flat = np.asarray(cube).reshape(C, n)
    skip = None if exclude is None else np.asarray(exclude, dtype=bool).reshape(n)
    W = np.full((k, n), np.nan, dtype=np.float32)
    res = np.full(n, np.nan, dtype=np.float32)
    stats = {"sum_r2": 0.0, "sum_x2": 0.0, "kkt_violation": 0.0, "negative_fraction": 0.0,
             "n_pixels": 0, "rounds": 0, "unconverged": 0, "exact_residuals": 0,
             "max_abundance": 0.0}  # fmt: skip
    negatives = 0
    with one_blas_thread:
        G = H @ H.T
        pivots = _Pivots(G)
        work: dict[str, np.ndarray] = {}
        # at most a quarter of the cube per block: small cubes stay under 3x memory
        step = min(BLOCK, max(4096, -(-n // 4)))
        for lo in range(0, n, step):
            hi = min(lo + step, n)
            B, x2, neg = _rhs(flat[:, lo:hi], H, work)
            negatives += neg
            good = np.isfinite(x2)  # a NaN or inf anywhere in x reaches ||x||²
            if not good.all():  # (and b, unless ||x||² overflowed)
                good = np.isfinite(B).all(axis=0)
            if skip is not None:
                good &= ~skip[lo:hi]
            idx = slice(lo, hi)
            if not good.all():
                B, x2 = B[:, good], x2[good]
                idx = np.flatnonzero(good) + lo
                if flat.dtype.kind not in "ub":  # the negatives of the used pixels only
                    negatives -= neg - int(np.count_nonzero(flat[:, idx] < 0))
            if B.shape[1] == 0:
                continue
            Wt, info = _bpp(G, B, 10 * k + 50, pivots=pivots)
            r2, grad = _residual_gram(G, B, Wt, x2)
            small = np.flatnonzero(r2 < EXACT_BELOW * x2)
            if small.size:
                cols = np.arange(lo, hi) if isinstance(idx, slice) else idx
                r2[small] = _residual_exact(flat, cols[small], H, Wt[:, small])
                stats["exact_residuals"] += int(small.size)
            np.maximum(r2, 0.0, out=r2)
            W[:, idx] = Wt
            res[idx] = np.sqrt(r2)
            stats["kkt_violation"] = max(stats["kkt_violation"], _kkt_from(grad, B, Wt, G))
            stats["max_abundance"] = max(stats["max_abundance"], float(Wt.max()))
            stats["sum_r2"] += float(r2.sum())
            stats["sum_x2"] += float(x2.sum())
            stats["n_pixels"] += int(Wt.shape[1])
            stats["rounds"] = max(stats["rounds"], info["rounds"])
            stats["unconverged"] += info["unconverged"]
    if stats["n_pixels"]:
        stats["negative_fraction"] = negatives / (stats["n_pixels"] * C)
    return W.reshape(k, ny, nx), res.reshape(ny, nx), stats


#: pixels per slice of the cube converted to float64 at a time (stays in cache)
SLAB = 8192
#: residuals below this fraction of ``||x||²`` are recomputed from the pixel: the Gram
#: form's rounding (~1e-14 of ``||x||²``) stays below 1e-8 of the residual norm
EXACT_BELOW = 1e-6


def _rhs(
    X: np.ndarray, H: np.ndarray, work: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, int]:
    """``H X`` (k × m), ``||x||²`` per column (float64) and the count of negative values of a
    C × m slice of the cube, reading it once in cache-sized slabs.

    ``work`` keeps the slab buffers between calls: a fresh multi-megabyte array per slab
    comes from the kernel page by page, which costs more than the conversion itself.
    """
    C, m = X.shape
    B = np.empty((H.shape[0], m))
    x2 = np.empty(m)
    negatives = 0
    signed = X.dtype.kind not in "ub"
    for lo in range(0, m, SLAB):
        part = slice(lo, min(lo + SLAB, m))
        width = part.stop - lo
        if X.dtype == np.float64:
            Xs = X[:, part]
        else:
            if "slab" not in work:  # (the first block is the widest)
                work["slab"] = np.empty((C, min(SLAB, m)))
            Xs = work["slab"][:, :width]
            np.copyto(Xs, X[:, part], casting="unsafe")
        np.matmul(H, Xs, out=B[:, part])
        np.einsum("cm,cm->m", Xs, Xs, out=x2[part])
        if signed:
            if "negative" not in work:
                work["negative"] = np.empty((C, min(SLAB, m)), dtype=bool)
            neg = work["negative"][:, :width]
            negatives += int(np.count_nonzero(np.less(X[:, part], 0, out=neg)))
    return B, x2, negatives


def _residual_gram(
    G: np.ndarray, B: np.ndarray, Wt: np.ndarray, x2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Squared residual norms ``||x||² − 2 wᵀb + wᵀGw`` and the gradient ``G W − B``."""
    grad = G @ Wt
    r2 = np.einsum("km,km->m", Wt, grad)  # wᵀGw
    r2 -= 2.0 * np.einsum("km,km->m", Wt, B)
    r2 += x2
    grad -= B
    return r2, grad


def _residual_exact(flat: np.ndarray, cols: np.ndarray, H: np.ndarray, Wt: np.ndarray):
    """``||x − wH||²`` of the pixels ``cols`` of a C × n cube, from the pixels themselves."""
    out = np.empty(cols.size)
    for lo in range(0, cols.size, SLAB):
        part = slice(lo, lo + SLAB)
        R = flat[:, cols[part]].astype(np.float64)
        R -= H.T @ Wt[:, part]
        np.einsum("cm,cm->m", R, R, out=out[part])
    return out


def _kkt_from(grad: np.ndarray, B: np.ndarray, Wt: np.ndarray, G: np.ndarray) -> float:
    """Relative KKT violation from a precomputed gradient ``G W − B``: the largest of
    ``max(−W, 0) · max|G|``, ``max(−gradient, 0)`` and ``max|W · gradient| / max|W|``,
    over ``max|B|`` (min / max reductions, no temporaries but ``W · gradient``)."""
    tiny = np.finfo(float).tiny

    def lo_hi(a: np.ndarray) -> tuple[float, float]:
        return float(a.min(initial=0.0)), float(a.max(initial=0.0))

    (b_lo, b_hi), (w_lo, w_hi), (g_lo, g_hi) = lo_hi(B), lo_hi(Wt), lo_hi(G)
    p_lo, p_hi = lo_hi(Wt * grad)
    wmax = max(w_hi, -w_lo, tiny)
    v = max(
        max(0.0, -w_lo) * max(g_hi, -g_lo, tiny),
        max(0.0, -float(grad.min(initial=0.0))),
        max(p_hi, -p_lo) / wmax,
    )
    return v / max(b_hi, -b_lo, tiny)


def _nnls_block(block: np.ndarray, H: np.ndarray) -> np.ndarray:
    """W maps and residual map of one C × y × x block, stacked (NaN pixels give NaN)."""
    W, res, _ = nnls_cube(block, H)
    return np.concatenate([W, res[None]])


def nnls_maps(cube, H: np.ndarray, /):
    """Abundance maps and residual map of a C × Y × X cube, numpy or dask (lazy).

    Parameters
    ----------
    cube : (C, Y, X) numpy or dask array
        NaN pixels are skipped (NaN in the outputs).
    H : (k, C) array
        Fixed spectra.

    Returns
    -------
    W : (k, Y, X) float32 array (dask when ``cube`` is dask)
    residual : (Y, X) float32 array, the per-pixel residual norm ``||x - w H||``.

    Examples
    --------
    >>> import dask.array as da
    >>> cube = np.stack([np.ones((4, 4)), 2 * np.ones((4, 4))])
    >>> W, res = nnls_maps(da.from_array(cube, chunks=(2, 2, 2)), np.eye(2))
    >>> type(W).__name__, W.compute()[:, 0, 0].tolist()
    ('Array', [1.0, 2.0])
    """
    H = np.asarray(H, dtype=np.float64)
    if getattr(cube, "ndim", 0) != 3 or cube.shape[0] != H.shape[1]:
        raise ValueError(
            f"expected a C x Y x X cube with C = {H.shape[1]} channels (the length of the "
            f"spectra), got {getattr(cube, 'shape', None)}"
        )
    k = H.shape[0]
    if is_dask_collection(cube):
        import dask.array as da

        cube = cube.rechunk({0: -1})
        out = da.map_blocks(
            _nnls_block,
            cube,
            H,
            dtype=np.float32,
            chunks=((k + 1,), *cube.chunks[1:]),
        )
        return out[:k], out[k]
    W, res, _ = nnls_cube(np.asarray(cube), H)
    return W, res
