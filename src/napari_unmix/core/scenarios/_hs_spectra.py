"""The spectra of :mod:`.hyperspectral` scenes: spectral axes, component spectra (with a
close pair at a chosen cosine) and the background spectrum."""

from __future__ import annotations

import numpy as np

__all__ = ["CM1_WINDOWS", "spectral_cosines"]

#: Spectral windows drawn for a cm-1 axis (CH stretch, fingerprint, both).
CM1_WINDOWS = ((2750.0, 3050.0), (600.0, 1800.0), (1000.0, 3100.0))


def spectral_cosines(spectra: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarities of the rows of ``spectra`` (k x C).

    Examples
    --------
    >>> spectral_cosines(np.array([[1.0, 0.0], [1.0, 1.0]])).round(3).tolist()
    [[1.0, 0.707], [0.707, 1.0]]
    """
    s = np.asarray(spectra, dtype=np.float64)
    norms = np.linalg.norm(s, axis=1, keepdims=True)
    unit = s / np.where(norms > 0, norms, 1.0)
    return unit @ unit.T


def _spectral_axis(rng: np.random.Generator, n: int, units: str, window: int) -> np.ndarray:
    if units == "cm-1":
        lo, hi = CM1_WINDOWS[window % len(CM1_WINDOWS)]
    else:
        lo = rng.uniform(400.0, 600.0)
        hi = lo + rng.uniform(100.0, 250.0)
    return np.linspace(lo, hi, n)


# ----------------------------------------------------------------------------- spectra
def _random_spectrum(
    rng: np.random.Generator, axis: np.ndarray, units: str, width_scale: float
) -> np.ndarray:
    """A unit-max spectrum: Lorentzian bands (cm-1) or skewed Gaussian emission (nm)."""
    span = axis[-1] - axis[0]
    step = span / max(len(axis) - 1, 1)
    n_peaks = int(rng.integers(1, 5)) if units == "cm-1" else int(rng.integers(1, 3))
    pos = rng.uniform(axis[0] + 0.05 * span, axis[-1] - 0.05 * span, n_peaks)
    amp = rng.uniform(0.3, 1.0, n_peaks)
    if units == "cm-1":
        hwhm = np.maximum(rng.uniform(0.015, 0.08, n_peaks) * span * width_scale, 0.75 * step)
        bands = 1.0 / (1.0 + ((axis[None] - pos[:, None]) / hwhm[:, None]) ** 2)
    else:
        sigma = np.maximum(rng.uniform(0.05, 0.15, n_peaks) * span * width_scale, 0.75 * step)
        d = axis[None] - pos[:, None]
        red_tail = np.where(d > 0, 1.6, 1.0)  # emission spectra tail towards the red
        bands = np.exp(-0.5 * (d / (sigma[:, None] * red_tail)) ** 2)
    spectrum = amp @ bands + rng.uniform(0.0, 0.05)
    return spectrum / spectrum.max()


def _variant(rng, axis, units, base, target, width_scale):
    """A second spectrum at cosine ``target`` to ``base``: base mixed with an unlike spectrum."""
    for _ in range(50):
        other = _random_spectrum(rng, axis, units, width_scale)
        if spectral_cosines(np.vstack([base, other]))[0, 1] < target - 0.05:
            break
    lo, hi = 0.0, 1.0  # cos(base, (1-t) base + t other) falls from 1 to cos(base, other)
    for _ in range(60):
        t = 0.5 * (lo + hi)
        mix = (1 - t) * base + t * other
        if spectral_cosines(np.vstack([base, mix]))[0, 1] > target:
            lo = t
        else:
            hi = t
    mix = (1 - lo) * base + lo * other
    return mix / mix.max()


def _draw_spectra(rng, axis, units, k, close_pair, pair_similarity, max_similarity):
    """k unit-max spectra, pairwise cosine <= max_similarity (rows 0 and 1 a close pair)."""
    spectra: list[np.ndarray] = []
    width_scale = 1.0
    while len(spectra) < k:
        for _attempt in range(200):
            if len(spectra) == 1 and close_pair:
                cand = _variant(rng, axis, units, spectra[0], pair_similarity, width_scale)
            else:
                cand = _random_spectrum(rng, axis, units, width_scale)
            if not spectra or spectral_cosines(np.vstack([spectra, cand]))[-1, :-1].max() <= (
                max_similarity
            ):
                spectra.append(cand)
                break
            width_scale = max(0.2, width_scale * 0.98)  # narrower bands overlap less
        else:
            # a near-saturated axis (few channels, many components): a narrow band per gap
            cand = np.zeros(len(axis))
            cand[int(rng.integers(len(axis)))] = 1.0
            spectra.append(0.9 * cand + 0.1 * _random_spectrum(rng, axis, units, 0.2))
    return np.asarray(spectra)


def _background_spectrum(rng, axis, units) -> np.ndarray:
    x = (axis - axis[0]) / (axis[-1] - axis[0])
    if units == "cm-1":  # smooth non-resonant / fluorescence baseline
        curve = 1.0 + rng.uniform(-0.6, 0.6) * x + rng.uniform(-0.5, 0.5) * x**2
    else:  # broad autofluorescence
        curve = np.exp(-0.5 * ((x - rng.uniform(-0.3, 0.7)) / rng.uniform(0.4, 1.0)) ** 2)
    curve = np.clip(curve, 0.05, None)
    return curve / curve.max()
