"""Stack tools around unmixing: filters, histogram matching, max-z projection, registration.

Every function takes a canonical ``TZCYX`` stack (numpy or dask) and returns a ``TZCYX``
stack; anything else is refused with a message that shows the shape it got (convert first
with :func:`napari_unmix.core.axes.to_tzcyx`).

dtype rules
    Tools that compute new values (filters, histogram matching, shifts) return float32,
    or float64 when the input is float64; integer input is converted before any
    arithmetic. :func:`max_z_project` selects values and keeps the input dtype.

Large data
    Filters, histogram matching and the shift step map over one ``(t, c)`` volume at a
    time; on a dask array they stay lazy (``map_blocks`` over chunks that hold whole
    ``ZYX`` volumes). Shift estimation works on the 2-D images of one registration
    channel, computed exactly, so numpy and dask inputs give the same shifts.

Non-finite pixels
    A NaN or inf pixel stays where it is (or moves with its plane when shifted) and
    keeps its value, and it does not pull on the other pixels: filters and shifts see it
    as the mean of its finite neighbours, histogram matching ignores it, the max-z
    projection keeps it marked (NaN there), and shift estimation gives it no weight.

Options, progress, results
    Each tool's options are one class (:class:`FilterOptions`, :class:`HistogramOptions`,
    :class:`MaxZOptions`, :class:`ZDriftOptions`, :class:`RegisterOptions`); the plain
    functions take them as keywords. :data:`STACK_TOOLS` names every tool:
    ``STACK_TOOLS[name].function(stack, options)`` is a generator yielding
    :class:`~napari_unmix.core.progress.Progress` and returning a :class:`StackToolResult`
    (``.to_result()`` for the docks); widgets wrap it in a ``thread_worker``, the command
    line prints it, the plain functions run it with :func:`~napari_unmix.core.progress.run`.

Examples
--------
>>> import numpy as np
>>> stack = np.zeros((2, 3, 2, 16, 16), np.uint16)
>>> max_z_project(stack).shape
(2, 1, 2, 16, 16)
>>> apply_filters(stack, ["median", "gaussian"]).dtype
dtype('float32')
"""

from __future__ import annotations

from ..registry import Method, Registry
from ._stacks import StackToolResult
from .filters import (
    FILTERS,
    FilterOptions,
    HistogramOptions,
    MaxZOptions,
    _filters_steps,
    _histogram_steps,
    _projection_steps,
    apply_filters,
    match_histograms_across_time,
    max_z_project,
)
from .registration import (
    REFERENCE_MODES,
    REGISTRATION_METHODS,
    RegisterOptions,
    RegistrationOptions,
    ZDriftOptions,
    _register_steps,
    _z_drift_steps,
    apply_shifts,
    correct_intra_stack_z_drift,
    estimate_time_shifts,
    estimate_translation,
    estimate_z_drift,
    register_stack,
)

__all__ = [
    "FILTERS",
    "REFERENCE_MODES",
    "REGISTRATION_METHODS",
    "STACK_TOOLS",
    "FilterOptions",
    "HistogramOptions",
    "MaxZOptions",
    "RegisterOptions",
    "RegistrationOptions",
    "StackToolResult",
    "ZDriftOptions",
    "apply_filters",
    "apply_shifts",
    "correct_intra_stack_z_drift",
    "estimate_time_shifts",
    "estimate_translation",
    "estimate_z_drift",
    "match_histograms_across_time",
    "max_z_project",
    "register_stack",
]

#: The stack tools: ``function(stack, options)`` is a generator yielding
#: :class:`~napari_unmix.core.progress.Progress` and returning a :class:`StackToolResult`;
#: ``options`` is the tool's options class. The API, command line and dock are driven from it.
STACK_TOOLS = Registry(
    "stack tool",
    [
        Method(
            "filter",
            _filters_steps,
            "Filters",
            "median / Gaussian filters, 2-D or 3-D",
            FilterOptions,
        ),
        Method(
            "match-histograms",
            _histogram_steps,
            "Match histograms across time",
            "match every time point's histogram to a reference time point, per channel",
            HistogramOptions,
        ),
        Method(
            "max-z", _projection_steps, "Max-z projection", "maximum projection over Z", MaxZOptions
        ),
        Method(
            "z-drift",
            _z_drift_steps,
            "Correct intra-stack z-drift",
            "align the z-slices of every time point in Y and X",
            ZDriftOptions,
        ),
        Method(
            "register",
            _register_steps,
            "Register over time",
            "rigid translation of every time point onto a reference time point",
            RegisterOptions,
        ),
    ],
)
