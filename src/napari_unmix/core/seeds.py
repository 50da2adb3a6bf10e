"""Seeds for NNMF and NNLS: H rows (spectra) and W columns (maps) from ROIs and knowledge.

A component is described by a :class:`ComponentSeed` (ROI masks, a known spectrum, a
Gaussian resonance model, spectral-information "resonance" settings, a fixed map, flags);
:func:`prepare_seeds` turns a list of them into a :class:`SeedSet` (``H0``, ``W0``, locks,
provenance) that the solvers take and that a "Test seeds" preview shows. Masks are plain
boolean Y×X arrays (no napari types), so a widget rasterises its shapes and calls this.

Examples
--------
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(48, 48), n_channels=32)
>>> masks = truth["abundances"] > 0.5 * truth["abundances"].max(axis=(1, 2), keepdims=True)
>>> comps = [ComponentSeed(name=n, masks=[m]) for n, m in zip(truth["names"], masks)]
>>> seeds = prepare_seeds(cube, comps)
>>> seeds.H0.shape, seeds.W0.shape, seeds.names[0]
((4, 32), (4, 48, 48), 'lipid')
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter, gaussian_filter1d

from .background import background_level, object_scale, smooth_background
from .nnls import nnls
from .validate import check_array, check_option_types

__all__ = [
    "BACKGROUND_MAPS",
    "BACKGROUND_SUBTRACTIONS",
    "W_MODES",
    "ComponentSeed",
    "SeedSet",
    "audit_seeds",
    "band_image",
    "gaussian_spectrum",
    "mask_spectrum",
    "prepare_seeds",
    "resample_spectrum",
    "w_from_h",
]


# ----------------------------------------------------------------------------- data types
@dataclass
class ComponentSeed:
    """Everything known about one component before the fit.

    Attributes
    ----------
    name : str
    masks : list of (Y, X) bool arrays
        ROIs of this component; their pixels' mean spectrum is the H seed (several masks
        are pooled).
    spectrum : (C,) array, optional
        A known spectrum on the image's spectral axis (see :func:`resample_spectrum`), or a
        previous result's H row. Wins over masks.
    gaussian : dict, optional
        ``{"center", "fwhm", "amplitude"}`` in spectral units: a Gaussian resonance model
        used as H seed when neither ``spectrum`` nor ``masks`` is given.
    resonance : dict, optional
        Spectral-information seed: ``position`` and ``width`` (spectral units), ``n_pixels``
        (150), ``rank_by`` (``"max_intensity"`` or ``"score"``), ``use_subtracted`` (True),
        ``gaussian`` (False) with ``amplitude`` (1.0) and ``fwhm`` (2·width).
    w_map : (Y, X) array, optional
        A W seed (e.g. a background map); kept fixed when ``lock_w``.
    background : bool
        A background component: seeded from the raw (not background-subtracted) data.
    lock_h, lock_w : bool
        Keep the H row / W column at its seed during NNMF.
    """

    name: str = ""
    masks: Sequence[np.ndarray] = ()
    spectrum: np.ndarray | None = None
    gaussian: dict[str, float] | None = None
    resonance: dict[str, Any] | None = None
    w_map: np.ndarray | None = None
    background: bool = False
    lock_h: bool = False
    lock_w: bool = False


@dataclass
class SeedSet:
    """Prepared seeds: what the solvers take and a seed preview shows.

    ``W0`` columns are scaled to unit maximum (NNMF initialisation; the scale is carried
    by H), ``H0`` keeps the seeds' physical amplitude.
    """

    H0: np.ndarray  #: k × C, float64
    W0: np.ndarray  #: k × Y × X, float64
    lock_H: np.ndarray  #: (k,) bool
    lock_W: np.ndarray  #: (k,) bool
    names: list[str]
    background: np.ndarray  #: (k,) bool
    subtract_spectrum: np.ndarray | None = None  #: background ROI mean removed from the data
    provenance: list[dict[str, Any]] = field(default_factory=list)
    spectral_axis: np.ndarray | None = None
    #: (Y, X) per-pixel level of ``subtract_spectrum`` (None: the same everywhere)
    subtract_map: np.ndarray | None = None

    @property
    def k(self) -> int:
        """Number of components."""
        return int(self.H0.shape[0])

    def remove_background(self, X: np.ndarray, /) -> np.ndarray:
        """``X`` (pixels × C, every pixel of a slice in raster order) minus the background.

        The background is ``subtract_map[y, x] * subtract_spectrum`` (the spectrum alone
        when there is no map); without a background ROI ``X`` is returned unchanged.

        Examples
        --------
        >>> s = SeedSet(np.ones((1, 2)), np.ones((1, 1, 2)), np.zeros(1, bool),
        ...             np.zeros(1, bool), ["a"], np.zeros(1, bool),
        ...             subtract_spectrum=np.array([1.0, 2.0]),
        ...             subtract_map=np.array([[1.0, 0.5]]))
        >>> s.remove_background(np.full((2, 2), 4.0)).tolist()
        [[3.0, 2.0], [3.5, 3.0]]
        """
        if self.subtract_spectrum is None:
            return X
        if self.subtract_map is None:
            return X - self.subtract_spectrum
        level = np.asarray(self.subtract_map, np.float64).reshape(-1)
        if level.size != X.shape[0]:
            raise ValueError(
                f"the background map has {level.size} pixels, the data {X.shape[0]}; prepare "
                "the seeds on a slice of the same image size"
            )
        return X - level[:, None] * self.subtract_spectrum

    def background_at(self, y: int, x: int, /) -> np.ndarray:
        """The subtracted background spectrum (C,) at pixel (y, x) (zeros without one).

        Examples
        --------
        >>> s = SeedSet(np.ones((1, 2)), np.ones((1, 1, 2)), np.zeros(1, bool),
        ...             np.zeros(1, bool), ["a"], np.zeros(1, bool),
        ...             subtract_spectrum=np.array([1.0, 2.0]),
        ...             subtract_map=np.array([[1.0, 0.5]]))
        >>> s.background_at(0, 1).tolist()
        [0.5, 1.0]
        """
        if self.subtract_spectrum is None:
            return np.zeros(self.H0.shape[1])
        level = 1.0 if self.subtract_map is None else float(self.subtract_map[y, x])
        return level * self.subtract_spectrum

    def subtract_from_cube(self, data: np.ndarray, /) -> np.ndarray:
        """float64 copy of ``data`` (channels at axis -3, e.g. all slices) minus the
        background (the per-pixel map applies to every slice)."""
        out = np.array(data, dtype=np.float64)
        if self.subtract_spectrum is None:
            return out
        bg = self.subtract_spectrum[:, None, None]
        return out - (bg if self.subtract_map is None else bg * self.subtract_map[None])


# ----------------------------------------------------------------------------- small helpers
def _flat(cube: np.ndarray) -> np.ndarray:
    return np.asarray(cube, dtype=np.float64).reshape(cube.shape[0], -1).T


def _check_mask(mask: Any, shape: tuple[int, int], what: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"{what}: mask shape {m.shape} does not match the image (Y, X) {shape}")
    if m.dtype != bool:
        raise ValueError(f"{what}: mask must be boolean, got dtype {m.dtype}")
    if not m.any():
        raise ValueError(f"{what}: the ROI mask is empty; draw the ROI over the image")
    return m


def mask_spectrum(cube: np.ndarray, masks: Sequence[np.ndarray], /) -> np.ndarray:
    """Mean spectrum of the finite pixels inside one or several boolean Y×X masks.

    Examples
    --------
    >>> cube = np.arange(8.0).reshape(2, 2, 2)
    >>> mask_spectrum(cube, [np.array([[True, False], [False, True]])]).tolist()
    [1.5, 5.5]
    """
    shape = tuple(cube.shape[1:])
    if len(masks) == 0:
        raise ValueError("no ROI mask given")
    union = np.zeros(shape, bool)
    for i, m in enumerate(masks):
        union |= _check_mask(m, shape, f"mask {i}")
    X = _flat(cube)[union.ravel()]
    X = X[np.isfinite(X).all(axis=1)]
    if X.shape[0] == 0:
        raise ValueError("every pixel inside the ROI is NaN (masked); move the ROI")
    return X.mean(axis=0)


def resample_spectrum(
    axis_from: np.ndarray, spectrum: np.ndarray, axis_to: np.ndarray, /
) -> tuple[np.ndarray, bool]:
    """Interpolate a spectrum onto the image's spectral axis (edge values held).

    Returns the resampled spectrum and whether the image axis reaches outside the file's
    axis (a warning is issued then).

    Examples
    --------
    >>> s, extrapolated = resample_spectrum([0, 2], [0.0, 2.0], [0.5, 1.5])
    >>> s.tolist(), extrapolated
    ([0.5, 1.5], False)
    """
    ax = np.asarray(axis_from, dtype=np.float64).reshape(-1)
    sp = np.asarray(spectrum, dtype=np.float64).reshape(-1)
    to = np.asarray(axis_to, dtype=np.float64).reshape(-1)
    if ax.size != sp.size or ax.size < 2:
        raise ValueError(f"axis and spectrum lengths differ or are < 2: {ax.size} vs {sp.size}")
    order = np.argsort(ax)
    ax, sp = ax[order], sp[order]
    outside = bool(to.min() < ax[0] or to.max() > ax[-1])
    if outside:
        warnings.warn(
            f"the image spectral axis [{to.min():g}, {to.max():g}] reaches outside the "
            f"spectrum's axis [{ax[0]:g}, {ax[-1]:g}]; edge values are held there",
            UserWarning,
            stacklevel=2,
        )
    return np.interp(to, ax, sp), outside


def gaussian_spectrum(
    axis: np.ndarray, /, *, center: float, fwhm: float, amplitude: float = 1.0
) -> np.ndarray:
    """Gaussian resonance on a spectral axis (centre, FWHM in axis units).

    Examples
    --------
    >>> gaussian_spectrum(np.array([0.0, 1.0, 2.0]), center=1.0, fwhm=1.0).round(3).tolist()
    [0.062, 1.0, 0.062]
    """
    if fwhm <= 0:
        raise ValueError(f"fwhm must be > 0, got {fwhm=}")
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    axis = np.asarray(axis, dtype=np.float64)
    return amplitude * np.exp(-0.5 * ((axis - center) / sigma) ** 2)


def band_image(
    cube: np.ndarray, axis: np.ndarray, /, *, position: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean image of the channels within ``position ± width`` and the in-band channel mask.

    Examples
    --------
    >>> img, band = band_image(np.ones((5, 2, 2)), np.arange(5.0), position=2, width=1)
    >>> band.tolist(), img.tolist()
    ([False, True, True, True, False], [[1.0, 1.0], [1.0, 1.0]])
    """
    axis = np.asarray(axis, dtype=np.float64)
    band = np.abs(axis - position) <= width
    if not band.any():
        raise ValueError(
            f"no channel within {position:g} ± {width:g} on the axis "
            f"[{axis.min():g}, {axis.max():g}]; widen the band or move the position"
        )
    return np.asarray(cube, dtype=np.float64)[band].mean(axis=0), band


# ----------------------------------------------------------------------------- W from H
def _w_nnls(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    return nnls(X, H)[0]


def _w_selective(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    P = np.maximum(X @ H.T, 0.0)
    out = np.empty_like(P)
    for j in range(H.shape[0]):
        others = np.delete(P, j, axis=1)
        c = others.max(axis=1) if others.shape[1] else 0.0
        out[:, j] = P[:, j] ** 2 / (P[:, j] + c + 1e-12)
    return out


def _w_h_weighted(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    lo, hi = H.min(axis=1, keepdims=True), H.max(axis=1, keepdims=True)
    g = np.exp((H - lo) / np.maximum(hi - lo, 1e-12)) - 1.0
    return X @ g.T / np.maximum(g.sum(axis=1), 1e-12)


def _w_average(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    return np.repeat(X.mean(axis=1, keepdims=True), H.shape[0], axis=1)


def _w_empty(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    return 1.0 + 1e-3 * rng.random((X.shape[0], H.shape[0]))


#: W-from-H mode -> function (X pixels×C, H k×C, rng) -> W pixels×k, label, doc
W_MODES: dict[str, dict[str, Any]] = {
    "nnls": {
        "fn": _w_nnls,
        "label": "joint NNLS",
        "doc": "NNLS of every pixel against all seeded spectra; column k (default).",
    },
    "selective_score": {
        "fn": _w_selective,
        "label": "selective score",
        "doc": "t²/(t + c + eps), t = max(x·h_k, 0), c = max over the other seeds.",
    },
    "h_weighted": {
        "fn": _w_h_weighted,
        "label": "H-weighted channel mean",
        "doc": "channel mean weighted by g = exp((h − min h)/(max h − min h)) − 1.",
    },
    "average": {"fn": _w_average, "label": "mean image", "doc": "the mean image."},
    "empty": {"fn": _w_empty, "label": "homogeneous", "doc": "a near-constant map."},
}


def w_from_h(
    cube: np.ndarray,
    H: np.ndarray,
    /,
    *,
    mode: str = "nnls",
    downsample: int = 1,
    random_state: int = 0,
) -> np.ndarray:
    """Maps (k × Y × X) from spectra with one of :data:`W_MODES`; NaN pixels give 0.

    ``downsample`` > 1 block-averages the image first (faster) and repeats the result back.

    Examples
    --------
    >>> cube = np.stack([np.ones((4, 4)), np.zeros((4, 4))])
    >>> w_from_h(cube, np.array([[1.0, 0.0]]), downsample=2)[0, 0].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    if mode not in W_MODES:
        raise ValueError(f"unknown W mode {mode!r}; choose one of {sorted(W_MODES)}")
    f = int(downsample)
    if f < 1:
        raise ValueError(f"downsample must be >= 1, got {downsample=}")
    C, ny, nx = cube.shape
    data = np.asarray(cube, dtype=np.float64)
    if f > 1:
        py, px = (-ny) % f, (-nx) % f
        data = np.pad(data, ((0, 0), (0, py), (0, px)), mode="edge")
        data = data.reshape(C, data.shape[1] // f, f, data.shape[2] // f, f)
        data = np.nanmean(data, axis=(2, 4)) if np.isnan(data).any() else data.mean(axis=(2, 4))
    X = data.reshape(C, -1).T
    good = np.isfinite(X).all(axis=1)
    W = np.zeros((X.shape[0], H.shape[0]))
    rng = np.random.default_rng(random_state)
    W[good] = W_MODES[mode]["fn"](X[good], np.asarray(H, dtype=np.float64), rng)
    W = W.T.reshape(H.shape[0], *data.shape[1:])
    if f > 1:
        W = np.repeat(np.repeat(W, f, axis=1), f, axis=2)[:, :ny, :nx]
    return W


# ----------------------------------------------------------------------------- fallbacks
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


def _projection_map(fn):
    def project(cube: np.ndarray, spectrum: np.ndarray | None) -> np.ndarray:
        return np.nan_to_num(fn(np.asarray(cube, dtype=np.float64), axis=0), nan=0.0)

    return project


def _estimated_map(cube: np.ndarray, spectrum: np.ndarray | None) -> np.ndarray:
    if spectrum is not None and np.all(np.isfinite(spectrum)) and np.any(spectrum > 0):
        return background_level(cube, spectrum)
    img = np.nanmean(np.asarray(cube, dtype=np.float64), axis=0)
    return smooth_background(img, radius=object_scale(img))


#: background W seed -> (function(cube, H seed or None) -> (Y, X) map, label, doc)
BACKGROUND_MAPS: dict[str, tuple[Any, str, str]] = {
    "estimate": (
        _estimated_map,
        "Estimated (objects excluded)",
        "per-pixel amount of the background component's seed spectrum, fitted smoothly "
        "to the pixels outside the objects (core.background.background_level)",
    ),
    "mean": (_projection_map(np.nanmean), "Mean", "mean over channels (includes the objects)"),
    "max": (_projection_map(np.nanmax), "Maximum", "maximum over channels"),
    "min": (_projection_map(np.nanmin), "Minimum", "minimum over channels"),
}


def _background_map(cube, projection: str, smooth: float, spectrum=None) -> np.ndarray:
    if projection not in BACKGROUND_MAPS:
        raise ValueError(
            f"background_projection must be one of {sorted(BACKGROUND_MAPS)}, got {projection!r}"
        )
    img = BACKGROUND_MAPS[projection][0](cube, spectrum)
    return gaussian_filter(img, smooth) if smooth > 0 else img


#: background-ROI subtraction -> label, doc (the map is made in prepare_seeds)
BACKGROUND_SUBTRACTIONS: dict[str, tuple[str, str]] = {
    "scaled": (
        "Scaled per pixel",
        "the background ROIs' mean spectrum times its per-pixel level, estimated outside "
        "the objects (a gradient is removed, the objects' own signal is not)",
    ),
    "constant": (
        "Constant",
        "the background ROIs' mean spectrum, the same at every pixel",
    ),
}


def _check_background_masks(
    background_masks: Sequence[np.ndarray], comps: Sequence[ComponentSeed], shape: tuple
) -> None:
    """A background ROI that is also a component's ROI would subtract that component."""
    union = np.zeros(shape, bool)
    for i, m in enumerate(background_masks):
        union |= _check_mask(m, shape, f"background mask {i}")
    for comp in comps:
        for m in comp.masks:
            m = np.asarray(m, bool)
            if m.shape != shape or not m.any():
                continue  # reported by mask_spectrum with its own message
            inside = float((m & union).sum()) / float(m.sum())
            if inside >= 0.5:
                raise ValueError(
                    f"{inside:.0%} of a ROI of component {comp.name!r} lies inside the "
                    "background ROIs: a background ROI must be an empty area, not a "
                    "component; unmark it as background or move it"
                )


def audit_seeds(H: np.ndarray, names: Sequence[str], /) -> list[str]:
    """Check seeds: non-finite or negative → ``ValueError`` naming the component.

    Returns the names of missing (all-NaN) rows, which :func:`prepare_seeds` fills.

    Examples
    --------
    >>> audit_seeds(np.array([[1.0, 0.0], [np.nan, np.nan]]), ["a", "b"])
    ['b']
    """
    H = np.asarray(H, dtype=np.float64)
    missing = []
    for j, name in enumerate(names):
        row = H[j]
        if np.isnan(row).all():
            missing.append(name)
        elif not np.isfinite(row).all():
            raise ValueError(f"seed spectrum of component {name!r} has NaN or infinite values")
        elif (row < 0).any():
            raise ValueError(
                f"seed spectrum of component {name!r} has negative values (min {row.min():g}); "
                "NNMF needs non-negative seeds: clip or offset it"
            )
        elif not (row > 0).any():
            raise ValueError(f"seed spectrum of component {name!r} is all zero")
    return missing


# ----------------------------------------------------------------------------- prepare
def _as_float_cube(cube: Any, exclude: np.ndarray | None) -> np.ndarray:
    if getattr(cube, "ndim", 0) != 3:
        raise ValueError(
            f"expected a C x Y x X cube, got shape {getattr(cube, 'shape', None)}; pass one "
            "Z/T slice (or use the api functions, which loop over slices)"
        )
    data = np.array(cube, dtype=np.float64)  # a copy: ints converted, input untouched
    if exclude is not None:
        ex = np.asarray(exclude)
        if ex.shape != data.shape[1:] or ex.dtype != bool:
            raise ValueError(
                f"exclude must be a boolean (Y, X) = {data.shape[1:]} mask, got "
                f"{ex.shape} {ex.dtype}"
            )
        data[:, ex] = np.nan
    if not np.isfinite(data).all(axis=0).any():
        raise ValueError("every pixel is NaN or excluded; nothing to fit")
    return data


def _as_component(c: Any, j: int) -> ComponentSeed:
    if isinstance(c, ComponentSeed):
        comp = c
    elif isinstance(c, dict):
        comp = ComponentSeed(**c)
    else:
        comp = ComponentSeed(spectrum=np.asarray(c, dtype=np.float64))
    if not comp.name:
        comp = ComponentSeed(**{**comp.__dict__, "name": f"component_{j}"})
    return comp


def prepare_seeds(
    cube: np.ndarray,
    components: Sequence[ComponentSeed | dict | np.ndarray],
    /,
    *,
    spectral_axis: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    w_mode: str = "nnls",
    overwrite: bool = False,
    downsample: int = 1,
    background_masks: Sequence[np.ndarray] = (),
    background_projection: str | None = "estimate",
    background_smooth: float = 0.0,
    background_subtraction: str = "scaled",
    residual_rank: str = "score",
    residual_n: int = 16,
    random_state: int = 0,
) -> SeedSet:
    """Turn component descriptions into initial factors, locks and provenance.

    Order of precedence for a component's H seed: ``spectrum`` (given or a previous
    result's H row) > mean spectrum of its ``masks`` > ``gaussian`` model > ``resonance``
    seed (top-N pixels in its band, or its Gaussian) > residual fallback (what the other
    seeds leave unexplained; a smooth random spectrum from ``random_state`` if nothing
    stable is left). Its W seed: ``w_map`` > resonance band image > background projection
    (background components) > the ``w_mode`` map from all H seeds (which replaces the
    earlier ones when ``overwrite``; locked W seeds are never replaced).

    Parameters
    ----------
    cube : (C, Y, X) array
        One slice (any real dtype; converted to float64, never modified).
    components : sequence of ComponentSeed, dict or (C,) spectra
    spectral_axis : (C,) array, optional
        Needed for Gaussian and resonance seeds (channel index when None).
    exclude : (Y, X) bool, optional
        Pixels to skip (True = skipped), in addition to NaN pixels.
    w_mode : str
        Key of :data:`W_MODES`.
    overwrite : bool
        H-based maps replace existing W seeds (else they only fill missing ones).
    downsample : int
        Block size for the W-from-H maps (speed).
    background_masks : sequence of (Y, X) bool
        Background ROIs: their mean spectrum is subtracted from the data for the seeds of
        non-background components (and the fit, see ``background_subtraction``); their
        pixels are never seed pixels. A ROI of a component may not lie inside them.
    background_projection : {"estimate", "mean", "max", "min"} or None
        W seed of a background component without ``w_map`` (:data:`BACKGROUND_MAPS`):
        ``"estimate"`` (default) is the per-pixel amount of its seed spectrum fitted
        smoothly outside the objects, so the objects are not part of it; the channel
        projections contain the objects. Not locked unless the component has ``lock_w``.
    background_smooth : float
        Gaussian sigma (pixels) applied to that map.
    background_subtraction : {"scaled", "constant"}
        How the background ROIs' mean spectrum is removed (:data:`BACKGROUND_SUBTRACTIONS`):
        ``"scaled"`` (default) times its per-pixel level estimated outside the objects
        (``SeedSet.subtract_map``), ``"constant"`` the same spectrum at every pixel.
    residual_rank : {"score", "max_intensity"}
        Ranking of residual pixels for the fallback.
    residual_n : int
        Residual pixels averaged by the fallback.
    random_state : int

    Returns
    -------
    SeedSet

    Raises
    ------
    ValueError
        More components than channels, duplicated component names, an empty or misshaped
        mask, a component ROI inside the background ROIs, a seed of the wrong length,
        negative or non-finite given seeds, an all-NaN cube, an unknown option.
    """
    check_option_types(prepare_seeds, locals())
    check_array("cube", cube)
    data = _as_float_cube(cube, exclude)
    C, ny, nx = data.shape
    comps = [_as_component(c, j) for j, c in enumerate(components)]
    k = len(comps)
    if k < 1:
        raise ValueError("give at least one component")
    if k > C:
        raise ValueError(f"{k} components but only {C} channels; use at most {C} components")
    axis = (
        np.arange(C, dtype=np.float64)
        if spectral_axis is None
        else np.asarray(spectral_axis, dtype=np.float64)
    )
    if axis.shape != (C,):
        raise ValueError(f"spectral_axis has {axis.size} values for {C} channels")
    names = [c.name for c in comps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(
            f"component names must be unique, {dupes} occur more than once; rename them "
            "(ROIs of one component share its component index, not only its name)"
        )
    if background_subtraction not in BACKGROUND_SUBTRACTIONS:
        raise ValueError(
            f"background_subtraction must be one of {sorted(BACKGROUND_SUBTRACTIONS)}, "
            f"got {background_subtraction!r}"
        )
    rng = np.random.default_rng(random_state)

    subtract = level = None
    taken = np.zeros(ny * nx, bool)
    data_sub = data
    if len(background_masks):
        _check_background_masks(background_masks, comps, (ny, nx))
        subtract = mask_spectrum(data, background_masks)
        if background_subtraction == "scaled" and np.any(subtract > 0):
            level = background_level(data, subtract)
            data_sub = data - level[None] * subtract[:, None, None]
        else:
            data_sub = data - subtract[:, None, None]
        for m in background_masks:
            taken |= np.asarray(m, bool).ravel()

    H = np.full((k, C), np.nan)
    W_img: list[np.ndarray | None] = [None] * k
    lock_W = np.array([c.lock_w for c in comps], bool)
    prov: list[dict[str, Any]] = [{"name": n} for n in names]
    for j, comp in enumerate(comps):
        src = data if comp.background else data_sub
        if comp.spectrum is not None:
            s = np.asarray(comp.spectrum, dtype=np.float64).reshape(-1)
            if s.size != C:
                raise ValueError(
                    f"seed spectrum of component {comp.name!r} has {s.size} values but the "
                    f"cube has {C} channels; resample it onto the spectral axis"
                )
            H[j], prov[j]["H"] = s, "given spectrum"
        elif len(comp.masks):
            s = mask_spectrum(src, comp.masks)
            n_neg = int((s < 0).sum())
            H[j] = np.maximum(s, 0.0)
            prov[j]["H"] = f"mean of {len(comp.masks)} ROI(s)" + (
                f", {n_neg} negative channel(s) set to 0" if n_neg else ""
            )
        elif comp.gaussian is not None:
            H[j] = gaussian_spectrum(axis, **comp.gaussian)
            prov[j]["H"] = f"Gaussian model {comp.gaussian}"
        if comp.w_map is not None:
            w = np.asarray(comp.w_map, dtype=np.float64)
            if w.shape != (ny, nx):
                raise ValueError(f"w_map of {comp.name!r} is {w.shape}, expected {(ny, nx)}")
            W_img[j], prov[j]["W"] = w, "given map"
    for j, comp in enumerate(comps):
        if comp.resonance is not None:
            img, h, info = _resonance_seed(
                data, data_sub, axis, comp.resonance, taken, bool(np.isnan(H[j]).all())
            )
            if W_img[j] is None:
                W_img[j], prov[j]["W"] = img, info["W"]
            if h is not None:
                H[j], prov[j]["H"] = np.maximum(h, 0.0), info["H"]
            if "seed_pixels" in info:  # (n, 2) Y, X of the pixels averaged for H
                prov[j]["seed_pixels"] = info["seed_pixels"]
        if comp.background and W_img[j] is None and background_projection is not None:
            h = None if np.isnan(H[j]).all() else H[j]
            W_img[j] = _background_map(data, background_projection, background_smooth, h)
            prov[j]["W"] = f"{BACKGROUND_MAPS[background_projection][1]} background map" + (
                " (fixed)" if lock_W[j] else ""
            )

    missing = audit_seeds(H, names)
    if missing:
        warnings.warn(
            f"no H seed for {missing}; filled from the residual of the other seeds",
            UserWarning,
            stacklevel=2,
        )
    have = ~np.isnan(H).any(axis=1)
    scale = float(np.median(H[have].max(axis=1))) if have.any() else float(np.nanmax(data))
    for j in np.flatnonzero(~have):
        X = _flat(data if comps[j].background else data_sub)
        good = np.isfinite(X).all(axis=1)
        basis = H[~np.isnan(H).any(axis=1)]
        H[j], prov[j]["H"] = _residual_spectrum(
            X[good],
            basis,
            rank_by=residual_rank,
            n_pixels=int(residual_n),
            scale=scale,
            exclude=taken[good],
            rng=rng,
        )
        prov[j]["filled"] = True

    maps = w_from_h(data_sub, H, mode=w_mode, downsample=downsample, random_state=random_state)
    for j in range(k):
        if W_img[j] is None or (overwrite and not lock_W[j]):
            W_img[j] = maps[j]
            prov[j]["W"] = f"{w_mode} map from H"
    W0 = np.nan_to_num(np.stack(W_img), nan=0.0)
    np.maximum(W0, 0.0, out=W0)
    peak = W0.reshape(k, -1).max(axis=1)
    W0[peak <= 0] = 1.0
    W0 /= np.where(peak > 0, peak, 1.0)[:, None, None]
    return SeedSet(
        H0=H,
        W0=W0,
        lock_H=np.array([c.lock_h for c in comps], bool),
        lock_W=lock_W,
        names=names,
        background=np.array([c.background for c in comps], bool),
        subtract_spectrum=subtract,
        provenance=prov,
        spectral_axis=axis,
        subtract_map=level,
    )
