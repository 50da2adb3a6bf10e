"""File-level hyperspectral unmixing: image file in, abundance maps + spectra + report out.

Built on :func:`~napari_unmix.api.nmf.nnls_unmix`, :func:`~napari_unmix.api.nmf.iter_seeded_nnmf`
and :func:`~napari_unmix.api.nmf.iter_random_nnmf`. The input is an image file read with
:func:`~napari_unmix.io.omio_io.read_image` (TZCYX, the spectral channels along C): with
T = Z = 1 it is one cube C × Y × X, with Z > 1 (or T > 1) every slice is unmixed. Outputs
(:meth:`UnmixResult.save`): the maps at ``output_path`` (float32 OME-TIFF, one channel per
component), the spectra at ``<stem>_spectra.csv`` and the report at ``<output>.json``.
All three are checked before any work, and never overwritten unless ``overwrite=True``.

Examples
--------
>>> import pathlib, tempfile
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> from napari_unmix.io import omio_io, spectra
>>> cube, truth = make_bead_cube(shape=(24, 24), n_channels=16)
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> axis = truth["spectral_axis"]
>>> src = omio_io.write_image(d / "beads.ome.tif", cube[None, None],
...                           extra={"spectral_axis": axis.tolist()})
>>> lib = spectra.write_spectra_csv(d / "lib.csv", axis, truth["spectra"], truth["names"])
>>> paths = nnls_unmix_file(src, d / "maps.ome.tif", lib)
>>> sorted(paths), paths["H"].name
(['H', 'W', 'report'], 'maps_spectra.csv')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...core.nmf import NmfOptions, RandomNmfOptions, SeededNmfOptions
from ...core.options import takes_options
from ...core.progress import Progress, run
from .common import load_spectra
from .methods import METHODS, SEEDED
from .nnls import nnls_unmix
from .result import UnmixResult, _csv_path

__all__ = ["nnls_unmix_file", "nnmf_file", "random_nnmf_file", "seeded_nnmf_file"]

ProgressCallback = Callable[[Progress], Any] | None


def _check_outputs(
    input_path, output_path, overwrite: bool, output_format: str = "ome-tiff",
    other_inputs: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """All inputs and outputs (maps, ``<stem>_spectra.csv``, sidecar) before any work."""
    from .._files import check_output

    return check_output(
        output_path, output_format=output_format, overwrite=overwrite, inputs=(input_path,),
        other_inputs=other_inputs, companions=(_csv_path(Path(output_path)),),
    )  # fmt: skip


def _read_cube(
    path, *, lazy: bool = False, spectral_axis: Any = None, spectral_units: str | None = None
) -> tuple[Any, dict[str, Any], str]:
    """Cube (C, Y, X) or slices (S, C, Y, X), metadata, and the slice axis ("Z" or "T").

    ``lazy``: a dask array (OME-Zarr, OME-TIFF read chunk by chunk); a Zarr store is
    always opened lazily (and computed when not ``lazy``). The spectral axis comes from
    :mod:`napari_unmix.io.spectral_axis` (explicit ``spectral_axis`` wins).
    """
    from .._files import open_input

    data, meta = open_input(
        path, lazy=lazy, spectral_axis=spectral_axis, spectral_units=spectral_units
    )
    T, Z = data.shape[:2]
    if T > 1 and Z > 1:
        raise ValueError(
            f"{Path(path).name}: expected one spectral cube per Z or per T, got T={T} and Z={Z} "
            f"({data.shape=}, TZCYX); split the time points first"
        )
    if data.shape[2] < 2:
        raise ValueError(
            f"{Path(path).name}: expected the spectral channels along C, got one channel "
            f"({data.shape=}, TZCYX); a file whose planes are the channels must be saved as CYX"
        )
    if T == Z == 1:
        return data[0, 0], meta, "Z"
    return (data[:, 0], meta, "T") if T > 1 else (data[0], meta, "Z")


def _spectral(meta: dict[str, Any]) -> tuple[np.ndarray | None, str | None]:
    axis = meta.get("spectral_axis")
    return (None if axis is None else np.asarray(axis, dtype=np.float64)), meta.get(
        "spectral_units"
    )


def _save(
    result: UnmixResult, out: Path, meta, slice_axis, inputs: dict, overwrite: bool,
    output_format: str = "ome-tiff",
):  # fmt: skip
    from .result import save_result

    result.report["input"] = {k: str(v) for k, v in inputs.items()}
    result.report["spectral_axis_source"] = meta.get("spectral_axis_source")
    return save_result(
        result, out, overwrite=overwrite, physical_size=meta["physical_size"],
        slice_axis=slice_axis, output_format=output_format,
    )  # fmt: skip


def nnls_unmix_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    spectra_path: str | os.PathLike,
    /,
    *,
    names: Sequence[str] | None = None,
    overwrite: bool = False,
    output_format: str = "ome-tiff",
    scheduler: Any = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
) -> dict[str, Path]:
    """Fixed-H NNLS abundance maps of an image file from known spectra in a CSV file.

    Parameters
    ----------
    input_path : path
        Hyperspectral image (channels along C). A spectral axis stored in the file
        (``write_image(..., extra={"spectral_axis": ...})``) is used to resample the
        spectra; without one the CSV must have one row per channel.
    output_path : path
        Maps OME-TIFF; the spectra go to ``<stem>_spectra.csv``, the report to
        ``<output>.json``.
    spectra_path : path
        Spectra CSV (first column the axis, one column per component).
    names : list of str, optional
        Component names (default: the CSV's column names).
    overwrite : bool
        Replace existing outputs.
    output_format : {"ome-tiff", "ome-zarr"}
        "ome-zarr" (``output_path`` ending in ``.ome.zarr``): the image is read lazily
        (OME-Zarr, OME-TIFF) and the maps are solved and written chunk by chunk, for
        cubes larger than memory (the report's ``relative_error`` is then None).
    scheduler : optional
        Dask scheduler of the lazy path, e.g. a ``dask.distributed.Client``.
    spectral_axis, spectral_units : optional
        The image's spectral axis (values, ``"start:stop:n"`` or a file such as
        ``wavelength.json``) and units when the file does not carry them (they win over
        the file; see :mod:`napari_unmix.io.spectral_axis`).

    Returns
    -------
    dict
        ``{"W": path, "H": path, "report": path}``.
    """
    from .._files import resolve_output_format, use_scheduler

    fmt = resolve_output_format(output_format)
    if not Path(spectra_path).exists():
        raise FileNotFoundError(f"no such spectra file: {str(spectra_path)!r}")
    out = _check_outputs(input_path, output_path, overwrite, fmt, {"spectra file": spectra_path})
    with use_scheduler(scheduler):
        cube, meta, slice_axis = _read_cube(
            input_path, lazy=fmt == "ome-zarr", spectral_axis=spectral_axis,
            spectral_units=spectral_units,
        )  # fmt: skip
        axis, units = _spectral(meta)
        res = nnls_unmix(cube, spectra_path, names=names, spectral_axis=axis, spectral_units=units)
        inputs = {"image": input_path, "spectra": spectra_path}
        return _save(res, out, meta, slice_axis, inputs, overwrite, fmt)


def _lock_flags(lock: Sequence[str | int] | None, names: list[str]) -> list[bool] | None:
    if not lock:
        return None
    flags = [False] * len(names)
    for item in lock:
        key = str(item)
        if key in names:
            flags[names.index(key)] = True
        elif key.lstrip("-").isdigit() and 0 <= int(key) < len(names):
            flags[int(key)] = True
        else:
            raise ValueError(
                f"cannot lock {item!r}: the seeds are {names} (names or 0-based index)"
            )
    return flags


def _nnmf_to_file(method: str, values: dict[str, Any]) -> dict[str, Path]:
    """One of :data:`~napari_unmix.api.nmf.METHODS` from a file to files: ``values`` are the
    file-level function's arguments (seeds from the CSV ``seeds_path`` or the ROI-manager
    ``preset`` for the seeded methods, else ``k``; None = the option's default); ``progress``
    receives the Progress events."""
    from .._files import resolve_output_format

    given = {name: value for name, value in values.items() if value is not None}
    options = METHODS.resolve(method).options.pick(given).as_dict()
    seeds_path, lock, overwrite = values.get("seeds_path"), values.get("lock"), values["overwrite"]
    preset = values.get("preset")
    input_path = values["input_path"]
    fmt = resolve_output_format(values["output_format"])
    others = {}
    if method in SEEDED:
        if (seeds_path is None) == (preset is None):
            raise ValueError("give either a seeds CSV or a preset (preset=), not both or neither")
        kind, source = ("seeds", seeds_path) if preset is None else ("preset", preset)
        if not Path(source).exists():
            raise FileNotFoundError(f"no such {kind} file: {str(source)!r}")
        others = {f"{kind} file": source}
    out = _check_outputs(
        input_path, values["output_path"], overwrite, fmt, other_inputs=others or None
    )
    cube, meta, slice_axis = _read_cube(
        input_path, spectral_axis=values["spectral_axis"], spectral_units=values["spectral_units"]
    )
    axis, units = _spectral(meta)
    options.update(spectral_axis=axis, spectral_units=units)
    inputs = {"image": input_path}
    arg = values.get("k")
    if method in SEEDED and preset is not None:
        arg = _preset_seeds(cube, preset, lock, options)
        inputs["preset"] = preset
    elif method in SEEDED:
        arg, names = load_spectra(seeds_path, n_channels=cube.shape[-3], spectral_axis=axis)
        options.update(lock_H=_lock_flags(lock, names), names=names or None)
        inputs["seeds"] = seeds_path
    res = run(_iter(method, cube, arg, options), values["progress"])
    if method in SEEDED:
        res.report["locked"] = [str(v) for v in lock or []]
    return _save(res, out, meta, slice_axis, inputs, overwrite, fmt)


def _preset_seeds(cube: Any, preset: Any, lock: Any, options: dict[str, Any]) -> list:
    """The components of a ROI-manager preset on ``cube``; puts the preset's background
    masks, seed options and spectral axis into ``options`` (as the dock's *Run* does)."""
    from ..rois import preset_seeds

    if lock:
        raise ValueError("lock applies to a seeds CSV; a preset's rows carry their own locks")
    seeds = preset_seeds(
        preset, cube, spectral_axis=options["spectral_axis"],
        spectral_units=options["spectral_units"], reference_slice=options["reference_slice"],
        random_state=options["random_state"],
    )  # fmt: skip
    options.update(
        spectral_axis=seeds.spectral_axis, spectral_units=seeds.spectral_units,
        seed_options=seeds.seed_options, background_masks=seeds.background_masks,
    )  # fmt: skip
    return seeds.components


def _iter(method: str, cube: Any, seeds_or_k: Any, options: dict[str, Any]):
    return METHODS.resolve(method).function(cube, seeds_or_k, options)


@takes_options(SeededNmfOptions, check_types=True)
def seeded_nnmf_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    seeds_path: str | os.PathLike | None = None,
    /,
    *,
    preset: str | os.PathLike | None = None,
    lock: Sequence[str | int] | None = None,
    overwrite: bool = False,
    progress: ProgressCallback = None,
    output_format: str = "ome-tiff",
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    options: SeededNmfOptions,
) -> dict[str, Path]:
    """Seeded NNMF of an image file, started from the H seeds (spectra) in a CSV file
    or from a ROI-manager preset (``preset=``; exactly one of the two).

    ``lock`` names the seeds (CSV column names or 0-based indices) whose spectra stay
    fixed; the others are refined. A ``preset`` (saved by the ROI manager, made on an image
    of the same shape) gives the seeds the dock's *Run* uses: its drawn ROIs, spectrum /
    Gaussian / resonance / W-map rows, background ROIs and seed settings (see
    :func:`~napari_unmix.api.rois.preset_seeds`); the fit options are these keywords.
    The other keywords are those of
    :func:`~napari_unmix.api.nmf.seeded_nnmf`; ``progress(event)`` receives a
    :class:`~napari_unmix.core.progress.Progress` event every iteration. Outputs as
    :func:`nnls_unmix_file` (``output_format="ome-zarr"`` writes the maps as OME-Zarr with
    resolution levels); ``spectral_axis`` / ``spectral_units`` as there.
    """
    return _nnmf_to_file("seeded_nnmf", {**locals(), **options.as_dict()})


@takes_options(RandomNmfOptions, check_types=True)
def random_nnmf_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    /,
    *,
    k: int,
    overwrite: bool = False,
    output_format: str = "ome-tiff",
    progress: ProgressCallback = None,
    spectral_units: str | None = None,
    spectral_axis: Any = None,
    options: RandomNmfOptions,
) -> dict[str, Path]:
    """Unseeded NNMF of an image file with ``k`` components (see
    :func:`~napari_unmix.api.nmf.random_nnmf`); outputs and the other keywords as
    :func:`seeded_nnmf_file`."""
    return _nnmf_to_file("random_nnmf", {**locals(), **options.as_dict()})


#: keywords of :func:`nnmf_file` that only a seeded / only an unseeded NNMF takes
_SEEDED_ONLY = ("lock", *(n for n in SeededNmfOptions.defaults() if n not in NmfOptions.defaults()))
_RANDOM_ONLY = ("init",)


def nnmf_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    /,
    *,
    seeds: str | os.PathLike | None = None,
    k: int | None = None,
    preset: str | os.PathLike | None = None,
    lock: Sequence[str | int] | None = None,
    init: str | None = None,
    slice_mode: str | None = None,
    reference_slice: int | None = None,
    max_pixels: int | None = None,
    anchor: float | None = None,
    solver: str = NmfOptions.solver,
    max_iter: int = NmfOptions.max_iter,
    tol: float = NmfOptions.tol,
    l1_W: float = NmfOptions.l1_W,
    spectral_units: str | None = None,
    random_state: int = NmfOptions.random_state,
    progress: ProgressCallback = None,
    overwrite: bool = False,
    spectral_axis: Any = None,
    output_format: str = "ome-tiff",
) -> dict[str, Path]:
    """Seeded NNMF from a seeds CSV (``seeds=``) or a ROI-manager preset (``preset=``),
    or unseeded NNMF with ``k`` components; exactly one of the three. The keywords are
    those of :func:`seeded_nnmf_file` / :func:`random_nnmf_file`; ``init`` applies to
    unseeded NNMF only, ``lock``, ``slice_mode``, ``reference_slice``, ``max_pixels`` and
    ``anchor`` (None: their defaults) to seeded NNMF only."""
    given = {n: v for n, v in locals().items() if v is not None}
    n_sources = len({"seeds", "preset", "k"} & set(given))
    if n_sources != 1:
        raise ValueError(
            "give either seeds (a spectra CSV of H seeds), preset (a ROI-manager preset) or k "
            f"(number of components), not {('neither', '', 'both', 'all three')[n_sources]}"
        )
    method = "random_nnmf" if k is not None else "seeded_nnmf"
    for key in _SEEDED_ONLY if k is not None else _RANDOM_ONLY:
        if key in given:
            if key == "init":
                raise ValueError("init applies to unseeded NNMF (k) only; seeds set the start")
            raise ValueError(f"{key} applies to seeded NNMF only; give seeds or drop {key}")
    return _nnmf_to_file(method, {**locals(), "seeds_path": seeds})
