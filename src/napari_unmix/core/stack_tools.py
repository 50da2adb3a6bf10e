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

Non-finite pixels
    A NaN or inf pixel stays where it is (or moves with its plane when shifted) and
    keeps its value, and it does not pull on the other pixels: filters and shifts see it
    as the mean of its finite neighbours, histogram matching ignores it, the max-z
    projection keeps it marked (NaN there), and shift estimation gives it no weight.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ._stacks import (
    Steps,
    _check_index,
    _check_stack,
    _map_volumes,
    _out_dtype,
    _zrange,
    nan_safe,
    run_steps,
)
from .registration import (
    REFERENCE_MODES,
    REGISTRATION_METHODS,
    _register_steps,
    _z_drift_steps,
    apply_shifts,
    correct_intra_stack_z_drift,
    estimate_time_shifts,
    estimate_z_drift,
    register_stack,
)
from .validate import check_int, check_number

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


def _per_t(value: Any, n_t: int, name: str, cast: Callable) -> list:
    """A scalar, or one value per time point (a wrong type is named; ranges: the filters)."""
    check = check_int if cast is int else check_number

    def cast(v: Any) -> Any:
        return check(name, v)

    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        values = [cast(v) for v in value]
        if len(values) != n_t:
            raise ValueError(
                f"{name} has {len(values)} values but the stack has {n_t} time points; "
                "give one value, or one per time point"
            )
        return values
    return [cast(value)] * n_t


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
    if not isinstance(filters, str | Sequence):
        raise TypeError(f"{name} must be a filter name or a list of names, got {filters!r}")
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
        p = per_channel[c]

        def chain(work: np.ndarray) -> np.ndarray:
            for step in p["filters"]:
                fn, key, _ = FILTERS[step]
                work = fn(work, p[key][t], bool(apply_3d))
            return work

        return nan_safe(chain, volume.astype(dtype))

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
        out = volume.astype(dtype)  # a copy: non-finite pixels keep their value
        if t == reference_t:
            return out
        ok, ref = np.isfinite(out), refs[:, c]
        ref = ref[np.isfinite(ref)]
        if ok.any() and ref.size:
            out[ok] = match_histograms(out[ok], ref, channel_axis=None)
        return out

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
    return stack[:, start:stop].max(axis=1, keepdims=True)  # a NaN pixel stays NaN (marked)


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
