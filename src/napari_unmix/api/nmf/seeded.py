"""Seeded NNMF of hyperspectral cubes: one function per strategy, one result shape.

:func:`iter_seeded_nnmf` checks the options once (:class:`~napari_unmix.core.nmf.
SeededNmfOptions`, :class:`~napari_unmix.core.seeds.SeedOptions`), gathers what every
strategy needs in one :class:`_Job`, and hands the cube to the strategy :data:`STRATEGIES`
names:

* :func:`_iter_per_slice` — every slice (the only one of a 3-D cube) fitted from its seeds;
* :func:`_iter_reference` — a 4-D cube's reference slice fitted, the others unmixed by NNLS
  with its spectra;
* :func:`_iter_subsampled` — fitted on a seeded pixel sample, every pixel then unmixed by
  NNLS chunk by chunk (numpy cubes go through :func:`_iter_dask` too, so numpy and dask
  give the same estimate).

Each strategy is a generator yielding :class:`~napari_unmix.core.progress.Progress` events
and returning ``(seedset, out, parts, lazy)``; the caller builds the report and the
:class:`~napari_unmix.api.nmf.UnmixResult`.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask

from ...core.nmf import SeededNmfOptions, iter_nmf
from ...core.nnls import nnls, nnls_maps
from ...core.progress import Progress, Steps, run_form
from ...core.report import describe_array, start_report
from ...core.seeds import ComponentSeed, SeedOptions, SeedSet, prepare_seeds
from .common import (
    _assemble,
    _axis,
    _check_cube,
    _check_exclude,
    _check_signal,
    _check_spectra,
    _fit_part,
    _flatten,
    _names,
    _negative_note,
    _part,
    _result,
    _slices,
)

__all__ = ["STRATEGIES", "iter_seeded_nnmf", "seed_options_and_masks", "seeded_nnmf"]


@dataclass
class _Job:
    """What every strategy needs: the seeds as given, locks, pixels, axis and options."""

    seeds: Any
    lock_H: np.ndarray | None
    lock_W: np.ndarray | None
    exclude: np.ndarray | None
    axis: np.ndarray | None
    seed_options: SeedOptions
    background_masks: Sequence[np.ndarray]
    options: SeededNmfOptions

    def seedset(self, data: np.ndarray) -> SeedSet:
        """The seeds prepared on one slice (a given SeedSet is checked, not rebuilt)."""
        seeds = self.seeds
        if isinstance(seeds, SeedSet):
            return _checked(seeds, data.shape)
        if isinstance(seeds, np.ndarray) or (
            isinstance(seeds, Sequence) and len(seeds) and np.ndim(seeds[0]) == 1
        ):
            H = np.asarray(seeds, dtype=np.float64)
            if H.ndim != 2 or H.shape[1] != data.shape[0]:
                raise ValueError(
                    f"seed spectra must be k x {data.shape[0]} (one per component, one value "
                    f"per channel), got {H.shape}"
                )
            seeds = [ComponentSeed(spectrum=h) for h in H]
        return prepare_seeds(
            data, seeds, spectral_axis=self.axis, exclude=self.exclude,
            background_masks=self.background_masks, **self.seed_options.as_dict(),
        )  # fmt: skip

    def locks(self, seedset: SeedSet) -> tuple[np.ndarray, np.ndarray]:
        """``(lock_H, lock_W)``: the given overrides or the seed set's."""
        lock_H = seedset.lock_H if self.lock_H is None else self.lock_H
        lock_W = seedset.lock_W if self.lock_W is None else self.lock_W
        return lock_H, lock_W


def _checked(seeds: SeedSet, shape: tuple[int, ...]) -> SeedSet:
    """A prepared SeedSet, if it fits a slice of ``shape`` (C, Y, X)."""
    if seeds.H0.shape[1] != shape[0] or seeds.W0.shape[1:] != tuple(shape[1:]):
        raise ValueError(
            f"the SeedSet was prepared for {seeds.H0.shape[1]} channels and "
            f"{seeds.W0.shape[1:]} pixels, the cube is {tuple(shape)}"
        )
    return seeds


def seed_options_and_masks(
    seed_options: Any, background_masks: Sequence[np.ndarray], random_state: int
) -> tuple[SeedOptions, Sequence[np.ndarray]]:
    """A :class:`SeedOptions` and the background ROIs from ``seed_options`` (a SeedOptions,
    or a dict of its fields that may also carry ``"background_masks"``, as scripts pass it)."""
    if isinstance(seed_options, dict) and "background_masks" in seed_options:
        seed_options = dict(seed_options)
        given = seed_options.pop("background_masks")
        background_masks = [*background_masks, *(given or ())]
    opts = SeedOptions.coerce(seed_options, {"random_state": random_state})
    return opts, list(background_masks)


def _fit_slice(data: np.ndarray, seeds: SeedSet, job: _Job) -> Generator[Any, None, dict]:
    """Seeded NNMF of one slice (a generator; returns the slice's arrays and numbers)."""
    X, good = _flatten(data, job.exclude)
    if seeds.subtract_spectrum is not None:
        X = seeds.remove_background(X)  # per-pixel level when the seeds carry a map
    lock_H, lock_W = job.locks(seeds)
    W0 = seeds.W0.reshape(seeds.k, -1).T
    _check_signal(X[good])
    _check_spectra(seeds.H0, "seed spectra")
    fit = yield from iter_nmf(
        X[good], W0[good], seeds.H0, lock_H=lock_H, lock_W=lock_W, **job.options.fit_kwargs()
    )
    return _fit_part(X, good, fit, data.shape[1:]) | {"negative": _negative_note(X[good])}


def _nnls_slice(data: np.ndarray, H: np.ndarray, ex, seeds: SeedSet) -> dict[str, Any]:
    """NNLS of one slice with fixed spectra (the seed set's background removed first)."""
    X, good = _flatten(data, ex)
    X = seeds.remove_background(X)
    return _part(X, good, nnls(X[good], H)[0], H, data.shape[1:])


def iter_seeded_nnmf(
    cube: Any,
    seeds: Any,
    /,
    *,
    solver: str = SeededNmfOptions.solver,
    max_iter: int = SeededNmfOptions.max_iter,
    tol: float = SeededNmfOptions.tol,
    l1_W: float = SeededNmfOptions.l1_W,
    lock_H: Sequence[bool] | None = None,
    lock_W: Sequence[bool] | None = None,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    slice_mode: str = SeededNmfOptions.slice_mode,
    reference_slice: int = SeededNmfOptions.reference_slice,
    max_pixels: int | None = SeededNmfOptions.max_pixels,
    anchor: float = SeededNmfOptions.anchor,
    seed_options: SeedOptions | dict[str, Any] | None = None,
    background_masks: Sequence[np.ndarray] = (),
    random_state: int = SeededNmfOptions.random_state,
) -> Steps:
    """NNMF of a hyperspectral cube started from seeds, with per-component locks.

    The generator form (yields a :class:`~napari_unmix.core.progress.Progress` per
    iteration, returns the :class:`UnmixResult`); :func:`seeded_nnmf` runs it to the end.
    For a 4-D cube the iteration count restarts with every fitted slice.

    Parameters
    ----------
    cube : (C, Y, X) or (S, C, Y, X) array
        Any real dtype; NaN pixels and ``exclude`` pixels are skipped (NaN in W).
    seeds : (k, C) array, SeedSet, or list of ComponentSeed / dict
        H seeds (spectra keep their amplitude), a prepared
        :class:`~napari_unmix.core.seeds.SeedSet`, or component descriptions passed to
        :func:`~napari_unmix.core.seeds.prepare_seeds` (with ``seed_options``).
    solver, max_iter, tol, l1_W, random_state
        The fit (:class:`~napari_unmix.core.nmf.NmfOptions`): solver (see
        :data:`napari_unmix.core.nmf.SOLVERS`), iteration cap and relative precision of
        the scale-free stop rule (a ``ConvergenceWarning`` when ``max_iter`` is reached
        first), L1 sparsity on the maps (best with locked H rows: W and H trade scale
        otherwise), seed of every random choice.
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
    seed_options : SeedOptions or dict, optional
        Options of :func:`~napari_unmix.core.seeds.prepare_seeds`
        (:class:`~napari_unmix.core.seeds.SeedOptions`); a dict may also hold
        ``"background_masks"``.
    background_masks : sequence of (Y, X) bool
        Background ROIs (see :func:`~napari_unmix.core.seeds.prepare_seeds`).

    Examples
    --------
    >>> from napari_unmix.core.progress import run
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> gen = iter_seeded_nnmf(cube, truth["spectra"] + 0.05)
    >>> next(gen).done
    1
    >>> res = run(gen)
    >>> res.converged, res.W.shape
    (True, (4, 32, 32))
    >>> res = seeded_nnmf(cube, truth["spectra"], lock_H=[True, True, False, False])
    >>> bool(np.allclose(res.H[:2], truth["spectra"][:2]))
    True
    """
    opts = SeededNmfOptions.pick(locals())
    seed_opts, masks = seed_options_and_masks(seed_options, background_masks, opts.random_state)
    cube, is4d = _check_cube(cube)
    if _is_dask(cube) and opts.max_pixels is None:
        raise ValueError(
            "a dask cube needs max_pixels (the NNMF is fitted on that many sampled pixels, "
            "then every pixel is unmixed by NNLS); or pass a numpy array"
        )
    C, ny, nx = cube.shape[-3:]
    slices = _slices(cube, is4d)
    if is4d and not opts.reference_slice < len(slices):
        raise ValueError(f"reference_slice {reference_slice} outside 0..{len(slices) - 1}")
    job = _Job(
        seeds, None if lock_H is None else np.asarray(lock_H, bool),
        None if lock_W is None else np.asarray(lock_W, bool), _check_exclude(exclude, (ny, nx)),
        _axis(spectral_axis, C), seed_opts, masks, opts,
    )  # fmt: skip
    if opts.max_pixels is not None:  # numpy and dask take the same sampled path
        strategy = "subsample"
    else:
        strategy = opts.slice_mode if is4d else "per_slice"
    seedset, out, parts, lazy = yield from STRATEGIES[strategy](cube, slices, job)
    names = _names(names, seedset.k, seedset.names if not isinstance(seeds, np.ndarray) else None)
    lock_H, lock_W = job.locks(seedset)
    params = {
        "method": "seeded_nnmf", **opts.as_dict(), "lock_H": lock_H.tolist(),
        "lock_W": lock_W.tolist(), "names": names, "seed_options": seed_opts.as_dict(),
        "background_rois": len(masks), "spectral_units": spectral_units,
        "exclude_pixels": int(job.exclude.sum()) if job.exclude is not None else 0,
    }  # fmt: skip
    report = start_report("seeded_nnmf", params, {"cube": describe_array(cube)})
    report.update(
        relative_error=out["relative_error"], n_iter=out["n_iter"], converged=out["converged"],
        H=out["H"], H0=seedset.H0, seed_provenance=seedset.provenance,
        subtracted_spectrum=seedset.subtract_spectrum, **parts[0].get("negative", {}),
    )  # fmt: skip
    return _result(out, seedset, params, report, names, job.axis, spectral_units, lazy)


seeded_nnmf = run_form(
    iter_seeded_nnmf, "seeded_nnmf", "NNMF of a hyperspectral cube started from seeds, with locks.",
    "UnmixResult",
)  # fmt: skip


# ----------------------------------------------------------------------------- strategies
Strategy = Generator[Progress, None, tuple[SeedSet, dict, list[dict], Any]]


def _iter_per_slice(cube: Any, slices: list, job: _Job) -> Strategy:
    """Every slice fitted from its own seeds (a 3-D cube is one slice)."""
    parts, seedset = [], None
    for data in slices:
        data = np.asarray(data, dtype=np.float64)
        seedset = job.seedset(data)
        part = yield from _fit_slice(data, seedset, job)
        parts.append(part)
    is4d = cube.ndim == 4
    return seedset, _assemble(parts, is4d, is4d), parts, None


def _iter_reference(cube: Any, slices: list, job: _Job) -> Strategy:
    """The reference slice fitted; every other slice unmixed by NNLS with its spectra."""
    ref = job.options.reference_slice
    data = np.asarray(slices[ref], dtype=np.float64)
    seedset = job.seedset(data)
    fitted = yield from _fit_slice(data, seedset, job)
    parts = [
        fitted if s == ref else _nnls_slice(np.asarray(d), fitted["H"], job.exclude, seedset)
        for s, d in enumerate(slices)
    ]
    return seedset, _assemble(parts, True, False), parts, None


def _iter_subsampled(cube: Any, slices: list, job: _Job) -> Strategy:
    """Fit on sampled pixels, then NNLS of every pixel (numpy cubes go through dask too)."""
    reference = job.options.reference_slice
    if not (job.options.slice_mode == "reference" and cube.ndim == 4):
        reference = None
    if not _is_dask(cube):
        import dask.array as da

        if not isinstance(job.seeds, np.ndarray | SeedSet):
            job.seeds = job.seedset(np.asarray(slices[reference or 0], dtype=np.float64))
        slices = [da.from_array(np.asarray(d), chunks=-1) for d in slices]
    seedset, out, lazy = yield from _iter_dask(slices, job, reference)
    if not _is_dask(cube):
        import dask

        out["W"], out["residual"], num, den = dask.compute(out["W"], out["residual"], *lazy)
        out["relative_error"] = float(np.sqrt(num / den)) if den > 0 else 0.0
        lazy = None
    return seedset, out, [{}], lazy


#: strategy name -> generator (cube, slices, job): "subsample" when ``max_pixels`` is
#: given, else the 4-D ``slice_mode`` ("per_slice" for 3-D cubes)
STRATEGIES = {
    "per_slice": _iter_per_slice,
    "reference": _iter_reference,
    "subsample": _iter_subsampled,
}


def _dask_seedset(seeds: Any, shape: tuple[int, int, int]) -> SeedSet:
    """The seeds of a dask cube: a SeedSet (checked) or a k × C array of spectra."""
    C = shape[0]
    if isinstance(seeds, SeedSet):
        return _checked(seeds, shape)
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
    return SeedSet(
        H0, np.zeros((k, 0, 0)), np.zeros(k, bool), np.zeros(k, bool),
        [f"component_{j}" for j in range(k)], np.zeros(k, bool),
        provenance=[{"H": "given spectrum", "W": "NNLS of the sampled pixels"}] * k,
    )  # fmt: skip


def _fit_sample(data: Any, seedset: SeedSet, job: _Job, rng, lock_H) -> Generator:
    """Seeded NNMF of ``max_pixels`` sampled pixels of one dask slice."""
    C, ny, nx = data.shape
    k, sub = seedset.k, seedset.subtract_spectrum
    n = min(job.options.max_pixels, ny * nx)
    rows = np.sort(rng.choice(ny * nx, size=n, replace=False))
    Xs = np.asarray(data.reshape(C, -1)[:, rows].compute(), dtype=np.float64).T
    good = np.isfinite(Xs).all(axis=1)
    if job.exclude is not None:
        good &= ~job.exclude.ravel()[rows]
    if not good.any():
        raise ValueError("every sampled pixel is NaN or excluded; nothing to fit")
    rows, Xs = rows[good], Xs[good]
    if sub is not None:  # the same background as numpy's: scaled per pixel when mapped
        level = 1.0 if seedset.subtract_map is None else seedset.subtract_map.reshape(-1)[rows]
        Xs = Xs - np.reshape(level, (-1, 1)) * sub
    if seedset.W0.size:
        W0 = seedset.W0.reshape(k, -1).T[rows]
    else:
        W0 = nnls(Xs, seedset.H0)[0]
        W0 /= np.where(W0.max(axis=0) > 0, W0.max(axis=0), 1.0)
    _check_signal(Xs)
    _check_spectra(seedset.H0, "seed spectra")
    return (yield from iter_nmf(Xs, W0, seedset.H0, lock_H=lock_H, **job.options.fit_kwargs()))


def _iter_dask(slices: list, job: _Job, reference: int | None) -> Generator:
    """Seeded NNMF of dask slices: fit on sampled pixels, then lazy NNLS of every pixel."""
    import dask.array as da

    seedset = _dask_seedset(job.seeds, slices[0].shape)
    lock_H, lock_W = job.locks(seedset)
    if lock_W.any():
        raise ValueError("locked W columns need a numpy cube; compute it or unlock lock_W")
    rng = np.random.default_rng(job.options.random_state)
    fits = {}
    for s in [reference] if reference is not None else range(len(slices)):
        fits[s] = yield from _fit_sample(slices[s], seedset, job, rng, lock_H)
    sub, ex = seedset.subtract_spectrum, job.exclude
    Ws, Rs, num, den = [], [], 0, 0
    for s, data in enumerate(slices):
        d = data.astype(np.float32)
        if ex is not None:
            d = da.where(da.asarray(ex), np.float32(np.nan), d)
        if sub is not None:
            bg = sub.astype(np.float32)[:, None, None]
            if seedset.subtract_map is not None:
                bg = bg * np.asarray(seedset.subtract_map, np.float32)[None]
            d = d - bg
        W, res = nnls_maps(d, fits[reference if reference is not None else s].H)
        Ws.append(W)
        Rs.append(res)
        num = num + da.nansum(res.astype(np.float64) ** 2)
        den = den + da.where(da.isfinite(res)[None], d.astype(np.float64) ** 2, 0).sum()
    many, fitted = len(slices) > 1, list(fits.values())
    out = {
        "W": da.stack(Ws) if many else Ws[0],
        "residual": da.stack(Rs) if many else Rs[0],
        "H": np.stack([f.H for f in fitted]) if len(fitted) > 1 else fitted[0].H,
        "relative_error": None,
        "n_iter": int(sum(f.n_iter for f in fitted)),
        "converged": all(f.converged for f in fitted),
        "history": fitted[0].history,
    }
    return seedset, out, (num, den)
