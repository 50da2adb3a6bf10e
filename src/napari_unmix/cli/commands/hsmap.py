"""Sub-commands of the hsmap tools."""

from __future__ import annotations

from .._spec import Command, _choices, opt

_CLUSTER = "napari_unmix.core.hsmap:CLUSTER_METHODS"
_CLEANUP = "napari_unmix.core.hsmap:CLEANUPS"

COMMANDS: dict[str, Command] = {
    "maps": Command(
        "intensity, ratio and cluster maps of a hyperspectral cube, with metrics and report",
        "napari_unmix.api.hsmap:map_report_file",
        (
            opt("--target", "intensity band centre (axis units)", type=float, required=True),
            opt("--numerator", "ratio numerator band centre", type=float, required=True),
            opt("--denominator", "ratio denominator band centre", type=float, required=True),
            opt("--n-clusters", "number of clusters", type=int, required=True),
            opt("--window", "band half width in axis units (default 5)", type=float),
            opt("--method", "clustering method (default kmeans)", choices=_choices(_CLUSTER)),
            opt("--n-components", "cluster PCA scores of this many components", type=int),
            opt("--cleanup", "spatial clean-up of the labels", choices=_choices(_CLEANUP)),
            opt(
                "--image-shape",
                "HEIGHT WIDTH of per-pixel spectra rows (CSV / HDF5) without one",
                nargs=2,
                type=int,
                metavar=("HEIGHT", "WIDTH"),
            ),
            opt("--random-state", "seed (default 0)", type=int),
            opt(
                "--no-report", "no figures / report folder", action="store_false", keyword="report"
            ),
        ),
        spectral=True,
        input_extensions=(".csv", ".txt", ".h5", ".hdf5", ".he5"),
        input_help="cube: OME-TIFF (T = Z = 1, channels along C) or per-pixel spectra CSV / HDF5",
        output_help="maps OME-TIFF (intensity, ratio, cluster; report -> <output>.json, "
        "figures -> <stem>_report/)",
    ),
}
