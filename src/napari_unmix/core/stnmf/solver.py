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
check that both give the same modules. The products, the update and the initialisations
are in :mod:`.updates`, the options in :mod:`.options`.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> v = rng.standard_normal((25, 400)).astype(np.float32)
>>> res = sparse_seminmf(v, 4, num_iter=5)
>>> res.modules.shape, res.weights.shape, bool(res.modules.min() >= 0)
((25, 4), (4, 400), True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..progress import Progress, Steps, run_form
from .options import StnmfOptions
from .updates import (
    FORMULATIONS,
    INITS,
    THREADPOOLS,
    afhals,
    gram,
    reference_rho,
    residual_from_products,
    solve_weights,
)

__all__ = [
    "RelativeChange",
    "SemiNMFResult",
    "init_modules",
    "iter_sparse_seminmf",
    "sparse_seminmf",
]

Callback = Callable[[int, float, np.ndarray], Any]
_O = StnmfOptions


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


def init_modules(
    g: np.ndarray,
    r: int,
    /,
    *,
    init: str | np.ndarray = _O.init,
    m: int,
    sparsity: float = _O.sparsity,
    random_state: int | np.random.Generator | None = _O.seed,
    dtype: str = _O.dtype,
    alpha: float = _O.alpha,
    eps: float = _O.eps,
    blas_threads: int | None = _O.blas_threads,
) -> np.ndarray:
    """Initial non-negative modules (n × r) from the Gram matrix ``g`` of the ensemble.

    ``init`` names an entry of :data:`~napari_unmix.core.stnmf.updates.INITS` or is an
    n × r array.
    """
    with THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
        return _init_modules(g, r, init, m, sparsity, random_state, dtype, alpha, eps)


def _init_modules(g, r, init, m, sparsity, random_state, dtype, alpha, eps):
    n = g.shape[0]
    if isinstance(init, str):
        make = INITS.resolve(init).function
        rng = np.random.default_rng(random_state)
        w = make(g, r, m=m, sparsity=sparsity, rng=rng, dtype=dtype, alpha=alpha, eps=eps)
    else:
        w = np.array(init, dtype=dtype)
        if w.shape != (n, r):
            raise ValueError(f"expected initial modules of shape {(n, r)}, got {w.shape=}")
        np.nan_to_num(w, copy=False, nan=1e-16)
        w[:, w.sum(axis=0) == 0] = 1e-16
    np.maximum(w, 0, out=w)
    return w


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
    init: str | np.ndarray = _O.init,
    sparsity: float = _O.sparsity,
    num_iter: int = _O.num_iter,
    random_state: int | np.random.Generator | None = _O.seed,
    dtype: str = _O.dtype,
    formulation: str = _O.formulation,
    callbacks: Sequence[Callback] | Callback | None = None,
    alpha: float = _O.alpha,
    eps: float = _O.eps,
    g: np.ndarray | None = None,
    blas_threads: int | None = _O.blas_threads,
) -> Steps:
    """Generator form of :func:`sparse_seminmf`: yields one
    :class:`~napari_unmix.core.progress.Progress` per iteration.

    Event ``done`` is the iteration (0: the initialisation) of ``total = num_iter``, its
    ``partial`` the residual ``‖V − W H‖`` then. The generator returns the
    :class:`SemiNMFResult` (:func:`sparse_seminmf` and
    :func:`~napari_unmix.core.progress.run` unwrap it). A callback
    ``cb(iteration, residual, modules)`` returning ``False`` stops the run. ``g`` may pass
    a precomputed Gram matrix ``V Vᵀ``. ``blas_threads`` caps BLAS threads (the
    per-iteration products are small: on a shared machine one thread is fastest);
    ``None`` leaves the BLAS setting alone.
    """
    picked = {k: val for k, val in locals().items() if k not in ("init", "random_state")}
    StnmfOptions.pick(picked)  # validates r, sparsity, num_iter, dtype, formulation, ...
    v = _check_v(v, r)
    v = v.astype(dtype, copy=False)
    n, m = v.shape
    if g is None:
        g = gram(v, blas_threads=blas_threads)
    trace_g = float(np.trace(g.astype(np.float64)))
    w = init_modules(
        g, r, init=init, m=m, sparsity=sparsity, random_state=random_state, dtype=dtype,
        alpha=alpha, eps=eps, blas_threads=blas_threads,
    )  # fmt: skip
    products = FORMULATIONS.resolve(formulation).function
    operand = g if formulation == "gram" else v
    callbacks = [callbacks] if callable(callbacks) else list(callbacks or [])
    rho = reference_rho(n, m, r)
    history: list[float] = []
    stopped_by = None
    it = 0
    while True:
        with THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
            vht, hht = products(operand, w)
            res = residual_from_products(trace_g, w, vht, hht)
        history.append(res)
        yield Progress(it, num_iter, f"iteration {it}, residual {res:.4g}", res)
        for cb in callbacks:
            if cb(it, res, w) is False:
                stopped_by = getattr(cb, "__name__", type(cb).__name__)
        if stopped_by is not None or it >= num_iter:
            break
        with THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
            afhals(vht, hht, w, rho=rho, alpha=alpha, eps=eps, sparsity=sparsity)
        it += 1
    with THREADPOOLS.limit(limits=blas_threads, user_api="blas"):
        weights = solve_weights(v, w)
    return SemiNMFResult(w, weights, history[-1], it, history, stopped_by)


sparse_seminmf = run_form(
    iter_sparse_seminmf,
    "sparse_seminmf",
    """Sparse semi-NMF ``V ≈ W₊ H`` by AF-HALS (:func:`iter_sparse_seminmf` run to its end).

    Parameters
    ----------
    v : (n, m) array
        Stixels × spikes (no NaN).
    r : int
        Number of modules (>= 2, <= n and m).
    init : {"nnsvdlrc", "random"} or (n, r) array
        Initial modules.
    sparsity : float
        L1 weight on the modules.
    num_iter : int
        AF-HALS iterations.
    random_state : int, Generator or None
        Seed of the random init.
    dtype, formulation, alpha, eps, blas_threads
        Precision; "gram" or "direct" products; the AF-HALS inner-sweep rule; BLAS
        threads (see :class:`~napari_unmix.core.stnmf.options.StnmfOptions`).
    callbacks : callable or list, optional
        ``cb(iteration, residual, modules)``; returning ``False`` stops.
    g : (n, n) array, optional
        A precomputed Gram matrix ``V Vᵀ``.

    Returns
    -------
    SemiNMFResult

    Examples
    --------
    >>> v = np.random.default_rng(1).standard_normal((16, 200))
    >>> sparse_seminmf(v, 3, num_iter=2).n_iter
    2
    """,
    returns=SemiNMFResult,
)
