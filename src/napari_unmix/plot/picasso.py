"""Figures for PICASSO results: mixed / unmixed / true channels and the mixing matrices."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .figure import new_figure

__all__ = ["picasso_figure"]


def picasso_figure(
    mixed: np.ndarray,
    unmixed: np.ndarray,
    *,
    truth: np.ndarray | None = None,
    mixing_estimated: np.ndarray | None = None,
    mixing_true: np.ndarray | None = None,
    title: str = "PICASSO unmixing",
) -> Figure:
    """Channels as rows; columns: measured, unmixed, (true), plus the mixing matrices.

    Parameters
    ----------
    mixed, unmixed : ndarray, shape (N, Y, X)
        Measured and unmixed channels of one plane.
    truth : ndarray, shape (N, Y, X), optional
        True fluorophores (synthetic data).
    mixing_estimated, mixing_true : ndarray, shape (N, N), optional
        Shown as annotated heat maps.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 8, 8))
    >>> fig = picasso_figure(x, x, mixing_estimated=np.eye(2))
    >>> len(fig.axes) >= 5
    True
    """
    n = mixed.shape[0]
    columns = [("measured", mixed), ("unmixed", unmixed)]
    if truth is not None:
        columns.append(("true fluorophore", truth))
    matrices = [
        (lbl, m)
        for lbl, m in (("estimated mixing", mixing_estimated), ("true mixing", mixing_true))
        if m is not None
    ]
    n_col = len(columns) + (1 if matrices else 0)
    fig = new_figure(2.6 * n_col, 2.4 * n)
    axes = fig.subplots(n, n_col, squeeze=False)
    for c in range(n):
        vmax = float(np.percentile(mixed[c], 99.9)) or 1.0
        for k, (label, stack) in enumerate(columns):
            ax = axes[c, k]
            ax.imshow(stack[c], cmap="magma", vmin=0, vmax=vmax)
            ax.set_title(f"{label} C{c}", fontsize=8)
            ax.set_axis_off()
    if matrices:
        for r in range(n):
            axes[r, -1].set_axis_off()
        for r, (label, m) in enumerate(matrices[:n]):
            ax = axes[r, -1]
            ax.set_axis_on()
            ax.imshow(m, cmap="viridis", vmin=0, vmax=max(1.0, float(np.max(m))))
            for (i, j), v in np.ndenumerate(m):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w")
            ax.set_title(label, fontsize=8)
            ax.set_xticks(range(n))
            ax.set_yticks(range(n))
    fig.suptitle(title)
    return fig
