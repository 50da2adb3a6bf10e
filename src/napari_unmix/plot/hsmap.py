"""Figures of hyperspectral maps: band maps, cluster maps, cluster spectra (mean ± sd)."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap

from ..core.hsmap import cluster_colors
from ..core.units import axis_label
from .figure import new_figure

__all__ = ["cluster_map_figure", "cluster_spectra_figure", "draw_cluster_spectra", "map_figure"]


def map_figure(
    image: np.ndarray, *, title: str, cbar_label: str, cmap: str = "viridis", robust: bool = True
):
    """One (Y, X) map with a colour bar; NaN (masked) pixels are grey.

    With ``robust``, the colour range spans the 1st–99th percentile, so a few extreme
    pixels (ratios over a near-zero band) do not wash out the map.

    Examples
    --------
    >>> fig = map_figure(np.eye(4), title="t", cbar_label="a.u.")
    >>> len(fig.axes)
    2
    """
    fig = new_figure(4.6, 3.8)
    ax = fig.add_subplot()
    finite = np.asarray(image)[np.isfinite(image)]
    lims = np.percentile(finite, [1, 99]) if robust and finite.size else (None, None)
    cm = colormaps[cmap].with_extremes(bad="0.7")
    im = ax.imshow(
        np.ma.masked_invalid(image), cmap=cm, interpolation="nearest", vmin=lims[0], vmax=lims[1]
    )
    ax.set_title(title)
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    fig.colorbar(im, ax=ax, label=cbar_label)
    return fig


def cluster_map_figure(labels: np.ndarray, *, title: str = "clusters"):
    """Label image (1..k) in the cluster colours, with a colour bar per cluster.

    Examples
    --------
    >>> fig = cluster_map_figure(np.array([[1, 2], [2, 1]]))
    >>> len(fig.axes)
    2
    """
    k = max(int(np.max(labels)), 1)
    colors = np.vstack([[0, 0, 0, 1], cluster_colors(k)])
    fig = new_figure(4.6, 3.8)
    ax = fig.add_subplot()
    im = ax.imshow(labels, cmap=ListedColormap(colors), vmin=-0.5, vmax=k + 0.5,
                   interpolation="nearest")  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    cbar = fig.colorbar(im, ax=ax, ticks=np.arange(1, k + 1), label="cluster")
    cbar.ax.set_ylim(0.5, k + 0.5)
    return fig


def draw_cluster_spectra(ax, axis, mean, sd, *, counts=None, units: str | None = "cm-1"):
    """Draw every cluster's mean spectrum with a ±1 sd band on ``ax`` (also used in the dock)."""
    colors = cluster_colors(len(mean))
    for j, (m, s) in enumerate(zip(mean, sd, strict=True)):
        label = f"cluster {j + 1}" + (f" (n={int(counts[j])})" if counts is not None else "")
        ax.fill_between(axis, m - s, m + s, color=colors[j], alpha=0.25, linewidth=0)
        ax.plot(axis, m, color=colors[j], label=label, linewidth=1.2)
    ax.set_xlabel(axis_label(units))
    ax.set_ylabel("intensity (mean ± sd)")
    ax.legend(fontsize="small")


def cluster_spectra_figure(axis, mean, sd, *, counts=None, units: str | None = "cm-1"):
    """Mean ± sd spectrum of every cluster.

    Examples
    --------
    >>> fig = cluster_spectra_figure(np.arange(3), np.ones((2, 3)), np.zeros((2, 3)))
    >>> len(fig.axes[0].lines)
    2
    """
    fig = new_figure(6.0, 3.8)
    draw_cluster_spectra(fig.add_subplot(), axis, mean, sd, counts=counts, units=units)
    return fig
