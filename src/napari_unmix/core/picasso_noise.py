"""Shot-noise-aware inputs for PICASSO estimation: two independent halves of every pixel block.

The MI between a corrected sink ``s - a·r`` and its source ``r``, computed on the same
noisy pixels, sees the source's noise twice: ``-a`` times it in the corrected sink and
once in the source. That correlation lowers the MI toward ``a = 0``, so on
shot-noise-limited images every blind estimate comes out low. Splitting each block of
``block × block`` pixels into its two checkerboard halves gives two measurements of
(nearly) the same signal with independent noise: the corrected sink is built from one
half and compared with the source in the other. Averaging within each half also lowers
the noise by the half's pixel count.
"""

from __future__ import annotations

import numpy as np

__all__ = ["checkerboard_halves"]


def checkerboard_halves(planes: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Means over the two checkerboard halves of every ``block × block`` block.

    Parameters
    ----------
    planes : ndarray, shape (N, P, Y, X)
        N channels of P planes; rows/columns beyond a multiple of ``block`` are dropped.
    block : int
        Block side, at least 2.

    Returns
    -------
    (ndarray, ndarray), each shape (N, P * (Y // block) * (X // block)), float32
        The "black" and the "white" half of every block, averaged.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> a, b = checkerboard_halves(x, 2)
    >>> a.tolist(), b.tolist()
    ([[2.5, 4.5, 10.5, 12.5]], [[2.5, 4.5, 10.5, 12.5]])
    """
    block = int(block)
    if block < 2:
        raise ValueError(f"block must be at least 2 to split it in two halves, got {block=}")
    n, p, y, x = planes.shape
    hy, wx = (y // block) * block, (x // block) * block
    if hy == 0 or wx == 0:
        raise ValueError(f"images of {y}x{x} pixels are smaller than one {block}x{block} block")
    crop = np.asarray(planes[:, :, :hy, :wx], dtype=np.float32)
    blocks = crop.reshape(n, p, hy // block, block, wx // block, block)
    black = (np.add.outer(np.arange(block), np.arange(block)) % 2 == 0).astype(np.float32)
    white = 1.0 - black
    a = np.einsum("npyixj,ij->npyx", blocks, black / black.sum())
    b = np.einsum("npyixj,ij->npyx", blocks, white / white.sum())
    return a.reshape(n, -1), b.reshape(n, -1)


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
    n, p, y, x = planes.shape
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
