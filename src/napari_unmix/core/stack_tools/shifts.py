"""Applying (y, x) shifts to a TZCYX stack: one 2-D shift per plane, NaN / inf kept in place.

Shifts are the corrections estimated by :mod:`.registration`: what ``scipy.ndimage.shift``
applies to bring a slice or time point onto its reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from ..progress import run
from ..validate import check_array, check_int
from ._stacks import Steps, _check_stack, _map_volumes, _out_dtype, fill_nonfinite

__all__ = ["apply_shifts"]


#: scipy.ndimage boundary modes for shifted-in pixels
_SHIFT_MODES = ("constant", "nearest", "reflect", "mirror", "wrap", "grid-constant")


def _shift_plane(plane: np.ndarray, shift: np.ndarray, order: int, mode: str) -> np.ndarray:
    """``ndimage.shift`` of one plane; non-finite pixels move to the nearest pixel.

    They are interpolated as the mean of their finite neighbours, so they do not spread
    into (or pull on) the pixels around them, and keep their value (NaN, inf) where they
    land.
    """
    whole = np.round(shift)  # within 1e-6 px of whole pixels: no blur
    shift = np.where(np.abs(shift - whole) < 1e-6, whole, shift)
    # scipy's "constant" sets a whole border row to 0 for any sub-pixel shift;
    # "grid-constant" blends it with the 0 outside by the fraction that left
    mode = "grid-constant" if mode == "constant" else mode
    bad = ~np.isfinite(plane)
    if not bad.any():
        return ndi.shift(plane, shift, order=order, mode=mode)
    out = ndi.shift(fill_nonfinite(plane, bad), shift, order=order, mode=mode)
    codes = np.select([np.isnan(plane), plane == np.inf, plane == -np.inf], [1, 2, 3], 0)
    codes = codes.astype(np.uint8)
    moved = ndi.shift(codes, shift, order=0, mode="grid-constant", cval=0)
    out[moved > 0] = np.array([np.nan, np.inf, -np.inf], out.dtype)[moved[moved > 0] - 1]
    return out


def _apply_shifts_steps(
    stack: Any, shifts: np.ndarray, *, interpolation_order: int = 1, mode: str = "constant"
) -> Steps:
    stack = _check_stack(stack)
    n_t, n_z = stack.shape[:2]
    check_array("shifts", shifts, finite=True)
    if mode not in _SHIFT_MODES:
        raise ValueError(f"unknown mode={mode!r}; choose one of {list(_SHIFT_MODES)}")
    shifts = np.asarray(shifts, np.float64)
    if shifts.shape == (n_t, 2):
        shifts = np.repeat(shifts[:, None], n_z, axis=1)
    if shifts.shape != (n_t, n_z, 2):
        raise ValueError(
            f"shifts must have shape (T, 2) or (T, Z, 2) = ({n_t}, {n_z}, 2) for "
            f"{stack.shape=}, got {shifts.shape=}"
        )
    check_int("interpolation_order", interpolation_order, minimum=0, maximum=5)
    order = int(interpolation_order)
    dtype = _out_dtype(stack)

    def one(volume: np.ndarray, t: int, c: int) -> np.ndarray:
        out = np.empty(volume.shape, dtype)
        for z in range(volume.shape[0]):  # one 2-D shift per plane
            out[z] = _shift_plane(volume[z].astype(dtype), shifts[t, z], order, mode)
        return out

    return (yield from _map_volumes(stack, one, dtype, "shift"))


def apply_shifts(
    stack: Any,
    shifts: np.ndarray,
    /,
    *,
    interpolation_order: int = 1,
    mode: str = "constant",
) -> Any:
    """Shift every YX plane of every channel by ``shifts`` (``(T, 2)`` or ``(T, Z, 2)``).

    ``interpolation_order`` 1 (linear, default) never creates values outside the input
    range; 3 (cubic spline) is sharper. Pixels shifted in from outside become 0
    (``mode="constant"``; a border pixel that moved by a fraction of a pixel is blended
    with that 0 by the same fraction; ``"nearest"`` repeats the edge). A NaN or inf pixel moves to the
    nearest pixel and keeps its value; its neighbours are interpolated as if it held the
    mean of its finite neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((1, 1, 1, 1, 5), np.float32)
    >>> stack[..., 2] = 1
    >>> apply_shifts(stack, np.array([[0.0, 1.0]]))[0, 0, 0, 0].tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0]
    """
    return run(
        _apply_shifts_steps(stack, shifts, interpolation_order=interpolation_order, mode=mode)
    )
