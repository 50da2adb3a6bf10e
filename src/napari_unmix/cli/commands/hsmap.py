"""Sub-commands of the hsmap tools."""

from __future__ import annotations

from ...core.hsmap import ClusterOptions, MapOptions
from .._spec import Command, opt, options_from

COMMANDS: dict[str, Command] = {
    "maps": Command(
        "intensity, ratio and cluster maps of a hyperspectral cube, with metrics and report",
        "napari_unmix.api.hsmap:map_report_file",
        (
            opt("--target", "intensity band centre (axis units)", type=float, required=True),
            opt("--numerator", "ratio numerator band centre", type=float, required=True),
            opt("--denominator", "ratio denominator band centre", type=float, required=True),
            opt("--n-clusters", "number of clusters", type=int, required=True),
            *options_from(MapOptions, only=("window",)),
            *options_from(ClusterOptions, only=("method", "n_components", "cleanup")),
            opt(
                "--image-shape",
                "HEIGHT WIDTH of per-pixel spectra rows (CSV / HDF5) without one",
                nargs=2,
                type=int,
                metavar=("HEIGHT", "WIDTH"),
            ),
            *options_from(ClusterOptions, only=("random_state",)),
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
