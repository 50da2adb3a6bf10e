"""Drift correction of TZCYX stacks: shift estimation (subpixel), its options and methods.

Used through :mod:`napari_unmix.core.stack_tools` (same names). Shifts are ``(y, x)``
corrections in pixels: what :func:`~.shifts.apply_shifts` passes to
``scipy.ndimage.shift`` to bring a slice or time point onto its reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..options import Options, option, takes_options
from ..progress import Progress, run
from ..validate import check_array
from ._stacks import (
    StackToolResult,
    Steps,
    _check_index,
    _check_stack,
    _zrange,
    nan_max,
    reference_t_option,
    zrange_option,
)
from ._translation import estimate_translation
from .methods import REFERENCE_MODES, REGISTRATION_METHODS, _prefilter
from .shifts import _apply_shifts_steps, apply_shifts

__all__ = [
    "REFERENCE_MODES",
    "REGISTRATION_METHODS",
    "RegisterOptions",
    "RegistrationOptions",
    "ZDriftOptions",
    "apply_shifts",
    "correct_intra_stack_z_drift",
    "estimate_time_shifts",
    "estimate_translation",
    "estimate_z_drift",
    "register_stack",
]


@dataclass(frozen=True)
class RegistrationOptions(Options):
    """Options of shift estimation and application shared by z-drift and registration."""

    registration_channel: int = option(
        0, label="Registration channel", bounds=(0, None),
        doc="channel used to estimate the shifts (index in the stack)",
    )  # fmt: skip
    method: str = option("phase_cross_correlation", label="Method", doc="shift estimator",
                         choices=REGISTRATION_METHODS)  # fmt: skip
    pre_median_filter: bool = option(
        False, label="Pre median filter", advanced=True,
        doc="median-filter the registration channel first (noisy data)",
    )  # fmt: skip
    post_median_filter: bool = option(
        False, label="Post median filter", doc="median-filter both images before each estimate",
        advanced=True,
    )  # fmt: skip
    median_kernel_size: int = option(3, label="Median kernel size", bounds=(1, None), unit="px",
                                     doc="size of those median filters", advanced=True)  # fmt: skip
    upsample_factor: int = option(
        1, label="Upsample factor", bounds=(1, None), advanced=True,
        doc="cross-correlation precision 1/N pixel before refinement",
    )  # fmt: skip
    max_shift: float | None = option(
        None, label="Max shift", bounds=(0.0, None), unit="px",
        doc="largest plausible shift per axis in pixels (none: 45 % of the image)",
    )  # fmt: skip
    interpolation_order: int = option(
        1, label="Interpolation order", bounds=(0, 5), advanced=True,
        doc="spline order of the shift, 1 linear (no new extremes), 3 cubic (sharper)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        REGISTRATION_METHODS.resolve(self.method)  # "unknown method ..." first
        super().__post_init__()
        if self.max_shift is not None and not (np.isfinite(self.max_shift) and self.max_shift > 0):
            raise ValueError(
                f"max_shift must be a positive number of pixels or None, got {self.max_shift}"
            )


@dataclass(frozen=True)
class ZDriftOptions(RegistrationOptions):
    """Options of :func:`correct_intra_stack_z_drift`."""

    reference_mode: str = option("neighbor", label="Reference mode", doc="reference of each slice",
                                 choices=REFERENCE_MODES)  # fmt: skip
    neighbor_window_size: int = option(
        3, label="Neighbour window", advanced=True,
        doc="odd window for reference_mode neighbor: slice z against the window // 2 before it",
    )  # fmt: skip

    def __post_init__(self) -> None:
        REFERENCE_MODES.resolve(self.reference_mode)  # "unknown reference_mode ..." first
        super().__post_init__()
        window = self.neighbor_window_size
        if window < 3 or window % 2 == 0:
            raise ValueError(f"neighbor_window_size must be odd and >= 3, got {window}")


@dataclass(frozen=True)
class RegisterOptions(RegistrationOptions):
    """Options of :func:`register_stack`."""

    zrange: tuple[int, ...] | None = zrange_option(
        "half-open z range START STOP of the projection (none: all slices)"
    )
    reference_t: int = reference_t_option("time point the others are aligned to")


def _estimator(opts: RegistrationOptions) -> Callable:
    fn = REGISTRATION_METHODS.resolve(opts.method).function
    factor, size, max_shift = opts.upsample_factor, opts.median_kernel_size, opts.max_shift

    def estimate(reference: np.ndarray, moving: np.ndarray, where: str) -> np.ndarray:
        ref = _prefilter(reference.astype(np.float32), opts.post_median_filter, size)
        mov = _prefilter(moving.astype(np.float32), opts.post_median_filter, size)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shift = fn(ref, mov, factor, max_shift=max_shift)
        for w in caught:  # say which image it was about
            warnings.warn(f"{where}: {w.message}", w.category, stacklevel=4)
        return shift

    return estimate


def _z_shifts(stack: Any, opts: ZDriftOptions) -> Steps:
    stack = _check_stack(stack)
    n_t, n_z, n_c = stack.shape[:3]
    channel = _check_index("registration_channel", opts.registration_channel, n_c, "channels")
    estimate = _estimator(opts)
    reference = REFERENCE_MODES.resolve(opts.reference_mode).function
    shifts = np.zeros((n_t, n_z, 2), np.float64)
    for t in range(n_t):
        volume = np.asarray(stack[t, :, channel]).astype(np.float32)
        volume = _prefilter(volume, opts.pre_median_filter, opts.median_kernel_size)
        for z in range(n_z):
            if z == 0 and opts.reference_mode in ("first", "neighbor"):
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                shifts[t, z] = reference(
                    volume, z, shifts[t], estimate, opts.neighbor_window_size // 2
                )
            for w in caught:
                warnings.warn(f"time point {t}, {w.message}", w.category, stacklevel=2)
        yield Progress(t + 1, n_t, "z-drift estimate")
    return shifts


@takes_options(ZDriftOptions, exclude=("interpolation_order",))
def estimate_z_drift(stack: Any, /, *, options: ZDriftOptions) -> Steps:
    """Generator: estimate the (y, x) shift of every z-slice; returns shifts ``(T, Z, 2)``.

    Yields a :class:`~napari_unmix.core.progress.Progress` once per time point. The shifts
    are the corrections that :func:`apply_shifts` applies (``ndimage.shift(slice, shift)``).
    See :func:`correct_intra_stack_z_drift` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_unmix.core.progress import run
    >>> stack = np.zeros((1, 3, 1, 16, 16), np.float32)
    >>> stack[..., 5:9, 5:9] = 1
    >>> run(estimate_z_drift(stack)).shape
    (1, 3, 2)
    """
    stack = _check_stack(stack)
    return (yield from _z_shifts(stack, options))


def _time_shifts(stack: Any, opts: RegisterOptions) -> Steps:
    stack = _check_stack(stack)
    n_t, n_z, n_c = stack.shape[:3]
    channel = _check_index("registration_channel", opts.registration_channel, n_c, "channels")
    reference_t = _check_index("reference_t", opts.reference_t, n_t, "time points")
    start, stop = _zrange(opts.zrange, n_z)
    estimate = _estimator(opts)
    volumes = stack[:, start:stop, channel].astype(np.float32)  # one channel, lazy for dask
    filtered = _prefilter(volumes, opts.pre_median_filter, opts.median_kernel_size)
    projections = np.asarray(nan_max(filtered, 1))  # only (T, Y, X) is computed
    shifts = np.zeros((n_t, 2), np.float64)
    for t in range(n_t):
        if t != reference_t:
            shifts[t] = estimate(
                projections[reference_t], projections[t], f"time point {t} against {reference_t}"
            )
        yield Progress(t + 1, n_t, "shift estimate")
    return shifts


@takes_options(RegisterOptions, exclude=("interpolation_order",))
def estimate_time_shifts(
    stack: Any, /, *, registration_channel: int, options: RegisterOptions
) -> Steps:
    """Generator: estimate one (y, x) shift per time point; returns shifts ``(T, 2)``.

    Shifts come from the max-z projection (over ``zrange``) of ``registration_channel``,
    each time point against ``reference_t``. See :func:`register_stack`.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_unmix.core.progress import run
    >>> stack = np.zeros((2, 1, 1, 32, 32), np.float32)
    >>> stack[0, ..., 10:18, 10:18] = 1
    >>> stack[1, ..., 12:20, 10:18] = 1  # moved 2 px down
    >>> shifts = run(estimate_time_shifts(stack, registration_channel=0))
    >>> bool(np.allclose(shifts, [[0, 0], [-2, 0]], atol=0.05))
    True
    """
    stack = _check_stack(stack)
    return (yield from _time_shifts(stack, options))


def _shift_tool(tool: str, shifts_of: Callable, stack: Any, opts: Any) -> Steps:
    """A shift stack tool: estimate (``shifts_of``) and apply; returns a
    :class:`StackToolResult`."""
    stack = _check_stack(stack)
    shifts = yield from shifts_of(stack, opts)
    out = yield from _apply_shifts_steps(
        stack, shifts, interpolation_order=opts.interpolation_order
    )
    return StackToolResult(tool, out, opts.as_dict(), shifts)


def _run_shift_tool(steps: Steps, return_shifts: bool) -> Any:
    res = run(steps)
    return (res.data, res.shifts) if return_shifts else res.data


def _z_drift_steps(stack: Any, opts: ZDriftOptions) -> Steps:
    """The "z-drift" stack tool: estimate and apply; returns a :class:`StackToolResult`."""
    return _shift_tool("z-drift", _z_shifts, stack, opts)


@takes_options(ZDriftOptions)
def correct_intra_stack_z_drift(
    stack: Any, /, *, return_shifts: bool = False, options: ZDriftOptions
) -> Any:
    """Align the z-slices of every time point in Y and X (sample drift during a z-scan).

    Shifts are estimated on ``registration_channel`` and applied to all channels of the
    slice. Every option is a field of :class:`ZDriftOptions`.

    Parameters
    ----------
    stack : array, TZCYX
    registration_channel : int, keyword
        Channel with structures that are visible in every slice (default 0).
    method : str, keyword
        A key of :data:`REGISTRATION_METHODS` (default ``"phase_cross_correlation"``).
    reference_mode : str, keyword
        A key of :data:`REFERENCE_MODES`: ``"neighbor"`` (default; each slice against
        the slices just before it, good when the content changes with depth), ``"first"``,
        ``"mean"`` or ``"full_projection"``.
    neighbor_window_size : int, keyword
        Odd window (default 3): slice z is compared with the ``window // 2`` slices
        before it and the estimates averaged.
    pre_median_filter, post_median_filter : bool, keyword
        Median-filter the registration channel before building the references, or both
        images just before each estimate (for noisy data). Shift estimation only.
    median_kernel_size : int, keyword
        Size of those median filters (default 3).
    upsample_factor : int, keyword
        Precision 1/upsample_factor pixels of ``"phase_cross_correlation_only"``
        (default 1: whole pixels); ``"phase_cross_correlation"`` refines by least
        squares instead and does not need it.
    max_shift : float, keyword
        Largest plausible shift per axis in pixels (default None: 45 % of the image).
        A tighter bound makes the estimate more robust when you know the drift is small.
    interpolation_order : int, keyword
        Spline order of the shift (default 1, linear).
    return_shifts : bool, keyword
        Also return the shifts ``(T, Z, 2)`` (y, x).

    Returns
    -------
    array or (array, ndarray)
        TZCYX float32 (float64 for float64 input); with ``return_shifts`` the shifts too.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage as ndi
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> plane = make_bleedthrough_stack(n_t=1, n_z=1, shape=(48, 48))[0][0, 0, 0]
    >>> stack = np.stack([plane, ndi.shift(plane, (1.5, -0.5), mode="nearest")])[None, :, None]
    >>> _, shifts = correct_intra_stack_z_drift(stack, return_shifts=True)
    >>> np.round(shifts[0, 1], 1).tolist()
    [-1.5, 0.5]
    """
    check_array("stack", stack)  # NaN / inf pixels are allowed: they get no weight
    return _run_shift_tool(_z_drift_steps(stack, options), return_shifts)


def _register_steps(stack: Any, opts: RegisterOptions) -> Steps:
    """The "register" stack tool: estimate and apply; returns a :class:`StackToolResult`."""
    return _shift_tool("register", _time_shifts, stack, opts)


@takes_options(RegisterOptions)
def register_stack(
    stack: Any,
    /,
    *,
    registration_channel: int,
    return_shifts: bool = False,
    options: RegisterOptions,
) -> Any:
    """Rigid translation over time: align every time point to ``reference_t``.

    The shift of each time point is estimated on the max-z projection of
    ``registration_channel`` and applied to every channel and z-slice. Every option is a
    field of :class:`RegisterOptions`.

    Parameters
    ----------
    stack : array, TZCYX
    registration_channel : int, keyword
        Channel used to estimate the shifts.
    method : str, keyword
        A key of :data:`REGISTRATION_METHODS` (default ``"phase_cross_correlation"``).
    zrange : (start, stop), keyword
        Z-slices used for the projection (default all).
    reference_t : int, keyword
        Time point the others are aligned to (default 0).
    pre_median_filter, post_median_filter, median_kernel_size, upsample_factor, max_shift, interpolation_order, return_shifts
        As in :func:`correct_intra_stack_z_drift`; shifts have shape ``(T, 2)``.

    Returns
    -------
    array or (array, ndarray)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage as ndi
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> stack = make_bleedthrough_stack(n_t=2, n_z=1, shape=(48, 48))[0]
    >>> stack[1] = ndi.shift(stack[0], (0, 0, 0.7, 2.0), mode="nearest")  # drifted
    >>> _, shifts = register_stack(stack, registration_channel=0, return_shifts=True)
    >>> np.round(shifts, 1).tolist()
    [[0.0, 0.0], [-0.7, -2.0]]
    """
    check_array("stack", stack)  # NaN / inf pixels are allowed: they get no weight
    return _run_shift_tool(_register_steps(stack, options), return_shifts)
