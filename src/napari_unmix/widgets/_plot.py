"""A small matplotlib canvas for dock widgets (Qt backend, no pyplot), in napari's theme;
drawn only when on screen (:class:`~napari_unmix.widgets._canvas.LazyCanvas`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..core.units import axis_label
from ._canvas import LazyCanvas
from ._theme import style_axes, theme_colors

__all__ = ["SpectrumPlot", "axis_label"]


class SpectrumPlot(QWidget):
    """Lines over a spectral axis, coloured with the napari theme (:mod:`._theme`).

    A line's ``color`` may be ``"text"`` (the theme's text colour, e.g. for a measured
    spectrum drawn against coloured components)."""

    def __init__(self, parent: QWidget | None = None, *, height: float = 2.6) -> None:
        super().__init__(parent)
        self.colors = theme_colors()
        # fixed margins: tight_layout measures every text on every draw (slow in a dock)
        self.figure = Figure(figsize=(4.0, height))
        self.figure.subplots_adjust(left=0.15, right=0.97, bottom=0.22, top=0.88)
        self.canvas = LazyCanvas(self.figure)  # draws when shown, not during a run
        self._axes: Any = None  # made with the first plot (building axes costs ~25 ms)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.canvas.setMinimumHeight(int(height * 60))
        self._style()

    def _style(self) -> None:
        self.colors = theme_colors()
        style_axes(self.figure, self.colors)

    @property
    def ax(self) -> Any:
        """The axes, with the latest :meth:`plot` drawn into them."""
        self.canvas.ensure_filled()
        return self._subplot()

    def _subplot(self) -> Any:
        if self._axes is None:
            self._axes = self.figure.add_subplot(111)
            self._style()
        return self._axes

    def plot(
        self,
        x: np.ndarray,
        lines: Sequence[dict],
        *,
        xlabel: str = "channel",
        ylabel: str = "intensity",
        title: str = "",
    ) -> None:
        """Redraw with ``lines``: dicts with ``y`` and optional ``color``, ``label``, ``ls``.

        The artists are built when the plot is next painted (or :attr:`ax` is read), so a
        plot that is replaced or never shown costs nothing."""
        labels = {"xlabel": xlabel, "ylabel": ylabel, "title": title}
        self.canvas.set_fill(lambda _figure: self._draw(x, list(lines), **labels))

    def _draw(
        self, x: np.ndarray, lines: list[dict], *, xlabel: str, ylabel: str, title: str
    ) -> None:
        ax = self._subplot()
        ax.clear()
        self.colors = theme_colors()
        for line in lines:
            color = line.get("color")
            ax.plot(
                x,
                line["y"],
                color=self.colors["text"] if color == "text" else color,
                ls=line.get("ls", "-"),
                lw=line.get("lw", 1.4),
                label=line.get("label"),
            )
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        if title:
            ax.set_title(title, fontsize=8)
        if any(line.get("label") for line in lines):
            ax.legend(fontsize=6, loc="best", frameon=False)
        self._style()

    def line_count(self) -> int:
        """Number of lines drawn (for tests)."""
        return len(self.ax.lines)
