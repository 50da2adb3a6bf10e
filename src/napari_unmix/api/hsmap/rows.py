"""Per-pixel spectra stored as rows (CSV / HDF5) -> a (C, Y, X) cube."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...core.validate import check_array

__all__ = ["cube_from_rows", "read_pixel_spectra"]


def cube_from_rows(rows, image_shape, /, *, positions=None) -> np.ndarray:
    """Rebuild a (C, Y, X) cube from per-pixel spectra stored as rows (pixels × C).

    Parameters
    ----------
    rows : (n, C) array
        One spectrum per row, in raster order (row by row) unless ``positions`` is given.
    image_shape : (int, int)
        (height, width); must satisfy height × width = n (or cover every position).
    positions : (n, 2) int array, optional
        (y, x) of every row; pixels without a row become NaN.

    Examples
    --------
    >>> cube_from_rows(np.arange(12.0).reshape(6, 2), (2, 3))[1].tolist()
    [[1.0, 3.0, 5.0], [7.0, 9.0, 11.0]]
    """
    check_array("rows", rows)
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim != 2:
        raise ValueError(f"rows must be (pixels, channels), got {rows.shape=}")
    try:
        h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}") from None
    n, c = rows.shape
    if h < 1 or w < 1:
        raise ValueError(f"image_shape must be positive, got {(h, w)}")
    if positions is None:
        if h * w != n:
            raise ValueError(
                f"image_shape {(h, w)} needs {h * w} pixels but there are {n} spectra (rows); "
                "check height and width (a wrong shape would distort the map)"
            )
        return np.ascontiguousarray(rows.T.reshape(c, h, w))
    pos = np.asarray(positions)
    if pos.shape != (n, 2) or not np.array_equal(pos, np.round(pos)):
        raise ValueError(f"positions must be (n, 2) integer (y, x), got {pos.shape=}")
    pos = pos.astype(np.int64)
    if pos.min() < 0 or (pos[:, 0] >= h).any() or (pos[:, 1] >= w).any():
        raise ValueError(
            f"positions reach ({pos[:, 0].max()}, {pos[:, 1].max()}) outside image_shape "
            f"{(h, w)}; check the image_shape"
        )
    flat = pos[:, 0] * w + pos[:, 1]
    if np.unique(flat).size != n:
        raise ValueError("two spectra have the same (y, x) position")
    cube = np.full((c, h * w), np.nan, np.float32)
    cube[:, flat] = rows.T
    return cube.reshape(c, h, w)


def _parse_shape(text: str):
    parts = [p for p in text.replace("(", " ").replace(")", " ").replace(",", " ").split() if p]
    return tuple(int(float(p)) for p in parts)


def _read_rows_csv(path: Path):
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    meta_shape = None
    body = []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            key, _, val = s.lstrip("#").partition(":")
            if key.strip().lower() == "image_shape":
                meta_shape = _parse_shape(val)
            continue
        body.append(s)
    if len(body) < 2:
        raise ValueError(f"{path.name!r}: need a header row of wavenumbers and spectrum rows")
    header = [h.strip() for h in body[0].split(",")]
    n_pos = 2 if [h.lower() for h in header[:2]] == ["y", "x"] else 0
    try:
        axis = np.array([float(h) for h in header[n_pos:]])
    except ValueError:
        raise ValueError(
            f"{path.name!r}: the header row must hold the spectral axis values (optionally "
            f"after 'y,x' columns), got {header[:4]}..."
        ) from None
    try:
        values = np.loadtxt(body[1:], delimiter=",", ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path.name!r}: non-numeric spectrum values ({err})") from None
    if values.shape[1] != axis.size + n_pos:
        raise ValueError(
            f"{path.name!r}: rows have {values.shape[1]} columns, header {axis.size + n_pos}"
        )
    pos = values[:, :2] if n_pos else None
    return values[:, n_pos:], axis, meta_shape, pos


def _read_rows_hdf5(path: Path):
    import h5py

    with h5py.File(path, "r") as f:
        name = next((k for k in ("spectra", "data", "X") if k in f), None)
        axis_name = next(
            (k for k in ("wavenumbers", "wavenumber", "spectral_axis", "axis") if k in f), None
        )
        if name is None or axis_name is None:
            raise ValueError(
                f"{path.name!r} needs datasets 'spectra' (pixels × C) and 'wavenumbers' (C,); "
                f"found {sorted(f.keys())}"
            )
        rows = np.asarray(f[name][()], dtype=np.float32)
        axis = np.asarray(f[axis_name][()], dtype=np.float64)
        shape = None
        if "image_shape" in f:
            shape = tuple(int(v) for v in np.asarray(f["image_shape"][()]).ravel())
        elif "image_shape" in f.attrs:
            shape = tuple(int(v) for v in np.asarray(f.attrs["image_shape"]).ravel())
        elif "image_shape" in f[name].attrs:
            shape = tuple(int(v) for v in np.asarray(f[name].attrs["image_shape"]).ravel())
        pos = np.asarray(f["positions"][()]) if "positions" in f else None
    return rows, axis, shape, pos


def read_pixel_spectra(
    path: str | os.PathLike, /, *, image_shape=None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Read per-pixel spectra (CSV or HDF5) and rebuild the (C, Y, X) cube.

    * CSV: a header row with the spectral axis values (optionally preceded by ``y,x``
      columns giving each row's pixel), one spectrum per row in raster order, and
      optionally a comment line ``# image_shape: height, width``.
    * HDF5 (``.h5``/``.hdf5``): datasets ``spectra`` (pixels × C) and ``wavenumbers``
      (C,), ``image_shape`` as a dataset or attribute, optional ``positions`` (n × 2).

    ``image_shape`` given here overrides a missing one in the file; if both are given
    and differ, that is an error.

    Returns
    -------
    cube : (C, Y, X) float32
    axis : (C,) float64
    info : dict (``image_shape``, ``source``, ``n_spectra``)
    """
    from ...io.safety import check_input

    path = check_input(path, what="spectra file")
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".he5"):
        rows, axis, file_shape, pos = _read_rows_hdf5(path)
    else:
        rows, axis, file_shape, pos = _read_rows_csv(path)
    shape = tuple(int(v) for v in image_shape) if image_shape is not None else file_shape
    if file_shape is not None and image_shape is not None and tuple(file_shape) != shape:
        raise ValueError(
            f"image_shape {shape} differs from the file's image_shape {tuple(file_shape)}"
        )
    if shape is None:
        raise ValueError(
            f"{path.name!r} has no image_shape; pass image_shape=(height, width) "
            f"({rows.shape[0]} spectra)"
        )
    if len(shape) != 2:
        raise ValueError(f"image_shape must be (height, width), got {shape}")
    try:
        cube = cube_from_rows(rows, shape, positions=pos)
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None
    return cube, axis, {"image_shape": shape, "source": str(path), "n_spectra": rows.shape[0]}
