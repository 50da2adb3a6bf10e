"""Sparse semi-NMF of a spike-triggered stimulus ensemble (STNMF), through its Gram matrix.

The ensemble ``V`` (n stixels × m spikes) is factorised as ``V ≈ W H`` with non-negative,
L1-sparse modules ``W`` (n × r) and unconstrained weights ``H`` (r × m). Every iteration
updates ``W`` by accelerated fast HALS (AF-HALS) and sets ``H`` to the least-squares
weights ``(WᵀW)⁻¹WᵀV`` with unit-norm rows, as in the ``stnmf`` package.

Because ``H`` is a linear function of ``V``, every quantity an iteration needs can be
written through the n × n Gram matrix ``G = V Vᵀ``, computed once:

* ``P = (WᵀW)⁻¹Wᵀ`` (r × n, a small Cholesky solve), ``H₀ = P V``;
* ``H₀H₀ᵀ = P G Pᵀ``, row norms ``d = sqrt(diag(P G Pᵀ))``, ``H = D⁻¹H₀``;
* ``V Hᵀ = G Pᵀ D⁻¹`` and ``H Hᵀ = D⁻¹ P G Pᵀ D⁻¹``;
* ``‖V − W H‖²_F = tr G − 2 tr(Wᵀ V Hᵀ) + tr(WᵀW H Hᵀ)``.

An iteration then costs ``O(n² r)`` instead of ``O(n m r)``: it does not grow with the
number of spikes. The per-spike weights are formed once, at the end. The direct
formulation (``formulation="direct"``) does the same arithmetic on ``V`` itself; tests
check that both give the same modules.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> v = rng.standard_normal((25, 400)).astype(np.float32)
>>> res = sparse_seminmf(v, 4, num_iter=5)
>>> res.modules.shape, res.weights.shape, bool(res.modules.min() >= 0)
((25, 4), (4, 400), True)
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
from threadpoolctl import ThreadpoolController

__all__ = [
    "FORMULATIONS",
    "INITS",
    "SETTINGS",
    "RelativeChange",
    "SemiNMFResult",
    "afhals",
    "gram",
    "init_modules",
    "iter_sparse_seminmf",
    "products_direct",
    "products_gram",
    "reference_rho",
    "residual_from_products",
    "solve_weights",
    "sparse_seminmf",
]

Callback = Callable[[int, float, np.ndarray], Any]
_THREADPOOLS = ThreadpoolController()


@dataclass
class SemiNMFResult:
    """Outcome of :func:`sparse_seminmf`.

    Attributes
    ----------
    modules : (n, r) ndarray
        Non-negative spatial modules (columns).
    weights : (r, m) ndarray
        Per-spike weights, rows of unit norm.
    residual : float
        Frobenius norm ``‖V − W H‖``.
    n_iter : int
        Iterations run (updates of the modules).
    history : list of float
        Residual after initialisation and after every iteration.
    stopped_by : str or None
        Name of the callback that stopped the run early, else None.
    """

    modules: np.ndarray
    weights: np.ndarray
    residual: float
    n_iter: int
    history: list[float] = field(default_factory=list)
    stopped_by: str | None = None


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
    with _THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
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


FORMULATIONS: dict[str, dict[str, Any]] = {
    "gram": {
        "label": "Gram matrix V Vᵀ (cost per iteration independent of m)",
        "products": products_gram,
    },
    "direct": {
        "label": "direct products with V (as the stnmf package)",
        "products": products_direct,
    },
}


#: Named settings of the factorisation. "recovery" (the default of the dock, the CLI and
#: :func:`~napari_unmix.api.stnmf.stnmf_cells`) was chosen on the model-cell table of
#: ``benchmarks/bench_stnmf.py`` (``core/scenarios/stnmf.py``): smoothing every frame by
#: half a stixel and a sparsity in units of the ensemble's SD recover 2-3x the subunits of
#: "reference" (the ``stnmf`` package's defaults) at 20,000 spikes.
SETTINGS: dict[str, dict[str, Any]] = {
    "recovery": {
        "label": "recovery: frames smoothed by 0.5 stixel, sparsity in noise SDs",
        "smoothing": 0.5,
        "sparsity": 4.0,
        "normalize": True,
        "min_weight_z": 10.0,
        "min_weight_ratio": 0.3,
    },
    "reference": {
        "label": "reference: as the stnmf package (no smoothing, sparsity 1.7 absolute)",
        "smoothing": 0.0,
        "sparsity": 1.7,
        "normalize": False,
        "min_weight_z": 0.0,
        "min_weight_ratio": 0.0,
    },
}


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
    alpha: float = 0.5,
    eps: float = 0.1,
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


INITS: dict[str, dict[str, Any]] = {
    "nnsvdlrc": {
        "label": "NNSVD with low-rank correction (deterministic)",
        "function": _init_nnsvdlrc,
    },
    "random": {"label": "uniform random (seeded by random_state)", "function": _init_random},
}


def init_modules(
    g: np.ndarray,
    r: int,
    /,
    *,
    init: str | np.ndarray = "nnsvdlrc",
    m: int,
    sparsity: float = 1.7,
    random_state: int | np.random.Generator | None = 0,
    dtype: str = "float32",
    alpha: float = 0.5,
    eps: float = 0.1,
    blas_threads: int | None = 1,
) -> np.ndarray:
    """Initial non-negative modules (n × r) from the Gram matrix ``g`` of the ensemble."""
    with _THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
        return _init_modules(g, r, init, m, sparsity, random_state, dtype, alpha, eps)


def _init_modules(g, r, init, m, sparsity, random_state, dtype, alpha, eps):
    n = g.shape[0]
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {sorted(INITS)} or an array")
        rng = np.random.default_rng(random_state)
        w = INITS[init]["function"](
            g, r, m=m, sparsity=sparsity, rng=rng, dtype=dtype, alpha=alpha, eps=eps
        )
    else:
        w = np.array(init, dtype=dtype)
        if w.shape != (n, r):
            raise ValueError(f"expected initial modules of shape {(n, r)}, got {w.shape=}")
        np.nan_to_num(w, copy=False, nan=1e-16)
        w[:, w.sum(axis=0) == 0] = 1e-16
    np.maximum(w, 0, out=w)
    return w


# ----------------------------------------------------------------------------- solver
class RelativeChange:
    """Stopping callback: stop when the residual changes by less than ``tol`` (relative).

    Examples
    --------
    >>> stop = RelativeChange(1e-3)
    >>> stop(0, 10.0, None), stop(1, 9.0, None), stop(2, 8.9999, None)
    (True, True, False)
    """

    def __init__(self, tol: float = 1e-4):
        self.tol = tol
        self._last: float | None = None

    def __call__(self, iteration: int, residual: float, modules: Any) -> bool:
        last, self._last = self._last, residual
        return last is None or abs(last - residual) > self.tol * max(abs(last), 1e-30)


def _check_v(v: Any, r: int) -> np.ndarray:
    v = np.asarray(v)
    if v.ndim != 2:
        raise ValueError(f"expected a 2-D stixels × spikes matrix, got {v.shape=}")
    n, m = v.shape
    if r < 2:
        raise ValueError(f"r must be at least 2, got {r=}")
    if m < r or n < r:
        raise ValueError(
            f"need at least r={r} spikes and stixels, got {v.shape=} (n stixels, m spikes); "
            "lower r or record more spikes"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError("V contains NaN or inf; drop those stixels first (STNMF does)")
    return v


def iter_sparse_seminmf(
    v: np.ndarray,
    r: int,
    /,
    *,
    init: str | np.ndarray = "nnsvdlrc",
    sparsity: float = 1.7,
    num_iter: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    dtype: str = "float32",
    formulation: str = "gram",
    callbacks: Sequence[Callback] | Callback | None = None,
    alpha: float = 0.5,
    eps: float = 0.1,
    g: np.ndarray | None = None,
    blas_threads: int | None = 1,
) -> Generator[tuple[int, float], None, SemiNMFResult]:
    """Generator form of :func:`sparse_seminmf`: yields ``(iteration, residual)``.

    Iteration 0 is the initialisation. The generator returns the
    :class:`SemiNMFResult` (``StopIteration.value``; :func:`sparse_seminmf` unwraps it).
    A callback ``cb(iteration, residual, modules)`` returning ``False`` stops the run.
    ``g`` may pass a precomputed Gram matrix ``V Vᵀ``. ``blas_threads`` caps BLAS threads
    (the per-iteration products are small: on a shared machine one thread is fastest);
    ``None`` leaves the BLAS setting alone.
    """
    v = _check_v(v, r)
    if formulation not in FORMULATIONS:
        raise ValueError(f"unknown formulation {formulation!r}; choose from {sorted(FORMULATIONS)}")
    if sparsity < 0 or num_iter < 0:
        raise ValueError(f"sparsity and num_iter must be >= 0, got {sparsity=}, {num_iter=}")
    v = v.astype(dtype, copy=False)
    n, m = v.shape
    if g is None:
        g = gram(v, blas_threads=blas_threads)
    trace_g = float(np.trace(g.astype(np.float64)))
    w = init_modules(
        g, r, init=init, m=m, sparsity=sparsity, random_state=random_state, dtype=dtype,
        alpha=alpha, eps=eps, blas_threads=blas_threads,
    )  # fmt: skip
    products = FORMULATIONS[formulation]["products"]
    operand = g if formulation == "gram" else v
    if callable(callbacks):
        callbacks = [callbacks]
    callbacks = list(callbacks or [])
    rho = reference_rho(n, m, r)
    history: list[float] = []
    stopped_by = None
    it = 0
    while True:
        with _THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
            vht, hht = products(operand, w)
            res = residual_from_products(trace_g, w, vht, hht)
        history.append(res)
        yield it, res
        for cb in callbacks:
            if cb(it, res, w) is False:
                stopped_by = getattr(cb, "__name__", type(cb).__name__)
        if stopped_by is not None or it >= num_iter:
            break
        with _THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
            afhals(vht, hht, w, rho=rho, alpha=alpha, eps=eps, sparsity=sparsity)
        it += 1
    with _THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
        weights = solve_weights(v, w)
    return SemiNMFResult(w, weights, history[-1], it, history, stopped_by)


def sparse_seminmf(v: np.ndarray, r: int, /, **kwargs: Any) -> SemiNMFResult:
    """Sparse semi-NMF ``V ≈ W₊ H`` by AF-HALS; see :func:`iter_sparse_seminmf` for options.

    Parameters
    ----------
    v : (n, m) array
        Stixels × spikes (no NaN).
    r : int
        Number of modules (>= 2, <= n and m).
    **kwargs
        ``init`` ("nnsvdlrc", "random" or an n × r array), ``sparsity`` (L1 weight on the
        modules), ``num_iter``, ``random_state``, ``dtype``, ``formulation`` ("gram" or
        "direct"), ``callbacks``, ``alpha``/``eps`` (AF-HALS inner-sweep rule).

    Returns
    -------
    SemiNMFResult

    Examples
    --------
    >>> v = np.random.default_rng(1).standard_normal((16, 200))
    >>> sparse_seminmf(v, 3, num_iter=2).n_iter
    2
    """
    return drain(iter_sparse_seminmf(v, r, **kwargs))


def drain(gen: Iterable) -> Any:
    """Run a generator to the end and return its return value."""
    it = iter(gen)
    while True:
        try:
            next(it)
        except StopIteration as stop:
            return stop.value
