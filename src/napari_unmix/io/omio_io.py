"""Read and write microscopy images through OMIO, safely and quietly.

OMIO (``omio-microscopy``) reads OME-TIFF, TIFF, LSM and CZI into TZCYX arrays and writes
OME-TIFF. This module wraps it so that users get what they asked for:

* OMIO prints to stdout; we capture that (and its warnings) instead of showing it.
* ``omio.imwrite`` names the output after ``Annotations["original_filename"]`` and always
  writes ``.ome.tif``; we write into a temporary folder next to the destination and
  rename the result to exactly the path asked for (an atomic rename on one file system), so
  a failed write never leaves a half file in place of good data.
* An existing file is never overwritten unless ``overwrite=True``, an input never (the
  checks and temporaries are those of :mod:`napari_unmix.io.safety`).
* Errors from deep inside a library become one clear message naming the file.

omio imports napari at module level, so it is imported inside the functions only.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..core.axes import validate_tzcyx
from ..core.validate import check_int
from ._ome import ANNOTATION_KEY, image_metadata, ome_sizes

__all__ = [
    "DTYPE_CONVERSIONS",
    "READ_EXTENSIONS",
    "UnreadableImageError",
    "check_output_path",
    "image_dtype",
    "is_supported_image",
    "read_image",
    "write_image",
]

#: File endings OMIO reads (lower case).
READ_EXTENSIONS = (".ome.tif", ".ome.tiff", ".tif", ".tiff", ".lsm", ".czi")


class UnreadableImageError(OSError):
    """A file exists but cannot be read as an image."""


def is_supported_image(path: str | os.PathLike) -> bool:
    """True when ``path`` ends with one of :data:`READ_EXTENSIONS` or is an ENVI header.

    Examples
    --------
    >>> is_supported_image("cells.OME.TIF"), is_supported_image("cube.hdr")
    (True, True)
    >>> is_supported_image("spectra.csv")
    False
    """
    from .envi import is_envi_path

    return str(path).lower().endswith(READ_EXTENSIONS) or is_envi_path(path)


@contextlib.contextmanager
def _quiet():
    """Capture stdout/stderr prints and warnings of a third-party call."""
    sink = io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        yield sink


def read_image(
    path: str | os.PathLike, *, spectral_axis: Any = None, spectral_units: str | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read an image file into a TZCYX array and a metadata dict.

    Parameters
    ----------
    path : str or PathLike
        ``.ome.tif``, ``.ome.tiff``, ``.tif``, ``.tiff``, ``.lsm`` or ``.czi`` file (through
        OMIO), or an ENVI header ``.hdr`` (through :mod:`napari_unmix.io.envi`).
    spectral_axis, spectral_units : optional
        Explicit spectral axis (values, ``"start:stop:n"`` or a file) and units; they win
        over what the file and its siblings say (see :mod:`napari_unmix.io.spectral_axis`).

    Returns
    -------
    data : ndarray
        Five-dimensional TZCYX array in the file's dtype. (A plain 3-D TIFF without axis
        metadata comes back with its planes as channels; this is OMIO's rule.)
    metadata : dict
        ``axes`` ("TZCYX"), ``physical_size`` (z, y, x) in ``unit``, ``time_increment``,
        ``channel_names`` (list, one per channel), ``spectral_axis`` / ``spectral_units``
        when an axis was found (file metadata, TIFF tags, a sibling ``wavelength.json``,
        ...), ``spectral_axis_source`` (where it came from, or "none (channel index)"),
        ``extra`` (what napari-unmix stored in the file) and ``omio`` (OMIO's metadata).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    IsADirectoryError
        The path is a folder.
    ValueError
        The extension is not one OMIO reads, or the file is empty.
    UnreadableImageError
        The file exists but is not a readable image (truncated, corrupt, empty).
    """
    from .safety import check_input

    path = check_input(path)
    if not is_supported_image(path):
        raise ValueError(
            f"cannot read {path.name!r}: unsupported file type; "
            f"supported are {', '.join(READ_EXTENSIONS)} and ENVI .hdr"
        )
    from .spectral_axis import attach_spectral_axis

    axis_kw = {"spectral_axis": spectral_axis, "spectral_units": spectral_units}
    if path.suffix.lower() == ".hdr":
        from .envi import read_envi

        lazy, meta = read_envi(path)
        meta.pop("report", None)
        return np.asarray(lazy.compute()), attach_spectral_axis(
            path, meta, lazy.shape[2], **axis_kw
        )
    import omio

    try:
        with _quiet():
            data, meta = omio.imread(str(path), verbose=False)
    except Exception as err:  # any library failure becomes one clear message
        raise UnreadableImageError(
            f"cannot read {path.name!r} as an image ({type(err).__name__}: {err}); "
            "is the file complete and of the type its name says?"
        ) from err
    if isinstance(data, list):  # multi-series file: the first series
        data, meta = data[0], meta[0]
    data = np.asarray(data)
    if data.ndim != 5 or data.size == 0:
        raise UnreadableImageError(f"{path.name!r} holds no image data ({data.shape=})")
    meta = _metadata_from_omio(meta, data.shape)
    return data, attach_spectral_axis(path, meta, data.shape[2], **axis_kw)


def _metadata_from_omio(meta: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    ann = meta.get("Annotations") or {}
    extra: dict[str, Any] = {}
    raw = ann.get(ANNOTATION_KEY) if isinstance(ann, dict) else None
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            extra = json.loads(raw)
    out = image_metadata(
        extra,
        shape[2],
        unit=meta.get("PhysicalSizeXUnit") or ann.get("unit", "micron"),
        **ome_sizes(meta),
    )
    return {**out, "omio": meta}


def check_output_path(
    path: str | os.PathLike, *, overwrite: bool = False, inputs: tuple = ()
) -> Path:
    """Validate one output file path before any work is done.

    Refuses a path that is one of ``inputs`` (even with ``overwrite``), an existing file
    (unless ``overwrite``), a folder, and a missing or read-only parent folder; see
    :func:`~napari_unmix.io.safety.plan_outputs`, which checks all outputs of a call.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_path(d / "out.ome.tif").name
    'out.ome.tif'
    """
    from .safety import plan_outputs

    return plan_outputs([path], inputs=inputs, overwrite=overwrite)[0]


#: dtypes written as another one (OME-TIFF has no such pixel type), and how.
DTYPE_CONVERSIONS = {
    "bool": ("uint8", "False/True become 0/1"),
    "float16": ("float32", "exact"),
}


def image_dtype(dtype: Any) -> np.dtype:
    """The dtype :func:`write_image` stores for ``dtype``, or a ValueError saying why not.

    bool is stored as uint8 (0/1) and float16 as float32 (:data:`DTYPE_CONVERSIONS`);
    complex, object, string and 64-bit integer arrays are refused.

    Examples
    --------
    >>> image_dtype(bool), image_dtype("float16"), image_dtype("uint16")
    (dtype('uint8'), dtype('float32'), dtype('uint16'))
    """
    dt = np.dtype(dtype)
    if dt.name in DTYPE_CONVERSIONS:
        return np.dtype(DTYPE_CONVERSIONS[dt.name][0])
    if (dt.kind in "ui" and dt.itemsize <= 4) or dt in (np.float32, np.float64):
        return dt
    hint = {
        "c": "write the real part, the magnitude (np.abs) or both as channels",
        "O": "convert the array to a numeric dtype first (e.g. data.astype(np.float32))",
        "U": "convert the array to a numeric dtype first",
        "S": "convert the array to a numeric dtype first",
    }.get(dt.kind, "convert it to float32 or a 32-bit (or smaller) integer type first")
    raise ValueError(f"cannot write an image of dtype {dt} as OME-TIFF: {hint}")


def write_image(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    physical_size: tuple[float, float, float] = (1.0, 1.0, 1.0),
    unit: str = "micron",
    time_increment: float = 1.0,
    channel_names: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
    compression_level: int = 0,
) -> Path:
    """Write a TZCYX array as OME-TIFF to exactly ``path``, atomically.

    Parameters
    ----------
    path : str or PathLike
        Destination file; written as OME-TIFF whatever its ending.
    data : ndarray
        TZCYX array (numpy; dask arrays are computed plane by plane by tifffile). bool
        is stored as uint8 (0/1), float16 as float32; complex, object and 64-bit integer
        arrays are refused with a message saying what to convert (:func:`image_dtype`).
    physical_size : (z, y, x)
        Voxel size in ``unit``.
    unit : str
        Length unit of ``physical_size`` (default micron).
    time_increment : float
        Seconds between time points.
    channel_names : list of str, optional
        Stored in the file (OMIO's writer has no channel-name field, so they go into the
        OME map annotation with ``extra``).
    extra : dict, optional
        JSON-serialisable values stored in the file's map annotation under
        ``"napari_unmix"`` (e.g. ``spectral_axis``) and restored by :func:`read_image`.
    overwrite : bool
        Replace an existing file. Default False: an existing file is an error.
    compression_level : int
        zlib level 0–9. Default 0 (no compression): unmixed float32 data compress poorly,
        and level 0 is several times faster to write than OMIO's default 3.

    Returns
    -------
    Path
        The written file.
    """
    path = check_output_path(path, overwrite=overwrite)
    validate_tzcyx(data)
    dtype = image_dtype(data.dtype)
    if dtype != data.dtype:
        data = data.astype(dtype)
    check_int("compression_level", compression_level, minimum=0, maximum=9)
    n_c = data.shape[2]
    payload = dict(extra or {})
    if channel_names is not None:
        if len(channel_names) != n_c:
            raise ValueError(f"{len(channel_names)} channel names for {n_c} channels")
        payload["channel_names"] = [str(c) for c in channel_names]
    import omio

    from ..core.report import to_jsonable
    from .safety import commit, temporary_dir

    pz, py, px = (float(v) for v in physical_size)
    try:
        with temporary_dir(path.parent, path.name) as tmpdir:
            with _quiet():
                meta = omio.create_empty_metadata(
                    physicalsize_xyz=(px, py, pz),
                    pixelunit=unit,
                    time_increment=float(time_increment),
                    time_increment_unit="s",
                    shape=tuple(int(s) for s in data.shape),
                    annotations={ANNOTATION_KEY: json.dumps(to_jsonable(payload))},
                    verbose=False,
                )
                meta["Annotations"]["original_filename"] = "image.ome.tif"
                written = omio.imwrite(
                    str(tmpdir / "image.ome.tif"),
                    data,
                    meta,
                    compression_level=int(compression_level),
                    overwrite=True,
                    return_fnames=True,
                    verbose=False,
                )
            if not written:
                raise OSError("OMIO wrote no file")
            commit(written[0], path, overwrite=overwrite)
    except Exception as err:
        if isinstance(err, OSError | ValueError):
            raise
        raise OSError(f"could not write {str(path)!r}: {type(err).__name__}: {err}") from err
    return path
