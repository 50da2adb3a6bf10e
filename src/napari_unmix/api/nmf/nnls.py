"""Fixed-H NNLS abundance maps: from known spectra (:func:`nnls_unmix`) or from seeds
(:func:`seeded_nnls`: ROI / spectrum / resonance seeds, background ROIs subtracted).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask

from ...core.nnls import nnls_cube, nnls_maps
from ...core.report import describe_array, start_report
from ...core.seeds import SeedOptions, SeedSet
from .common import (
    _axis,
    _check_cube,
    _check_exclude,
    _load_spectra,
    _names,
    _negative_note,
    _slices,
)
from .result import UnmixResult
from .seeded import _Job, seed_options_and_masks

__all__ = ["nnls_unmix", "seeded_nnls"]


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
    report = start_report("nnls_unmix", params, {"cube": describe_array(cube)})
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
    Ws, Rs, num, den, kkt, top = [], [], 0.0, 0.0, 0.0, 0.0
    for data in _slices(cube, is4d):
        W_s, r_s, st = nnls_cube(data, H, exclude=ex)
        if st["n_pixels"] == 0:
            raise ValueError("every pixel is NaN or excluded; nothing to unmix")
        num, den = num + st["sum_r2"], den + st["sum_x2"]
        kkt, top = max(kkt, st["kkt_violation"]), max(top, st["max_abundance"])
        Ws.append(W_s)
        Rs.append(r_s)
        report.update(_negative_note(st["negative_fraction"]))
    rel = float(np.sqrt(num / den)) if den > 0 else 0.0
    report.update(relative_error=rel, kkt_violation=kkt)
    if not top > 0:
        warnings.warn(
            "every abundance is 0 (relative error 1): the data have no positive signal "
            "along these spectra; check the cube's sign / offset and the spectra",
            UserWarning,
            stacklevel=2,
        )
    W = np.stack(Ws) if is4d else Ws[0]
    res = np.stack(Rs) if is4d else Rs[0]
    return UnmixResult(W, H, res, rel, 0, True, None, params, report, names, axis, spectral_units)


def seeded_nnls(
    cube: Any,
    seeds: Any,
    /,
    *,
    reference_slice: int = 0,
    seed_options: SeedOptions | dict[str, Any] | None = None,
    background_masks: Sequence[np.ndarray] = (),
    random_state: int = SeedOptions.random_state,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
) -> UnmixResult:
    """Fixed-H NNLS with the seeds' spectra: what a seeded NNMF starts from, kept fixed.

    The seeds are prepared on one slice (``reference_slice`` of a 4-D cube) as in
    :func:`~napari_unmix.api.nmf.seeded_nnmf`; when they carry background ROIs
    (``background_masks``) their spectrum (scaled per pixel unless
    ``seed_options={"background_subtraction": "constant"}``) is subtracted from every
    slice first, then every pixel is unmixed by exact NNLS with the seeds' H
    (:func:`nnls_unmix`). ``result.seeds`` is the :class:`~napari_unmix.core.seeds.SeedSet`.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = seeded_nnls(cube, truth["spectra"])
    >>> res.W.shape, res.n_iter, res.seeds.k
    ((4, 32, 32), 0, 4)
    """
    seed_opts, masks = seed_options_and_masks(seed_options, background_masks, random_state)
    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    ref = cube[reference_slice] if is4d else cube
    job = _Job(seeds, None, None, _check_exclude(exclude, (ny, nx)), _axis(spectral_axis, C),
               seed_opts, masks, None)  # fmt: skip
    seedset: SeedSet = job.seedset(np.asarray(ref, dtype=np.float64))
    data = seedset.subtract_from_cube(cube) if seedset.subtract_spectrum is not None else cube
    names = _names(names, seedset.k, seedset.names)
    res = nnls_unmix(
        data, seedset.H0, exclude=exclude, names=names, spectral_axis=spectral_axis,
        spectral_units=spectral_units,
    )  # fmt: skip
    res.seeds = seedset
    res.report["seed_options"] = seed_opts.as_dict()
    res.report["seed_provenance"] = seedset.provenance
    return res
