"""Resolution levels (multiscales) and chunk shapes of OME-Zarr stores."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Largest chunk written, in voxels (a Y×X plane above this is split along Y).
MAX_CHUNK_VOXELS = 1 << 25


def plane_chunks(shape: tuple[int, ...], *, max_voxels: int = MAX_CHUNK_VOXELS) -> tuple[int, ...]:
    """Chunks of one Y×X plane (split along Y when a plane exceeds ``max_voxels``).

    Examples
    --------
    >>> plane_chunks((3, 2, 4, 512, 512))
    (1, 1, 1, 512, 512)
    >>> plane_chunks((1, 1, 1, 1000, 1000), max_voxels=250_000)
    (1, 1, 1, 250, 1000)
    """
    y, x = int(shape[-2]), int(shape[-1])
    rows = max(1, min(y, int(max_voxels) // max(x, 1)))
    return (1,) * (len(shape) - 2) + (rows, x)


#: Smallest Y or X side of an added resolution level (``levels="auto"``).
MIN_LEVEL_SIDE = 256


def auto_levels(shape: tuple[int, ...], *, min_side: int = MIN_LEVEL_SIDE) -> int:
    """Number of resolution levels for ``shape`` (halving Y and X down to ``min_side``).

    Examples
    --------
    >>> auto_levels((1, 1, 3, 2048, 1500)), auto_levels((1, 1, 3, 128, 128))
    (3, 1)
    """
    n, side = 1, min(int(shape[-2]), int(shape[-1]))
    while side // 2 >= min_side and n < 10:
        side //= 2
        n += 1
    return n


def _check_levels(levels: int | str, shape: tuple[int, ...]) -> int:
    """The number of levels asked for, "auto" resolved by :func:`auto_levels`."""
    if levels == "auto":
        return auto_levels(shape)
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be an int >= 1 or 'auto', got {levels!r}")
    return int(levels)


def _factor(side: int) -> int:
    # the block size ome_zarr's local_mean uses for side -> side // 2 (3 for a side of 3)
    return int(float(side) / (side // 2))


def _downsample(block: Any) -> Any:
    """One Y x X halving of whole planes: nearest sample for integers, local mean for floats.

    Equal to ``ome_zarr.dask_utils`` (``downscale_nearest`` / ``local_mean``) on arrays
    chunked by whole planes, so a level built here matches one built from the store.
    """
    ny, nx = block.shape[-2] // 2, block.shape[-1] // 2
    if np.dtype(block.dtype).kind != "f":
        return block[..., : 2 * ny : 2, : 2 * nx : 2]
    from skimage.transform import downscale_local_mean

    factors = (1,) * (block.ndim - 2) + (_factor(block.shape[-2]), _factor(block.shape[-1]))
    return downscale_local_mean(block, factors).astype(block.dtype)[..., :ny, :nx]


def _level_shapes(data: Any, n: int) -> list[tuple[tuple[int, ...], Any]]:
    """(shape, dtype) of levels 1 .. n - 1 (fewer when a side would drop below 1)."""
    out, shape = [], tuple(data.shape)
    for _ in range(1, n):
        if min(shape[-2:]) < 2:
            break
        shape = (*shape[:-2], shape[-2] // 2, shape[-1] // 2)
        out.append((shape, data.dtype))
    return out


def _level_arrays(level0: Any, n: int) -> list[Any]:
    """Levels 1 .. n - 1 as dask arrays derived block by block from ``level0``'s chunks.

    ``level0`` must be chunked by whole Y x X planes; each level keeps one chunk per
    plane, so the halving needs no neighbouring chunk.
    """
    out, prev = [], level0
    for shape, _ in _level_shapes(level0, n):
        chunks = (*prev.chunks[:-2], (shape[-2],), (shape[-1],))
        prev = prev.map_blocks(_downsample, chunks=chunks, dtype=prev.dtype)
        out.append(prev.rechunk(plane_chunks(shape)))
    return out


def _create_levels(group: Any, levels: list[Any]) -> list[Any]:
    """Create the arrays "1", "2", ... for ``levels`` (arrays or (shape, dtype)) next to
    level 0 and record them in the group's ``multiscales``; returns the Zarr arrays."""
    ms = group.attrs["multiscales"]
    level0 = group[ms[0]["datasets"][0]["path"]]
    base = next(
        t for t in ms[0]["datasets"][0]["coordinateTransformations"] if t["type"] == "scale"
    )
    arrays, datasets = [], list(ms[0]["datasets"][:1])
    for k, level in enumerate(levels, start=1):
        shape, dtype = (level.shape, level.dtype) if hasattr(level, "shape") else level
        arrays.append(
            group.create_array(
                str(k),
                shape=shape,
                chunks=plane_chunks(shape),
                dtype=dtype,
                compressors=level0.compressors,
                chunk_key_encoding={"name": "v2", "separator": "/"},
                fill_value=0,
            )
        )
        scale = list(base["scale"])
        scale[-2] *= 2**k
        scale[-1] *= 2**k
        datasets.append(
            {"path": str(k), "coordinateTransformations": [{"type": "scale", "scale": scale}]}
        )
    ms[0]["datasets"] = datasets
    group.attrs["multiscales"] = ms
    return arrays


def add_levels(group: Any, levels: int | str, *, scheduler: Any = None) -> int:
    """Add resolution levels to an OME-Zarr image group whose level 0 is written.

    Level k halves Y and X of level k - 1 (local mean for floating-point data, as
    ``ome_zarr.dask_utils.local_mean``; nearest sample for integers and labels, so labels
    stay labels). Level 0 is read once, one whole Y×X plane at a time, and every level is
    derived from those planes in the same pass; the ``multiscales`` datasets and their
    scales are updated. :func:`write_zarr` builds the levels from the data it writes
    instead, without reading the store. Returns the number of levels.

    Examples
    --------
    >>> import tempfile, pathlib, zarr
    >>> from napari_unmix.io.zarr_io import read_zarr, write_zarr
    >>> p = write_zarr(pathlib.Path(tempfile.mkdtemp()) / "a.ome.zarr",
    ...                np.arange(2 * 8 * 6, dtype=np.uint16).reshape(1, 1, 2, 8, 6))
    >>> add_levels(zarr.open_group(str(p), mode="r+"), 3)
    3
    >>> read_zarr(p, level=2)[0].compute()[0, 0, 1]
    array([[48],
           [72]], dtype=uint16)
    """
    import dask.array as da

    level0 = group[group.attrs["multiscales"][0]["datasets"][0]["path"]]
    n = _check_levels(levels, level0.shape)
    src = da.from_zarr(level0).rechunk((1,) * (level0.ndim - 2) + tuple(level0.shape[-2:]))
    downs = _level_arrays(src, n)
    if downs:
        da.store(downs, _create_levels(group, downs), lock=False, scheduler=scheduler)
    return 1 + len(downs)
