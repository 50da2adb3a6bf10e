"""Spectra as CSV: one axis column followed by one column per spectrum.

The header row names the columns (the first is the spectral axis, e.g. ``wavenumber``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from .spectral_axis import is_number

__all__ = ["check_spectra_axis", "read_spectra_csv", "write_spectra_csv"]

#: File signatures refused by content before a binary file is parsed as text.
_MAGIC = {
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"II+\x00": "a BigTIFF image",
    b"\x89PNG": "a PNG image",
    b"\x89HDF": "an HDF5 file",
    b"PK\x03\x04": "a ZIP archive (e.g. .npz)",
    b"\x93NUMPY": "a NumPy .npy file",
}


def _refuse_binary(path: Path, head: bytes) -> None:
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind is None and b"\x00" in head:
        kind = "a binary file"
    if kind is not None:
        raise ValueError(
            f"{path.name!r} is {kind}, not a spectra CSV; give a text file with the spectral "
            "axis in the first column and one column per spectrum"
        )


def read_spectra_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read spectra from a CSV (or tab/semicolon separated TXT) file.

    Returns
    -------
    axis : ndarray, shape (C,)
        First column, strictly increasing or decreasing.
    spectra : ndarray, shape (n, C)
        One row per spectrum column.
    names : list of str
        Column headers of the spectra (``spectrum_1``... when the file has no header).

    Raises
    ------
    ValueError
        A binary file (an image given by mistake), text or empty cells in a numeric
        column, NaN/inf values, fewer than two columns or two rows, an axis column that
        is not strictly monotonic — the message names the column and row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("wavenumber,lipid\\n2850,1.0\\n2900,0.5\\n")
    >>> axis, spectra, names = read_spectra_csv(p)
    >>> axis.tolist(), spectra.tolist(), names
    ([2850.0, 2900.0], [[1.0, 0.5]], ['lipid'])
    """
    from .safety import check_input

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    check_input(path, what="spectra file")
    raw = path.read_bytes()
    _refuse_binary(path, raw[:4096])
    text = raw.decode("utf-8", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    rows = [r for r in csv.reader(text.splitlines(), delimiter=delim) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path.name!r} is empty")

    header = None
    if not all(is_number(c) for c in rows[0] if c.strip()):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if len(rows) < 2 or len(rows[0]) < 2:
        raise ValueError(
            f"{path.name!r} needs an axis column and at least one spectrum column with two "
            f"or more rows; found {len(rows)} row(s) of {len(rows[0]) if rows else 0} column(s)"
        )
    n_col = len(rows[0])
    values = np.empty((len(rows), n_col))
    for i, row in enumerate(rows):
        if len(row) != n_col:
            raise ValueError(f"{path.name!r} row {i + 1} has {len(row)} columns, expected {n_col}")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                col = header[j] if header else f"column {j + 1}"
                raise ValueError(
                    f"{path.name!r}: non-numeric value {cell[:40]!r} in {str(col)[:40]!r}, "
                    f"data row {i + 1}"
                ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        col = header[j] if header else f"column {j + 1}"
        raise ValueError(f"{path.name!r}: NaN or infinite value in {col!r}, data row {i + 1}")
    step = np.diff(values[:, 0])
    if not ((step > 0).all() or (step < 0).all()):
        i = int(np.flatnonzero(np.sign(step) != np.sign(step[0]))[0]) if step[0] else 0
        col = header[0] if header else "column 1"
        raise ValueError(
            f"{path.name!r}: the axis column {col!r} is not strictly increasing or decreasing "
            f"(data rows {i + 1}-{i + 2}: {values[i, 0]!r}, {values[i + 1, 0]!r}); sort the "
            "rows by the axis and remove repeated values"
        )
    names = header[1:] if header else [f"spectrum_{j}" for j in range(1, n_col)]
    return values[:, 0], values[:, 1:].T.copy(), names


def check_spectra_axis(
    file_axis: np.ndarray,
    image_axis: np.ndarray,
    *,
    name: str = "the spectra file",
    min_overlap: float = 0.5,
) -> None:
    """Refuse spectra whose axis does not cover the image's spectral axis.

    The spectra are resampled onto the image's axis; outside the file's range there is
    nothing to resample, so at least ``min_overlap`` of the image's axis range must lie
    inside the file's range (otherwise the units or the file are most likely wrong).

    Examples
    --------
    >>> check_spectra_axis(np.array([400.0, 700.0]), np.array([500.0, 600.0]))
    >>> check_spectra_axis(np.array([400.0, 700.0]), np.array([2800.0, 3000.0]), name="lib.csv")
    Traceback (most recent call last):
    ...
    ValueError: lib.csv covers 400..700 but the image's spectral axis spans 2800..3000 (0% overlap); are both in the same units (cm-1 vs nm)? Pass the image's axis with spectral_axis= / --spectral-axis if it is missing or wrong
    """
    f_lo, f_hi = float(np.min(file_axis)), float(np.max(file_axis))
    i_lo, i_hi = float(np.min(image_axis)), float(np.max(image_axis))
    span = i_hi - i_lo
    inside = max(0.0, min(f_hi, i_hi) - max(f_lo, i_lo))
    frac = inside / span if span > 0 else float(f_lo <= i_lo <= f_hi)
    if frac < min_overlap:
        raise ValueError(
            f"{name} covers {f_lo:g}..{f_hi:g} but the image's spectral axis spans "
            f"{i_lo:g}..{i_hi:g} ({100 * frac:.0f}% overlap); are both in the same units "
            "(cm-1 vs nm)? Pass the image's axis with spectral_axis= / --spectral-axis if it "
            "is missing or wrong"
        )


def write_spectra_csv(
    path: str | os.PathLike,
    axis: np.ndarray,
    spectra: np.ndarray,
    names: list[str] | None = None,
    *,
    axis_name: str = "axis",
    overwrite: bool = False,
) -> Path:
    """Write spectra (n×C) with their axis (C,) as CSV, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = write_spectra_csv(p, np.array([1.0, 2.0]), np.array([[3.0, 4.0]]), ["a"])
    >>> p.read_text().splitlines()[0]
    'axis,a'
    """
    from ..core.validate import check_array

    path = Path(path)
    check_array("spectra", spectra, finite=True)
    check_array("axis", axis, finite=True)
    spectra = np.atleast_2d(np.asarray(spectra, dtype=np.float64))
    axis = np.asarray(axis, dtype=np.float64).reshape(-1)
    if spectra.shape[1] != axis.size:
        raise ValueError(f"spectra have {spectra.shape[1]} channels but the axis has {axis.size}")
    names = list(names) if names is not None else [f"component_{i}" for i in range(len(spectra))]
    if len(names) != len(spectra):
        raise ValueError(f"{len(names)} names for {len(spectra)} spectra")
    from .safety import atomic_output, plan_outputs

    plan_outputs([path], overwrite=overwrite)
    with (
        atomic_output(path, overwrite=overwrite) as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as fh,
    ):
        w = csv.writer(fh)
        w.writerow([axis_name, *names])
        for c in range(axis.size):
            w.writerow([repr(float(axis[c])), *(repr(float(v)) for v in spectra[:, c])])
    return path
