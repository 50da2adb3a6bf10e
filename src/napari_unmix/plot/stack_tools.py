"""Figures of the stack tools: known versus recovered shifts, projections before/after."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .figure import new_figure

__all__ = ["plot_shifts", "registration_figure"]


def registration_figure(
    true_shifts: dict[str, np.ndarray],
    estimated: dict[str, np.ndarray],
    before: np.ndarray,
    after: np.ndarray,
    *,
    title: str = "stack tools",
) -> Figure:
    """Shift curves (known drift vs correction found) and two images before/after.

    Parameters
    ----------
    true_shifts, estimated : dict of name -> (n, 2) arrays
        Known drift (y, x) in pixels and the corrections found (which should be its
        negative), e.g. ``{"z-drift (t=0)": ..., "time": ...}``.
    before, after : 2-D arrays
        Images shown side by side (e.g. a time projection before and after).
    """
    n = len(true_shifts)
    fig = new_figure(3.2 * (n + 2), 3.2)
    axes = fig.subplots(1, n + 2)
    for ax, (name, truth) in zip(axes[:n], true_shifts.items(), strict=True):
        est = -np.asarray(estimated[name])
        idx = np.arange(len(truth))
        for k, (label, colour) in enumerate((("y", "tab:blue"), ("x", "tab:orange"))):
            ax.plot(idx, truth[:, k], "o", color=colour, label=f"known {label}")
            ax.plot(idx, est[:, k], "-", color=colour, label=f"found {label}")
        err = float(np.abs(est - truth).max())
        ax.set_title(f"{name}\nmax error {err:.3f} px", fontsize=9)
        ax.set_xlabel("index")
        ax.set_ylabel("drift (px)")
        ax.legend(fontsize=6)
    lim = (float(min(before.min(), after.min())), float(max(before.max(), after.max())))
    for ax, img, label in ((axes[n], before, "before"), (axes[n + 1], after, "after")):
        ax.imshow(img, cmap="magma", vmin=lim[0], vmax=lim[1])
        ax.set_title(label, fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title)
    return fig


def plot_shifts(
    ax: Axes,
    shifts: np.ndarray,
    flagged: np.ndarray | None = None,
    *,
    xlabel: str = "time point",
) -> None:
    """The (y, x) corrections of a drift tool over its frames, flagged frames marked.

    Parameters
    ----------
    ax : matplotlib Axes
    shifts : (n, 2) or (T, n, 2) array
        Corrections in pixels (one curve per time point for the z-drift shape).
    flagged : bool array of shape ``shifts.shape[:-1]``, optional
        Frames left in place (no plausible shift, or no movement): marked with a cross.
    xlabel : str
        What a frame is ("time point", "z-slice").

    Examples
    --------
    >>> from napari_unmix.plot.figure import new_figure
    >>> ax = new_figure(3, 2).add_subplot()
    >>> plot_shifts(ax, np.array([[0, 0], [1.5, -2.0], [0, 0]]), np.array([0, 0, 1], bool))
    >>> ax.get_ylabel(), len(ax.lines)
    ('correction (px)', 4)
    """
    shifts = np.asarray(shifts, float)
    curves = shifts[None] if shifts.ndim == 2 else shifts
    marks = None if flagged is None else np.asarray(flagged, bool).reshape(curves.shape[:-1])
    idx = np.arange(curves.shape[1])
    thin = len(curves) > 1
    for t, curve in enumerate(curves):
        for k, (axis, colour) in enumerate((("y", "tab:blue"), ("x", "tab:orange"))):
            label = axis if t == 0 else None
            ax.plot(
                idx, curve[:, k], "-o", color=colour, lw=0.8 if thin else 1.4, ms=3, label=label
            )
        if marks is not None and marks[t].any():
            ax.plot(
                idx[marks[t]], np.zeros(int(marks[t].sum())), "x", color="tab:red", ms=8, mew=2,
                label="left in place" if t == 0 or not marks[:t].any() else None,
            )  # fmt: skip
    ax.axhline(0.0, lw=0.5, color="0.5")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("correction (px)")
    ax.legend(fontsize=7)
