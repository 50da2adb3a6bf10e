"""Background components and background ROIs: :data:`BACKGROUND_MAPS` (the W seed of a
background component) and :data:`BACKGROUND_SUBTRACTIONS` (how background ROIs are removed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter

from ..background import background_level, object_scale, smooth_background
from ..registry import Method, Registry
from .spectra import _check_mask
from .types import ComponentSeed

__all__ = ["BACKGROUND_MAPS", "BACKGROUND_SUBTRACTIONS"]


def _projection_map(fn):
    def project(cube: np.ndarray, spectrum: np.ndarray | None) -> np.ndarray:
        return np.nan_to_num(fn(np.asarray(cube, dtype=np.float64), axis=0), nan=0.0)

    return project


def _estimated_map(cube: np.ndarray, spectrum: np.ndarray | None) -> np.ndarray:
    if spectrum is not None and np.all(np.isfinite(spectrum)) and np.any(spectrum > 0):
        return background_level(cube, spectrum)
    img = np.nanmean(np.asarray(cube, dtype=np.float64), axis=0)
    return smooth_background(img, radius=object_scale(img))


#: background W seed -> function(cube, H seed or None) -> (Y, X) map, label, doc
BACKGROUND_MAPS = Registry(
    "background projection",
    [
        Method(
            "estimate",
            _estimated_map,
            "Estimated (objects excluded)",
            "per-pixel amount of the background component's seed spectrum, fitted smoothly "
            "to the pixels outside the objects (core.background.background_level)",
        ),
        Method(
            "mean",
            _projection_map(np.nanmean),
            "Mean",
            "mean over channels (includes the objects)",
        ),
        Method("max", _projection_map(np.nanmax), "Maximum", "maximum over channels"),
        Method("min", _projection_map(np.nanmin), "Minimum", "minimum over channels"),
    ],
)


def _background_map(cube, projection: str, smooth: float, spectrum=None) -> np.ndarray:
    img = BACKGROUND_MAPS.resolve(projection).function(cube, spectrum)
    return gaussian_filter(img, smooth) if smooth > 0 else img


def _scaled_level(data: np.ndarray, spectrum: np.ndarray) -> np.ndarray | None:
    return background_level(data, spectrum) if np.any(spectrum > 0) else None


def _constant_level(data: np.ndarray, spectrum: np.ndarray) -> None:
    return None


#: background-ROI subtraction -> function(cube, ROI mean spectrum) -> per-pixel level map
#: (None: the same everywhere), label, doc
BACKGROUND_SUBTRACTIONS = Registry(
    "background subtraction",
    [
        Method(
            "scaled",
            _scaled_level,
            "Scaled per pixel",
            "the background ROIs' mean spectrum times its per-pixel level, estimated outside "
            "the objects (a gradient is removed, the objects' own signal is not)",
        ),
        Method(
            "constant",
            _constant_level,
            "Constant",
            "the background ROIs' mean spectrum, the same at every pixel",
        ),
    ],
)


def _check_background_masks(
    background_masks: Sequence[np.ndarray], comps: Sequence[ComponentSeed], shape: tuple
) -> None:
    """A background ROI that is also a component's ROI would subtract that component."""
    union = np.zeros(shape, bool)
    for i, m in enumerate(background_masks):
        union |= _check_mask(m, shape, f"background mask {i}")
    for comp in comps:
        for m in comp.masks:
            m = np.asarray(m, bool)
            if m.shape != shape or not m.any():
                continue  # reported by mask_spectrum with its own message
            inside = float((m & union).sum()) / float(m.sum())
            if inside >= 0.5:
                raise ValueError(
                    f"{inside:.0%} of a ROI of component {comp.name!r} lies inside the "
                    "background ROIs: a background ROI must be an empty area, not a "
                    "component; unmark it as background or move it"
                )
