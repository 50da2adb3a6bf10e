"""Spatial properties of STNMF modules: Moran's I, outlines, Gaussian-fit diameters, coverage.

All functions take images indexed ``[x, y]`` (the STNMF convention) and return outline
coordinates in the same index order, in stixels.

Examples
--------
>>> g = np.arange(15.0)
>>> blob = np.exp(-((g[:, None] - 7) ** 2 + (g[None, :] - 7) ** 2) / (2 * 2.0**2))
>>> round(float(moransi(blob)), 2) > 0.8
True
>>> round(float(gaussian_fit(blob)["diameter"]), 2)  # 4 sigma
8.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage
from scipy.optimize import least_squares
from skimage import draw, measure

__all__ = [
    "CONTOUR_SD",
    "contour",
    "coverage",
    "gaussian_fit",
    "moransi",
    "polarity",
    "polygon_area",
    "polygon_centroid",
]

CONTOUR_SD = 1.22  #: outline level in standard deviations of a Gaussian: exp(-1.22² / 2)

_KERNELS = {
    4: np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=np.float64),
    8: np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64),
}


def moransi(images: np.ndarray, /, *, connectivity: int = 8) -> np.ndarray:
    """Moran's I spatial autocorrelation of one image or a stack of images.

    Weights: the ``connectivity`` (8 or 4) nearest stixels, row-standardised (every
    stixel's neighbours weigh ``1/k``, k the number of its valid neighbours), so
    ``I = Σᵢ zᵢ · mean_{j∈N(i)} zⱼ / Σᵢ zᵢ²`` with ``z`` the mean-removed image. NaN
    stixels are left out. Smooth blobs give values near 1, white noise near 0, a
    one-stixel checkerboard −1 with 4-connectivity (0 with 8: half the 8 neighbours share
    the sign).

    Examples
    --------
    >>> board = np.indices((8, 8)).sum(axis=0) % 2 * 2.0 - 1
    >>> float(moransi(board, connectivity=4))
    -1.0
    """
    if connectivity not in _KERNELS:
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity=}")
    img = np.asarray(images, dtype=np.float64)
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an x × y image or an r × x × y stack, got {img.shape=}")
    single = img.ndim == 2
    img = img[None] if single else img
    valid = np.isfinite(img)
    n_valid = valid.sum(axis=(1, 2))
    mean = np.where(valid, img, 0).sum(axis=(1, 2)) / np.maximum(n_valid, 1)
    z = np.where(valid, img - mean[:, None, None], 0.0)
    kern = _KERNELS[connectivity][None]
    nsum = ndimage.convolve(z, kern, mode="constant")
    ncount = ndimage.convolve(valid.astype(np.float64), kern, mode="constant")
    lag = np.divide(nsum, ncount, out=np.zeros_like(nsum), where=(ncount > 0) & valid)
    denom = (z**2).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(denom > 0, (z * lag).sum(axis=(1, 2)) / denom, 0.0)
    return out[0] if single else out


def polarity(image: np.ndarray, /) -> int:
    """Sign (+1/−1) of the value with the largest magnitude (NaN ignored).

    Examples
    --------
    >>> polarity(np.array([[0.1, -2.0], [1.0, np.nan]]))
    -1
    """
    img = np.nan_to_num(np.asarray(image, dtype=np.float64))
    return int(np.copysign(1, img.flat[np.abs(img).argmax()]))


def polygon_area(points: np.ndarray, /) -> float:
    """Unsigned area of a closed polygon (shoelace formula)."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def polygon_centroid(points: np.ndarray, /) -> np.ndarray:
    """Area centroid of a closed polygon (mean of the vertices if degenerate).

    Examples
    --------
    >>> polygon_centroid(np.array([[0, 0], [2, 0], [2, 2], [0, 2]]))
    array([1., 1.])
    """
    p = np.asarray(points, dtype=np.float64)
    if len(p) == 0:
        return np.full(2, np.nan)
    x, y = p[:, 0], p[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    a = cross.sum() / 2
    if abs(a) < 1e-12:
        return p.mean(axis=0)
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6 * a)


def contour(image: np.ndarray, /, *, sd: float = CONTOUR_SD, upsample: int = 4) -> np.ndarray:
    """Outline of the dominant lobe of ``image`` at the level of ``sd`` Gaussian SDs.

    The image is normalised by its value of largest magnitude (so OFF lobes work too),
    resampled ``upsample`` times finer with cubic splines, and contoured by
    :func:`skimage.measure.find_contours` at ``exp(-sd² / 2)`` — for a Gaussian of
    width σ the outline is the circle of radius ``sd·σ``. The contour around the peak
    is returned (else the largest), as a closed (k, 2) array of ``[x, y]`` stixel
    coordinates; empty (0, 2) when there is none.

    Examples
    --------
    >>> g = np.arange(21.0)
    >>> img = np.exp(-((g[:, None] - 10) ** 2 + (g[None, :] - 10) ** 2) / (2 * 2.0**2))
    >>> c = contour(img)
    >>> round(float(np.hypot(*(c - 10).T).mean()), 1)  # 1.22 * 2
    2.4
    """
    if upsample < 1:
        raise ValueError(f"upsample must be >= 1, got {upsample=}")
    img = np.nan_to_num(np.asarray(image, dtype=np.float64))
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D image, got {img.shape=}")
    empty = np.empty((0, 2), dtype=np.float64)
    if not np.any(img):
        return empty
    if upsample > 1:
        fine = [np.arange((s - 1) * upsample + 1) / upsample for s in img.shape]
        coords = np.meshgrid(*fine, indexing="ij")
        img = ndimage.map_coordinates(img, coords, order=3, mode="nearest")
    peak_idx = np.unravel_index(np.abs(img).argmax(), img.shape)
    img = img / img[peak_idx]
    padded = np.pad(img, 1, constant_values=img.min(initial=0.0))
    found = [c - 1 for c in measure.find_contours(padded, np.exp(-(sd**2) / 2))]
    found = [c for c in found if len(c) >= 4]
    if not found:
        return empty
    center = np.asarray(peak_idx, dtype=np.float64)
    around = [c for c in found if measure.points_in_poly(center[None], c)[0]]
    best = max(around or found, key=polygon_area)
    return best / upsample


def gaussian_fit(image: np.ndarray, /, *, n_sd: float = 2.0) -> dict[str, float]:
    """Least-squares fit of an elliptical 2-D Gaussian to the dominant lobe of ``image``.

    Returns the centre (``x``, ``y``), the semi-axes of the ``n_sd``-sigma ellipse
    (``major``, ``minor``), its ``angle`` (rad) and the effective ``diameter``
    ``2·sqrt(major·minor)`` (stixels; 4σ for an isotropic Gaussian of width σ).

    Examples
    --------
    >>> g = np.arange(15.0)
    >>> img = -3 * np.exp(-((g[:, None] - 6) ** 2 / 4 + (g[None, :] - 8) ** 2 / 1) / 2)
    >>> fit = gaussian_fit(img)
    >>> [round(fit[k], 2) for k in ("x", "y", "major", "minor")]
    [6.0, 8.0, 4.0, 2.0]
    """
    img = np.nan_to_num(np.asarray(image, dtype=np.float64))
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D image, got {img.shape=}")
    peak_idx = np.unravel_index(np.abs(img).argmax(), img.shape)
    peak = img[peak_idx]
    nan = dict.fromkeys(("x", "y", "major", "minor", "angle", "diameter"), np.nan)
    if peak == 0:
        return nan
    img = img / peak
    xx, yy = np.indices(img.shape, dtype=np.float64)
    r0 = max(np.sqrt(np.count_nonzero(img > np.exp(-0.5)) / np.pi), 0.5)

    def model(p):
        mx, my, lsx, lsy, t, amp = p
        sx, sy, rho = np.exp(lsx), np.exp(lsy), np.tanh(t)
        dx, dy = (xx - mx) / sx, (yy - my) / sy
        q = (dx**2 + dy**2 - 2 * rho * dx * dy) / (1 - rho**2)
        return amp * np.exp(-q / 2)

    p0 = [peak_idx[0], peak_idx[1], np.log(r0), np.log(r0), 0.0, 1.0]
    fit = least_squares(lambda p: (model(p) - img).ravel(), p0, method="lm")
    mx, my, lsx, lsy, t, _ = fit.x
    sx, sy, rho = np.exp(lsx), np.exp(lsy), np.tanh(t)
    cov = np.array([[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]])
    evals, evecs = np.linalg.eigh(cov)
    major, minor = n_sd * np.sqrt(np.clip(evals[::-1], 0, None))
    return {
        "x": float(mx),
        "y": float(my),
        "major": float(major),
        "minor": float(minor),
        "angle": float(np.arctan2(evecs[1, 1], evecs[0, 1])),
        "diameter": float(2 * np.sqrt(major * minor)),
    }


def coverage(
    sta_outline: np.ndarray, outlines: list[np.ndarray], shape: tuple[int, int], /, *,
    upsample: int = 8,
) -> float:  # fmt: skip
    """Fraction of the STA outline's area covered by exactly one subunit outline.

    The polygons are rasterised ``upsample`` times finer than ``shape`` (stixels);
    regions where subunit outlines overlap do not count.

    Examples
    --------
    >>> sq = lambda a, b: np.array([[a, a], [b, a], [b, b], [a, b]], float)
    >>> round(coverage(sq(0, 4), [sq(0, 2), sq(2, 4)], (5, 5)), 2)
    0.5
    """
    fine = (shape[0] * upsample, shape[1] * upsample)

    def mask(points: np.ndarray) -> np.ndarray:
        if len(points) < 3:
            return np.zeros(fine, dtype=bool)
        return draw.polygon2mask(fine, (np.asarray(points) + 0.5) * upsample - 0.5)

    sta = mask(sta_outline)
    if not sta.any():
        return float("nan")
    count = np.zeros(fine, dtype=np.int32)
    for o in outlines:
        count += mask(o)
    return float((sta & (count == 1)).sum() / sta.sum())


def summarize(images: np.ndarray, /) -> dict[str, Any]:
    """Outlines, fits and polarities of a stack of images (used by the STNMF class)."""
    outlines = [contour(i) for i in images]
    fits = [gaussian_fit(i) for i in images]
    return {
        "outlines": outlines,
        "fits": fits,
        "polarities": np.array([polarity(i) for i in images], dtype=np.int8),
    }
