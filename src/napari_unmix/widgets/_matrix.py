"""A small labelled heat-map table for matrices (PICASSO mixing / unmixing, confusion tables).

Rows and columns carry names (channels, components); each cell shows its value with a
background shaded by magnitude (diverging for signed matrices), so a biologist reads
"C1 takes 0.23 of C0" at a glance instead of a numpy printout.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

__all__ = ["MatrixTable", "cell_color"]


def cell_color(value: float, scale: float, *, signed: bool) -> tuple[int, int, int]:
    """RGB of a cell: blue (negative) / orange (positive) with strength ``|value| / scale``.

    >>> cell_color(0.0, 1.0, signed=True)
    (38, 41, 48)
    >>> cell_color(1.0, 1.0, signed=False)
    (230, 120, 40)
    """
    base = np.array([38, 41, 48], float)
    hot = np.array([230, 120, 40], float) if value >= 0 or not signed else np.array([60, 130, 230])
    t = 0.0 if scale <= 0 or not np.isfinite(value) else min(abs(value) / scale, 1.0)
    return tuple(int(c + 0.5) for c in base + t * (hot - base))


class MatrixTable(QTableWidget):
    """A read-only table of ``matrix`` with row and column labels and shaded cells."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def set_matrix(
        self,
        matrix: np.ndarray,
        rows: Sequence[str],
        columns: Sequence[str],
        *,
        title: str = "",
        decimals: int = 3,
    ) -> None:
        """Show ``matrix`` (rows x columns) with these labels; the tooltip says ``title``."""
        m = np.asarray(matrix, dtype=float)
        if m.shape != (len(rows), len(columns)):
            raise ValueError(f"matrix {m.shape} does not match {len(rows)} x {len(columns)} labels")
        self.clear()
        self.setRowCount(len(rows))
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        self.setVerticalHeaderLabels(list(rows))
        finite = m[np.isfinite(m)]
        scale = float(np.max(np.abs(finite))) if finite.size else 1.0
        signed = bool((finite < 0).any())
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                item = QTableWidgetItem(f"{m[i, j]:.{decimals}f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QColor(*cell_color(m[i, j], scale, signed=signed)))
                item.setForeground(QColor("#f0f1f2"))
                self.setItem(i, j, item)
        self.setToolTip(title)
        height = self.horizontalHeader().height() + sum(self.rowHeight(i) for i in range(len(rows)))
        self.setFixedHeight(height + 4)

    def values(self) -> np.ndarray:
        """The shown values (for tests)."""
        return np.array(
            [[float(self.item(i, j).text()) for j in range(self.columnCount())]
             for i in range(self.rowCount())]
        )  # fmt: skip
