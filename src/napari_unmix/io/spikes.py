"""Spike-time tables and stimulus movies for STNMF: CSV, NPY/NPZ, HDF5 in, clear errors out.

A spike table holds one cell per column (CSV: header = cell names, shorter columns
padded with empty cells or NaN; NPY: a 2-D array, one column per cell, NaN padding, or a
1-D array for one cell; NPZ and HDF5: one array / dataset per cell, named after it).
Values are spike times in seconds, or spike counts per frame when the caller says so.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "spikes.csv"
>>> _ = p.write_text("cell_a,cell_b\\n0.1,0.5\\n0.2,\\n")
>>> {k: v.tolist() for k, v in read_spike_table(p).items()}
{'cell_a': [0.1, 0.2], 'cell_b': [0.5]}
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SPIKE_SUFFIXES", "STIMULUS_SUFFIXES", "read_array", "read_spike_table", "read_stimulus"]

SPIKE_SUFFIXES = (".csv", ".txt", ".tsv", ".npy", ".npz", ".h5", ".hdf5")
STIMULUS_SUFFIXES = (".npy", ".npz", ".h5", ".hdf5")
_NPY_MAGIC = b"\x93NUMPY"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _check_file(path: Path, kinds: tuple[str, ...], what: str) -> str:
    """The suffix of an input that exists, is a non-empty file and has the right content."""
    from .safety import check_input

    check_input(path, what=what)  # missing, a folder, 0 bytes
    suffix = path.suffix.lower()
    if suffix not in kinds:
        raise ValueError(f"cannot read {path.name}: use one of {', '.join(kinds)}")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
    expect = {".npy": _NPY_MAGIC, ".h5": _HDF5_MAGIC, ".hdf5": _HDF5_MAGIC, ".npz": b"PK"}
    magic = expect.get(suffix)
    if magic is not None and not head.startswith(magic):
        kind = {".npy": "a NumPy .npy file (numpy.save)", ".npz": "a NumPy .npz archive",
                ".h5": "an HDF5 file", ".hdf5": "an HDF5 file"}[suffix]  # fmt: skip
        text = head.decode("ascii", "replace") if head.isascii() else repr(head)
        raise ValueError(
            f"{path.name} ({size} bytes) is not {kind}: it starts with {text!r}; "
            f"re-save it as {suffix} or rename it to its real type"
        )
    return suffix


def read_array(
    path: str | os.PathLike,
    /,
    *,
    key: str | None = None,
    ndim: int | None = None,
    mmap: bool = False,
    what: str = "array file",
) -> Any:
    """One array from ``.npy``, ``.npz`` or HDF5, with clear messages for unreadable files.

    ``key`` names the array inside ``.npz`` / HDF5 (default: the only one with ``ndim``
    axes). With ``mmap``, ``.npy`` is memory-mapped and HDF5 returned as a lazy dask array
    (nothing is read until used). ``what`` names the file in messages.
    """
    path = Path(path)
    suffix = _check_file(path, STIMULUS_SUFFIXES, what)
    try:
        if suffix == ".npy":
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return _pick({k: z[k] for k in z.files}, key, ndim, path)
        import h5py

        f = h5py.File(path, "r")
        found: dict[str, Any] = {}
        f.visititems(lambda n, o: found.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
        ds = _pick(found, key, ndim, path)
        if mmap:
            import dask.array as da

            return da.from_array(ds, chunks=(max(1, 2**24 // max(ds[0].size, 1)),) + ds.shape[1:])
        out = ds[()]
        f.close()
        return out
    except (EOFError, OSError, ValueError) as err:
        if isinstance(err, ValueError) and str(err).startswith(path.name):
            raise
        raise ValueError(f"cannot read {path.name}: {err}") from err


def _pick(arrays: dict[str, Any], key: str | None, ndim: int | None, path: Path) -> Any:
    if key is not None:
        if key not in arrays:
            raise ValueError(f"{path.name} has no array {key!r}; it has {sorted(arrays)}")
        return arrays[key]
    fits = {k: a for k, a in arrays.items() if ndim is None or len(a.shape) == ndim}
    if len(fits) != 1:
        raise ValueError(
            f"{path.name}: pass key= (one of {sorted(arrays)}); found {len(fits)} arrays"
            + (f" with {ndim} axes" if ndim else "")
        )
    return next(iter(fits.values()))


def read_stimulus(path: str | os.PathLike, /, *, key: str | None = None) -> Any:
    """A stimulus movie (t, x, y), lazily: ``.npy`` memory-mapped, HDF5 as a dask array."""
    stim = read_array(path, key=key, ndim=3, mmap=True, what="stimulus movie")
    if stim.ndim != 3:
        raise ValueError(
            f"{Path(path).name}: expected a stimulus movie (t, x, y), got {stim.shape}"
        )
    return stim


def read_spike_table(
    path: str | os.PathLike, /, *, key: str | None = None
) -> dict[str, np.ndarray]:
    """Spike times (or counts) per cell: ``{cell name: 1-D float64 array}``, in file order.

    Empty cells and NaN (padding of shorter columns) are dropped. ``key`` picks one
    dataset of an HDF5 / NPZ file holding a 2-D table.
    """
    path = Path(path)
    suffix = _check_file(path, SPIKE_SUFFIXES, "spike table")
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_text_table(path)
    if suffix == ".npy":
        return _columns(read_array(path), path, prefix="cell")
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        else:
            import h5py

            with h5py.File(path, "r") as f:
                arrays = {}
                f.visititems(
                    lambda n, o: (
                        arrays.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
                    )
                )
    except (EOFError, OSError, ValueError) as err:
        raise ValueError(f"cannot read {path.name}: {err}") from err
    if key is not None:
        return _columns(_pick(arrays, key, None, path), path, prefix=key)
    if not arrays:
        raise ValueError(f"{path.name} holds no arrays; expected one per cell")
    out = {}
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.ndim == 2 and len(arrays) == 1:
            return _columns(a, path, prefix=name)
        if a.ndim != 1:
            raise ValueError(
                f"{path.name}: {name!r} has shape {a.shape}; expected one 1-D array of spike "
                "times per cell (or pass key= for a 2-D table, one column per cell)"
            )
        out[name] = _clean(a, path, name)
    return out


def _clean(a: np.ndarray, path: Path, name: str) -> np.ndarray:
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{path.name}: cell {name!r} is not numeric ({a.dtype})")
    a = np.asarray(a, np.float64).ravel()
    return a[np.isfinite(a)]


def _columns(a: np.ndarray, path: Path, *, prefix: str) -> dict[str, np.ndarray]:
    a = np.asarray(a)
    if a.ndim == 1:
        return {prefix if prefix != "cell" else "cell 0": _clean(a, path, prefix)}
    if a.ndim != 2:
        raise ValueError(f"{path.name}: expected one column per cell (2-D), got shape {a.shape}")
    return {f"{prefix} {j}": _clean(a[:, j], path, f"{prefix} {j}") for j in range(a.shape[1])}


def _read_text_table(path: Path) -> dict[str, np.ndarray]:
    text = path.read_text(errors="replace")
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" or "\t" in text[:1000] else "excel"
    rows = [r for r in csv.reader(text.splitlines(), dialect=dialect) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path.name} holds no rows")
    header = [c.strip() for c in rows[0]]
    try:
        [float(c) for c in header if c]
        has_header = False
    except ValueError:
        has_header = True
    names = header if has_header else [f"cell {j}" for j in range(len(header))]
    body = rows[1:] if has_header else rows
    out: dict[str, list[float]] = {n or f"cell {j}": [] for j, n in enumerate(names)}
    keys = list(out)
    for i, row in enumerate(body, start=2 if has_header else 1):
        for j, cell in enumerate(row[: len(keys)]):
            cell = cell.strip()
            if not cell:
                continue
            try:
                out[keys[j]].append(float(cell))
            except ValueError:
                raise ValueError(
                    f"{path.name}, line {i}, column {keys[j]!r}: {cell!r} is not a number"
                ) from None
    return {k: _clean(np.array(v, np.float64), path, k) for k, v in out.items()}
