"""Source–sink PICASSO: sinks corrected by user-declared sources, guarded against over-subtraction.

Model (input units, after background subtraction): every sink ``j`` received
``alpha_ij`` times the pure signal of each declared source ``i``::

    I_j = F_j + Σ_i alpha_ij F_i        i.e.  I = (1 + A) F,  A[j, i] = alpha_ij

so the unmixed channels are ``F = (1 + A)⁻¹ I``: one matrix, applied pixel-wise.

Each ``alpha_ij`` in ``[0, alpha_max]`` minimises the mutual information between the
corrected sink and the source. Three guards keep it from the failure of the reference
implementation (alphas driven to the bound, most sink pixels clipped to zero):

1. the MI is computed on the **unclipped** corrected sink: subtracting too much makes the
   sink anti-correlated with the source, which raises the MI instead of hiding it in a
   spike of zeros;
2. sources are the **progressively unmixed** channels ``F`` (not the raw, mixed ones), so
   a source that itself contains the sink's fluorophore does not eat the sink's signal;
3. sweeps over all sinks repeat (Gauss–Seidel): a coarse grid plus Brent over
   ``[0, alpha_max]`` first, then a 5-point pattern search in a window around each alpha
   that halves whenever the best point is inside it (and moves when it is on an edge),
   until no alpha moves by more than ``tolerance`` and every window is below
   ``2 * tolerance``.

Every alpha is also bounded so that ``det(1 + A)`` stays at least :data:`MIN_DET`: the
determinant is affine in each single alpha, so the bound is an exact interval per
search. Without it, channels that the MI cannot tell apart (one structure in both, as in
co-localised labels) drive ``alpha_ij`` and ``alpha_ji`` both to ``alpha_max`` and
``1 + A`` becomes singular. The scenario generator's true matrices (spill-over up to 0.5,
up to 6 channels) have determinants above 0.15, so the bound does not touch them;
relations that end on it are listed in :attr:`SourceSinkFit.limited`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar

from ..mi import FixedBinnedMI
from ..progress import Progress, Steps

__all__ = [
    "MIN_DET",
    "SourceSinkFit",
    "alpha_standard_error",
    "invertible_range",
    "iter_source_sink",
    "line_search",
    "pair_objective",
    "relations_from_matrix",
]


#: smallest determinant of the mixing matrix ``1 + A`` an estimate may reach (unit free:
#: ``det(D M D⁻¹) = det M``); at 0.05 the unmixing amplifies noise at most ~20-fold
MIN_DET = 0.05


def relations_from_matrix(source_sink_matrix: np.ndarray) -> list[tuple[int, int]]:
    """``(source, sink)`` pairs marked ``-1`` in a source–sink matrix (rows = sources).

    Examples
    --------
    >>> relations_from_matrix(np.array([[1, -1], [0, 1]]))
    [(0, 1)]
    """
    m = np.asarray(source_sink_matrix)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(m == -1), strict=True) if i != j]


@dataclass
class SourceSinkFit:
    """Estimated source→sink coefficients; ``mixing = 1 + A`` with ``A[sink, source]``."""

    alpha: np.ndarray
    iterations: int = 0
    converged: bool = False
    max_change: list[float] = field(default_factory=list)
    #: standard error of every alpha (``[source, sink]``) from disjoint pixel subsets
    alpha_se: np.ndarray | None = None
    #: ``(source, sink)`` relations whose alpha ended on the bound that keeps
    #: ``det(1 + A) >= MIN_DET`` (the data do not separate those channels)
    limited: list[tuple[int, int]] = field(default_factory=list)

    @property
    def history(self) -> list[float]:
        """The largest alpha change of every sweep."""
        return self.max_change

    @property
    def mixing(self) -> np.ndarray:
        """Unit-diagonal mixing matrix ``1 + A`` (``A[sink, source] = alpha``)."""
        return np.eye(self.alpha.shape[0]) + self.alpha.T

    @property
    def matrix(self) -> np.ndarray:
        """Unmixing matrix ``(1 + A)⁻¹`` (applied to background-subtracted channels)."""
        return np.linalg.inv(self.mixing)


def invertible_range(
    mixing: np.ndarray, source: int, sink: int, lo: float, hi: float, min_det: float = MIN_DET
) -> tuple[float, float]:
    """The part of ``[lo, hi]`` where ``alpha[source, sink]`` keeps ``det(1 + A) >= min_det``.

    ``mixing`` is the current ``1 + A`` (``det >= min_det``, so the current alpha lies in
    the returned interval). By the matrix determinant lemma, changing the alpha by ``d``
    multiplies the determinant by ``1 + d * inv(mixing)[source, sink]``: an affine
    function of the alpha, so the allowed values are one interval.

    Examples
    --------
    >>> m = np.array([[1.0, 0.0], [0.8, 1.0]])   # alpha[0, 1] = 0.8
    >>> lo, hi = invertible_range(m, 1, 0, 0.0, 2.0, 0.05)  # alpha[1, 0]: 1 - 0.8 a >= 0.05
    >>> lo, round(hi, 4)
    (0.0, 1.1875)
    """
    det = float(np.linalg.det(mixing))
    g = float(np.linalg.inv(mixing)[source, sink])
    a = float(mixing[sink, source])
    room = max(1.0 - min_det / det, 0.0)  # the current determinant is at least min_det
    if g < 0:
        hi = min(hi, a + room / -g)
    elif g > 0:
        lo = max(lo, a - room / g)
    return lo, hi


def line_search(objective, lo: float, hi: float, *, grid: int, xatol: float) -> float:
    """Coarse grid over [lo, hi], then bounded Brent around the best grid point.

    Examples
    --------
    >>> round(line_search(lambda a: (a - 0.3) ** 2, -1.0, 1.0, grid=21, xatol=1e-6), 4)
    0.3
    """
    xs = np.linspace(lo, hi, grid)
    vals = [objective(float(x)) for x in xs]
    k = int(np.argmin(vals))
    a, b = xs[max(k - 1, 0)], xs[min(k + 1, grid - 1)]
    if b - a <= xatol:
        return float(xs[k])
    res = minimize_scalar(objective, bounds=(a, b), method="bounded", options={"xatol": xatol})
    return float(res.x) if res.fun <= vals[k] else float(xs[k])


def pair_objective(
    lines: list[tuple[np.ndarray, np.ndarray, np.ndarray | FixedBinnedMI]], mi_bins: int
):
    """``f(a)``: the mean over ``lines`` of ``MI(base - a * src, ref)`` (unclipped).

    Each line is ``(base, src, ref)``: a sink and its source in one view, and the source
    in the view the MI is taken against (the same view, or one with independent noise).
    ``ref`` may be given already binned (a :class:`~napari_unmix.core.mi.FixedBinnedMI`
    of ``mi_bins`` bins), when several objectives share it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s, t = rng.random((2, 20000))
    >>> f = pair_objective([(t + 0.4 * s, s, s)], 32)
    >>> f(0.4) < f(0.2) < f(0.0)
    True
    """
    lines = [
        (base, src, ref if isinstance(ref, FixedBinnedMI) else FixedBinnedMI(ref, bins=mi_bins))
        for base, src, ref in lines
    ]

    def objective(a: float) -> float:
        return sum(mi.line(base, src, a) for base, src, mi in lines) / len(lines)

    return objective


def _pair_line(unmix, alpha, source, sink, others, own, other, clip):
    """``(base, src, ref)``: the sink without the other sources' share, the progressively
    unmixed source (both from ``own``), and the source in ``other`` (the MI's partner)."""
    # einsum, not BLAS: a threaded GEMV is ~50x slower on a loaded machine
    src = clip(np.einsum("k,kn->n", unmix[source], own))
    base = own[sink].copy()
    for k in others:
        base -= np.float32(alpha[k, sink]) * clip(np.einsum("k,kn->n", unmix[k], own))
    ref = src if other is own else np.maximum(np.einsum("k,kn->n", unmix[source], other), 0)
    return base, src, ref


def iter_source_sink(
    x: np.ndarray,
    relations: list[tuple[int, int]],
    /,
    *,
    alpha_max: float,
    mi_bins: int,
    max_iter: int,
    tolerance: float,
    grid: int = 21,
    global_sweeps: int = 6,
    partner: np.ndarray | None = None,
) -> Steps:
    """Estimate source→sink alphas on pixel samples; yield a
    :class:`~napari_unmix.core.progress.Progress` after every sweep (``partial``: the
    :class:`SourceSinkFit` so far).

    The settings without a default are :class:`~napari_unmix.core.picasso.PicassoOptions`
    fields (their defaults are written there).

    Parameters
    ----------
    x : ndarray, shape (N, n)
        Background-subtracted, non-negative channel values of ``n`` sampled pixels.
    relations : list of (source, sink)
        Allowed bleed-through directions.
    alpha_max : float
        Upper bound of every alpha (lower bound 0).
    mi_bins : int
        Histogram bins of the MI estimate.
    max_iter : int
        Maximum number of sweeps over all relations.
    tolerance : float
        Stop when no alpha changed by more than this in a sweep.
    grid : int
        Points of the first coarse search over ``[0, alpha_max]``.
    global_sweeps : int
        Sweeps that search all of ``[0, alpha_max]`` (with the sources unmixed by the
        previous sweep) before the local refinement, so an alpha found with a still
        mixed source cannot trap the search in a local minimum.
    partner : ndarray, shape (N, n), optional
        A second measurement of the same pixels with independent noise (e.g. the other
        half of every pixel block). The MI is then taken between the corrected sink in
        ``x`` and the unmixed source in ``partner``: the noise the subtraction carries
        over from the source cannot correlate with the partner, so shot noise does not
        bias the alphas toward zero.

    Returns (as the generator's return value)
    -------
    SourceSinkFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.exponential(size=(2, 20000)) * (rng.random((2, 20000)) < 0.3)
    >>> x = np.array([[1.0, 0.0], [0.3, 1.0]]) @ f   # channel 0 bleeds into 1
    >>> from napari_unmix.core.progress import run
    >>> kw = dict(alpha_max=1.0, mi_bins=32, max_iter=200, tolerance=1e-4)
    >>> fit = run(iter_source_sink(x, [(0, 1)], **kw))
    >>> round(float(fit.alpha[0, 1]), 1)
    0.3
    """
    x = np.asarray(x, dtype=np.float32)  # float32: half the memory traffic per MI
    y = x if partner is None else np.asarray(partner, dtype=np.float32)
    # with a partner everything stays linear: clipping noise at zero would add an offset
    # only where the source is dark
    clip = (lambda v: np.maximum(v, 0)) if partner is None else (lambda v: v)
    if y.shape != x.shape:
        raise ValueError(f"partner must have the shape of x {x.shape}, got {y.shape}")
    n_ch = x.shape[0]
    alpha = np.zeros((n_ch, n_ch))
    fit = SourceSinkFit(alpha=alpha)
    span = float(alpha_max)
    xatol = max(float(tolerance) / 4, 1e-7)
    # trust window per relation: halves whenever the optimum lies inside it, so the
    # histogram MI's fine-scale jitter cannot keep the sweeps from converging
    window = np.full((n_ch, n_ch), span / (grid - 1))
    for sweep in range(max_iter):
        before = alpha.copy()
        for source, sink in relations:
            mixing = np.eye(n_ch) + alpha.T
            unmix = np.linalg.inv(mixing).astype(np.float32)
            # det(1 + A) >= MIN_DET: channels the MI cannot separate would make it singular
            lo, hi = invertible_range(mixing, source, sink, 0.0, span)
            others = [k for k in range(n_ch) if k not in (sink, source) and alpha[k, sink] != 0]
            views = [(x, x)] if partner is None else [(x, y), (y, x)]  # both ways round
            lines = [
                _pair_line(unmix, alpha, source, sink, others, own, other, clip)
                for own, other in views
            ]
            # unclipped sink: over-subtraction raises the MI
            objective = pair_objective(lines, mi_bins)

            if sweep < global_sweeps:
                first = max(xatol, window[source, sink] / 10)  # later sweeps refine
                alpha[source, sink] = line_search(objective, lo, hi, grid=grid, xatol=first)
                continue
            # pattern search: 5 points over [a - w, a + w]; the window halves when the
            # best point is inside, and moves (same size) when it is on an edge
            w, a0 = window[source, sink], alpha[source, sink]
            xs = np.clip(a0 + w * np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), lo, hi)
            k = int(np.argmin([objective(float(v)) for v in xs]))
            on_edge = k in (0, 4) and lo < xs[k] < hi
            # moving shrinks the window a little too, so a relation whose optimum
            # shifts with the others' alphas cannot bounce between two edges forever
            window[source, sink] = 0.8 * w if on_edge else w / 2
            alpha[source, sink] = float(xs[k])
        change = float(np.max(np.abs(alpha - before))) if relations else 0.0
        fit.max_change.append(change)
        fit.iterations = sweep + 1
        yield Progress(sweep + 1, max_iter, f"max alpha change {change:.3g}", fit)
        settled = max((window[i, j] for i, j in relations), default=0.0) <= 2 * tolerance
        if sweep >= global_sweeps and change <= tolerance and settled:
            fit.converged = True
            break
    fit.limited = _on_det_bound(alpha, relations, span, xatol)
    fit.alpha_se = alpha_standard_error(x, y, alpha, relations, mi_bins=mi_bins, clip=clip)
    return fit


def _on_det_bound(
    alpha: np.ndarray, relations: list[tuple[int, int]], span: float, xatol: float
) -> list[tuple[int, int]]:
    """The relations whose alpha is within ``xatol`` of its :func:`invertible_range` bound."""
    mixing = np.eye(alpha.shape[0]) + alpha.T
    out = []
    for source, sink in relations:
        lo, hi = invertible_range(mixing, source, sink, 0.0, span)
        a = alpha[source, sink]
        if (hi < span and a >= hi - xatol) or (lo > 0 and a <= lo + xatol):
            out.append((source, sink))
    return out


def alpha_standard_error(
    x: np.ndarray,
    y: np.ndarray,
    alpha: np.ndarray,
    relations: list[tuple[int, int]],
    *,
    mi_bins: int,
    clip,
    subsets: int = 4,
    half_width: float = 0.15,
    points: int = 61,
    lower: float = 0.0,
) -> np.ndarray:
    """Standard error of each alpha: its MI minimum on ``subsets`` disjoint pixel sets.

    Every other alpha stays at its estimate; each subset's minimum is searched on a grid
    of ``points`` values within ``half_width`` of the estimate. The spread of the subset
    minima over ``sqrt(subsets)`` estimates the error of the full-sample alpha (a subset
    minimum on the grid's edge makes the error at least the half width). ``lower`` bounds
    the grid from below (0 for source-sink, whose alphas are non-negative).
    """
    n_ch, n = x.shape
    se = np.zeros((n_ch, n_ch))
    unmix = np.linalg.inv(np.eye(n_ch) + alpha.T).astype(np.float32)
    parts = np.array_split(np.arange(n), subsets)
    for source, sink in relations:
        others = [k for k in range(n_ch) if k not in (sink, source) and alpha[k, sink] != 0]
        grid = np.linspace(-half_width, half_width, points) + alpha[source, sink]
        grid = np.clip(grid, lower, None)
        best = []
        for idx in parts:
            xs, ys = x[:, idx], y[:, idx]
            base, src, ref = _pair_line(unmix, alpha, source, sink, others, xs, ys, clip)
            mi = FixedBinnedMI(ref, bins=mi_bins)
            best.append(grid[int(np.argmin(mi.along(base, src, grid)))])
        se[source, sink] = float(np.std(best, ddof=1) / np.sqrt(subsets))
    return se
