"""Synthetic fluorescence data: blobs, bleed-through stacks and PICASSO mixtures."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validate import check_sizes

__all__ = [
    "gaussian_blobs",
    "make_bleedthrough_stack",
    "make_picasso_mix",
]


def gaussian_blobs(
    shape: tuple[int, int],
    centers: np.ndarray,
    sigmas: np.ndarray,
    amplitudes: np.ndarray,
) -> np.ndarray:
    """Sum of isotropic 2-D Gaussians, rendered without a loop over pixels.

    Parameters
    ----------
    shape : (int, int)
        Image shape (Y, X).
    centers : (n, 2) array
        Blob centres (y, x) in pixels.
    sigmas, amplitudes : (n,) arrays
        Width (pixels) and peak height of every blob.

    Returns
    -------
    ndarray, float32, shape ``shape``

    Examples
    --------
    >>> img = gaussian_blobs((16, 16), np.array([[8.0, 8.0]]), np.array([2.0]), np.array([1.0]))
    >>> float(img.max())
    1.0
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    sigmas = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    amplitudes = np.asarray(amplitudes, dtype=np.float64).reshape(-1)
    yy = np.arange(shape[0], dtype=np.float64)
    xx = np.arange(shape[1], dtype=np.float64)
    # separable: exp(-(dy²+dx²)/2σ²) = gy ⊗ gx, summed over blobs with one matrix product
    gy = np.exp(-((yy[None, :] - centers[:, :1]) ** 2) / (2 * sigmas[:, None] ** 2))
    gx = np.exp(-((xx[None, :] - centers[:, 1:]) ** 2) / (2 * sigmas[:, None] ** 2))
    return ((gy * amplitudes[:, None]).T @ gx).astype(np.float32)


def _random_centers(rng: np.random.Generator, n: int, shape: tuple[int, int], margin: float):
    lo = np.array([margin, margin])
    hi = np.array([shape[0] - margin, shape[1] - margin])
    return rng.uniform(lo, hi, size=(n, 2))


# ----------------------------------------------------------------------------- bleed-through
def make_bleedthrough_stack(
    *,
    n_t: int = 3,
    n_z: int = 4,
    shape: tuple[int, int] = (128, 128),
    alpha: float | None = 0.35,
    alpha_per_t: np.ndarray | list[float] | None = None,
    alpha_reverse: float = 0.0,
    n_cells: int = 14,
    background: float = 0.05,
    noise_sigma: float = 0.01,
    dtype: str = "float32",
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Two-channel TZCYX stack with known bleed-through of channel 0 into channel 1.

    The true signals are Gaussian "cells": the source ``S`` and the target ``T`` occupy
    different cells (a few touch, as in real tissue). The measured channels are
    ``I0 = S + alpha_reverse*T + b`` and ``I1 = T + alpha*S + b`` plus Gaussian noise.

    Parameters
    ----------
    n_t, n_z : int
        Number of time points and z-slices.
    shape : (int, int)
        Y, X size.
    alpha : float
        Bleed-through of source into target (used when ``alpha_per_t`` is None).
    alpha_per_t : sequence of float, optional
        One alpha per time point (a drifting bleed-through).
    alpha_reverse : float
        Bleed-through of the target into the source (bidirectional case); 0 by default.
    n_cells : int
        Cells per channel.
    background, noise_sigma : float
        Constant offset and Gaussian noise standard deviation (0 for noise-free data).
    dtype : {"float32", "uint16"}
        ``"uint16"`` scales intensities by 1000 and rounds (like camera counts).
    random_state : int
        Seed.

    Returns
    -------
    data : ndarray, shape (n_t, n_z, 2, Y, X)
    truth : dict
        ``alpha`` (float or list per t), ``alpha_reverse``, ``source`` and ``target``
        (TZYX, noise-free pure signals in the units of ``data``), ``source_channel``,
        ``target_channel``, ``background``, ``noise_sigma``.

    Examples
    --------
    >>> data, truth = make_bleedthrough_stack(n_t=2, n_z=1, shape=(32, 32), noise_sigma=0)
    >>> bool(np.allclose(data[:, :, 1], truth["target"] + 0.35 * truth["source"] + 0.05))
    True
    """
    check_sizes({"n_t": n_t, "n_z": n_z, "shape": shape, "noise_sigma": noise_sigma})
    rng = np.random.default_rng(random_state)
    if alpha_per_t is not None:
        alphas = np.asarray(alpha_per_t, dtype=np.float64).reshape(-1)
        if alphas.size != n_t:
            raise ValueError(f"alpha_per_t has {alphas.size} values but {n_t=}")
    elif alpha is not None:
        alphas = np.full(n_t, float(alpha))
    else:
        raise ValueError("give alpha or alpha_per_t")
    margin = 6.0
    src_centers = _random_centers(rng, n_cells, shape, margin)
    tgt_centers = _random_centers(rng, n_cells, shape, margin)
    sig_s = rng.uniform(2.5, 5.0, n_cells)
    sig_t = rng.uniform(2.5, 5.0, n_cells)
    amp_s = rng.uniform(0.5, 1.0, n_cells)
    amp_t = rng.uniform(0.3, 0.8, n_cells)
    z_profile = np.exp(-0.5 * ((np.arange(n_z) - (n_z - 1) / 2) / max(n_z / 2.5, 1.0)) ** 2)
    source = np.empty((n_t, n_z) + tuple(shape), np.float32)
    target = np.empty_like(source)
    for t in range(n_t):  # a few planes: slow drift of the cells over time
        drift = rng.normal(0, 0.7, size=(2, n_cells, 2)) * t
        s2d = gaussian_blobs(shape, src_centers + drift[0], sig_s, amp_s)
        t2d = gaussian_blobs(shape, tgt_centers + drift[1], sig_t, amp_t)
        source[t] = z_profile[:, None, None] * s2d
        target[t] = z_profile[:, None, None] * t2d
    a = alphas[:, None, None, None].astype(np.float32)
    ch0 = source + np.float32(alpha_reverse) * target + np.float32(background)
    ch1 = target + a * source + np.float32(background)
    data = np.stack([ch0, ch1], axis=2)
    if noise_sigma > 0:
        data = data + rng.normal(0, noise_sigma, size=data.shape).astype(np.float32)
    scale = 1.0
    if dtype == "uint16":
        scale = 1000.0
        data = np.clip(np.rint(data * scale), 0, 65535).astype(np.uint16)
    elif dtype == "float32":
        data = data.astype(np.float32)
    else:
        raise ValueError(f"dtype must be 'float32' or 'uint16', got {dtype=}")
    truth = {
        "alpha": float(alphas[0]) if alpha_per_t is None else alphas.tolist(),
        "alpha_reverse": float(alpha_reverse),
        "source": source * np.float32(scale),
        "target": target * np.float32(scale),
        "source_channel": 0,
        "target_channel": 1,
        "background": background * scale,
        "noise_sigma": noise_sigma * scale,
    }
    return data, truth


# ----------------------------------------------------------------------------- PICASSO
def _filaments(rng: np.random.Generator, shape: tuple[int, int], n: int, width: float):
    """Random straight filaments (soft lines) as an image, without a pixel loop."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    img = np.zeros(shape, np.float32)
    for _ in range(n):  # a handful of lines, each vectorised over all pixels
        p = rng.uniform(0, 1, 2) * np.array(shape)
        theta = rng.uniform(0, np.pi)
        d = np.abs((yy - p[0]) * np.cos(theta) - (xx - p[1]) * np.sin(theta))
        img = np.maximum(img, rng.uniform(0.5, 1.0) * np.exp(-0.5 * (d / width) ** 2))
    return img


def _random_blobs(rng, shape, n: int, margin: float, radii, amplitudes) -> np.ndarray:
    """``n`` blobs at random centres with uniform random radii and amplitudes."""
    centers = _random_centers(rng, n, shape, margin)
    return gaussian_blobs(shape, centers, rng.uniform(*radii, n), rng.uniform(*amplitudes, n))


def make_picasso_mix(
    *,
    n_channels: int = 3,
    shape: tuple[int, int] = (128, 128),
    n_t: int = 1,
    n_z: int = 1,
    off_diagonal: tuple[float, float] = (0.1, 0.4),
    mixing: np.ndarray | None = None,
    background: float = 0.0,
    noise_sigma: float = 0.005,
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """N-channel TZCYX stack of N fluorophores mixed by a known matrix ``M``.

    The fluorophores are spatially distinct structures (cells, filaments, puncta,
    rings) that overlap in places. The measurement is ``I_i = Σ_j M_ij F_j`` plus noise,
    with ``M_ii = 1`` and off-diagonal entries drawn from ``off_diagonal``.

    Returns
    -------
    data : ndarray, shape (n_t, n_z, n_channels, Y, X), float32
    truth : dict
        ``mixing`` (N×N), ``fluorophores`` (T, Z, N, Y, X), ``noise_sigma``.

    Examples
    --------
    >>> data, truth = make_picasso_mix(shape=(32, 32), noise_sigma=0)
    >>> F, M = truth["fluorophores"], truth["mixing"]
    >>> bool(np.allclose(data, np.einsum("ij,tzjyx->tziyx", M, F), atol=1e-6))
    True
    """
    check_sizes(
        {
            "n_channels": n_channels,
            "n_t": n_t,
            "n_z": n_z,
            "shape": shape,
            "noise_sigma": noise_sigma,
        }
    )
    if n_channels < 2:
        raise ValueError(f"need at least 2 channels, got {n_channels=}")
    rng = np.random.default_rng(random_state)
    if mixing is None:
        mixing = rng.uniform(off_diagonal[0], off_diagonal[1], size=(n_channels, n_channels))
        np.fill_diagonal(mixing, 1.0)
    mixing = np.asarray(mixing, dtype=np.float64)
    if mixing.shape != (n_channels, n_channels):
        raise ValueError(f"mixing must be {n_channels}x{n_channels}, got {mixing.shape=}")
    F = np.empty((n_t, n_z, n_channels) + tuple(shape), np.float32)
    for i in range(n_channels):
        kind = i % 4
        for t in range(n_t):
            for z in range(n_z):
                if kind == 0:  # cells
                    img = _random_blobs(rng, shape, 10, 6, (3, 6), (0.5, 1.0))
                elif kind == 1:  # filaments
                    img = _filaments(rng, shape, 5, 1.2)
                elif kind == 2:  # puncta
                    img = _random_blobs(rng, shape, 40, 3, (1.0, 1.8), (0.4, 1.0))
                else:  # rings: difference of blobs
                    n = 6
                    c = _random_centers(rng, n, shape, 8)
                    s = rng.uniform(4, 7, n)
                    a = rng.uniform(0.6, 1.0, n)
                    img = np.clip(
                        gaussian_blobs(shape, c, s, a) - gaussian_blobs(shape, c, s * 0.6, a),
                        0,
                        None,
                    )
                    img = img / max(float(img.max()), 1e-6)
                F[t, z, i] = img
    data = np.einsum("ij,tzjyx->tziyx", mixing, F).astype(np.float32) + np.float32(background)
    if noise_sigma > 0:
        data += rng.normal(0, noise_sigma, size=data.shape).astype(np.float32)
    return data.astype(np.float32), {
        "mixing": mixing,
        "fluorophores": F,
        "noise_sigma": noise_sigma,
        "background": background,
    }
