"""Synthetic data with known ground truth, for the sample menu, tests, demos and benchmarks.

Every generator is deterministic given ``random_state`` and returns ``(data, truth)``:
the measured array and a dict with everything that made it (mixing coefficients, pure
signals, spectra, abundance maps, subunits).

Examples
--------
>>> data, truth = make_bleedthrough_stack(n_t=2, n_z=2, shape=(32, 32))
>>> data.shape, truth["alpha"]
((2, 2, 2, 32, 32), 0.35)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validate import check_sizes

__all__ = [
    "bead_cube_labels",
    "gaussian_blobs",
    "make_bead_cube",
    "make_bleedthrough_stack",
    "make_picasso_mix",
    "make_similar_bead_cube",
    "make_ste",
    "make_ste_sparse",
    "make_two_region_cube",
    "resonance_spectrum",
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
                    n = 10
                    img = gaussian_blobs(
                        shape,
                        _random_centers(rng, n, shape, 6),
                        rng.uniform(3, 6, n),
                        rng.uniform(0.5, 1.0, n),
                    )
                elif kind == 1:  # filaments
                    img = _filaments(rng, shape, 5, 1.2)
                elif kind == 2:  # puncta
                    n = 40
                    img = gaussian_blobs(
                        shape,
                        _random_centers(rng, n, shape, 3),
                        rng.uniform(1.0, 1.8, n),
                        rng.uniform(0.4, 1.0, n),
                    )
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


# ----------------------------------------------------------------------------- hyperspectral
def resonance_spectrum(
    axis: np.ndarray, centers: list[float], fwhms: list[float], amplitudes: list[float]
) -> np.ndarray:
    """Sum of Gaussian resonances on a spectral axis.

    Examples
    --------
    >>> ax = np.linspace(2800, 3000, 5)
    >>> resonance_spectrum(ax, [2900], [50], [1.0]).round(3).tolist()
    [0.0, 0.062, 1.0, 0.062, 0.0]
    """
    axis = np.asarray(axis, dtype=np.float64)
    out = np.zeros_like(axis)
    for c, w, a in zip(centers, fwhms, amplitudes, strict=True):
        sigma = w / (2 * np.sqrt(2 * np.log(2)))
        out += a * np.exp(-0.5 * ((axis - c) / sigma) ** 2)
    return out


def _shift_for_cosine(axis, base_kwargs, target_cos):
    """Shift of a spectrum's resonances that gives the wanted cosine to the original."""
    a = resonance_spectrum(axis, **base_kwargs)
    lo, hi = 0.0, float(axis.max() - axis.min()) / 2
    for _ in range(60):  # bisection: cosine falls monotonically with the shift here
        mid = (lo + hi) / 2
        shifted = dict(base_kwargs, centers=[c + mid for c in base_kwargs["centers"]])
        b = resonance_spectrum(axis, **shifted)
        cos = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        lo, hi = (mid, hi) if cos > target_cos else (lo, mid)
    return (lo + hi) / 2


def _soft_beads(yy, xx, centers, radii, amplitudes) -> np.ndarray:
    """Soft disks (logistic edge, 1 px wide); overlapping beads take the brighter value."""
    d = np.sqrt(
        (yy[None] - centers[:, 0, None, None]) ** 2 + (xx[None] - centers[:, 1, None, None]) ** 2
    )
    beads = 1.0 / (1.0 + np.exp(d - radii[:, None, None]))
    return (beads * amplitudes[:, None, None]).max(axis=0)


def _assemble_bead_cube(rng, axis, spectra, maps, names, background_level, noise_sigma):
    """Cube = spectra ⊗ maps + smooth background gradient ⊗ broad spectrum + noise, and truth."""
    shape = maps.shape[1:]
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    bg_spectrum = resonance_spectrum(axis, [2950.0], [400.0], [1.0])
    bg_map = background_level * (0.5 + 0.5 * (yy / shape[0] + xx / shape[1]) / 2)
    cube = np.einsum("kc,kyx->cyx", spectra, maps) + bg_spectrum[:, None, None] * bg_map[None]
    if noise_sigma > 0:
        cube = cube + rng.normal(0, noise_sigma, size=cube.shape)
    return cube.astype(np.float32), {
        "spectra": spectra.astype(np.float32),
        "abundances": maps,
        "names": names,
        "spectral_axis": axis,
        "spectral_units": "cm-1",
        "background_spectrum": bg_spectrum.astype(np.float32),
        "background_map": bg_map.astype(np.float32),
        "noise_sigma": noise_sigma,
    }


def make_bead_cube(
    *,
    shape: tuple[int, int] = (128, 128),
    n_channels: int = 64,
    spectral_range: tuple[float, float] = (2800.0, 3100.0),
    n_beads: int = 6,
    similar_cosine: float = 0.9,
    weak_factor: float = 0.25,
    background_level: float = 0.1,
    noise_sigma: float = 0.02,
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Hyperspectral bead cube (C×Y×X) with four known spectra, maps and a smooth background.

    Components (CARS-like C–H stretch region, cm⁻¹):

    0. "lipid": resonances at 2850 and 2885;
    1. "lipid-like": component 0 shifted so that its cosine to component 0 is
       ``similar_cosine`` (~0.9: hard to tell apart);
    2. "protein": broad 2935 band;
    3. "weak": 3015 band, beads ``weak_factor`` (0.25, i.e. 4× dimmer) as bright.

    Beads are soft disks; some beads of different components overlap. The background is a
    smooth spatial gradient times a broad spectrum. ``X = Wᵀ H + b ⊗ h_b + noise``.

    Returns
    -------
    cube : ndarray, shape (C, Y, X), float32
    truth : dict
        ``spectra`` (k×C), ``abundances`` (k×Y×X), ``names``, ``spectral_axis`` (C,),
        ``spectral_units`` ("cm-1"), ``background_spectrum`` (C,), ``background_map``
        (Y×X), ``noise_sigma``.

    Examples
    --------
    >>> cube, truth = make_bead_cube(shape=(48, 48), n_channels=32)
    >>> cube.shape, truth["spectra"].shape
    ((32, 48, 48), (4, 32))
    """
    check_sizes(
        {"n_channels": n_channels, "n_beads": n_beads, "shape": shape, "noise_sigma": noise_sigma}
    )
    rng = np.random.default_rng(random_state)
    axis = np.linspace(spectral_range[0], spectral_range[1], n_channels)
    lipid = {"centers": [2850.0, 2885.0], "fwhms": [30.0, 35.0], "amplitudes": [1.0, 0.7]}
    shift = _shift_for_cosine(axis, lipid, similar_cosine)
    lipid2 = dict(lipid, centers=[c + shift for c in lipid["centers"]])
    spectra = np.stack(
        [
            resonance_spectrum(axis, **lipid),
            resonance_spectrum(axis, **lipid2),
            resonance_spectrum(axis, [2935.0, 2975.0], [60.0, 40.0], [1.0, 0.4]),
            resonance_spectrum(axis, [3015.0], [45.0], [1.0]),
        ]
    )
    names = ["lipid", "lipid-like", "protein", "weak"]
    k = spectra.shape[0]
    maps = np.empty((k,) + tuple(shape), np.float32)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    radius_range = (max(shape) / 24, max(shape) / 12)
    all_centers = []
    for i in range(k):
        centers = _random_centers(rng, n_beads, shape, radius_range[1])
        if i == 1:  # make the similar pair overlap spatially
            centers[:2] = all_centers[0][:2] + rng.normal(0, radius_range[0], size=(2, 2))
        all_centers.append(centers)
        radii = rng.uniform(*radius_range, n_beads)
        amp = rng.uniform(0.7, 1.0, n_beads) * (weak_factor if i == 3 else 1.0)
        maps[i] = _soft_beads(yy, xx, centers, radii, amp)
    return _assemble_bead_cube(rng, axis, spectra, maps, names, background_level, noise_sigma)


# ----------------------------------------------------------------------------- STNMF
def _hex_subunit_centers(n: int, spacing: float, center: np.ndarray) -> np.ndarray:
    pts = [np.zeros(2)]
    ring = 1
    while len(pts) < n:
        for j in range(6 * ring):
            ang = 2 * np.pi * j / (6 * ring)
            pts.append(ring * spacing * np.array([np.cos(ang), np.sin(ang)]))
        ring += 1
    return np.array(pts[:n]) + center


def make_ste(
    *,
    n_spikes: int = 20000,
    grid: int = 20,
    n_subunits: int = 7,
    subunit_sigma: float = 1.2,
    spacing: float = 3.0,
    pixel_size: float = 30.0,
    rate_gain: float = 0.35,
    batch: int = 20000,
    random_state: int = 0,
    threshold: float = 0.0,
    exponent: float = 1.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Spike-triggered stimulus ensemble of a model ganglion cell with Gaussian subunits.

    Binary white-noise frames (±1) drive ``n_subunits`` Gaussian subunits (one central, the
    others on a hexagonal ring); each subunit's drive is rectified, summed, and Poisson
    spikes are drawn at ``rate_gain`` × drive per frame. Every spike adds its frame to the
    ensemble (a frame with n spikes appears n times).

    ``threshold`` and ``exponent`` add an output nonlinearity: the rate is
    ``rate_gain × max(drive − threshold, 0) ** exponent``. The defaults (0, 1) keep the
    linear output of the original model; a threshold near the drive's mean plus one or
    two standard deviations and an exponent of 2 give a sparsely firing cell whose
    spikes each follow strong drive of one or two subunits, which is what STNMF needs to
    separate them (``make_ste_sparse`` uses such settings).

    Returns
    -------
    ste : ndarray, shape (grid, grid, n_spikes), float32
        Axes (x, y, m), as the ``stnmf`` package expects.
    truth : dict
        ``subunits`` (n_subunits×grid×grid, unit max), ``centers`` (n_subunits×2, stixels),
        ``sigma`` (stixels), ``pixel_size`` (µm per stixel), ``diameters`` (µm, the
        effective diameter of the 2-sigma ellipse: 4·sigma·pixel_size), ``n_frames``.

    Examples
    --------
    >>> ste, truth = make_ste(n_spikes=500, grid=12)
    >>> ste.shape, truth["subunits"].shape
    ((12, 12, 500), (7, 12, 12))
    """
    check_sizes({"n_spikes": n_spikes, "grid": grid, "n_subunits": n_subunits, "batch": batch})
    rng = np.random.default_rng(random_state)
    centers = _hex_subunit_centers(n_subunits, spacing, np.array([(grid - 1) / 2] * 2))
    g = np.arange(grid, dtype=np.float64)
    filt = np.exp(
        -(
            (g[None, :, None] - centers[:, 0, None, None]) ** 2
            + (g[None, None, :] - centers[:, 1, None, None]) ** 2
        )
        / (2 * subunit_sigma**2)
    )
    filt /= filt.max(axis=(1, 2), keepdims=True)
    fmat = filt.reshape(n_subunits, -1).T.astype(np.float32)  # stixels × subunits
    chunks, total, n_frames = [], 0, 0
    while total < n_spikes:
        frames = rng.choice(np.array([-1.0, 1.0], np.float32), size=(batch, grid * grid))
        drive = np.maximum(frames @ fmat, 0).sum(axis=1)
        if threshold != 0.0 or exponent != 1.0:
            drive = np.maximum(drive - threshold, 0) ** exponent
        counts = rng.poisson(rate_gain * drive)
        n_frames += batch
        if counts.any():
            chunks.append(np.repeat(frames, counts, axis=0))
            total += int(counts.sum())
    ste = np.concatenate(chunks, axis=0)[:n_spikes]  # m × (x*y)
    ste = ste.reshape(n_spikes, grid, grid).transpose(1, 2, 0)
    return np.ascontiguousarray(ste, dtype=np.float32), {
        "subunits": filt.astype(np.float32),
        "centers": centers,
        "sigma": subunit_sigma,
        "pixel_size": pixel_size,
        "diameters": np.full(n_subunits, 4 * subunit_sigma * pixel_size),
        "n_frames": n_frames,
    }


# ----------------------------------------------------------------------------- hyperspectral, harder
def make_similar_bead_cube(
    *,
    shape: tuple[int, int] = (128, 128),
    n_channels: int = 80,
    spectral_range: tuple[float, float] = (2800.0, 3100.0),
    n_beads: int = 5,
    weak_factor: float = 0.25,
    background_level: float = 0.1,
    noise_sigma: float = 0.02,
    random_state: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Harder bead cube: five closely related spectra (pairwise cosine about 0.85–0.95).

    Every spectrum is the same lipid/protein backbone (2850, 2885, 2935 cm⁻¹) plus one
    extra 40 cm⁻¹ wide band at 2860, 2900, 2945, 2990 or 3030 cm⁻¹, so the components differ
    only in a shoulder. The last component's beads are ``weak_factor`` as bright (4× dimmer
    by default). Beads are soft disks placed at random (some overlap); the background is a
    smooth gradient times a broad spectrum, as in :func:`make_bead_cube`.

    Returns
    -------
    cube : ndarray, shape (C, Y, X), float32
    truth : dict
        ``spectra`` (5×C), ``abundances`` (5×Y×X), ``names``, ``spectral_axis``,
        ``spectral_units`` ("cm-1"), ``background_spectrum``, ``background_map``,
        ``noise_sigma``.

    Examples
    --------
    >>> cube, truth = make_similar_bead_cube(shape=(48, 48), n_channels=40)
    >>> u = truth["spectra"] / np.linalg.norm(truth["spectra"], axis=1, keepdims=True)
    >>> cos = (u @ u.T)[np.triu_indices(5, 1)]
    >>> cube.shape, bool(0.85 <= cos.min() and cos.max() <= 0.95)
    ((40, 48, 48), True)
    """
    check_sizes(
        {"n_channels": n_channels, "n_beads": n_beads, "shape": shape, "noise_sigma": noise_sigma}
    )
    rng = np.random.default_rng(random_state)
    axis = np.linspace(spectral_range[0], spectral_range[1], n_channels)
    backbone = resonance_spectrum(
        axis, [2850.0, 2885.0, 2935.0], [30.0, 35.0, 60.0], [1.0, 0.7, 0.6]
    )
    extra = [2860.0, 2900.0, 2945.0, 2990.0, 3030.0]
    spectra = np.stack([backbone + resonance_spectrum(axis, [c], [40.0], [0.7]) for c in extra])
    k = spectra.shape[0]
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    r_lo, r_hi = max(shape) / 24, max(shape) / 12
    maps = np.empty((k,) + tuple(shape), np.float32)
    for i in range(k):
        centers = _random_centers(rng, n_beads, shape, r_hi)
        radii = rng.uniform(r_lo, r_hi, n_beads)
        amp = rng.uniform(0.7, 1.0, n_beads) * (weak_factor if i == k - 1 else 1.0)
        maps[i] = _soft_beads(yy, xx, centers, radii, amp)
    names = [f"shoulder-{int(c)}" for c in extra[:-1]] + [f"weak-{int(extra[-1])}"]
    return _assemble_bead_cube(rng, axis, spectra, maps, names, background_level, noise_sigma)


def make_ste_sparse(
    *,
    n_spikes: int = 20000,
    grid: int = 20,
    threshold: float = 8.0,
    rate_gain: float = 0.3,
    random_state: int = 0,
    n_subunits: int = 7,
    subunit_sigma: float = 1.2,
    spacing: float = 3.0,
    pixel_size: float = 30.0,
    batch: int = 20000,
    exponent: float = 1.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """:func:`make_ste` with a thresholded output: a sparsely firing model cell.

    The cell fires only when the summed rectified subunit drive exceeds ``threshold``
    (about one standard deviation above its mean for the default 7 subunits), so each
    spike follows strong drive of a few subunits. This is the regime in which STNMF can
    separate subunits from tens of thousands of spikes; with :func:`make_ste`'s linear
    output even 50,000 spikes do not suffice. The other keywords are :func:`make_ste`'s.

    Examples
    --------
    >>> ste, truth = make_ste_sparse(n_spikes=300, grid=12)
    >>> ste.shape, truth["threshold"]
    ((12, 12, 300), 8.0)
    """
    check_sizes({"n_spikes": n_spikes, "grid": grid})
    ste, truth = make_ste(
        n_spikes=n_spikes, grid=grid, threshold=threshold, rate_gain=rate_gain,
        random_state=random_state, n_subunits=n_subunits, subunit_sigma=subunit_sigma,
        spacing=spacing, pixel_size=pixel_size, batch=batch, exponent=exponent,
    )  # fmt: skip
    truth["threshold"] = threshold
    truth["rate_gain"] = rate_gain
    return ste, truth


# ----------------------------------------------------------------------------- hyperspectral maps
def make_two_region_cube(
    *,
    shape: tuple[int, int] = (30, 30),
    n_channels: int = 200,
    spectral_range: tuple[float, float] = (600.0, 1800.0),
    noise_sigma: float = 0.05,
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Raman-like cube (C×Y×X) of two regions with known spectra: left half A, right half B.

    Region A (amide I 1655 + CH₂ bend 1450 cm⁻¹) fills the columns ``x < X // 2``,
    region B (amide I 1655 + ester C=O 1742 cm⁻¹) the rest. Both share the 1655 band, so
    the 1655/1742 ratio map separates the halves; Gaussian noise of ``noise_sigma``.

    Parameters
    ----------
    shape : (int, int)
        Y, X size; ``(256, 256)`` for the large version.
    n_channels : int
        Number of wavenumbers, evenly spaced over ``spectral_range`` (cm⁻¹).
    noise_sigma : float
        Standard deviation of the additive Gaussian noise (peak heights are 1).
    random_state : int
        Seed.

    Returns
    -------
    cube : ndarray, shape (C, Y, X), float32
    truth : dict
        ``labels`` (Y×X, int32: 1 = A, 2 = B), ``spectra`` (2×C, noise-free), ``names``,
        ``peaks`` (cm⁻¹ per region), ``spectral_axis`` (C,), ``spectral_units`` ("cm-1"),
        ``noise_sigma``.

    Examples
    --------
    >>> cube, truth = make_two_region_cube()
    >>> cube.shape, truth["labels"].shape, np.bincount(truth["labels"].ravel()).tolist()
    ((200, 30, 30), (30, 30), [0, 450, 450])
    """
    check_sizes({"n_channels": n_channels, "shape": shape, "noise_sigma": noise_sigma})
    if len(shape) != 2 or min(shape) < 2:
        raise ValueError(f"shape must be (Y, X) with both >= 2, got {shape=}")
    rng = np.random.default_rng(random_state)
    axis = np.linspace(spectral_range[0], spectral_range[1], n_channels)
    peaks = {"A": [1655.0, 1450.0], "B": [1655.0, 1742.0]}
    spectra = np.stack(
        [resonance_spectrum(axis, peaks[n], [40.0, 40.0], [1.0, 1.0]) for n in ("A", "B")]
    )
    labels = np.ones(tuple(shape), np.int32)
    labels[:, shape[1] // 2 :] = 2
    cube = spectra[labels - 1].transpose(2, 0, 1)
    if noise_sigma > 0:
        cube = cube + rng.normal(0, noise_sigma, size=cube.shape)
    return cube.astype(np.float32), {
        "labels": labels,
        "spectra": spectra.astype(np.float32),
        "names": ["A", "B"],
        "peaks": peaks,
        "spectral_axis": axis,
        "spectral_units": "cm-1",
        "noise_sigma": noise_sigma,
    }


def bead_cube_labels(
    truth: dict[str, Any], *, core: float = 0.7, background: float = 0.1
) -> np.ndarray:
    """Ground-truth label image of :func:`make_bead_cube` for cluster-map metrics.

    Label i + 1 where only component i exceeds ``core`` × its maximum abundance, label
    k + 1 (background) where every component is below ``background`` × its maximum, and 0
    (ignored by the metrics) at bead edges and overlaps.

    Examples
    --------
    >>> cube, truth = make_bead_cube(shape=(48, 48), n_channels=16)
    >>> sorted(np.unique(bead_cube_labels(truth)).tolist())
    [0, 1, 2, 3, 4, 5]
    """
    maps = np.asarray(truth["abundances"], dtype=np.float64)
    rel = maps / np.maximum(maps.max(axis=(1, 2), keepdims=True), 1e-12)
    inside = rel > core
    single = inside.sum(axis=0) == 1
    labels = np.zeros(maps.shape[1:], np.int32)
    labels[single] = np.argmax(inside, axis=0)[single] + 1
    labels[(rel < background).all(axis=0)] = maps.shape[0] + 1
    return labels
