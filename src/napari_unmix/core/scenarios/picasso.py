"""Scenes for PICASSO blind unmixing: N fluorophores, a known mixing matrix, shot noise.

A scene is a TZCYX stack in camera counts::

    I_c = Poisson(photons_per_unit * (b_c + Σ_j M_cj F_j)) / photons_per_unit

``F_j`` are fluorophore images in counts (objects a few hundred counts above a
background ``b_c`` of about a hundred), ``M`` has 1 on the diagonal and off-diagonal
spill-over drawn from ``mixing_range``. ``photons_per_unit`` sets the shot noise: at 0.5
a background of 100 counts is 50 photons, at 100 the data are practically noise free.
Biology is ``"separate"`` (every fluorophore has its own structures, overlapping by
chance) or ``"colocalised"`` (a shared structure appears in every fluorophore with its
own weight, as labels of one organelle do). A few pixels may be NaN (dead pixels,
masked regions).

:func:`draw_scene_params` draws the conditions of one random scene,
:func:`make_picasso_scene` renders it, and :func:`score_unmixing` compares an unmixed
stack with the truth (``crosstalk``, ``gain``, clipped signal), ignoring NaN pixels.

Examples
--------
>>> data, truth = make_picasso_scene(n_channels=3, photons_per_unit=0.5, random_state=0)
>>> data.shape, sorted(truth)[:3]
((1, 1, 3, 128, 128), ['background', 'biology', 'fluorophores'])
>>> from napari_unmix.core.picasso import apply_unmixing
>>> unmix = np.linalg.inv(truth["mixing"])
>>> out = apply_unmixing(data, unmix, background=truth["background"], clip_negative=False)
>>> round(score_unmixing(out, truth)["crosstalk"], 2) <= 0.01
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Method, Registry
from ..synthetic import gaussian_blobs

__all__ = [
    "BIOLOGY",
    "KINDS",
    "PHOTONS",
    "STRUCTURES",
    "draw_scene_params",
    "make_picasso_scene",
    "score_unmixing",
]

#: photon counts per intensity unit the tables run over (0.1: very dim, 100: noise free)
PHOTONS = (0.1, 0.5, 2.0, 10.0, 100.0)
BIOLOGY = ("separate", "colocalised")


def _draw_blobs(
    rng: np.random.Generator,
    shape: tuple[int, int],
    scale: float,
    n: int,
    sig_lo: float,
    sig_hi: float,
    amp_lo: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, sizes and amplitudes of ``n`` blobs per 128² (sizes times ``scale``)."""
    area = shape[0] * shape[1] / 128.0**2
    n = max(1, round(n * area / scale**2))
    margin = min(shape) / 8
    centers = rng.uniform(margin, np.array(shape) - margin, size=(n, 2))
    sig = rng.uniform(sig_lo, sig_hi, n) * scale
    return centers, sig, rng.uniform(amp_lo, 1.0, n)


def _cells(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    return gaussian_blobs(shape, *_draw_blobs(rng, shape, scale, 10, 3, 6))


def _filaments(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    area = shape[0] * shape[1] / 128.0**2
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    img = np.zeros(shape, np.float32)
    for _ in range(max(2, round(6 * np.sqrt(area)))):  # a few lines, each vectorised
        p = rng.uniform(0, 1, 2) * np.array(shape)
        theta = rng.uniform(0, np.pi)
        d = np.abs((yy - p[0]) * np.cos(theta) - (xx - p[1]) * np.sin(theta))
        img = np.maximum(img, rng.uniform(0.5, 1.0) * np.exp(-0.5 * (d / (1.2 * scale)) ** 2))
    return img


def _puncta(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    return gaussian_blobs(shape, *_draw_blobs(rng, shape, scale, 40, 1.0, 1.8, 0.4))


def _rings(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    c, s, a = _draw_blobs(rng, shape, scale, 6, 4, 7, 0.6)
    return np.clip(gaussian_blobs(shape, c, s, a) - gaussian_blobs(shape, c, 0.6 * s, a), 0, None)


def _tissue(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Dense tissue: many overlapping blobs of every size."""
    return gaussian_blobs(shape, *_draw_blobs(rng, shape, scale, 120, 1.5, 5, 0.2))


#: structure kinds; "tissue" (dense, overlapping, nearly Gaussian texture) is the hard
#: case for any MI-based blind method and is drawn separately
STRUCTURES = Registry(
    "structure kind",
    [
        Method("cells", _cells, "Cells", "round cell bodies"),
        Method("filaments", _filaments, "Filaments", "straight lines across the image"),
        Method("puncta", _puncta, "Puncta", "many small dots"),
        Method("rings", _rings, "Rings", "hollow circles (membranes, nuclei envelopes)"),
        Method("tissue", _tissue, "Tissue", "dense overlapping blobs of every size"),
    ],
)
KINDS = tuple(STRUCTURES)
SPARSE = KINDS[:4]


def _structure(rng: np.random.Generator, kind: str, shape: tuple[int, int], scale: float):
    """One fluorophore's structure in [0, 1]; ``scale`` multiplies object sizes."""
    img = STRUCTURES.resolve(kind).function(rng, shape, scale)
    return (img / max(float(img.max()), 1e-6)).astype(np.float32)


def draw_scene_params(rng: np.random.Generator, *, n_channels: int | None = None) -> dict:
    """Conditions of one random scene (keyword arguments of :func:`make_picasso_scene`).

    Examples
    --------
    >>> p = draw_scene_params(np.random.default_rng(0))
    >>> sorted(p)
    ['background', 'biology', 'kinds', 'n_channels', 'n_nan', 'object_scale', 'peak', 'photons_per_unit', 'shape']
    """
    side = int(rng.choice([96, 128, 192, 256]))
    return {
        "n_channels": int(rng.integers(2, 7)) if n_channels is None else int(n_channels),
        "photons_per_unit": float(10 ** rng.uniform(-1, 2)),
        "background": float(rng.uniform(20, 200)),
        "peak": float(rng.uniform(150, 600)),
        "biology": str(rng.choice(BIOLOGY)),
        "shape": (side, side),
        "object_scale": float(rng.uniform(0.7, 1.5)),
        "n_nan": int(rng.choice([0, 0, 5])),
        "kinds": KINDS if rng.random() < 0.25 else SPARSE,
    }


def make_picasso_scene(
    *,
    n_channels: int = 3,
    photons_per_unit: float = 0.5,
    background: float = 100.0,
    peak: float = 300.0,
    biology: str = "separate",
    shape: tuple[int, int] = (128, 128),
    object_scale: float = 1.0,
    kinds: tuple[str, ...] = SPARSE,
    mixing_range: tuple[float, float] = (0.05, 0.5),
    mixing: np.ndarray | None = None,
    n_nan: int = 0,
    n_t: int = 1,
    n_z: int = 1,
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Render one scene: ``(data, truth)``, data TZCYX float32 in counts.

    Parameters
    ----------
    n_channels : int
        Channels = fluorophores (2–6 in the tables).
    photons_per_unit : float
        Detected photons per count unit (Poisson noise).
    background, peak : float
        Mean background (counts; each channel draws 0.5–1.5 times it) and the brightest
        object's height above it.
    biology : {"separate", "colocalised"}
        Own structures per fluorophore, or a shared structure in all of them (each with
        weight 0.3–0.7 of its peak) plus their own.
    shape, object_scale, n_t, n_z
        Image size, object size factor, time points and planes.
    kinds : tuple of str
        Structure kinds the fluorophores draw from (one each, cycling): sparse
        ``cells``, ``filaments``, ``puncta``, ``rings`` by default; add ``"tissue"`` for
        a dense texture.
    mixing_range : (float, float)
        Off-diagonal spill-over range (ignored when ``mixing`` is given).
    n_nan : int
        Pixels set to NaN in every channel (per plane).

    Returns
    -------
    data : ndarray, shape (n_t, n_z, n_channels, Y, X), float32
    truth : dict
        ``mixing`` (N×N), ``fluorophores`` (T, Z, N, Y, X, counts), ``background`` (N,),
        ``nan_mask`` (T, Z, Y, X), and the scene's conditions.
    """
    if not 2 <= int(n_channels) <= 16:
        raise ValueError(f"n_channels must be in [2, 16], got {n_channels=}")
    if biology not in BIOLOGY:
        raise ValueError(f"{biology=} is not one of {BIOLOGY}")
    if not photons_per_unit > 0:
        raise ValueError(f"photons_per_unit must be > 0, got {photons_per_unit=}")
    n = int(n_channels)
    rng = np.random.default_rng(random_state)
    if mixing is None:
        mixing = rng.uniform(*mixing_range, size=(n, n))
        np.fill_diagonal(mixing, 1.0)
    mixing = np.asarray(mixing, dtype=np.float64)
    if mixing.shape != (n, n):
        raise ValueError(f"mixing must be {n}x{n}, got {mixing.shape=}")
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"kinds {list(kinds)} must be a non-empty subset of {KINDS}")
    kinds = [kinds[k] for k in rng.permutation(len(kinds))]
    bg = background * rng.uniform(0.5, 1.5, n)
    f = np.empty((n_t, n_z, n, *shape), np.float32)
    for t in range(n_t):
        for z in range(n_z):
            shared = _structure(rng, "cells", shape, object_scale)
            for j in range(n):
                own = _structure(rng, kinds[j % len(kinds)], shape, object_scale)
                if biology == "colocalised":
                    w = rng.uniform(0.3, 0.7)
                    own = (1 - w) * own + w * shared
                f[t, z, j] = own * np.float32(peak * rng.uniform(0.6, 1.0))
    clean = np.einsum("ij,tzjyx->tziyx", mixing, f) + bg[:, None, None].astype(np.float32)
    data = (rng.poisson(clean * photons_per_unit) / photons_per_unit).astype(np.float32)
    nan_mask = np.zeros((n_t, n_z, *shape), bool)
    if n_nan:
        flat = nan_mask.reshape(n_t * n_z, -1)
        for row in flat:
            row[rng.choice(row.size, int(n_nan), replace=False)] = True
        data[np.broadcast_to(nan_mask[:, :, None], data.shape)] = np.nan
    truth = {
        "mixing": mixing,
        "fluorophores": f,
        "background": bg,
        "nan_mask": nan_mask,
        "photons_per_unit": float(photons_per_unit),
        "biology": biology,
        "shape": tuple(shape),
        "object_scale": float(object_scale),
    }
    return data, truth


def score_unmixing(
    unmixed: np.ndarray, truth: dict, /, *, signal_fraction: float = 0.05
) -> dict[str, Any]:
    """Crosstalk, gain and clipped signal of an unmixed TZCYX stack (all selected channels).

    Every output channel is regressed on the true fluorophores plus a constant, over the
    finite pixels of all planes: ``crosstalk`` is the largest ``|β_ij / β_ii|`` (i ≠ j),
    ``gain`` the ``β_ii`` (1: a fluorophore keeps the counts it has in its own channel),
    ``clipped_signal`` the largest fraction of a fluorophore's signal pixels (above
    ``signal_fraction`` of its maximum) that came out <= 0.
    """
    f = np.moveaxis(np.asarray(truth["fluorophores"], np.float64), 2, 0)
    n = f.shape[0]
    out = np.moveaxis(np.asarray(unmixed, np.float64), 2, 0)
    if out.shape != f.shape:
        raise ValueError(f"unmixed stack {unmixed.shape} does not match the truth {f.shape}")
    keep = ~np.asarray(truth["nan_mask"]).reshape(-1)
    f, out = f.reshape(n, -1)[:, keep], out.reshape(n, -1)[:, keep]
    if not np.all(np.isfinite(out)):
        raise ValueError("the unmixed stack has non-finite values outside the NaN pixels")
    design = np.vstack([f, np.ones(f.shape[1])]).T
    beta = np.linalg.lstsq(design, out.T, rcond=None)[0][:n].T
    gain = np.diag(beta).copy()
    ratio = beta / gain[:, None]
    np.fill_diagonal(ratio, 0)
    signal = f > signal_fraction * f.max(axis=1, keepdims=True)
    clipped = ((out <= 0) & signal).sum(1) / np.maximum(signal.sum(1), 1)
    return {
        "crosstalk": float(np.abs(ratio).max()),
        "gain_min": float(gain.min()),
        "gain_max": float(gain.max()),
        "clipped_signal": float(clipped.max()),
    }
