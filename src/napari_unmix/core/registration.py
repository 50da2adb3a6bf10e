"""Drift correction of TZCYX stacks: shift estimation (subpixel) and application.

Used through :mod:`napari_unmix.core.stack_tools` (same names). Shifts are ``(y, x)``
corrections in pixels: what :func:`apply_shifts` passes to ``scipy.ndimage.shift`` to
bring a slice or time point onto its reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ._stacks import (
    Steps,
    _check_index,
    _check_stack,
    _is_dask,
    _map_volumes,
    _out_dtype,
    _zrange,
    run_steps,
)
from .validate import check_array, check_int

__all__ = [
    "REFERENCE_MODES",
    "REGISTRATION_METHODS",
    "apply_shifts",
    "correct_intra_stack_z_drift",
    "estimate_time_shifts",
    "estimate_z_drift",
    "register_stack",
]


def _refine_shift(
    reference: np.ndarray, moving: np.ndarray, shift: np.ndarray, *, max_iter: int = 20
) -> np.ndarray:
    """Least-squares (Lucas-Kanade) refinement of a translation, on the overlap only.

    Gauss-Newton on ``sum((gain * shift(moving, s) + offset - reference)**2)`` over the
    pixels that stay inside both images, so a slice that is dimmer or brighter than its
    reference (depth, bleaching) is still aligned exactly; cubic-spline shifts, so the
    estimate is not limited to a grid. Falls back to ``shift`` when it does not converge
    nearby (e.g. flat images).
    """
    ref = reference.astype(np.float64)
    coeffs = ndi.spline_filter(moving.astype(np.float64), order=3, mode="nearest")
    start = np.asarray(shift, np.float64)
    s, gain, offset = start.copy(), 1.0, 0.0
    for _ in range(max_iter):
        m = int(np.ceil(np.abs(s).max())) + 2
        if 2 * m + 4 > min(ref.shape):
            return start
        inner = (slice(m, ref.shape[0] - m), slice(m, ref.shape[1] - m))
        warped = ndi.shift(coeffs, s, order=3, mode="nearest", prefilter=False)
        gy, gx = np.gradient(warped)
        w = warped[inner].ravel()
        jac = np.stack(
            [-gain * gy[inner].ravel(), -gain * gx[inner].ravel(), w, np.ones_like(w)], axis=1
        )
        rhs = ref[inner].ravel() - (gain * w + offset)
        try:  # normal equations: a 4 x 4 system
            step = np.linalg.solve(jac.T @ jac, jac.T @ rhs)
        except np.linalg.LinAlgError:  # flat image: nothing to align on
            return start
        s, gain, offset = s + step[:2], gain + step[2], offset + step[3]
        if not np.all(np.isfinite(s)) or np.abs(s - start).max() > 2.0:
            return start
        if np.abs(step[:2]).max() < 1e-3:
            break
    return s


def _pcc_shift(reference: np.ndarray, moving: np.ndarray, upsample_factor: int) -> np.ndarray:
    from skimage.registration import phase_cross_correlation

    coarse, _, _ = phase_cross_correlation(
        reference, moving, upsample_factor=upsample_factor, normalization=None
    )
    return _refine_shift(reference, moving, coarse)


def _pcc_only_shift(reference: np.ndarray, moving: np.ndarray, upsample_factor: int) -> np.ndarray:
    from skimage.registration import phase_cross_correlation

    shift, _, _ = phase_cross_correlation(
        reference, moving, upsample_factor=upsample_factor, normalization=None
    )
    return np.asarray(shift, np.float64)


def _stackreg_shift(reference: np.ndarray, moving: np.ndarray, upsample_factor: int) -> np.ndarray:
    try:
        from pystackreg import StackReg
    except ImportError:  # optional dependency
        raise ValueError(
            "method='pystackreg' needs the optional package pystackreg "
            "(pip install pystackreg); or use method='phase_cross_correlation'"
        ) from None
    tmat = StackReg(StackReg.TRANSLATION).register(reference, moving)
    return -np.array([tmat[1, 2], tmat[0, 2]], np.float64)


#: Method name -> (function(reference, moving, upsample_factor) -> shift (y, x), label).
#: The shift is what moves ``moving`` onto ``reference`` (``ndimage.shift(moving, s)``).
REGISTRATION_METHODS: dict[str, tuple[Callable, str]] = {
    "phase_cross_correlation": (
        _pcc_shift,
        "phase cross-correlation (skimage), refined by least squares to a fraction of a pixel",
    ),
    "phase_cross_correlation_only": (
        _pcc_only_shift,
        "phase cross-correlation alone (faster; precision 1/upsample_factor px, e.g. 20)",
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
    if _is_dask(images):
        whole = images.rechunk({images.ndim - 2: -1, images.ndim - 1: -1})
        return whole.map_blocks(ndi.median_filter, size=footprint, dtype=images.dtype)
    return ndi.median_filter(images, size=footprint)


def _estimator(method: str, upsample_factor: int, post_median: bool, size: int) -> Callable:
    fn = _method(method)
    check_int("upsample_factor", upsample_factor)
    check_int("median_kernel_size", size)
    if int(upsample_factor) < 1:
        raise ValueError(f"upsample_factor must be >= 1, got {upsample_factor}")
    if int(size) < 1:
        raise ValueError(f"median_kernel_size must be >= 1, got {size}")

    def estimate(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
        ref = _prefilter(reference.astype(np.float32), post_median, size)
        mov = _prefilter(moving.astype(np.float32), post_median, size)
        return fn(ref, mov, int(upsample_factor))

    return estimate


def _ref_first(volume, z, shifts, estimate, half):
    return estimate(volume[0], volume[z])


def _ref_neighbor(volume, z, shifts, estimate, half):
    ks = range(max(0, z - half), z)
    return np.mean([shifts[k] + estimate(volume[k], volume[z]) for k in ks], axis=0)


def _ref_mean(volume, z, shifts, estimate, half):
    return estimate(volume.mean(axis=0), volume[z])


def _ref_max(volume, z, shifts, estimate, half):
    return estimate(volume.max(axis=0), volume[z])


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
    estimate = _estimator(method, upsample_factor, post_median_filter, median_kernel_size)
    reference = REFERENCE_MODES[reference_mode][0]
    shifts = np.zeros((n_t, n_z, 2), np.float64)
    for t in range(n_t):
        volume = np.asarray(stack[t, :, channel]).astype(np.float32)
        volume = _prefilter(volume, pre_median_filter, int(median_kernel_size))
        for z in range(n_z):
            if z == 0 and reference_mode in ("first", "neighbor"):
                continue
            shifts[t, z] = reference(volume, z, shifts[t], estimate, window // 2)
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
    estimate = _estimator(method, upsample_factor, post_median_filter, median_kernel_size)
    volumes = stack[:, start:stop, channel].astype(np.float32)  # one channel, lazy for dask
    filtered = _prefilter(volumes, pre_median_filter, int(median_kernel_size))
    projections = np.asarray(filtered.max(axis=1))  # only (T, Y, X) is computed
    shifts = np.zeros((n_t, 2), np.float64)
    for t in range(n_t):
        if t != reference_t:
            shifts[t] = estimate(projections[reference_t], projections[t])
        yield t + 1, n_t
    return shifts


#: scipy.ndimage boundary modes for shifted-in pixels
_SHIFT_MODES = ("constant", "nearest", "reflect", "mirror", "wrap", "grid-constant")


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
    dtype = _out_dtype(stack)

    def one(volume: np.ndarray, t: int, c: int) -> np.ndarray:
        out = np.empty(volume.shape, dtype)
        for z in range(volume.shape[0]):  # one 2-D shift per plane
            out[z] = ndi.shift(
                volume[z].astype(dtype), shifts[t, z], order=int(interpolation_order), mode=mode
            )
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
    (``mode="constant"``; ``"nearest"`` repeats the edge).

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
        Precision 1/upsample_factor pixels of the cross-correlation step (default 1),
        which a least-squares refinement then improves for ``"phase_cross_correlation"``.
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
    check_array("stack", stack, finite=True)
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
    pre_median_filter, post_median_filter, median_kernel_size, upsample_factor, interpolation_order, return_shifts
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
    check_array("stack", stack, finite=True)
    return run_steps(_register_steps(stack, registration_channel=registration_channel, **options))
