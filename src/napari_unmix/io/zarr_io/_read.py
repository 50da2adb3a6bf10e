"""Reading OME-Zarr stores (and any supported image) as lazy TZCYX dask arrays."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...core.axes import CANONICAL, to_tzcyx
from .._ome import ANNOTATION_KEY, image_metadata
from ._tiff import TIFF_EXTENSIONS, read_tiff_lazy

#: Folder endings opened as Zarr stores.
ZARR_EXTENSIONS = (".ome.zarr", ".zarr")
_FROM_NGFF_UNIT = {"micrometer": "micron"}


def is_zarr_path(path: str | os.PathLike) -> bool:
    """True for a path ending in ``.zarr`` / ``.ome.zarr`` (the folder need not exist).

    Examples
    --------
    >>> is_zarr_path("run1/cells.ome.zarr"), is_zarr_path("cells.ome.tif")
    (True, False)
    """
    return str(path).rstrip("/\\").lower().endswith(ZARR_EXTENSIONS)


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
    extra = dict(attrs.get(ANNOTATION_KEY) or {})
    report = extra.pop("report", None)
    meta = image_metadata(
        extra, data.shape[2], physical_size=tuple(phys), unit=unit, time_increment=dt,
        source="OME-Zarr attributes", channel_names=names_from_omero,
    )  # fmt: skip
    return data, {**meta, "report": report, "zarr_attrs": attrs}


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
    >>> from napari_unmix.io.zarr_io import write_zarr
    >>> p = write_zarr(pathlib.Path(tempfile.mkdtemp()) / "a.zarr", np.ones((1, 1, 2, 3, 3)))
    >>> read_lazy(p)[0].shape
    (1, 1, 2, 3, 3)
    """
    from ..envi import is_envi_path
    from ..spectral_axis import attach_spectral_axis

    p = Path(path)
    if is_zarr_path(p) or (
        p.is_dir() and any((p / n).exists() for n in (".zattrs", "zarr.json", ".zarray"))
    ):
        data, meta = read_zarr(p)
    elif str(p).lower().endswith(TIFF_EXTENSIONS):
        data, meta = read_tiff_lazy(p)
    elif is_envi_path(p):
        from ..envi import read_envi

        data, meta = read_envi(p)
    else:
        import dask.array as da

        from ..omio_io import read_image

        arr, meta = read_image(p)
        data, meta = da.from_array(arr, chunks=(1, 1, 1, *arr.shape[3:])), {**meta, "report": None}
    axis = {"spectral_axis": spectral_axis, "spectral_units": spectral_units}
    return data, attach_spectral_axis(p, meta, data.shape[2], **axis)


def read_zarr_levels(path: str | os.PathLike) -> tuple[list[Any], dict[str, Any]]:
    """All resolution levels of an OME-Zarr image as lazy TZCYX dask arrays, largest first.

    The metadata is that of :func:`read_zarr` (level 0); ``meta["levels"]`` is the count.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from napari_unmix.io.zarr_io import write_zarr
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
