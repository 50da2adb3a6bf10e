"""Seeded NNMF of hyperspectral cubes: one function per strategy, one result shape.

:func:`iter_seeded_nnmf` checks the options once and hands the cube to one strategy:

* :func:`_iter_per_slice` — every slice (the only one of a 3-D cube) fitted from its seeds;
* :func:`_iter_reference` — a 4-D cube's reference slice fitted, the others unmixed by NNLS
  with its spectra;
* :func:`_iter_subsampled` — fitted on a seeded pixel sample, every pixel then unmixed by
  NNLS chunk by chunk (numpy and dask alike, so both give the same estimate).

Each strategy is a generator yielding ``(iteration, objective)`` and returning
``(seedset, out, parts, lazy)``; the caller builds the report and the
:class:`~napari_unmix.api.nmf_result.UnmixResult`.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask

from ..core.nmf import DEFAULT_MAX_ITER, DEFAULT_SOLVER, DEFAULT_TOL, iter_nmf, run_to_end
from ..core.nnls import nnls, nnls_maps
from ..core.report import describe_array, start_report
from ..core.seeds import ComponentSeed, SeedSet, prepare_seeds
from ..core.validate import check_option_types
from ._nmf_common import (
    _assemble,
    _axis,
    _check_cube,
    _check_exclude,
    _check_nmf_options,
    _check_signal,
    _check_spectra,
    _fit_part,
    _flatten,
    _names,
    _negative_note,
    _residual,
    _slices,
    _unflatten,
)
from .nmf_result import UnmixResult

__all__ = ["iter_seeded_nnmf", "seeded_nnmf"]


def _seedset_for(
    data: np.ndarray, seeds: Any, axis: np.ndarray | None, ex: np.ndarray | None, opts: dict
) -> SeedSet:
    if isinstance(seeds, SeedSet):
        if seeds.H0.shape[1] != data.shape[0] or seeds.W0.shape[1:] != data.shape[1:]:
            raise ValueError(
                f"the SeedSet was prepared for {seeds.H0.shape[1]} channels and "
                f"{seeds.W0.shape[1:]} pixels, the cube is {data.shape}"
            )
        return seeds
    if isinstance(seeds, np.ndarray) or (
        isinstance(seeds, Sequence) and len(seeds) and np.ndim(seeds[0]) == 1
    ):
        H = np.asarray(seeds, dtype=np.float64)
        if H.ndim != 2 or H.shape[1] != data.shape[0]:
            raise ValueError(
                f"seed spectra must be k x {data.shape[0]} (one per component, one value per "
                f"channel), got {H.shape}"
            )
        seeds = [ComponentSeed(spectrum=h) for h in H]
    return prepare_seeds(data, seeds, spectral_axis=axis, exclude=ex, **opts)


def _fit_slice(
    data: np.ndarray,
    seeds: SeedSet,
    ex: np.ndarray | None,
    lock_H: Any,
    lock_W: Any,
    nmf_opts: dict,
) -> Generator[tuple[int, float], None, dict[str, Any]]:
    """Seeded NNMF of one slice (a generator; returns the slice's arrays and numbers)."""
    ny, nx = data.shape[1:]
    X, good = _flatten(data, ex)
    if seeds.subtract_spectrum is not None:
        X = seeds.remove_background(X)  # per-pixel level when the seeds carry a map
    k = seeds.k
    lock_H = seeds.lock_H if lock_H is None else np.asarray(lock_H, bool)
    lock_W = seeds.lock_W if lock_W is None else np.asarray(lock_W, bool)
    W0 = seeds.W0.reshape(k, -1).T
    _check_signal(X[good])
    _check_spectra(seeds.H0, "seed spectra")
    fit = yield from iter_nmf(X[good], W0[good], seeds.H0, lock_H=lock_H, lock_W=lock_W, **nmf_opts)
    return _fit_part(X, good, fit, (ny, nx)) | {"negative": _negative_note(X[good])}


def _nnls_slice(data: np.ndarray, H: np.ndarray, ex, subtract) -> dict[str, Any]:
    ny, nx = data.shape[1:]
    X, good = _flatten(data, ex)
    if subtract is not None:
        X = subtract.remove_background(X)  # a SeedSet
    Wg = nnls(X[good], H)[0]
    r, num, den = _residual(X[good], Wg, H)
    return {
        "W": _unflatten(Wg, good, (ny, nx)),
        "H": H,
        "residual": _unflatten(r[:, None], good, (ny, nx))[0],
        "num": num,
        "den": den,
        "n_iter": 0,
        "converged": True,
        "history": [],
    }


def iter_seeded_nnmf(
    cube: Any,
    seeds: Any,
    /,
    *,
    solver: str = DEFAULT_SOLVER,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    l1_W: float = 0.0,
    lock_H: Sequence[bool] | None = None,
    lock_W: Sequence[bool] | None = None,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    slice_mode: str = "per_slice",
    reference_slice: int = 0,
    max_pixels: int | None = None,
    seed_options: dict[str, Any] | None = None,
    random_state: int = 0,
) -> Generator[tuple[int, float], None, UnmixResult]:
    """Generator form of :func:`seeded_nnmf`: yields ``(iteration, objective)``, returns the result.

    For a 4-D cube the iteration count restarts with every fitted slice.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> gen = iter_seeded_nnmf(cube, truth["spectra"] + 0.05)
    >>> it, obj = next(gen)
    >>> it
    1
    >>> res = run_to_end(gen)
    >>> res.converged, res.W.shape
    (True, (4, 32, 32))
    """
    check_option_types(iter_seeded_nnmf, locals())
    _check_nmf_options(solver, max_iter, tol, l1_W, slice_mode)
    cube, is4d = _check_cube(cube)
    if max_pixels is not None and int(max_pixels) < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels=}")
    if _is_dask(cube) and max_pixels is None:
        raise ValueError(
            "a dask cube needs max_pixels (the NNMF is fitted on that many sampled pixels, "
            "then every pixel is unmixed by NNLS); or pass a numpy array"
        )
    C, ny, nx = cube.shape[-3:]
    axis = _axis(spectral_axis, C)
    ex = _check_exclude(exclude, (ny, nx))
    rng = np.random.default_rng(random_state)
    nmf_opts = {"solver": solver, "max_iter": int(max_iter), "tol": float(tol), "l1_W": l1_W}
    slices = _slices(cube, is4d)
    if is4d and not 0 <= reference_slice < len(slices):
        raise ValueError(f"reference_slice {reference_slice} outside 0..{len(slices) - 1}")
    opts = {"random_state": random_state, **(seed_options or {})}
    fit_args = (seeds, lock_H, lock_W, ex, axis, opts, nmf_opts)
    if max_pixels is not None:  # numpy and dask take the same sampled path: same estimate
        reference = reference_slice if (slice_mode == "reference" and is4d) else None
        run = _iter_subsampled(cube, slices, *fit_args, int(max_pixels), rng, reference)
    elif slice_mode == "reference" and is4d:
        run = _iter_reference(slices, *fit_args, reference_slice)
    else:
        run = _iter_per_slice(slices, *fit_args, is4d)
    seedset, out, parts, lazy = yield from run
    k = seedset.k
    names = _names(names, k, seedset.names if not isinstance(seeds, np.ndarray) else None)
    params = {
        "method": "seeded_nnmf",
        **nmf_opts,
        "lock_H": (seedset.lock_H if lock_H is None else np.asarray(lock_H, bool)).tolist(),
        "lock_W": (seedset.lock_W if lock_W is None else np.asarray(lock_W, bool)).tolist(),
        "names": names,
        "slice_mode": slice_mode,
        "reference_slice": reference_slice,
        "max_pixels": max_pixels,
        "seed_options": opts,
        "spectral_units": spectral_units,
        "exclude_pixels": int(ex.sum()) if ex is not None else 0,
    }
    report = start_report("seeded_nnmf", params, {"cube": describe_array(cube)})
    report.update(
        relative_error=out["relative_error"],
        n_iter=out["n_iter"],
        converged=out["converged"],
        H=out["H"],
        H0=seedset.H0,
        seed_provenance=seedset.provenance,
        subtracted_spectrum=seedset.subtract_spectrum,
        **parts[0].get("negative", {}),
    )
    return UnmixResult(
        out["W"], out["H"], out["residual"], out["relative_error"], out["n_iter"],
        out["converged"], seedset, params, report, names, axis, spectral_units, out["history"],
        lazy_terms=lazy,
    )  # fmt: skip


# ----------------------------------------------------------------------------- strategies
Strategy = Generator[tuple[int, float], None, tuple[SeedSet, dict, list[dict], Any]]


def _iter_per_slice(slices, seeds, lock_H, lock_W, ex, axis, opts, nmf_opts, is4d) -> Strategy:
    """Every slice fitted from its own seeds (a 3-D cube is one slice)."""
    parts, seedset = [], None
    for data in slices:
        data = np.asarray(data, dtype=np.float64)
        seedset = _seedset_for(data, seeds, axis, ex, opts)
        part = yield from _fit_slice(data, seedset, ex, lock_H, lock_W, nmf_opts)
        parts.append(part)
    return seedset, _assemble(parts, is4d, is4d), parts, None


def _iter_reference(slices, seeds, lock_H, lock_W, ex, axis, opts, nmf_opts, ref) -> Strategy:
    """The reference slice fitted; every other slice unmixed by NNLS with its spectra."""
    data = np.asarray(slices[ref], dtype=np.float64)
    seedset = _seedset_for(data, seeds, axis, ex, opts)
    fitted = yield from _fit_slice(data, seedset, ex, lock_H, lock_W, nmf_opts)
    parts = [
        fitted if s == ref else _nnls_slice(np.asarray(d), fitted["H"], ex, seedset)
        for s, d in enumerate(slices)
    ]
    return seedset, _assemble(parts, True, False), parts, None


def _iter_subsampled(
    cube, slices, seeds, lock_H, lock_W, ex, axis, opts, nmf_opts, max_pixels, rng, reference
) -> Strategy:
    """Fit on sampled pixels, then NNLS of every pixel (numpy cubes go through dask too)."""
    if not _is_dask(cube):
        import dask.array as da

        if not isinstance(seeds, np.ndarray | SeedSet):
            first = np.asarray(slices[reference or 0], dtype=np.float64)
            seeds = _seedset_for(first, seeds, axis, ex, opts)
        slices = [da.from_array(np.asarray(d), chunks=-1) for d in slices]
    seedset, out, lazy = yield from _iter_dask(
        slices, seeds, lock_H, lock_W, ex, max_pixels, rng, nmf_opts, reference
    )
    if not _is_dask(cube):
        import dask

        out["W"], out["residual"], num, den = dask.compute(out["W"], out["residual"], *lazy)
        out["relative_error"] = float(np.sqrt(num / den)) if den > 0 else 0.0
        lazy = None
    return seedset, out, [{}], lazy


def _iter_dask(slices, seeds, lock_H, lock_W, ex, max_pixels, rng, nmf_opts, reference):
    """Seeded NNMF of dask slices: fit on sampled pixels, then lazy NNLS of every pixel."""
    import dask.array as da

    C, ny, nx = slices[0].shape
    if isinstance(seeds, SeedSet):
        seedset = _seedset_for(np.empty((C, ny, nx), np.float32), seeds, None, None, {})
    else:
        try:
            H0 = np.asarray(seeds, dtype=np.float64)
        except (TypeError, ValueError):
            H0 = np.empty(0)
        if H0.ndim != 2 or H0.shape[1] != C:
            raise ValueError(
                f"for a dask cube give the seeds as a k x {C} array or a SeedSet (prepare it "
                f"on a computed slice), got {type(seeds).__name__} {np.shape(seeds)}"
            )
        k = H0.shape[0]
        seedset = SeedSet(
            H0, np.zeros((k, 0, 0)), np.zeros(k, bool), np.zeros(k, bool),
            [f"component_{j}" for j in range(k)], np.zeros(k, bool),
            provenance=[{"H": "given spectrum", "W": "NNLS of the sampled pixels"}] * k,
        )  # fmt: skip
    k = seedset.k
    lock_H = seedset.lock_H if lock_H is None else np.asarray(lock_H, bool)
    lock_W = seedset.lock_W if lock_W is None else np.asarray(lock_W, bool)
    if lock_W.any():
        raise ValueError("locked W columns need a numpy cube; compute it or unlock lock_W")
    sub = seedset.subtract_spectrum
    fits = {}
    for s in [reference] if reference is not None else range(len(slices)):
        rows = np.sort(rng.choice(ny * nx, size=min(max_pixels, ny * nx), replace=False))
        Xs = np.asarray(slices[s].reshape(C, -1)[:, rows].compute(), dtype=np.float64).T
        good = np.isfinite(Xs).all(axis=1)
        if ex is not None:
            good &= ~ex.ravel()[rows]
        if not good.any():
            raise ValueError("every sampled pixel is NaN or excluded; nothing to fit")
        rows, Xs = rows[good], Xs[good] - (0.0 if sub is None else sub)
        if seedset.W0.size:
            W0 = seedset.W0.reshape(k, -1).T[rows]
        else:
            W0 = nnls(Xs, seedset.H0)[0]
            W0 /= np.where(W0.max(axis=0) > 0, W0.max(axis=0), 1.0)
        _check_signal(Xs)
        _check_spectra(seedset.H0, "seed spectra")
        fits[s] = yield from iter_nmf(Xs, W0, seedset.H0, lock_H=lock_H, **nmf_opts)
    Ws, Rs, num, den = [], [], 0, 0
    for s, data in enumerate(slices):
        d = data.astype(np.float32)
        if ex is not None:
            d = da.where(da.asarray(ex), np.float32(np.nan), d)
        if sub is not None:
            d = d - sub.astype(np.float32)[:, None, None]
        W, res = nnls_maps(d, fits[reference if reference is not None else s].H)
        Ws.append(W)
        Rs.append(res)
        num = num + da.nansum(res.astype(np.float64) ** 2)
        den = den + da.where(da.isfinite(res)[None], d.astype(np.float64) ** 2, 0).sum()
    many = len(slices) > 1
    out = {
        "W": da.stack(Ws) if many else Ws[0],
        "residual": da.stack(Rs) if many else Rs[0],
        "H": np.stack([f.H for f in fits.values()])
        if len(fits) > 1
        else next(iter(fits.values())).H,
        "relative_error": None,
        "n_iter": int(sum(f.n_iter for f in fits.values())),
        "converged": all(f.converged for f in fits.values()),
        "history": next(iter(fits.values())).history,
    }
    return seedset, out, (num, den)


def seeded_nnmf(cube: Any, seeds: Any, /, **kwargs: Any) -> UnmixResult:
    """NNMF of a hyperspectral cube started from seeds, with per-component locks.

    Parameters
    ----------
    cube : (C, Y, X) or (S, C, Y, X) array
        Any real dtype; NaN pixels and ``exclude`` pixels are skipped (NaN in W).
    seeds : (k, C) array, SeedSet, or list of ComponentSeed / dict
        H seeds (spectra keep their amplitude), a prepared
        :class:`~napari_unmix.core.seeds.SeedSet`, or component descriptions passed to
        :func:`~napari_unmix.core.seeds.prepare_seeds` (with ``seed_options``).
    solver : {"auto", "anls", "hals", "mu"}
        See :data:`napari_unmix.core.nmf.SOLVERS` ("auto": extrapolated HALS, exact
        alternating NNLS once progress slows).
    max_iter, tol : int, float
        Iteration cap and relative objective precision of the scale-free stop rule
        (:func:`napari_unmix.core.nmf.stop_rule`); a ``ConvergenceWarning`` when
        ``max_iter`` is reached first.
    l1_W : float
        L1 sparsity on the maps (best with locked H rows: W and H trade scale otherwise).
    lock_H, lock_W : sequence of bool, optional
        Override the seed set's locks (H row fixed = known spectrum; W column fixed =
        fixed map, e.g. background).
    exclude : (Y, X) bool, optional
        Pixels to skip.
    names, spectral_axis, spectral_units
        Labels carried into the result and its files.
    slice_mode : {"per_slice", "reference"}
        For 4-D cubes: fit every slice from the seeds, or fit ``reference_slice`` and
        unmix the others by NNLS with its H.
    max_pixels : int, optional
        Fit on a seeded random subsample of pixels, then NNLS every pixel with the fitted H
        (required for dask cubes).
    seed_options : dict, optional
        Keyword arguments of :func:`~napari_unmix.core.seeds.prepare_seeds`.
    random_state : int

    Returns
    -------
    UnmixResult

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = seeded_nnmf(cube, truth["spectra"], lock_H=[True, True, False, False])
    >>> bool(np.allclose(res.H[:2], truth["spectra"][:2]))
    True
    """
    return run_to_end(iter_seeded_nnmf(cube, seeds, **kwargs))
