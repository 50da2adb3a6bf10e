"""Spectra as CSV: one axis column followed by one column per spectrum.

The header row names the columns (the first is the spectral axis, e.g. ``wavenumber``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

__all__ = ["read_spectra_csv", "write_spectra_csv"]


def read_spectra_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read spectra from a CSV (or tab/semicolon separated TXT) file.

    Returns
    -------
    axis : ndarray, shape (C,)
        First column, increasing or decreasing.
    spectra : ndarray, shape (n, C)
        One row per spectrum column.
    names : list of str
        Column headers of the spectra (``spectrum_1``... when the file has no header).

    Raises
    ------
    ValueError
        Text or empty cells in a numeric column, NaN/inf values, fewer than two columns or
        two rows — the message names the column and row.

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
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    rows = [r for r in csv.reader(text.splitlines(), delimiter=delim) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path.name!r} is empty")

    def _is_number(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return False
        return True

    header = None
    if not all(_is_number(c) for c in rows[0] if c.strip()):
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
                    f"{path.name!r}: non-numeric value {cell!r} in {col!r}, data row {i + 1}"
                ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        col = header[j] if header else f"column {j + 1}"
        raise ValueError(f"{path.name!r}: NaN or infinite value in {col!r}, data row {i + 1}")
    names = header[1:] if header else [f"spectrum_{j}" for j in range(1, n_col)]
    return values[:, 0], values[:, 1:].T.copy(), names


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
