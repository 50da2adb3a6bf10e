"""Seed spectra from masks, files, Gaussian models and spectral bands; the seed audit."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["audit_seeds", "band_image", "gaussian_spectrum", "mask_spectrum", "resample_spectrum"]


def _flat(cube: np.ndarray) -> np.ndarray:
    return np.asarray(cube, dtype=np.float64).reshape(cube.shape[0], -1).T


def _check_mask(mask: Any, shape: tuple[int, int], what: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"{what}: mask shape {m.shape} does not match the image (Y, X) {shape}")
    if m.dtype != bool:
        raise ValueError(f"{what}: mask must be boolean, got dtype {m.dtype}")
    if not m.any():
        raise ValueError(f"{what}: the ROI mask is empty; draw the ROI over the image")
    return m


def mask_spectrum(cube: np.ndarray, masks: Sequence[np.ndarray], /) -> np.ndarray:
    """Mean spectrum of the finite pixels inside one or several boolean Y×X masks.

    Examples
    --------
    >>> cube = np.arange(8.0).reshape(2, 2, 2)
    >>> mask_spectrum(cube, [np.array([[True, False], [False, True]])]).tolist()
    [1.5, 5.5]
    """
    shape = tuple(cube.shape[1:])
    if len(masks) == 0:
        raise ValueError("no ROI mask given")
    union = np.zeros(shape, bool)
    for i, m in enumerate(masks):
        union |= _check_mask(m, shape, f"mask {i}")
    X = _flat(cube)[union.ravel()]
    X = X[np.isfinite(X).all(axis=1)]
    if X.shape[0] == 0:
        raise ValueError("every pixel inside the ROI is NaN (masked); move the ROI")
    return X.mean(axis=0)


def resample_spectrum(
    axis_from: np.ndarray, spectrum: np.ndarray, axis_to: np.ndarray, /
) -> tuple[np.ndarray, bool]:
    """Interpolate a spectrum onto the image's spectral axis (edge values held).

    Returns the resampled spectrum and whether the image axis reaches outside the file's
    axis (a warning is issued then).

    Examples
    --------
    >>> s, extrapolated = resample_spectrum([0, 2], [0.0, 2.0], [0.5, 1.5])
    >>> s.tolist(), extrapolated
    ([0.5, 1.5], False)
    """
    ax = np.asarray(axis_from, dtype=np.float64).reshape(-1)
    sp = np.asarray(spectrum, dtype=np.float64).reshape(-1)
    to = np.asarray(axis_to, dtype=np.float64).reshape(-1)
    if ax.size != sp.size or ax.size < 2:
        raise ValueError(f"axis and spectrum lengths differ or are < 2: {ax.size} vs {sp.size}")
    order = np.argsort(ax)
    ax, sp = ax[order], sp[order]
    outside = bool(to.min() < ax[0] or to.max() > ax[-1])
    if outside:
        warnings.warn(
            f"the image spectral axis [{to.min():g}, {to.max():g}] reaches outside the "
            f"spectrum's axis [{ax[0]:g}, {ax[-1]:g}]; edge values are held there",
            UserWarning,
            stacklevel=2,
        )
    return np.interp(to, ax, sp), outside


def gaussian_spectrum(
    axis: np.ndarray, /, *, center: float, fwhm: float, amplitude: float = 1.0
) -> np.ndarray:
    """Gaussian resonance on a spectral axis (centre, FWHM in axis units).

    Examples
    --------
    >>> gaussian_spectrum(np.array([0.0, 1.0, 2.0]), center=1.0, fwhm=1.0).round(3).tolist()
    [0.062, 1.0, 0.062]
    """
    if fwhm <= 0:
        raise ValueError(f"fwhm must be > 0, got {fwhm=}")
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    axis = np.asarray(axis, dtype=np.float64)
    return amplitude * np.exp(-0.5 * ((axis - center) / sigma) ** 2)


def band_image(
    cube: np.ndarray, axis: np.ndarray, /, *, position: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean image of the channels within ``position ± width`` and the in-band channel mask.

    Examples
    --------
    >>> img, band = band_image(np.ones((5, 2, 2)), np.arange(5.0), position=2, width=1)
    >>> band.tolist(), img.tolist()
    ([False, True, True, True, False], [[1.0, 1.0], [1.0, 1.0]])
    """
    axis = np.asarray(axis, dtype=np.float64)
    band = np.abs(axis - position) <= width
    if not band.any():
        raise ValueError(
            f"no channel within {position:g} ± {width:g} on the axis "
            f"[{axis.min():g}, {axis.max():g}]; widen the band or move the position"
        )
    return np.asarray(cube, dtype=np.float64)[band].mean(axis=0), band


def audit_seeds(H: np.ndarray, names: Sequence[str], /) -> list[str]:
    """Check seeds: non-finite or negative → ``ValueError`` naming the component.

    Returns the names of missing (all-NaN) rows, which :func:`prepare_seeds` fills.

    Examples
    --------
    >>> audit_seeds(np.array([[1.0, 0.0], [np.nan, np.nan]]), ["a", "b"])
    ['b']
    """
    H = np.asarray(H, dtype=np.float64)
    missing = []
    for j, name in enumerate(names):
        row = H[j]
        if np.isnan(row).all():
            missing.append(name)
        elif not np.isfinite(row).all():
            raise ValueError(f"seed spectrum of component {name!r} has NaN or infinite values")
        elif (row < 0).any():
            raise ValueError(
                f"seed spectrum of component {name!r} has negative values (min {row.min():g}); "
                "NNMF needs non-negative seeds: clip or offset it"
            )
        elif not (row > 0).any():
            raise ValueError(f"seed spectrum of component {name!r} is all zero")
    return missing
