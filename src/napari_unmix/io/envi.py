"""ENVI hyperspectral cubes (``.hdr`` + raw data file), read lazily through Spectral Python.

The header is parsed by the ``spectral`` package (SPy); the raw file is memory-mapped in
band-sequential order and wrapped in a dask array with one band per chunk, so nothing is
read until a band is shown or computed. BIL and BIP files are mapped as well (one band
then touches the whole file, so convert big BIL/BIP cubes once, e.g. to OME-Zarr).

The header's ``wavelength`` / ``wavelength units`` become the spectral axis, ``band
names`` the channel names, and the cube comes back as TZCYX with T = Z = 1.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from spectral.io import envi
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> cube = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)  # rows, cols, bands
>>> envi.save_image(str(d / "c.hdr"), cube, interleave="bsq",
...                 metadata={"wavelength": [500, 550, 600], "wavelength units": "nm"})
>>> data, meta = read_envi(d / "c.hdr")
>>> type(data).__name__, data.shape, meta["spectral_axis"], meta["spectral_units"]
('Array', (1, 1, 3, 4, 5), [500.0, 550.0, 600.0], 'nm')
>>> bool((data[0, 0].compute() == cube.transpose(2, 0, 1)).all())
True
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Any

__all__ = ["ENVI_EXTENSIONS", "is_envi_path", "looks_like_envi", "read_envi", "read_envi_header"]

#: Endings of ENVI headers (the data file sits beside the header).
ENVI_EXTENSIONS = (".hdr",)


def is_envi_path(path: str | os.PathLike) -> bool:
    """True for a path ending in ``.hdr``.

    Examples
    --------
    >>> is_envi_path("scan.HDR"), is_envi_path("scan.tif")
    (True, False)
    """
    return str(path).lower().endswith(ENVI_EXTENSIONS)


def looks_like_envi(path: str | os.PathLike) -> bool:
    """True for an existing ``.hdr`` file that starts with "ENVI" (not an Analyze header).

    Examples
    --------
    >>> looks_like_envi("missing.hdr")
    False
    """
    p = Path(path)
    if not (is_envi_path(p) and p.is_file()):
        return False
    with open(p, "rb") as fh:
        return fh.read(4) == b"ENVI"


def _spectral():
    try:
        from spectral.io import envi
    except ImportError as err:  # pragma: no cover - a dependency
        raise ImportError(
            "reading ENVI files needs the 'spectral' package: pip install spectral"
        ) from err
    return envi


def read_envi_header(path: str | os.PathLike) -> dict[str, Any]:
    """The header's entries as a dict (lower-case keys, values as SPy parses them)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such ENVI header: {str(path)!r}")
    envi = _spectral()
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dict(envi.read_envi_header(str(path)))
    except Exception as err:  # any library failure becomes one clear message
        raise ValueError(
            f"cannot read {path.name!r} as an ENVI header ({type(err).__name__}: {err})"
        ) from err


def read_envi(path: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """Open an ENVI cube lazily as a TZCYX dask array (T = Z = 1, bands along C).

    Parameters
    ----------
    path : str or PathLike
        The ``.hdr`` header; the data file beside it (same stem, with ``.img``, ``.dat``,
        ``.raw``, no ending, ...) is found by SPy.

    Returns
    -------
    data : dask.array.Array
        Shape (1, 1, bands, rows, samples), one band per chunk, nothing read yet.
    metadata : dict
        As :func:`~napari_unmix.io.omio_io.read_image`: ``axes``, ``physical_size``
        (1.0 unless the header's ``pixel size`` gives x and y), ``unit``,
        ``time_increment``, ``channel_names`` (``band names`` or ``C0..``), ``extra`` (the
        header), ``report`` (None), and ``spectral_axis`` / ``spectral_units`` /
        ``spectral_axis_source`` from ``wavelength`` / ``wavelength units``.
    """
    import dask.array as da
    from dask.base import tokenize

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    envi = _spectral()
    header = read_envi_header(path)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = envi.open(str(path))
            mm = img.open_memmap(interleave="bsq")  # (bands, rows, samples), a view
    except Exception as err:  # any library failure becomes one clear message
        raise ValueError(
            f"cannot read {path.name!r} as an ENVI cube ({type(err).__name__}: {err}); "
            "is its data file beside it and complete?"
        ) from err
    stat = path.stat()
    name = "envi-" + tokenize(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    cube = da.from_array(mm, chunks=(1, *mm.shape[1:]), name=name, asarray=True)
    data = cube[None, None]
    n_c = data.shape[2]
    names = header.get("band names")
    if not isinstance(names, list) or len(names) != n_c:
        names = [f"C{i}" for i in range(n_c)]
    px = py = 1.0
    unit = "micron"
    size = header.get("pixel size")
    if isinstance(size, list | dict):
        with contextlib.suppress(TypeError, ValueError, KeyError, IndexError):
            vals = list(size.values()) if isinstance(size, dict) else size
            px, py = float(vals[0]), float(vals[1])
    meta: dict[str, Any] = {
        "axes": "TZCYX",
        "physical_size": (1.0, py, px),
        "unit": unit,
        "time_increment": 1.0,
        "channel_names": [str(n) for n in names],
        "extra": {"envi_header": {k: v for k, v in header.items() if k != "description"}},
        "report": None,
    }
    if "wavelength" in header:
        from ..core.units import normalize_units
        from ..core.validate import check_axis

        source = "ENVI header"
        axis = check_axis(f"the spectral axis from {source}", header["wavelength"], n_c)
        meta["spectral_axis"] = axis.tolist()
        meta["spectral_units"] = normalize_units(header.get("wavelength units"))
        meta["spectral_axis_source"] = source
    return data, meta
