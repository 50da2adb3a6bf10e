"""Random two-channel TZCYX stacks with a known bleed-through ``alpha``.

The scenes span what fluorescence users have: photon counts from 0.1 to 100 photons per
intensity unit (Poisson shot noise plus Gaussian read noise), camera offsets and
autofluorescence, source and target biology that is separate, touching, partly or fully
co-localised, cell sizes and densities, image sizes, one alpha or one per time point,
and optionally a few NaN pixels. Everything is drawn from ``random_state``.

Model (per channel, in the data's intensity units)::

    expected_source = S + autofluorescence_s
    expected_target = T + alpha_t * S + autofluorescence_t
    measured = Poisson(gain * expected) / gain + offset + Normal(0, read_noise / gain)

with ``gain`` = photons per unit. The bleed-through is optical, so its photons share the
target channel's shot noise.

Examples
--------
>>> data, truth = make_scenario(random_state=1, overlap="separate", shape=(48, 48), n_z=2)
>>> data.shape[2:], truth["overlap"], 0.05 <= truth["alpha_by_t"][0] <= 0.5
((2, 48, 48), 'separate', True)
>>> [s["overlap"] for s in draw_scenarios(3, random_state=0)]
['full', 'full', 'partial']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..synthetic import gaussian_blobs

__all__ = ["ALPHA_RANGE", "OVERLAPS", "PHOTON_RANGE", "draw_scenarios", "make_scenario"]

#: How the target biology relates to the source biology.
#: ``separate``: no target cell within reach of a source cell; ``touching``: paired cells
#: whose edges meet; ``partial``: paired cells whose bodies overlap partly; ``full``:
#: every source cell carries a co-localised target cell (alpha is then not identifiable
#: from the experiment alone: a single-stained control is needed).
OVERLAPS = ("separate", "touching", "partial", "full")
#: Range of the true alpha.
ALPHA_RANGE = (0.05, 0.5)
#: Range of the gain, photons per intensity unit (log-uniform).
PHOTON_RANGE = (0.1, 100.0)


def _uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


#: the parameters :func:`draw_scenarios` draws (and may hold fixed)
_DRAWN = ("overlap", "photons_per_unit", "alpha", "alpha_per_t", "shape", "n_z", "n_t")


def draw_scenarios(
    n: int,
    *,
    random_state: Any = 0,
    overlap: str | None = None,
    photons_per_unit: float | None = None,
    alpha: float | None = None,
    alpha_per_t: bool | None = None,
    shape: tuple[int, int] | None = None,
    n_z: int | None = None,
    n_t: int | None = None,
) -> list[dict[str, Any]]:
    """``n`` random parameter sets for :func:`make_scenario` (each with its own seed).

    A parameter given (e.g. ``overlap="full"``) holds for every scenario; None: drawn.

    Examples
    --------
    >>> s = draw_scenarios(2, random_state=5, photons_per_unit=1.0)
    >>> [p["photons_per_unit"] for p in s], len({p["random_state"] for p in s})
    ([1.0, 1.0], 2)
    """
    fixed = {k: v for k, v in locals().items() if k in _DRAWN and v is not None}
    rng = np.random.default_rng(random_state)
    out = []
    for _ in range(int(n)):  # a loop over scenarios, each a few draws
        p = {
            "overlap": OVERLAPS[int(rng.integers(len(OVERLAPS)))],
            "photons_per_unit": _log_uniform(rng, *PHOTON_RANGE),
            "alpha": _uniform(rng, *ALPHA_RANGE),
            "alpha_per_t": bool(rng.random() < 0.25),
            "shape": (int(rng.choice([64, 96, 128, 192])),) * 2,
            "n_z": int(rng.integers(1, 7)),
            "n_t": int(rng.integers(1, 3)),
            "random_state": int(rng.integers(2**31)),
        }
        p.update(fixed)
        out.append(p)
    return out


def _pairs(
    rng: np.random.Generator, src: np.ndarray, reach: np.ndarray, overlap: str
) -> np.ndarray:
    """Target centres relative to the source centres ``src`` for a paired overlap mode."""
    factor = {"touching": (1.3, 1.7), "partial": (0.3, 0.9), "full": (0.0, 0.15)}[overlap]
    d = rng.uniform(*factor, size=src.shape[0]) * reach
    theta = rng.uniform(0, 2 * np.pi, size=src.shape[0])
    return src + d[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1)


def _far_from(
    rng: np.random.Generator, n: int, shape: tuple[int, int], src: np.ndarray, reach: float
) -> np.ndarray:
    """Up to ``n`` random centres at least ``reach`` from every source centre."""
    cand = rng.uniform(4, np.array(shape) - 4, size=(50 * n + 50, 2))
    dist = np.sqrt(((cand[:, None, :] - src[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return cand[dist >= reach][:n]


def make_scenario(
    *,
    overlap: str = "separate",
    photons_per_unit: float = 10.0,
    alpha: float = 0.25,
    alpha_per_t: bool = False,
    shape: tuple[int, int] = (96, 96),
    n_z: int = 3,
    n_t: int = 1,
    n_nan: int = 0,
    random_state: Any = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """One random two-channel stack (channel 0 bleeds into channel 1) and its truth.

    Parameters
    ----------
    overlap : {"separate", "touching", "partial", "full"}
        How the target cells relate to the source cells (see :data:`OVERLAPS`).
    photons_per_unit : float
        Gain: detected photons per intensity unit (0.1: a 500-unit cell gives 50
        photons; 100: practically noise-free).
    alpha : float
        True bleed-through (of the first time point when ``alpha_per_t``).
    alpha_per_t : bool
        Let alpha change linearly over time to a second random value in
        :data:`ALPHA_RANGE` (bleaching, laser drift).
    shape, n_z, n_t : int
        Y×X size, z-slices, time points.
    n_nan : int
        Pixels set to NaN in both channels of every plane's same random positions.
    random_state : int or numpy Generator
        Seed of everything else: cell positions, sizes and amplitudes, backgrounds,
        read noise, the noise itself.

    Returns
    -------
    data : ndarray, float32, shape (n_t, n_z, 2, Y, X)
    truth : dict
        ``alpha_by_t``, ``source`` and ``target`` (TZYX pure signals in data units),
        and every drawn parameter (``offset``, ``autofluorescence``, ``read_noise``,
        ``cell_sigma``, ...).
    """
    if overlap not in OVERLAPS:
        raise ValueError(f"overlap must be one of {OVERLAPS}, got {overlap!r}")
    if not photons_per_unit > 0:
        raise ValueError(f"photons_per_unit must be > 0, got {photons_per_unit!r}")
    rng = np.random.default_rng(random_state)
    shape = (int(shape[0]), int(shape[1]))
    alphas = np.full(n_t, float(alpha))
    if alpha_per_t and n_t > 1:
        alphas = np.linspace(float(alpha), _uniform(rng, *ALPHA_RANGE), n_t)
    sigma_lo = _uniform(rng, 1.5, 4.0)
    n_src = max(2, round(shape[0] * shape[1] * _uniform(rng, 4e-4, 2e-3)))
    sig_s = rng.uniform(sigma_lo, 2 * sigma_lo, n_src)
    src = rng.uniform(4, np.array(shape) - 4, size=(n_src, 2))
    amp_s = rng.uniform(200, 1000, n_src)
    if overlap == "separate":
        reach = 3.0 * (2 * sigma_lo + sig_s.max())
        tgt = _far_from(rng, n_src, shape, src, reach)
        sig_t = rng.uniform(sigma_lo, 2 * sigma_lo, tgt.shape[0])
    else:
        pair = rng.random(n_src) < (1.0 if overlap == "full" else _uniform(rng, 0.5, 1.0))
        sig_t = rng.uniform(sigma_lo, 2 * sigma_lo, n_src)
        tgt = _pairs(rng, src, sig_s + sig_t, overlap)[pair]
        sig_t = sig_t[pair]
    amp_t = rng.uniform(100, 800, tgt.shape[0])
    # cells are ellipsoids in z: a centre and width per cell, seen in n_z slices
    z = np.arange(n_z, dtype=np.float64)
    zc_s = rng.uniform(-0.5, n_z - 0.5, n_src)
    zc_t = rng.uniform(-0.5, n_z - 0.5, tgt.shape[0])
    if overlap != "separate":  # a paired target cell sits at its source cell's depth
        zc_t = zc_s[pair] + rng.normal(0, 0.3, tgt.shape[0])
    zw = max(n_z / 3.0, 1.0)
    source = np.empty((n_t, n_z, *shape), np.float32)
    target = np.empty_like(source)
    for t in range(n_t):  # a few planes: the cells wander slowly over time
        ds = rng.normal(0, 0.5, src.shape) * t
        dt = rng.normal(0, 0.5, tgt.shape) * t
        for k in range(n_z):
            ws = amp_s * np.exp(-0.5 * ((z[k] - zc_s) / zw) ** 2)
            wt = amp_t * np.exp(-0.5 * ((z[k] - zc_t) / zw) ** 2)
            source[t, k] = gaussian_blobs(shape, src + ds, sig_s, ws)
            target[t, k] = gaussian_blobs(shape, tgt + dt, sig_t, wt)
    gain = float(photons_per_unit)
    offset = rng.uniform(0, 500, 2)
    autofluo = rng.uniform(0, 50, 2)
    read_noise = _uniform(rng, 0.5, 3.0)  # electrons
    a = alphas[:, None, None, None]
    expected = np.stack([source + autofluo[0], target + a * source + autofluo[1]], axis=2).astype(
        np.float64
    )
    photons = rng.poisson(expected * gain).astype(np.float64)
    photons += rng.normal(0, read_noise, photons.shape)
    data = (photons / gain + offset[None, None, :, None, None]).astype(np.float32)
    nan_at = np.zeros((0, 2), np.int64)
    if n_nan:
        nan_at = np.stack([rng.integers(0, s, int(n_nan)) for s in shape], axis=1)
        data[..., nan_at[:, 0], nan_at[:, 1]] = np.nan
    truth = {
        "alpha_by_t": alphas.tolist(),
        "alpha": float(alphas[0]) if np.all(alphas == alphas[0]) else alphas.tolist(),
        "overlap": overlap,
        "photons_per_unit": gain,
        "offset": offset.tolist(),
        "autofluorescence": autofluo.tolist(),
        "read_noise_electrons": read_noise,
        "cell_sigma": [float(sigma_lo), float(2 * sigma_lo)],
        "n_source_cells": int(n_src),
        "n_target_cells": int(tgt.shape[0]),
        "nan_pixels": nan_at.tolist(),
        "source": source,
        "target": target,
        "source_channel": 0,
        "target_channel": 1,
    }
    return data, truth
