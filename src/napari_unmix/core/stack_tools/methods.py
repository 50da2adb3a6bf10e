"""The registries of the drift correction: shift estimators and intra-stack references.

Adding a shift estimator or a reference mode is one function plus one :class:`Method`
entry here; options, the command line and the dock take their choices from these.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..registry import Method, Registry
from ._stacks import _is_dask, fill_nonfinite, nan_max, nan_safe
from ._translation import estimate_translation

__all__ = ["REFERENCE_MODES", "REGISTRATION_METHODS"]


def _pcc_shift(
    reference: np.ndarray, moving: np.ndarray, upsample_factor: int, *, max_shift=None
) -> np.ndarray:
    return estimate_translation(reference, moving, refine="lsq", max_shift=max_shift).shift


def _pcc_only_shift(
    reference: np.ndarray, moving: np.ndarray, upsample_factor: int, *, max_shift=None
) -> np.ndarray:
    return estimate_translation(
        reference, moving, refine="dft", upsample_factor=upsample_factor, max_shift=max_shift
    ).shift


def _stackreg_shift(
    reference: np.ndarray, moving: np.ndarray, upsample_factor: int, *, max_shift=None
) -> np.ndarray:
    try:
        from pystackreg import StackReg
    except ImportError:  # optional dependency
        raise ValueError(
            "method='pystackreg' needs the optional package pystackreg "
            "(pip install pystackreg); or use method='phase_cross_correlation'"
        ) from None
    ref, mov = (fill_nonfinite(np.asarray(im, np.float64)) for im in (reference, moving))
    tmat = StackReg(StackReg.TRANSLATION).register(ref, mov)
    shift = -np.array([tmat[1, 2], tmat[0, 2]], np.float64)
    bound = 0.45 * np.array(ref.shape) if max_shift is None else np.full(2, float(max_shift))
    if not np.all(np.isfinite(shift)) or np.any(np.abs(shift) > bound):
        warnings.warn(
            f"StackReg found an implausible shift {np.round(shift, 2).tolist()} px (bound "
            f"{np.round(bound, 1).tolist()}); using zero shift. Try "
            "method='phase_cross_correlation'.",
            RuntimeWarning,
            stacklevel=2,
        )
        return np.zeros(2)
    return shift


#: Shift estimators. ``function(reference, moving, upsample_factor, *, max_shift)`` returns
#: the shift (y, x) that moves ``moving`` onto ``reference`` (``ndimage.shift(moving, s)``).
#: Every method ignores non-finite pixels and falls back to zero shift, with a
#: ``RuntimeWarning``, when it finds no plausible shift.
REGISTRATION_METHODS = Registry(
    "method",
    [
        Method(
            "phase_cross_correlation",
            _pcc_shift,
            "Cross-correlation, least-squares refined",
            "masked normalised cross-correlation on the overlap (checked for plausibility), "
            "refined by least squares to a fraction of a pixel",
        ),
        Method(
            "phase_cross_correlation_only",
            _pcc_only_shift,
            "Cross-correlation, upsampled",
            "the same peak refined by upsampled cross-correlation instead (precision "
            "1/upsample_factor px, e.g. 20; less exact under noise)",
        ),
        Method(
            "pystackreg",
            _stackreg_shift,
            "StackReg",
            "StackReg translation (optional pystackreg package)",
        ),
    ],
)


def _prefilter(images: Any, on: bool, size: int) -> Any:
    """Median over YX of every 2-D image in ``images`` (..., Y, X) when ``on``.

    A dask array stays lazy (chunks holding whole YX planes).
    """
    if not on:
        return images
    footprint = (1,) * (images.ndim - 2) + (size, size)

    def median(block: np.ndarray) -> np.ndarray:
        return nan_safe(lambda a: ndi.median_filter(a, size=footprint), block)

    if _is_dask(images):
        whole = images.rechunk({images.ndim - 2: -1, images.ndim - 1: -1})
        return whole.map_blocks(median, dtype=images.dtype)
    return median(images)


def _ref_first(volume, z, shifts, estimate, half):
    return estimate(volume[0], volume[z], f"z-slice {z} against z-slice 0")


def _ref_neighbor(volume, z, shifts, estimate, half):
    ks = range(max(0, z - half), z)
    return np.mean(
        [shifts[k] + estimate(volume[k], volume[z], f"z-slice {z} against {k}") for k in ks],
        axis=0,
    )


def _ref_mean(volume, z, shifts, estimate, half):
    finite = np.isfinite(volume)
    total = np.where(finite, volume, 0).sum(axis=0)
    count = finite.sum(axis=0)
    mean = np.divide(total, count, out=np.full(total.shape, np.nan, total.dtype), where=count > 0)
    return estimate(mean, volume[z], f"z-slice {z} against the mean over Z")


def _ref_max(volume, z, shifts, estimate, half):
    return estimate(nan_max(volume, 0), volume[z], f"z-slice {z} against the max over Z")


#: Intra-stack reference modes. Shifts of slice 0 are 0 for "first" and "neighbor" (the
#: stack is aligned to its first slice).
REFERENCE_MODES = Registry(
    "reference_mode",
    [
        Method(
            "neighbor",
            _ref_neighbor,
            "Neighbouring slices",
            "each slice against the neighbour_window_size // 2 slices before it "
            "(drift accumulates)",
        ),
        Method("first", _ref_first, "First slice", "each slice against the first slice"),
        Method("mean", _ref_mean, "Mean over Z", "each slice against the mean over Z"),
        Method(
            "full_projection",
            _ref_max,
            "Max projection",
            "each slice against the max projection over Z",
        ),
    ],
)
