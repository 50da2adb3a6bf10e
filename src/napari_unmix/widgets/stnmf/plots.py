"""The STNMF dock's plot: the distribution of every subunit's weights over the spikes, in
napari's theme colours (:mod:`napari_unmix.widgets._theme`)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from ...plot.stnmf import subunit_colors
from .._canvas import LazyCanvas
from .._fit import shrinkable
from .._theme import style_axes, theme_colors

__all__ = ["WeightsPlot"]


class WeightsPlot(LazyCanvas):
    """A Qt canvas with one step histogram of weights per subunit of an STNMF."""

    def __init__(self, viewer: Any = None) -> None:
        self.figure = Figure(figsize=(4, 2))
        self.figure.subplots_adjust(left=0.15, right=0.97, bottom=0.22, top=0.95)
        super().__init__(self.figure)
        self.viewer = viewer
        self.setMinimumHeight(170)
        shrinkable(self)

    def show_weights(self, s: Any) -> None:
        """Draw the weights of the subunits of the STNMF ``s``."""
        self.figure.clear()
        ax = self.figure.add_subplot()
        loc = list(s.localized)
        for k, c in zip(loc, subunit_colors(len(loc)), strict=True):
            ax.hist(s.weights[k], bins=60, histtype="step", color=c, label=str(k))
        ax.set_xlabel("weight per spike (a.u.)", fontsize=7)
        ax.set_ylabel("spikes", fontsize=7)
        if loc:
            ax.legend(fontsize=6, ncols=2, title="subunit", title_fontsize=6)
        else:
            ax.set_title("no subunit", fontsize=7)
        colors = theme_colors(self.viewer)
        style_axes(self.figure, colors)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_title().set_color(colors["text"])
        self.draw_idle()  # drawn when shown
