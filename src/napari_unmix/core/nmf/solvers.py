"""NNMF block updates (HALS, exact NNLS blocks, multiplicative) and the :data:`SOLVERS` registry.

Every update has the signature ``update(A, P, Q, free, l1, eps, max_sweeps)``: it changes
the free columns of ``A`` in place to lower ``½||X − A B||² + l1 ΣA`` given the products
``P = X Bᵀ`` and ``Q = B Bᵀ`` of the fixed factor ``B``; the fit applies it to W and (by
transposition) to H. :class:`_Extrapolation` pushes the iterates along their last step.

A HALS sweep is one call of scikit-learn's compiled coordinate-descent sweep
(``sklearn.decomposition._cdnmf_fast._update_cdnmf_fast``, private: checked on
scikit-learn 1.9, and against the numpy sweep on first use) when it is there, else
:func:`_cd_sweep_numpy`, the same maths with a few numpy calls per component.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .._bpp import _bpp
from ..registry import Method, Registry

__all__ = ["SOLVERS", "SWITCH_TO"]

Arr = np.ndarray

#: accelerated HALS repeats a sweep while its projected-gradient violation is above this
#: fraction of the first sweep's (chosen on ``benchmarks/bench_hs_goals.py``'s scenes: 0.1
#: ends two of them at a worse stationary point than scikit-learn's)
SWEEP_STOP = 0.03


def _sweep_order(free: Arr, Q: Arr, eps: float) -> Arr:
    """The columns a HALS sweep updates, as scikit-learn's sweep takes them: ``k`` indices.

    The free columns with ``Q_jj > eps`` (a zero row of ``B`` leaves its column as it is),
    then the last of them repeated up to ``k`` entries: a column updated again right after
    its exact update does not move (its gradient is zero where it is positive and
    non-negative where it is zero), so the repeats change nothing and add no violation.
    Empty when no column can move.
    """
    diag = Q.diagonal().tolist()  # k is small: plain Python is cheaper than numpy calls
    order = [j for j, f in enumerate(free.tolist()) if f and diag[j] > eps]
    if order:
        order += [order[-1]] * (len(diag) - len(order))
    return np.array(order, dtype=np.intp)


def _cd_sweep_numpy(A: Arr, P: Arr, Q: Arr, order: Arr) -> float:
    """One HALS sweep over the columns ``order`` of ``A`` (in place) with numpy.

    Column ``j`` becomes ``max(0, A_j − G_j / Q_jj)`` with the gradient
    ``G_j = A Q_j − P_j`` taken with the columns updated so far: the exact minimiser of
    ``½||X − A B||²`` over that column given the others (``P = X Bᵀ``, ``Q = B Bᵀ``).
    Returns the sweep's projected-gradient violation ``Σ|G_ij|`` (``min(G_ij, 0)`` where
    ``A_ij = 0``): the maths and return value of scikit-learn's compiled sweep.
    """
    grad = np.empty(A.shape[0])
    step = np.empty(A.shape[0])
    violation = 0.0
    for j in order:
        np.dot(A, Q[j], out=grad)  # Q is symmetric: row j = column j
        grad -= P[:, j]
        np.minimum(grad, 0.0, out=step)
        np.copyto(step, grad, where=A[:, j] != 0)
        violation += float(np.abs(step).sum())
        if Q[j, j] != 0:
            np.divide(grad, Q[j, j], out=step)
            np.subtract(A[:, j], step, out=step)
            np.maximum(step, 0.0, out=A[:, j])
    return violation


def _agrees(compiled: Callable) -> bool:
    """``compiled`` gives the numpy sweep's result on a small problem (a locked column and
    repeats included); else (another signature or meaning in some scikit-learn version)
    the numpy sweep is used."""
    rng = np.random.default_rng(0)
    A, B = rng.random((7, 3)), rng.random((3, 5))
    P, Q = rng.random((7, 5)) @ B.T, B @ B.T
    order = _sweep_order(np.array([True, False, True]), Q, 0.0)
    A1, A2 = A.copy(), A.copy()
    try:
        v1 = float(compiled(A1, Q, P, order))
    except (TypeError, ValueError):  # pragma: no cover - another signature
        return False
    v2 = _cd_sweep_numpy(A2, P, Q, order)
    return bool(np.allclose(A1, A2, rtol=1e-12, atol=1e-14) and np.isclose(v1, v2, rtol=1e-12))


@functools.cache
def _compiled_sweep() -> Callable | None:
    """scikit-learn's compiled coordinate-descent sweep, imported on first use (importing
    scikit-learn takes a second), when it is there and agrees with :func:`_cd_sweep_numpy`.

    ``sklearn.decomposition._cdnmf_fast._update_cdnmf_fast(W, HHt, XHt, permutation)`` is
    private API (checked on scikit-learn 1.9): it loops over ``k`` permutation entries, hence
    :func:`_sweep_order`'s padding.
    """
    try:
        from sklearn.decomposition._cdnmf_fast import _update_cdnmf_fast
    except ImportError:  # pragma: no cover - a scikit-learn without it: the numpy sweep
        return None
    return _update_cdnmf_fast if _agrees(_update_cdnmf_fast) else None


def _cd_sweep(A: Arr, P: Arr, Q: Arr, order: Arr) -> float:
    """One HALS sweep (see :func:`_cd_sweep_numpy`), compiled when scikit-learn has it.

    scikit-learn's sweep is one call per sweep instead of a few numpy calls per
    component (what a sweep costs on small images). ``A``, ``P`` and ``Q`` are
    C-contiguous float64 and ``order`` holds ``k`` indices (:func:`_sweep_order`).
    """
    compiled = _compiled_sweep()
    if compiled is None:
        return _cd_sweep_numpy(A, P, Q, order)
    return float(compiled(A, Q, P, order))


def _hals_columns(A: Arr, P: Arr, Q: Arr, free: Arr, l1: float, eps: float, max_sweeps: int = 1):
    """Accelerated HALS (Gillis & Glineur, 2012): repeat sweeps while they pay off.

    Lowers ``½||X − A B||² + l1 ΣA`` over the free columns of ``A`` (in place) given
    ``P = X Bᵀ`` and ``Q = B Bᵀ``; the L1 weight enters as a shift of ``P``. The products
    are the expensive part; a sweep with them costs far less, so up to ``max_sweeps``
    sweeps run while a sweep's projected-gradient violation is still more than a fraction of the
    first sweep's (:data:`SWEEP_STOP`). Every sweep lowers the objective.
    """
    order = _sweep_order(free, Q, eps)
    if order.size == 0:
        return
    P = np.subtract(P, l1, order="C") if l1 else np.ascontiguousarray(P)
    Q = np.ascontiguousarray(Q)
    # the sweep works on rows: a C-contiguous A (a copy written back otherwise)
    C = A if A.flags.c_contiguous else np.ascontiguousarray(A)
    first = _cd_sweep(C, P, Q, order)
    for _ in range(max_sweeps - 1):
        if _cd_sweep(C, P, Q, order) <= SWEEP_STOP * first:
            break
    if C is not A:
        A[...] = C


def _mu_columns(A: Arr, P: Arr, Q: Arr, free: Arr, l1: float, eps: float, max_sweeps: int = 1):
    """Multiplicative update of the free columns of ``A`` (Lee & Seung, with L1)."""
    if not free.any():
        return
    num = np.maximum(P[:, free], 0.0)
    den = A @ Q[:, free] + l1
    A[:, free] *= num / np.maximum(den, eps)


def _anls_columns(A: Arr, P: Arr, Q: Arr, free: Arr, l1: float, eps: float, max_sweeps: int = 1):
    """Exact update of the free columns of ``A`` by block principal pivoting NNLS.

    Minimises ``½||X − A B||² + l1 ΣA`` over the free columns with the locked ones fixed:
    ``min ½ aᵀ Q_FF a − (P_F − A_L Q_LF − l1)ᵀ a`` for every row, ``a >= 0``.
    """
    f = np.flatnonzero(free)
    if f.size == 0:
        return
    rhs = P[:, f].T.copy()
    locked = np.flatnonzero(~free)
    if locked.size:
        rhs -= Q[np.ix_(f, locked)] @ A[:, locked].T
    if l1:
        rhs -= l1
    Af, _ = _bpp(Q[np.ix_(f, f)], rhs, 10 * f.size + 50, passive0=A[:, f].T > 0)
    A[:, f] = Af.T


#: solver name -> block update (``Method.function``), label, doc
SOLVERS = Registry(
    "solver",
    [
        Method(
            "auto",
            _hals_columns,
            "automatic (HALS, exact blocks when slow)",
            "Extrapolated HALS while it converges fast; alternating exact NNLS once the "
            "objective's decrease slows to a crawl (similar spectra, ill-conditioned blocks).",
        ),
        Method(
            "anls",
            _anls_columns,
            "alternating NNLS (exact blocks)",
            "Alternating exact non-negative least squares (block principal pivoting): every "
            "update is the exact minimiser of its block; fewest iterations, best with similar "
            "spectra.",
        ),
        Method(
            "hals",
            _hals_columns,
            "HALS (accelerated)",
            "Hierarchical alternating least squares: exact per-component updates, repeated "
            "while cheap (Gillis & Glineur).",
        ),
        Method(
            "mu",
            _mu_columns,
            "multiplicative updates",
            "Lee & Seung multiplicative updates; slow, keeps zeros at zero.",
        ),
    ],
)

#: solvers that turn to another update once progress slows (``"auto"``: exact blocks)
SWITCH_TO: dict[str, Callable] = {"auto": _anls_columns}


class _Extrapolation:
    """Heuristic extrapolation with restarts (Ang & Gillis, 2019) for block updates.

    After each block update the iterate is pushed along its last step,
    ``Y = max(0, A + β (A − A_prev))``; ``β`` grows by 5 % while the objective falls and
    is cut (and the push undone) when it rises, so a run never ends worse than the plain
    updates would. Locked blocks do not move, so they are never pushed.
    """

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.beta, self.beta_cap = 0.5, 1.0
        self.last = np.inf

    def step(self, A: np.ndarray, A_prev: np.ndarray) -> np.ndarray:
        """The pushed point ``max(0, A + β (A − A_prev))``, written over ``A_prev``."""
        if not self.enabled:
            return A
        Y = np.subtract(A, A_prev, out=A_prev)
        Y *= self.beta
        Y += A
        return np.maximum(Y, 0.0, out=Y)

    def accept(self, value: float) -> bool:
        """Record the objective at the pushed point; True = restart from the plain update."""
        if not self.enabled:
            return False
        restart = value > self.last
        if restart:
            self.beta_cap = self.beta
            self.beta /= 1.5
        else:
            self.beta = min(self.beta_cap, 1.05 * self.beta)
            self.beta_cap = min(1.0, 1.01 * self.beta_cap)
            self.last = value
        return restart
