"""Sub-commands of the stack tools."""

from __future__ import annotations

from .._spec import Command, opt

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

COMMANDS: dict[str, Command] = {
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
    "convert-time-to-channels": Command(
        "a C=1 file whose time axis holds the channels -> T=1, C=T",
        "napari_unmix.api.stack_tools:convert_time_encoded_stack_to_channel_stack",
    ),
}
