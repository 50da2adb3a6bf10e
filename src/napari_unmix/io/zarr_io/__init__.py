"""Large stacks: lazy reading (OME-Zarr, OME-TIFF) and chunk-wise OME-Zarr writing.

Nothing here loads a whole stack. Readers return TZCYX *dask* arrays whose chunks are
single Y×X planes (as stored), with the same metadata dict as
:func:`~napari_unmix.io.omio_io.read_image`:

* :func:`read_zarr` — an OME-Zarr image (NGFF 0.4 on Zarr v2, or 0.5 on Zarr v3; the
  full-resolution level), or a plain Zarr array with ``axes=...``.
* :func:`read_tiff_lazy` — an (OME-)TIFF through tifffile's Zarr interface
  (``tifffile.imread(path, aszarr=True)``): planes are decoded only when asked for.
* :func:`read_lazy` — one of the two by the path's form; other formats (CZI) are read
  whole through OMIO and wrapped.

:func:`write_zarr` writes a numpy or dask TZCYX array to an OME-Zarr store (NGFF 0.4,
axes ``tczyx``, one chunk per Y×X plane) chunk by chunk, so a lazy result larger than
memory streams from the input store to the output store. The write is atomic: the store
is built under a hidden temporary name next to the destination and renamed when
complete. The provenance report goes into the store's attributes
(``attrs["napari_unmix"]["report"]``); file-level APIs also write it as the sibling
``<store>.json``.

Computations run on dask's current scheduler: the threaded one by default, or a
``dask.distributed`` cluster when a ``Client`` is active or passed as ``scheduler=``.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> data = np.arange(2 * 3 * 2 * 4 * 5, dtype=np.uint16).reshape(2, 3, 2, 4, 5)
>>> out = write_zarr(d / "cells.ome.zarr", data, physical_size=(2.0, 0.5, 0.5),
...                  channel_names=["GFP", "RFP"])
>>> lazy, meta = read_zarr(out)
>>> type(lazy).__name__, lazy.shape, lazy.chunksize
('Array', (2, 3, 2, 4, 5), (1, 1, 1, 4, 5))
>>> bool((lazy.compute() == data).all()), meta["channel_names"], meta["physical_size"]
(True, ['GFP', 'RFP'], (2.0, 0.5, 0.5))
"""

from __future__ import annotations

from ._levels import MAX_CHUNK_VOXELS, MIN_LEVEL_SIDE, add_levels, auto_levels, plane_chunks
from ._read import ZARR_EXTENSIONS, is_zarr_path, read_lazy, read_zarr, read_zarr_levels
from ._tiff import read_tiff_lazy
from ._write import COMPRESSIONS, check_zarr_output_path, write_zarr

__all__ = [
    "COMPRESSIONS",
    "MAX_CHUNK_VOXELS",
    "MIN_LEVEL_SIDE",
    "ZARR_EXTENSIONS",
    "add_levels",
    "auto_levels",
    "check_zarr_output_path",
    "is_zarr_path",
    "plane_chunks",
    "read_lazy",
    "read_tiff_lazy",
    "read_zarr",
    "read_zarr_levels",
    "write_zarr",
]
