"""Estimate the bleed-through coefficient alpha of one source volume into one target volume."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..options import takes_options
from ..validate import check_array
from .estimators import ALPHA_METHODS, BOOTSTRAP_VOXELS, AlphaMethod, _bootstrap
from .exact import (
    _GUESS_VOXELS,
    NonFiniteVoxels,
    _constant_source,
    _is_dask,
    _pick_mask_voxels,
    _whole_volume_mask,
)
from .options import AlphaOptions
from .sampling import make_alpha_mask, prepare_source_target_for_alpha, sample_voxels

__all__ = ["AlphaEstimate", "AlphaReliabilityWarning", "estimate_alpha"]


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


@takes_options(AlphaOptions)
def estimate_alpha(source: Any, target: Any, *, options: AlphaOptions) -> AlphaEstimate:
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
    opts = options
    if ALPHA_METHODS[opts.method].function is None:
        raise ValueError("method='manual' does not estimate alpha; give alpha instead")
    source, target = _check_volumes(source, target)
    return estimate_with(source, target, opts)


def estimate_with(source: Any, target: Any, opts: AlphaOptions) -> AlphaEstimate:
    """:func:`estimate_alpha` of checked volumes with built options."""
    m: AlphaMethod = ALPHA_METHODS[opts.method]
    seed = opts.random_state
    if isinstance(seed, np.random.Generator):
        sample_seed, boot_seed = seed.spawn(2)
    else:
        sample_seed, boot_seed = np.random.SeedSequence(seed).spawn(2)
    values = _masked_values(source, target, opts, np.random.default_rng(sample_seed))
    x, y = values["x"], values["y"]
    kw = {"alpha_max": opts.alpha_max, "mi_bins": opts.mi_bins}
    voxels = values["mask_info"]["mask_voxel_count"]
    alpha, method_details = m.function(x, y, mask_voxels=voxels, **kw)
    if not np.isfinite(alpha):
        raise ValueError(f"the estimated alpha is not finite ({alpha}); check the input data")
    boot_rng = np.random.default_rng(boot_seed)
    ci = _bootstrap(
        m, x, y, opts.n_bootstrap, boot_rng, alpha=float(alpha), details=method_details, **kw
    )
    details = {
        **{k: getattr(opts, k) for k in _REPORTED},
        "source_background": values["bg"][0],
        "target_background": values["bg"][1],
        **values["mask_info"],
        **values["sampling"],
        "max_alpha_voxels": opts.max_alpha_voxels,
        "random_state": seed if isinstance(seed, int | None) else "generator",
        "n_bootstrap": opts.n_bootstrap,
        "ci_method": None if ci is None else "m-out-of-n bootstrap",
        "bootstrap_voxels": None if ci is None else min(x.size, BOOTSTRAP_VOXELS),
        "reliable": method_details.get("reliable", True),
        "warnings": _warn_unreliable(m.name, float(alpha), method_details),
        "method_details": method_details,
    }
    s, t = values["sample"]
    return AlphaEstimate(float(alpha), m.name, ci, details, x, y, s, t)


#: settings recorded first in an estimate's details (the report's order)
_REPORTED = ("background_percentile", "preprocess_alpha_inputs", "alpha_max", "mi_bins")


def _warn_unreliable(name: str, alpha: float, method_details: dict) -> list[str]:
    """Warn (and return the text) when the estimator could not trust its estimate."""
    if method_details.get("reliable") is not False:
        return []
    text = (
        f"{name}: {method_details['unreliable_reason']}; alpha = {alpha:.4g} is "
        f"{method_details['fallback']} instead. Check the scatter plot, lower "
        "signal_percentile for a larger mask, or measure alpha on a single-stained control."
    )
    warnings.warn(text, AlphaReliabilityWarning, stacklevel=4)
    return [text]


def _masked_values(source: Any, target: Any, opts: AlphaOptions, rng: Any) -> dict[str, Any]:
    """The mask voxels the estimator sees (``x``, ``y``, float64), the prepared sample (for
    plots), the backgrounds, the mask's details and how the voxels were sampled."""
    n_all = int(np.prod(source.shape))
    cap = opts.max_alpha_voxels
    if cap is not None and n_all > cap:  # exact percentiles and mask over the whole volume
        try:
            return _whole_volume_values(source, target, opts, rng, n_all)
        except NonFiniteVoxels:  # NaN cannot be ranked: a sample of the finite voxels
            pass
    (s_raw, t_raw), flat = sample_voxels(source, target, max_voxels=cap, random_state=rng)
    s_raw, t_raw, dropped = _finite_only(s_raw, t_raw)
    s, t, bg_s, bg_t = prepare_source_target_for_alpha(
        s_raw,
        t_raw,
        background_percentile=opts.background_percentile,
        preprocess_alpha_inputs=opts.preprocess_alpha_inputs,
    )
    if not float(s.max()) > float(s.min()):
        raise _constant_source()
    mask, mask_info = make_alpha_mask(
        s,
        t,
        signal_percentile=opts.signal_percentile,
        target_low_percentile=opts.target_low_percentile,
        min_voxels=opts.min_mask_voxels,
    )
    sampling = {
        "percentiles_from": "sample",
        "sampled_voxels": int(s.size),
        "subsampled": flat is not None,
        "non_finite_voxels_ignored": dropped,
    }
    x, y = s[mask].astype(np.float64), t[mask].astype(np.float64)
    return {"x": x, "y": y, "sample": (s, t), "bg": (bg_s, bg_t), "mask_info": mask_info,
            "sampling": sampling}  # fmt: skip


def _finite_only(s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The voxel pairs finite in both (NaN or inf in either: left out), and how many were
    left out; an error when none is finite."""
    if s.dtype.kind != "f" and t.dtype.kind != "f":
        return s, t, 0
    ok = np.isfinite(s) & np.isfinite(t)
    n_bad = int(ok.size - np.count_nonzero(ok))
    if n_bad == 0:
        return s, t, 0
    if n_bad == ok.size:
        raise ValueError("every voxel of the source or target is NaN or infinite")
    return s[ok], t[ok], n_bad


def _whole_volume_values(
    source: Any, target: Any, opts: AlphaOptions, rng: Any, n_all: int
) -> dict[str, Any]:
    """:func:`_masked_values` of a volume larger than ``max_alpha_voxels``: exact
    whole-volume percentiles and mask (as the reference), at most that many mask voxels."""
    lazy = _is_dask(source) or _is_dask(target)
    if not lazy:
        source, target = np.asarray(source), np.asarray(target)
    cap = opts.max_alpha_voxels
    n_guess = min(cap, _GUESS_VOXELS)
    (s_raw, t_raw), _ = sample_voxels(source, target, max_voxels=n_guess, random_state=rng)
    mask_kw = {
        "background_percentile": opts.background_percentile,
        "preprocess": opts.preprocess_alpha_inputs,
        "signal_percentile": opts.signal_percentile,
        "target_low_percentile": opts.target_low_percentile,
        "min_voxels": opts.min_mask_voxels,
    }  # (raises on NaN or a constant source)
    if lazy:  # the same numbers in bounded passes over the blocks, subsampled inside
        from .lazy import whole_volume_mask_dask

        xs, ys, bg_s, bg_t, mask_info, subsampled = whole_volume_mask_dask(
            source, target, (s_raw, t_raw), rng=rng, max_voxels=cap, **mask_kw
        )
    else:
        xs, ys, bg_s, bg_t, mask_info = _whole_volume_mask(
            source, target, (s_raw, t_raw), **mask_kw
        )
        pick = _pick_mask_voxels(rng, xs.size, cap)
        subsampled = pick is not None
        if subsampled:  # at most max_alpha_voxels mask voxels (seeded, sorted)
            xs, ys = xs[pick], ys[pick]
    # the sample (for plots), prepared like the mask
    s, t = s_raw.astype(np.float32), t_raw.astype(np.float32)
    if opts.preprocess_alpha_inputs:
        s = np.maximum(s - np.float32(bg_s), np.float32(0))
        t = np.maximum(t - np.float32(bg_t), np.float32(0))
    sampling = {
        "percentiles_from": "whole_volume",
        "sampled_voxels": n_all,
        "subsampled": bool(subsampled),
        "non_finite_voxels_ignored": 0,
    }
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    return {"x": x, "y": y, "sample": (s, t), "bg": (bg_s, bg_t), "mask_info": mask_info,
            "sampling": sampling}  # fmt: skip
