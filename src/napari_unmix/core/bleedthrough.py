"""Two-channel bleed-through correction: estimate alpha, apply the correction.

Model: the source channel measures ``S``, the target channel measures ``T + alpha*S``.
The correction is ``I_target - alpha*I_source`` (then optionally clipped at 0); only the
target changes. The bidirectional model ``I_s = S + a_r*T``, ``I_t = T + a*S`` is solved by
inverting the 2x2 mixing matrix.

Estimation optionally subtracts a low percentile as background, selects bright-source
voxels (the mask) and runs one estimator from :data:`ALPHA_METHODS` on them. When the
volume has at most ``max_alpha_voxels`` voxels, every voxel is used and no randomness is
involved. Larger volumes: the percentiles and the mask are exact over the whole volume
(as the ``spectral-unmixing`` package computes them) and a mask larger than
``max_alpha_voxels`` is subsampled (seeded), found without sorting or copying the volume:
a seeded sample of ``min(max_alpha_voxels, 16384)`` voxels brackets each percentile,

* numpy input: one comparison pass keeps the tail beyond the bracket, ``np.partition``
  runs on the tail only (a count check makes it exact; a failed bracket falls back to a
  partition of the volume);
* dask input: bounded passes over the blocks, never the whole volume at once
  (``_bleedthrough_dask``): window counts and the values inside the windows, the mask
  size per block, then only the mask voxels (or the seeded picks of them).

numpy and dask input therefore give bit-identical alphas, intervals and reports.

Examples
--------
>>> from napari_unmix.core.synthetic import make_bleedthrough_stack
>>> data, truth = make_bleedthrough_stack(n_t=1, n_z=2, shape=(64, 64), n_cells=4,
...                                       random_state=2, noise_sigma=0)
>>> est = estimate_alpha(data[0, :, 0], data[0, :, 1], method="linear_fit", n_bootstrap=0)
>>> round(est.alpha, 2), truth["alpha"]
(0.35, 0.35)
>>> corrected = apply_correction(data, est.alpha)
>>> corrected.shape, corrected.dtype
((1, 2, 2, 64, 64), dtype('float32'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from .axes import validate_tzcyx
from .mi import FixedBinnedMI, mutual_information
from .validate import check_array, check_int, check_option_types

__all__ = [
    "ALPHA_METHODS",
    "AlphaEstimate",
    "AlphaMethod",
    "apply_correction",
    "correction_diagnostics",
    "estimate_alpha",
    "make_alpha_mask",
    "prepare_source_target_for_alpha",
    "sample_voxels",
]

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


def _check_percentile(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"{name} must be between 0 and 100, got {value!r}")
    return value


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "dask"


def sample_voxels(
    *volumes: Any, max_voxels: int | None = 500_000, random_state: Any = 0
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The same seeded voxels from equally shaped numpy or dask arrays, as 1-D numpy.

    Parameters
    ----------
    *volumes : array-like
        Arrays of one shape (e.g. the source and target ``ZYX`` volume of one time point).
    max_voxels : int or None
        At most this many voxels: one drawn uniformly in each of ``max_voxels``
        consecutive strata of the C-order volume (strata differ in size by at most one
        voxel; no repeats; spread over the whole volume). ``None`` or a volume no larger than this: every voxel, no
        randomness.
    random_state : int, numpy Generator or None
        Seed of the subsample.

    Returns
    -------
    values : list of ndarray
        One 1-D array per volume, in the volume's dtype.
    flat_index : ndarray or None
        C-order indices of the sampled voxels (None when every voxel was taken).

    Examples
    --------
    >>> a = np.arange(100.0).reshape(10, 10)
    >>> (va, vb), idx = sample_voxels(a, 2 * a, max_voxels=5, random_state=0)
    >>> va.size, bool(np.all(vb == 2 * va)), bool(np.all(va == idx))
    (5, True, True)
    """
    if not volumes:
        raise ValueError("give at least one array to sample from")
    shape = tuple(volumes[0].shape)
    for v in volumes[1:]:
        if tuple(v.shape) != shape:
            raise ValueError(f"arrays to sample must have one shape, got {shape} and {v.shape}")
    n = int(np.prod(shape))
    if n == 0:
        raise ValueError(f"nothing to sample from an empty array ({shape=})")
    dask_in = any(_is_dask(v) for v in volumes)
    if max_voxels is None or n <= int(max_voxels):
        flat = None
        picked = [v.reshape(-1) for v in volumes]
    else:
        if int(max_voxels) < 1:
            raise ValueError(f"max_alpha_voxels must be >= 1, got {max_voxels=}")
        # jittered stratified sample: cut the C-order volume into k strata of floor(n/k)
        # or ceil(n/k) voxels and draw one voxel uniformly in each. Every voxel's chance
        # is ~k/n, the sample covers the whole volume, comes out sorted without repeats,
        # and costs O(k) instead of O(n).
        k = int(max_voxels)
        rng = np.random.default_rng(random_state)
        edges = (np.arange(k + 1, dtype=np.int64) * n) // k
        flat = edges[:-1] + (rng.random(k) * np.diff(edges)).astype(np.int64)
        picked = [_gather(v, flat) for v in volumes]
    if dask_in:
        import dask

        picked = list(dask.compute(*picked))
    return [np.asarray(p).reshape(-1) for p in picked], flat


def _gather(volume: Any, flat: np.ndarray) -> Any:
    """Values at sorted C-order indices: dask through ``vindex``, numpy plane by plane.

    Gathering from each Y×X plane view with ``np.take`` avoids both the slow multi-array
    fancy indexing and any stack-sized copy of a (possibly transposed) stack.
    """
    shape = tuple(volume.shape)
    if _is_dask(volume):
        return volume.vindex[np.unravel_index(flat, shape)]
    volume = np.asarray(volume)
    if volume.ndim < 3:
        return (
            volume.reshape(-1)[flat]
            if volume.flags.c_contiguous
            else volume[np.unravel_index(flat, shape)]
        )
    lead = shape[:-2]
    plane = shape[-2] * shape[-1]
    out = np.empty(flat.size, volume.dtype)
    # where each plane's indices start in the sorted flat list: a few binary searches
    bounds = np.searchsorted(flat, np.arange(int(np.prod(lead)) + 1, dtype=np.int64) * plane)
    for p in np.flatnonzero(np.diff(bounds)):  # a loop over planes, not pixels
        a, b = bounds[p], bounds[p + 1]
        view = volume[np.unravel_index(p, lead)]  # one Y×X plane, never the whole stack
        np.take(view.reshape(-1), flat[a:b] - p * plane, out=out[a:b])
    return out


def prepare_source_target_for_alpha(
    source_volume: Any,
    target_volume: Any,
    *,
    background_percentile: float = 1.0,
    preprocess_alpha_inputs: bool = True,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """float32 copies of source and target, minus a low percentile each, clipped at 0.

    Used only for estimating alpha; the correction is applied to the measured data.
    Signature as in the ``spectral-unmixing`` package.

    Returns
    -------
    (source_prepared, target_prepared, source_background, target_background)

    Examples
    --------
    >>> s, t, bs, bt = prepare_source_target_for_alpha(
    ...     np.array([1.0, 2.0, 5.0]), np.array([3.0, 3.0, 4.0]), background_percentile=0)
    >>> s.tolist(), t.tolist(), bs, bt
    ([0.0, 1.0, 4.0], [0.0, 0.0, 1.0], 1.0, 3.0)
    """
    bg_pct = _check_percentile("background_percentile", background_percentile)
    s = np.array(source_volume, dtype=np.float32)  # a copy: inputs are never modified
    t = np.array(target_volume, dtype=np.float32)
    if s.shape != t.shape:
        raise ValueError(f"source and target must have one shape, got {s.shape} and {t.shape}")
    if s.size == 0:
        raise ValueError("source and target are empty; nothing to estimate alpha from")
    if not preprocess_alpha_inputs:
        return s, t, 0.0, 0.0
    out = []
    for v in (s, t):
        bg = float(np.percentile(v, bg_pct))
        np.subtract(v, np.float32(bg), out=v)
        np.maximum(v, 0.0, out=v)
        out.append(bg)
    return s, t, out[0], out[1]


def make_alpha_mask(
    source: Any,
    target: Any = None,
    *,
    signal_percentile: float = 99.0,
    target_low_percentile: float | None = None,
    min_voxels: int = 16,
) -> tuple[np.ndarray, dict]:
    """Bright-source voxels (optionally with a low target) for estimating alpha.

    The mask is ``source >= percentile(source, signal_percentile)``, intersected with
    ``target <= percentile(target, target_low_percentile)`` when that is given. If the
    stricter mask has fewer than ``min_voxels`` voxels, the source-only mask is used and
    ``details["mask_fallback_used"]`` is True. Signature as in ``spectral-unmixing``.

    Examples
    --------
    >>> mask, info = make_alpha_mask(np.arange(100.0), signal_percentile=90, min_voxels=5)
    >>> int(mask.sum()), info["mask_strategy"]
    (10, 'source_only')
    """
    sp = _check_percentile("signal_percentile", signal_percentile)
    tp = _check_percentile("target_low_percentile", target_low_percentile)
    min_voxels = int(min_voxels)
    if min_voxels < 1:
        raise ValueError(f"min_mask_voxels must be >= 1, got {min_voxels}")
    source = np.asarray(source)
    s_thr = float(np.percentile(source, sp))
    mask = source >= s_thr
    t_thr, strict = None, None
    if target is not None and tp is not None:
        target = np.asarray(target)
        if target.shape != source.shape:
            raise ValueError(f"source and target shapes differ: {source.shape} vs {target.shape}")
        t_thr = float(np.percentile(target, tp))
        strict = mask & (target <= t_thr)
    return _combine_masks(mask, strict, sp, tp, s_thr, t_thr, min_voxels)


def _combine_masks(
    mask: np.ndarray,
    strict: np.ndarray | None,
    sp: float | None,
    tp: float | None,
    s_thr: float,
    t_thr: float | None,
    min_voxels: int,
) -> tuple[np.ndarray, dict]:
    """The strict mask when it is big enough, else the source-only one; its report."""
    n_strict = None if strict is None else int(np.count_nonzero(strict))
    use_strict, info = _choose_mask(
        int(np.count_nonzero(mask)), n_strict, sp, tp, s_thr, t_thr, min_voxels
    )
    return (strict if use_strict else mask), info


def _choose_mask(
    n_src: int,
    n_strict: int | None,
    sp: float | None,
    tp: float | None,
    s_thr: float,
    t_thr: float | None,
    min_voxels: int,
) -> tuple[bool, dict]:
    """From the two mask sizes: use the strict mask?, and the mask report."""
    strategy, fallback, use_strict, n = "source_only", False, False, n_src
    if n_strict is not None:
        if n_strict >= min_voxels:
            use_strict, strategy, n = True, "source_and_low_target", n_strict
        else:
            fallback = True
    if n < min_voxels:
        raise ValueError(
            f"the alpha mask has {n} voxel(s), fewer than min_mask_voxels={min_voxels}; "
            "lower signal_percentile, give more data, or lower min_mask_voxels"
        )
    return use_strict, {
        "signal_percentile": sp,
        "target_low_percentile": tp,
        "source_threshold": s_thr,
        "target_threshold": t_thr,
        "mask_strategy": strategy,
        "mask_fallback_used": fallback,
        "mask_voxel_count": n,
        "source_only_mask_voxel_count": n_src,
        "strict_mask_voxel_count": n_strict,
        "min_mask_voxels": min_voxels,
    }


# ----------------------------------------------------------------------------- exact percentiles
#: voxels of the seeded sample that brackets the exact whole-volume percentiles
_GUESS_VOXELS = 16_384


def _ranks(n: int, q: float) -> tuple[np.ndarray, float]:
    """The two order statistics and the weight of ``np.percentile(..., q)`` (linear)."""
    pos = q / 100.0 * (n - 1)
    k0 = int(np.floor(pos))
    return np.array([k0, min(k0 + 1, n - 1)]), pos - k0


def _lerp(v: np.ndarray, frac: float) -> float:
    """``np.percentile``'s linear interpolation between two order statistics."""
    a, b = float(v[0]), float(v[1])
    return a + (b - a) * frac if frac < 0.5 else b - (b - a) * (1.0 - frac)


def _bracket(ks: np.ndarray, n: int, guess: np.ndarray, *, low: bool) -> Any:
    """A value beyond the order statistics ``ks`` (sure by a wide margin), from the sample."""
    m = guess.size
    r = ks[1 if low else 0] / max(n - 1, 1)
    margin = 6.0 * np.sqrt(max(min(r, 1 - r), 1.0 / m) / m) + 2.0 / m
    if low and r + margin < 0.5:
        return guess[int(np.ceil((r + margin) * (m - 1)))]
    if not low and r - margin > 0.5:
        return guess[int(np.floor((r - margin) * (m - 1)))]
    return None


def _beyond(
    volume: np.ndarray, below: Any, above: Any
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Sorted C-order indices and values of the voxels ``<= below`` or ``>= above``.

    Y×X plane by plane (a loop over planes, not pixels): each plane's comparisons,
    index search and extremes run while it is in cache, and no stack-sized temporary is
    made. Also returns the volume's (min, max) (NaN when it holds a NaN).
    """
    if below is None and above is None:
        ext = (float(volume.min()), float(volume.max()))
        return np.zeros(0, np.int64), np.zeros(0, volume.dtype), ext
    planes = volume.reshape(-1, *volume.shape[-2:]) if volume.ndim >= 3 else None
    if planes is None or not np.may_share_memory(planes, volume):
        planes = [volume]  # (reshape had to copy: scan the volume in one go)
    size = planes[0].size
    sel = np.empty(planes[0].shape, dtype=bool)
    tmp = np.empty_like(sel)
    idx, vals, lows, highs = [], [], [], []
    for p, plane in enumerate(planes):
        lows.append(plane.min())
        highs.append(plane.max())
        if below is not None:
            np.less_equal(plane, below, out=sel)
            if above is not None:
                np.greater_equal(plane, above, out=tmp)
                sel |= tmp
        else:
            np.greater_equal(plane, above, out=sel)
        i = np.flatnonzero(sel)
        flat = plane.reshape(-1) if plane.flags.c_contiguous else None
        vals.append(plane[np.unravel_index(i, plane.shape)] if flat is None else flat[i])
        idx.append(i + p * size)
    ext = (float(np.min(lows)), float(np.max(highs)))
    return np.concatenate(idx), np.concatenate(vals), ext


def _tail_stats(
    volume: np.ndarray, guess: np.ndarray, ks_low: Any, ks_high: Any
) -> tuple[Any, Any, Any, tuple[float, float]]:
    """Exact order statistics in the low and the high tail of a numpy volume, one scan.

    The sorted seeded sample ``guess`` brackets each tail; one comparison over the
    volume finds the voxels beyond the brackets, and ``np.partition`` runs on those few
    only. Counting makes the result exact whatever the sample; a failed bracket falls
    back to a partition of the whole volume. Returns the low statistics, the high ones,
    the sorted C-order indices of the high-tail voxels (None when not bracketed), among
    which every voxel above the high statistics lies, and the volume's (min, max).
    """
    n = volume.size
    below = None if ks_low is None else _bracket(ks_low, n, guess, low=True)
    above = None if ks_high is None else _bracket(ks_high, n, guess, low=False)
    idx, vals, ext = _beyond(volume, below, above)
    low = high = high_idx = None
    if below is not None:
        cand = vals[vals <= below]
        if cand.size > ks_low[1]:
            low = np.partition(cand, ks_low)[ks_low]
    if above is not None:
        keep = vals >= above
        cand, skipped = vals[keep], n - int(np.count_nonzero(keep))
        if skipped <= ks_high[0]:
            high, high_idx = np.partition(cand, ks_high - skipped)[ks_high - skipped], idx[keep]
    missing = [k for k, v in ((ks_low, low), (ks_high, high)) if k is not None and v is None]
    if missing:  # a bracket failed (tiny or odd data): partition everything once
        ks = np.unique(np.concatenate(missing))
        stats = dict(zip(ks.tolist(), np.partition(volume.reshape(-1), ks)[ks], strict=True))
        if ks_low is not None and low is None:
            low = np.array([stats[int(k)] for k in ks_low])
        if ks_high is not None and high is None:
            high = np.array([stats[int(k)] for k in ks_high])
    return low, high, high_idx, ext


def _check_finite(name: str, extremes: Any, dtype: np.dtype) -> None:
    if dtype.kind == "f" and not np.all(np.isfinite(extremes)):
        raise ValueError(
            f"the {name} channel contains NaN or infinite values; replace them "
            "(e.g. with 0) before estimating alpha"
        )


def _constant_source() -> ValueError:
    return ValueError(
        "the source channel is constant (e.g. all zero) after background subtraction; "
        "there is no source signal to estimate bleed-through from; check source_channel"
    )


def _prep(v: np.ndarray, bg: float, preprocess: bool) -> np.ndarray:
    """float32 ``max(v - bg, 0)`` (or just float32): the alpha preprocessing of values."""
    out = np.asarray(v, dtype=np.float32)
    return np.maximum(out - np.float32(bg), np.float32(0)) if preprocess else out


def _pick_mask_voxels(rng: np.random.Generator, n_mask: int, k: int | None) -> np.ndarray | None:
    """Sorted seeded ordinals of ``k`` mask voxels, or None when the mask has at most ``k``."""
    if k is None or n_mask <= int(k):
        return None
    return np.sort(rng.choice(n_mask, int(k), replace=False))


def _whole_volume_mask(
    source: np.ndarray,
    target: np.ndarray,
    guess: tuple[np.ndarray, np.ndarray],
    *,
    background_percentile: float,
    preprocess: bool,
    signal_percentile: float,
    target_low_percentile: float | None,
    min_voxels: int,
) -> tuple[np.ndarray, np.ndarray, float, float, dict]:
    """Prepared source/target values in the mask, percentiles exact over the whole volume.

    The same numbers as preparing the whole volume with
    :func:`prepare_source_target_for_alpha` and masking it with :func:`make_alpha_mask`,
    without stack-sized float32 copies: preparation ``v -> max(v - b, 0)`` is monotone,
    so each percentile of the prepared volume is the preparation of two exact order
    statistics of the measured one.
    """
    sp = _check_percentile("signal_percentile", signal_percentile)
    tp = _check_percentile("target_low_percentile", target_low_percentile)
    bp = _check_percentile("background_percentile", background_percentile)
    n, f32 = source.size, np.float32
    g_s, g_t = np.sort(guess[0]), np.sort(guess[1])
    ks_bg, frac_bg = _ranks(n, bp)
    ks_sig, frac_sig = _ranks(n, sp)
    bg_stats, sig_stats, sig_idx, ext_s = _tail_stats(
        source, g_s, ks_bg if preprocess else None, ks_sig
    )
    _check_finite("source", ext_s, source.dtype)

    def prep(v: np.ndarray, bg: float) -> np.ndarray:
        return _prep(v, bg, preprocess)

    bg_s = bg_t = 0.0
    if preprocess:
        bg_s = float(f32(_lerp(bg_stats.astype(f32), frac_bg)))
        bg_t_stats, _, _, ext_t = _tail_stats(target, g_t, ks_bg, None)
        _check_finite("target", ext_t, target.dtype)
        bg_t = float(f32(_lerp(bg_t_stats.astype(f32), frac_bg)))
    else:
        _check_finite("target", (target.min(), target.max()), target.dtype)
    if not ext_s[1] > max(ext_s[0], bg_s):
        raise _constant_source()
    s_thr = _lerp(prep(sig_stats, bg_s), frac_sig)
    edge = None if sig_idx is None else _bracket(ks_sig, n, g_s, low=False)
    if edge is not None and float(prep(np.array([edge]), bg_s)[0]) < s_thr:
        # voxels below the bracket are below the threshold: the mask lies in the tail
        cs, ct = prep(_gather(source, sig_idx), bg_s), prep(_gather(target, sig_idx), bg_t)
    else:
        cs, ct = prep(source.reshape(-1), bg_s), prep(target.reshape(-1), bg_t)
    mask = cs >= s_thr
    t_thr, strict = None, None
    if tp is not None:
        ks, frac = _ranks(n, tp)
        low = tp <= 50.0
        stats = _tail_stats(target, g_t, ks if low else None, None if low else ks)[:2]
        t_thr = _lerp(prep(stats[0] if low else stats[1], bg_t), frac)
        strict = mask & (ct <= t_thr)
    mask, info = _combine_masks(mask, strict, sp, tp, s_thr, t_thr, int(min_voxels))
    return cs[mask], ct[mask], bg_s, bg_t, info


# ----------------------------------------------------------------------------- estimation
@dataclass(frozen=True)
class AlphaEstimate:
    """One estimated alpha with its bootstrap interval and how it was obtained.

    ``mask_source`` / ``mask_target`` are the prepared values the estimator saw (for the
    scatter plot); ``sample_source`` / ``sample_target`` all prepared sampled voxels.
    """

    alpha: float
    method: str
    ci: tuple[float, float] | None
    details: dict
    mask_source: np.ndarray = field(repr=False)
    mask_target: np.ndarray = field(repr=False)
    sample_source: np.ndarray = field(repr=False)
    sample_target: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {
            "alpha": self.alpha,
            "method": self.method,
            "ci95": None if self.ci is None else list(self.ci),
            **self.details,
        }


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


def estimate_alpha(
    source: Any,
    target: Any,
    *,
    method: str = "mean_ratio",
    signal_percentile: float = 99.0,
    target_low_percentile: float | None = None,
    background_percentile: float = 1.0,
    preprocess_alpha_inputs: bool = True,
    alpha_max: float = 1.0,
    mi_bins: int = 64,
    max_alpha_voxels: int | None = 500_000,
    random_state: Any = 0,
    min_mask_voxels: int = 16,
    n_bootstrap: int = 100,
) -> AlphaEstimate:
    """Estimate the bleed-through ``alpha`` of ``source`` into ``target``.

    Parameters
    ----------
    source, target : array-like
        Matching volumes (any shape, e.g. ZYX of one time point), numpy or dask.
    method : {"mean_ratio", "linear_fit", "corr_min", "mi_min"}
        Estimator, see :data:`ALPHA_METHODS`.
    signal_percentile : float
        Mask = source voxels at or above this percentile (bright source).
    target_low_percentile : float, optional
        Also require target at or below this percentile (falls back to the source-only
        mask when fewer than ``min_mask_voxels`` remain).
    background_percentile : float
        Percentile subtracted from each channel before estimation.
    preprocess_alpha_inputs : bool
        Subtract the background and clip at 0 (default) or estimate on raw values.
    alpha_max : float
        Upper bound of the search for ``corr_min`` and ``mi_min``.
    mi_bins : int
        Histogram bins per variable for ``mi_min``.
    max_alpha_voxels : int or None
        Volumes up to this size (or None): every voxel is used. Larger volumes, numpy or
        dask alike: exact whole-volume percentiles and mask, then at most this many mask
        voxels (seeded); a dask volume is read block by block, never whole. numpy and
        dask input give the same alpha, bit for bit.
    random_state : int or None
        Seed of the subsample and of the bootstrap.
    min_mask_voxels : int
        Minimum mask size.
    n_bootstrap : int
        Bootstrap resamples of the mask voxels for a 95% interval (0: no interval).

    Returns
    -------
    AlphaEstimate

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> data, _ = make_bleedthrough_stack(n_t=1, n_z=2, n_cells=4, random_state=2)
    >>> est = estimate_alpha(data[0, :, 0], data[0, :, 1], method="corr_min", n_bootstrap=50)
    >>> round(est.alpha, 2), est.ci[0] < est.alpha < est.ci[1]
    (0.35, True)
    """
    check_array("target", target)
    check_array("source", source)
    check_option_types(estimate_alpha, locals())
    m = _method(method)
    if m.func is None:
        raise ValueError("method='manual' does not estimate alpha; give alpha instead")
    alpha_max = float(alpha_max)
    if not alpha_max > 0:
        raise ValueError(f"alpha_max must be > 0, got {alpha_max=}")
    mi_bins = int(mi_bins)
    if mi_bins < 2:
        raise ValueError(f"mi_bins must be >= 2, got {mi_bins=}")
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, minimum=0)
    min_mask_voxels = check_int("min_mask_voxels", min_mask_voxels, minimum=1)
    ss = np.random.SeedSequence(random_state)
    sample_seed, boot_seed = ss.spawn(2)
    rng = np.random.default_rng(sample_seed)
    shape = tuple(source.shape)
    if tuple(target.shape) != shape:
        raise ValueError(f"source and target must have one shape, got {shape} and {target.shape}")
    n_all = int(np.prod(shape))
    whole = max_alpha_voxels is not None and n_all > int(max_alpha_voxels)
    lazy = _is_dask(source) or _is_dask(target)
    if whole:  # exact percentiles and mask over the whole volume (as the reference)
        if not lazy:
            source, target = np.asarray(source), np.asarray(target)
        n_guess = min(int(max_alpha_voxels), _GUESS_VOXELS)
        (s_raw, t_raw), flat = sample_voxels(source, target, max_voxels=n_guess, random_state=rng)
    else:  # a volume within max_alpha_voxels (or None): every voxel
        (s_raw, t_raw), flat = sample_voxels(
            source, target, max_voxels=max_alpha_voxels, random_state=rng
        )
        for name, v in (("source", s_raw), ("target", t_raw)):
            _check_finite(name, v, v.dtype)
    if whole:  # (raises on NaN or a constant source)
        mask_kw = {
            "background_percentile": background_percentile,
            "preprocess": preprocess_alpha_inputs,
            "signal_percentile": signal_percentile,
            "target_low_percentile": target_low_percentile,
            "min_voxels": min_mask_voxels,
        }
        if lazy:  # the same numbers in bounded passes over the blocks, subsampled inside
            from ._bleedthrough_dask import whole_volume_mask_dask

            xs, ys, bg_s, bg_t, mask_info, mask_subsampled = whole_volume_mask_dask(
                source, target, (s_raw, t_raw), rng=rng, max_voxels=max_alpha_voxels, **mask_kw
            )
        else:
            xs, ys, bg_s, bg_t, mask_info = _whole_volume_mask(
                source, target, (s_raw, t_raw), **mask_kw
            )
            pick = _pick_mask_voxels(rng, xs.size, max_alpha_voxels)
            mask_subsampled = pick is not None
            if mask_subsampled:  # at most max_alpha_voxels mask voxels (seeded, sorted)
                xs, ys = xs[pick], ys[pick]
        # the sample (for plots), prepared like the mask
        s, t = s_raw.astype(np.float32), t_raw.astype(np.float32)
        if preprocess_alpha_inputs:
            s = np.maximum(s - np.float32(bg_s), np.float32(0))
            t = np.maximum(t - np.float32(bg_t), np.float32(0))
    else:
        s, t, bg_s, bg_t = prepare_source_target_for_alpha(
            s_raw,
            t_raw,
            background_percentile=background_percentile,
            preprocess_alpha_inputs=preprocess_alpha_inputs,
        )
        if not float(s.max()) > float(s.min()):
            raise _constant_source()
    if whole:
        x, y = xs.astype(np.float64), ys.astype(np.float64)
    else:
        mask, mask_info = make_alpha_mask(
            s,
            t,
            signal_percentile=signal_percentile,
            target_low_percentile=target_low_percentile,
            min_voxels=min_mask_voxels,
        )
        x = s[mask].astype(np.float64)
        y = t[mask].astype(np.float64)
    kw = {"alpha_max": alpha_max, "mi_bins": mi_bins}
    alpha, method_details = m.func(x, y, **kw)
    if not np.isfinite(alpha):
        raise ValueError(f"the estimated alpha is not finite ({alpha}); check the input data")
    ci = _bootstrap(m.func, x, y, int(n_bootstrap), np.random.default_rng(boot_seed), **kw)
    details = {
        "background_percentile": background_percentile,
        "preprocess_alpha_inputs": bool(preprocess_alpha_inputs),
        "source_background": bg_s,
        "target_background": bg_t,
        "alpha_max": alpha_max,
        "mi_bins": mi_bins,
        **mask_info,
        "percentiles_from": "whole_volume" if whole else "sample",
        "sampled_voxels": n_all if whole else int(s.size),
        "subsampled": bool(mask_subsampled) if whole else flat is not None,
        "max_alpha_voxels": max_alpha_voxels,
        "random_state": random_state if isinstance(random_state, int | None) else "generator",
        "n_bootstrap": int(n_bootstrap),
        "method_details": method_details,
    }
    return AlphaEstimate(float(alpha), m.name, ci, details, x, y, s, t)


# ----------------------------------------------------------------------------- apply
def _per_t(value: Any, n_t: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.full(n_t, arr[0])
    if arr.size != n_t:
        raise ValueError(
            f"{name} must be a scalar or one value per time point ({n_t}), got {arr.size}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {arr.tolist()}")
    return arr


def _resolve_dtype(output_dtype: Any, input_dtype: np.dtype) -> np.dtype:
    if isinstance(output_dtype, str) and output_dtype.lower() in {"same", "input"}:
        return np.dtype(input_dtype)
    try:
        dtype = np.dtype(output_dtype)
    except TypeError as err:
        raise ValueError(
            f"unknown output_dtype {output_dtype!r}; e.g. 'float32', 'uint16'"
        ) from err
    if dtype.kind not in "uif":
        raise ValueError(f"output_dtype must be a numeric dtype, got {output_dtype!r}")
    return dtype


def _cast(arr: Any, dtype: np.dtype) -> Any:
    """Cast to ``dtype``; integers are rounded and clipped to the type's range (no wrap)."""
    if arr.dtype == dtype:
        return arr
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        arr = np.rint(arr).clip(info.min, info.max)
    return arr.astype(dtype)


def _correct(src: Any, tgt: Any, a: Any, ar: Any, det: Any, clip: bool) -> tuple[Any, Any]:
    """Corrected (source, target) from float32 measured ones; works on numpy and dask."""
    new_t = tgt - a * src
    new_s = None
    if ar is not None:
        new_s = (src - ar * tgt) / det
        new_t = new_t / det
    if clip:
        new_t = new_t.clip(0, None)
        new_s = None if new_s is None else new_s.clip(0, None)
    return new_s, new_t


def apply_correction(
    data: Any,
    alpha: float | Sequence[float] | np.ndarray,
    /,
    *,
    source_channel: int = 0,
    target_channel: int = 1,
    alpha_reverse: float | Sequence[float] | np.ndarray | None = None,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    out: np.ndarray | None = None,
) -> Any:
    """Remove the bleed-through of one channel into another from a TZCYX stack.

    Parameters
    ----------
    data : ndarray or dask array, shape (T, Z, C, Y, X)
        Measured stack (any numeric dtype; integers are converted before subtracting).
    alpha : float or sequence of float
        Bleed-through of the source into the target, one value or one per time point.
    source_channel, target_channel : int
        Channel indices.
    alpha_reverse : float or sequence of float, optional
        Bleed-through of the target into the source. When given, both channels are
        corrected by inverting ``[[1, alpha_reverse], [alpha, 1]]``; ``alpha *
        alpha_reverse`` must be < 1.
    clip_negative : bool
        Clip corrected channels at 0.
    output_dtype : str or dtype
        ``"float32"`` (default), any numeric dtype (integers: rounded and clipped to the
        type's range), or ``"same"`` for the input dtype.
    out : ndarray, optional
        numpy only: write the result into this array (shape of ``data``, dtype
        ``output_dtype``) instead of a new one. It may be ``data`` itself, for a caller
        that owns ``data`` (e.g. a stack it has just read from a file): this saves one
        stack-sized allocation.

    Returns
    -------
    array of the input's type
        A new stack; all other channels are copied (cast to ``output_dtype``). A dask
        input stays lazy, chunked by whole Y×X planes.

    Examples
    --------
    >>> d = np.zeros((2, 1, 2, 2, 2), np.uint16)
    >>> d[:, :, 0], d[:, :, 1] = 100, 50
    >>> apply_correction(d, [0.3, 0.6], output_dtype="uint16")[:, 0, 1, 0, 0].tolist()
    [20, 0]
    """
    check_option_types(apply_correction, locals())
    validate_tzcyx(data, min_channels=2)
    n_t, _, n_c = data.shape[:3]
    s_ch, t_ch = int(source_channel), int(target_channel)
    for name, ch in (("source_channel", s_ch), ("target_channel", t_ch)):
        if not 0 <= ch < n_c:
            raise ValueError(f"{name}={ch} is out of range for {n_c} channels ({data.shape=})")
    if s_ch == t_ch:
        raise ValueError(f"source_channel and target_channel must differ, both are {s_ch}")
    a = _per_t(alpha, n_t, "alpha")
    ar = None if alpha_reverse is None else _per_t(alpha_reverse, n_t, "alpha_reverse")
    det = None
    if ar is not None:
        det = 1.0 - a * ar
        if np.any(det <= 0):
            raise ValueError(
                "alpha * alpha_reverse must be < 1 for the 2x2 mixing matrix to be invertible, "
                f"got {(a * ar).tolist()}; check both coefficients"
            )
    dtype = _resolve_dtype(output_dtype, data.dtype)
    f32 = np.float32

    def col(v: np.ndarray | None) -> np.ndarray | None:
        return None if v is None else v.astype(f32)[:, None, None, None]

    if _is_dask(data):
        import dask.array as da

        if out is not None:
            raise ValueError("out= is for numpy input; a dask result stays lazy")

        x = data
        if x.chunksize[3] != x.shape[3] or x.chunksize[4] != x.shape[4]:
            x = x.rechunk({3: -1, 4: -1})
        new_s, new_t = _correct(
            x[:, :, s_ch].astype(f32),
            x[:, :, t_ch].astype(f32),
            col(a),
            col(ar),
            col(det),
            clip_negative,
        )
        chans = [_cast(x[:, :, c], dtype) for c in range(n_c)]
        chans[t_ch] = _cast(new_t, dtype)
        if new_s is not None:
            chans[s_ch] = _cast(new_s, dtype)
        return da.stack(chans, axis=2)

    if out is None:
        out = np.empty_like(data, dtype=dtype)  # same memory layout as the input (order K)
    elif not isinstance(out, np.ndarray) or out.shape != data.shape or out.dtype != dtype:
        raise ValueError(
            f"out must be a numpy array of shape {data.shape} and dtype {dtype}, got "
            f"{type(out).__name__} {getattr(out, 'shape', None)} {getattr(out, 'dtype', None)}"
        )
    for t in range(n_t):  # one time point at a time bounds the float32 temporaries
        plane = data[t]
        src = np.asarray(plane[:, s_ch], dtype=f32)  # no copy when already float32
        tgt = np.asarray(plane[:, t_ch], dtype=f32)
        new_t = src * f32(-a[t])
        new_t += tgt
        new_s = None
        if ar is not None:
            new_t /= f32(det[t])
            new_s = tgt * f32(-ar[t])
            new_s += src
            new_s /= f32(det[t])
        for arr in (new_t, new_s):
            if clip_negative and arr is not None:
                np.maximum(arr, 0, out=arr)
        for c in range(n_c):
            if c == t_ch:
                out[t, :, c] = _cast(new_t, dtype)
            elif c == s_ch and new_s is not None:
                out[t, :, c] = _cast(new_s, dtype)
            else:
                out[t, :, c] = _cast(plane[:, c], dtype)
    return out


def correction_diagnostics(
    source: np.ndarray,
    target: np.ndarray,
    corrected_target: np.ndarray,
    *,
    mi_bins: int = 64,
) -> dict[str, float]:
    """Pearson correlation and MI of source vs target before and after correction.

    Arguments are matching 1-D samples (e.g. from :func:`sample_voxels`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s, t = rng.random(4000), rng.random(4000)
    >>> d = correction_diagnostics(s, t + 0.5 * s, t, mi_bins=16)
    >>> d["pearson_before"] > 0.3 > abs(d["pearson_after"])
    True
    """
    s = np.asarray(source, np.float64).ravel()
    t0 = np.asarray(target, np.float64).ravel()
    t1 = np.asarray(corrected_target, np.float64).ravel()
    return {
        "pearson_before": _pearson(s, t0),
        "pearson_after": _pearson(s, t1),
        "mi_before": mutual_information(s, t0, bins=mi_bins),
        "mi_after": mutual_information(s, t1, bins=mi_bins),
        "n_voxels": int(s.size),
    }
