"""Sub-commands of the nmf tools."""

from __future__ import annotations

from .._spec import Command, opt
from ._common import OUTPUT_FORMAT

_NMF_OUT = "output maps OME-TIFF (spectra -> <stem>_spectra.csv, report -> <output>.json)"
_NMF_COMMON = (
    opt(
        "--solver", "auto, anls, hals or mu (default auto)", choices=["auto", "anls", "hals", "mu"]
    ),
    opt("--max-iter", "iteration limit (default 1000)", type=int),
    opt("--tol", "relative objective precision (default 1e-6)", type=float),
    opt("--l1-w", "L1 sparsity on the maps (default 0)", type=float, keyword="l1_W"),
    opt("--random-state", "seed (default 0)", type=int),
)

COMMANDS: dict[str, Command] = {
    "nnls": Command(
        "fixed-H NNLS abundance maps of a hyperspectral file from known spectra (CSV)",
        "napari_unmix.api.nmf_files:nnls_unmix_file",
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
        input_help="hyperspectral image (channels along C; spectral axis in its metadata)",
    ),
    "nnmf": Command(
        "NNMF of a hyperspectral file: seeded from a spectra CSV (--seeds) or a ROI-manager "
        "preset (--preset), or random (--k)",
        "napari_unmix.api.nmf_files:nnmf_file",
        (
            opt("--seeds", "spectra CSV of H seeds (seeded NNMF)"),
            opt(
                "--preset", "ROI-manager preset JSON: its ROIs and rows seed the fit (seeded NNMF)"
            ),
            opt("--k", "number of components (unseeded NNMF)", type=int),
            opt("--lock", "seeds whose spectrum stays fixed (names or 0-based indices)", nargs="+"),
            opt(
                "--init",
                "unseeded start (default nndsvda)",
                choices=["nndsvda", "nndsvd", "random"],
            ),
            *_NMF_COMMON,
            opt(
                "--slice-mode",
                "Z/T slices: per_slice fits or one reference fit (default per_slice)",
                choices=["per_slice", "reference"],
            ),
            opt("--reference-slice", "slice fitted with --slice-mode reference", type=int),
            opt("--max-pixels", "fit on a random subsample of this many pixels", type=int),
            OUTPUT_FORMAT,
        ),
        progress=True,
        spectral=True,
        output_help=_NMF_OUT,
        input_help="hyperspectral image (channels along C; spectral axis in its metadata)",
    ),
}
