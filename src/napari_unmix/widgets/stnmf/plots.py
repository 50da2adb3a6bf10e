"""The STNMF dock's plot: the distribution of every subunit's weights over the spikes."""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

from ...plot.stnmf import subunit_colors

__all__ = ["WeightsPlot"]


class WeightsPlot(FigureCanvasQTAgg):
    """A Qt canvas with one step histogram of weights per subunit of an STNMF."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(4, 2), layout="constrained")
        super().__init__(self.figure)
        self.setMinimumHeight(160)

    def show_weights(self, s: Any) -> None:
        """Draw the weights of the subunits of the STNMF ``s``."""
        self.figure.clear()
        ax = self.figure.add_subplot()
        loc = list(s.localized)
        for k, c in zip(loc, subunit_colors(len(loc)), strict=True):
            ax.hist(s.weights[k], bins=60, histtype="step", color=c, label=str(k))
        ax.set_xlabel("weight per spike", fontsize=7)
        ax.set_ylabel("spikes", fontsize=7)
        ax.tick_params(labelsize=6)
        if loc:
            ax.legend(fontsize=6, ncols=2, title="subunit", title_fontsize=6)
        self.draw_idle()
