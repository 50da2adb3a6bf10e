"""Script API for hyperspectral unmixing: fixed-H NNLS, seeded NNMF, random NNMF and PCA.

All four take a cube ``C × Y × X`` (or ``slices × C × Y × X``) and return one
:class:`~napari_unmix.api.nmf_result.UnmixResult` with ``W`` (maps), ``H`` (spectra),
``residual``, ``relative_error``, ``n_iter``, ``converged``, ``seeds``, ``params`` and a
provenance ``report``. The long solvers have generator forms (``iter_seeded_nnmf``,
``iter_random_nnmf``) that yield ``(iteration, objective)`` and return the result, for
progress bars and cancel buttons; the plain functions run them to the end.

Examples
--------
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
>>> res = nnls_unmix(cube, truth["spectra"])
>>> res.W.shape, res.H.shape, res.residual.shape
((4, 32, 32), (4, 24), (32, 32))
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np

from ..core.nmf import SOLVERS, iter_nmf, nndsvd_init, random_init, run_to_end
from ..core.nnls import nnls, nnls_maps
from ..core.report import describe_array, start_report
from ..core.seeds import ComponentSeed, SeedSet, prepare_seeds, resample_spectrum
from ..core.validate import check_not_empty, check_option_types
from .nmf_result import UnmixResult, save_result

__all__ = [
    "UnmixResult",
    "iter_random_nnmf",
    "iter_seeded_nnmf",
    "load_spectra",
    "nnls_unmix",
    "pca",
    "random_nnmf",
    "save_result",
    "seeded_nnmf",
]

SLICE_MODES = ("per_slice", "reference")
INITS = ("nndsvda", "nndsvd", "random")


# ----------------------------------------------------------------------------- helpers
def _is_dask(a: Any) -> bool:
    return type(a).__module__.startswith("dask")


def _check_cube(cube: Any) -> tuple[Any, bool]:
    """Validate a 3-D / 4-D real cube; return it (numpy or dask) and whether it is 4-D."""
    if not hasattr(cube, "ndim") or not hasattr(cube, "dtype"):
        cube = np.asarray(cube)
    if cube.ndim not in (3, 4):
        raise ValueError(
            f"expected a C x Y x X cube (or slices x C x Y x X), got {cube.ndim}-D "
            f"{tuple(cube.shape)}; move the spectral axis first"
        )
    kind = np.dtype(cube.dtype).kind
    if kind not in "iuf":
        raise ValueError(f"the cube must hold real numbers, got dtype {cube.dtype}")
    check_not_empty("cube", cube)
    if cube.shape[-3] < 2:
        raise ValueError(f"need at least 2 channels, got {cube.shape[-3]} ({cube.shape=})")
    return cube, cube.ndim == 4


def _slices(cube: Any, is4d: bool) -> list[Any]:
    return [cube[s] for s in range(cube.shape[0])] if is4d else [cube]


def _flatten(data: Any, exclude: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Pixels × channels float64 matrix of one slice and the mask of usable pixels."""
    X = np.asarray(data, dtype=np.float64).reshape(data.shape[0], -1).T
    good = np.isfinite(X).all(axis=1)
    if exclude is not None:
        good &= ~exclude.ravel()
    if not good.any():
        raise ValueError("every pixel is NaN or excluded; nothing to unmix")
    return X, good


def _check_exclude(exclude: Any, shape: tuple[int, int]) -> np.ndarray | None:
    if exclude is None:
        return None
    ex = np.asarray(exclude)
    if ex.shape != shape or ex.dtype != bool:
        raise ValueError(
            f"exclude must be a boolean (Y, X) = {shape} mask, got {ex.shape} {ex.dtype}"
        )
    return ex


def _unflatten(values: np.ndarray, good: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(m × k) values of the good pixels -> k × Y × X float32 with NaN elsewhere."""
    out = np.full((values.shape[1], good.size), np.nan, np.float32)
    out[:, good] = values.T
    return out.reshape(values.shape[1], *shape)


def _residual(X: np.ndarray, W: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, float, float]:
    R = X - W @ H
    r2 = (R * R).sum(axis=1)
    return np.sqrt(r2), float(r2.sum()), float((X * X).sum())


def _negative_note(X: np.ndarray) -> dict[str, Any]:
    frac = float((X < 0).mean()) if X.size else 0.0
    note = (
        "negative values kept: least squares fits them as they are (they pull abundances "
        "towards 0); subtract a background or offset the data if they are an artefact"
        if frac > 0
        else "no negative values"
    )
    return {"negative_fraction": frac, "negative_values": note}


def _names(names: Sequence[str] | None, k: int, default: Sequence[str] | None = None) -> list[str]:
    if names is None:
        return list(default) if default is not None else [f"component_{j}" for j in range(k)]
    names = [str(n) for n in names]
    if len(names) != k:
        raise ValueError(f"{len(names)} names for {k} components")
    return names


def _load_spectra(
    spectra: Any, n_channels: int, spectral_axis: np.ndarray | None
) -> tuple[np.ndarray, list[str] | None]:
    """k × C spectra from an array or a CSV path (resampled onto ``spectral_axis``)."""
    names = None
    if isinstance(spectra, str | os.PathLike):
        from ..io.spectra import read_spectra_csv

        axis, rows, names = read_spectra_csv(spectra)
        if spectral_axis is None:
            if axis.size != n_channels:
                raise ValueError(
                    f"the spectra file has {axis.size} rows but the cube has {n_channels} "
                    "channels; pass spectral_axis to resample it"
                )
            H = rows
        else:
            H = np.stack([resample_spectrum(axis, r, spectral_axis)[0] for r in rows])
    else:
        H = np.array(spectra, dtype=np.float64)
        if H.ndim == 1:
            H = H[None]
    if H.ndim != 2 or H.shape[1] != n_channels:
        raise ValueError(
            f"spectra must be k x {n_channels} (one row per component, one value per channel), "
            f"got {H.shape}"
        )
    if H.shape[0] > n_channels:
        raise ValueError(f"{H.shape[0]} components but only {n_channels} channels")
    bad = np.flatnonzero(~np.isfinite(H).all(axis=1))
    if bad.size:
        raise ValueError(f"spectra row(s) {bad.tolist()} contain NaN or inf")
    return H, names


def _axis(spectral_axis: Any, n_channels: int) -> np.ndarray | None:
    if spectral_axis is None:
        return None
    ax = np.asarray(spectral_axis, dtype=np.float64).reshape(-1)
    if ax.size != n_channels:
        raise ValueError(f"spectral_axis has {ax.size} values for {n_channels} channels")
    return ax


def load_spectra(
    path: str | os.PathLike, /, *, n_channels: int | None = None, spectral_axis: Any = None
) -> tuple[np.ndarray, list[str]]:
    """Spectra (k × C) and their names from a CSV file, resampled onto ``spectral_axis``.

    Use the rows as H seeds (``ComponentSeed(spectrum=H[j])``) or as library spectra for
    :func:`nnls_unmix`. Without ``spectral_axis`` the file must have ``n_channels`` rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lib.csv"
    >>> _ = p.write_text("wavenumber,a\\n2800,0\\n3000,2\\n")
    >>> H, names = load_spectra(p, spectral_axis=[2850, 2900])
    >>> H.tolist(), names
    ([[0.5, 1.0]], ['a'])
    """
    axis = None if spectral_axis is None else np.asarray(spectral_axis, dtype=np.float64)
    if axis is None and n_channels is None:
        raise ValueError("give spectral_axis (to resample) or n_channels (to check the length)")
    C = axis.size if axis is not None else int(n_channels)
    H, names = _load_spectra(path, C, axis)
    return H, list(names or [])


# ----------------------------------------------------------------------------- NNLS
def nnls_unmix(
    cube: Any,
    spectra: Any,
    /,
    *,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
) -> UnmixResult:
    """Abundance maps from known spectra by exact per-pixel NNLS (fixed H).

    Parameters
    ----------
    cube : (C, Y, X) or (S, C, Y, X) array, numpy or dask
        Any real dtype (integers are converted to float). Dask input stays lazy: ``W`` and
        ``residual`` are dask arrays computed chunk by chunk (call ``result.compute()``).
    spectra : (k, C) array or path to a spectra CSV
        Spectra in the units of the cube; their scale is kept (no normalisation), so ``W``
        is in "amount of this spectrum". A CSV is resampled onto ``spectral_axis``.
    exclude : (Y, X) bool, optional
        Pixels to skip (NaN in the outputs), like NaN pixels.
    names : list of str, optional
        Component names (default: the CSV's column names or ``component_<j>``).
    spectral_axis : (C,) array, optional
    spectral_units : {"cm-1", "nm"} or None

    Returns
    -------
    UnmixResult
        ``n_iter`` 0, ``converged`` True, ``report["kkt_violation"]`` (relative).

    Examples
    --------
    >>> cube = np.stack([np.full((2, 2), 2.0), np.full((2, 2), 1.0)])
    >>> nnls_unmix(cube, np.array([[1.0, 0.0], [0.0, 1.0]])).W[:, 0, 0].tolist()
    [2.0, 1.0]
    """
    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    axis = _axis(spectral_axis, C)
    H, file_names = _load_spectra(spectra, C, axis)
    k = H.shape[0]
    names = _names(names, k, file_names)
    ex = _check_exclude(exclude, (ny, nx))
    params = {
        "method": "nnls",
        "names": names,
        "exclude_pixels": int(ex.sum()) if ex is not None else 0,
        "spectral_units": spectral_units,
    }
    report = start_report("nnls_unmix", params, cube=describe_array(cube))
    report["H"] = H
    if _is_dask(cube):
        import dask.array as da

        data = cube.astype(np.float32)
        if ex is not None:
            data = da.where(da.asarray(ex), np.float32(np.nan), data)
        parts = [nnls_maps(s, H) for s in _slices(data, is4d)]
        W = da.stack([p[0] for p in parts]) if is4d else parts[0][0]
        res = da.stack([p[1] for p in parts]) if is4d else parts[0][1]
        finite = da.isfinite(res)
        sq_x = da.where(da.expand_dims(finite, -3), data.astype(np.float64) ** 2, 0).sum()
        lazy = (da.nansum(res.astype(np.float64) ** 2), sq_x)
        report["relative_error"] = None
        return UnmixResult(
            W, H, res, None, 0, True, None, params, report, names, axis, spectral_units,
            lazy_terms=lazy,
        )  # fmt: skip
    Ws, Rs, num, den, kkt = [], [], 0.0, 0.0, 0.0
    for data in _slices(cube, is4d):
        X, good = _flatten(data, ex)
        Wg, info = nnls(X[good], H)
        r, a, b = _residual(X[good], Wg, H)
        num, den, kkt = num + a, den + b, max(kkt, info["kkt_violation"])
        Ws.append(_unflatten(Wg, good, (ny, nx)))
        Rs.append(_unflatten(r[:, None], good, (ny, nx))[0])
        report.update(_negative_note(X[good]))
    rel = float(np.sqrt(num / den)) if den > 0 else 0.0
    report.update(relative_error=rel, kkt_violation=kkt)
    W = np.stack(Ws) if is4d else Ws[0]
    res = np.stack(Rs) if is4d else Rs[0]
    return UnmixResult(W, H, res, rel, 0, True, None, params, report, names, axis, spectral_units)


# ----------------------------------------------------------------------------- NNMF
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
        X = X - seeds.subtract_spectrum
    k = seeds.k
    lock_H = seeds.lock_H if lock_H is None else np.asarray(lock_H, bool)
    lock_W = seeds.lock_W if lock_W is None else np.asarray(lock_W, bool)
    W0 = seeds.W0.reshape(k, -1).T
    fit = yield from iter_nmf(X[good], W0[good], seeds.H0, lock_H=lock_H, lock_W=lock_W, **nmf_opts)
    Wg = fit.W
    r, num, den = _residual(X[good], Wg, fit.H)
    return {
        "W": _unflatten(Wg, good, (ny, nx)),
        "H": fit.H,
        "residual": _unflatten(r[:, None], good, (ny, nx))[0],
        "num": num,
        "den": den,
        "n_iter": fit.n_iter,
        "converged": fit.converged,
        "history": fit.history,
        "negative": _negative_note(X[good]),
    }


def _assemble(parts: list[dict], is4d: bool, per_slice_H: bool, **kw: Any) -> dict[str, Any]:
    num = sum(p["num"] for p in parts)
    den = sum(p["den"] for p in parts)
    return {
        "W": np.stack([p["W"] for p in parts]) if is4d else parts[0]["W"],
        "H": (np.stack([p["H"] for p in parts]) if per_slice_H else parts[0]["H"]),
        "residual": np.stack([p["residual"] for p in parts]) if is4d else parts[0]["residual"],
        "relative_error": float(np.sqrt(num / den)) if den > 0 else 0.0,
        "n_iter": int(sum(p["n_iter"] for p in parts)),
        "converged": bool(all(p["converged"] for p in parts)),
        "history": parts[0]["history"],
        **kw,
    }


def _nnls_slice(data: np.ndarray, H: np.ndarray, ex, subtract) -> dict[str, Any]:
    ny, nx = data.shape[1:]
    X, good = _flatten(data, ex)
    if subtract is not None:
        X = X - subtract
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


def _check_nmf_options(solver: str, max_iter: int, tol: float, l1_W: float, slice_mode: str):
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {sorted(SOLVERS)}")
    if int(max_iter) < 1 or tol < 0 or l1_W < 0:
        raise ValueError(
            f"need max_iter >= 1, tol >= 0 and l1_W >= 0, got {max_iter=}, {tol=}, {l1_W=}"
        )
    if slice_mode not in SLICE_MODES:
        raise ValueError(f"slice_mode must be one of {SLICE_MODES}, got {slice_mode!r}")


def iter_seeded_nnmf(
    cube: Any,
    seeds: Any,
    /,
    *,
    solver: str = "hals",
    max_iter: int = 500,
    tol: float = 1e-5,
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
    parts: list[dict] = []
    lazy = out = None
    per_slice_H = False
    if max_pixels is not None:  # numpy and dask take the same sampled path: same estimate
        reference = reference_slice if (slice_mode == "reference" and is4d) else None
        if not _is_dask(cube):
            import dask.array as da

            if not isinstance(seeds, np.ndarray | SeedSet):
                first = np.asarray(slices[reference or 0], dtype=np.float64)
                seeds = _seedset_for(first, seeds, axis, ex, opts)
            slices = [da.from_array(np.asarray(d), chunks=-1) for d in slices]
        seedset, out, lazy = yield from _iter_dask(
            slices, seeds, lock_H, lock_W, ex, int(max_pixels), rng, nmf_opts, reference
        )
        parts = [{}]
        if not _is_dask(cube):
            import dask

            out["W"], out["residual"], num, den = dask.compute(out["W"], out["residual"], *lazy)
            out["relative_error"] = float(np.sqrt(num / den)) if den > 0 else 0.0
            lazy = None
    elif slice_mode == "reference" and is4d:
        ref = np.asarray(slices[reference_slice], dtype=np.float64)
        seedset = _seedset_for(ref, seeds, axis, ex, opts)
        fitted = yield from _fit_slice(ref, seedset, ex, lock_H, lock_W, nmf_opts)
        for s, data in enumerate(slices):
            parts.append(
                fitted
                if s == reference_slice
                else _nnls_slice(np.asarray(data), fitted["H"], ex, seedset.subtract_spectrum)
            )
        per_slice_H = False
    else:
        seedset = None
        for data in slices:
            data = np.asarray(data, dtype=np.float64)
            seedset = _seedset_for(data, seeds, axis, ex, opts)
            part = yield from _fit_slice(data, seedset, ex, lock_H, lock_W, nmf_opts)
            parts.append(part)
        per_slice_H = is4d
    k = seedset.k
    names = _names(names, k, seedset.names if not isinstance(seeds, np.ndarray) else None)
    if out is None:
        out = _assemble(parts, is4d, per_slice_H)
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
    report = start_report("seeded_nnmf", params, cube=describe_array(cube))
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
    solver : {"hals", "mu"}
        HALS (default, fast) or multiplicative updates.
    max_iter, tol : int, float
        Stop when an iteration lowers the objective by less than ``tol`` × the first
        iteration's decrease; a ``RuntimeWarning`` when ``max_iter`` is reached first.
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


def iter_random_nnmf(
    cube: Any,
    k: int,
    /,
    *,
    init: str = "nndsvda",
    solver: str = "hals",
    max_iter: int = 500,
    tol: float = 1e-5,
    l1_W: float = 0.0,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    random_state: int = 0,
) -> Generator[tuple[int, float], None, UnmixResult]:
    """Generator form of :func:`random_nnmf` (yields ``(iteration, objective)``)."""
    check_option_types(iter_random_nnmf, locals())
    _check_nmf_options(solver, max_iter, tol, l1_W, "per_slice")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    if not 1 <= int(k) <= C:
        raise ValueError(f"k must be between 1 and the number of channels ({C}), got {k=}")
    k = int(k)
    axis = _axis(spectral_axis, C)
    ex = _check_exclude(exclude, (ny, nx))
    names = _names(names, k)
    nmf_opts = {"solver": solver, "max_iter": int(max_iter), "tol": float(tol), "l1_W": l1_W}
    parts = []
    for data in _slices(cube, is4d):
        X, good = _flatten(data, ex)
        Xg = X[good]
        if init == "random":
            W0, H0 = random_init(Xg, k, random_state=random_state)
        else:
            W0, H0 = nndsvd_init(Xg, k, variant=init, random_state=random_state)
        fit = yield from iter_nmf(Xg, W0, H0, **nmf_opts)
        r, num, den = _residual(Xg, fit.W, fit.H)
        parts.append(
            {
                "W": _unflatten(fit.W, good, (ny, nx)),
                "H": fit.H,
                "residual": _unflatten(r[:, None], good, (ny, nx))[0],
                "num": num,
                "den": den,
                "n_iter": fit.n_iter,
                "converged": fit.converged,
                "history": fit.history,
            }
        )
    out = _assemble(parts, is4d, is4d)
    params = {"method": "random_nnmf", "k": k, "init": init, "random_state": random_state,
              **nmf_opts, "names": names, "spectral_units": spectral_units}  # fmt: skip
    report = start_report("random_nnmf", params, cube=describe_array(cube))
    report.update(relative_error=out["relative_error"], n_iter=out["n_iter"],
                  converged=out["converged"], H=out["H"])  # fmt: skip
    return UnmixResult(
        out["W"], out["H"], out["residual"], out["relative_error"], out["n_iter"],
        out["converged"], None, params, report, names, axis, spectral_units, out["history"],
    )  # fmt: skip


def random_nnmf(cube: Any, k: int, /, **kwargs: Any) -> UnmixResult:
    """Unseeded NNMF (exploratory first pass): NNDSVD(a) or random init, then HALS / MU.

    Keyword arguments as :func:`iter_random_nnmf`: ``init`` ("nndsvda", "nndsvd",
    "random"), ``solver``, ``max_iter``, ``tol``, ``l1_W``, ``exclude``, ``names``,
    ``spectral_axis``, ``spectral_units``, ``random_state`` (reproducible).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, _ = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = random_nnmf(cube, 5, random_state=0)
    >>> res.W.shape, res.relative_error < 0.2
    ((5, 32, 32), True)
    """
    return run_to_end(iter_random_nnmf(cube, k, **kwargs))


def pca(
    cube: Any,
    k: int,
    /,
    *,
    exclude: np.ndarray | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    random_state: int = 0,
) -> UnmixResult:
    """Principal components (scikit-learn PCA): ``W`` = scores, ``H`` = components.

    Scores and components can be negative; the data mean is part of the model (stored in
    ``report["mean_spectrum"]``), the residual is that of mean + k components.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, _ = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = pca(cube, 3)
    >>> res.H.shape, len(res.report["explained_variance_ratio"])
    ((3, 24), 3)
    """
    check_option_types(pca, locals())
    from sklearn.decomposition import PCA

    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    if not 1 <= int(k) <= C:
        raise ValueError(f"k must be between 1 and the number of channels ({C}), got {k=}")
    k = int(k)
    axis = _axis(spectral_axis, C)
    ex = _check_exclude(exclude, (ny, nx))
    parts, ratios, means = [], [], []
    for data in _slices(cube, is4d):
        X, good = _flatten(data, ex)
        model = PCA(n_components=k, random_state=random_state)
        scores = model.fit_transform(X[good])
        rec = scores @ model.components_ + model.mean_
        r2 = ((X[good] - rec) ** 2).sum(axis=1)
        parts.append(
            {
                "W": _unflatten(scores, good, (ny, nx)),
                "H": model.components_,
                "residual": _unflatten(np.sqrt(r2)[:, None], good, (ny, nx))[0],
                "num": float(r2.sum()),
                "den": float((X[good] ** 2).sum()),
                "n_iter": 0,
                "converged": True,
                "history": [],
            }
        )
        ratios.append(model.explained_variance_ratio_)
        means.append(model.mean_)
    out = _assemble(parts, is4d, is4d)
    names = [f"PC{j + 1}" for j in range(k)]
    params = {
        "method": "pca",
        "k": k,
        "random_state": random_state,
        "spectral_units": spectral_units,
    }
    report = start_report("pca", params, cube=describe_array(cube))
    report.update(
        relative_error=out["relative_error"],
        explained_variance_ratio=ratios[0] if not is4d else ratios,
        mean_spectrum=means[0] if not is4d else means,
        H=out["H"],
    )
    return UnmixResult(
        out["W"], out["H"], out["residual"], out["relative_error"], 0, True, None, params,
        report, names, axis, spectral_units,
    )  # fmt: skip
