"""The alpha estimators of bleed-through correction, their registry and the interval.

Each estimator takes the prepared source ``x`` and target ``y`` values inside the mask
(float64) and returns ``(alpha, details)``; :data:`ALPHA_METHODS` maps names to them and
drives the dock's dropdown and the CLI's choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from .mi import FixedBinnedMI

__all__ = ["ALPHA_METHODS", "AlphaMethod"]

_EPS = 1e-12


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class AlphaMethod:
    """One alpha estimator: ``func(x, y, alpha_max=..., mi_bins=...) -> (alpha, details)``.

    ``x`` and ``y`` are the prepared source and target values inside the mask (float64).
    ``func`` is None for ``manual`` (the user gives alpha).
    """

    name: str
    label: str
    doc: str
    func: Callable[..., tuple[float, dict]] | None


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS (a threaded ``ddot`` stalls for ~100 ms on a loaded machine)."""
    return float(np.einsum("i,i->", a, b))


def _mean_ratio(x: np.ndarray, y: np.ndarray, **_: Any) -> tuple[float, dict]:
    den = float(np.mean(x))
    if den <= _EPS:
        raise ValueError(
            "the mean source intensity in the mask is 0: the source channel has no signal "
            "above background; check source_channel or lower background_percentile"
        )
    num = float(np.mean(y))
    return max(num / den, 0.0), {"mean_target": num, "mean_source": den}


def _linear_fit(x: np.ndarray, y: np.ndarray, **_: Any) -> tuple[float, dict]:
    den = _dot(x, x)
    if den <= _EPS:
        raise ValueError(
            "the source channel is zero everywhere in the mask (sum of squares 0); "
            "check source_channel or lower background_percentile"
        )
    num = _dot(x, y)
    return max(num / den, 0.0), {"sum_xy": num, "sum_x2": den}


def _corr_min(x: np.ndarray, y: np.ndarray, *, alpha_max: float, **_: Any) -> tuple[float, dict]:
    # corr(x, y - a x) falls monotonically in a and is 0 at a* = cov(x, y) / var(x), so the
    # argmin of corr² over [0, alpha_max] is a* clipped to the interval: exact, no iterations.
    xc = x - x.mean()
    var = _dot(xc, xc)
    if var <= _EPS:
        raise ValueError(
            "the source values in the mask are constant; corr_min needs variation in the "
            "source (lower signal_percentile or use mean_ratio)"
        )
    a_star = _dot(xc, y - y.mean()) / var
    alpha = min(max(a_star, 0.0), float(alpha_max))
    return alpha, {"unbounded_argmin": a_star, "post_correlation": _pearson(x, y - alpha * x)}


#: points of the coarse grid of ``mi_min`` before the bounded Brent refinement
_MI_GRID = 17


def _mi_min(
    x: np.ndarray, y: np.ndarray, *, alpha_max: float, mi_bins: int, **_: Any
) -> tuple[float, dict]:
    mi = FixedBinnedMI(x, bins=mi_bins)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)  # half the memory traffic

    def objective(a: float) -> float:
        return mi.line(y32, x32, a)  # mi(y - a*x) in reused float32 buffers

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
    return max(alpha, 0.0), {"post_mutual_information": fun, "n_evaluations": grid.size + res.nfev}


#: The alpha estimators, name -> :class:`AlphaMethod` (drives the widget's dropdown).
ALPHA_METHODS: dict[str, AlphaMethod] = {
    m.name: m
    for m in (
        AlphaMethod("manual", "Manual", "Use the alpha you give (alpha >= 0).", None),
        AlphaMethod(
            "mean_ratio",
            "Mean ratio",
            "mean(target) / mean(source) over the bright-source mask. Fast, robust default.",
            _mean_ratio,
        ),
        AlphaMethod(
            "linear_fit",
            "Linear fit",
            "Least squares through the origin, Σxy / Σx², over the mask.",
            _linear_fit,
        ),
        AlphaMethod(
            "corr_min",
            "Correlation minimisation",
            "Alpha in [0, alpha_max] that makes the corrected target uncorrelated with the "
            "source in the mask.",
            _corr_min,
        ),
        AlphaMethod(
            "mi_min",
            "Mutual-information minimisation",
            "Alpha in [0, alpha_max] that minimises the histogram mutual information between "
            "source and corrected target (mi_bins bins).",
            _mi_min,
        ),
    )
}


def _method(name: str) -> AlphaMethod:
    key = str(name).strip().lower()
    if key not in ALPHA_METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {sorted(ALPHA_METHODS)}")
    return ALPHA_METHODS[key]


# ----------------------------------------------------------------------------- helpers
def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.size < 2 or np.std(x) <= _EPS or np.std(y) <= _EPS:
        return float("nan")
    xc, yc = x - x.mean(), y - y.mean()
    return float(_dot(xc, yc) / np.sqrt(_dot(xc, xc) * _dot(yc, yc)))


def _bootstrap(
    func: Callable, x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator, **kw: Any
) -> tuple[float, float] | None:
    if n <= 0:
        return None
    alphas = np.empty(n)
    for b in range(n):  # one resample of the mask voxels per iteration (not a pixel loop)
        i = rng.integers(0, x.size, x.size)
        alphas[b] = func(x[i], y[i], **kw)[0]
    lo, hi = np.percentile(alphas, [2.5, 97.5])
    return float(lo), float(hi)

