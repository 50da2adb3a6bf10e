"""Shared plumbing of the stack tools: TZCYX checks, progress steps, per-volume mapping."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np

from .axes import validate_tzcyx

Steps = Generator[tuple[int, int], None, Any]


def run_steps(steps: Steps) -> Any:
    """Drain a generator that yields ``(done, total)`` and return its return value.

    Examples
    --------
    >>> def work():
    ...     yield 1, 1
    ...     return "result"
    >>> run_steps(work())
    'result'
    """
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "dask"


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
    stack: Any, fn: Callable[[np.ndarray, int, int], np.ndarray], dtype: np.dtype
) -> Steps:
    """Apply ``fn(volume_zyx, t, c)`` to every (t, c) volume; lazily on dask arrays."""
    n_t, _, n_c = stack.shape[:3]
    if _is_dask(stack):
        chunked = stack.rechunk({0: 1, 1: -1, 2: 1, 3: -1, 4: -1})

        def block(b: np.ndarray, block_info: dict | None = None) -> np.ndarray:
            if block_info is None or 0 not in block_info:  # dask's meta probe
                return np.empty(b.shape, dtype)
            t, _, c = block_info[0]["chunk-location"][:3]
            out = fn(np.asarray(b[0, :, 0]), t, c)
            return np.asarray(out, dtype)[None, :, None]

        yield 1, 1
        return chunked.map_blocks(block, dtype=dtype)
    out = np.empty(stack.shape, dtype)
    total = n_t * n_c
    for t in range(n_t):
        for c in range(n_c):
            out[t, :, c] = fn(np.asarray(stack[t, :, c]), t, c)
            yield t * n_c + c + 1, total
    return out
