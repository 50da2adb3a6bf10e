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

import contextlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.axes import CANONICAL, infer_axes, to_tzcyx, validate_tzcyx
from ..core.validate import check_int

__all__ = [
    "COMPRESSIONS",
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

#: Folder endings opened as Zarr stores.
ZARR_EXTENSIONS = (".ome.zarr", ".zarr")
_TIFF_EXTENSIONS = (".ome.tif", ".ome.tiff", ".tif", ".tiff", ".lsm")
_KEY = "napari_unmix"
_NGFF_VERSION = "0.4"
#: Largest chunk written, in voxels (a Y×X plane above this is split along Y).
MAX_CHUNK_VOXELS = 1 << 25
# NGFF wants UDUNITS names; OMIO/OME-XML use symbols. Map the common ones both ways.
_TO_NGFF_UNIT = {"micron": "micrometer", "µm": "micrometer", "um": "micrometer", "nm": "nanometer"}
_FROM_NGFF_UNIT = {"micrometer": "micron"}


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


def is_zarr_path(path: str | os.PathLike) -> bool:
    """True for a path ending in ``.zarr`` / ``.ome.zarr`` (the folder need not exist).

    Examples
    --------
    >>> is_zarr_path("run1/cells.ome.zarr"), is_zarr_path("cells.ome.tif")
    (True, False)
    """
    return str(path).rstrip("/\\").lower().endswith(ZARR_EXTENSIONS)


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "dask"


# ----------------------------------------------------------------------------- reading
def _multiscales(attrs: dict[str, Any]) -> tuple[list[dict] | None, dict[str, Any]]:
    """(multiscales, the dict holding it): NGFF 0.5 nests under "ome", older do not."""
    ome = attrs.get("ome")
    if isinstance(ome, dict) and "multiscales" in ome:
        return ome["multiscales"], ome
    return attrs.get("multiscales"), attrs


def _axis_names(axes: list[Any]) -> str:
    names = "".join(str(a["name"] if isinstance(a, dict) else a).upper() for a in axes)
    unknown = sorted(set(names) - set(CANONICAL))
    if unknown or len(names) != len(axes):
        raise ValueError(
            f"the store's axes {axes} are not a subset of t, c, z, y, x; "
            "napari-unmix reads only such images"
        )
    return names


def _scales(ms: dict[str, Any], dataset: dict[str, Any], ndim: int) -> list[float]:
    scale = np.ones(ndim)
    for transforms in (
        dataset.get("coordinateTransformations"),
        ms.get("coordinateTransformations"),
    ):
        for tr in transforms or []:
            if tr.get("type") == "scale" and len(tr.get("scale", [])) == ndim:
                scale = scale * np.asarray(tr["scale"], dtype=float)
    return scale.tolist()


def _open_group_or_array(path: Path) -> Any:
    import zarr

    try:
        return zarr.open(str(path), mode="r")
    except Exception as err:  # any library failure becomes one clear message
        raise ValueError(
            f"cannot open {str(path)!r} as a Zarr store ({type(err).__name__}: {err})"
        ) from err


def read_zarr(
    path: str | os.PathLike, *, level: int = 0, axes: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """Open an OME-Zarr image (or a plain Zarr array) as a lazy TZCYX dask array.

    Parameters
    ----------
    path : str or PathLike
        The store folder (``*.ome.zarr`` / ``*.zarr``): an NGFF image group (versions 0.4
        and 0.5 and older), or a single Zarr array.
    level : int
        Resolution level of a multiscale image (0: full resolution).
    axes : str, optional
        Axis letters of a plain Zarr array (default by its number of dimensions, see
        :data:`~napari_unmix.core.axes.DEFAULT_AXES`); NGFF images name their axes.

    Returns
    -------
    data : dask.array.Array
        TZCYX view of the stored array, chunked as stored; nothing is read yet.
    metadata : dict
        As :func:`~napari_unmix.io.omio_io.read_image`: ``axes``, ``physical_size``
        (z, y, x), ``unit``, ``time_increment``, ``channel_names``, ``extra``
        (``attrs["napari_unmix"]`` without the report), ``spectral_axis`` /
        ``spectral_units`` when stored, plus ``report`` (the stored provenance report or
        None) and ``zarr_attrs`` (all attributes).
    """
    import dask.array as da
    import zarr

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such Zarr store: {str(path)!r}")
    if not path.is_dir():
        raise ValueError(f"{str(path)!r} is a file; a Zarr store is a folder (*.zarr)")
    node = _open_group_or_array(path)
    attrs = dict(node.attrs)
    phys, unit, dt = [1.0, 1.0, 1.0], "micron", 1.0
    names_from_omero = None
    if isinstance(node, zarr.Array):
        arr = node
        ax = axes
    else:
        ms_list, holder = _multiscales(attrs)
        if not ms_list:
            kind = (
                "an HCS plate"
                if ("plate" in attrs or "plate" in attrs.get("ome", {}))
                else "a group"
            )
            raise ValueError(
                f"{str(path)!r} is {kind} without OME-Zarr 'multiscales' image metadata; "
                "open the image inside it (e.g. .../A/1/0), or give a Zarr array"
            )
        ms = ms_list[0]
        datasets = ms.get("datasets") or []
        if not 0 <= int(level) < len(datasets):
            raise ValueError(
                f"level={level} is out of range: the image has {len(datasets)} resolution level(s)"
            )
        arr = node[datasets[int(level)]["path"]]
        raw_axes = ms.get("axes") or list("tczyx"[-arr.ndim :])
        ax = _axis_names(raw_axes)
        if axes is not None and str(axes).upper() != ax:
            raise ValueError(f"the store names its axes {ax!r}; do not pass axes={axes!r}")
        scale = _scales(ms, datasets[int(level)], arr.ndim)
        for letter, i in (("Z", 0), ("Y", 1), ("X", 2)):
            if letter in ax:
                phys[i] = float(scale[ax.index(letter)])
        if "T" in ax:
            dt = float(scale[ax.index("T")])
        units = {str(a["name"]).upper(): a.get("unit") for a in raw_axes if isinstance(a, dict)}
        u = units.get("X") or units.get("Y")
        if u:
            unit = _FROM_NGFF_UNIT.get(str(u), str(u))
        chans = (holder.get("omero") or attrs.get("omero") or {}).get("channels")
        if isinstance(chans, list):
            names_from_omero = [str(c.get("label", f"C{i}")) for i, c in enumerate(chans)]
    data = to_tzcyx(da.from_zarr(arr), axes=ax)
    extra = dict(attrs.get(_KEY) or {})
    report = extra.pop("report", None)
    n_c = data.shape[2]
    names = extra.get("channel_names") or names_from_omero
    if not isinstance(names, list) or len(names) != n_c:
        names = [f"C{i}" for i in range(n_c)]
    meta: dict[str, Any] = {
        "axes": "TZCYX",
        "physical_size": tuple(phys),
        "unit": unit,
        "time_increment": dt,
        "channel_names": [str(c) for c in names],
        "extra": extra,
        "report": report,
        "zarr_attrs": attrs,
    }
    for key in ("spectral_axis", "spectral_units"):
        if key in extra:
            meta[key] = extra[key]
    if "spectral_axis" in extra:
        meta["spectral_axis_source"] = "OME-Zarr attributes"
    return data, meta


_TIFF_AXIS_MAP = {"S": "C", "E": "C", "W": "C"}  # samples / lambda / emission -> channels


def _ome_pixels(ome_xml: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Pixels attributes, napari-unmix annotation) from OME-XML, or empty dicts."""
    if not ome_xml:
        return {}, {}
    import tifffile

    try:
        tree = tifffile.xml2dict(ome_xml)
    except Exception:  # malformed XML: no metadata, but the pixels are still readable
        return {}, {}
    ome = tree.get("OME", {})
    image = ome.get("Image", {})
    image = image[0] if isinstance(image, list) else image
    pixels = image.get("Pixels", {}) if isinstance(image, dict) else {}
    extra: dict[str, Any] = {}
    maps = (ome.get("StructuredAnnotations") or {}).get("MapAnnotation", [])
    for m in maps if isinstance(maps, list) else [maps]:
        entries = ((m or {}).get("Value") or {}).get("M", [])
        for e in entries if isinstance(entries, list) else [entries]:
            if isinstance(e, dict) and e.get("K") == _KEY:
                with contextlib.suppress(ValueError, TypeError):
                    extra = json.loads(e.get("value", ""))
    return pixels, extra


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
            from .omio_io import UnreadableImageError

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

    from .safety import check_input

    path = check_input(path)
    try:
        import tifffile

        with tifffile.TiffFile(path) as tf:
            series = tf.series[0]
            file_axes, shape, dtype = series.axes.upper(), series.shape, series.dtype
            pixels, extra = _ome_pixels(tf.ome_metadata if tf.is_ome else None)
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
    n_c = data.shape[2]
    names = extra.get("channel_names")
    if not isinstance(names, list) or len(names) != n_c:
        chans = pixels.get("Channel", [])
        chans = chans if isinstance(chans, list) else [chans]
        names = [c.get("Name") for c in chans if isinstance(c, dict)]
        if len(names) != n_c or not all(names):
            names = [f"C{i}" for i in range(n_c)]
    meta: dict[str, Any] = {
        "axes": "TZCYX",
        "physical_size": tuple(
            float(pixels.get(k) or 1.0) for k in ("PhysicalSizeZ", "PhysicalSizeY", "PhysicalSizeX")
        ),
        "unit": str(pixels.get("PhysicalSizeXUnit") or "micron"),
        "time_increment": float(pixels.get("TimeIncrement") or 1.0),
        "channel_names": [str(c) for c in names],
        "extra": extra,
        "report": None,
    }
    for key in ("spectral_axis", "spectral_units"):
        if key in extra:
            meta[key] = extra[key]
    if "spectral_axis" in extra:
        meta["spectral_axis_source"] = "OME metadata"
    return data, meta


def read_lazy(
    path: str | os.PathLike, *, spectral_axis: Any = None, spectral_units: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """Open any supported image lazily: Zarr, TIFF and ENVI as dask arrays, others via OMIO.

    Zarr stores go through :func:`read_zarr`, TIFF/LSM through :func:`read_tiff_lazy`,
    ENVI headers through :func:`~napari_unmix.io.envi.read_envi`; the spectral axis is
    resolved as in :func:`~napari_unmix.io.omio_io.read_image` (``spectral_axis`` /
    ``spectral_units`` win). Other formats (CZI) are read whole with
    :func:`~napari_unmix.io.omio_io.read_image` and wrapped in a dask array chunked by
    Y×X planes, so callers see one type.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_zarr(pathlib.Path(tempfile.mkdtemp()) / "a.zarr", np.ones((1, 1, 2, 3, 3)))
    >>> read_lazy(p)[0].shape
    (1, 1, 2, 3, 3)
    """
    from .envi import is_envi_path
    from .spectral_axis import attach_spectral_axis

    p = Path(path)
    if is_zarr_path(p) or (
        p.is_dir() and any((p / n).exists() for n in (".zattrs", "zarr.json", ".zarray"))
    ):
        data, meta = read_zarr(p)
    elif str(p).lower().endswith(_TIFF_EXTENSIONS):
        data, meta = read_tiff_lazy(p)
    elif is_envi_path(p):
        from .envi import read_envi

        data, meta = read_envi(p)
    else:
        import dask.array as da

        from .omio_io import read_image

        arr, meta = read_image(p)
        data, meta = da.from_array(arr, chunks=(1, 1, 1, *arr.shape[3:])), {**meta, "report": None}
    axis = {"spectral_axis": spectral_axis, "spectral_units": spectral_units}
    return data, attach_spectral_axis(p, meta, data.shape[2], **axis)


# ----------------------------------------------------------------------------- writing
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
    from .safety import plan_outputs

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

    from ..core.report import to_jsonable

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
    attrs[_KEY] = payload
    json.dumps(attrs)  # fail before writing anything if not serialisable

    from .safety import atomic_output

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
            if _is_dask(tczyx):
                da.store(tczyx.rechunk(store_chunks), arr, lock=False, scheduler=scheduler)
            else:
                for i in range(tczyx.shape[0]):
                    arr[i] = tczyx[i]
            add_levels(group, n_levels, scheduler=scheduler)
        elif _is_dask(tczyx):
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


# ----------------------------------------------------------------------- resolution levels
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


def read_zarr_levels(path: str | os.PathLike) -> tuple[list[Any], dict[str, Any]]:
    """All resolution levels of an OME-Zarr image as lazy TZCYX dask arrays, largest first.

    The metadata is that of :func:`read_zarr` (level 0); ``meta["levels"]`` is the count.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_zarr(pathlib.Path(tempfile.mkdtemp()) / "a.ome.zarr",
    ...                np.ones((1, 1, 2, 64, 48), np.float32), levels=3)
    >>> [lv.shape[-2:] for lv in read_zarr_levels(p)[0]]
    [(64, 48), (32, 24), (16, 12)]
    """
    data, meta = read_zarr(path)
    attrs = meta.get("zarr_attrs") or {}
    ms_list, _ = _multiscales(attrs)
    n = len((ms_list or [{}])[0].get("datasets") or [None])
    levels = [data] + [read_zarr(path, level=k)[0] for k in range(1, n)]
    return levels, {**meta, "levels": n}
