"""Object scale and smooth background of hyperspectral images, with the objects excluded.

Used by the ROI suggester (its response map removes structures larger than the objects)
and by the seeds (a background component's W seed, background-ROI subtraction scaled per
pixel). Everything is unit-free: thresholds are relative to a robust noise estimate, so
multiplying the data by a constant multiplies the background by the same constant and
leaves the object scale unchanged.

Examples
--------
>>> yy, xx = np.mgrid[:96, :96]
>>> img = 0.01 * xx + sum(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 4.0**2))
...                       for y, x in [(20, 20), (20, 70), (70, 30), (60, 75)])
>>> r = object_scale(img)
>>> bool(4 <= r <= 9)
True
>>> bg = smooth_background(img, radius=r)
>>> bool(abs(bg[20, 20] - 0.2) < 0.05), bool(abs(bg[48, 5] - 0.05) < 0.02)
(True, True)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import block_reduce

__all__ = [
    "background_level",
    "object_scale",
    "pixel_noise",
    "robust_noise",
    "smooth_background",
]

#: Scale-space of :func:`object_scale`: LoG sigmas from 1 px to 1/6 of the smaller image
#: side, in steps of this ratio.
SCALE_STEP = 2.0**0.25
#: A scale-space peak counts as an object when it exceeds this many robust noise levels of
#: the normalised LoG response at its scale.
PEAK_SNR = 5.0
#: The background is fitted on a block-mean grid of at most this many pixels per side.
MAX_GRID = 256
#: ... and at least this fraction of the strongest peak (edges of flat objects and
#: noise-free images give many weak peaks at small scales).
RELATIVE_PEAK = 0.25
#: Pixels further above the smooth background fit than this many noise levels belong to
#: objects and are excluded from the next fit.
BACKGROUND_CLIP = 2.5


def robust_noise(values: np.ndarray, /) -> float:
    """Noise level (Gaussian sigma) of ``values`` from the median absolute deviation.

    Examples
    --------
    >>> round(robust_noise(np.random.default_rng(0).normal(0, 2.0, 100_000)), 1)
    2.0
    """
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def _finite_image(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, np.float64)
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D (Y, X) image, got shape {img.shape}")
    bad = ~np.isfinite(img)
    if bad.all():
        raise ValueError("the image has no finite pixel")
    if bad.any():  # NaN pixels: filled with the median so filters see no hole
        img = np.where(bad, np.median(img[~bad]), img)
    return img


def pixel_noise(img: np.ndarray, /) -> float:
    """Pixel noise of a 2-D image from neighbour differences (so smooth structure does not
    count), floored at 1e-4 of the 1st-99th percentile range (noise-free images), and 1.0
    for a constant image."""
    diff = np.concatenate([np.diff(img, axis=0).ravel(), np.diff(img, axis=1).ravel()])
    lo, hi = np.percentile(img, [1, 99])
    noise = max(robust_noise(diff) / np.sqrt(2.0), 1e-4 * float(hi - lo))
    return noise if noise > 0 else 1.0


def _block_mean(img: np.ndarray, f: int) -> np.ndarray:
    """Block means of ``f × f`` blocks; a partial last block is padded with edge values
    (not zeros, which would pull the border down)."""
    if f <= 1:
        return img
    pad = ((0, (-img.shape[0]) % f), (0, (-img.shape[1]) % f))
    return block_reduce(np.pad(img, pad, mode="edge"), (f, f), np.mean)


def _normalised(img: np.ndarray) -> np.ndarray:
    """Image divided by its pixel noise (unit-free), median removed."""
    return (img - np.median(img)) / pixel_noise(img)


def _log_norm(sigma: float) -> float:
    """L2 norm of the discrete Laplacian-of-Gaussian kernel: the response's std to unit
    white noise."""
    half = int(np.ceil(4 * sigma)) + 1
    delta = np.zeros((2 * half + 1,) * 2)
    delta[half, half] = 1.0
    return float(np.linalg.norm(ndi.gaussian_laplace(delta, sigma)))


def object_scale(image: np.ndarray, /, *, min_radius: float = 1.5) -> float:
    """Typical radius (px) of the bright objects in a 2-D image, from LoG scale-space peaks.

    The scale-normalised Laplacian of Gaussian ``-σ² ∇²G_σ * image`` is computed for σ from
    1 px to 1/6 of the smaller side (ratio :data:`SCALE_STEP`; large σ on a block-mean
    pyramid, so a 1024² image takes well under a second). Every spatial local maximum of
    the response maximised over scales that stands :data:`PEAK_SNR` robust noise levels
    above zero (white pixel noise through the same filter) is an object; its radius is ``√2 σ`` at its best scale. The result is the
    median radius of the objects, weighted by their response (bright, clear objects
    count more than faint ones), never below ``min_radius``. An image without objects
    gives ``min_radius``.

    Examples
    --------
    >>> yy, xx = np.mgrid[:128, :128]
    >>> img = sum(np.hypot(yy - y, xx - x) < 10 for y, x in [(30, 30), (30, 90), (90, 60)])
    >>> bool(7 <= object_scale(img.astype(float)) <= 13)
    True
    """
    img = _normalised(_finite_image(image))
    ny, nx = img.shape
    top = max(min(ny, nx) / 6.0, 1.0)
    sigmas = SCALE_STEP ** np.arange(int(np.floor(np.log(top) / np.log(SCALE_STEP))) + 1)
    stack = np.empty((len(sigmas), ny, nx), np.float32)
    floor = np.empty(len(sigmas))
    for i, s in enumerate(sigmas):
        f = max(int(s / 2.0), 1)  # work at >= 2 px per sigma
        small = _block_mean(img, f)
        r = -((s / f) ** 2) * ndi.gaussian_laplace(small, s / f, mode="nearest")
        if f > 1:
            r = np.repeat(np.repeat(r, f, axis=0), f, axis=1)
            r = np.pad(r, ((0, max(ny - r.shape[0], 0)), (0, max(nx - r.shape[1], 0))), "edge")
        r = r[:ny, :nx]
        stack[i] = r
        floor[i] = PEAK_SNR * (s / f) ** 2 * _log_norm(s / f) / f  # its std on white pixel noise
        edge = min(int(np.ceil(2 * s)), ny // 2, nx // 2)  # the image border is no object
        stack[i, :edge], stack[i, ny - edge :], stack[i, :, :edge], stack[i, :, nx - edge :] = (
            0.0,
            0.0,
            0.0,
            0.0,
        )
    best, arg = stack.max(axis=0), stack.argmax(axis=0)
    peaks = (best == ndi.maximum_filter(best, size=5)) & (best > floor[arg])
    peaks &= best > RELATIVE_PEAK * float(best.max())
    if not peaks.any():
        return float(min_radius)
    value = best[peaks].astype(np.float64)
    radius = np.sqrt(2.0) * sigmas[arg[peaks]]
    order = np.argsort(radius)
    cum = np.cumsum(value[order])
    median = float(radius[order][np.searchsorted(cum, 0.5 * cum[-1])])
    return max(median, float(min_radius))


def _local_quadratic(
    img: np.ndarray, keep: np.ndarray, sigma: float, *, fallback: np.ndarray
) -> np.ndarray:
    """Gaussian-weighted local quadratic surface fitted to the ``keep`` pixels around every
    pixel (normalised convolution of order 2: exact on gradients and follows broad bumps
    without shaving their tops, also at the image border)."""
    ny, nx = img.shape
    y = np.linspace(-1.0, 1.0, ny)[:, None] * np.ones((1, nx))
    x = np.ones((ny, 1)) * np.linspace(-1.0, 1.0, nx)[None, :]
    basis = [np.ones_like(y), y, x, y * y, y * x, x * x]
    m = keep.astype(np.float64)
    v = np.where(keep, img, 0.0)

    def g(a: np.ndarray) -> np.ndarray:
        return ndi.gaussian_filter(a, sigma, mode="constant")

    n = len(basis)
    a = np.empty((ny, nx, n, n))
    for p in range(n):
        for q in range(p, n):
            a[..., p, q] = a[..., q, p] = g(m * basis[p] * basis[q])
    b = np.stack([g(v * f) for f in basis], axis=-1)
    weight = a[..., 0, 0]
    ok = weight > 1e-3 * float(weight.max())
    out = fallback.copy()
    if ok.any():
        aa = a[ok]
        aa += 1e-9 * np.trace(aa, axis1=1, axis2=2)[:, None, None] * np.eye(n)  # ridge
        coef = np.linalg.solve(aa, b[ok][..., None])[..., 0]
        design = np.stack([f[ok] for f in basis], axis=-1)
        out[ok] = np.sum(coef * design, axis=1)
    return out


def smooth_background(image: np.ndarray, /, *, radius: float) -> np.ndarray:
    """Smooth background under the objects of a 2-D image (objects excluded), float64.

    A grey opening larger than the objects (``2·radius + 1``) gives a first lower envelope;
    the background is then the Gaussian-weighted (sigma ``2·radius``) local quadratic fit of the
    pixels that lie at most :data:`BACKGROUND_CLIP` noise levels above the current
    estimate, refined three times. So the objects are not part of the background (unlike
    a plain blur or the channel mean) and noise does not bias it low (unlike a plain
    opening or minimum). Work is done on a block-mean pyramid (blocks of about
    ``radius / 2`` px, at most :data:`MAX_GRID` blocks per side) and interpolated back;
    NaN pixels are ignored.

    Examples
    --------
    >>> img = np.full((64, 64), 10.0); img[20:30, 20:30] = 50.0
    >>> bg = smooth_background(img, radius=5)
    >>> bool(np.allclose(bg, 10.0))
    True
    """
    raw = np.asarray(image, np.float64)
    img = _finite_image(raw)
    valid = np.isfinite(raw)
    ny, nx = img.shape
    f = max(int(radius / 2.0), int(np.ceil(max(ny, nx) / MAX_GRID)), 1)
    small = _block_mean(img, f)
    ok = _block_mean(valid.astype(np.float64), f) > 0.5
    r = max(radius / f, 1.0)
    size = 2 * int(np.ceil(r)) + 1
    est = ndi.gaussian_filter(ndi.grey_opening(small, size=(size, size)), r, mode="nearest")
    noise = pixel_noise(small)
    sigma = 2.0 * r
    for _ in range(3):
        keep = ok & (small <= est + BACKGROUND_CLIP * noise)
        if not keep.any():
            break
        est = _local_quadratic(small, keep, sigma, fallback=est)
        resid = (small - est)[keep]
        noise = max(robust_noise(resid), noise * 1e-3)
    if f == 1:
        return est
    return ndi.zoom(est, f, order=1, mode="nearest", grid_mode=True)[:ny, :nx]


def background_level(
    cube: np.ndarray, spectrum: np.ndarray, /, *, radius: float | None = None
) -> np.ndarray:
    """Per-pixel amount of a background ``spectrum`` in a C×Y×X cube, objects excluded.

    Each pixel's least-squares coefficient on ``spectrum`` (its projection) is a map that
    holds the background and, where they share signal with it, the objects; the smooth
    background of that map (:func:`smooth_background`, objects of ``radius`` px, estimated
    by :func:`object_scale` when None) is the level. ``level[:, :, None] * spectrum`` is
    the background to remove or the W seed of a background component.

    Examples
    --------
    >>> spec = np.array([1.0, 1.0, 1.0])
    >>> cube = np.ones((3, 32, 32)) * np.linspace(1, 2, 32); cube[:, 10:14, 10:14] += 5
    >>> lvl = background_level(cube, spec, radius=3)
    >>> bool(np.allclose(lvl, np.linspace(1, 2, 32)[None], atol=0.05))
    True
    """
    s = np.asarray(spectrum, np.float64).reshape(-1)
    data = np.asarray(cube)
    if data.ndim != 3 or data.shape[0] != s.size:
        raise ValueError(
            f"expected a C×Y×X cube with C = {s.size} channels (one per spectrum value), "
            f"got shape {data.shape}"
        )
    norm = float(s @ s)
    if not norm > 0:
        raise ValueError("the background spectrum is all zero; choose a background ROI with signal")
    dt = np.float64 if data.dtype == np.float64 else np.float32  # no float64 copy of a big cube
    coef = np.tensordot((s / norm).astype(dt), data.astype(dt, copy=False), axes=(0, 0))
    if radius is None:
        radius = object_scale(coef)
    return smooth_background(coef, radius=radius)
