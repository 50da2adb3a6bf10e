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
:func:`iter_nmf` is the generator form (yields :class:`~napari_unmix.core.progress.Progress`
events, returns the :class:`NMFFit`); :func:`fit_nmf` runs it to the end.

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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..nnls import one_blas_thread
from ..progress import Progress, Steps, run_form
from .options import NmfOptions
from .solvers import SOLVERS, SWITCH_TO, _Extrapolation
from .stop import STOP_WINDOW, _slow, stop_rule

#: HALS sweeps per block update: ``1 + SWEEP_WEIGHT × (1 + products / sweep)``, the flop
#: ratio being ``C / k`` for W and ``n / k`` for H, at most ``MAX_SWEEPS_W`` / ``MAX_SWEEPS_H``.
#: Chosen with the compiled sweep on ``benchmarks/bench_hs_goals.py``'s scenes (fewest
#: iterations to scikit-learn's objective, same optima; 0.4 moves one scene to another
#: stationary point) and on ``bench_nnmf``'s bead cubes (C / k = 16: more than 2 W sweeps
#: cost more time than they save, a compiled sweep being slower per flop than the products;
#: 2 keeps the default fit there at the numpy sweeps' speed)
SWEEP_WEIGHT = 0.3
MAX_SWEEPS_W = 2
MAX_SWEEPS_H = 5

__all__ = ["NMFFit", "fit_nmf", "iter_nmf", "objective"]


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


def _validate(X, W0, H0, lock_H, lock_W):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be pixels x channels, got {X.shape=}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf; drop those pixels (rows) before fitting")
    # the HALS sweep works on the rows of W and of Hᵀ: both C-contiguous
    W = np.array(W0, dtype=np.float64, order="C")
    H = np.array(H0, dtype=np.float64, order="F")
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


def _check_anchor(anchor: float) -> float:
    anchor = float(anchor)
    if not anchor >= 0:
        raise ValueError(f"anchor must be >= 0, got {anchor}")
    return anchor


def _warn(message: str) -> None:
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def iter_nmf(
    X: np.ndarray,
    W0: np.ndarray,
    H0: np.ndarray,
    /,
    *,
    solver: str = NmfOptions.solver,
    max_iter: int = NmfOptions.max_iter,
    tol: float = NmfOptions.tol,
    l1_W: float = NmfOptions.l1_W,
    lock_H: np.ndarray | None = None,
    lock_W: np.ndarray | None = None,
    extrapolate: bool = True,
    anchor: float = 0.0,
) -> Steps:
    """Fit ``X ≈ W H`` from ``W0``, ``H0`` with locked components left unchanged.

    The generator form of :func:`fit_nmf`: yields a :class:`~napari_unmix.core.progress.Progress`
    per iteration (``done`` = iteration of ``total`` = ``max_iter``, ``partial`` = the
    objective), returns the :class:`NMFFit`.

    Parameters
    ----------
    X : (n, C) array
        Non-negative-ish data, pixels × channels, finite (mask NaN pixels before).
    W0 : (n, k) array, H0 : (k, C) array
        Non-negative initial factors (seeds). They are copied, never modified.
    solver : {"auto", "anls", "hals", "mu"}
        See :data:`~napari_unmix.core.nmf.SOLVERS`; the defaults of these four are
        :class:`~napari_unmix.core.nmf.NmfOptions`'s.
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
    extrapolate : bool
        Push block updates along their last step (Ang & Gillis); not for ``"mu"``.
    anchor : float
        Weight of the seed anchor ``anchor × ½ Σ_j ||W_j||² ||H_j − H0_j||²`` added to the
        objective: the energy of the part of each component's signal ``W_j H_j`` that its
        seed spectrum ``H0_j`` would not give with the same map, relative to the data misfit
        (unit-free, and it keeps no component from escaping by trading scale between W and
        H). Keeps the spectra near the seeds where the data do not decide (similar spectra,
        low counts). 0 = none (plain NNMF). Locked H rows are at their seeds already.

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
    >>> X = np.outer(np.arange(1.0, 5.0), [1.0, 2.0])
    >>> gen = iter_nmf(X, np.ones((4, 1)), np.ones((1, 2)), tol=1e-10)
    >>> first = next(gen)
    >>> first.done, first.partial >= 0
    (1, True)
    >>> from napari_unmix.core.progress import run
    >>> fit = run(gen)
    >>> round(fit.relative_error, 6)
    0.0
    """
    opts = NmfOptions(solver=solver, max_iter=max_iter, tol=tol, l1_W=l1_W)
    solver, max_iter, tol, l1_W = opts.solver, opts.max_iter, opts.tol, opts.l1_W
    X, W, H, lock_H, lock_W = _validate(X, W0, H0, lock_H, lock_W)
    update_W = update_H = SOLVERS.resolve(solver).function
    switch_to: Callable | None = SWITCH_TO.get(solver)
    eps = np.finfo(np.float64).eps
    with one_blas_thread:  # a second BLAS thread would spin on after the sum
        norm_x2 = float(np.vdot(X, X))
    free_W, free_H = ~lock_W, ~lock_H
    # L1 in the data's unit: l1_W is the abundance (in units of the seeds' spectra) below
    # which a component is zeroed, so the penalty scales with ||H0_j||² like the fit term
    hh0 = np.einsum("ij,ij->i", H, H)
    l1 = float(l1_W * hh0[hh0 > 0].mean()) if l1_W and (hh0 > 0).any() else 0.0
    anchor = _check_anchor(anchor)
    H0a = H.copy()  # the seeds the anchor keeps the spectra near
    free_a = anchor * free_H  # per-component anchor weight (0 for locked rows)

    def obj(Wm: np.ndarray, Hm: np.ndarray, XtW: np.ndarray, WtW: np.ndarray) -> float:
        # ½(||X||² − 2⟨XᵀW, Hᵀ⟩ + ⟨WᵀW, H Hᵀ⟩) + l1 ΣW, from the small products only
        fit2 = norm_x2 - 2.0 * np.vdot(XtW, Hm.T) + np.vdot(WtW, Hm @ Hm.T)
        value = 0.5 * max(fit2, 0.0) + (l1 * Wm.sum() if l1 else 0.0)
        if anchor:  # ½ anchor Σ_j ||W_j||² ||H_j − H0_j||²
            value += 0.5 * float((free_a * np.diag(WtW)) @ ((Hm - H0a) ** 2).sum(axis=1))
        return float(value)

    with one_blas_thread:
        history = [obj(W, H, X.T @ W, W.T @ W)]
    floor = 1e-9 * 0.5 * norm_x2
    converged = False
    it = 0
    n, c = X.shape
    k = H.shape[0]
    # HALS inner sweeps per update (accelerated HALS, Gillis & Glineur)
    sweeps_W = min(1 + int(SWEEP_WEIGHT * (1 + c / k)), MAX_SWEEPS_W)
    sweeps_H = min(1 + int(SWEEP_WEIGHT * (1 + n / k)), MAX_SWEEPS_H)
    acc = _Extrapolation(enabled=extrapolate and solver != "mu")
    # W_prev / H_prev: the previous plain update; the extrapolated pair is written over
    # them (no new arrays per iteration); best_W / best_H: the best pair so far
    W_prev, H_prev = W.copy(order="C"), H.copy(order="F")
    best_W, best_H = W.copy(order="C"), H.copy(order="F")
    stalls = 0
    for it in range(1, max_iter + 1):
        # the products are tall and skinny: one BLAS thread, released before every yield
        with one_blas_thread:
            # W from the (extrapolated) pair, then H from the extrapolated W
            Wn = W  # updated in place: W is the point the update starts from
            HHt = H @ H.T
            if anchor:  # a ridge on W_j of weight anchor ||H_j − H0_j||²
                HHt[np.diag_indices(k)] += free_a * ((H - H0a) ** 2).sum(axis=1)
            update_W(Wn, X @ H.T, HHt, free_W, l1, eps, sweeps_W)
            Wy = acc.step(Wn, W_prev)
            XtW, WtW = X.T @ Wy, Wy.T @ Wy  # C-contiguous, as the sweeps take them
            Hn = H
            if anchor:  # + λ_j = anchor ||W_j||² on the diagonal, + λ_j H0_j on the right
                lam = free_a * np.diag(WtW)
                update_H(Hn.T, XtW + H0a.T * lam, WtW + np.diag(lam), free_H, 0.0, eps, sweeps_H)
            else:
                update_H(Hn.T, XtW, WtW, free_H, 0.0, eps, sweeps_H)
            value = obj(Wy, Hn, XtW, WtW)
            Hy = acc.step(Hn, H_prev)
            restart = acc.accept(value)
            if value < history[-1]:
                np.copyto(best_W, Wy)
                np.copyto(best_H, Hn)
                history.append(value)
                stalls = 0
            else:
                history.append(history[-1])
                stalls += not restart
            if restart:  # back to the best pair, without momentum
                W, H, W_prev, H_prev = Wn, Hn, Wy, Hy
                for a, b in ((W, best_W), (H, best_H), (W_prev, best_W), (H_prev, best_H)):
                    np.copyto(a, b)
            else:  # Wn, Hn are not changed again: the update works on Wy, Hy
                W_prev, H_prev = Wn, Hn
                W, H = Wy, Hy
        yield Progress(it, max_iter, f"objective {history[-1]:.6g}", history[-1])
        if stalls >= 2:
            converged = True  # a fixed point: two plain updates in a row changed nothing
            break
        if stop_rule(history, tol, floor):
            converged = True
            break
        if switch_to is not None and _slow(history, STOP_WINDOW):
            update_W = update_H = switch_to
            switch_to = None
    W, H = best_W, np.ascontiguousarray(best_H)
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
    with one_blas_thread:  # the fit term alone (without the L1 and anchor terms)
        fit2 = norm_x2 - 2.0 * np.vdot(W.T @ X, H) + np.vdot(W.T @ W, H @ H.T)
    rel = float(np.sqrt(max(fit2, 0.0) / max(norm_x2, eps)))
    return NMFFit(W, H, it, converged, history[-1], rel, history, l1)


fit_nmf = run_form(
    iter_nmf, "fit_nmf", "Fit ``X ≈ W H`` from ``W0``, ``H0`` with locked components unchanged.",
    "NMFFit",
)  # fmt: skip
