"""Synthetic hyperspectral cubes: bead cubes (easy and with similar spectra), two-region cubes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validate import check_sizes
from .fluorescence import _random_centers

__all__ = [
    "bead_cube_labels",
    "make_bead_cube",
    "make_similar_bead_cube",
    "make_two_region_cube",
    "resonance_spectrum",
]


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


def _bead_start(shape, n_channels, spectral_range, n_beads, noise_sigma, random_state):
    """The checked sizes' random generator and the evenly spaced spectral axis of a bead cube."""
    check_sizes(
        {"n_channels": n_channels, "n_beads": n_beads, "shape": shape, "noise_sigma": noise_sigma}
    )
    rng = np.random.default_rng(random_state)
    return rng, np.linspace(spectral_range[0], spectral_range[1], n_channels)


def _bead_maps(rng, shape, n_beads, k, weak_factor, *, overlap_pair=False) -> np.ndarray:
    """(k, Y, X) maps of ``n_beads`` soft beads per component at random places; the last
    component's beads ``weak_factor`` as bright; with ``overlap_pair`` two beads of
    component 1 sit on two of component 0 (a similar pair that overlaps spatially)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    r_lo, r_hi = max(shape) / 24, max(shape) / 12
    maps = np.empty((k,) + tuple(shape), np.float32)
    first = None
    for i in range(k):
        centers = _random_centers(rng, n_beads, shape, r_hi)
        if overlap_pair and i == 1:
            centers[:2] = first[:2] + rng.normal(0, r_lo, size=(2, 2))
        first = centers if i == 0 else first
        radii = rng.uniform(r_lo, r_hi, n_beads)
        amp = rng.uniform(0.7, 1.0, n_beads) * (weak_factor if i == k - 1 else 1.0)
        maps[i] = _soft_beads(yy, xx, centers, radii, amp)
    return maps


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
    rng, axis = _bead_start(shape, n_channels, spectral_range, n_beads, noise_sigma, random_state)
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
    maps = _bead_maps(rng, shape, n_beads, len(names), weak_factor, overlap_pair=True)
    return _assemble_bead_cube(rng, axis, spectra, maps, names, background_level, noise_sigma)


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
    rng, axis = _bead_start(shape, n_channels, spectral_range, n_beads, noise_sigma, random_state)
    backbone = resonance_spectrum(
        axis, [2850.0, 2885.0, 2935.0], [30.0, 35.0, 60.0], [1.0, 0.7, 0.6]
    )
    extra = [2860.0, 2900.0, 2945.0, 2990.0, 3030.0]
    spectra = np.stack([backbone + resonance_spectrum(axis, [c], [40.0], [0.7]) for c in extra])
    maps = _bead_maps(rng, shape, n_beads, len(extra), weak_factor)
    names = [f"shoulder-{int(c)}" for c in extra[:-1]] + [f"weak-{int(extra[-1])}"]
    return _assemble_bead_cube(rng, axis, spectra, maps, names, background_level, noise_sigma)


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
