"""The alpha estimators of bleed-through correction, their registry and the interval.

Each estimator takes the prepared source ``x`` and target ``y`` values inside the mask
(float64) and returns ``(alpha, details)``; :data:`ALPHA_METHODS` maps names to them and
drives the dock's dropdown and the CLI's choices. Every threshold is relative, so an
estimate does not depend on the data's unit.

``mi_min`` knows when it cannot be trusted: when the mask is too small for a joint
histogram or the MI curve has no clear minimum inside ``[0, alpha_max]``, it says why in
its details and falls back to a stated rule (:data:`MI_FALLBACK`).

The 95 % interval (:func:`_bootstrap`) is an m-out-of-n bootstrap: resamples of at most
:data:`BOOTSTRAP_VOXELS` mask voxels, estimated all at once (closed forms row by row in
numpy; ``mi_min`` on a grid around the estimate, in one vectorised pass per window), their
spread scaled by ``sqrt(m / n)``. With a mask of at most that many voxels it is the
ordinary percentile bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from ..mi import FixedBinnedMI, line_mi_rows
from ..registry import Method, Registry

__all__ = ["ALPHA_METHODS", "BOOTSTRAP_VOXELS", "MI_FALLBACK", "AlphaMethod", "mi_bins_for"]

#: relative tolerance of the "constant" / "zero" checks
_EPS = 1e-12
#: at most this many mask voxels per bootstrap resample (m of the m-out-of-n bootstrap)
BOOTSTRAP_VOXELS = 2048
#: what ``mi_min`` returns when its curve cannot be trusted: the smaller of its curve's
#: minimum and ``corr_min``. Target signal co-localised with the source pushes every
#: estimate up, so the smaller of two independence estimates is the less contaminated one
#: (chosen on the scenario table, see docs/bleedthrough.md).
MI_FALLBACK = "min(mi_argmin, corr_min)"
#: ``mi_min`` falls back below this many mask voxels
MI_MIN_VOXELS = 64
#: ... or when its curve does not rise by this many noise levels on both sides of the minimum
MI_MIN_DEPTH = 2.0


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class AlphaMethod(Method):
    """One alpha estimator: ``function(x, y, alpha_max=..., mi_bins=...) -> (alpha, details)``.

    ``x`` and ``y`` are the prepared source and target values inside the mask (float64).
    ``function`` is None for ``manual`` (the user gives alpha). ``rows``, when given, is the
    same estimator on many samples at once: ``rows(X, Y, alpha_max=...) -> alphas`` for
    ``(R, m)`` arrays (used by the bootstrap).
    """

    rows: Callable[..., np.ndarray] | None = None


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS (a threaded ``ddot`` stalls for ~100 ms on a loaded machine)."""
    return float(np.einsum("i,i->", a, b))


def _mean_ratio(x: np.ndarray, y: np.ndarray, **_: Any) -> tuple[float, dict]:
    den = float(np.mean(x))
    if not den > 0:
        raise ValueError(
            "the mean source intensity in the mask is 0: the source channel has no signal "
            "above background; check source_channel or lower background_percentile"
        )
    num = float(np.mean(y))
    return max(num / den, 0.0), {"mean_target": num, "mean_source": den}


def _mean_ratio_rows(x: np.ndarray, y: np.ndarray, **_: Any) -> np.ndarray:
    return np.maximum(y.mean(axis=1) / x.mean(axis=1), 0.0)


def _linear_fit(x: np.ndarray, y: np.ndarray, **_: Any) -> tuple[float, dict]:
    den = _dot(x, x)
    if not den > 0:
        raise ValueError(
            "the source channel is zero everywhere in the mask (sum of squares 0); "
            "check source_channel or lower background_percentile"
        )
    num = _dot(x, y)
    return max(num / den, 0.0), {"sum_xy": num, "sum_x2": den}


def _linear_fit_rows(x: np.ndarray, y: np.ndarray, **_: Any) -> np.ndarray:
    return np.maximum(np.einsum("ij,ij->i", x, y) / np.einsum("ij,ij->i", x, x), 0.0)


def _corr_min(x: np.ndarray, y: np.ndarray, *, alpha_max: float, **_: Any) -> tuple[float, dict]:
    # corr(x, y - a x) falls monotonically in a and is 0 at a* = cov(x, y) / var(x), so the
    # argmin of corr² over [0, alpha_max] is a* clipped to the interval: exact, no iterations.
    xc = x - x.mean()
    var = _dot(xc, xc)
    if not var > _EPS * _dot(x, x):
        raise ValueError(
            "the source values in the mask are constant; corr_min needs variation in the "
            "source (lower signal_percentile or use mean_ratio)"
        )
    a_star = _dot(xc, y - y.mean()) / var
    alpha = min(max(a_star, 0.0), float(alpha_max))
    return alpha, {"unbounded_argmin": a_star, "post_correlation": _pearson(x, y - alpha * x)}


def _corr_min_rows(x: np.ndarray, y: np.ndarray, *, alpha_max: float, **_: Any) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", xc, xc)
    cov = np.einsum("ij,ij->i", xc, yc)
    a = np.divide(cov, var, out=np.zeros_like(var), where=var > 0)
    return np.clip(a, 0.0, float(alpha_max))


def mi_bins_for(n: int, mi_bins: int) -> int:
    """Bins per variable ``mi_min`` uses for ``n`` mask voxels: ``ceil(3 n^(1/3))``, at most
    ``mi_bins``.

    1.5 times Rice's rule keeps the joint histogram filled: 64 bins need about 9,700
    voxels; a 185-voxel mask gets 18. Chosen on the scenario table (three seeds of 160
    scenes, against 2, 2.5 and 4 n^(1/3) and a fixed 64): the lowest median error on
    touching and partly overlapping structures, within 0.004 of the best elsewhere.

    Examples
    --------
    >>> mi_bins_for(185, 64), mi_bins_for(1_000_000, 64), mi_bins_for(10, 64)
    (18, 64, 7)
    """
    return int(min(int(mi_bins), max(2, int(np.ceil(3.0 * n ** (1.0 / 3.0))))))


#: points of the coarse grid of ``mi_min`` before the bounded Brent refinement
_MI_GRID = 17


def mi_offsets(bins: int, mi_bins: int) -> tuple[float | None, ...]:
    """Bin-edge offsets whose MI curves ``mi_min`` averages (an averaged shifted histogram).

    A mask too small for ``mi_bins`` bins (the adaptive rule of :func:`mi_bins_for` gave
    fewer) has few voxels per bin, and where the edges fall moves the curve's minimum:
    on the scenario table the estimate changed by a median 0.055 (90th percentile 0.25)
    between 2.5 and 3.5 n^(1/3) bins on masks under 600 voxels. Averaging the curves of
    four grids shifted by a quarter bin each cut that to 0.035 / 0.16 and the median
    error from 0.070 to 0.057 (partial overlap 0.071 to 0.046). Masks with the full
    ``mi_bins`` keep the one grid (same numbers as before, a quarter of the cost).

    Examples
    --------
    >>> mi_offsets(18, 64), mi_offsets(64, 64)
    ((0.0, 0.25, 0.5, 0.75), (None,))
    """
    return _SHIFTED if bins < int(mi_bins) else (None,)


_SHIFTED = (0.0, 0.25, 0.5, 0.75)


def _mi_noise(n: int, bins: int) -> float:
    """Standard deviation of the plug-in MI of ``n`` independent pairs in bins×bins cells.

    Under independence ``2 n MI`` is about chi-squared with ``(bins - 1)²`` degrees of
    freedom, whose standard deviation is ``sqrt(2) (bins - 1)``.
    """
    return float(np.sqrt(2.0) * (bins - 1) / (2.0 * n))


def _mi_reliability(
    grid: np.ndarray, values: np.ndarray, alpha: float, fun: float, n: int, bins: int
) -> str | None:
    """Why the MI curve (coarse grid ``values``, refined minimum ``fun`` at ``alpha``)
    cannot be trusted, or None."""
    if n < MI_MIN_VOXELS:
        return (
            f"the mask has {n} voxels, too few for a joint histogram (mi_min needs at least "
            f"{MI_MIN_VOXELS})"
        )
    if int(np.argmin(values)) == values.size - 1:
        return "the MI curve still falls at alpha_max: no minimum inside [0, alpha_max]"
    noise = _mi_noise(n, bins)
    right, left = values[grid > alpha], values[grid < alpha]
    rises = [side.max() - fun for side in (left, right) if side.size]
    rise = min(rises)
    if rise < MI_MIN_DEPTH * noise:
        return (
            f"the MI curve is flat: it rises by {rise:.3g} around its minimum, less than "
            f"{MI_MIN_DEPTH:g}x its noise level {noise:.3g} ({n} voxels, {bins} bins)"
        )
    return None


def _mi_min(
    x: np.ndarray,
    y: np.ndarray,
    *,
    alpha_max: float,
    mi_bins: int,
    mask_voxels: int | None = None,
    **_: Any,
) -> tuple[float, dict]:
    # bins from the whole mask's size (``mask_voxels``), also when x is its subsample
    bins = mi_bins_for(x.size if mask_voxels is None else mask_voxels, mi_bins)
    offsets = mi_offsets(bins, mi_bins)
    mis = [FixedBinnedMI(x, bins=bins, offset=o) for o in offsets]
    x32, y32 = x.astype(np.float32), y.astype(np.float32)  # half the memory traffic

    def objective(a: float) -> float:
        # mi(y - a*x) in reused float32 buffers, averaged over the shifted grids
        return sum(mi.line(y32, x32, a) for mi in mis) / len(mis)

    # coarse grid first (the histogram MI is not convex), then a bounded Brent
    # refinement between the best grid point's neighbours
    grid = np.linspace(0.0, float(alpha_max), _MI_GRID)
    values = np.array([objective(a) for a in grid])
    i = int(np.argmin(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = minimize_scalar(
        objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-5 * alpha_max}
    )
    alpha, fun = (float(res.x), float(res.fun)) if res.fun <= values[i] else (grid[i], values[i])
    details: dict[str, Any] = {
        "mi_bins_used": bins,
        "mi_grids_averaged": len(offsets),
        "post_mutual_information": float(fun),
        "n_evaluations": grid.size + res.nfev,
    }
    reason = _mi_reliability(grid, values, alpha, fun, x.size, bins)
    if reason is None:
        return max(alpha, 0.0), {**details, "reliable": True}
    corr, corr_details = _corr_min(x, y, alpha_max=alpha_max)
    details.update(
        reliable=False,
        unreliable_reason=reason,
        fallback=MI_FALLBACK,
        mi_argmin=max(alpha, 0.0),
        corr_min=corr,
        corr_min_details=corr_details,
    )
    return min(max(alpha, 0.0), corr), details


#: grid points per window of the bootstrap's ``mi_min`` search
_BOOT_GRID = 9


def _grid_argmin_rows(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's grid minimum, refined by the vertex of the parabola through it and its
    two neighbours (any spacing; kept when it lies between them)."""
    k = np.argmin(values, axis=1)
    if grid.size < 3:
        return grid[k]
    j = np.clip(k, 1, grid.size - 2)
    r = np.arange(values.shape[0])
    a0, a1, a2 = grid[j - 1], grid[j], grid[j + 1]
    v0, v1, v2 = values[r, j - 1], values[r, j], values[r, j + 1]
    den = (a0 - a1) * (a0 - a2) * (a1 - a2)
    qa = (a2 * (v1 - v0) + a1 * (v0 - v2) + a0 * (v2 - v1)) / den
    qb = (a2**2 * (v0 - v1) + a1**2 * (v2 - v0) + a0**2 * (v1 - v2)) / den
    vertex = np.divide(-qb, 2 * qa, out=np.full_like(qa, np.nan), where=qa > 0)
    ok = (k == j) & (vertex >= a0) & (vertex <= a2)
    return np.where(ok, vertex, grid[k])


#: rows of the bootstrap's pilot search that sizes the window of all rows
_BOOT_PILOT = 16


def _edge_share(grid: np.ndarray, values: np.ndarray, top: float) -> float:
    """Share of rows whose grid minimum lies on an edge that is not a bound of [0, top]."""
    k = np.argmin(values, axis=1)
    edge = ((k == 0) & (grid[0] > 0)) | ((k == grid.size - 1) & (grid[-1] < top))
    return float(np.mean(edge))


def _mi_min_rows(
    x: np.ndarray,
    y: np.ndarray,
    *,
    alpha_max: float,
    mi_bins: int,
    center: float,
    grids: int | None = None,
    **_: Any,
) -> np.ndarray:
    """``mi_min`` of every row, warm-started around ``center`` (the estimate).

    A pilot of a few rows finds how far the rows' minima spread: a grid window around
    ``center`` (itself a grid point, so a narrow minimum stays found) widened until few
    pilot rows have their minimum on an inner edge. Every row is then searched on one
    grid over the pilot's spread (widened again in the rare case that rows fall on its
    edges), and each row's minimum is refined by a parabola. ``grids``: how many shifted
    grids the estimate averaged (default: :func:`mi_offsets` at the resample's size).
    """
    bins = mi_bins_for(x.shape[1], mi_bins)  # the estimator at the resample's size
    offsets = mi_offsets(bins, mi_bins) if grids is None else _SHIFTED[: max(grids, 1)]
    offsets = (None,) if offsets == _SHIFTED[:1] else offsets
    top = float(alpha_max)

    def search(rows: slice, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        grid = np.unique(np.clip(np.linspace(lo, hi, _BOOT_GRID), 0.0, top))
        curves = [line_mi_rows(x[rows], y[rows], grid, bins=bins, offset=o) for o in offsets]
        return grid, sum(curves) / len(curves)

    pilot, half = slice(0, _BOOT_PILOT), top / 32.0
    while True:  # (at most log4(32) widenings)
        grid, values = search(pilot, center - half, center + half)
        if _edge_share(grid, values, top) <= 0.05 or (grid[0] == 0 and grid[-1] == top):
            break
        half *= 4.0
    spread = max(float(np.abs(_grid_argmin_rows(grid, values) - center).max()), 1e-12 * top)
    half = min(2.0 * spread + (grid[-1] - grid[0]) / (_BOOT_GRID - 1), half)
    while True:
        grid, values = search(slice(None), center - half, center + half)
        if _edge_share(grid, values, top) <= 0.05 or (grid[0] == 0 and grid[-1] == top):
            return np.clip(_grid_argmin_rows(grid, values), 0.0, top)
        half *= 2.0


def _mi_fallback_rows(
    x: np.ndarray,
    y: np.ndarray,
    *,
    alpha_max: float,
    mi_bins: int,
    mi_argmin: float,
    grids: int | None = None,
    **_: Any,
) -> np.ndarray:
    """:data:`MI_FALLBACK` of every row (the bootstrap of a fallen-back ``mi_min``)."""
    kw = {"alpha_max": alpha_max, "mi_bins": mi_bins, "grids": grids}
    mi = _mi_min_rows(x, y, center=mi_argmin, **kw)
    corr = _corr_min_rows(x.astype(np.float64), y.astype(np.float64), alpha_max=alpha_max)
    return np.minimum(mi, corr)


#: The alpha estimators, name -> :class:`AlphaMethod` (the dock's dropdown, the CLI's choices).
ALPHA_METHODS = Registry(
    "method",
    [
        AlphaMethod("manual", None, "Manual", "Use the alpha you give (alpha >= 0)."),
        AlphaMethod(
            "mean_ratio",
            _mean_ratio,
            "Mean ratio",
            "mean(target) / mean(source) over the bright-source mask. Fast; unbiased only "
            "when the bright source voxels carry no target signal.",
            rows=_mean_ratio_rows,
        ),
        AlphaMethod(
            "linear_fit",
            _linear_fit,
            "Linear fit",
            "Least squares through the origin, Σxy / Σx², over the mask.",
            rows=_linear_fit_rows,
        ),
        AlphaMethod(
            "corr_min",
            _corr_min,
            "Correlation minimisation",
            "Alpha in [0, alpha_max] that makes the corrected target uncorrelated with the "
            "source in the mask.",
            rows=_corr_min_rows,
        ),
        AlphaMethod(
            "mi_min",
            _mi_min,
            "Mutual-information minimisation",
            "Alpha in [0, alpha_max] that minimises the histogram mutual information between "
            "source and corrected target (3 n^(1/3) bins, at most mi_bins); least biased "
            "when source and target structures overlap. Falls back to corr_min, with a "
            "warning, when the mask is too small or the MI curve is flat.",
            rows=_mi_min_rows,
        ),
    ],
)


# ----------------------------------------------------------------------------- helpers
def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.size < 2:
        return float("nan")
    xc, yc = x - x.mean(), y - y.mean()
    sxx, syy = _dot(xc, xc), _dot(yc, yc)
    if not (sxx > _EPS * _dot(x, x) and syy > _EPS * _dot(y, y)):
        return float("nan")  # (relative: constant at any scale)
    return float(_dot(xc, yc) / np.sqrt(sxx * syy))


def _bootstrap(
    method: AlphaMethod,
    x: np.ndarray,
    y: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    alpha: float,
    details: dict,
    **kw: Any,
) -> tuple[float, float] | None:
    """95 % interval of ``alpha`` from ``n`` m-out-of-n resamples of the mask voxels.

    ``m = min(len(x), BOOTSTRAP_VOXELS)``; each resample's deviation from ``alpha`` is
    scaled by ``sqrt(m / len(x))`` (root-n estimators), so the cost is bounded whatever
    the mask size. ``details`` are the estimator's: a fallen-back ``mi_min`` resamples
    its fallback rule.
    """
    if n <= 0:
        return None
    size = x.size
    m = min(size, BOOTSTRAP_VOXELS)
    idx = rng.integers(0, size, (n, m))
    if "mi_bins_used" in details:  # at most the bins (and the grids) of the estimate
        kw = {**kw, "mi_bins": details["mi_bins_used"], "grids": details["mi_grids_averaged"]}
    if "mi_bins_used" in details:  # histograms: binned in float32, like the estimate
        xs, ys = x.astype(np.float32)[idx], y.astype(np.float32)[idx]
    else:
        xs, ys = x[idx], y[idx]
    if details.get("reliable") is False:
        alphas = _mi_fallback_rows(xs, ys, mi_argmin=details["mi_argmin"], **kw)
    elif method.rows is not None:
        alphas = method.rows(xs, ys, center=alpha, **kw)
    else:  # an estimator without a vectorised form: one resample at a time
        alphas = np.array([method.function(x[i], y[i], **kw)[0] for i in idx])
    alphas = alpha + np.sqrt(m / size) * (alphas - alpha)
    lo, hi = np.percentile(alphas, [2.5, 97.5])
    # (a biased resample distribution can miss the estimate: the interval keeps it)
    return float(max(min(lo, alpha), 0.0)), float(max(hi, alpha))
