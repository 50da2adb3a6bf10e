"""Checks of PICASSO's inputs: channel lists, source–sink relations, given matrices, the
estimation sample. Messages say what to change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "build_source_sink_matrix",
    "check_integers",
    "is_integer",
    "validate_channels",
]


def validate_channels(channels: Sequence[int] | None, n_channels: int) -> list[int]:
    """Selected channel indices, checked: in range, unique, at least 2.

    Examples
    --------
    >>> validate_channels(None, 3)
    [0, 1, 2]
    >>> validate_channels([2, 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: channels=[2, 2] lists a channel twice; give each channel once
    """
    if channels is None:
        channels = list(range(n_channels))
    check_integers("channels", channels)
    channels = [int(c) for c in channels]
    if len(set(channels)) != len(channels):
        raise ValueError(f"{channels=} lists a channel twice; give each channel once")
    bad = [c for c in channels if not 0 <= c < n_channels]
    if bad:
        raise ValueError(f"channel(s) {bad} do not exist: the data have {n_channels} channels")
    if len(channels) < 2:
        raise ValueError(f"unmixing needs at least 2 channels, got {channels=}")
    return channels


def is_integer(value: Any) -> bool:
    """True for Python/NumPy integers (not bools, not integral floats such as 4.0).

    Examples
    --------
    >>> is_integer(4), is_integer(np.int64(4)), is_integer(4.0), is_integer(True)
    (True, True, False, False)
    """
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_integers(name: str, values: Sequence[Any]) -> None:
    """Refuse channel lists with entries that are not integers (0.5 must not become 0).

    Examples
    --------
    >>> check_integers("channels", [0, 0.5])
    Traceback (most recent call last):
    ...
    ValueError: channels must be integer channel indices, got [0, 0.5] (0.5 is float)
    """
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of channel indices, got {values!r}")
    bad = [v for v in values if not is_integer(v)]
    if bad:
        raise ValueError(
            f"{name} must be integer channel indices, got {list(values)!r} "
            f"({bad[0]!r} is {type(bad[0]).__name__})"
        )


#: largest condition number accepted for a given unmixing matrix
MAX_CONDITION = 1e6


def _matrix_per_t(matrix: Any, n: int, n_t: int) -> np.ndarray:
    try:
        m = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"the unmixing matrix is not a numeric N×N array: {err}") from None
    if m.shape == (n, n):
        m = np.broadcast_to(m, (n_t, n, n))
    if m.shape != (n_t, n, n):
        raise ValueError(
            f"the unmixing matrix must be {n}x{n} or {n_t}x{n}x{n} for {n} selected "
            f"channels and {n_t} time point(s), got {m.shape=}"
        )
    if not np.all(np.isfinite(m)):
        raise ValueError("the unmixing matrix contains NaN or infinite values")
    cond = np.linalg.cond(m)
    worst = int(np.argmax(np.where(np.isfinite(cond), cond, np.inf)))
    if not cond[worst] <= MAX_CONDITION:
        where = f" (time point {worst})" if m.shape[0] > 1 and not np.all(m == m[:1]) else ""
        raise ValueError(
            f"the unmixing matrix{where} is singular or nearly so (condition number "
            f"{float(cond[worst]):.3g} > {MAX_CONDITION:g}): an unmixing matrix must be "
            "invertible, e.g. the inverse of a mixing matrix with 1 on the diagonal"
        )
    return np.array(m)


def build_source_sink_matrix(
    n_channels: int,
    *,
    sink_channels: Sequence[int] | None = None,
    neutral_channels: Sequence[int] | None = None,
) -> np.ndarray:
    """Source–sink matrix (rows = sources, columns = sinks) from channel roles.

    Positions refer to the selected channels (0..n_channels-1). Every non-neutral channel
    may bleed into every sink except itself; neutral channels are neither sources nor
    sinks. Diagonal 1, ``-1`` marks source→sink, 0 none.

    Examples
    --------
    >>> build_source_sink_matrix(3, sink_channels=[2]).tolist()
    [[1, 0, -1], [0, 1, -1], [0, 0, 1]]
    """
    neutral = {int(c) for c in neutral_channels or []}
    sinks = (
        [c for c in range(n_channels) if c not in neutral]
        if sink_channels is None
        else [int(c) for c in sink_channels]
    )
    for name, group in (("sink_channels", sinks), ("neutral_channels", neutral)):
        bad = [c for c in group if not 0 <= c < n_channels]
        if bad:
            raise ValueError(f"{name} {bad} are not among the {n_channels} selected channels")
    if neutral & set(sinks):
        raise ValueError(f"channels {sorted(neutral & set(sinks))} are both sink and neutral")
    if not sinks:
        raise ValueError("no sink channel left; name at least one non-neutral sink")
    m = np.eye(n_channels, dtype=int)
    for src in range(n_channels):
        if src in neutral:
            continue
        for snk in sinks:
            if snk != src:
                m[src, snk] = -1
    return m


def _check_source_sink_matrix(m: Any, n: int) -> np.ndarray:
    m = np.asarray(m)
    if m.shape != (n, n):
        raise ValueError(f"source_sink_matrix must be {n}x{n} for {n} channels, got {m.shape=}")
    if not np.all(np.diag(m) == 1):
        raise ValueError(
            f"source_sink_matrix must have 1 on the diagonal, got diagonal {np.diag(m).tolist()}"
        )
    off = m[~np.eye(n, dtype=bool)]
    if not np.all(np.isin(off, (-1, 0))):
        raise ValueError("off-diagonal entries of source_sink_matrix must be -1 (source→sink) or 0")
    if not np.any(off == -1):
        raise ValueError("source_sink_matrix declares no source→sink relation (-1 entry)")
    return m.astype(int)


def _check_sample(sample: np.ndarray, channels: list[int]) -> int:
    """Fill a few NaN/inf pixels with the channel median (in place); refuse constant
    channels and channels that are mostly non-finite. Returns the filled pixel count."""
    filled = 0
    for k, c in enumerate(channels):
        ch = sample[k]
        bad = ~np.isfinite(ch)
        if bad.any():
            if bad.mean() > 0.5:
                raise ValueError(
                    f"channel {c} is {bad.mean():.0%} NaN or infinite at the estimation time "
                    "point; estimate on a time point with data (alpha_reference_t) or "
                    "replace them first"
                )
            ch[bad] = np.median(ch[~bad])  # a few dead pixels: no structure, no weight
            filled += int(bad.sum())
        lo, hi = float(ch.min()), float(ch.max())
        if not hi > lo:
            raise ValueError(
                f"channel {c} is constant (all values {lo:g}) at the estimation time point; "
                "PICASSO needs structure in every selected channel: deselect it"
            )
    return filled
