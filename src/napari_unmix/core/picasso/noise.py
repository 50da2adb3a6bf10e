"""Shot-noise-aware inputs for PICASSO estimation: two independent halves of every pixel block.

The MI between a corrected sink ``s - a·r`` and its source ``r``, computed on the same
noisy pixels, sees the source's noise twice: ``-a`` times it in the corrected sink and
once in the source. That correlation lowers the MI toward ``a = 0``, so on
shot-noise-limited images every blind estimate comes out low. The checkerboard's two
halves of the pixels, each smoothed with a Gaussian, give two views of (nearly) the same
signal with independent noise: the corrected sink is built from one view and compared
with the source in the other, so the noise no longer pulls the estimate; the smoothing
also lowers the noise of both views.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auto_split_sigma", "checkerboard_smoothed", "noise_fraction"]


def checkerboard_smoothed(planes: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Two full-resolution, independently noisy views: Gaussian means over each checkerboard half.

    Every pixel gets the Gaussian-weighted (``sigma`` pixels) mean of the "black" pixels
    around it, and separately of the "white" ones. The two views share the signal
    (smoothed alike) but no pixel, so their shot noise is independent; unlike block
    halves they keep every pixel as a sample for the MI histogram.

    Returns
    -------
    (ndarray, ndarray), each shape (N, P * Y * X), float32

    Examples
    --------
    >>> x = np.ones((2, 1, 8, 8))
    >>> a, b = checkerboard_smoothed(x, 1.0)
    >>> a.shape, bool(np.allclose(a, 1) and np.allclose(b, 1))
    ((2, 64), True)
    """
    from scipy.ndimage import gaussian_filter

    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma=}")
    n, _, y, x = planes.shape
    yy, xx = np.indices((y, x))
    black = ((yy + xx) % 2 == 0).astype(np.float32)
    views = []
    for mask in (black, 1.0 - black):
        weight = gaussian_filter(mask, sigma, mode="reflect")
        num = gaussian_filter(
            np.asarray(planes, np.float32) * mask, (0, 0, sigma, sigma), mode="reflect"
        )
        views.append((num / weight).reshape(n, -1))
    return views[0], views[1]


def noise_fraction(planes: np.ndarray) -> np.ndarray:
    """Per channel, the share of the variance that is pixel noise (0: clean, 1: all noise).

    The noise variance comes from differences of horizontally adjacent pixels (robust
    spread, half the variance of a difference), which structures wider than a pixel
    hardly change; the total is the channel's variance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> smooth = np.repeat(np.repeat(rng.random((1, 1, 16, 16)), 8, 2), 8, 3)
    >>> noisy = smooth + rng.normal(0, 0.1, smooth.shape)
    >>> f = noise_fraction(np.concatenate([smooth, noisy]))
    >>> bool(f[0] < 0.01 < f[1] < 0.3)
    True
    """
    n = planes.shape[0]
    d = np.diff(np.asarray(planes, np.float32), axis=-1).reshape(n, -1)
    med = np.median(d, axis=1, keepdims=True)
    noise_var = (1.4826 * np.median(np.abs(d - med), axis=1)) ** 2 / 2
    total = np.asarray(planes, np.float64).reshape(n, -1).var(axis=1)
    return np.clip(noise_var / np.maximum(total, 1e-300), 0.0, 1.0)


#: below this noise fraction (every channel) the views are not split: nothing to correct
MIN_NOISE_FRACTION = 0.01


def auto_split_sigma(fraction: float) -> float:
    """Smoothing (pixels) of the split views for a channel noise fraction; 0: do not split.

    Chosen on the scenario table (``benchmarks/bench_picasso_scenarios.py``): clean data
    are estimated on the pixels themselves (the smoothing's own small bias would be all
    that is left), noisier data on views smoothed more, up to 1.5 pixels.

    Examples
    --------
    >>> auto_split_sigma(0.002), auto_split_sigma(0.03), auto_split_sigma(0.3)
    (0.0, 0.85, 1.5)
    """
    if fraction < MIN_NOISE_FRACTION:
        return 0.0
    return float(np.clip(0.7 + 5.0 * fraction, 0.7, 1.5).round(3))
