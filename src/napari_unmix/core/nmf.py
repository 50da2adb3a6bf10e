"""NNMF ``X ≈ W H`` with per-component locks: extrapolated HALS, exact alternating NNLS, MU.

``X`` is pixels × channels, ``W`` pixels × k (abundance maps), ``H`` k × channels
(spectra). The objective is ``½||X − W H||²_F + l1_W · ΣW``. A component may have its H row
locked (a known spectrum) or its W column locked (a fixed map, e.g. background) while the
other components are updated; the reported objective never increases.

The solver skeleton follows scikit-learn's ``_nmf.py``: an init function (seeds, NNDSVD or
random), one small update over precomputed products reused for W and H by transposition,
and a fit loop with a scale-free stop rule (:func:`stop_rule`: the objective's recent and
extrapolated remaining decrease relative to the objective, never the first iteration's
drop) that returns the iteration count and warns (``ConvergenceWarning``) at ``max_iter``.
Block updates are pushed along their last step with restarts (Ang & Gillis, 2019); the
default solver ``"auto"`` turns to exact block updates when progress slows.
:func:`iter_nmf` is the generator form (yields ``(iteration, objective)``, returns the
:class:`NMFFit`); :func:`fit_nmf` runs it to the end.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> W_true, H_true = rng.random((200, 3)), rng.random((3, 30))
>>> fit = fit_nmf(W_true @ H_true, W_true + 0.1, H_true + 0.1)
>>> fit.relative_error < 0.02
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .nnls import _bpp, one_blas_thread
from .validate import check_int

__all__ = [
    "DEFAULT_MAX_ITER",
    "DEFAULT_SOLVER",
    "DEFAULT_TOL",
    "SOLVERS",
    "STOP_WINDOW",
    "NMFFit",
    "fit_nmf",
    "iter_nmf",
    "nndsvd_init",
    "objective",
    "random_init",
    "run_to_end",
    "stop_rule",
]


@dataclass
class NMFFit:
    """Result of an NNMF fit on the pixels used (rows of ``X``)."""

    W: np.ndarray  #: pixels × k
    H: np.ndarray  #: k × channels
    n_iter: int
    converged: bool
    objective: float
    relative_error: float  #: ``||X − W H||_F / ||X||_F``
    history: list[float] = field(default_factory=list)  #: objective per iteration (0 = init)
    l1: float = 0.0  #: the absolute L1 weight used (``l1_W × mean ||H0_j||²``)


def objective(X: np.ndarray, W: np.ndarray, H: np.ndarray, *, l1_W: float = 0.0) -> float:
    """``½||X − W H||²_F + l1_W · ΣW``.

    Examples
    --------
    >>> objective(np.ones((2, 2)), np.ones((2, 1)), np.ones((1, 2)))
    0.0
    """
    R = np.asarray(X, dtype=np.float64) - np.asarray(W) @ np.asarray(H)
    return float(0.5 * np.vdot(R, R) + l1_W * np.sum(W))


def _hals_sweep(
    A: np.ndarray, P: np.ndarray, Q: np.ndarray, free: np.ndarray, l1: float, eps: float
) -> float:
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


def _hals_columns(
    A: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    free: np.ndarray,
    l1: float,
    eps: float,
    max_sweeps: int = 1,
) -> None:
    """Accelerated HALS (Gillis & Glineur, 2012): repeat sweeps while they pay off.

    The products ``P`` and ``Q`` are the expensive part; a sweep with them costs far less,
    so up to ``max_sweeps`` sweeps run while a sweep still changes ``A`` by more than
    10 % of the first sweep's change. Every sweep lowers the objective.
    """
    first = _hals_sweep(A, P, Q, free, l1, eps)
    for _ in range(max_sweeps - 1):
        if _hals_sweep(A, P, Q, free, l1, eps) <= 0.01 * first:  # ||Δ|| <= 0.1 ||Δ_1||
            break


def _mu_columns(
    A: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    free: np.ndarray,
    l1: float,
    eps: float,
    max_sweeps: int = 1,
) -> None:
    """Multiplicative update of the free columns of ``A`` (Lee & Seung, with L1)."""
    if not free.any():
        return
    num = np.maximum(P[:, free], 0.0)
    den = A @ Q[:, free] + l1
    A[:, free] *= num / np.maximum(den, eps)


def _anls_columns(
    A: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    free: np.ndarray,
    l1: float,
    eps: float,
    max_sweeps: int = 1,
) -> None:
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


#: solver name -> (column update, label, doc)
SOLVERS: dict[str, dict[str, Any]] = {
    "auto": {
        "update": _hals_columns,
        "switch_to": _anls_columns,
        "label": "automatic (HALS, exact blocks when slow)",
        "doc": "Extrapolated HALS while it converges fast; alternating exact NNLS once the "
        "objective's decrease slows to a crawl (similar spectra, ill-conditioned blocks).",
    },
    "anls": {
        "update": _anls_columns,
        "label": "alternating NNLS (exact blocks)",
        "doc": "Alternating exact non-negative least squares (block principal pivoting): "
        "every update is the exact minimiser of its block; fewest iterations, best with "
        "similar spectra.",
    },
    "hals": {
        "update": _hals_columns,
        "label": "HALS (accelerated)",
        "doc": "Hierarchical alternating least squares: exact per-component updates, "
        "repeated while cheap (Gillis & Glineur).",
    },
    "mu": {
        "update": _mu_columns,
        "label": "multiplicative updates",
        "doc": "Lee & Seung multiplicative updates; slow, keeps zeros at zero.",
    },
}

#: default solver, stop tolerance and iteration cap (chosen on the scenario table,
#: benchmarks/bench_hs_scenarios.py)
DEFAULT_SOLVER = "auto"
DEFAULT_TOL = 1e-6
DEFAULT_MAX_ITER = 1000
#: iterations per window of the stop rule (the rule compares two windows)
STOP_WINDOW = 10


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


def _validate(X, W0, H0, lock_H, lock_W):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be pixels x channels, got {X.shape=}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf; drop those pixels (rows) before fitting")
    W = np.array(W0, dtype=np.float64, order="F")  # contiguous columns for HALS sweeps
    H = np.array(H0, dtype=np.float64)
    n, c = X.shape
    if H.ndim != 2 or H.shape[1] != c:
        raise ValueError(f"H0 must be k x {c} (components x channels), got {H.shape=}")
    k = H.shape[0]
    if k == 0:
        raise ValueError("H0 has no components (0 rows); give at least one seed spectrum")
    if W.shape != (n, k):
        raise ValueError(f"W0 must be {n} x {k} (pixels x components), got {W.shape=}")
    if not (np.isfinite(W).all() and np.isfinite(H).all()):
        raise ValueError("W0 and H0 must be finite")
    if (W < 0).any() or (H < 0).any():
        raise ValueError("W0 and H0 must be non-negative; clip the seeds at 0")
    locks = []
    for name, lock in (("lock_H", lock_H), ("lock_W", lock_W)):
        arr = np.zeros(k, bool) if lock is None else np.asarray(lock, dtype=bool).reshape(-1)
        if arr.size != k:
            raise ValueError(f"{name} needs one flag per component ({k}), got {arr.size}")
        locks.append(arr)
    zero_h = np.flatnonzero(~H.any(axis=1) & locks[0])
    if zero_h.size:
        raise ValueError(
            f"locked spectra {zero_h.tolist()} are all zero: they cannot explain anything; "
            "give a spectrum or unlock them"
        )
    return X, W, H, locks[0], locks[1]


def _gap_estimate(history: list[float], window: int) -> float:
    """Remaining objective decrease, extrapolated from the last two windows' drops.

    With ``d1``, ``d2`` the decreases over the two last windows of ``window`` iterations,
    a geometric tail with ratio ``q = d2 / d1`` still holds ``d2 q / (1 − q)``. Infinite
    while the drops do not shrink (no tail to extrapolate yet).
    """
    d1 = history[-1 - window] - history[-1 - 2 * window]
    d2 = history[-1] - history[-1 - window]
    d1, d2 = -d1, -d2
    if d2 <= 0.0:
        return 0.0
    if d1 <= d2:
        return np.inf
    q = d2 / d1
    return d2 * q / (1.0 - q)


def _slow(history: list[float], window: int) -> bool:
    """True when the last window lowered the objective by more than half as much as the one before."""
    if len(history) <= 2 * window:
        return False
    d1 = history[-1 - 2 * window] - history[-1 - window]
    d2 = history[-1 - window] - history[-1]
    return d2 > 0.5 * d1 > 0


def stop_rule(history: list[float], tol: float, floor: float, window: int = STOP_WINDOW) -> bool:
    """Scale-free stop test on an objective history (index 0 = the start).

    Stops when the extrapolated remaining decrease and the mean decrease per iteration
    over the last window are both at most ``tol × (objective + floor)``; ``floor`` (a tiny
    fraction of ``½||X||²``) lets exact factorisations stop. Never decides before two full
    windows, so a huge first drop (a poor start) cannot stop a run. Every quantity is a
    ratio of objectives, so multiplying the data by a constant changes nothing.

    Examples
    --------
    >>> h = [100.0 * 0.5**i + 1.0 for i in range(40)]
    >>> stop_rule(h[:8], 1e-6, 0.0), stop_rule(h, 1e-6, 0.0)
    (False, True)
    """
    if len(history) <= 2 * window:
        return False
    scale = tol * (history[-1] + floor)
    mean_drop = (history[-1 - window] - history[-1]) / window
    return mean_drop <= scale and _gap_estimate(history, window) <= scale


def _warn(message: str) -> None:
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def iter_nmf(
    X: np.ndarray,
    W0: np.ndarray,
    H0: np.ndarray,
    /,
    *,
    solver: str = DEFAULT_SOLVER,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    l1_W: float = 0.0,
    lock_H: np.ndarray | None = None,
    lock_W: np.ndarray | None = None,
    extrapolate: bool = True,
) -> Generator[tuple[int, float], None, NMFFit]:
    """Generator form of :func:`fit_nmf`: yields ``(iteration, objective)``, returns the fit.

    Examples
    --------
    >>> X = np.outer(np.arange(1.0, 5.0), [1.0, 2.0])
    >>> gen = iter_nmf(X, np.ones((4, 1)), np.ones((1, 2)), tol=1e-10)
    >>> first = next(gen)
    >>> first[0], round(first[1], 3) >= 0
    (1, True)
    >>> fit = run_to_end(gen)
    >>> round(fit.relative_error, 6)
    0.0
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {sorted(SOLVERS)}")
    max_iter = _check_iteration_options(max_iter, tol, l1_W)
    X, W, H, lock_H, lock_W = _validate(X, W0, H0, lock_H, lock_W)
    update: Callable = SOLVERS[solver]["update"]
    switch_to: Callable | None = SOLVERS[solver].get("switch_to")
    eps = np.finfo(np.float64).eps
    norm_x2 = float(np.vdot(X, X))
    free_W, free_H = ~lock_W, ~lock_H
    # L1 in the data's unit: l1_W is the abundance (in units of the seeds' spectra) below
    # which a component is zeroed, so the penalty scales with ||H0_j||² like the fit term
    hh0 = np.einsum("ij,ij->i", H, H)
    l1 = float(l1_W * hh0[hh0 > 0].mean()) if l1_W and (hh0 > 0).any() else 0.0

    def obj(Wm: np.ndarray, Hm: np.ndarray, WtX: np.ndarray, WtW: np.ndarray) -> float:
        # ½(||X||² − 2⟨WᵀX, H⟩ + ⟨WᵀW, H Hᵀ⟩) + l1 ΣW, from the small products only
        fit2 = norm_x2 - 2.0 * np.vdot(WtX, Hm) + np.vdot(WtW, Hm @ Hm.T)
        return float(0.5 * max(fit2, 0.0) + l1 * Wm.sum())

    with one_blas_thread:
        history = [obj(W, H, W.T @ X, W.T @ W)]
    floor = 1e-9 * 0.5 * norm_x2
    converged = False
    it = 0
    n, c = X.shape
    k = H.shape[0]
    # HALS inner sweeps per update: 1 + 0.1 × (cost of the products / cost of one sweep)
    sweeps_W = 1 + int(0.1 * (1 + c / k))
    sweeps_H = min(1 + int(0.1 * (1 + n / k)), 5)
    acc = _Extrapolation(enabled=extrapolate and solver != "mu")
    W_prev, H_prev = W.copy(order="F"), H.copy()
    best_W, best_H = W, H
    stalls = 0
    for it in range(1, max_iter + 1):
        # the products are tall and skinny: one BLAS thread, released before every yield
        with one_blas_thread:
            # W from the (extrapolated) pair, then H from the extrapolated W
            Wn = W  # updated in place: W is the point the update starts from
            update(Wn, (H @ X.T).T, H @ H.T, free_W, l1, eps, sweeps_W)
            Wy = acc.step(Wn, W_prev)
            WtX, WtW = Wy.T @ X, Wy.T @ Wy
            Hn = H
            update(Hn.T, WtX.T, WtW, free_H, 0.0, eps, sweeps_H)
            value = obj(Wy, Hn, WtX, WtW)
            Hy = acc.step(Hn, H_prev)
            restart = acc.accept(value)
            if value < history[-1]:
                best_W, best_H = Wy.copy(order="F"), Hn.copy()
                history.append(value)
                stalls = 0
            else:
                history.append(history[-1])
                stalls += not restart
            if restart:  # back to the best pair, without momentum
                W, H = best_W.copy(order="F"), best_H.copy()
                W_prev, H_prev = W.copy(order="F"), H.copy()
            else:
                W_prev, H_prev = Wn.copy(order="F"), Hn.copy()
                W, H = Wy, Hy
        yield it, history[-1]
        if stalls >= 2:
            converged = True  # a fixed point: two plain updates in a row changed nothing
            break
        if stop_rule(history, tol, floor):
            converged = True
            break
        if switch_to is not None and _slow(history, STOP_WINDOW):
            update, switch_to = switch_to, None
    W, H = best_W, best_H
    if not converged:
        _warn(
            f"NNMF stopped at max_iter={max_iter} before converging (tol={tol}); raise "
            "max_iter or tol"
        )
    if not (W[:, free_W] > 0).any() and free_W.any():
        _warn(
            "every free map is zero: the data have no positive signal along the spectra "
            "(negative data or spectra?); check the cube's offset and the seeds"
        )
    rel = float(np.sqrt(2.0 * max(history[-1] - l1 * W.sum(), 0.0) / max(norm_x2, eps)))
    return NMFFit(W, H, it, converged, history[-1], rel, history, l1)


def _check_iteration_options(max_iter: Any, tol: Any, l1_W: Any) -> int:
    """One rule for max_iter / tol / l1_W, shared with the API; ``max_iter`` as an int."""
    max_iter = check_int("max_iter", max_iter)
    if max_iter < 1 or not tol >= 0 or not l1_W >= 0:
        raise ValueError(
            f"need max_iter >= 1, tol >= 0 and l1_W >= 0, got {max_iter=}, {tol=}, {l1_W=}"
        )
    return max_iter


def run_to_end(gen: Generator[Any, None, Any]) -> Any:
    """Exhaust a solver generator and return its return value.

    Examples
    --------
    >>> def g():
    ...     yield 1
    ...     return "done"
    >>> run_to_end(g())
    'done'
    """
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def fit_nmf(
    X: np.ndarray,
    W0: np.ndarray,
    H0: np.ndarray,
    /,
    *,
    solver: str = DEFAULT_SOLVER,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    l1_W: float = 0.0,
    lock_H: np.ndarray | None = None,
    lock_W: np.ndarray | None = None,
) -> NMFFit:
    """Fit ``X ≈ W H`` from ``W0``, ``H0`` with locked components left unchanged.

    Parameters
    ----------
    X : (n, C) array
        Non-negative-ish data, pixels × channels, finite (mask NaN pixels before).
    W0 : (n, k) array, H0 : (k, C) array
        Non-negative initial factors (seeds). They are copied, never modified.
    solver : {"auto", "anls", "hals", "mu"}
        See :data:`SOLVERS`.
    max_iter : int
        Iteration cap; a ``ConvergenceWarning`` is issued when it is reached.
    tol : float
        Relative objective precision of :func:`stop_rule` (scale-free).
    l1_W : float
        L1 penalty on W (sparser maps) in abundance units: the absolute weight is
        ``l1_W × mean ||H0_j||²`` (``NMFFit.l1``), so it does not depend on the data's unit.
        0 = none.
    lock_H, lock_W : (k,) bool arrays, optional
        Components whose H row / W column stays at its seed.

    Returns
    -------
    NMFFit

    Examples
    --------
    >>> H = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) @ H
    >>> fit = fit_nmf(X, np.full((3, 2), 0.5), H, lock_H=[True, True], tol=1e-12, max_iter=2000)
    >>> fit.W.round(3).tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    """
    return run_to_end(
        iter_nmf(
            X,
            W0,
            H0,
            solver=solver,
            max_iter=max_iter,
            tol=tol,
            l1_W=l1_W,
            lock_H=lock_H,
            lock_W=lock_W,
        )
    )


def nndsvd_init(
    X: np.ndarray, k: int, /, *, variant: str = "nndsvda", random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative double SVD initialisation (Boutsidis & Gallopoulos, 2008).

    ``variant="nndsvda"`` fills the zeros with ``sqrt(mean(X) / k)`` (the scale of one
    factor's entries, so ``W H`` keeps the data's scale whatever its unit; scikit-learn fills
    with ``mean(X)``, which on raw counts makes the start far too large); ``"nndsvd"``
    leaves them at 0.

    Examples
    --------
    >>> W, H = nndsvd_init(np.random.default_rng(0).random((50, 10)), 3)
    >>> W.shape, H.shape, bool((W >= 0).all() and (H >= 0).all())
    ((50, 3), (3, 10), True)
    """
    from sklearn.utils.extmath import randomized_svd

    X = np.asarray(X, dtype=np.float64)
    if variant not in ("nndsvd", "nndsvda"):
        raise ValueError(f"variant must be 'nndsvd' or 'nndsvda', got {variant!r}")
    k = _check_rank(X, k)
    U, S, Vt = randomized_svd(X, k, random_state=random_state)
    W = np.zeros((X.shape[0], k))
    H = np.zeros((k, X.shape[1]))
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0] = np.sqrt(S[0]) * np.abs(Vt[0])
    for j in range(1, k):
        x, y = U[:, j], Vt[j]
        xp, xn = np.maximum(x, 0), np.maximum(-x, 0)
        yp, yn = np.maximum(y, 0), np.maximum(-y, 0)
        mp = np.linalg.norm(xp) * np.linalg.norm(yp)
        mn = np.linalg.norm(xn) * np.linalg.norm(yn)
        u, v, m = (xp, yp, mp) if mp >= mn else (xn, yn, mn)
        lam = np.sqrt(S[j] * m)
        if m > 0:
            W[:, j] = lam * u / np.linalg.norm(u)
            H[j] = lam * v / np.linalg.norm(v)
    W[W < 1e-12] = 0
    H[H < 1e-12] = 0
    if variant == "nndsvda":
        avg = np.sqrt(max(float(X.mean()), 0.0) / k)
        W[W == 0] = avg
        H[H == 0] = avg
    return W, H


def random_init(
    X: np.ndarray, k: int, /, *, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random factors scaled to the data (``sqrt(mean(X) / k)``), reproducible.

    Examples
    --------
    >>> W, H = random_init(np.ones((4, 3)), 2, random_state=1)
    >>> W.shape, H.shape
    ((4, 2), (2, 3))
    """
    X = np.asarray(X, dtype=np.float64)
    k = _check_rank(X, k)
    rng = np.random.default_rng(random_state)
    scale = np.sqrt(max(float(X.mean()), 1e-12) / k)
    return rng.random((X.shape[0], k)) * scale, rng.random((k, X.shape[1])) * scale


def _check_rank(X: np.ndarray, k: Any) -> int:
    """``k`` as an int between 1 and min(pixels, channels) of the 2-D ``X``, or a clear error."""
    k = check_int("k", k)
    if X.ndim != 2:
        raise ValueError(f"X must be pixels x channels, got {X.shape=}")
    if not 1 <= k <= min(X.shape):
        raise ValueError(
            f"k must be between 1 and min(pixels, channels) = {min(X.shape)} for X of shape "
            f"{X.shape}, got {k=}"
        )
    return int(k)
