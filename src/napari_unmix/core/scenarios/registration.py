"""Drifting TZCYX stacks with known shifts, on textures of every kind, for registration.

A scene is a periodic, band-limited texture on a canvas larger than the field of view;
every time point shows the canvas moved by a known sub-pixel drift (an exact Fourier
shift) and cropped to the field of view, so structures enter and leave at the borders as
they do under a microscope. Photon (Poisson) and read noise are added in photons, a few
camera pixels can be NaN or infinite, and everything comes from ``random_state``.

Textures (:data:`TEXTURES`)
    ``sparse_cells``: a few bright cells on a dark background; ``dense_tissue``: cells
    and fibres covering the field; ``smooth_low_contrast``: a Gaussian-filtered random
    field, about ``0.5 +- 0.03`` (relative); ``offset``: dim cells on a large non-zero
    mean; ``gradient``: low-contrast tissue on a steep intensity ramp; ``nonfinite``:
    dense tissue with a few NaN / inf camera pixels.

Conventions
    ``truth["drift"]`` (T, 2) is how far the sample moved (y, x) at each time point
    (time point 0 does not move); ``truth["shifts"] = -drift`` is the correction that
    :func:`napari_unmix.core.stack_tools.apply_shifts` applies to align every time point
    to time point 0, i.e. what ``register_stack(..., return_shifts=True)`` should return.
    Intensities are ``scale`` units per relative unit (default 100); ``photons_per_unit``
    sets the shot noise (0.1: a few photons per pixel, 100: nearly noise-free).

Examples
--------
>>> stack, truth = make_registration_stack("smooth_low_contrast", shape=(32, 32), random_state=0)
>>> stack.shape, truth["shifts"].shape
((4, 1, 1, 32, 32), (4, 2))
>>> clean = truth["scene"].render(truth["drift"])[:, 0, 0]
>>> bool(np.allclose(clean[0], truth["scene"].render(np.zeros((1, 2)))[0, 0, 0]))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "TEXTURES",
    "RegistrationScene",
    "make_registration_stack",
    "registration_residual",
]

#: Texture name -> one-line description.
TEXTURES: dict[str, str] = {
    "sparse_cells": "a few bright cells (sigma 1.5-4 px) on a dark background",
    "dense_tissue": "cells and fibres covering the whole field",
    "smooth_low_contrast": "Gaussian-filtered random field (sigma 2-12 px), 0.5 +- 0.03",
    "offset": "dim cells (10 % contrast) on a large non-zero mean",
    "gradient": "low-contrast tissue on an intensity ramp across the field",
    "nonfinite": "dense tissue with a few NaN / +-inf camera pixels",
}


def _gaussian_kernel_ft(shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Fourier transform (rfft2 layout) of a periodic Gaussian of ``sigma`` pixels."""
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    return np.exp(-2 * (np.pi * sigma) ** 2 * (ky**2 + kx**2))


def _blobs(
    rng: np.random.Generator, shape: tuple[int, int], n: int, sigmas: tuple, margin: int = 0
) -> np.ndarray:
    """Periodic sum of Gaussian blobs with random centres, widths and heights (peak ~1).

    Centres are at least ``margin`` pixels from the canvas border (e.g. in the view).
    """
    out = np.zeros((shape[0], shape[1] // 2 + 1), np.complex128)
    groups = np.array_split(np.arange(n), 4)
    for group, sigma in zip(groups, np.linspace(*sigmas, 4), strict=True):
        deltas = np.zeros(shape)
        pos = rng.integers(margin, np.array(shape) - margin, size=(group.size, 2))
        np.add.at(deltas, (pos[:, 0], pos[:, 1]), rng.uniform(0.5, 1.0, group.size))
        # a 2-D Gaussian of unit peak has integral 2 pi sigma^2
        out += np.fft.rfft2(deltas) * _gaussian_kernel_ft(shape, sigma) * 2 * np.pi * sigma**2
    return np.fft.irfft2(out, s=shape)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Periodic Gaussian-filtered white noise, scaled to zero mean and unit std."""
    field = np.fft.irfft2(
        np.fft.rfft2(rng.standard_normal(shape)) * _gaussian_kernel_ft(shape, sigma), s=shape
    )
    return (field - field.mean()) / field.std()


def _texture(
    kind: str, rng: np.random.Generator, shape: tuple[int, int], pad: int
) -> tuple[np.ndarray, float]:
    """Relative texture (periodic) and the ramp slope (relative units per pixel)."""
    area = shape[0] * shape[1]
    if kind == "sparse_cells":  # about one cell per 400 px^2, at least 4 in the view
        cells = _blobs(rng, shape, area // 400, (1.5, 4.0))
        return 0.05 + cells + _blobs(rng, shape, 4, (1.5, 4.0), margin=pad + 4), 0.0
    if kind in ("dense_tissue", "nonfinite"):
        cells = _blobs(rng, shape, max(8, area // 25), (1.2, 3.0))
        fibres = np.abs(_smooth_field(rng, shape, 1.5))
        tissue = 0.6 * cells / cells.max() + 0.15 * fibres / fibres.max()
        return 0.1 + tissue, 0.0
    if kind == "smooth_low_contrast":
        return 0.5 + 0.03 * _smooth_field(rng, shape, rng.uniform(2.0, 12.0)), 0.0
    if kind == "offset":
        cells = _blobs(rng, shape, max(8, area // 150), (1.5, 3.5))
        return 1.0 + 0.1 * cells / cells.max(), 0.0
    if kind == "gradient":
        tissue = _blobs(rng, shape, max(8, area // 40), (1.5, 3.0))
        # the ramp rises by 1 (relative) over the field of view (stays positive within
        # the drift); the tissue adds 0.15
        return 0.8 + 0.15 * tissue / tissue.max(), 1.0
    raise ValueError(f"unknown texture {kind!r}; choose from {sorted(TEXTURES)}")


@dataclass(frozen=True)
class RegistrationScene:
    """A periodic texture per (z, c) on a canvas, seen through a field of view.

    :meth:`render` gives the noise-free frames for any drift, exactly (Fourier shift of
    a band-limited canvas, then a crop), so the residual of any estimated correction can
    be measured without interpolation error (:func:`registration_residual`).
    """

    spectrum: np.ndarray  # rfft2 of the canvases, (Z, C, Ky, Kx)
    canvas_shape: tuple[int, int]
    shape: tuple[int, int]
    pad: int
    ramp: np.ndarray  # (2,) slope (y, x) of the intensity ramp, units per pixel
    scale: float

    def render(self, drift: np.ndarray) -> np.ndarray:
        """Noise-free frames ``(n, Z, C, Y, X)`` (float64) for drifts ``(n, 2)`` (y, x).

        The sample moved by ``drift``: the frame shows ``canvas(y - dy, x - dx)``.
        """
        drift = np.atleast_2d(np.asarray(drift, np.float64))
        ky = np.fft.fftfreq(self.canvas_shape[0])[:, None]
        kx = np.fft.rfftfreq(self.canvas_shape[1])[None, :]
        phase = np.exp(
            -2j * np.pi * (ky * drift[:, 0, None, None] + kx * drift[:, 1, None, None])
        )  # (n, Ky, Kx)
        moved = np.fft.irfft2(self.spectrum[None] * phase[:, None, None], s=self.canvas_shape)
        ny, nx = self.shape
        frames = moved[..., self.pad : self.pad + ny, self.pad : self.pad + nx]
        y = np.arange(ny)[:, None] - (ny - 1) / 2 - drift[:, 0, None, None]
        x = np.arange(nx)[None, :] - (nx - 1) / 2 - drift[:, 1, None, None]
        ramp = self.scale * (self.ramp[0] * y + self.ramp[1] * x)  # (n, Y, X)
        return frames + ramp[:, None, None]


def make_registration_stack(
    texture: str = "dense_tissue",
    *,
    shape: tuple[int, int] = (64, 64),
    n_t: int = 4,
    n_z: int = 1,
    n_c: int = 1,
    max_shift: float = 10.0,
    photons_per_unit: float | None = 10.0,
    read_noise: float = 1.5,
    scale: float = 100.0,
    n_nonfinite: int | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A TZCYX stack whose time points drift by known sub-pixel shifts.

    Parameters
    ----------
    texture : str
        A key of :data:`TEXTURES`.
    shape : (int, int)
        Field of view (Y, X) in pixels.
    n_t, n_z, n_c : int
        Time points, z-slices (each its own texture, dimmer away from the middle) and
        channels (each its own texture; channel 0 is the one to register on).
    max_shift : float
        Every time point after the first moves by a uniform drift in
        ``[-max_shift, max_shift]`` pixels on each axis (independently, not a walk).
    photons_per_unit : float or None
        Detected photons per intensity unit (Poisson noise); None: noise-free.
    read_noise : float
        Camera read noise in photons (electrons), Gaussian.
    scale : float
        Intensity units per relative unit (the data's unit; results must not depend on it).
    n_nonfinite : int or None
        NaN / +inf / -inf camera pixels per frame (fixed positions); None: 3 for the
        ``"nonfinite"`` texture, 0 otherwise.
    random_state : int, Generator or None

    Returns
    -------
    stack : ndarray, float32, (T, Z, C, Y, X)
    truth : dict
        ``drift`` and ``shifts`` (T, 2), ``clean`` (the noise-free stack), ``scene``
        (a :class:`RegistrationScene`), ``nonfinite`` (bool mask, Y x X), ``texture``,
        ``photons_per_unit``, ``std`` (std of the clean registration image of t = 0).

    Examples
    --------
    >>> stack, truth = make_registration_stack("nonfinite", shape=(24, 32), n_t=2, n_c=2)
    >>> stack.shape, int((~np.isfinite(stack[0, 0, 0])).sum())
    ((2, 1, 2, 24, 32), 3)
    >>> bool(np.abs(truth["shifts"]).max() <= 10 and np.all(truth["shifts"][0] == 0))
    True
    """
    if texture not in TEXTURES:
        raise ValueError(f"unknown texture {texture!r}; choose from {sorted(TEXTURES)}")
    ny, nx = (int(v) for v in shape)
    if min(ny, nx) < 8 or min(n_t, n_z, n_c) < 1:
        raise ValueError(f"need shape >= (8, 8) and n_t, n_z, n_c >= 1, got {shape=}, {n_t=}")
    if photons_per_unit is not None and photons_per_unit <= 0:
        raise ValueError(f"photons_per_unit must be > 0 or None, got {photons_per_unit}")
    rng = np.random.default_rng(random_state)
    pad = int(np.ceil(max_shift)) + 8
    canvas = (ny + 2 * pad, nx + 2 * pad)
    profile = np.exp(-0.5 * ((np.arange(n_z) - (n_z - 1) / 2) / max(n_z / 2, 1)) ** 2)
    textures, slope = [], 0.0
    for z in range(n_z):
        for _ in range(n_c):
            tex, slope = _texture(texture, rng, canvas, pad)
            textures.append(profile[z] * tex * scale)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = slope / max(ny, nx) * np.array([np.sin(angle), np.cos(angle)])
    spectrum = np.fft.rfft2(np.reshape(textures, (n_z, n_c, *canvas)))
    scene = RegistrationScene(spectrum, canvas, (ny, nx), pad, ramp, float(scale))
    drift = rng.uniform(-max_shift, max_shift, (n_t, 2))
    drift[0] = 0.0
    clean = scene.render(drift)
    if photons_per_unit is None:
        stack = clean.copy()
    else:
        counts = rng.poisson(np.clip(clean, 0, None) * photons_per_unit).astype(np.float64)
        counts += rng.normal(0.0, read_noise, clean.shape)
        stack = counts / photons_per_unit
    n_bad = (3 if texture == "nonfinite" else 0) if n_nonfinite is None else int(n_nonfinite)
    bad = np.zeros((ny, nx), bool)
    if n_bad:
        flat = rng.choice(ny * nx, size=min(n_bad, ny * nx), replace=False)
        bad.flat[flat] = True
        values = np.resize([np.nan, np.inf, -np.inf], flat.size)
        stack[..., bad] = values
    truth = {
        "texture": texture,
        "drift": drift,
        "shifts": -drift,
        "clean": clean.astype(np.float32),
        "scene": scene,
        "nonfinite": bad,
        "photons_per_unit": photons_per_unit,
        "std": float(clean[0, :, 0].max(axis=0).std()),
    }
    return stack.astype(np.float32), truth


def registration_residual(
    scene: RegistrationScene, drift: np.ndarray, shifts: np.ndarray, *, channel: int = 0
) -> np.ndarray:
    """RMS of (corrected frame - reference frame) / std of the reference, per time point.

    The corrected frame is rendered exactly (no interpolation): a frame that drifted by
    ``drift[t]`` and was then moved by the estimated correction ``shifts[t]`` shows the
    sample at ``drift[t] + shifts[t]``; time point 0 is the reference. Computed on the
    max-z projection of ``channel``, the image registration works on.

    Examples
    --------
    >>> _, truth = make_registration_stack("sparse_cells", shape=(32, 32), n_t=2)
    >>> registration_residual(truth["scene"], truth["drift"], truth["shifts"]).round(6).tolist()
    [0.0, 0.0]
    """
    drift = np.asarray(drift, np.float64)
    residual_drift = drift + np.asarray(shifts, np.float64) - drift[0]
    frames = scene.render(residual_drift)[:, :, channel].max(axis=1)
    reference = scene.render(np.zeros((1, 2)))[0, :, channel].max(axis=0)
    rms = np.sqrt(((frames - reference) ** 2).mean(axis=(-2, -1)))
    return rms / reference.std()
