"""Sub-commands of the nmf tools: ``nnls`` (fixed-H NNLS) and ``nnmf`` (seeded or random NNMF).

The NNMF flags come from the options classes (:mod:`napari_unmix.core.nmf.options`), so
their types, choices and defaults are those of the API functions.
"""

from __future__ import annotations

from ...core.nmf import RandomNmfOptions, SeededNmfOptions
from .._spec import Command, opt, options_from
from ._common import OUTPUT_FORMAT

_NMF_OUT = "output maps OME-TIFF (spectra -> <stem>_spectra.csv, report -> <output>.json)"
#: every field of the seeded fit (a new option gets its flag without a change here)
_FIT = tuple(s.name for s in SeededNmfOptions.specs())
_HS_INPUT = "hyperspectral image (channels along C; spectral axis in its metadata)"

COMMANDS: dict[str, Command] = {
    "nnls": Command(
        "fixed-H NNLS abundance maps of a hyperspectral file from known spectra (CSV)",
        "napari_unmix.api.nmf:nnls_unmix_file",
        (
            opt("--names", "component names (default: the CSV's column names)", nargs="+"),
            opt(
                "--output-format",
                "ome-tiff (default) or ome-zarr (read lazily, maps written chunk by chunk; "
                "the output must end in .ome.zarr)",
                choices=["ome-tiff", "ome-zarr"],
            ),
        ),
        overwrite=True,
        spectral=True,
        args=(("spectra_path", "spectra CSV: axis column, one column per component"),),
        output_help=_NMF_OUT,
        input_help=_HS_INPUT,
    ),
    "nnmf": Command(
        "NNMF of a hyperspectral file: seeded from a spectra CSV (--seeds) or a ROI-manager "
        "preset (--preset), or random (--k)",
        "napari_unmix.api.nmf:nnmf_file",
        (
            opt("--seeds", "spectra CSV of H seeds (seeded NNMF)"),
            opt(
                "--preset", "ROI-manager preset JSON: its ROIs and rows seed the fit (seeded NNMF)"
            ),
            opt("--k", "number of components (unseeded NNMF)", type=int),
            opt("--lock", "seeds whose spectrum stays fixed (names or 0-based indices)", nargs="+"),
            *options_from(RandomNmfOptions, only=("init",)),
            *options_from(SeededNmfOptions, only=_FIT),
            OUTPUT_FORMAT,
        ),
        progress=True,
        spectral=True,
        output_help=_NMF_OUT,
        input_help=_HS_INPUT,
    ),
}
