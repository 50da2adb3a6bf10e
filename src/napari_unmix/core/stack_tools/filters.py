"""Filters, histogram matching across time and the max-z projection, with their options.

See :mod:`napari_unmix.core.stack_tools` for the dtype, large-data and non-finite rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..options import Options, OptionSpec, option
from ..progress import Progress, run
from ..registry import Method, Registry
from ..validate import check_int, check_number
from ._stacks import (
    StackToolResult,
    Steps,
    _check_index,
    _check_stack,
    _map_volumes,
    _out_dtype,
    _zrange,
    nan_safe,
    reference_t_option,
    zrange_option,
)

__all__ = [
    "FILTERS",
    "FilterOptions",
    "HistogramOptions",
    "MaxZOptions",
    "apply_filters",
    "match_histograms_across_time",
    "max_z_project",
]


# ----------------------------------------------------------------------------- filters
def _median(volume: np.ndarray, p: dict[str, Any], apply_3d: bool) -> np.ndarray:
    size = p["median_size"]
    return ndi.median_filter(volume, size=(size if apply_3d else 1, size, size))


def _gaussian(volume: np.ndarray, p: dict[str, Any], apply_3d: bool) -> np.ndarray:
    sigma = p["gaussian_sigma"]
    return ndi.gaussian_filter(volume, sigma=(sigma if apply_3d else 0.0, sigma, sigma))


#: The filters: ``function(volume_zyx, parameters_of_this_time_point, apply_3d)``.
FILTERS = Registry(
    "filter",
    [
        Method("median", _median, "Median", "removes shot noise and hot pixels; median_size"),
        Method("gaussian", _gaussian, "Gaussian", "smooths; gaussian_sigma in pixels"),
    ],
)


def _filter_names(filters: Any, name: str = "filters") -> tuple[str, ...]:
    if not isinstance(filters, str | Sequence):
        raise TypeError(f"{name} must be a filter name or a list of names, got {filters!r}")
    names = [filters] if isinstance(filters, str) else list(filters)
    names = [str(f).strip().lower() for f in names]
    if not names:
        raise ValueError(f"{name} is empty; give at least one of {sorted(FILTERS)}")
    bad = [f for f in names if f not in FILTERS]
    if bad:
        raise ValueError(f"unknown filter(s) {bad} in {name}; choose from {sorted(FILTERS)}")
    return tuple(names)


def _filter_value(spec: OptionSpec, value: Any) -> Any:
    """One filter parameter: a scalar, or one value per time point (a tuple)."""
    name = spec.name.removesuffix("_channel2")
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        return tuple(_filter_value(spec, v) for v in value)
    if spec.base is int:
        value = check_int(name, value)
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
        return value
    value = check_number(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


@dataclass(frozen=True)
class FilterOptions(Options):
    """Options of :func:`apply_filters`. ``median_size`` and ``gaussian_sigma`` also take
    one value per time point (a tuple)."""

    filters: tuple[str, ...] = option(
        ("median",), label="Filters", doc="steps applied in order", choices=FILTERS
    )
    median_size: int = option(
        3, label="Median size", doc="median window in pixels", bounds=(1, None), unit="px"
    )
    gaussian_sigma: float = option(
        1.0, label="Gaussian sigma", doc="Gaussian sigma in pixels", bounds=(0.0, None), unit="px"
    )
    apply_3d: bool = option(
        False, label="3-D", doc="filter ZYX volumes instead of YX planes", flag="--3d"
    )
    channel_overrides: Mapping | None = option(
        None,
        label="Channel overrides",
        doc="{channel: {filters, median_size, gaussian_sigma}} for channels with other settings",
        advanced=True,
    )
    filters_channel2: tuple[str, ...] | None = option(
        None,
        label="Filters, channel 1",
        doc="other steps for channel 1",
        choices=FILTERS,
        advanced=True,
    )
    median_size_channel2: int | None = option(
        None, label="Median size, channel 1", doc="median window for channel 1", advanced=True
    )
    gaussian_sigma_channel2: float | None = option(
        None, label="Gaussian sigma, channel 1", doc="Gaussian sigma for channel 1", advanced=True
    )

    @classmethod
    def check(cls, spec: OptionSpec, value: Any) -> Any:
        if value is None or spec.name in ("apply_3d", "channel_overrides"):
            return super().check(spec, value)
        if spec.name.startswith("filters"):
            return _filter_names(value, spec.name)
        return _filter_value(spec, value)


def _per_t(value: Any, n_t: int, name: str) -> list:
    """A scalar, or one value per time point, as one value per time point."""
    value = FilterOptions.check(FilterOptions.spec(name), value)
    if isinstance(value, tuple):
        if len(value) != n_t:
            raise ValueError(
                f"{name} has {len(value)} values but the stack has {n_t} time points; "
                "give one value, or one per time point"
            )
        return list(value)
    return [value] * n_t


_PARAMETERS = ("filters", "median_size", "gaussian_sigma")


def _channel_parameters(opts: FilterOptions, n_t: int, n_c: int) -> list[dict[str, Any]]:
    """The filters and per-time-point parameters of every channel (overrides applied)."""
    overrides = {int(k): dict(v) for k, v in (opts.channel_overrides or {}).items()}
    compat = {  # the reference's names of an override for channel 1
        "filters": opts.filters_channel2,
        "median_size": opts.median_size_channel2,
        "gaussian_sigma": opts.gaussian_sigma_channel2,
    }
    if any(v is not None for v in compat.values()) and n_c > 1:
        overrides.setdefault(1, {}).update({k: v for k, v in compat.items() if v is not None})
    per_channel = []
    for c in range(n_c):
        given = {k: getattr(opts, k) for k in _PARAMETERS}
        ov = overrides.pop(c, {})
        unknown = sorted(set(ov) - set(given))
        if unknown:
            raise ValueError(
                f"channel_overrides[{c}] has unknown keys {unknown}; use {sorted(given)}"
            )
        if "filters" in ov:
            ov["filters"] = _filter_names(ov["filters"], f"channel_overrides[{c}]['filters']")
        given.update(ov)
        p = {k: _per_t(given[k], n_t, k) for k in _PARAMETERS[1:]}
        per_channel.append({"filters": given["filters"], **p})
    if overrides:
        raise ValueError(
            f"channel_overrides names channel(s) {sorted(overrides)} but the stack has "
            f"{n_c} channel(s)"
        )
    return per_channel


def _filters_steps(stack: Any, opts: FilterOptions) -> Steps:
    """The "filter" stack tool; returns a :class:`StackToolResult`."""
    stack = _check_stack(stack)
    n_t, _, n_c = stack.shape[:3]
    try:
        per_channel = _channel_parameters(opts, n_t, n_c)
    except ValueError as err:
        if "channel_overrides names" in str(err):
            raise ValueError(f"{err} ({stack.shape=})") from None
        raise
    dtype = _out_dtype(stack)

    def one(volume: np.ndarray, t: int, c: int) -> np.ndarray:
        p = per_channel[c]
        at_t = {k: p[k][t] for k in _PARAMETERS[1:]}

        def chain(work: np.ndarray) -> np.ndarray:
            for step in p["filters"]:
                work = FILTERS[step].function(work, at_t, opts.apply_3d)
            return work

        return nan_safe(chain, volume.astype(dtype))

    out = yield from _map_volumes(stack, one, dtype, "filter")
    return StackToolResult("filter", out, opts.as_dict())


def apply_filters(
    stack: Any,
    /,
    filters: str | Sequence[str] = FilterOptions.filters,
    *,
    median_size: int | Sequence[int] = FilterOptions.median_size,
    gaussian_sigma: float | Sequence[float] = FilterOptions.gaussian_sigma,
    apply_3d: bool = FilterOptions.apply_3d,
    channel_overrides: dict[int, dict[str, Any]] | None = FilterOptions.channel_overrides,
    filters_channel2: str | Sequence[str] | None = FilterOptions.filters_channel2,
    median_size_channel2: int | Sequence[int] | None = FilterOptions.median_size_channel2,
    gaussian_sigma_channel2: float | Sequence[float] | None = (
        FilterOptions.gaussian_sigma_channel2
    ),
) -> Any:
    """Median and/or Gaussian filters, in the given order, per plane or per volume.

    Every option is a field of :class:`FilterOptions`.

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
    return run(_filters_steps(stack, FilterOptions.pick(locals()))).data


# ----------------------------------------------------------------------------- histograms
@dataclass(frozen=True)
class HistogramOptions(Options):
    """Options of :func:`match_histograms_across_time`."""

    reference_t: int = reference_t_option("time point whose histograms the others take")


def _histogram_steps(stack: Any, opts: HistogramOptions) -> Steps:
    """The "match-histograms" stack tool; returns a :class:`StackToolResult`."""
    from skimage.exposure import match_histograms

    stack = _check_stack(stack)
    if stack.shape[0] < 2:
        raise ValueError(
            f"histogram matching across time needs at least 2 time points, got {stack.shape=}"
        )
    reference_t = _check_index("reference_t", opts.reference_t, stack.shape[0], "time points")
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

    out = yield from _map_volumes(stack, one, dtype, "match histograms")
    return StackToolResult("match-histograms", out, opts.as_dict())


def match_histograms_across_time(
    stack: Any, /, *, reference_t: int = HistogramOptions.reference_t
) -> Any:
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
    return run(_histogram_steps(stack, HistogramOptions.pick(locals()))).data


# ----------------------------------------------------------------------------- projection
@dataclass(frozen=True)
class MaxZOptions(Options):
    """Options of :func:`max_z_project`."""

    zrange: tuple[int, ...] | None = zrange_option()


def _projection_steps(stack: Any, opts: MaxZOptions) -> Steps:
    """The "max-z" stack tool; returns a :class:`StackToolResult`."""
    stack = _check_stack(stack)
    start, stop = _zrange(opts.zrange, stack.shape[1])
    out = stack[:, start:stop].max(axis=1, keepdims=True)  # a NaN pixel stays NaN (marked)
    yield Progress(1, 1, "max-z")
    return StackToolResult("max-z", out, opts.as_dict())


def max_z_project(stack: Any, /, *, zrange: Sequence[int] | None = MaxZOptions.zrange) -> Any:
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
    return run(_projection_steps(stack, MaxZOptions.pick(locals()))).data
