"""A small matplotlib canvas for dock widgets (Qt backend, no pyplot)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..core.units import axis_label

__all__ = ["SpectrumPlot", "axis_label"]


class SpectrumPlot(QWidget):
    """Lines over a spectral axis, dark theme to match napari."""

    def __init__(self, parent: QWidget | None = None, *, height: float = 2.6) -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=(4.0, height), tight_layout=True, facecolor="#262930")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.ax = self.figure.add_subplot(111)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.canvas.setMinimumHeight(int(height * 60))
        self._style()

    def _style(self) -> None:
        ax = self.ax
        ax.set_facecolor("#262930")
        for spine in ax.spines.values():
            spine.set_color("#aaaaaa")
        ax.tick_params(colors="#dddddd", labelsize=7)
        ax.xaxis.label.set_color("#dddddd")
        ax.yaxis.label.set_color("#dddddd")

    def plot(
        self,
        x: np.ndarray,
        lines: Sequence[dict],
        *,
        xlabel: str = "channel",
        ylabel: str = "intensity",
        title: str = "",
    ) -> None:
        """Redraw with ``lines``: dicts with ``y`` and optional ``color``, ``label``, ``ls``."""
        ax = self.ax
        ax.clear()
        self._style()
        for line in lines:
            ax.plot(
                x,
                line["y"],
                color=line.get("color"),
                ls=line.get("ls", "-"),
                lw=line.get("lw", 1.4),
                label=line.get("label"),
            )
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        if title:
            ax.set_title(title, fontsize=8, color="#dddddd")
        if any(line.get("label") for line in lines):
            leg = ax.legend(fontsize=6, loc="best", frameon=False)
            for text in leg.get_texts():
                text.set_color("#dddddd")
        self.canvas.draw_idle()

    def line_count(self) -> int:
        """Number of lines drawn (for tests)."""
        return len(self.ax.lines)
