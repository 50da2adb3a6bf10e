"""What the PICASSO results panel shows: one line on the run, the estimated mixing matrix
(with its standard error where the estimate has one) and the unmixing matrix as labelled
heat-map tables, for the reference time point or any estimated one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from .._matrix import MatrixTable

__all__ = ["PicassoSummary", "describe_run", "fit_height", "matrix_with_error"]


def describe_run(result: Any) -> str:
    """One line: implementation, sweeps, convergence, noise-aware views.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> describe_run(S(implementation="source_sink_n", iterations=[7], converged=[True],
    ...                estimated_t=[0], alpha_mode="reference_t", split_sigma=[0.0]))
    'source_sink_n: 7 sweeps, converged (estimated on t=0)'
    """
    sweeps = ", ".join(str(i) for i in result.iterations) or "0"
    ok = all(result.converged) if result.converged else False
    state = "converged" if ok else "stopped at max_iter (not converged)"
    ts = ", ".join(str(t) for t in result.estimated_t)
    where = "every time point" if result.alpha_mode == "per_t" else f"t={ts}"
    if result.alpha_mode == "fixed":
        return f"{result.implementation}: given matrix applied"
    line = f"{result.implementation}: {sweeps} sweeps, {state} (estimated on {where})"
    if any(s > 0 for s in getattr(result, "split_sigma", [])):
        line += "; noise-aware views"
    return line


def matrix_with_error(table: MatrixTable, se: np.ndarray | None, *, decimals: int = 3) -> None:
    """Write ``value ± se`` in the cells of ``table`` where ``se`` > 0 (tooltips too)."""
    if se is None:
        fit_height(table)
        return
    for i in range(table.rowCount()):
        for j in range(table.columnCount()):
            item = table.item(i, j)
            if item is not None and np.isfinite(se[i, j]) and se[i, j] > 0:
                item.setText(f"{item.text()}\n± {se[i, j]:.{decimals}f}")
                item.setToolTip(f"standard error {se[i, j]:.{decimals + 1}f}")
    fit_height(table)


def fit_height(table: MatrixTable) -> None:
    """Show every row (no inner scroll bars), whatever the cells' line count."""
    table.resizeRowsToContents()
    off = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    table.setVerticalScrollBarPolicy(off)
    table.setHorizontalScrollBarPolicy(off)
    header = table.verticalHeader()
    rows = sum(max(table.rowHeight(i), header.sectionSizeHint(i)) for i in range(table.rowCount()))
    head = table.horizontalHeader().sizeHint().height()
    table.setFixedHeight(head + rows + 2 * table.frameWidth() + 2)


class FitMatrixTable(MatrixTable):
    """A :class:`MatrixTable` that shows all its rows once napari's style applies."""

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        fit_height(self)


class PicassoSummary(QWidget):
    """Results-panel content of one run (see the module docstring)."""

    def __init__(self, result: Any, names: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result, self.names = result, list(names)
        self.line = QLabel(describe_run(result))
        self.line.setWordWrap(True)
        self.time_point = QComboBox()
        self.time_point.setToolTip("time point whose matrices are shown")
        for t in result.estimated_t:
            self.time_point.addItem(f"t = {t}", t)
        self.time_point.setVisible(len(result.estimated_t) > 1)
        self.mixing_label = QLabel("")
        self.mixing = FitMatrixTable()
        self.unmixing_label = QLabel(
            "Unmixing matrix (applied to the background-subtracted channels)"
        )
        self.unmixing = FitMatrixTable()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.line, self.time_point, self.mixing_label, self.mixing):
            layout.addWidget(w)
        layout.addWidget(self.unmixing_label)
        layout.addWidget(self.unmixing)
        for label in (self.mixing_label, self.unmixing_label):
            label.setWordWrap(True)
        self.time_point.currentIndexChanged.connect(lambda _i: self.show_time_point())
        self.show_time_point()

    def show_time_point(self) -> None:
        """Fill the tables for the chosen time point."""
        res = self.result
        t = self.time_point.currentData()
        t = res.estimated_t[0] if t is None and res.estimated_t else (t or 0)
        chans = [self.names[c] if c < len(self.names) else f"C{c}" for c in res.channels]
        fluor = [f"{n} dye" for n in chans]
        has_mixing = res.mixing is not None
        self.mixing.setVisible(has_mixing)
        self.mixing_label.setVisible(has_mixing)
        if has_mixing:
            se = None if res.mixing_se is None else np.asarray(res.mixing_se)[t]
            note = " ± standard error" if se is not None and (se > 0).any() else ""
            self.mixing_label.setText(
                f"Estimated mixing{note}: row = measured channel, column = dye "
                "(how much of each dye each channel records)"
            )
            self.mixing.set_matrix(
                np.asarray(res.mixing)[t], chans, fluor, title="estimated mixing matrix"
            )
            matrix_with_error(self.mixing, se)
        self.unmixing.set_matrix(
            np.asarray(res.matrix)[t], fluor, chans, title="unmixing matrix (dye = row · channels)"
        )
        fit_height(self.unmixing)
