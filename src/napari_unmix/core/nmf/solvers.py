"""NNMF block updates (HALS, exact NNLS blocks, multiplicative) and the :data:`SOLVERS` registry.

Every update has the signature ``update(A, P, Q, free, l1, eps, max_sweeps)``: it changes
the free columns of ``A`` in place to lower ``½||X − A B||² + l1 ΣA`` given the products
``P = X Bᵀ`` and ``Q = B Bᵀ`` of the fixed factor ``B``; the fit applies it to W and (by
transposition) to H. :class:`_Extrapolation` pushes the iterates along their last step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..nnls import _bpp
from ..registry import Method, Registry

__all__ = ["SOLVERS", "SWITCH_TO"]

Arr = np.ndarray


def _hals_sweep(A: Arr, P: Arr, Q: Arr, free: Arr, l1: float, eps: float) -> float:
    """One HALS sweep over the free columns of ``A`` (in place); returns ``||ΔA||²``.

    ``P = X Bᵀ`` and ``Q = B Bᵀ`` for the fixed factor ``B``; column ``j`` becomes
    ``max(0, A_j + (P_j − A Q_j − l1) / Q_jj)``, the exact minimiser of
    ``½||X − A B||² + l1 ΣA`` over that column given the others.
    """
    col = np.empty(A.shape[0])
    change = 0.0
    for j in np.flatnonzero(free):
        if Q[j, j] <= eps:
            continue
        np.dot(A, Q[:, j], out=col)  # A Q_j with the columns updated so far
        np.subtract(P[:, j], col, out=col)
        if l1:
            col -= l1
        col /= Q[j, j]
        change += float(np.dot(col, col))  # upper bound of the step before clipping
        col += A[:, j]
        np.maximum(col, 0.0, out=A[:, j])
    return change


def _hals_columns(A: Arr, P: Arr, Q: Arr, free: Arr, l1: float, eps: float, max_sweeps: int = 1):
    """Accelerated HALS (Gillis & Glineur, 2012): repeat sweeps while they pay off.

    The products ``P`` and ``Q`` are the expensive part; a sweep with them costs far less,
    so up to ``max_sweeps`` sweeps run while a sweep still changes ``A`` by more than
    10 % of the first sweep's change. Every sweep lowers the objective.
    """
    first = _hals_sweep(A, P, Q, free, l1, eps)
    for _ in range(max_sweeps - 1):
        if _hals_sweep(A, P, Q, free, l1, eps) <= 0.01 * first:  # ||Δ|| <= 0.1 ||Δ_1||
            break


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
        if not self.enabled:
            return A
        Y = A - A_prev
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
