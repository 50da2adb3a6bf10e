"""``napari-unmix``: the command line, one sub-command per script-API function.

Every sub-command reads ``input_path``, writes ``output_path`` (OME-TIFF) and its JSON
sidecar, prints progress on stderr, and exits non-zero with a one-line message when the
input or an option is wrong (``--debug`` shows the traceback instead).

Sub-commands come from :data:`REGISTRY`: adding a tool's command is one entry that maps
command-line options to the keywords of its API function (imported only when the
command runs, so ``napari-unmix --help`` is fast).

Examples
--------
>>> main(["max-z", "--help"])  # doctest: +ELLIPSIS
usage: napari-unmix max-z [-h] ...
...
0
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

__all__ = ["REGISTRY", "Command", "Option", "build_parser", "main"]

PROG = "napari-unmix"


@dataclass(frozen=True)
class Option:
    """One command-line option: its flag, the API keyword it feeds, argparse settings."""

    flag: str
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    keyword: str = ""

    @property
    def dest(self) -> str:
        return self.keyword or self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Command:
    """One sub-command: ``target(*prefix, input_path, output_path, **options)``."""

    help: str
    target: str  # "module:function", imported when the command runs
    options: tuple[Option, ...] = ()
    prefix: tuple[Any, ...] = ()
    progress: bool = False  # the target accepts progress=callable(done, total)
    overwrite: bool = True  # the target accepts overwrite=bool
    keywords: dict[str, Any] = field(default_factory=dict)  # fixed extra keywords
    verbose: str = ""  # name of the target's print-progress keyword (set to not --quiet)
    args: tuple[tuple[str, str], ...] = ()  # extra positional (name, help) after output_path
    output_help: str = "output OME-TIFF (a JSON report is written next to it)"
    input_help: str = "input image file"


def opt(flag: str, help: str, **kwargs: Any) -> Option:
    """Shorthand for :class:`Option`; the keyword is the flag in snake case."""
    keyword = kwargs.pop("keyword", "")
    return Option(flag, help, kwargs, keyword)


class _OneOrMore(argparse.Action):
    """``nargs="+"`` that keeps one value as a scalar (``--alpha 0.3`` -> 0.3)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values[0] if len(values) == 1 else list(values))


def _choices(where: str) -> list[str] | None:
    """Keys of a registry ``"module:NAME"`` for ``choices=``; None (no check here, the API
    validates) if it cannot be imported."""
    module, _, attr = where.partition(":")
    try:
        return list(getattr(import_module(module), attr))
    except (ImportError, AttributeError):
        return None


_FILTER_NAMES = ["median", "gaussian"]
_REG_METHODS = ["phase_cross_correlation", "phase_cross_correlation_only", "pystackreg"]
_REG_COMMON = (
    opt(
        "--registration-channel",
        "channel used to estimate the shifts (default 0)",
        type=int,
        default=0,
    ),
    opt("--method", "shift estimator (default phase_cross_correlation)", choices=_REG_METHODS),
    opt("--pre-median-filter", "median-filter the registration channel first", action="store_true"),
    opt(
        "--post-median-filter",
        "median-filter both images before each estimate",
        action="store_true",
    ),
    opt("--median-kernel-size", "size of those median filters (default 3)", type=int),
    opt(
        "--upsample-factor",
        "cross-correlation precision 1/N pixel before refinement (default 1)",
        type=int,
    ),
    opt("--interpolation-order", "spline order of the shift, 0..5 (default 1)", type=int),
    opt(
        "--max-shift", "largest plausible shift in pixels (default 45 %% of the image)", type=float
    ),
)
_STACK = "napari_unmix.api.stack_tools:apply_stack_tool_file"
_ALPHA = "napari_unmix.core.bleedthrough:ALPHA_METHODS"
_PICASSO = "napari_unmix.core.picasso:IMPLEMENTATIONS"
_CLUSTER = "napari_unmix.core.hsmap:CLUSTER_METHODS"
_CLEANUP = "napari_unmix.core.hsmap:CLEANUPS"
_NMF_OUT = "output maps OME-TIFF (spectra -> <stem>_spectra.csv, report -> <output>.json)"
_NMF_COMMON = (
    opt("--solver", "hals or mu (default hals)", choices=["hals", "mu"]),
    opt("--max-iter", "iteration limit (default 500)", type=int),
    opt("--tol", "relative stopping tolerance (default 1e-5)", type=float),
    opt("--l1-w", "L1 sparsity on the maps (default 0)", type=float, keyword="l1_W"),
    opt("--random-state", "seed (default 0)", type=int),
)

#: Sub-command name -> :class:`Command`. A tool's file-level API function
#: ``f(input_path, output_path, *, ...)`` becomes a sub-command with one entry, e.g.::
#:
#:     "unmix": Command(
#:         "bleed-through correction of one channel by another",
#:         "napari_unmix.api.bleedthrough:unmix",
#:         (opt("--alpha", "fixed coefficient", type=float),
#:          opt("--source-channel", "channel that bleeds", type=int)),
#:         keywords={"verbose": False},  # fixed keywords, if any
#:     ),
#: Output options shared by the sub-commands that write unmixed stacks.
_COMPRESSION_LEVEL = opt(
    "--compression-level",
    "0 none (default); 1-9 zlib (OME-TIFF) or Blosc zstd (OME-Zarr)",
    type=int,
)
_OUTPUT_FORMAT = opt(
    "--output-format",
    "ome-tiff (default) or ome-zarr (read lazily, written chunk by chunk: for "
    "stacks larger than memory; the output must end in .ome.zarr)",
    choices=["ome-tiff", "ome-zarr"],
)

REGISTRY: dict[str, Command] = {
    "filter": Command(
        "median / Gaussian filters per plane (or per volume with --3d)",
        _STACK,
        (
            opt("--filters", "steps in order (default: median)", nargs="+", choices=_FILTER_NAMES),
            opt("--median-size", "median window in pixels (default 3)", type=int),
            opt("--gaussian-sigma", "Gaussian sigma in pixels (default 1.0)", type=float),
            opt(
                "--3d",
                "filter ZYX volumes instead of YX planes",
                action="store_true",
                keyword="apply_3d",
            ),
            opt(
                "--filters-channel2", "other steps for channel 1", nargs="+", choices=_FILTER_NAMES
            ),
            opt("--median-size-channel2", "median window for channel 1", type=int),
            opt("--gaussian-sigma-channel2", "Gaussian sigma for channel 1", type=float),
        ),
        prefix=("filter",),
        progress=True,
    ),
    "match-histograms": Command(
        "match every time point's histogram to a reference time point, per channel",
        _STACK,
        (opt("--reference-t", "reference time point (default 0)", type=int),),
        prefix=("match-histograms",),
        progress=True,
    ),
    "max-z": Command(
        "maximum projection over Z (Z kept as a length-1 axis)",
        _STACK,
        (
            opt(
                "--zrange",
                "half-open z range START STOP",
                nargs=2,
                type=int,
                metavar=("START", "STOP"),
            ),
        ),
        prefix=("max-z",),
        progress=True,
    ),
    "z-drift": Command(
        "align the z-slices of every time point in Y and X",
        _STACK,
        (
            *_REG_COMMON,
            opt(
                "--reference-mode",
                "reference of each slice (default neighbor)",
                choices=["neighbor", "first", "mean", "full_projection"],
            ),
            opt(
                "--neighbor-window-size",
                "odd window for --reference-mode neighbor (default 3)",
                type=int,
            ),
        ),
        prefix=("z-drift",),
        progress=True,
    ),
    "register": Command(
        "rigid translation over time onto a reference time point",
        _STACK,
        (
            *_REG_COMMON,
            opt(
                "--zrange",
                "z range of the projection START STOP",
                nargs=2,
                type=int,
                metavar=("START", "STOP"),
            ),
            opt("--reference-t", "time point the others are aligned to (default 0)", type=int),
        ),
        prefix=("register",),
        progress=True,
    ),
    "unmix": Command(
        "bleed-through correction: target -= alpha * source (alpha estimated or given)",
        "napari_unmix.api.bleedthrough:unmix",
        (
            opt(
                "--alpha",
                "given coefficient: one value (implies --alpha-mode fixed) or one per time point",
                type=float,
                nargs="+",
                action=_OneOrMore,
            ),
            opt(
                "--alpha-mode",
                "fixed, reference_t or per_t",
                choices=["fixed", "reference_t", "per_t"],
            ),
            opt("--alpha-reference-t", "time point alpha is estimated on (default 0)", type=int),
            opt("--method", "alpha estimator (default mean_ratio)", choices=_choices(_ALPHA)),
            opt("--source-channel", "channel that bleeds (default 0)", type=int),
            opt("--target-channel", "channel to correct (default 1)", type=int),
            opt("--signal-percentile", "bright-source mask percentile (default 99)", type=float),
            opt(
                "--target-low-percentile", "keep voxels with a low target (percentile)", type=float
            ),
            opt("--background-percentile", "background percentile (default 1)", type=float),
            opt("--bidirectional", "2 x 2 model: both channels bleed", action="store_true"),
            opt(
                "--alpha-reverse",
                "given reverse coefficient(s), as --alpha",
                type=float,
                nargs="+",
                action=_OneOrMore,
            ),
            opt("--method-reverse", "reverse estimator", choices=_choices(_ALPHA)),
            opt("--signal-percentile-reverse", "reverse source-mask percentile", type=float),
            opt("--target-low-percentile-reverse", "reverse low-target percentile", type=float),
            opt("--background-percentile-reverse", "reverse background percentile", type=float),
            opt("--alpha-max", "upper bound of optimised alpha (default 1)", type=float),
            opt("--alpha-max-reverse", "reverse upper bound", type=float),
            opt("--mi-bins", "histogram bins of mutual information (default 64)", type=int),
            opt("--mi-bins-reverse", "reverse histogram bins", type=int),
            opt("--max-alpha-voxels", "voxels sampled for alpha (default 500000)", type=int),
            opt("--random-state", "seed of the sampling (default 0)", type=int),
            opt(
                "--n-bootstrap", "bootstrap resamples of the 95%% interval (default 100)", type=int
            ),
            opt(
                "--no-preprocess-alpha-inputs",
                "no background subtraction / clipping before estimating",
                action="store_false",
                keyword="preprocess_alpha_inputs",
            ),
            opt(
                "--no-clip-negative",
                "keep negative corrected values",
                action="store_false",
                keyword="clip_negative",
            ),
            opt("--output-dtype", "output dtype, or 'same' (default float32)"),
            _COMPRESSION_LEVEL,
            _OUTPUT_FORMAT,
        ),
        verbose="verbose",
    ),
    "picasso": Command(
        "PICASSO blind unmixing of N channels (source-sink, mutual information)",
        "napari_unmix.api.picasso:unmix_picasso",
        (
            opt("--channels", "channels to unmix, in order (default: all)", nargs="+", type=int),
            opt(
                "--implementation",
                "PICASSO variant (default matlab_3c)",
                choices=_choices(_PICASSO),
            ),
            opt(
                "--alpha-mode",
                "reference_t, per_t or fixed",
                choices=["reference_t", "per_t", "fixed"],
            ),
            opt(
                "--alpha-reference-t", "time point the matrix is estimated on (default 0)", type=int
            ),
            opt("--sink-channels", "source-sink: channels that only receive", nargs="+", type=int),
            opt("--neutral-channels", "source-sink: channels left out", nargs="+", type=int),
            opt("--background-percentile", "background percentile (default 1)", type=float),
            opt(
                "--no-preprocess-alpha-inputs",
                "no background subtraction / clipping before estimating",
                action="store_false",
                keyword="preprocess_alpha_inputs",
            ),
            opt("--mi-bins", "histogram bins of mutual information (default 64)", type=int),
            opt("--alpha-max", "upper bound of the coefficient search (default 1)", type=float),
            opt("--max-iter", "iteration limit (default 200)", type=int),
            opt(
                "--tolerance",
                "stop when a sweep's largest alpha (change) is at most this (default 1e-4)",
                type=float,
            ),
            opt("--max-alpha-voxels", "voxels sampled for estimation (default 500000)", type=int),
            opt("--random-state", "seed of the sampling (default 0)", type=int),
            opt(
                "--step-size",
                "MATLAB-scheme step size (default 0.2; see unmix_picasso_array)",
                type=float,
            ),
            opt("--qn", "MATLAB-scheme qn (default 100; see unmix_picasso_array)", type=int),
            opt(
                "--pixel-bin-size",
                "block size: about 1000 blocks per plane (default 16; 4 for 128x128)",
                type=int,
            ),
            opt(
                "--alpha-clip",
                "MATLAB-scheme alpha_clip (default 0.5; see unmix_picasso_array)",
                type=float,
            ),
            opt(
                "--negativity-threshold",
                "MATLAB-scheme negativity threshold (default 0.0009)",
                type=float,
            ),
            opt(
                "--clip-every-n-iterations",
                "MATLAB-scheme clipping interval in iterations (default 50)",
                type=int,
            ),
            opt(
                "--no-noise-aware",
                "source-sink: estimate on the noisy pixels themselves (biased low by shot noise)",
                action="store_false",
                keyword="noise_aware",
            ),
            opt(
                "--split-sigma",
                "source-sink: smoothing (px) of the noise-aware views (default: from the noise)",
                type=float,
            ),
            opt(
                "--no-clip-negative",
                "keep negative values",
                action="store_false",
                keyword="clip_negative",
            ),
            opt(
                "--output-units",
                "own_channel, input or normalized",
                choices=["own_channel", "input", "normalized"],
            ),
            opt("--output-dtype", "output dtype (default float32)"),
            _COMPRESSION_LEVEL,
            _OUTPUT_FORMAT,
        ),
        verbose="verbose",
    ),
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
        args=(("spectra_path", "spectra CSV: axis column, one column per component"),),
        output_help=_NMF_OUT,
        input_help="hyperspectral image (channels along C; spectral axis in its metadata)",
    ),
    "nnmf": Command(
        "NNMF of a hyperspectral file: seeded from a spectra CSV (--seeds) or random (--k)",
        "napari_unmix.api.nmf_files:nnmf_file",
        (
            opt("--seeds", "spectra CSV of H seeds (seeded NNMF)"),
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
        ),
        progress=True,
        output_help=_NMF_OUT,
        input_help="hyperspectral image (channels along C; spectral axis in its metadata)",
    ),
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
    ),
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
            opt("--spectral-units", "axis units for labels, e.g. cm-1 or nm"),
            opt("--random-state", "seed (default 0)", type=int),
            opt(
                "--no-report", "no figures / report folder", action="store_false", keyword="report"
            ),
        ),
        input_help="cube: OME-TIFF (T = Z = 1, channels along C) or per-pixel spectra CSV / HDF5",
        output_help="maps OME-TIFF (intensity, ratio, cluster; report -> <output>.json, "
        "figures -> <stem>_report/)",
    ),
    "convert-time-to-channels": Command(
        "a C=1 file whose time axis holds the channels -> T=1, C=T",
        "napari_unmix.api.stack_tools:convert_time_encoded_stack_to_channel_stack",
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(registry: dict[str, Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per registry entry."""
    registry = REGISTRY if registry is None else registry
    parser = _Parser(
        prog=PROG,
        description="Unmixing and stack tools for microscopy files (OME-TIFF, TIFF, LSM, CZI).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, cmd in registry.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        p.add_argument("input_path", help=cmd.input_help)
        p.add_argument("output_path", help=cmd.output_help)
        for arg, arg_help in cmd.args:
            p.add_argument(arg, help=arg_help)
        for o in cmd.options:
            p.add_argument(
                o.flag, dest=o.dest, help=o.help, **{"default": argparse.SUPPRESS, **o.kwargs}
            )
        if cmd.overwrite:
            p.add_argument("--overwrite", action="store_true", help="replace an existing output")
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")
        p.add_argument("--debug", action="store_true", help="show the traceback on errors")
    return parser


def _progress_printer(name: str, quiet: bool) -> Callable[[int, int], None]:
    last = [-1]

    def show(done: int, total: int) -> None:
        pct = int(100 * done / max(total, 1))
        if not quiet and (pct // 10 > last[0] // 10 or done == total):
            print(f"{PROG} {name}: {done}/{total} ({pct}%)", file=sys.stderr, flush=True)
            last[0] = pct

    return show


def _warning_printer(name: str) -> Callable[..., None]:
    """``warnings.showwarning`` replacement: one line on stderr, no source excerpt."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
        print(f"{PROG} {name}: warning: {text}", file=sys.stderr, flush=True)

    return show


def main(argv: list[str] | None = None, *, registry: dict[str, Command] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    registry = REGISTRY if registry is None else registry
    parser = build_parser(registry)
    try:
        args = vars(parser.parse_args(argv))
    except SystemExit as stop:  # --help (0) or a usage error (2)
        return int(stop.code or 0)
    name = args.pop("command")
    if name is None:
        parser.print_help(sys.stderr)
        return 2
    cmd = registry[name]
    quiet, debug = args.pop("quiet"), args.pop("debug")
    inp, out = args.pop("input_path"), args.pop("output_path")
    extra = [args.pop(arg) for arg, _ in cmd.args]
    kwargs = {
        k: (tuple(v) if isinstance(v, list) and k in ("zrange", "image_shape") else v)
        for k, v in args.items()
    }
    if cmd.overwrite and not kwargs.get("overwrite"):
        kwargs.pop("overwrite", None)
    kwargs = {**cmd.keywords, **kwargs}
    if cmd.progress:
        kwargs["progress"] = _progress_printer(name, quiet)
    if cmd.verbose:
        kwargs[cmd.verbose] = not quiet
    t0 = time.perf_counter()
    try:
        module, _, attr = cmd.target.partition(":")
        func = getattr(import_module(module), attr)
        if not quiet:
            print(f"{PROG} {name}: {inp} -> {out}", file=sys.stderr, flush=True)
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            # API messages are progress (stderr); warnings are one line each
            warnings.showwarning = _warning_printer(name)
            written = func(*cmd.prefix, inp, out, *extra, **kwargs)
    except KeyboardInterrupt:
        print(f"{PROG} {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            traceback.print_exc()
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"{PROG} {name}: error: {msg}", file=sys.stderr)
        return 1
    if not quiet:
        dt = time.perf_counter() - t0
        if isinstance(written, dict):  # several files: name them all
            written = ", ".join(str(v) for v in written.values())
        print(f"{PROG} {name}: wrote {written} in {dt:.1f} s", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
