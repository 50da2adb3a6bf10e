"""``napari-unmix``: the command line, one sub-command per script-API function.

Every sub-command reads ``input_path``, writes ``output_path`` (OME-TIFF) and its JSON
sidecar, prints progress on stderr, and exits non-zero with a one-line message when the
input or an option is wrong (``--debug`` shows the traceback instead).

Batches: with ``--output-dir DIR`` a sub-command takes several inputs (files, folders,
glob patterns) and writes ``DIR/<input stem>_<command>.ome.tif`` for each, in one
process; an input whose output exists is skipped (``--overwrite`` replaces it), a file
that fails is reported and the batch goes on; the last lines summarise done / skipped /
failed with reasons, and the exit code is 1 if any input failed.

Re-use: ``--from-report SIDECAR.json`` re-applies the parameters and the estimated
coefficients (alpha, PICASSO matrix, H spectra) of an earlier run
(:mod:`napari_unmix.api.reapply`); options given on the command line win.

Hyperspectral sub-commands take ``--spectral-axis FILE|start:stop:n`` and
``--spectral-units`` (:mod:`napari_unmix.io.spectral_axis`).

Sub-commands come from :data:`REGISTRY`: adding a tool's command is one entry that maps
command-line options to the keywords of its API function (imported only when the
command runs, so ``napari-unmix --help`` is fast).

Examples
--------
>>> main(["max-z", "--help"])  # doctest: +ELLIPSIS
usage: napari-unmix max-z [options] input_path output_path
...
0
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
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
    spectral: bool = False  # the target takes spectral_axis / spectral_units
    input_extensions: tuple[str, ...] = ()  # batch folders: these endings too (besides images)


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
    opt(
        "--solver", "auto, anls, hals or mu (default auto)", choices=["auto", "anls", "hals", "mu"]
    ),
    opt("--max-iter", "iteration limit (default 1000)", type=int),
    opt("--tol", "relative objective precision (default 1e-6)", type=float),
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
        spectral=True,
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
            _OUTPUT_FORMAT,
        ),
        progress=True,
        spectral=True,
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
        input_extensions=(".npy", ".npz", ".mat", ".h5", ".hdf5"),
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
    "convert-time-to-channels": Command(
        "a C=1 file whose time axis holds the channels -> T=1, C=T",
        "napari_unmix.api.stack_tools:convert_time_encoded_stack_to_channel_stack",
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


#: Options of the hyperspectral sub-commands (``Command(spectral=True)``).
SPECTRAL_OPTIONS = (
    opt(
        "--spectral-axis",
        "the image's spectral axis when the file lacks it (wins over the file): a file "
        "(wavelength.json, one-column CSV/TXT, ENVI .hdr) or start:stop:n",
        metavar="FILE|start:stop:n",
    ),
    opt("--spectral-units", "units of the spectral axis, e.g. cm-1 or nm"),
)


def _usage(name: str, cmd: Command) -> str:
    extra = "".join(f" {a}" for a, _ in cmd.args)
    return (
        f"{PROG} {name} [options] input_path output_path{extra}\n"
        f"       {PROG} {name} [options] input_path [input_path ...] --output-dir DIR{extra}"
    )


def _add_arguments(p: argparse.ArgumentParser, cmd: Command) -> None:
    """A sub-command's positionals, its options and the engine's common options."""
    extras = "".join(f"; then {a}: {h}" for a, h in cmd.args)
    p.add_argument(
        "paths",
        nargs="+",
        metavar="input_path",
        help=f"{cmd.input_help}; then output_path: {cmd.output_help}{extras}. With "
        "--output-dir: one or more inputs (files, folders, glob patterns), no output_path",
    )
    for o in (*cmd.options, *(SPECTRAL_OPTIONS if cmd.spectral else ())):
        p.add_argument(
            o.flag, dest=o.dest, help=o.help, **{"default": argparse.SUPPRESS, **o.kwargs}
        )
    p.add_argument(
        "--output-dir",
        metavar="DIR",
        help="batch: write DIR/<input stem>_<command>.ome.tif for every input; existing "
        "outputs are skipped (unless --overwrite), failures reported at the end",
    )
    p.add_argument(
        "--from-report",
        metavar="SIDECAR",
        help="re-apply the parameters and estimated coefficients (alpha, PICASSO matrix, "
        "H spectra) of an earlier run's JSON report; options given here win",
    )
    if cmd.overwrite:
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--debug", action="store_true", help="show the traceback on errors")


def build_parser(registry: dict[str, Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per registry entry."""
    registry = REGISTRY if registry is None else registry
    parser = _Parser(
        prog=PROG,
        description="Unmixing and stack tools for microscopy files (OME-TIFF, TIFF, LSM, CZI, "
        "ENVI, OME-Zarr), one file or a batch.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, cmd in registry.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help, usage=_usage(name, cmd))
        _add_arguments(p, cmd)
    return parser


def _parse(argv: list[str], registry: dict[str, Command]) -> dict[str, Any]:
    """Parsed arguments; positionals may follow options (``in --output-dir d lib.csv``)."""
    if argv and argv[0] in registry:
        name, cmd = argv[0], registry[argv[0]]
        p = _Parser(prog=f"{PROG} {name}", description=cmd.help, usage=_usage(name, cmd))
        _add_arguments(p, cmd)
        return {"command": name, **vars(p.parse_intermixed_args(argv[1:]))}
    return vars(build_parser(registry).parse_args(argv))


class _Progress:
    """``progress(done, total)`` printer: a line every 10 %, and the true end.

    A fit that stops early (converged after 28 of at most 500 iterations) ends with
    "stopped at 28 of at most 500", never with a made-up "500/500".
    """

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet
        self.reset()

    def reset(self) -> None:
        self.last_pct, self.seen, self.shown = -1, None, None

    def __call__(self, done: int, total: int) -> None:
        self.seen = (int(done), int(total))
        pct = int(100 * done / max(total, 1))
        if not self.quiet and (pct // 10 > self.last_pct // 10 or done == total):
            print(f"{self.label}: {done}/{total} ({pct}%)", file=sys.stderr, flush=True)
            self.last_pct, self.shown = pct, self.seen

    def finish(self) -> None:
        """Print where the work really ended, if the last line did not say so."""
        if self.quiet or self.seen is None or self.seen == self.shown:
            return
        done, total = self.seen
        text = f"stopped at {done} of at most {total}" if done < total else f"{done}/{total} (100%)"
        print(f"{self.label}: {text}", file=sys.stderr, flush=True)


def _progress_printer(name: str, quiet: bool) -> _Progress:
    return _Progress(f"{PROG} {name}", quiet)


def _warning_printer(name: str) -> Callable[..., None]:
    """``warnings.showwarning`` replacement: one line on stderr, no source excerpt."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
        print(f"{PROG} {name}: warning: {text}", file=sys.stderr, flush=True)

    return show


def _cli_text(message: str) -> str:
    """An API message in the command line's words (``overwrite=True`` -> ``--overwrite``)."""
    return message.replace("pass overwrite=True", "pass --overwrite").replace(
        "overwrite=True", "--overwrite"
    )


def _one_line(err: BaseException) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return _cli_text(msg)


class _UsageError(Exception):
    """Wrong positional arguments (exit code 2)."""


def _split_paths(
    paths: list[str], cmd: Command, *, batch: bool, given: dict[str, Any]
) -> tuple[list[str], str | None, list[Any]]:
    """(inputs, output or None, extra positionals) from the positional paths."""
    wanted = [a for a, _ in cmd.args if a not in given]
    n_extra = len(wanted)
    if batch:
        if len(paths) < 1 + n_extra:
            missing = ["input_path", *wanted][len(paths) :]
            raise _UsageError(f"the following arguments are required: {', '.join(missing)}")
        inputs, tail = paths[: len(paths) - n_extra], paths[len(paths) - n_extra :]
        out = None
    else:
        need = ["input_path", "output_path", *wanted]
        if len(paths) < len(need):
            missing = need[len(paths) :]
            raise _UsageError(f"the following arguments are required: {', '.join(missing)}")
        if len(paths) > len(need):
            raise _UsageError(
                f"{len(paths)} paths given for {' '.join(need)}; to process several inputs "
                "give --output-dir DIR (and no output_path)"
            )
        inputs, out, tail = [paths[0]], paths[1], paths[2:]
    tail_iter = iter(tail)
    extras = [given[a] if a in given else next(tail_iter) for a, _ in cmd.args]
    return inputs, out, extras


def _report_plan(path: str, name: str, cmd: Command, registry: dict[str, Command]):
    """Keywords and positionals from ``--from-report``, checked against the command."""
    from .api.reapply import reapply_plan

    plan = reapply_plan(path)
    if plan.target != cmd.target or tuple(plan.prefix) != tuple(cmd.prefix):
        fits = [
            n for n, c in registry.items() if c.target == plan.target and c.prefix == plan.prefix
        ]
        hint = f"use `{PROG} {fits[0]} --from-report ...`" if fits else "no command re-applies it"
        raise ValueError(f"the report is of {plan.tool!r}, not of {name!r}; {hint}")
    return plan


def main(argv: list[str] | None = None, *, registry: dict[str, Command] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    registry = REGISTRY if registry is None else registry
    try:
        args = _parse(list(sys.argv[1:] if argv is None else argv), registry)
    except SystemExit as stop:  # --help (0) or a usage error (2)
        return int(stop.code or 0)
    name = args.pop("command")
    if name is None:
        build_parser(registry).print_help(sys.stderr)
        return 2
    cmd = registry[name]
    quiet, debug = args.pop("quiet"), args.pop("debug")
    paths, out_dir, from_report = args.pop("paths"), args.pop("output_dir"), args.pop("from_report")
    kwargs = {
        k: (tuple(v) if isinstance(v, list) and k in ("zrange", "image_shape") else v)
        for k, v in args.items()
    }
    if cmd.overwrite and not kwargs.get("overwrite"):
        kwargs.pop("overwrite", None)
    try:
        plan = None if from_report is None else _report_plan(from_report, name, cmd, registry)
        given = {} if plan is None else dict(plan.args)
        inputs, out, extras = _split_paths(paths, cmd, batch=out_dir is not None, given=given)
    except _UsageError as err:
        print(f"{PROG} {name}: error: {err} (see {PROG} {name} --help)", file=sys.stderr)
        return 2
    except Exception as err:
        if debug:
            traceback.print_exc()
        print(f"{PROG} {name}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    kwargs = {**cmd.keywords, **({} if plan is None else plan.keywords), **kwargs}
    progress = _progress_printer(name, quiet)
    if cmd.progress:
        kwargs["progress"] = progress
    if cmd.verbose:
        kwargs[cmd.verbose] = not quiet and out_dir is None
    t0 = time.perf_counter()
    try:
        module, _, attr = cmd.target.partition(":")
        func = getattr(import_module(module), attr)
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            # API messages are progress (stderr); warnings are one line each
            warnings.showwarning = _warning_printer(name)
            if out_dir is not None:
                return _run_batch(name, cmd, func, inputs, out_dir, extras, kwargs, progress, quiet)
            if not quiet:
                print(f"{PROG} {name}: {inputs[0]} -> {out}", file=sys.stderr, flush=True)
            written = func(*cmd.prefix, inputs[0], out, *extras, **kwargs)
    except KeyboardInterrupt:
        print(f"{PROG} {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            traceback.print_exc()
        print(f"{PROG} {name}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    progress.finish()
    if not quiet:
        dt = time.perf_counter() - t0
        if isinstance(written, dict):  # several files: name them all
            written = ", ".join(str(v) for v in written.values())
        print(f"{PROG} {name}: wrote {written} in {dt:.1f} s", file=sys.stderr, flush=True)
    return 0


def _run_batch(
    name: str,
    cmd: Command,
    func: Callable[..., Any],
    inputs: list[str],
    out_dir: str,
    extras: list[Any],
    kwargs: dict[str, Any],
    progress: _Progress,
    quiet: bool,
) -> int:
    """``--output-dir``: every input in this process; a summary; 1 if any failed."""
    from .api.batch import expand_inputs, is_image_input, run_batch

    def accept(p: Any) -> bool:
        return is_image_input(p) or str(p).lower().endswith(cmd.input_extensions)

    label = f"{PROG} {name}"
    try:
        files = expand_inputs(inputs, accept=accept)
    except ValueError as err:
        print(f"{label}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    fmt = str(kwargs.get("output_format", "ome-tiff")).lower().replace("_", "-")

    def on_start(i: int, n: int, inp: Path, out: Path) -> None:
        progress.reset()
        progress.label = f"{label} [{i}/{n}]"
        if not quiet:
            print(f"{progress.label} {inp} -> {out}", file=sys.stderr, flush=True)

    def on_item(item: Any) -> None:
        item.message = _cli_text(item.message)
        if item.status == "done":
            progress.finish()
        if not quiet:
            why = f": {item.message}" if item.message else ""
            print(
                f"{progress.label} {item.status} in {item.seconds:.1f} s{why}",
                file=sys.stderr,
                flush=True,
            )

    overwrite = bool(kwargs.pop("overwrite", False))
    if "verbose" in kwargs and "verbose" in inspect.signature(func).parameters:
        kwargs["verbose"] = False
    summary = run_batch(
        func,
        files,
        out_dir,
        prefix=cmd.prefix,
        args=tuple(extras),
        kwargs=kwargs,
        suffix="_" + name.replace("-", "_"),
        extension=".ome.zarr" if fmt == "ome-zarr" else ".ome.tif",
        overwrite=overwrite,
        pass_overwrite=cmd.overwrite,
        overwrite_hint="--overwrite",
        on_start=on_start,
        on_item=on_item,
    )
    head, *reasons = summary.lines()
    for line in reasons:  # the skipped / failed inputs, then the total as the last line
        print(line, file=sys.stderr)
    print(f"{label}: {head}", file=sys.stderr, flush=True)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
