"""A :class:`~napari_unmix.api.rois.RoiModel` and files: spectra CSV in and out.

Examples
--------
>>> import tempfile, pathlib
>>> from napari_unmix.api.rois import RoiModel, rectangle
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=16)
>>> model = RoiModel(cube, spectral_axis=truth["spectral_axis"], spectral_units="cm-1")
>>> model.set_shapes([rectangle(2, 2, 6, 6)], ["rectangle"])
>>> path = export_spectra(model, pathlib.Path(tempfile.mkdtemp()) / "rows.csv")
>>> add_spectra_file(model, path)
(1, False)
>>> [r["source"] for r in model.rows()]
['drawn ROI', 'spectrum file']
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...core.units import axis_column
from ...io.spectra import read_spectra_csv, write_spectra_csv
from .model import RoiModel

__all__ = ["add_spectra_file", "export_spectra"]


def add_spectra_file(model: RoiModel, path: str | os.PathLike) -> tuple[int, bool]:
    """Add one dummy row per spectrum column of a CSV/TXT file (next free components).

    Returns how many rows were added and whether the image's spectral axis reaches outside
    the file's (edge values are then held there).
    """
    axis, spectra, names = read_spectra_csv(path)
    if model.spectral_axis is None and axis.size != model.cube.shape[0]:
        raise ValueError(
            f"{Path(path).name!r} has {axis.size} rows but the image has no spectral axis "
            f"and {model.cube.shape[0]} channels; set layer.metadata['spectral_axis']"
        )
    file_axis = axis if model.spectral_axis is not None else model.axis
    first = model.next_component()
    extrapolated = [
        model.add_spectrum(file_axis, s, name=n, component=first + j)
        for j, (s, n) in enumerate(zip(spectra, names, strict=True))
    ]
    return len(names), any(extrapolated)


def export_spectra(model: RoiModel, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the spectra of all rows that have one as CSV (axis column first)."""
    rows = [(r["name"], model.row_spectrum(r)) for r in model.rows()]
    rows = [(n, s) for n, s in rows if s is not None]
    if not rows:
        raise ValueError("no spectrum to export: draw ROIs or add spectrum rows first")
    axis_name = axis_column(model.spectral_units, has_axis=False)
    return write_spectra_csv(
        path, model.axis, np.stack([s for _, s in rows]), [n for n, _ in rows],
        axis_name=axis_name, overwrite=overwrite,
    )  # fmt: skip
