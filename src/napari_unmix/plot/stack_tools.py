"""Figures of the stack tools: known versus recovered shifts, projections before/after."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .figure import new_figure

__all__ = ["registration_figure"]


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
