"""Exact whole-volume percentiles and the alpha mask of numpy volumes, and their helpers.

The percentiles are found without sorting or copying the volume: a seeded sample of
``min(max_alpha_voxels, 16384)`` voxels brackets each percentile, one comparison pass
keeps the tail beyond the bracket and ``np.partition`` runs on the tail only (a count
check makes it exact; a failed bracket falls back to a partition of the volume). The
mask choice and the small checks here are shared with the dask path
(:mod:`.lazy`).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask

from ..validate import OptionError


def check_random_state(random_state: Any) -> Any:
    """A seed numpy accepts: None, an integer >= 0, a ``SeedSequence`` or a ``Generator``.

    Examples
    --------
    >>> check_random_state("x")
    Traceback (most recent call last):
    ...
    napari_unmix.core.validate.OptionError: random_state must be None, an integer >= 0 or a numpy Generator, got 'x'
    """
    if random_state is None or isinstance(
        random_state, np.random.Generator | np.random.SeedSequence
    ):
        return random_state
    integral = isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    if integral and int(random_state) >= 0:
        return int(random_state)
    raise OptionError(
        f"random_state must be None, an integer >= 0 or a numpy Generator, got {random_state!r}"
    )


def _check_percentile(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"{name} must be between 0 and 100, got {value!r}")
    return value


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


class NonFiniteVoxels(ValueError):
    """A volume holds NaN or infinite voxels (the exact whole-volume path cannot rank them;
    the estimate then leaves them out of a sample)."""


def _check_finite(name: str, extremes: Any, dtype: np.dtype) -> None:
    if dtype.kind == "f" and not np.all(np.isfinite(extremes)):
        raise NonFiniteVoxels(f"the {name} channel contains NaN or infinite values")


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
