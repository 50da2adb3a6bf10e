"""Shared helpers of the hyperspectral unmixing API (cube checks, flattening, spectra, results).

Private to the modules of :mod:`napari_unmix.api.nmf`; the public names (``load_spectra``)
are re-exported by ``api.nmf``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...core.seeds import resample_spectrum
from ...core.validate import check_int, check_not_empty


# ----------------------------------------------------------------------------- helpers
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
    """Per-pixel residual norms, their squared sum and ``||X||²`` from the Gram form.

    ``||x − wH||² = ||x||² − 2 w·(H x) + wᵀ(H Hᵀ)w``: one pixels × k product instead of
    the pixels × channels array ``X − W H``.
    """
    x2 = np.einsum("ij,ij->i", X, X)
    r2 = x2 - 2.0 * np.einsum("ij,ij->i", W, X @ H.T) + np.einsum("ij,ij->i", W @ (H @ H.T), W)
    np.maximum(r2, 0.0, out=r2)
    return np.sqrt(r2), float(r2.sum()), float(x2.sum())


def _part(
    X: np.ndarray, good: np.ndarray, W: np.ndarray, H: np.ndarray, shape: tuple[int, int],
    fit: Any = None,
) -> dict:  # fmt: skip
    """One slice's arrays and numbers from the good pixels' maps ``W`` (m × k) and ``H``;
    ``fit`` (an :class:`~napari_unmix.core.nmf.NMFFit`) adds its iterations, else NNLS."""
    r, num, den = _residual(X[good], W, H)
    return {
        "W": _unflatten(W, good, shape),
        "H": H,
        "residual": _unflatten(r[:, None], good, shape)[0],
        "num": num,
        "den": den,
        "n_iter": 0 if fit is None else fit.n_iter,
        "converged": True if fit is None else fit.converged,
        "history": [] if fit is None else fit.history,
    }


def _fit_part(X: np.ndarray, good: np.ndarray, fit: Any, shape: tuple[int, int]) -> dict:
    """One slice's arrays and numbers from an :class:`~napari_unmix.core.nmf.NMFFit`."""
    return _part(X, good, fit.W, fit.H, shape, fit)


def _negative_note(X: np.ndarray | float) -> dict[str, Any]:
    """Report entry on negative values, from the data or their fraction."""
    if not isinstance(X, float | int):
        X = float((X < 0).mean()) if X.size else 0.0
    frac = float(X)
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
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"component names must be unique; {twice} appear more than once")
    return names


def _check_spectra(H: np.ndarray, what: str = "spectra") -> np.ndarray:
    """k × C spectra that can explain data: rows finite, each with a positive value, distinct."""
    if H.shape[0] == 0:
        raise ValueError(f"no {what} (0 rows); give at least one spectrum")
    bad = np.flatnonzero(~np.isfinite(H).all(axis=1))
    if bad.size:
        raise ValueError(f"{what} row(s) {bad.tolist()} contain NaN or inf")
    dead = np.flatnonzero(~(H > 0).any(axis=1))
    if dead.size:
        raise ValueError(
            f"{what} row(s) {dead.tolist()} have no positive value (all zero or negative): a "
            "non-negative abundance of them cannot explain anything; drop or fix them"
        )
    unit = H / np.linalg.norm(H, axis=1, keepdims=True)
    cos = unit @ unit.T
    j, m = np.nonzero(np.triu(cos, 1) > 1 - 1e-9)
    if j.size:
        raise ValueError(
            f"{what} rows {int(j[0])} and {int(m[0])} are the same spectrum (up to scale): "
            "their abundances cannot be told apart; keep one of them"
        )
    return H


def _check_signal(X: np.ndarray) -> None:
    """Refuse data (pixels × channels, finite) with no positive value: nothing to factorise."""
    if X.size and not (X > 0).any():
        raise ValueError(
            "the data have no positive value (all zero or negative): non-negative factors "
            "cannot fit them; check the offset / background subtraction of the cube"
        )


def _check_k(k: Any, n_channels: int) -> int:
    """A whole number of components between 1 and the number of channels."""
    k = check_int("k", k)
    if not 1 <= k <= n_channels:
        raise ValueError(f"k must be between 1 and the number of channels ({n_channels}), got {k=}")
    return int(k)


def _load_spectra(
    spectra: Any, n_channels: int, spectral_axis: np.ndarray | None
) -> tuple[np.ndarray, list[str] | None]:
    """k × C spectra from an array or a CSV path (resampled onto ``spectral_axis``)."""
    names = None
    if isinstance(spectra, str | os.PathLike):
        from ...io.spectra import read_spectra_csv

        axis, rows, names = read_spectra_csv(spectra)
        if spectral_axis is None:
            if axis.size != n_channels:
                raise ValueError(
                    f"the spectra file has {axis.size} rows but the cube has {n_channels} "
                    "channels; pass spectral_axis to resample it"
                )
            H = rows
        else:
            from ...io.spectra import check_spectra_axis

            check_spectra_axis(axis, spectral_axis, name=repr(Path(spectra).name))
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
    return _check_spectra(H), names


def _axis(spectral_axis: Any, n_channels: int) -> np.ndarray | None:
    if spectral_axis is None:
        return None
    ax = np.asarray(spectral_axis, dtype=np.float64).reshape(-1)
    if ax.size != n_channels:
        raise ValueError(f"spectral_axis has {ax.size} values for {n_channels} channels")
    if not np.isfinite(ax).all():
        raise ValueError("spectral_axis contains NaN or inf; give one finite value per channel")
    step = np.diff(ax)
    if ax.size > 1 and not ((step > 0).all() or (step < 0).all()):
        raise ValueError(
            "spectral_axis must be strictly increasing or decreasing (one value per channel, "
            "no repeats); sort the channels or check the axis"
        )
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


def _result(out: dict, seeds: Any, params: dict, report: dict, names: list, axis: Any,
            units: str | None, lazy: Any = None) -> Any:  # fmt: skip
    """The :class:`~napari_unmix.api.nmf.UnmixResult` of an assembled ``out`` dict."""
    from .result import UnmixResult

    return UnmixResult(
        out["W"], out["H"], out["residual"], out["relative_error"], out["n_iter"],
        out["converged"], seeds, params, report, names, axis, units, out["history"],
        lazy_terms=lazy,
    )  # fmt: skip
