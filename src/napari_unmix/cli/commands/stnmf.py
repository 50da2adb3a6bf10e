"""Sub-commands of the stnmf tools: flags from the STNMF options (:mod:`napari_unmix.core.stnmf`)."""

from __future__ import annotations

from ...core.stnmf import StnmfOptions, StnmfRecordingOptions, StnmfSettingsOptions
from .._spec import Command, opt, options_from

COMMANDS: dict[str, Command] = {
    "stnmf": Command(
        "STNMF of a spike-triggered ensemble, or of the cells of a recording (--spikes) "
        "-> modules, module table, figure, report",
        "napari_unmix.api.stnmf:stnmf_file",
        (
            *options_from(StnmfOptions, only=("r",)),
            *options_from(StnmfSettingsOptions, only=("settings", "sparsity", "smoothing")),
            *options_from(
                StnmfOptions, only=("num_iter", "seed", "pixel_size", "moransi_threshold")
            ),
            opt("--key", "array name inside .npz / .mat / .h5"),
            opt("--no-figure", "skip the PNG figure", action="store_false", keyword="figure"),
            opt(
                "--spikes",
                "spike table (CSV/NPY/NPZ/HDF5, one column or dataset per cell): "
                "INPUT is then the stimulus movie (t, x, y) and OUTPUT a folder",
            ),
            opt("--cells", "cells of the spike table to run (default: all)", nargs="+"),
            *options_from(StnmfRecordingOptions),
        ),
        progress=True,
        input_help="ensemble (x, y, spikes) as .npy, .npz, .mat or .h5; with --spikes the "
        "stimulus movie (t, x, y) as .npy or .h5",
        output_help="modules OME-TIFF (table -> <stem>.csv, figure -> <stem>.png, "
        "report -> <output>.json); with --spikes a folder (one set per cell, cells.csv/json)",
        input_extensions=(".npy", ".npz", ".mat", ".h5", ".hdf5"),
    ),
}
