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

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask

from ._bleedthrough_apply import apply_correction, correction_diagnostics
from ._bleedthrough_estimators import (
    ALPHA_METHODS,
    BOOTSTRAP_VOXELS,
    AlphaMethod,
    _bootstrap,
    _method,
)
from ._bleedthrough_exact import (
    _GUESS_VOXELS,
    _check_finite,
    _check_percentile,
    _combine_masks,
    _constant_source,
    _gather,
    _pick_mask_voxels,
    _whole_volume_mask,
    check_random_state,
)
from .validate import check_array, check_int, check_option_types

__all__ = [
    "ALPHA_METHODS",
    "AlphaEstimate",
    "AlphaMethod",
    "AlphaReliabilityWarning",
    "apply_correction",
    "correction_diagnostics",
    "estimate_alpha",
    "make_alpha_mask",
    "prepare_source_target_for_alpha",
    "sample_voxels",
]


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


# ----------------------------------------------------------------------------- estimation
class AlphaReliabilityWarning(UserWarning):
    """An estimated alpha that its estimator could not trust (e.g. a flat MI curve).

    The estimate fell back to a stated rule; the reason is also in the report
    (``details["warnings"]``, ``details["method_details"]["unreliable_reason"]``).
    """


def _check_volumes(source: Any, target: Any) -> tuple[Any, Any]:
    """numpy or dask arrays of one numeric dtype kind and one shape, else a clear error."""
    out = []
    for name, v in (("source", source), ("target", target)):
        if not hasattr(v, "shape") or not hasattr(v, "dtype"):
            if np.ndim(v) == 0:
                raise TypeError(
                    f"{name} must be an array (numpy or dask) of voxel values, got "
                    f"{type(v).__name__} {v!r}; pass e.g. data[t, :, channel]"
                )
            v = np.asarray(v)
        check_array(name, v)
        out.append(v)
    if tuple(out[0].shape) != tuple(out[1].shape):
        raise ValueError(
            f"source and target must have one shape, got {out[0].shape} and {out[1].shape}"
        )
    if int(np.prod(out[0].shape)) == 0:
        raise ValueError("source and target are empty; nothing to estimate alpha from")
    return out[0], out[1]


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
        At most this many histogram bins per variable for ``mi_min``, which uses
        ``ceil(3 n^(1/3))`` for ``n`` mask voxels (``mi_bins_used`` in the details).
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
        Bootstrap resamples of the mask voxels for a 95% interval (0: no interval). Each
        resample holds at most 2048 voxels, its deviation scaled by ``sqrt(2048 / n)``
        (m-out-of-n bootstrap), so the interval's cost does not grow with the mask.

    Warns
    -----
    AlphaReliabilityWarning
        ``mi_min`` could not trust its curve (mask under 64 voxels, no minimum inside
        ``[0, alpha_max]``, or a flat curve) and returned ``min(mi_argmin, corr_min)``;
        the reason is in ``details["warnings"]``.

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
    source, target = _check_volumes(source, target)
    alpha_max = float(alpha_max)
    if not (np.isfinite(alpha_max) and alpha_max > 0):
        raise ValueError(f"alpha_max must be a finite number > 0, got {alpha_max=}")
    mi_bins = check_int("mi_bins", mi_bins, minimum=2)
    min_mask_voxels = check_int("min_mask_voxels", min_mask_voxels, minimum=1)
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, minimum=0)
    if max_alpha_voxels is not None:
        max_alpha_voxels = check_int("max_alpha_voxels", max_alpha_voxels, minimum=1)
    random_state = check_random_state(random_state)
    if isinstance(random_state, np.random.Generator):
        sample_seed, boot_seed = random_state.spawn(2)
    else:
        sample_seed, boot_seed = np.random.SeedSequence(random_state).spawn(2)
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
    alpha, method_details = m.func(x, y, mask_voxels=mask_info["mask_voxel_count"], **kw)
    if not np.isfinite(alpha):
        raise ValueError(f"the estimated alpha is not finite ({alpha}); check the input data")
    warnings_ = []
    if method_details.get("reliable") is False:
        text = (
            f"{m.name}: {method_details['unreliable_reason']}; alpha = {alpha:.4g} is "
            f"{method_details['fallback']} instead. Check the scatter plot, lower "
            "signal_percentile for a larger mask, or measure alpha on a single-stained control."
        )
        warnings.warn(text, AlphaReliabilityWarning, stacklevel=2)
        warnings_.append(text)
    boot_rng = np.random.default_rng(boot_seed)
    ci = _bootstrap(
        m, x, y, n_bootstrap, boot_rng, alpha=float(alpha), details=method_details, **kw
    )
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
        "n_bootstrap": n_bootstrap,
        "ci_method": None if ci is None else "m-out-of-n bootstrap",
        "bootstrap_voxels": None if ci is None else min(x.size, BOOTSTRAP_VOXELS),
        "reliable": method_details.get("reliable", True),
        "warnings": warnings_,
        "method_details": method_details,
    }
    return AlphaEstimate(float(alpha), m.name, ci, details, x, y, s, t)
