"""The subunit properties of a fitted :class:`~napari_unmix.api.stnmf.STNMF` (``stnmf`` names).

:class:`SubunitProperties` is the half of the ``STNMF`` class that reads a factorisation:
Moran's I, which modules are subunits, outlines, diameters, distances, polarities,
coverage, the module record array and the report; :func:`modules_table` is the same as
rows. The spatial computations are :mod:`napari_unmix.core.stnmf.props`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ...core.report import describe_array, start_report
from ...core.stnmf import props

__all__ = ["PixelSizeWarning", "SubunitProperties", "modules_table"]


class PixelSizeWarning(UserWarning):
    """A size in µm was asked for but ``pixel_size`` is not set (results in stixels)."""


def _nan_norm(a: np.ndarray, axis: Any) -> np.ndarray:
    return np.sqrt(np.nansum(np.asarray(a, np.float64) ** 2, axis=axis, keepdims=True))


class SubunitProperties:
    """Properties of the modules of an STNMF (mixed into :class:`STNMF`).

    Needs ``modules``, ``weights``, ``r``, ``m``, ``x``, ``y``, ``v``, ``mask``,
    ``dtype``, ``smoothing``, ``min_weight_z``, ``min_weight_ratio``, ``pixel_size``,
    ``res``, ``history``, ``n_iter`` and the ``_cache`` dict of the class.
    """

    def _cached(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def moransi(self) -> np.ndarray:
        """Moran's I of every module (8-connected, row-standardised weights)."""
        return self._cached("moransi", lambda: props.moransi(self.modules))

    @property
    def localized(self) -> np.ndarray:
        """Indices of modules with Moran's I above ``moransi_threshold`` (subunits).

        With ``min_weight_z`` > 0 a subunit must also be driven by the spikes: its mean
        weight at least ``min_weight_z`` standard errors above zero (see
        :attr:`weight_z`) and at least ``min_weight_ratio`` times the largest module's.
        Modules fitted to stimulus noise have mean weights near zero.
        """
        keep = self.moransi > self.moransi_threshold
        if self.min_weight_z > 0:
            z = self.weight_z
            keep &= z > max(self.min_weight_z, self.min_weight_ratio * float(z.max(initial=0)))
        return np.nonzero(keep)[0]

    @property
    def weight_z(self) -> np.ndarray:
        """Mean weight of every module over the spikes in standard errors, ``mean / (sd/√m)``.

        A module that is part of the cell's receptive field contributes to the STA and has
        a mean weight far from zero (tens of standard errors at thousands of spikes); one
        fitted to the stimulus noise has a mean weight of zero ± 1.
        """

        def make():
            h = self.weights.astype(np.float64)
            sd = h.std(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(sd > 0, h.mean(axis=1) * np.sqrt(self.m) / sd, 0.0)

        return self._cached("weight_z", make)

    @property
    def num_subunits(self) -> int:
        return int(self.localized.size)

    @property
    def subunits(self) -> np.ndarray:
        """Localized modules, each scaled to unit norm (s, x, y)."""
        su = np.array(self.modules[self.localized], dtype=self.dtype)
        return su / _nan_norm(su, (1, 2)).astype(self.dtype)

    @property
    def ratios(self) -> np.ndarray:
        """Mean weights of the subunits, normalised to unit norm."""
        mean = self.weights[self.localized].mean(axis=1)
        norm = np.linalg.norm(mean)
        return mean / norm if norm > 0 else mean

    @property
    def outlines(self) -> np.ndarray:
        """Subunit outlines at the 1.22-SD level: object array of (k, 2) [x, y] arrays."""

        def make():
            out = np.empty(self.num_subunits, dtype=object)
            out[:] = [props.contour(s) for s in self.subunits] or []
            return out

        return self._cached("outlines", make)

    def _fits(self) -> list[dict[str, float]]:
        return self._cached("fits", lambda: [props.gaussian_fit(s) for s in self.subunits])

    def _pixel_size_warning(self) -> float:
        if not self.pixel_size:
            warnings.warn(
                "pixel_size is not set; sizes and distances are in stixels "
                "(pass pixel_size=<µm per stixel>)",
                PixelSizeWarning,
                stacklevel=3,
            )
            return 1.0
        return float(self.pixel_size)

    @property
    def diameters(self) -> np.ndarray:
        """Effective diameters 2·sqrt(ab) of the 2-sigma Gaussian-fit ellipses (µm)."""
        scale = self._pixel_size_warning()
        d = np.array([f["diameter"] for f in self._fits()], dtype=np.float64)
        # a Gaussian of width σ smoothed by s has width sqrt(σ² + s²); the diameter is 4σ
        d = np.sqrt(np.clip(d**2 - 16 * self.smoothing**2, 0, None))
        return d * scale

    @property
    def distances(self) -> np.ndarray:
        """Distance of every subunit outline's centroid to the STA outline's centroid (µm)."""
        scale = self._pixel_size_warning()
        c0 = props.polygon_centroid(self.sta_outline)
        cs = [props.polygon_centroid(o) for o in self.outlines]
        return np.array([np.hypot(*(c - c0)) for c in cs]).reshape(-1) * scale

    @property
    def polarities(self) -> np.ndarray:
        """+1 (ON) / −1 (OFF): sign at the maximum |value| times the sign of the ratio."""
        peak = np.array([props.polarity(s) for s in self.subunits], dtype=np.int8)
        return (peak * np.where(self.ratios < 0, -1, 1)).astype(np.int8)

    @property
    def sta(self) -> np.ndarray:
        """Spike-triggered average (x, y)."""
        return self._sta

    @property
    def sta_outline(self) -> np.ndarray:
        return self._cached("sta_outline", lambda: props.contour(self._sta))

    @property
    def sta_diameter(self) -> float:
        scale = self._pixel_size_warning()
        fit = self._cached("sta_fit", lambda: props.gaussian_fit(self._sta))
        return float(fit["diameter"] * scale)

    @property
    def coverage(self) -> float:
        """Fraction of the STA outline area covered by non-overlapping subunit outlines."""
        return props.coverage(self.sta_outline, list(self.outlines), (self.x, self.y))

    @property
    def modules_info(self) -> np.recarray:
        """All per-module properties as a record array (NaN / 0 for non-localized)."""
        dtype = [
            ("index", "uint16"), ("module", self.dtype, (self.x, self.y)),
            ("weight", self.dtype), ("moransi", self.dtype), ("localized", "bool"),
            ("polarity", "int8"), ("contour", "object"), ("diameter", "float32"),
            ("distance", "float32"),
        ]  # fmt: skip
        info = np.zeros(self.r, dtype=dtype).view(np.recarray)
        loc = self.localized
        info.index = np.arange(self.r)
        info.module = self.modules
        info.weight = self.weights.mean(axis=1)
        info.moransi = self.moransi
        info.localized[loc] = True
        info.diameter[:] = np.nan
        info.distance[:] = np.nan
        if loc.size:
            info.polarity[loc] = self.polarities
            for k, o in zip(loc, self.outlines, strict=True):
                info.contour[k] = o
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PixelSizeWarning)
                info.diameter[loc] = self.diameters
                info.distance[loc] = self.distances
        return info

    @property
    def moransi_threshold(self) -> float:
        return self._moransi_threshold

    @moransi_threshold.setter
    def moransi_threshold(self, value: float) -> None:
        if not -1 < value < 1:
            raise ValueError(f"moransi_threshold must be in (-1, 1), got {value!r}")
        self._moransi_threshold = float(value)
        if hasattr(self, "_cache"):
            self._cache.clear()

    @property
    def report(self) -> dict[str, Any]:
        """Provenance: parameters, iterations, residual, subunit summary, versions."""
        params = {
            **self.options.as_dict(), "init": self.init_method, "seed": self.seed,
            "pixel_size": self.pixel_size, "moransi_threshold": self.moransi_threshold,
            "num_iter": self.n_iter,
        }  # fmt: skip
        rep = start_report("stnmf", params, {"ste": describe_array(self.v, axes="stixels×spikes")})
        rep["ste_shape_xym"] = [self.x, self.y, self.m]
        rep["masked_stixels"] = int((~self.mask).sum())
        rep["residual"] = self.res
        rep["residual_history"] = self.history
        rep["moransi"] = self.moransi
        rep["localized"] = self.localized
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            rep["diameters"] = self.diameters
            rep["distances"] = self.distances
        rep["size_units"] = "µm" if self.pixel_size else "stixels"
        rep["polarities"] = self.polarities
        rep["coverage"] = self.coverage
        return rep


def modules_table(s: Any, /) -> list[dict[str, Any]]:
    """One row per module: module, Moran's I, subunit, polarity, diameter, distance, weight.

    Column names carry their units: ``diameter_um`` / ``distance_um`` when ``pixel_size``
    is set, else ``diameter_stixels`` / ``distance_stixels``. Polarity is "ON" / "OFF"
    for subunits; ``weight_z`` is the mean weight in standard errors (see
    :attr:`STNMF.weight_z`).
    """
    info = s.modules_info
    unit = "um" if s.pixel_size else "stixels"
    z = s.weight_z
    rows = []
    for k in range(s.r):
        loc = bool(info.localized[k])
        rows.append(
            {
                "module": k,
                "morans_i": round(float(info.moransi[k]), 3),
                "subunit": "yes" if loc else "no",
                "polarity": ("ON" if info.polarity[k] > 0 else "OFF") if loc else "",
                f"diameter_{unit}": round(float(info.diameter[k]), 1) if loc else "",
                f"distance_{unit}": round(float(info.distance[k]), 1) if loc else "",
                "mean_weight": round(float(info.weight[k]), 5),
                "weight_z": round(float(z[k]), 1),
            }
        )
    return rows
