"""The STNMF dock's results-panel content for one run: a summary line, the cells table (a
recording), the module table (diameters with their units) and the weights plot.

Clicking a module row shows that module in the modules layer and highlights its outline;
clicking a cell row shows that cell's modules and weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from .plots import WeightsPlot
from .tables import CELL_HEADERS, MODULE_COLUMNS, add_cell_row, fill_modules, make_table
from .worker import StnmfRun

__all__ = ["StnmfPanel", "run_summary"]


def run_summary(run: StnmfRun) -> str:
    """One line: subunits of an ensemble, or cells done / failed of a recording."""
    if not run.cells:
        s = run.models[0]
        return (f"{s.num_subunits} subunits of {s.r} modules; residual {s.res:.4g} "
                f"({s.n_iter} iterations, {s.seconds:.1f} s)")  # fmt: skip
    ok = [c for c in run.cells if c.stnmf is not None]
    failed = [c.name for c in run.cells if c.stnmf is None]
    text = (f"{len(ok)} of {len(run.cells)} cells done, "
            f"{sum(c.stnmf.num_subunits for c in ok)} subunits")  # fmt: skip
    if failed:
        text += f"; failed: {', '.join(failed)} (see the error column)"
    return text


class StnmfPanel(QWidget):
    """One run's tables and plot (see the module docstring)."""

    def __init__(self, viewer: Any, run: StnmfRun) -> None:
        super().__init__()
        self.viewer, self.run = viewer, run
        self.result = self.current = None
        self.head = QLabel(run_summary(run))
        self.head.setWordWrap(True)
        self.cells_table = make_table(CELL_HEADERS)
        self.cells_table.setVisible(bool(run.cells))
        for cell in run.cells:
            add_cell_row(self.cells_table, cell.row())
        self.cells_table.cellClicked.connect(self.show_cell)
        self.table = make_table([h for _, h in MODULE_COLUMNS])
        self.table.setMinimumHeight(6 * 22 + 40)
        self.table.cellClicked.connect(self.select_module)
        self.canvas = WeightsPlot(viewer)
        self.figure = self.canvas.figure
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.head, self.cells_table, self.table, self.canvas):
            layout.addWidget(w)
        first = next((i for i, m in enumerate(run.models) if m is not None), None)
        if first is not None:
            self.display(first)

    def display(self, index: int) -> None:
        """Show result ``index`` (an ensemble: 0; a recording: the cell's row)."""
        s = self.run.models[index]
        if s is None:
            return
        self.result, self.current = s, self.run.results[index]
        unit = "µm" if s.pixel_size else "stixels"
        fill_modules(self.table, self.current.tables["modules"], unit)
        self.canvas.show_weights(s)

    def show_cell(self, row: int, column: int = 0) -> None:
        """Show the cell of ``row`` of the cells table."""
        self.display(row)

    def layer(self, part: str) -> Any:
        """The viewer's layer ``part`` ("STA", "modules", "outlines") of the shown result."""
        name = f"{self.current.source} · STNMF · {part}"
        return next((ly for ly in self.viewer.layers if ly.name == name), None)

    def select_module(self, row: int, column: int = 0) -> None:
        """Show module ``row`` in the modules layer and highlight its outline."""
        if self.result is None:
            return
        modules = self.layer("modules")
        if modules is not None:
            self.viewer.dims.set_current_step(self.viewer.dims.ndim - 3, row)
        self.table.selectRow(row)
        outlines = self.layer("outlines")
        if outlines is None or not len(outlines.data):
            return
        mods = np.asarray(outlines.properties.get("module", []))
        hit = np.nonzero(mods == row)[0]
        widths = np.full(len(outlines.data), 0.08)
        widths[hit] = 0.25
        outlines.edge_width = list(widths)
        outlines.selected_data = {int(h) for h in hit}
