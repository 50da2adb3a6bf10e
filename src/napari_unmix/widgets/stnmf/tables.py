"""The STNMF dock's tables: the modules of one STNMF and the cells of a recording."""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

__all__ = [
    "CELL_COLUMNS",
    "CELL_HEADERS",
    "MODULE_COLUMNS",
    "add_cell_row",
    "fill_modules",
    "make_table",
]

#: module-table columns shown in the dock: (key of modules_table, header)
MODULE_COLUMNS = [
    ("module", "module"),
    ("morans_i", "Moran's\nI"),
    ("subunit", "subunit"),
    ("polarity", "polarity"),
    ("diameter", "diam."),
    ("weight_z", "weight\nz"),
]
CELL_COLUMNS = ["cell", "spikes", "subunits", "diameter_um", "coverage", "seconds", "error"]
#: their headers, with units
CELL_HEADERS = [
    "cell",
    "spikes",
    "sub-\nunits",
    "diam.\n(µm)",
    "cover-\nage",
    "time\n(s)",
    "error",
]


def _spelled(header: str) -> str:
    """A header in one line and in full (its tooltip): ``"diam.\\n(µm)"`` -> ``"diameter (µm)"``."""
    return header.replace("-\n", "").replace("\n", " ").replace("diam.", "diameter")


def make_table(headers: list[str]) -> QTableWidget:
    """A read-only table that fits the dock's width (no sideways scrolling)."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(24)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(22)
    for j, text in enumerate(headers):  # long headers wrap into the tooltip, not sideways
        table.horizontalHeaderItem(j).setToolTip(_spelled(text))
    return table


def fill_modules(table: QTableWidget, rows: list[dict[str, Any]], unit: str) -> None:
    """Rows of :func:`~napari_unmix.api.stnmf.modules_table`; diameters in ``unit``."""
    headers = [f"diam.\n({unit})" if k == "diameter" else h for k, h in MODULE_COLUMNS]
    for j, text in enumerate(headers):
        item = QTableWidgetItem(text)
        item.setToolTip(_spelled(text))
        table.setHorizontalHeaderItem(j, item)
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, (col, _) in enumerate(MODULE_COLUMNS):
            key = next((k for k in row if k.startswith(col)), col)
            val = row.get(key, "")
            text = f"{val:.3g}" if isinstance(val, float) else str(val)
            table.setItem(i, j, QTableWidgetItem(text))


def add_cell_row(table: QTableWidget, row: dict[str, Any]) -> None:
    """Append one row of :meth:`~napari_unmix.api.stnmf.CellResult.row`."""
    i = table.rowCount()
    table.setRowCount(i + 1)
    for j, col in enumerate(CELL_COLUMNS):
        val = row[col]
        item = QTableWidgetItem(f"{val:.4g}" if isinstance(val, float) else str(val))
        if col == "error" and val:
            item.setToolTip(str(val))
        table.setItem(i, j, item)
