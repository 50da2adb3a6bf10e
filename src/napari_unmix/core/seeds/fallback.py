"""H seeds found in the data: the residual fallback and the spectral-information
("resonance") seed."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..nnls import nnls
from .spectra import _flat, band_image, gaussian_spectrum


def _smooth_random_spectrum(C: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    s = gaussian_filter1d(rng.random(C), sigma=max(C / 12.0, 1.0), mode="nearest")
    s = np.maximum(s - s.min() * 0.5, 1e-6)
    return s * (scale / s.max())


def _residual_spectrum(
    X: np.ndarray,
    basis: np.ndarray,
    *,
    rank_by: str,
    n_pixels: int,
    scale: float,
    exclude: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str]:
    """Spectrum of what the existing seeds do not explain (see :func:`prepare_seeds`)."""
    C = X.shape[1]
    R = X.copy() if basis.shape[0] == 0 else X - nnls(X, basis)[0] @ basis
    np.maximum(R, 0.0, out=R)
    strength = np.sqrt((R**2).sum(axis=1))
    if rank_by == "score" and basis.shape[0]:
        unit = basis / np.maximum(np.linalg.norm(basis, axis=1, keepdims=True), 1e-300)
        cos = (R @ unit.T) / np.maximum(strength[:, None], 1e-300)
        strength = strength * (1.0 - np.clip(cos.max(axis=1), 0.0, 1.0))
    strength[exclude] = 0.0
    noise = np.median(strength) + 1e-12
    order = np.argsort(strength)[::-1][:n_pixels]
    order = order[strength[order] > 3.0 * noise]
    if order.size < max(3, n_pixels // 4):
        return _smooth_random_spectrum(C, scale, rng), "smooth random spectrum (no stable residual)"
    picked = R[order] / np.maximum(R[order].max(axis=1, keepdims=True), 1e-300)
    s = gaussian_filter1d(picked.mean(axis=0), sigma=1.0, mode="nearest")
    s = np.maximum(s, 0.0)
    return s * (scale / max(s.max(), 1e-300)), f"residual of {order.size} pixels ({rank_by})"


def _resonance_seed(
    cube_raw, cube_sub, axis, spec: dict[str, Any], taken: np.ndarray, need_h: bool
) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Band-mean W image and (when needed) the top-N pixel or Gaussian H seed."""
    pos, width = float(spec["position"]), float(spec["width"])
    use_sub = bool(spec.get("use_subtracted", True))
    cube = cube_sub if use_sub else cube_raw
    img, band = band_image(cube, axis, position=pos, width=width)
    info: dict[str, Any] = {"W": f"band mean {pos:g} ± {width:g}"}
    if not need_h:
        return img, None, info
    if spec.get("gaussian", False):
        fwhm = float(spec.get("fwhm") or 2.0 * width)
        amp = float(spec.get("amplitude", 1.0))
        info["H"] = f"Gaussian model centre {pos:g}, FWHM {fwhm:g}, amplitude {amp:g}"
        return img, gaussian_spectrum(axis, center=pos, fwhm=fwhm, amplitude=amp), info
    rank_by = spec.get("rank_by", "max_intensity")
    n = int(spec.get("n_pixels", 150))
    X = _flat(cube)
    inside = X[:, band].mean(axis=1)
    if rank_by == "score":
        out = X[:, ~band].mean(axis=1) if (~band).any() else np.ones(X.shape[0])
        rank = (inside - out) / np.maximum(np.abs(out), 1e-12)
    elif rank_by == "max_intensity":
        rank = inside
    else:
        raise ValueError(f"rank_by must be 'max_intensity' or 'score', got {rank_by!r}")
    rank = np.where(np.isfinite(rank) & ~taken, rank, -np.inf)
    top = np.argsort(rank)[::-1][:n]
    top = top[np.isfinite(rank[top])]
    if top.size == 0:
        raise ValueError(f"no free pixel left for the resonance seed at {pos:g}")
    taken[top] = True
    info["H"] = f"mean of top {top.size} pixels by {rank_by} in {pos:g} ± {width:g}"
    info["seed_pixels"] = np.column_stack(np.unravel_index(top, cube.shape[1:]))
    return img, X[top].mean(axis=0), info
