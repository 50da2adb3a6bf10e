"""The scale-free stop rule of the NNMF fit (a ratio of objectives, never of the data's unit)."""

from __future__ import annotations

import numpy as np

__all__ = ["STOP_WINDOW", "stop_rule"]

#: iterations per window of the stop rule (the rule compares two windows)
STOP_WINDOW = 10


def _gap_estimate(history: list[float], window: int) -> float:
    """Remaining objective decrease, extrapolated from the last two windows' drops.

    With ``d1``, ``d2`` the decreases over the two last windows of ``window`` iterations,
    a geometric tail with ratio ``q = d2 / d1`` still holds ``d2 q / (1 − q)``. Infinite
    while the drops do not shrink (no tail to extrapolate yet).
    """
    d1 = history[-1 - window] - history[-1 - 2 * window]
    d2 = history[-1] - history[-1 - window]
    d1, d2 = -d1, -d2
    if d2 <= 0.0:
        return 0.0
    if d1 <= d2:
        return np.inf
    q = d2 / d1
    return d2 * q / (1.0 - q)


def _slow(history: list[float], window: int) -> bool:
    """True when the last window lowered the objective by more than half as much as the one before."""
    if len(history) <= 2 * window:
        return False
    d1 = history[-1 - 2 * window] - history[-1 - window]
    d2 = history[-1 - window] - history[-1]
    return d2 > 0.5 * d1 > 0


def stop_rule(history: list[float], tol: float, floor: float, window: int = STOP_WINDOW) -> bool:
    """Scale-free stop test on an objective history (index 0 = the start).

    Stops when the extrapolated remaining decrease and the mean decrease per iteration
    over the last window are both at most ``tol × (objective + floor)``; ``floor`` (a tiny
    fraction of ``½||X||²``) lets exact factorisations stop. Never decides before two full
    windows, so a huge first drop (a poor start) cannot stop a run. Every quantity is a
    ratio of objectives, so multiplying the data by a constant changes nothing.

    Examples
    --------
    >>> h = [100.0 * 0.5**i + 1.0 for i in range(40)]
    >>> stop_rule(h[:8], 1e-6, 0.0), stop_rule(h, 1e-6, 0.0)
    (False, True)
    """
    if len(history) <= 2 * window:
        return False
    scale = tol * (history[-1] + floor)
    mean_drop = (history[-1 - window] - history[-1]) / window
    return mean_drop <= scale and _gap_estimate(history, window) <= scale
