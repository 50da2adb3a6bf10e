"""The ROI manager's table: one row per drawn ROI, seed row and locked resonance row.

A :class:`RoiTable` shows the rows of :meth:`napari_unmix.api.rois.RoiModel.rows` and
reports edits through two callbacks, ``on_edit(row, field, value)`` and ``on_remove(row)``;
it holds no state of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
)

__all__ = ["COLUMNS", "RoiTable"]

COLUMNS = ["name", "comp.", "colour", "show", "bg", "subtract", "scale", "offset", "source", ""]


class RoiTable(QTableWidget):
    """Table of ROI-manager rows; edits go to ``on_edit`` / ``on_remove``."""

    def __init__(
        self,
        on_edit: Callable[[dict[str, Any], str, Any], Any],
        on_remove: Callable[[dict[str, Any]], Any],
    ) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.on_edit, self.on_remove = on_edit, on_remove

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """Rebuild the table from ``rows`` (old cell widgets are dropped first, so none is
        left over a cell of the new rows)."""
        self.clearContents()
        self.setRowCount(0)
        self.setRowCount(len(rows))
        for i, r in enumerate(rows):
            self._fill_row(i, r)
        self.resizeColumnsToContents()

    def _fill_row(self, i: int, r: dict[str, Any]) -> None:
        locked = r.get("locked", False)
        name = QTableWidgetItem(r["name"])
        self.setItem(i, 0, name)
        comp = QSpinBox()
        comp.setRange(0, 63)
        comp.setValue(r["component"])
        comp.setEnabled(not locked)
        comp.valueChanged.connect(lambda v, r=r: self.on_edit(r, "component", int(v)))
        self.setCellWidget(i, 1, comp)
        colour = QTableWidgetItem("")
        colour.setBackground(QColor(r["color"]))
        self.setItem(i, 2, colour)
        for j, key in ((3, "show"), (4, "background"), (5, "subtract")):
            box = QCheckBox()
            box.setChecked(bool(r[key]))
            box.setEnabled(not locked and (r["kind"] == "drawn" or key == "show"))
            box.toggled.connect(lambda v, r=r, key=key: self.on_edit(r, key, bool(v)))
            self.setCellWidget(i, j, box)
        for j, key in ((6, "scale"), (7, "offset")):
            if r["kind"] == "dummy":
                box = QDoubleSpinBox()
                box.setRange(-1e9, 1e9)
                box.setDecimals(3)
                box.setValue(r[key])
                box.valueChanged.connect(lambda v, r=r, key=key: self.on_edit(r, key, float(v)))
                self.setCellWidget(i, j, box)
            else:
                self.setCellWidget(i, j, QLabel(""))
        self.setItem(i, 8, QTableWidgetItem(r["source"]))
        rm = QPushButton("✕")
        rm.setEnabled(not locked)
        rm.clicked.connect(lambda _=False, r=r: self.on_remove(r))
        self.setCellWidget(i, 9, rm)
        name.setData(256, (r["kind"], r["index"]))
