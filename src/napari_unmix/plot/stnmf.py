"""STNMF figure: STA with subunit outlines, the modules, the weights and Moran's I (Agg)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .figure import new_figure

__all__ = ["plot_stnmf", "subunit_colors"]


def subunit_colors(n: int, colors: str = "hsv") -> np.ndarray:
    """``n`` RGBA colours sampled from a matplotlib colormap (end point excluded).

    Examples
    --------
    >>> subunit_colors(3).shape
    (3, 4)
    """
    return colormaps[colors](np.linspace(0, 1, max(n, 1), endpoint=False))[:n]


def _image(ax, img, cmap, title):
    lim = np.nanmax(np.abs(img)) or 1.0
    ax.imshow(np.asarray(img).T, cmap=cmap, vmin=-lim, vmax=lim, origin="lower")
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_stnmf(
    s: Any,
    *,
    full: bool = True,
    colors: str = "hsv",
    cmap: str | None = None,
    truth: np.ndarray | None = None,
) -> Figure:
    """Overview figure of an :class:`~napari_unmix.api.stnmf.STNMF` result.

    Panels: the STA with its outline (black) and the subunit outlines (``colors``); every
    module (localized ones titled in their colour); the distribution of every subunit's
    weights over the spikes (``full``; one outline histogram per subunit, its mean
    marked); Moran's I per module (integer module ticks) with the threshold. ``truth`` (s, x, y)
    optionally adds the true subunit outlines dashed on the STA panel.
    """
    cmap = cmap or "RdBu_r"
    r = s.r
    ncol = min(r, 10)
    nrow_mod = int(np.ceil(r / ncol))
    fig = new_figure(1.2 * ncol + 1, 2.6 + 1.2 * nrow_mod + (1.6 if full else 0))
    grid = fig.add_gridspec(2 + nrow_mod + (1 if full else 0), ncol)
    loc = list(s.localized)
    col = subunit_colors(len(loc), colors)
    ax = fig.add_subplot(grid[:2, : ncol // 2])
    _image(ax, s.sta, cmap, "STA and subunit outlines")
    if len(s.sta_outline):
        ax.plot(*s.sta_outline.T, color="k", lw=1.5)
    for c, o in zip(col, s.outlines, strict=True):
        if len(o):
            ax.plot(*o.T, color=c, lw=1.2)
    if truth is not None:
        from ..core.stnmf.props import contour

        for t in truth:
            o = contour(t)
            if len(o):
                ax.plot(*o.T, color="0.3", lw=0.8, ls="--")
    ax2 = fig.add_subplot(grid[:2, ncol // 2 :])
    mi = np.asarray(s.moransi)
    bar_colors = ["0.6"] * r
    for c, k in zip(col, loc, strict=True):
        bar_colors[k] = c
    ax2.bar(np.arange(r), mi, color=bar_colors)
    ax2.axhline(s.moransi_threshold, color="k", ls=":", lw=1)
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlim(-0.6, r - 0.4)
    ax2.set_title("Moran's I (coloured: subunits; dotted: threshold)", fontsize=7)
    ax2.set_xlabel("module", fontsize=7)
    ax2.set_ylabel("Moran's I", fontsize=7)
    ax2.tick_params(labelsize=6)
    for k in range(r):
        axm = fig.add_subplot(grid[2 + k // ncol, k % ncol])
        _image(axm, s.modules[k], cmap, f"{k}")
        if k in loc:
            axm.title.set_color(col[loc.index(k)])
    if full and loc:
        axw = fig.add_subplot(grid[-1, :])
        w = np.asarray(s.weights[loc], np.float64)
        lo, hi = np.percentile(w, [0.5, 99.5])
        bins = np.linspace(lo, hi, 80)
        for k, c, row in zip(loc, col, w, strict=True):
            axw.hist(row, bins=bins, histtype="step", color=c, lw=1.0, label=f"{k}")
            axw.axvline(row.mean(), color=c, lw=0.8, ls=":")
        axw.set_xlabel("weight per spike (dotted: mean)", fontsize=7)
        axw.set_ylabel("spikes", fontsize=7)
        axw.tick_params(labelsize=6)
        axw.legend(fontsize=6, ncols=min(len(loc), 10), title="subunit", title_fontsize=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.suptitle(f"STNMF: {len(loc)} subunits of {r} modules, residual {s.res:.4g}", fontsize=8)
    return fig
