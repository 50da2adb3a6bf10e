"""Drift correction of TZCYX stacks: shift estimation (subpixel) and application.

Used through :mod:`napari_unmix.core.stack_tools` (same names). Shifts are ``(y, x)``
corrections in pixels: what :func:`apply_shifts` passes to ``scipy.ndimage.shift`` to
bring a slice or time point onto its reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask
from scipy import ndimage as ndi

from ._stacks import (
    Steps,
    _check_index,
    _check_stack,
    _map_volumes,
    _out_dtype,
    _zrange,
    fill_nonfinite,
    nan_max,
    nan_safe,
    run_steps,
)
from ._translation import estimate_translation
from .validate import check_array, check_int

__all__ = [
    "REFERENCE_MODES",
    "REGISTRATION_METHODS",
    "apply_shifts",
    "correct_intra_stack_z_drift",
    "estimate_time_shifts",
    "estimate_translation",
    "estimate_z_drift",
    "register_stack",
]


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


#: Method name -> (function(reference, moving, upsample_factor, *, max_shift) -> shift
#: (y, x), label). The shift is what moves ``moving`` onto ``reference``
#: (``ndimage.shift(moving, s)``). Every method ignores non-finite pixels and falls back
#: to zero shift, with a ``RuntimeWarning``, when it finds no plausible shift.
REGISTRATION_METHODS: dict[str, tuple[Callable, str]] = {
    "phase_cross_correlation": (
        _pcc_shift,
        "masked normalised cross-correlation on the overlap (checked for plausibility), "
        "refined by least squares to a fraction of a pixel",
    ),
    "phase_cross_correlation_only": (
        _pcc_only_shift,
        "the same peak refined by upsampled cross-correlation instead (precision "
        "1/upsample_factor px, e.g. 20; less exact under noise)",
    ),
    "pystackreg": (_stackreg_shift, "StackReg translation (optional pystackreg package)"),
}


def _method(method: str) -> Callable:
    if method not in REGISTRATION_METHODS:
        raise ValueError(f"unknown {method=}; choose from {sorted(REGISTRATION_METHODS)}")
    return REGISTRATION_METHODS[method][0]


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


def _estimator(
    method: str, upsample_factor: int, post_median: bool, size: int, max_shift: float | None
) -> Callable:
    fn = _method(method)
    check_int("upsample_factor", upsample_factor)
    check_int("median_kernel_size", size)
    if int(upsample_factor) < 1:
        raise ValueError(f"upsample_factor must be >= 1, got {upsample_factor}")
    if max_shift is not None and not (np.isfinite(max_shift) and max_shift > 0):
        raise ValueError(f"max_shift must be a positive number of pixels or None, got {max_shift}")
    if int(size) < 1:
        raise ValueError(f"median_kernel_size must be >= 1, got {size}")

    def estimate(reference: np.ndarray, moving: np.ndarray, where: str) -> np.ndarray:
        ref = _prefilter(reference.astype(np.float32), post_median, size)
        mov = _prefilter(moving.astype(np.float32), post_median, size)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shift = fn(ref, mov, int(upsample_factor), max_shift=max_shift)
        for w in caught:  # say which image it was about
            warnings.warn(f"{where}: {w.message}", w.category, stacklevel=4)
        return shift

    return estimate


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


#: Intra-stack reference modes: name -> (function, label). Shifts of slice 0 are 0 for
#: "first" and "neighbor" (the stack is aligned to its first slice).
REFERENCE_MODES: dict[str, tuple[Callable, str]] = {
    "neighbor": (
        _ref_neighbor,
        "each slice against the neighbour_window_size // 2 slices before it (drift accumulates)",
    ),
    "first": (_ref_first, "each slice against the first slice"),
    "mean": (_ref_mean, "each slice against the mean over Z"),
    "full_projection": (_ref_max, "each slice against the max projection over Z"),
}


def estimate_z_drift(
    stack: Any,
    /,
    *,
    registration_channel: int = 0,
    method: str = "phase_cross_correlation",
    reference_mode: str = "neighbor",
    neighbor_window_size: int = 3,
    pre_median_filter: bool = False,
    post_median_filter: bool = False,
    median_kernel_size: int = 3,
    upsample_factor: int = 1,
    max_shift: float | None = None,
) -> Steps:
    """Generator: estimate the (y, x) shift of every z-slice; returns shifts ``(T, Z, 2)``.

    Yields ``(done, total)`` once per time point. The shifts are the corrections that
    :func:`apply_shifts` applies (``ndimage.shift(slice, shift)``). See
    :func:`correct_intra_stack_z_drift` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((1, 3, 1, 16, 16), np.float32)
    >>> stack[..., 5:9, 5:9] = 1
    >>> run_steps(estimate_z_drift(stack)).shape
    (1, 3, 2)
    """
    stack = _check_stack(stack)
    n_t, n_z, n_c = stack.shape[:3]
    channel = _check_index("registration_channel", registration_channel, n_c, "channels")
    if reference_mode not in REFERENCE_MODES:
        raise ValueError(f"unknown {reference_mode=}; choose from {sorted(REFERENCE_MODES)}")
    window = int(neighbor_window_size)
    if window < 3 or window % 2 == 0:
        raise ValueError(f"neighbor_window_size must be odd and >= 3, got {neighbor_window_size}")
    estimate = _estimator(
        method, upsample_factor, post_median_filter, median_kernel_size, max_shift
    )
    reference = REFERENCE_MODES[reference_mode][0]
    shifts = np.zeros((n_t, n_z, 2), np.float64)
    for t in range(n_t):
        volume = np.asarray(stack[t, :, channel]).astype(np.float32)
        volume = _prefilter(volume, pre_median_filter, int(median_kernel_size))
        for z in range(n_z):
            if z == 0 and reference_mode in ("first", "neighbor"):
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                shifts[t, z] = reference(volume, z, shifts[t], estimate, window // 2)
            for w in caught:
                warnings.warn(f"time point {t}, {w.message}", w.category, stacklevel=2)
        yield t + 1, n_t
    return shifts


def estimate_time_shifts(
    stack: Any,
    /,
    *,
    registration_channel: int,
    method: str = "phase_cross_correlation",
    zrange: Sequence[int] | None = None,
    reference_t: int = 0,
    pre_median_filter: bool = False,
    post_median_filter: bool = False,
    median_kernel_size: int = 3,
    upsample_factor: int = 1,
    max_shift: float | None = None,
) -> Steps:
    """Generator: estimate one (y, x) shift per time point; returns shifts ``(T, 2)``.

    Shifts come from the max-z projection (over ``zrange``) of ``registration_channel``,
    each time point against ``reference_t``. See :func:`register_stack`.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((2, 1, 1, 16, 16), np.float32)
    >>> stack[..., 5:9, 5:9] = 1
    >>> shifts = run_steps(estimate_time_shifts(stack, registration_channel=0))
    >>> shifts.shape, bool(np.abs(shifts).max() < 1e-6)
    ((2, 2), True)
    """
    stack = _check_stack(stack)
    n_t, n_z, n_c = stack.shape[:3]
    channel = _check_index("registration_channel", registration_channel, n_c, "channels")
    reference_t = _check_index("reference_t", reference_t, n_t, "time points")
    start, stop = _zrange(zrange, n_z)
    estimate = _estimator(
        method, upsample_factor, post_median_filter, median_kernel_size, max_shift
    )
    volumes = stack[:, start:stop, channel].astype(np.float32)  # one channel, lazy for dask
    filtered = _prefilter(volumes, pre_median_filter, int(median_kernel_size))
    projections = np.asarray(nan_max(filtered, 1))  # only (T, Y, X) is computed
    shifts = np.zeros((n_t, 2), np.float64)
    for t in range(n_t):
        if t != reference_t:
            shifts[t] = estimate(
                projections[reference_t], projections[t], f"time point {t} against {reference_t}"
            )
        yield t + 1, n_t
    return shifts


#: scipy.ndimage boundary modes for shifted-in pixels
_SHIFT_MODES = ("constant", "nearest", "reflect", "mirror", "wrap", "grid-constant")


def _shift_plane(plane: np.ndarray, shift: np.ndarray, order: int, mode: str) -> np.ndarray:
    """``ndimage.shift`` of one plane; non-finite pixels move to the nearest pixel.

    They are interpolated as the mean of their finite neighbours, so they do not spread
    into (or pull on) the pixels around them, and keep their value (NaN, inf) where they
    land.
    """
    whole = np.round(shift)  # within 1e-6 px of whole pixels: no blur
    shift = np.where(np.abs(shift - whole) < 1e-6, whole, shift)
    # scipy's "constant" sets a whole border row to 0 for any sub-pixel shift;
    # "grid-constant" blends it with the 0 outside by the fraction that left
    mode = "grid-constant" if mode == "constant" else mode
    bad = ~np.isfinite(plane)
    if not bad.any():
        return ndi.shift(plane, shift, order=order, mode=mode)
    out = ndi.shift(fill_nonfinite(plane, bad), shift, order=order, mode=mode)
    codes = np.select([np.isnan(plane), plane == np.inf, plane == -np.inf], [1, 2, 3], 0)
    codes = codes.astype(np.uint8)
    moved = ndi.shift(codes, shift, order=0, mode="grid-constant", cval=0)
    out[moved > 0] = np.array([np.nan, np.inf, -np.inf], out.dtype)[moved[moved > 0] - 1]
    return out


def _apply_shifts_steps(
    stack: Any, shifts: np.ndarray, *, interpolation_order: int = 1, mode: str = "constant"
) -> Steps:
    stack = _check_stack(stack)
    n_t, n_z = stack.shape[:2]
    check_array("shifts", shifts, finite=True)
    if mode not in _SHIFT_MODES:
        raise ValueError(f"unknown mode={mode!r}; choose one of {list(_SHIFT_MODES)}")
    shifts = np.asarray(shifts, np.float64)
    if shifts.shape == (n_t, 2):
        shifts = np.repeat(shifts[:, None], n_z, axis=1)
    if shifts.shape != (n_t, n_z, 2):
        raise ValueError(
            f"shifts must have shape (T, 2) or (T, Z, 2) = ({n_t}, {n_z}, 2) for "
            f"{stack.shape=}, got {shifts.shape=}"
        )
    check_int("interpolation_order", interpolation_order, minimum=0, maximum=5)
    order = int(interpolation_order)
    dtype = _out_dtype(stack)

    def one(volume: np.ndarray, t: int, c: int) -> np.ndarray:
        out = np.empty(volume.shape, dtype)
        for z in range(volume.shape[0]):  # one 2-D shift per plane
            out[z] = _shift_plane(volume[z].astype(dtype), shifts[t, z], order, mode)
        return out

    return (yield from _map_volumes(stack, one, dtype))


def apply_shifts(
    stack: Any,
    shifts: np.ndarray,
    /,
    *,
    interpolation_order: int = 1,
    mode: str = "constant",
) -> Any:
    """Shift every YX plane of every channel by ``shifts`` (``(T, 2)`` or ``(T, Z, 2)``).

    ``interpolation_order`` 1 (linear, default) never creates values outside the input
    range; 3 (cubic spline) is sharper. Pixels shifted in from outside become 0
    (``mode="constant"``; a border pixel that moved by a fraction of a pixel is blended
    with that 0 by the same fraction; ``"nearest"`` repeats the edge). A NaN or inf pixel moves to the
    nearest pixel and keeps its value; its neighbours are interpolated as if it held the
    mean of its finite neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((1, 1, 1, 1, 5), np.float32)
    >>> stack[..., 2] = 1
    >>> apply_shifts(stack, np.array([[0.0, 1.0]]))[0, 0, 0, 0].tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0]
    """
    return run_steps(
        _apply_shifts_steps(stack, shifts, interpolation_order=interpolation_order, mode=mode)
    )


def _z_drift_steps(
    stack: Any, *, interpolation_order: int = 1, return_shifts: bool = False, **options: Any
) -> Steps:
    stack = _check_stack(stack)
    shifts = yield from estimate_z_drift(stack, **options)
    out = yield from _apply_shifts_steps(stack, shifts, interpolation_order=interpolation_order)
    return (out, shifts) if return_shifts else out


def correct_intra_stack_z_drift(stack: Any, /, **options: Any) -> Any:
    """Align the z-slices of every time point in Y and X (sample drift during a z-scan).

    Shifts are estimated on ``registration_channel`` and applied to all channels of the
    slice.

    Parameters
    ----------
    stack : array, TZCYX
    registration_channel : int, keyword
        Channel with structures that are visible in every slice (default 0).
    method : str, keyword
        A key of :data:`REGISTRATION_METHODS` (default ``"phase_cross_correlation"``).
    reference_mode : str, keyword
        A key of :data:`REFERENCE_MODES`: ``"neighbor"`` (default; each slice against
        the slices just before it, good when the content changes with depth), ``"first"``,
        ``"mean"`` or ``"full_projection"``.
    neighbor_window_size : int, keyword
        Odd window (default 3): slice z is compared with the ``window // 2`` slices
        before it and the estimates averaged.
    pre_median_filter, post_median_filter : bool, keyword
        Median-filter the registration channel before building the references, or both
        images just before each estimate (for noisy data). Shift estimation only.
    median_kernel_size : int, keyword
        Size of those median filters (default 3).
    upsample_factor : int, keyword
        Precision 1/upsample_factor pixels of ``"phase_cross_correlation_only"``
        (default 1: whole pixels); ``"phase_cross_correlation"`` refines by least
        squares instead and does not need it.
    max_shift : float, keyword
        Largest plausible shift per axis in pixels (default None: 45 % of the image).
        A tighter bound makes the estimate more robust when you know the drift is small.
    interpolation_order : int, keyword
        Spline order of the shift (default 1, linear).
    return_shifts : bool, keyword
        Also return the shifts ``(T, Z, 2)`` (y, x).

    Returns
    -------
    array or (array, ndarray)
        TZCYX float32 (float64 for float64 input); with ``return_shifts`` the shifts too.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage as ndi
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> plane = make_bleedthrough_stack(n_t=1, n_z=1, shape=(48, 48))[0][0, 0, 0]
    >>> stack = np.stack([plane, ndi.shift(plane, (1.5, -0.5), mode="nearest")])[None, :, None]
    >>> _, shifts = correct_intra_stack_z_drift(stack, return_shifts=True)
    >>> np.round(shifts[0, 1], 1).tolist()
    [-1.5, 0.5]
    """
    check_array("stack", stack)  # NaN / inf pixels are allowed: they get no weight
    return run_steps(_z_drift_steps(stack, **options))


def _register_steps(
    stack: Any,
    *,
    registration_channel: int,
    interpolation_order: int = 1,
    return_shifts: bool = False,
    **options: Any,
) -> Steps:
    stack = _check_stack(stack)
    shifts = yield from estimate_time_shifts(
        stack, registration_channel=registration_channel, **options
    )
    out = yield from _apply_shifts_steps(stack, shifts, interpolation_order=interpolation_order)
    return (out, shifts) if return_shifts else out


def register_stack(stack: Any, /, *, registration_channel: int, **options: Any) -> Any:
    """Rigid translation over time: align every time point to ``reference_t``.

    The shift of each time point is estimated on the max-z projection of
    ``registration_channel`` and applied to every channel and z-slice.

    Parameters
    ----------
    stack : array, TZCYX
    registration_channel : int, keyword
        Channel used to estimate the shifts.
    method : str, keyword
        A key of :data:`REGISTRATION_METHODS` (default ``"phase_cross_correlation"``).
    zrange : (start, stop), keyword
        Z-slices used for the projection (default all).
    reference_t : int, keyword
        Time point the others are aligned to (default 0).
    pre_median_filter, post_median_filter, median_kernel_size, upsample_factor, max_shift, interpolation_order, return_shifts
        As in :func:`correct_intra_stack_z_drift`; shifts have shape ``(T, 2)``.

    Returns
    -------
    array or (array, ndarray)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage as ndi
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> plane = make_bleedthrough_stack(n_t=1, n_z=1, shape=(48, 48))[0][0, 0, 0]
    >>> stack = np.stack([plane, ndi.shift(plane, (0.7, 2.0), mode="nearest")])[:, None, None]
    >>> _, shifts = register_stack(stack, registration_channel=0, return_shifts=True)
    >>> np.round(shifts, 1).tolist()
    [[0.0, 0.0], [-0.7, -2.0]]
    """
    check_array("stack", stack)  # NaN / inf pixels are allowed: they get no weight
    return run_steps(_register_steps(stack, registration_channel=registration_channel, **options))
