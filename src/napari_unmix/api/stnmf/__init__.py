"""``STNMF``: spike-triggered non-negative matrix factorization with the ``stnmf`` names.

Users of the ``stnmf`` package switch by changing the import::

    from napari_unmix import STNMF          # instead of: from stnmf import STNMF
    s = STNMF(ste, r=20, pixel_size=30)     # ste: x × y × spikes
    s.subunits, s.diameters, s.plot()

The factorisation is :mod:`napari_unmix.core.stnmf` (the same sparse semi-NMF with
AF-HALS, computed through the stixel Gram matrix so an iteration does not read the whole
ensemble); the spatial properties are :mod:`napari_unmix.core.stnmf.props`, the options
:class:`~napari_unmix.core.stnmf.StnmfOptions`. This package gathers the public names of
the STNMF API:

* :mod:`.model` — the :class:`STNMF` class (:mod:`.properties`: its subunit properties);
  :mod:`.scan` — :func:`select_sparsity`;
* :mod:`.files` — ensembles from files, outputs to files (:func:`stnmf_file`);
  :mod:`.outputs` — the writers (:func:`export_stnmf`);
* :mod:`.recording` — from a stimulus movie and spike times of many cells to
  ensembles and subunits (:func:`stnmf_cells`, :func:`stnmf_recording_file`);
* :func:`spike_triggered_ensemble` and friends from :mod:`napari_unmix.core.stnmf`.

Examples
--------
>>> from napari_unmix.core.synthetic import make_ste_sparse
>>> ste, truth = make_ste_sparse(n_spikes=2000, grid=12)
>>> s = STNMF(ste, r=8, num_iter=30, pixel_size=30)
>>> s.modules.shape, s.weights.shape
((8, 12, 12), (8, 2000))
>>> s.num_subunits == len(s.localized) == len(s.outlines)
True
"""

from __future__ import annotations

from ...core.stnmf import (
    STNMFMemoryError,
    spike_triggered_average,
    spike_triggered_ensemble,
    temporal_filter_from_sta,
)
from .files import load_ste, stnmf_file
from .model import STNMF
from .outputs import export_stnmf, write_cells_table, write_rows_csv
from .properties import PixelSizeWarning, modules_table
from .recording import (
    RECOVERY,
    CellResult,
    cells_table,
    iter_stnmf_cells,
    resolve_settings,
    stnmf_cells,
    stnmf_recording_file,
)
from .scan import select_sparsity

__all__ = [
    "RECOVERY",
    "STNMF",
    "CellResult",
    "PixelSizeWarning",
    "STNMFMemoryError",
    "cells_table",
    "export_stnmf",
    "iter_stnmf_cells",
    "load_ste",
    "modules_table",
    "resolve_settings",
    "select_sparsity",
    "spike_triggered_average",
    "spike_triggered_ensemble",
    "stnmf_cells",
    "stnmf_file",
    "stnmf_recording_file",
    "temporal_filter_from_sta",
    "write_cells_table",
    "write_rows_csv",
]
