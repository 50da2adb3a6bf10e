"""Randomised hyperspectral scenes with known maps and spectra (``X ~ W H + background``).

One call to :func:`make_scene` draws a scene across the conditions users have: raw counts
from 1 to 1e4 per unit abundance, Poisson shot noise and Gaussian read noise, a smooth
background gradient under the objects, components whose spectra are similar (cosine up to
0.95, optionally two variants of one spectrum at 0.86-0.92), objects of 3-40 px in images of
64-1024 px, 8-200 channels, 1-8 components, ``uint16`` counts or float data in an arbitrary
unit, spectral axes in nm or cm-1, and optional NaN pixels. Every condition left as ``None``
is drawn from ``random_state``; the draws are made in a fixed order, so fixing one condition
does not change the others.

The truth satisfies ``cube ≈ einsum("kyx,kc->cyx", maps, spectra) + background`` before
noise: ``maps`` are abundances (about 0-1.3), ``spectra`` are in the cube's unit.

Examples
--------
>>> scene = make_scene(random_state=0, shape=(64, 64), n_channels=20, n_components=3)
>>> scene.cube.shape, scene.maps.shape, scene.spectra.shape
((20, 64, 64), (3, 64, 64), (3, 20))
>>> sorted(set(scene.object_components.tolist())) == [0, 1, 2]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._hs_spectra import (
    _background_spectrum,
    _draw_spectra,
    _spectral_axis,
    spectral_cosines,
)

__all__ = ["HyperspectralScene", "make_scene", "spectral_cosines"]

_UINT16_MAX = 65535


@dataclass(frozen=True)
class HyperspectralScene:
    """A drawn scene: the measured cube and everything that made it.

    Attributes
    ----------
    cube : ndarray, (C, Y, X)
        The measurement, ``uint16`` counts or float32 in ``params["unit"]`` per count;
        NaN pixels (float only) are NaN in every channel.
    maps : ndarray, float32, (k, Y, X)
        True abundances of the components (``W`` reshaped).
    spectra : ndarray, float64, (k, C)
        True spectra in the cube's unit (``H``).
    background_map : ndarray, float32, (Y, X)
        Smooth background field, mean 1 (zero when the scene has no background).
    background_spectrum : ndarray, float64, (C,)
        Background spectrum in the cube's unit.
    labels : ndarray, int32, (Y, X)
        Object index ``1..n`` where an object's profile is at least half its peak, 0 elsewhere.
    object_components : ndarray, int, (n,)
        The component that dominates each object (``labels == i + 1``).
    object_centers : ndarray, (n, 2)
        Object centres (y, x) in pixels.
    object_diameters : ndarray, (n,)
        Object diameters in pixels.
    spectral_axis : ndarray, float64, (C,)
        Increasing axis in ``spectral_units``.
    spectral_units : str
        ``"cm-1"`` or ``"nm"``.
    nan_mask : ndarray, bool, (Y, X)
        Pixels that are NaN in ``cube``.
    params : dict
        Every condition of the draw (shape, counts, unit, noise, similarities, ...).
    """

    cube: np.ndarray
    maps: np.ndarray
    spectra: np.ndarray
    background_map: np.ndarray
    background_spectrum: np.ndarray
    labels: np.ndarray
    object_components: np.ndarray
    object_centers: np.ndarray
    object_diameters: np.ndarray
    spectral_axis: np.ndarray
    spectral_units: str
    nan_mask: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_components(self) -> int:
        """Number of components ``k`` (the background not counted)."""
        return int(self.spectra.shape[0])

    @property
    def background(self) -> np.ndarray:
        """The background cube ``(C, Y, X)``, float32 (built on request)."""
        bg = self.background_spectrum.astype(np.float32)
        return bg[:, None, None] * self.background_map[None]

    def expected(self) -> np.ndarray:
        """The noise-free cube ``(C, Y, X)``, float32, without NaNs."""
        k, ny, nx = self.maps.shape
        signal = self.spectra.T.astype(np.float32) @ self.maps.reshape(k, -1)
        return signal.reshape(-1, ny, nx) + self.background

    def truth(self, *, include_background: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """True ``W`` (pixels x k) and ``H`` (k x C), the background as a last component.

        Parameters
        ----------
        include_background : bool
            Append the background map and spectrum as component ``k`` when the scene has one.

        Returns
        -------
        W : ndarray, float32, (Y*X, k or k+1)
        H : ndarray, float64, (k or k+1, C)
        """
        w = self.maps.reshape(self.n_components, -1).T
        h = self.spectra
        if include_background and self.params.get("background_level", 0.0) > 0:
            w = np.column_stack([w, self.background_map.reshape(-1)])
            h = np.vstack([h, self.background_spectrum[None]])
        return w, h

    def roi_masks(self, per_component: int = 3) -> tuple[list[np.ndarray], np.ndarray]:
        """ROIs a user would draw: the first objects each component dominates, and background.

        Parameters
        ----------
        per_component : int
            Objects per component ROI (fewer when the scene has fewer).

        Returns
        -------
        masks : list of k (Y, X) bool arrays
            Pixels of up to ``per_component`` objects dominated by each component.
        background : (Y, X) bool
            Pixels away from every object (abundance sum below 1e-3).
        """
        masks = []
        for j in range(self.n_components):
            ids = np.flatnonzero(self.object_components == j)[:per_component] + 1
            masks.append(np.isin(self.labels, ids))
        return masks, self.maps.sum(axis=0) < 1e-3

    def component_labels(self) -> np.ndarray:
        """``(Y, X)`` int map: the dominating component of the object at a pixel, -1 elsewhere."""
        lut = np.concatenate([[-1], self.object_components]).astype(np.int32)
        return lut[self.labels]


# ----------------------------------------------------------------------------- conditions
def _log_uniform(u: float, lo: float, hi: float) -> float:
    return float(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))))


def _draw_conditions(
    u: np.ndarray, *, max_side: int, max_channels: int, max_components: int
) -> dict[str, Any]:
    """Map 20 uniform numbers to the scene's conditions (fixed order: overrides keep the rest)."""
    side_y = round(_log_uniform(u[0], 64, max(64, max_side)))
    side_x = side_y if u[1] < 0.7 else round(_log_uniform(u[2], 64, max(64, max_side)))
    n_channels = round(_log_uniform(u[3], 8, max(8, max_channels)))
    n_components = 1 + int(u[4] * max(1, min(8, max_components)))
    dtype = "uint16" if u[5] < 0.5 else "float32"
    units = "cm-1" if u[6] < 0.6 else "nm"
    background_level = 0.0 if u[10] < 0.2 else 0.05 + 0.55 * u[11]
    return {
        "shape": (side_y, side_x),
        "n_channels": n_channels,
        "n_components": n_components,
        "counts": 10.0 ** (4.0 * u[7]),
        "dtype": dtype,
        "unit": 10.0 ** (-3.0 + 4.0 * u[8]),
        "spectral_units": units,
        "window": int(u[9] * 3),
        "read_noise": _log_uniform(u[12], 0.5, 20.0),
        "shot_noise": bool(u[13] < 0.9),
        "background_level": background_level,
        "close_pair": bool(u[14] < 0.6),
        "pair_similarity": 0.86 + 0.06 * u[15],
        "object_diameter": _log_uniform(u[16], 3.0, 40.0),
        "fill_fraction": 0.05 + 0.25 * u[17],
        "nan_fraction": 0.0 if u[18] < 0.7 else 10.0 ** (-4.0 + 2.0 * u[19]),
    }


# ----------------------------------------------------------------------------- images
def _background_field(rng, shape) -> np.ndarray:
    """Smooth, positive field with mean 1: a tilted plane plus a broad bump."""
    yy = np.linspace(-1.0, 1.0, shape[0])[:, None]
    xx = np.linspace(-1.0, 1.0, shape[1])[None, :]
    theta = rng.uniform(0, 2 * np.pi)
    plane = 1.0 + rng.uniform(0.0, 0.6) * (np.cos(theta) * yy + np.sin(theta) * xx)
    cy, cx = rng.uniform(-1, 1, 2)
    s = rng.uniform(0.4, 1.2)
    bump = rng.uniform(0.0, 0.8) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s**2))
    field_ = plane + bump
    return (field_ / field_.mean()).astype(np.float32)


def _place_objects(rng, shape, n, diameters):
    """Centres with little overlap (rejection; keeps what fits)."""
    centers = np.empty((0, 2))
    kept: list[int] = []
    for i in range(n):
        r = diameters[i] / 2
        for _ in range(30):
            c = rng.uniform([r, r], [shape[0] - r, shape[1] - r])
            if len(kept) == 0:
                break
            gap = np.linalg.norm(centers - c, axis=1) - 0.9 * (diameters[kept] / 2 + r)
            if gap.min() > 0:
                break
        else:
            continue
        centers = np.vstack([centers, c])
        kept.append(i)
    return centers, np.asarray(kept, dtype=int)


def _render_objects(shape, centers, diameters, amplitudes):
    """Soft disks: maps (k, Y, X) and an object-label image, one bounding box per object."""
    k = amplitudes.shape[1]
    maps = np.zeros((k, *shape), dtype=np.float32)
    peak = np.zeros(shape, dtype=np.float32)
    labels = np.zeros(shape, dtype=np.int32)
    for i, ((cy, cx), d) in enumerate(zip(centers, diameters, strict=True)):
        r = d / 2
        edge = max(0.5, 0.15 * r)
        y0, y1 = max(0, int(cy - r - 3 * edge)), min(shape[0], int(cy + r + 3 * edge) + 1)
        x0, x1 = max(0, int(cx - r - 3 * edge)), min(shape[1], int(cx + r + 3 * edge) + 1)
        yy = np.arange(y0, y1)[:, None] + 0.5
        xx = np.arange(x0, x1)[None, :] + 0.5
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        profile = (0.5 * (1.0 - np.tanh((dist - r) / edge))).astype(np.float32)
        maps[:, y0:y1, x0:x1] += amplitudes[i][:, None, None] * profile[None]
        box_peak = peak[y0:y1, x0:x1]
        mine = (profile >= 0.5) & (profile > box_peak)
        labels[y0:y1, x0:x1][mine] = i + 1
        np.maximum(box_peak, profile, out=box_peak)
    return maps, labels


def _object_amplitudes(rng, n, k, close_pair):
    """Dominant component per object (each component at least once) and its mixture."""
    dominant = np.concatenate([rng.permutation(k), rng.integers(0, k, max(0, n - k))])[:n]
    amp = np.zeros((n, k))
    amp[np.arange(n), dominant] = rng.uniform(0.4, 1.0, n)
    if k > 1:  # half the objects carry a minor second component (< 35 % of the dominant one)
        minor = (dominant + rng.integers(1, k, n)) % k
        if close_pair:  # the close variants co-occur, as they do in cells
            pair = dominant < 2
            minor[pair] = 1 - dominant[pair]
        has = rng.random(n) < 0.5
        fraction = rng.uniform(0.05, 0.35, int(has.sum()))
        amp[np.flatnonzero(has), minor[has]] = amp[has, dominant[has]] * fraction
    return dominant, amp


# ----------------------------------------------------------------------------- scene
def make_scene(
    random_state: int | np.random.Generator | None = None, *,
    shape: tuple[int, int] | None = None, n_channels: int | None = None,
    n_components: int | None = None, counts: float | None = None, dtype: str | None = None,
    unit: float | None = None, spectral_units: str | None = None,
    read_noise: float | None = None, shot_noise: bool | None = None,
    background_level: float | None = None, close_pair: bool | None = None,
    pair_similarity: float | None = None, max_similarity: float = 0.95,
    object_diameter: float | None = None, fill_fraction: float | None = None,
    nan_fraction: float | None = None,
    max_side: int = 1024, max_channels: int = 200, max_components: int = 8,
) -> HyperspectralScene:  # fmt: skip
    """Draw one hyperspectral scene with known maps, spectra and background.

    Every condition left as ``None`` is drawn; the draws happen in a fixed order, so a
    condition given by the caller leaves the others as they would have been.

    Parameters
    ----------
    random_state : int, Generator or None
        Seed of everything in the scene.
    shape : (int, int), optional
        Image size (Y, X); drawn log-uniform in 64 .. ``max_side`` (70 % square).
    n_channels : int, optional
        Channels C; drawn log-uniform in 8 .. ``max_channels``.
    n_components : int, optional
        Components k (background not counted); drawn in 1 .. min(8, ``max_components``).
    counts : float, optional
        Peak counts of a spectrum at abundance 1; drawn log-uniform in 1 .. 1e4.
    dtype : {"uint16", "float32", "float64"}, optional
        ``uint16`` counts (rounded, clipped to 0..65535) or float data; drawn 50/50.
    unit : float, optional
        Float data are ``counts * unit`` (drawn log-uniform in 1e-3 .. 10); 1 for ``uint16``.
    spectral_units : {"cm-1", "nm"}, optional
        cm-1 axes span one of :data:`CM1_WINDOWS`; nm axes 100-250 nm from 400-600 nm.
    read_noise : float, optional
        Gaussian read noise in counts; drawn log-uniform in 0.5 .. 20.
    shot_noise : bool, optional
        Poisson noise on the expected counts (drawn: 90 % yes).
    background_level : float, optional
        Mean background peak as a fraction of ``counts`` (0 = none); drawn 0 (20 %) or
        0.05 .. 0.6.
    close_pair : bool, optional
        Components 0 and 1 are two variants of one spectrum (needs k >= 2; drawn 60 %).
    pair_similarity : float, optional
        Their cosine similarity; drawn in 0.86 .. 0.92.
    max_similarity : float
        Largest cosine between any other two components.
    object_diameter : float, optional
        Typical object diameter in px (objects vary ±30 %, within 3 .. 40 and a quarter
        of the image); drawn log-uniform in 3 .. 40.
    fill_fraction : float, optional
        Fraction of the image covered by objects; drawn in 0.05 .. 0.3.
    nan_fraction : float, optional
        Fraction of pixels set to NaN (float data only); drawn 0 (70 %) or 1e-4 .. 1e-2.
    max_side, max_channels, max_components : int
        Upper ends of the drawn ranges (to keep tables and tests small).

    Returns
    -------
    HyperspectralScene

    Examples
    --------
    >>> s = make_scene(random_state=1, shape=(96, 80), n_components=2, close_pair=True,
    ...                dtype="uint16", counts=1e4, spectral_units="cm-1", n_channels=30)
    >>> s.cube.dtype, s.spectral_axis[[0, -1]].tolist() in ([2750.0, 3050.0],
    ...     [600.0, 1800.0], [1000.0, 3100.0])
    (dtype('uint16'), True)
    >>> bool(0.86 <= spectral_cosines(s.spectra)[0, 1] <= 0.92)
    True
    """
    rng = np.random.default_rng(random_state)
    drawn = _draw_conditions(
        rng.random(20),
        max_side=max_side,
        max_channels=max_channels,
        max_components=max_components,
    )
    given = {
        "shape": shape,
        "n_channels": n_channels,
        "n_components": n_components,
        "counts": counts,
        "dtype": dtype,
        "unit": unit,
        "spectral_units": spectral_units,
        "read_noise": read_noise,
        "shot_noise": shot_noise,
        "background_level": background_level,
        "close_pair": close_pair,
        "pair_similarity": pair_similarity,
        "object_diameter": object_diameter,
        "fill_fraction": fill_fraction,
        "nan_fraction": nan_fraction,
    }
    p = drawn | {key: val for key, val in given.items() if val is not None}
    _check_conditions(p)
    shape_ = (int(p["shape"][0]), int(p["shape"][1]))
    k, n_ch = int(p["n_components"]), int(p["n_channels"])
    p["close_pair"] = bool(p["close_pair"]) and k >= 2
    if p["dtype"] == "uint16" and unit is None:
        p["unit"] = 1.0
    if p["dtype"] == "uint16":
        p["nan_fraction"] = 0.0

    axis = _spectral_axis(rng, n_ch, p["spectral_units"], p["window"])
    shapes = _draw_spectra(
        rng, axis, p["spectral_units"], k, p["close_pair"], p["pair_similarity"], max_similarity
    )
    bg_shape = _background_spectrum(rng, axis, p["spectral_units"])
    bg_map = _background_field(rng, shape_)

    d_typ = float(np.clip(p["object_diameter"], 3.0, max(3.0, min(40.0, min(shape_) / 4))))
    n_obj = int(p["fill_fraction"] * shape_[0] * shape_[1] / (np.pi * (d_typ / 2) ** 2))
    n_obj = int(np.clip(n_obj, k, 1500))
    diam = np.clip(d_typ * rng.uniform(0.7, 1.3, n_obj), 3.0, max(3.0, min(40.0, min(shape_) / 4)))
    dominant, amp = _object_amplitudes(rng, n_obj, k, p["close_pair"])
    centers, kept = _place_objects(rng, shape_, n_obj, diam)
    maps, labels = _render_objects(shape_, centers, diam[kept], amp[kept])

    scale = float(p["counts"])  # counts per unit abundance at the spectrum's peak
    spectra_counts = scale * shapes
    bg_counts = scale * p["background_level"] * bg_shape
    expected = (spectra_counts.T.astype(np.float32) @ maps.reshape(k, -1)).reshape(n_ch, *shape_)
    expected += bg_counts.astype(np.float32)[:, None, None] * bg_map[None]
    cube = rng.poisson(expected).astype(np.float32) if p["shot_noise"] else expected
    if p["read_noise"] > 0:
        cube += rng.normal(0.0, p["read_noise"], cube.shape).astype(np.float32)

    nan_mask = np.zeros(shape_, dtype=bool)
    if p["dtype"] == "uint16":
        p["n_saturated"] = int((cube > _UINT16_MAX).sum())
        cube = np.clip(np.rint(cube), 0, _UINT16_MAX).astype(np.uint16)
    else:
        cube = (cube * np.float32(p["unit"])).astype(p["dtype"])
        n_nan = round(p["nan_fraction"] * nan_mask.size)
        nan_mask.ravel()[rng.choice(nan_mask.size, n_nan, replace=False)] = True
        cube[:, nan_mask] = np.nan

    cos = spectral_cosines(shapes)
    p.pop("window")
    p |= {
        "shape": shape_,
        "n_objects": len(kept),
        "object_diameter": d_typ,
        "max_cosine": float((cos - 2 * np.eye(k)).max()) if k > 1 else 0.0,
        "spectral_window": (float(axis[0]), float(axis[-1])),
    }
    return HyperspectralScene(
        cube=cube,
        maps=maps,
        spectra=spectra_counts * p["unit"],
        background_map=bg_map if p["background_level"] > 0 else np.zeros_like(bg_map),
        background_spectrum=bg_counts * p["unit"],
        labels=labels,
        object_components=dominant[kept],
        object_centers=centers,
        object_diameters=diam[kept],
        spectral_axis=axis,
        spectral_units=p["spectral_units"],
        nan_mask=nan_mask,
        params=p,
    )


def _check_conditions(p: dict[str, Any]) -> None:
    if p["dtype"] not in ("uint16", "float32", "float64"):
        raise ValueError(f"dtype must be 'uint16', 'float32' or 'float64', got {p['dtype']!r}")
    if p["spectral_units"] not in ("cm-1", "nm"):
        raise ValueError(f"spectral_units must be 'cm-1' or 'nm', got {p['spectral_units']!r}")
    if not 1 <= int(p["n_components"]) <= int(p["n_channels"]):
        raise ValueError(
            f"need 1 <= n_components <= n_channels, got {p['n_components']=}, {p['n_channels']=}"
        )
    if min(p["shape"]) < 16:
        raise ValueError(f"shape must be at least 16 x 16 px, got {p['shape']}")
    if p["counts"] <= 0 or p["unit"] <= 0:
        raise ValueError(f"counts and unit must be positive, got {p['counts']=}, {p['unit']=}")
    if not 0.0 <= p["nan_fraction"] < 1.0:
        raise ValueError(f"nan_fraction must be in [0, 1), got {p['nan_fraction']}")
