"""The seeds of a fit: :func:`prepare_seeds` turns component descriptions into a
:class:`~napari_unmix.core.seeds.SeedSet`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..options import takes_options
from ..validate import check_array
from .background import (
    BACKGROUND_MAPS,
    BACKGROUND_SUBTRACTIONS,
    _background_map,
    _check_background_masks,
)
from .fallback import _residual_spectrum, _resonance_seed
from .options import SeedOptions
from .spectra import _flat, audit_seeds, gaussian_spectrum, mask_spectrum
from .types import ComponentSeed, SeedSet
from .w_modes import w_from_h

__all__ = ["prepare_seeds"]


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


@takes_options(SeedOptions)
def prepare_seeds(
    cube: np.ndarray,
    components: Sequence[ComponentSeed | dict | np.ndarray],
    /,
    *,
    spectral_axis: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    background_masks: Sequence[np.ndarray] = (),
    options: SeedOptions,
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
    opts = options
    check_array("cube", cube)
    data = _as_float_cube(cube, exclude)
    comps, axis = _components(components, data.shape[0], spectral_axis)
    names = [c.name for c in comps]
    data_sub, subtract, level, taken = _subtract_background(
        data, background_masks, comps, opts.background_subtraction
    )
    H, W_img, prov = _given_seeds(comps, data, data_sub, axis)
    lock_W = np.array([c.lock_w for c in comps], bool)
    _found_seeds(comps, data, data_sub, axis, taken, opts, H, W_img, prov, lock_W)
    _fill_missing(comps, data, data_sub, taken, opts, H, prov)
    maps = w_from_h(
        data_sub, H, mode=opts.w_mode, downsample=opts.downsample, random_state=opts.random_state
    )
    for j in range(len(comps)):
        if W_img[j] is None or (opts.overwrite and not lock_W[j]):
            W_img[j] = maps[j]
            prov[j]["W"] = f"{opts.w_mode} map from H"
    return SeedSet(
        H0=H,
        W0=_unit_maps(W_img),
        lock_H=np.array([c.lock_h for c in comps], bool),
        lock_W=lock_W,
        names=names,
        background=np.array([c.background for c in comps], bool),
        subtract_spectrum=subtract,
        provenance=prov,
        spectral_axis=axis,
        subtract_map=level,
    )


def _components(components: Sequence, C: int, spectral_axis: Any) -> tuple[list, np.ndarray]:
    """The components as :class:`ComponentSeed` (named, unique) and the spectral axis."""
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
    return comps, axis


def _subtract_background(data: np.ndarray, background_masks: Sequence, comps: list, how: str):
    """``(data minus the background ROIs' spectrum, that spectrum, its level map, taken)``;
    ``taken`` marks the background ROIs' pixels (never seed pixels)."""
    ny, nx = data.shape[1:]
    taken = np.zeros(ny * nx, bool)
    if not len(background_masks):
        return data, None, None, taken
    _check_background_masks(background_masks, comps, (ny, nx))
    subtract = mask_spectrum(data, background_masks)
    level = BACKGROUND_SUBTRACTIONS.resolve(how).function(data, subtract)
    if level is None:
        data_sub = data - subtract[:, None, None]
    else:
        data_sub = data - level[None] * subtract[:, None, None]
    for m in background_masks:
        taken |= np.asarray(m, bool).ravel()
    return data_sub, subtract, level, taken


def _given_seeds(comps: list, data: np.ndarray, data_sub: np.ndarray, axis: np.ndarray):
    """H rows from given spectra, ROI masks or Gaussian models; W from given maps."""
    C, ny, nx = data.shape
    H = np.full((len(comps), C), np.nan)
    W_img: list[np.ndarray | None] = [None] * len(comps)
    prov: list[dict[str, Any]] = [{"name": c.name} for c in comps]
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
    return H, W_img, prov


def _found_seeds(comps, data, data_sub, axis, taken, opts, H, W_img, prov, lock_W) -> None:
    """Resonance seeds (band image, top pixels) and background maps, in place."""
    projection = opts.background_projection
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
        if comp.background and W_img[j] is None and projection is not None:
            h = None if np.isnan(H[j]).all() else H[j]
            W_img[j] = _background_map(data, projection, opts.background_smooth, h)
            prov[j]["W"] = f"{BACKGROUND_MAPS[projection].label} background map" + (
                " (fixed)" if lock_W[j] else ""
            )


def _fill_missing(comps, data, data_sub, taken, opts, H, prov) -> None:
    """Audit the H seeds; fill the missing ones from the residual of the others, in place."""
    missing = audit_seeds(H, [c.name for c in comps])
    if missing:
        warnings.warn(
            f"no H seed for {missing}; filled from the residual of the other seeds",
            UserWarning,
            stacklevel=3,
        )
    rng = np.random.default_rng(opts.random_state)
    have = ~np.isnan(H).any(axis=1)
    scale = float(np.median(H[have].max(axis=1))) if have.any() else float(np.nanmax(data))
    for j in np.flatnonzero(~have):
        X = _flat(data if comps[j].background else data_sub)
        good = np.isfinite(X).all(axis=1)
        basis = H[~np.isnan(H).any(axis=1)]
        H[j], prov[j]["H"] = _residual_spectrum(
            X[good],
            basis,
            rank_by=opts.residual_rank,
            n_pixels=int(opts.residual_n),
            scale=scale,
            exclude=taken[good],
            rng=rng,
        )
        prov[j]["filled"] = True


def _unit_maps(W_img: list) -> np.ndarray:
    """The W seeds stacked, clipped at 0 and scaled to unit maximum (all-zero maps: ones)."""
    W0 = np.nan_to_num(np.stack(W_img), nan=0.0)
    np.maximum(W0, 0.0, out=W0)
    peak = W0.reshape(len(W_img), -1).max(axis=1)
    W0[peak <= 0] = 1.0
    W0 /= np.where(peak > 0, peak, 1.0)[:, None, None]
    return W0
