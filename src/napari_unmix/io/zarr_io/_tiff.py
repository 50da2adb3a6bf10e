"""Lazy (OME-)TIFF reading through tifffile's Zarr interface."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ...core.axes import CANONICAL, infer_axes, to_tzcyx
from .._ome import image_metadata, ome_pixels, ome_sizes

TIFF_EXTENSIONS = (".ome.tif", ".ome.tiff", ".tif", ".tiff", ".lsm")
_TIFF_AXIS_MAP = {"S": "C", "E": "C", "W": "C"}  # samples / lambda / emission -> channels


class _LazyTiff:
    """Picklable array-like over one TIFF series, read through tifffile's Zarr store.

    The file is open only while a chunk is read (tifffile's file cache of size 0
    reopens and closes it), so nothing stays open between reads, and the object
    pickles by path, which lets ``dask.distributed`` workers rebuild the store.
    """

    def __init__(self, path: str, shape: tuple[int, ...], dtype: Any) -> None:
        self.path, self.shape, self.dtype = str(path), tuple(shape), np.dtype(dtype)
        self.ndim = len(self.shape)
        self._arr: Any = None
        self._lock = threading.Lock()

    def zarr_array(self) -> Any:
        import tifffile
        import zarr

        with self._lock:
            if self._arr is None:
                tf = tifffile.TiffFile(self.path)
                store = tf.series[0].aszarr(level=0, _openfiles=0)
                tf.filehandle.close()  # reopened by the store for each chunk read
                self._arr = zarr.open(store, mode="r")
            return self._arr

    def __getitem__(self, key: Any) -> np.ndarray:
        try:
            return self.zarr_array()[key]
        except Exception as err:  # a truncated / corrupt file: one clear message
            from ..omio_io import UnreadableImageError

            raise UnreadableImageError(
                f"cannot read {Path(self.path).name!r} as an image ({type(err).__name__}: "
                f"{err}); is the file complete and of the type its name says?"
            ) from err

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "shape": self.shape, "dtype": self.dtype.str}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["shape"], state["dtype"])


def read_tiff_lazy(path: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """Open an (OME-)TIFF as a lazy TZCYX dask array through tifffile's Zarr interface.

    Planes (or tiles) are decoded only when a computation needs them; the file is open
    only while a chunk is read. Axes come from the file (OME-XML, ImageJ or shaped
    metadata; unnamed axes by :data:`~napari_unmix.core.axes.DEFAULT_AXES`); sizes, unit
    and channel names from its OME-XML when present (1.0 / "micron" / ``C0, C1, ...``
    otherwise).

    Returns
    -------
    data : dask.array.Array
        TZCYX, chunked as the file stores it (pages or tiles).
    metadata : dict
        As :func:`read_zarr` (``report`` is None).
    """
    import dask.array as da
    from dask.base import tokenize

    from ..safety import check_input

    path = check_input(path)
    try:
        import tifffile

        with tifffile.TiffFile(path) as tf:
            series = tf.series[0]
            file_axes, shape, dtype = series.axes.upper(), series.shape, series.dtype
            pixels, extra = ome_pixels(tf.ome_metadata if tf.is_ome else None)
        lazy = _LazyTiff(str(path), shape, dtype)
        chunks = lazy.zarr_array().chunks
    except Exception as err:  # any library failure becomes one clear message
        raise ValueError(
            f"cannot read {path.name!r} lazily as a TIFF ({type(err).__name__}: {err})"
        ) from err
    stat = path.stat()
    name = "tiff-" + tokenize(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    data = da.from_array(lazy, chunks=chunks, name=name, asarray=False, fancy=False)
    ax = "".join(_TIFF_AXIS_MAP.get(a, a) for a in file_axes)
    # drop length-1 axes TZCYX does not have (e.g. "Q", "I"); unnamed ones: default rule
    keep = [i for i, a in enumerate(ax) if a in CANONICAL or data.shape[i] != 1]
    if len(keep) != len(ax):
        data = data.reshape(tuple(data.shape[i] for i in keep))
        ax = "".join(ax[i] for i in keep)
    if set(ax) - set(CANONICAL) or len(set(ax)) != len(ax):
        ax = infer_axes(data.ndim)
    data = to_tzcyx(data, axes=ax)
    chans = pixels.get("Channel", [])
    chans = chans if isinstance(chans, list) else [chans]
    meta = image_metadata(
        extra,
        data.shape[2],
        unit=pixels.get("PhysicalSizeXUnit") or "micron",
        **ome_sizes(pixels),
        channel_names=[c.get("Name") for c in chans if isinstance(c, dict)],
    )
    return data, {**meta, "report": None}
