"""Resonance (spectral information) table: one row per component with a known band.

Each row gives a band (position ± width, spectral units) whose brightest pixels (or a
Gaussian model, when "Gaussian" is ticked) seed the component's H; the band-mean image
seeds its W. Gaussian rows appear as locked rows in the ROI table.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ..api.rois import ResonanceRow, RoiModel
from ..core.units import unit_symbol

__all__ = ["ResonanceTable", "headers"]

COLUMNS = [
    "component",
    "position",
    "width",
    "seed pixels",
    "subtracted",
    "Gaussian",
    "amplitude",
    "",
]


def headers(units: str | None) -> list[str]:
    """The column titles, position and width in the spectral axis' units.

    >>> headers("cm-1")[1:3]
    ['position (cm⁻¹)', 'width (cm⁻¹)']
    """
    sym = unit_symbol(units)
    return [f"{c} ({sym})" if c in ("position", "width") else c for c in COLUMNS]


class ResonanceTable(QWidget):
    """Edit :attr:`RoiModel.resonances`; calls ``on_change`` after every edit."""

    def __init__(self, model: RoiModel, on_change: Callable[[], None]) -> None:
        super().__init__()
        self.model = model
        self.on_change = on_change
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        add = QPushButton("Add resonance row")
        add.clicked.connect(lambda: self.add_row())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(add)
        layout.addLayout(row)
        self.refresh()

    def add_row(self, row: ResonanceRow | None = None) -> None:
        """Append a row (default: next component, centre of the spectral axis)."""
        if row is None:
            ax = self.model.axis
            used = self.model.component_ids()
            row = ResonanceRow(
                component=(max(used) + 1) if used else 0,
                position=float(ax[len(ax) // 2]),
                width=float(abs(ax[-1] - ax[0]) / 20.0) or 1.0,
            )
        self.model.resonances.append(row)
        self.refresh()
        self.on_change()

    def _set(self, i: int, key: str, value) -> None:
        setattr(self.model.resonances[i], key, value)
        self.on_change()

    def _remove(self, i: int) -> None:
        del self.model.resonances[i]
        self.refresh()
        self.on_change()

    def refresh(self) -> None:
        """Rebuild the table from the model."""
        rows = self.model.resonances
        self.table.setHorizontalHeaderLabels(headers(self.model.spectral_units))
        self.table.setRowCount(len(rows))
        ax = self.model.axis
        lo, hi = float(min(ax[0], ax[-1])), float(max(ax[0], ax[-1]))
        span = hi - lo or 1.0
        for i, r in enumerate(rows):
            comp = QSpinBox()
            comp.setRange(0, 63)
            comp.setValue(r.component)
            comp.valueChanged.connect(lambda v, i=i: self._set(i, "component", int(v)))
            pos = QDoubleSpinBox()
            pos.setRange(lo - span, hi + span)
            pos.setDecimals(2)
            pos.setValue(r.position)
            pos.valueChanged.connect(lambda v, i=i: self._set(i, "position", float(v)))
            width = QDoubleSpinBox()
            width.setRange(1e-3, span)
            width.setDecimals(2)
            width.setValue(r.width)
            width.valueChanged.connect(lambda v, i=i: self._set(i, "width", float(v)))
            npix = QSpinBox()
            npix.setRange(1, 100000)
            npix.setValue(r.n_pixels)
            npix.valueChanged.connect(lambda v, i=i: self._set(i, "n_pixels", int(v)))
            sub = QCheckBox()
            sub.setChecked(r.use_subtracted)
            sub.toggled.connect(lambda v, i=i: self._set(i, "use_subtracted", bool(v)))
            gauss = QCheckBox()
            gauss.setChecked(r.gaussian)
            gauss.toggled.connect(lambda v, i=i: self._set(i, "gaussian", bool(v)))
            amp = QDoubleSpinBox()
            amp.setRange(0.0, 1e9)
            amp.setDecimals(3)
            amp.setValue(r.amplitude)
            amp.valueChanged.connect(lambda v, i=i: self._set(i, "amplitude", float(v)))
            rm = QPushButton("✕")
            rm.clicked.connect(lambda _=False, i=i: self._remove(i))
            for j, w in enumerate([comp, pos, width, npix, sub, gauss, amp, rm]):
                self.table.setCellWidget(i, j, w)
        self.table.resizeColumnsToContents()
