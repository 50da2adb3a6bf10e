"""Shared plumbing of the stack tools: TZCYX checks, per-volume mapping with progress, NaN handling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask
from scipy import ndimage as ndi

from ..axes import validate_tzcyx
from ..options import option
from ..progress import Progress, Steps
from ..result import Result, ResultLayer


@dataclass
class StackToolResult:
    """What one stack tool returns: the TZCYX ``data``, the ``options`` used, the shifts
    (y, x) in pixels for the drift tools, and the ``report`` the API adds."""

    tool: str
    data: Any
    options: dict[str, Any]
    shifts: np.ndarray | None = None
    report: dict[str, Any] = field(default_factory=dict)

    def to_result(self, source: str = "") -> Result:
        """One TZCYX layer (role "corrected") named after the tool; the shifts as a table.

        Examples
        --------
        >>> res = StackToolResult("max-z", np.zeros((1, 1, 1, 4, 4)), {}).to_result("cells")
        >>> res.layer_names(), res.layers[0].axes
        (['cells · max-z · max-z'], 'TZCYX')
        """
        layer = ResultLayer(self.tool, self.data, axes="TZCYX", role="corrected")
        tables = {} if self.shifts is None else {"shifts_yx": self.shifts}
        return Result(self.tool, [layer], report=self.report, source=source, tables=tables)


def _out_dtype(data: Any) -> np.dtype:
    return np.dtype(np.float64) if np.dtype(data.dtype) == np.float64 else np.dtype(np.float32)


def _check_stack(stack: Any) -> Any:
    if not hasattr(stack, "shape"):
        stack = np.asarray(stack)
    validate_tzcyx(stack, name="stack")
    return stack


def _check_index(name: str, value: int, n: int, axis: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not 0 <= int(value) < n:
        raise ValueError(f"{name}={value} is out of range: the stack has {n} {axis} (0..{n - 1})")
    return int(value)


def reference_t_option(doc: str) -> Any:
    """The ``reference_t`` field of a stack tool: the time point the others are matched to."""
    return option(0, label="Reference time point", doc=doc, bounds=(0, None))


def zrange_option(doc: str = "half-open z range START STOP (none: all slices)") -> Any:
    """The ``zrange`` field of a stack tool (read by :func:`_zrange`)."""
    return option(None, label="Z range", doc=doc, flag="--zrange")


def _zrange(zrange: Sequence[int] | None, n_z: int) -> tuple[int, int]:
    """Half-open ``(start, stop)``; ``stop`` past the end is clamped to Z."""
    if zrange is None:
        return 0, n_z
    if len(zrange) != 2:
        raise ValueError(f"zrange must be (start, stop) or None, got {zrange=}")
    start, stop = int(zrange[0]), min(int(zrange[1]), n_z)
    if not 0 <= start < stop:
        raise ValueError(
            f"zrange={tuple(zrange)} selects no slice of a stack with {n_z} z-slices; "
            f"use 0 <= start < stop <= {n_z}"
        )
    return start, stop


def _map_volumes(
    stack: Any,
    fn: Callable[[np.ndarray, int, int], np.ndarray],
    dtype: np.dtype,
    message: str = "volumes",
) -> Steps:
    """Apply ``fn(volume_zyx, t, c)`` to every (t, c) volume; lazily on dask arrays.

    Yields one :class:`~napari_unmix.core.progress.Progress` per volume (one in all for
    dask, where the work happens later)."""
    n_t, _, n_c = stack.shape[:3]
    if _is_dask(stack):
        chunked = stack.rechunk({0: 1, 1: -1, 2: 1, 3: -1, 4: -1})

        def block(b: np.ndarray, block_info: dict | None = None) -> np.ndarray:
            if block_info is None or 0 not in block_info:  # dask's meta probe
                return np.empty(b.shape, dtype)
            t, _, c = block_info[0]["chunk-location"][:3]
            out = fn(np.asarray(b[0, :, 0]), t, c)
            return np.asarray(out, dtype)[None, :, None]

        yield Progress(1, 1, message)
        return chunked.map_blocks(block, dtype=dtype)
    out = np.empty(stack.shape, dtype)
    total = n_t * n_c
    for t in range(n_t):
        for c in range(n_c):
            out[t, :, c] = fn(np.asarray(stack[t, :, c]), t, c)
            yield Progress(t * n_c + c + 1, total, message)
    return out


# ----------------------------------------------------------------------------- non-finite
def fill_nonfinite(data: np.ndarray, bad: np.ndarray | None = None) -> np.ndarray:
    """Copy of ``data`` whose non-finite pixels hold the mean of their finite neighbours.

    Neighbours are the 3 x 3 window in the last two axes (Y, X); a pixel without any
    takes the mean of all finite pixels (0 if there are none). Returns ``data`` itself
    when every pixel is finite. Used so that a NaN or inf pixel neither spreads through a
    filter or an interpolation nor shifts its neighbours.

    Examples
    --------
    >>> img = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0], [7.0, 8.0, 9.0]])
    >>> round(float(fill_nonfinite(img)[1, 1]), 6)
    5.0
    """
    data = np.asarray(data)
    bad = ~np.isfinite(data) if bad is None else np.asarray(bad, bool)
    if not bad.any():
        return data
    ok = ~bad
    values = np.where(ok, data, 0.0).astype(np.float64)
    size = (1,) * (data.ndim - 2) + (3, 3)
    num = ndi.uniform_filter(values, size=size, mode="nearest")
    den = ndi.uniform_filter(ok.astype(np.float64), size=size, mode="nearest")
    overall = float(values[ok].mean()) if ok.any() else 0.0
    local = np.divide(num, den, out=np.full(data.shape, overall), where=den > 1e-9)
    dtype = data.dtype if np.issubdtype(data.dtype, np.floating) else np.float64
    return np.where(ok, data, local).astype(dtype)


def nan_safe(fn: Callable[[np.ndarray], np.ndarray], data: np.ndarray) -> np.ndarray:
    """``fn(data)`` computed on the filled data; non-finite pixels keep their value.

    Examples
    --------
    >>> img = np.ones((4, 4)); img[1, 2] = np.nan
    >>> out = nan_safe(lambda a: ndi.gaussian_filter(a, 1.0), img)
    >>> bool(np.isnan(out[1, 2])), bool(np.allclose(np.delete(out.ravel(), 6), 1.0))
    (True, True)
    """
    bad = ~np.isfinite(data)
    if not bad.any():
        return fn(data)
    out = np.array(fn(fill_nonfinite(data, bad)))
    out[bad] = np.asarray(data)[bad]
    return out


def nan_max(data: Any, axis: int, *, keepdims: bool = False) -> Any:
    """Maximum over ``axis`` ignoring NaN (NaN only where every value is NaN).

    numpy or dask (stays lazy); integer data go straight to ``max``.

    Examples
    --------
    >>> nan_max(np.array([[1.0, np.nan], [np.nan, np.nan]]), 1).tolist()
    [1.0, nan]
    """
    if not np.issubdtype(np.dtype(data.dtype), np.floating):
        return data.max(axis=axis, keepdims=keepdims)
    nan = np.isnan(data)
    best = np.where(nan, -np.inf, data).max(axis=axis, keepdims=keepdims)
    return np.where(nan.all(axis=axis, keepdims=keepdims), np.nan, best).astype(data.dtype)
