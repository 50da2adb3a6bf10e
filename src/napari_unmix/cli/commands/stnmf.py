"""Sub-commands of the stnmf tools."""

from __future__ import annotations

from .._spec import Command, _choices, opt

COMMANDS: dict[str, Command] = {
    "stnmf": Command(
        "STNMF of a spike-triggered ensemble, or of the cells of a recording (--spikes) "
        "-> modules, module table, figure, report",
        "napari_unmix.api.stnmf:stnmf_file",
        (
            opt("--r", "number of modules (default 20)", type=int),
            opt(
                "--settings",
                "recovery (default: more subunits from fewer spikes) or reference (stnmf package)",
                choices=_choices("napari_unmix.core.stnmf:SETTINGS"),
            ),
            opt("--sparsity", "L1 weight on the modules (default: from --settings)", type=float),
            opt("--smoothing", "frame smoothing in stixels (default: from --settings)", type=float),
            opt("--num-iter", "iterations (default 1000)", type=int),
            opt("--seed", "random seed (default 0)", type=int),
            opt("--pixel-size", "stixel size in micrometres (default: unknown)", type=float),
            opt("--moransi-threshold", "Moran's I of a subunit (default 0.25)", type=float),
            opt("--key", "array name inside .npz / .mat / .h5"),
            opt("--no-figure", "skip the PNG figure", action="store_false", keyword="figure"),
            opt(
                "--spikes",
                "spike table (CSV/NPY/NPZ/HDF5, one column or dataset per cell): "
                "INPUT is then the stimulus movie (t, x, y) and OUTPUT a folder",
            ),
            opt("--cells", "cells of the spike table to run (default: all)", nargs="+"),
            opt("--frame-rate", "stimulus frames per second (spike times in seconds)", type=float),
            opt("--lag", "frames between a stimulus frame and its spikes (default 0)", type=int),
            opt("--latency", "the same in seconds (needs --frame-rate)", type=float),
            opt(
                "--temporal-filter",
                "sta: weight frames by each cell's STA time course",
                choices=["sta"],
            ),
            opt("--n-lags", "frames of that STA time course (default 10)", type=int),
            opt("--counts", "the spike table holds counts per frame", action="store_true"),
        ),
        progress=True,
        input_help="ensemble (x, y, spikes) as .npy, .npz, .mat or .h5; with --spikes the "
        "stimulus movie (t, x, y) as .npy or .h5",
        output_help="modules OME-TIFF (table -> <stem>.csv, figure -> <stem>.png, "
        "report -> <output>.json); with --spikes a folder (one set per cell, cells.csv/json)",
        input_extensions=(".npy", ".npz", ".mat", ".h5", ".hdf5"),
    ),
}
