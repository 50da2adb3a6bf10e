"""The products, the AF-HALS update and the initialisations of sparse semi-NMF (STNMF).

Everything an iteration of :func:`~napari_unmix.core.stnmf.solver.iter_sparse_seminmf`
needs, written through the Gram matrix ``G = V Vᵀ`` (see :mod:`.solver`), and the two
method lists: :data:`FORMULATIONS` (how an iteration forms ``V Hᵀ`` and ``H Hᵀ``) and
:data:`INITS` (how the modules start).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from threadpoolctl import ThreadpoolController

from ..registry import Method, Registry

__all__ = [
    "ALPHA",
    "EPS",
    "FORMULATIONS",
    "INITS",
    "THREADPOOLS",
    "afhals",
    "gram",
    "products_direct",
    "products_gram",
    "reference_rho",
    "residual_from_products",
    "solve_weights",
]

THREADPOOLS = ThreadpoolController()
ALPHA = 0.5  #: AF-HALS: inner sweeps at most ``int(1 + ALPHA * rho)``
EPS = 0.1  #: AF-HALS: inner sweeps stop below ``EPS`` times the first sweep's change


# ----------------------------------------------------------------------------- products
def gram(v: np.ndarray, /, *, blas_threads: int | None = 1) -> np.ndarray:
    """Gram matrix ``V Vᵀ`` (n × n) of an n × m matrix, in the dtype of ``v``.

    ``blas_threads`` caps the BLAS threads (one is fastest on a shared, busy machine;
    ``None`` keeps the BLAS default).

    Examples
    --------
    >>> gram(np.ones((2, 3), np.float32))
    array([[3., 3.],
           [3., 3.]], dtype=float32)
    """
    v = np.asarray(v)
    with THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
        return v @ v.T  # numpy uses a symmetric rank-k update (syrk) for A @ A.T


def _gram_pinv(w: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of ``WᵀW`` (r × r, float64) by an eigendecomposition.

    ``(WᵀW)⁺Wᵀ`` equals ``pinv(W)``; near-zero eigenvalues (modules that are zero or
    collinear) are cut as ``numpy.linalg.pinv`` cuts singular values.
    """
    w64 = w.astype(np.float64)
    evals, evecs = np.linalg.eigh(w64.T @ w64)
    cut = evals.max(initial=0.0) * w.shape[1] * np.finfo(w.dtype).eps
    inv = np.zeros_like(evals)
    keep = evals > cut
    inv[keep] = 1.0 / evals[keep]
    return (evecs * inv) @ evecs.T


def _normalise(vht: np.ndarray, hht: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(np.clip(np.diag(hht), np.finfo(np.float64).tiny, None))
    return vht / d.astype(vht.dtype), hht / np.outer(d, d)


def products_gram(g: np.ndarray, w: np.ndarray, /) -> tuple[np.ndarray, np.ndarray]:
    """``V Hᵀ`` (n × r) and ``H Hᵀ`` (r × r, float64) from the Gram matrix ``G = V Vᵀ``.

    ``H`` are the least-squares weights of modules ``w`` with unit-norm rows.
    """
    a_inv = _gram_pinv(w)
    gw = g @ w  # n × r: the only O(n² r) product of an iteration
    gp = gw @ a_inv.astype(w.dtype)  # G Pᵀ with P = (WᵀW)⁺Wᵀ
    wgw = w.T.astype(np.float64) @ gw.astype(np.float64)
    hht = a_inv @ wgw @ a_inv
    return _normalise(gp, (hht + hht.T) / 2)


def products_direct(v: np.ndarray, w: np.ndarray, /) -> tuple[np.ndarray, np.ndarray]:
    """Same as :func:`products_gram`, computed from ``V`` itself (``O(n m r)``)."""
    h = solve_weights(v, w)
    return v @ h.T, h.astype(np.float64) @ h.T.astype(np.float64)


def solve_weights(v: np.ndarray, w: np.ndarray, /) -> np.ndarray:
    """Least-squares weights ``(WᵀW)⁺WᵀV`` with unit-norm rows (r × m)."""
    p = (_gram_pinv(w) @ w.T.astype(np.float64)).astype(v.dtype)
    h = p @ v
    norms = np.linalg.norm(h, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return h / norms


def residual_from_products(
    trace_g: float, w: np.ndarray, vht: np.ndarray, hht: np.ndarray
) -> float:
    """``‖V − W H‖_F`` from ``tr(V Vᵀ)``, ``W``, ``V Hᵀ`` and ``H Hᵀ`` (no pass over V)."""
    w64 = w.astype(np.float64)
    cross = float(np.sum(w64 * vht))
    quad = float(np.sum((w64.T @ w64) * hht))
    return float(np.sqrt(max(trace_g - 2 * cross + quad, 0.0)))


FORMULATIONS = Registry(
    "formulation",
    [
        Method("gram", products_gram, "Gram matrix V Vᵀ", "cost per iteration independent of m"),
        Method("direct", products_direct, "direct products with V", "as the stnmf package"),
    ],
)


# ----------------------------------------------------------------------------- AF-HALS
def reference_rho(n: int, m: int, r: int) -> float:
    """Flop ratio ``1 + (m n + n r) / (m r + m)`` bounding the AF-HALS inner sweeps.

    This is the rule of Gillis & Glineur (2012) as the ``stnmf`` package applies it; the
    number of inner sweeps is ``int(1 + alpha * rho)``.

    Examples
    --------
    >>> round(reference_rho(400, 20000, 20), 2)
    20.07
    """
    return 1 + (m * n + n * r) / (m * r + m)


def afhals(
    vht: np.ndarray,
    hht: np.ndarray,
    w: np.ndarray,
    /,
    *,
    rho: float,
    alpha: float = ALPHA,
    eps: float = EPS,
    sparsity: float = 0.0,
) -> int:
    """Accelerated fast HALS update of non-negative ``w`` (n × r), in place.

    Column ``j`` becomes ``max(w_j + (VHᵀ)_j − W (HHᵀ)_j − sparsity, 0)``; sweeps over all
    columns repeat at most ``int(1 + alpha * rho)`` times and stop when a sweep changes
    ``w`` by less than ``eps`` times the first sweep's change. Returns the sweeps run.

    Examples
    --------
    >>> w = np.ones((3, 2), np.float32)
    >>> afhals(np.eye(3, 2, dtype=np.float32), np.eye(2), w, rho=4)
    2
    >>> w
    array([[1., 0.],
           [0., 1.],
           [0., 0.]], dtype=float32)
    """
    n, r = w.shape
    hht_w = hht.astype(w.dtype)
    max_sweeps = int(1 + alpha * rho)
    w_prev = w.copy()
    col = np.empty(n, dtype=w.dtype)
    start = np.empty_like(w)
    err0 = None
    sweeps = 0
    for sweep in range(max_sweeps):
        sweeps += 1
        np.add(w, vht, out=start)
        for j in range(r):
            np.matmul(w, hht_w[:, j], out=col)
            np.subtract(start[:, j], col, out=col)
            if sparsity > 0:
                col -= sparsity
            np.maximum(col, 0, out=col)
            w[:, j] = col
        change = float(np.linalg.norm(w - w_prev))
        if sweep == 0:
            err0 = eps * change
        elif change <= err0:
            break
        np.copyto(w_prev, w)
    np.nan_to_num(w, copy=False, nan=1e-16)
    w[:, w.sum(axis=0) == 0] = 1e-16
    return sweeps


# ----------------------------------------------------------------------------- init
def _init_random(g, r, *, rng, dtype, **_):
    return rng.random((r, g.shape[0]), dtype=np.float32).T.astype(dtype)


def _init_nnsvdlrc(g, r, *, m, sparsity, dtype, alpha, eps, **_):
    """NNSVD with low-rank correction, from the leading eigenvectors of ``G = V Vᵀ``."""
    n = g.shape[0]
    p = min(int((r + 1) / 2), n)
    evals, evecs = scipy.linalg.eigh(g.astype(np.float64), subset_by_index=[n - p, n - 1])
    order = np.argsort(evals)[::-1]
    s = np.sqrt(np.clip(evals[order], 0, None))
    w_p = evecs[:, order] * np.sqrt(s)  # u · sqrt(s), as the SVD-based init
    peak = np.abs(w_p).argmax(axis=0)
    w_p *= np.copysign(1.0, w_p[peak, np.arange(p)])
    w = np.zeros((n, r), dtype=dtype)
    w[:, ::2] = np.maximum(w_p, 0)
    w[:, 1::2] = np.maximum(-w_p[:, : r // 2], 0)
    w[:, w.sum(axis=0) == 0] = 1e-16
    # low-rank correction: one iteration on V_p = U_p S_p Q_pᵀ, whose Gram is U_p S_p² U_pᵀ
    u = evecs[:, order]
    g_p = ((u * s**2) @ u.T).astype(dtype)
    vht, hht = products_gram(g_p, w)
    afhals(vht, hht, w, rho=reference_rho(n, m, r), alpha=alpha, eps=eps, sparsity=sparsity)
    return w


INITS = Registry(
    "init",
    [
        Method(
            "nnsvdlrc",
            _init_nnsvdlrc,
            "NNSVD-LRC",
            "NNSVD with low-rank correction (deterministic)",
        ),
        Method("random", _init_random, "random", "uniform random (seeded by the seed)"),
    ],
)
