"""Sub-commands of the stack tools: flags from each tool's options class."""

from __future__ import annotations

import dataclasses

from ...core.stack_tools import (
    FilterOptions,
    HistogramOptions,
    MaxZOptions,
    RegisterOptions,
    ZDriftOptions,
)
from .._spec import Command, Option, options_from

_STACK = "napari_unmix.api.stack_tools:apply_stack_tool_file"
_REG_COMMON = (
    "registration_channel",
    "method",
    "pre_median_filter",
    "post_median_filter",
    "median_kernel_size",
    "upsample_factor",
    "interpolation_order",
    "max_shift",
)


def _zrange(options: tuple[Option, ...]) -> tuple[Option, ...]:
    """``--zrange START STOP``: exactly two values."""
    return tuple(
        dataclasses.replace(o, kwargs={**o.kwargs, "nargs": 2, "metavar": ("START", "STOP")})
        if o.flag == "--zrange"
        else o
        for o in options
    )


def _stack_command(name: str, help: str, options: tuple[Option, ...]) -> Command:
    return Command(help, _STACK, _zrange(options), prefix=(name,), progress=True)


COMMANDS: dict[str, Command] = {
    "filter": _stack_command(
        "filter",
        "median / Gaussian filters per plane (or per volume with --3d)",
        options_from(FilterOptions, exclude=("channel_overrides",)),
    ),
    "match-histograms": _stack_command(
        "match-histograms",
        "match every time point's histogram to a reference time point, per channel",
        options_from(HistogramOptions),
    ),
    "max-z": _stack_command(
        "max-z",
        "maximum projection over Z (Z kept as a length-1 axis)",
        options_from(MaxZOptions),
    ),
    "z-drift": _stack_command(
        "z-drift",
        "align the z-slices of every time point in Y and X",
        options_from(ZDriftOptions, only=(*_REG_COMMON, "reference_mode", "neighbor_window_size")),
    ),
    "register": _stack_command(
        "register",
        "rigid translation over time onto a reference time point",
        options_from(RegisterOptions, only=(*_REG_COMMON, "zrange", "reference_t")),
    ),
    "convert-time-to-channels": Command(
        "a C=1 file whose time axis holds the channels -> T=1, C=T",
        "napari_unmix.api.stack_tools:convert_time_encoded_stack_to_channel_stack",
    ),
}
