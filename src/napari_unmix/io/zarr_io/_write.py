"""Chunk-wise, atomic OME-Zarr writing (NGFF 0.4, Zarr v2)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from dask import is_dask_collection

from ...core.axes import validate_tzcyx
from ...core.validate import check_int
from .._ome import ANNOTATION_KEY
from ._levels import (
    _check_levels,
    _create_levels,
    _downsample,
    _level_arrays,
    _level_shapes,
    add_levels,
    plane_chunks,
)
from ._read import is_zarr_path

_NGFF_VERSION = "0.4"
# NGFF wants UDUNITS names; OMIO/OME-XML use symbols.
_TO_NGFF_UNIT = {"micron": "micrometer", "µm": "micrometer", "um": "micrometer", "nm": "nanometer"}


def _blosc(cname: str) -> Callable[[int], Any]:
    def make(level: int) -> Any:
        import numcodecs

        return numcodecs.Blosc(cname=cname, clevel=level, shuffle=numcodecs.Blosc.BITSHUFFLE)

    return make


#: Chunk compressors for :func:`write_zarr`, name -> (factory(level), description).
COMPRESSIONS: dict[str | None, tuple[Callable[[int], Any] | None, str]] = {
    "zstd": (_blosc("zstd"), "Blosc zstd with bit shuffle: small stores, fast (default)"),
    "lz4": (_blosc("lz4"), "Blosc lz4 with bit shuffle: the fastest compression"),
    None: (None, "no compression: raw chunks, the I/O floor"),
}


def check_zarr_output_path(
    path: str | os.PathLike, *, overwrite: bool = False, inputs: tuple = ()
) -> Path:
    """Validate an OME-Zarr output path before any work is done.

    Refuses a path not ending in ``.zarr``, an existing store (unless ``overwrite``),
    an existing file, one of ``inputs``, and a missing parent folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_zarr_output_path(pathlib.Path(tempfile.mkdtemp()) / "out.ome.zarr").name
    'out.ome.zarr'
    """
    from ..safety import plan_outputs

    path = Path(path)
    if not is_zarr_path(path):
        raise ValueError(f"an OME-Zarr output must end in .ome.zarr or .zarr, got {path.name!r}")
    return plan_outputs([path], inputs=inputs, overwrite=overwrite, directories=[path])[0]


def _ngff_attrs(
    shape: tuple[int, ...],
    *,
    physical_size: tuple[float, float, float],
    unit: str,
    time_increment: float,
    channel_names: list[str],
) -> dict[str, Any]:
    space_unit = _TO_NGFF_UNIT.get(str(unit), str(unit))
    pz, py, px = (float(v) for v in physical_size)
    axes = [
        {"name": "t", "type": "time", "unit": "second"},
        {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": space_unit},
        {"name": "y", "type": "space", "unit": space_unit},
        {"name": "x", "type": "space", "unit": space_unit},
    ]
    colors = ["00FF00", "FF00FF", "00FFFF", "FFFF00", "FF0000", "0000FF", "FFFFFF"]
    return {
        "multiscales": [
            {
                "version": _NGFF_VERSION,
                "name": "image",
                "axes": axes,
                "datasets": [
                    {
                        "path": "0",
                        "coordinateTransformations": [
                            {"type": "scale", "scale": [float(time_increment), 1.0, pz, py, px]}
                        ],
                    }
                ],
            }
        ],
        "omero": {
            "version": _NGFF_VERSION,
            "channels": [
                {"label": str(n), "color": colors[i % len(colors)], "active": True}
                for i, n in enumerate(channel_names)
            ],
        },
    }


def write_zarr(
    path: str | os.PathLike,
    data: Any,
    *,
    physical_size: tuple[float, float, float] = (1.0, 1.0, 1.0),
    unit: str = "micron",
    time_increment: float = 1.0,
    channel_names: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    report: dict[str, Any] | None = None,
    overwrite: bool = False,
    compression: str | None = "zstd",
    compression_level: int = 1,
    chunks: tuple[int, int, int, int, int] | None = None,
    scheduler: Any = None,
    levels: int | str = 1,
) -> Path:
    """Write a TZCYX array to an OME-Zarr store chunk by chunk, atomically.

    Parameters
    ----------
    path : str or PathLike
        The store to create (``*.ome.zarr`` or ``*.zarr``).
    data : ndarray or dask array, shape (T, Z, C, Y, X)
        A lazy dask array is computed chunk by chunk while it is written: memory stays
        bounded by a few chunks per worker thread.
    physical_size : (z, y, x)
        Voxel size in ``unit``.
    unit : str
        Length unit ("micron" is written as NGFF "micrometer").
    time_increment : float
        Seconds between time points (the t scale).
    channel_names : list of str, optional
        Stored as OMERO channel labels and in ``attrs["napari_unmix"]``.
    extra : dict, optional
        JSON-serialisable values stored in ``attrs["napari_unmix"]`` (e.g. the
        ``spectral_axis``) and returned by :func:`read_zarr` as ``metadata["extra"]``.
    report : dict, optional
        Provenance report stored in ``attrs["napari_unmix"]["report"]``.
    overwrite : bool
        Replace an existing store (only after the new one is complete).
    compression : {"zstd", "lz4", None}
        Chunk compressor, see :data:`COMPRESSIONS`.
    compression_level : int
        Compressor level 1–9 (ignored without compression). Default 1: fast, and higher
        levels gain little on noisy microscopy data.
    chunks : tuple of 5 int, optional
        TZCYX chunk shape; default one Y×X plane (:func:`plane_chunks`).
    scheduler : optional
        Dask scheduler for the write (e.g. a ``distributed.Client``; default the
        active one). The output folder must be reachable from every worker.
    levels : int or "auto"
        Resolution levels (1: full resolution only). Each further level halves Y and X
        of the one before (nearest sample for integers, local mean for floats, as
        :func:`add_levels`) and is computed from the level-0 planes while they are
        written, in the same pass (nothing is read back), so napari shows big results
        quickly; "auto" adds levels while the smaller side
        stays at least :data:`MIN_LEVEL_SIDE` pixels.

    Returns
    -------
    Path
        The written store (NGFF 0.4, Zarr v2, axes ``tczyx``).
    """
    import dask.array as da
    import zarr

    from ...core.report import to_jsonable

    path = check_zarr_output_path(path, overwrite=overwrite)
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    validate_tzcyx(data)
    if data.dtype.kind not in "uifb":
        raise ValueError(f"expected numeric image data, got {data.dtype=}")
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {list(COMPRESSIONS)}, got {compression!r}")
    check_int("compression_level", compression_level, minimum=0, maximum=9)
    n_c = data.shape[2]
    if channel_names is None:
        channel_names = [f"C{i}" for i in range(n_c)]
    if len(channel_names) != n_c:
        raise ValueError(f"{len(channel_names)} channel names for {n_c} channels ({data.shape=})")
    if len(tuple(physical_size)) != 3:
        raise ValueError(f"physical_size must be (z, y, x), got {physical_size!r}")
    tz_chunks = plane_chunks(data.shape) if chunks is None else tuple(int(c) for c in chunks)
    if len(tz_chunks) != 5 or min(tz_chunks) < 1:
        raise ValueError(f"chunks must be 5 positive ints (TZCYX), got {chunks!r}")
    t, z, c, y, x = tz_chunks
    n_levels = _check_levels(levels, data.shape)
    store_chunks = (t, c, z, y, x)
    payload = dict(to_jsonable(extra or {}))
    payload["channel_names"] = [str(n) for n in channel_names]
    if report is not None:
        payload["report"] = to_jsonable(report)
    attrs = _ngff_attrs(
        data.shape,
        physical_size=tuple(physical_size),
        unit=unit,
        time_increment=time_increment,
        channel_names=payload["channel_names"],
    )
    attrs[ANNOTATION_KEY] = payload
    json.dumps(attrs)  # fail before writing anything if not serialisable

    from ..safety import atomic_output

    factory = COMPRESSIONS[compression][0]
    with atomic_output(path, overwrite=overwrite, directory=True) as tmp:
        group = zarr.open_group(str(tmp), mode="w", zarr_format=2)
        group.attrs.update(attrs)
        tczyx = data.transpose(0, 2, 1, 3, 4)
        arr = group.create_array(
            "0",
            shape=tczyx.shape,
            chunks=store_chunks,
            dtype=tczyx.dtype,
            compressors=None if factory is None else factory(int(compression_level)),
            chunk_key_encoding={"name": "v2", "separator": "/"},
            fill_value=0,
        )
        whole_planes = (y, x) == tuple(tczyx.shape[-2:])
        if not whole_planes:  # chunks split a plane: levels from the stored level 0
            if is_dask_collection(tczyx):
                da.store(tczyx.rechunk(store_chunks), arr, lock=False, scheduler=scheduler)
            else:
                for i in range(tczyx.shape[0]):
                    arr[i] = tczyx[i]
            add_levels(group, n_levels, scheduler=scheduler)
        elif is_dask_collection(tczyx):
            # every level from the same level-0 chunks, in one pass: nothing is re-read
            src = tczyx.rechunk(store_chunks)
            downs = _level_arrays(src, n_levels)
            targets = [arr, *_create_levels(group, downs)]
            da.store([src, *downs], targets, lock=False, scheduler=scheduler)
        else:
            targets = [arr, *_create_levels(group, _level_shapes(tczyx, n_levels))]
            for i in range(tczyx.shape[0]):  # one time point at a time: bounded temporaries
                level = tczyx[i]
                for target in targets:
                    if target is not arr:
                        level = _downsample(level)
                    target[i] = level
    return path
