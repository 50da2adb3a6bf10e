"""Stack tools around unmixing: filters, histogram matching, max-z projection, registration.

Every function takes a canonical ``TZCYX`` stack (numpy or dask) and returns a ``TZCYX``
stack; anything else is refused with a message that shows the shape it got (convert first
with :func:`napari_unmix.core.axes.to_tzcyx`).

dtype rules
    Tools that compute new values (filters, histogram matching, shifts) return float32,
    or float64 when the input is float64; integer input is converted before any
    arithmetic. :func:`max_z_project` selects values and keeps the input dtype.

Large data
    Filters, histogram matching and the shift step map over one ``(t, c)`` volume at a
    time; on a dask array they stay lazy (``map_blocks`` over chunks that hold whole
    ``ZYX`` volumes). Shift estimation works on the 2-D images of one registration
    channel, computed exactly, so numpy and dask inputs give the same shifts.

Progress
    The long tools have a generator form in :data:`STACK_TOOLS` (``tool.steps(...)``)
    that yields ``(done, total)`` and returns the result; widgets wrap it in a
    ``thread_worker`` and the command line prints it. The plain functions below drain it.

Examples
--------
>>> import numpy as np
>>> stack = np.zeros((2, 3, 2, 16, 16), np.uint16)
>>> max_z_project(stack).shape
(2, 1, 2, 16, 16)
>>> apply_filters(stack, ["median", "gaussian"]).dtype
dtype('float32')
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .axes import validate_tzcyx

__all__ = [
    "FILTERS",
    "REFERENCE_MODES",
    "REGISTRATION_METHODS",
    "STACK_TOOLS",
    "StackTool",
    "apply_filters",
    "apply_shifts",
    "correct_intra_stack_z_drift",
    "estimate_time_shifts",
    "estimate_z_drift",
    "match_histograms_across_time",
    "max_z_project",
    "register_stack",
    "run_steps",
]

Steps = Generator[tuple[int, int], None, Any]


# ----------------------------------------------------------------------------- helpers
def run_steps(steps: Steps) -> Any:
    """Drain a generator that yields ``(done, total)`` and return its return value.

    Examples
    --------
    >>> def work():
    ...     yield 1, 1
    ...     return "result"
    >>> run_steps(work())
    'result'
    """
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "dask"


def _out_dtype(data: Any) -> np.dtype:
    return np.dtype(np.float64) if np.dtype(data.dtype) == np.float64 else np.dtype(np.float32)


def _check_stack(stack: Any) -> Any:
    if not hasattr(stack, "shape"):
        stack = np.asarray(stack)
    validate_tzcyx(stack, name="stack")
    return stack


def _check_index(name: str, value: int, n: int, axis: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not 0 <= int(value) < n:
        raise ValueError(f"{name}={value} is out of range: the stack has {n} {axis} (0..{n - 1})")
    return int(value)


def _zrange(zrange: Sequence[int] | None, n_z: int) -> tuple[int, int]:
    """Half-open ``(start, stop)``; ``stop`` past the end is clamped to Z."""
    if zrange is None:
        return 0, n_z
    if len(zrange) != 2:
        raise ValueError(f"zrange must be (start, stop) or None, got {zrange=}")
    start, stop = int(zrange[0]), min(int(zrange[1]), n_z)
    if not 0 <= start < stop:
        raise ValueError(
            f"zrange={tuple(zrange)} selects no slice of a stack with {n_z} z-slices; "
            f"use 0 <= start < stop <= {n_z}"
        )
    return start, stop


def _per_t(value: Any, n_t: int, name: str, cast: Callable) -> list:
    """A scalar, or one value per time point."""
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        values = [cast(v) for v in value]
        if len(values) != n_t:
            raise ValueError(
                f"{name} has {len(values)} values but the stack has {n_t} time points; "
                "give one value, or one per time point"
            )
        return values
    return [cast(value)] * n_t


def _map_volumes(
    stack: Any, fn: Callable[[np.ndarray, int, int], np.ndarray], dtype: np.dtype
) -> Steps:
    """Apply ``fn(volume_zyx, t, c)`` to every (t, c) volume; lazily on dask arrays."""
    n_t, _, n_c = stack.shape[:3]
    if _is_dask(stack):
        chunked = stack.rechunk({0: 1, 1: -1, 2: 1, 3: -1, 4: -1})

        def block(b: np.ndarray, block_info: dict | None = None) -> np.ndarray:
            if block_info is None or 0 not in block_info:  # dask's meta probe
                return np.empty(b.shape, dtype)
            t, _, c = block_info[0]["chunk-location"][:3]
            out = fn(np.asarray(b[0, :, 0]), t, c)
            return np.asarray(out, dtype)[None, :, None]

        yield 1, 1
        return chunked.map_blocks(block, dtype=dtype)
    out = np.empty(stack.shape, dtype)
    total = n_t * n_c
    for t in range(n_t):
        for c in range(n_c):
            out[t, :, c] = fn(np.asarray(stack[t, :, c]), t, c)
            yield t * n_c + c + 1, total
    return out


# ----------------------------------------------------------------------------- filters
def _median(volume: np.ndarray, size: int, apply_3d: bool) -> np.ndarray:
    if size < 1:
        raise ValueError(f"median_size must be >= 1, got {size}")
    return ndi.median_filter(volume, size=(size if apply_3d else 1, size, size))


def _gaussian(volume: np.ndarray, sigma: float, apply_3d: bool) -> np.ndarray:
    if sigma < 0:
        raise ValueError(f"gaussian_sigma must be >= 0, got {sigma}")
    return ndi.gaussian_filter(volume, sigma=(sigma if apply_3d else 0.0, sigma, sigma))


#: Filter name -> (function(volume, parameter, apply_3d), parameter keyword, label).
FILTERS: dict[str, tuple[Callable, str, str]] = {
    "median": (_median, "median_size", "Median (removes shot noise and hot pixels)"),
    "gaussian": (_gaussian, "gaussian_sigma", "Gaussian (smooths; sigma in pixels)"),
}


def _filter_names(filters: str | Sequence[str], name: str = "filters") -> list[str]:
    names = [filters] if isinstance(filters, str) else list(filters)
    names = [str(f).strip().lower() for f in names]
    if not names:
        raise ValueError(f"{name} is empty; give at least one of {sorted(FILTERS)}")
    bad = [f for f in names if f not in FILTERS]
    if bad:
        raise ValueError(f"unknown filter(s) {bad} in {name}; choose from {sorted(FILTERS)}")
    return names


def _filters_steps(
    stack: Any,
    filters: str | Sequence[str] = ("median",),
    *,
    median_size: int | Sequence[int] = 3,
    gaussian_sigma: float | Sequence[float] = 1.0,
    apply_3d: bool = False,
    channel_overrides: dict[int, dict[str, Any]] | None = None,
    filters_channel2: str | Sequence[str] | None = None,
    median_size_channel2: int | Sequence[int] | None = None,
    gaussian_sigma_channel2: float | Sequence[float] | None = None,
) -> Steps:
    stack = _check_stack(stack)
    n_t, _, n_c = stack.shape[:3]
    base = {
        "filters": _filter_names(filters),
        "median_size": _per_t(median_size, n_t, "median_size", int),
        "gaussian_sigma": _per_t(gaussian_sigma, n_t, "gaussian_sigma", float),
    }
    overrides = {int(k): dict(v) for k, v in (channel_overrides or {}).items()}
    compat = {
        "filters": filters_channel2,
        "median_size": median_size_channel2,
        "gaussian_sigma": gaussian_sigma_channel2,
    }
    if any(v is not None for v in compat.values()) and n_c > 1:  # the reference's names
        overrides.setdefault(1, {}).update({k: v for k, v in compat.items() if v is not None})
    per_channel = []
    for c in range(n_c):
        ov = overrides.pop(c, {})
        unknown = sorted(set(ov) - set(base))
        if unknown:
            raise ValueError(
                f"channel_overrides[{c}] has unknown keys {unknown}; use {sorted(base)}"
            )
        per_channel.append(
            {
                "filters": _filter_names(ov["filters"], f"channel_overrides[{c}]['filters']")
                if "filters" in ov
                else base["filters"],
                "median_size": _per_t(ov["median_size"], n_t, "median_size", int)
                if "median_size" in ov
                else base["median_size"],
                "gaussian_sigma": _per_t(ov["gaussian_sigma"], n_t, "gaussian_sigma", float)
                if "gaussian_sigma" in ov
                else base["gaussian_sigma"],
            }
        )
    if overrides:
        raise ValueError(
            f"channel_overrides names channel(s) {sorted(overrides)} but the stack has "
            f"{n_c} channel(s) ({stack.shape=})"
        )
    for p in per_channel:  # validate parameters before any work
        for step in p["filters"]:
            fn, key, _ = FILTERS[step]
            for value in set(p[key]):
                fn(np.zeros((1, 1, 1), np.float32), value, False)
    dtype = _out_dtype(stack)

    def one(volume: np.ndarray, t: int, c: int) -> np.ndarray:
        work = volume.astype(dtype)
        p = per_channel[c]
        for step in p["filters"]:
            fn, key, _ = FILTERS[step]
            work = fn(work, p[key][t], bool(apply_3d))
        return work

    return (yield from _map_volumes(stack, one, dtype))


def apply_filters(stack: Any, /, filters: str | Sequence[str] = ("median",), **options: Any) -> Any:
    """Median and/or Gaussian filters, in the given order, per plane or per volume.

    Parameters
    ----------
    stack : array, TZCYX
        numpy or dask array (dask stays lazy).
    filters : str or sequence of str
        Steps applied in order, each ``"median"`` or ``"gaussian"``
        (e.g. ``["median", "gaussian"]``).
    median_size : int or sequence of int, keyword
        Median window in pixels (default 3); one value per time point is allowed.
    gaussian_sigma : float or sequence of float, keyword
        Gaussian sigma in pixels (default 1.0); one value per time point is allowed.
    apply_3d : bool, keyword
        False (default): 2-D filters on every YX plane. True: 3-D over each ZYX volume
        (the same size in z as in y and x, in pixels).
    channel_overrides : dict, keyword
        ``{channel: {"filters": ..., "median_size": ..., "gaussian_sigma": ...}}`` for
        channels that need other settings (e.g. a noisier target channel).
    filters_channel2, median_size_channel2, gaussian_sigma_channel2 : keyword
        The ``spectral-unmixing`` names of an override for channel 1.

    Returns
    -------
    array
        TZCYX, float32 (float64 for float64 input), same shape.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage as ndi
    >>> stack = np.random.default_rng(0).random((1, 2, 1, 8, 8)).astype(np.float32)
    >>> out = apply_filters(stack, "median", median_size=3)
    >>> bool(np.array_equal(out[0, 1, 0], ndi.median_filter(stack[0, 1, 0], size=3)))
    True
    """
    return run_steps(_filters_steps(stack, filters, **options))


# ----------------------------------------------------------------------------- histograms
def _histogram_steps(stack: Any, *, reference_t: int = 0) -> Steps:
    from skimage.exposure import match_histograms

    stack = _check_stack(stack)
    if stack.shape[0] < 2:
        raise ValueError(
            f"histogram matching across time needs at least 2 time points, got {stack.shape=}"
        )
    reference_t = _check_index("reference_t", reference_t, stack.shape[0], "time points")
    dtype = _out_dtype(stack)
    refs = np.asarray(stack[reference_t]).astype(dtype)  # ZCYX, one time point (exact)

    def one(volume: np.ndarray, t: int, c: int) -> np.ndarray:
        if t == reference_t:
            return volume.astype(dtype)
        return match_histograms(volume.astype(dtype), refs[:, c], channel_axis=None)

    return (yield from _map_volumes(stack, one, dtype))


def match_histograms_across_time(stack: Any, /, *, reference_t: int = 0) -> Any:
    """Match every time point's histogram to the reference time point, per channel.

    Corrects bleaching or laser drift before a bleed-through coefficient is estimated at
    one time point and applied to all. Each ``(t, c)`` ZYX volume is matched as a whole
    (``skimage.exposure.match_histograms``).

    Parameters
    ----------
    stack : array, TZCYX
        At least two time points.
    reference_t : int
        Time point whose histograms the others take (default 0).

    Returns
    -------
    array
        TZCYX, float32 (float64 for float64 input).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> stack = rng.random((2, 1, 1, 32, 32)).astype(np.float32)
    >>> stack[1] *= 0.5  # bleached
    >>> out = match_histograms_across_time(stack)
    >>> bool(np.allclose(np.quantile(out[1], [0.1, 0.5, 0.9]), np.quantile(out[0], [0.1, 0.5, 0.9]), atol=0.01))
    True
    """
    return run_steps(_histogram_steps(stack, reference_t=reference_t))


# ----------------------------------------------------------------------------- projection
def max_z_project(stack: Any, /, *, zrange: Sequence[int] | None = None) -> Any:
    """Maximum-intensity projection over Z, keeping Z as a length-1 axis.

    Parameters
    ----------
    stack : array, TZCYX
        numpy or dask (stays lazy).
    zrange : (start, stop), optional
        Half-open range of z-slices to project; ``stop`` past the end is clamped.

    Returns
    -------
    array
        ``(T, 1, C, Y, X)``, same dtype as the input.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.arange(2 * 3 * 4).reshape(1, 3, 1, 2, 4)
    >>> max_z_project(stack, zrange=(0, 2))[0, 0, 0].tolist()
    [[8, 9, 10, 11], [12, 13, 14, 15]]
    """
    stack = _check_stack(stack)
    start, stop = _zrange(zrange, stack.shape[1])
    return stack[:, start:stop].max(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- registration
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
    "pystackreg": (_stackreg_shift, "StackReg translation (optional pystackreg package)"),
}


def _method(method: str) -> Callable:
    if method not in REGISTRATION_METHODS:
        raise ValueError(f"unknown {method=}; choose from {sorted(REGISTRATION_METHODS)}")
    return REGISTRATION_METHODS[method][0]


def _prefilter(images: np.ndarray, on: bool, size: int) -> np.ndarray:
    """Median over YX of every 2-D image in ``images`` (..., Y, X) when ``on``."""
    if not on:
        return images
    return ndi.median_filter(images, size=(1,) * (images.ndim - 2) + (size, size))


def _estimator(method: str, upsample_factor: int, post_median: bool, size: int) -> Callable:
    fn = _method(method)
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
    volumes = np.asarray(stack[:, start:stop, channel]).astype(np.float32)  # one channel
    projections = _prefilter(volumes, pre_median_filter, int(median_kernel_size)).max(axis=1)
    shifts = np.zeros((n_t, 2), np.float64)
    for t in range(n_t):
        if t != reference_t:
            shifts[t] = estimate(projections[reference_t], projections[t])
        yield t + 1, n_t
    return shifts


def _apply_shifts_steps(
    stack: Any, shifts: np.ndarray, *, interpolation_order: int = 1, mode: str = "constant"
) -> Steps:
    stack = _check_stack(stack)
    n_t, n_z = stack.shape[:2]
    shifts = np.asarray(shifts, np.float64)
    if shifts.shape == (n_t, 2):
        shifts = np.repeat(shifts[:, None], n_z, axis=1)
    if shifts.shape != (n_t, n_z, 2):
        raise ValueError(
            f"shifts must have shape (T, 2) or (T, Z, 2) = ({n_t}, {n_z}, 2) for "
            f"{stack.shape=}, got {shifts.shape=}"
        )
    if not 0 <= int(interpolation_order) <= 5:
        raise ValueError(f"interpolation_order must be 0..5, got {interpolation_order}")
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
    return run_steps(_register_steps(stack, registration_channel=registration_channel, **options))


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class StackTool:
    """One stack tool: generator form, plain function, label and one-line doc."""

    steps: Callable[..., Steps]
    function: Callable[..., Any]
    label: str
    doc: str


def _projection_steps(stack: Any, **options: Any) -> Steps:
    out = max_z_project(stack, **options)
    yield 1, 1
    return out


#: Tool name -> :class:`StackTool`; the API, command line and widget are driven from it.
STACK_TOOLS: dict[str, StackTool] = {
    "filter": StackTool(
        _filters_steps, apply_filters, "Filters", "median / Gaussian filters, 2-D or 3-D"
    ),
    "match-histograms": StackTool(
        _histogram_steps,
        match_histograms_across_time,
        "Match histograms across time",
        "match every time point's histogram to a reference time point, per channel",
    ),
    "max-z": StackTool(
        _projection_steps, max_z_project, "Max-z projection", "maximum projection over Z"
    ),
    "z-drift": StackTool(
        _z_drift_steps,
        correct_intra_stack_z_drift,
        "Correct intra-stack z-drift",
        "align the z-slices of every time point in Y and X",
    ),
    "register": StackTool(
        _register_steps,
        register_stack,
        "Register over time",
        "rigid translation of every time point onto a reference time point",
    ),
}
