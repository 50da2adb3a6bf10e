"""Band maps of a (C, Y, X) cube: mean intensity in a band and the ratio of two bands.

Both are pixel-wise and stay lazy on dask cubes. :class:`MapOptions` holds their options
(window, denominator window, smallest denominator), read by the API, the CLI and the dock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from dask import is_dask_collection

from ..options import Options, option
from ..result import Result, ResultLayer

__all__ = ["MapOptions", "MapResult", "band_channels", "band_intensity", "band_ratio"]


@dataclass(frozen=True)
class MapOptions(Options):
    """Options of the intensity and ratio maps."""

    window: float = option(5.0, label="± window", doc="band half width in axis units",
                           bounds=(0.0, None))  # fmt: skip
    denominator_window: float | None = option(
        None, label="denominator ± window", bounds=(0.0, None), advanced=True,
        doc="half width of the ratio's denominator band (None: window)",
    )  # fmt: skip
    min_denominator: float = option(
        1e-6, label="smallest denominator", bounds=(0.0, None), advanced=True,
        doc="ratio pixels whose |denominator| is at most this are NaN (masked)",
    )  # fmt: skip


def check_cube(cube: Any, axis: Any = None) -> np.ndarray | None:
    """The spectral axis as float64 (None if not given); ValueError for a non-(C, Y, X) cube
    or an axis whose length is not the channel count."""
    if getattr(cube, "ndim", 0) != 3:
        raise ValueError(
            f"expected a hyperspectral cube (C, Y, X), got shape {getattr(cube, 'shape', None)}; "
            "for per-pixel spectra as rows use cube_from_rows(rows, image_shape)"
        )
    if axis is None:
        return None
    axis = np.asarray(axis, dtype=np.float64).reshape(-1)
    if axis.size != cube.shape[0]:
        raise ValueError(
            f"spectral axis has {axis.size} values but the cube {cube.shape[0]} channels "
            f"({cube.shape=}); give one axis value per channel"
        )
    return axis


def band_channels(axis: np.ndarray, target: float, window: float, /) -> np.ndarray:
    """Indices of the channels within ``target ± window`` (at least the nearest one).

    Examples
    --------
    >>> band_channels(np.array([1600.0, 1650, 1660, 1700]), 1655, 6).tolist()
    [1, 2]
    """
    axis = np.asarray(axis, dtype=np.float64)
    lo, hi = float(np.min(axis)), float(np.max(axis))
    if not lo <= target <= hi:
        raise ValueError(
            f"target {target:g} is outside the spectral axis {lo:g}..{hi:g}; choose a band "
            "inside the measured range"
        )
    if window < 0:
        raise ValueError(f"window must be >= 0 (half width in axis units), got {window=}")
    idx = np.flatnonzero(np.abs(axis - target) <= window)
    return idx if idx.size else np.array([int(np.argmin(np.abs(axis - target)))])


def band_intensity(cube, axis: np.ndarray, target: float, /, *, window: float = MapOptions.window):
    """Mean intensity over the channels in ``target ± window``: a (Y, X) float32 map.

    Dask cubes give a lazy dask map.

    Examples
    --------
    >>> cube = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
    >>> band_intensity(cube, np.array([1.0, 2.0, 3.0]), 2.5, window=0.5).tolist()
    [[6.0, 7.0], [8.0, 9.0]]
    """
    axis = check_cube(cube, axis)
    idx = band_channels(axis, target, window)
    sub = cube[int(idx[0]) : int(idx[-1]) + 1]  # contiguous: a slice (cheap on dask)
    return sub.astype(np.float32).mean(axis=0)


def band_ratio(
    cube,
    axis: np.ndarray,
    numerator: float,
    denominator: float,
    /,
    *,
    window: float = MapOptions.window,
    denominator_window: float | None = MapOptions.denominator_window,
    min_denominator: float = MapOptions.min_denominator,
):
    """Ratio of two band intensities; NaN where ``|denominator| <= min_denominator``.

    Returns ``(ratio, valid)``: the (Y, X) float32 ratio map and a boolean map of the
    pixels where it is defined. Both are lazy for dask cubes.

    Examples
    --------
    >>> cube = np.array([[[2.0, 1.0]], [[1.0, 0.0]]])  # 2 channels, 1×2 pixels
    >>> r, ok = band_ratio(cube, np.array([1.0, 2.0]), 1.0, 2.0, window=0)
    >>> r.tolist(), ok.tolist()
    ([[2.0, nan]], [[True, False]])
    """
    axis = check_cube(cube, axis)
    if not min_denominator >= 0:  # (a negative one would divide by zero)
        raise ValueError(f"min_denominator must be >= 0, got {min_denominator!r}")
    num = band_intensity(cube, axis, numerator, window=window)
    dw = window if denominator_window is None else denominator_window
    den = band_intensity(cube, axis, denominator, window=dw)
    valid = abs(den) > min_denominator
    if is_dask_collection(cube):
        import dask.array as xp
    else:
        xp = np
    safe = xp.where(valid, den, 1.0)
    ratio = xp.where(valid, num / safe, np.nan).astype(np.float32)
    return ratio, valid


class MapResult(NamedTuple):
    """An intensity or ratio map with its report; unpacks as ``image, report``."""

    image: Any
    report: dict[str, Any]

    def to_result(self, source: str = "") -> Result:
        """One image layer: ``I(<target>)`` (viridis) or ``<num>/<den>`` (magma, robust
        contrast limits for a numpy map)."""
        p = self.report.get("parameters", {})
        if self.report.get("tool") == "ratio_map":
            name, cmap = f"{p['numerator']:g}/{p['denominator']:g}", "magma"
        else:
            name, cmap = f"I({p['target']:g})", "viridis"
        limits = None
        if cmap == "magma" and isinstance(self.image, np.ndarray):  # a lazy map stays lazy
            finite = self.image[np.isfinite(self.image)]
            if finite.size:
                lo, hi = (float(v) for v in np.percentile(finite, [1, 99]))
                limits = (lo, max(hi, lo + 1e-6))
        layer = ResultLayer(
            name, self.image, colormap=cmap, blending="translucent", contrast_limits=limits,
            axes="YX", role="map",
        )  # fmt: skip
        return Result("hsmap", [layer], report=self.report, source=source)
