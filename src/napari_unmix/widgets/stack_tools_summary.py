"""The results-panel content of the stack tools dock.

Every tool gets a short summary (output shape, type, time, warnings). The drift tools
(z-drift, register) also list every frame with its correction and whether it moved: a
frame "left in place" either needed no correction or had no plausible shift (the core
warns "time point 3 against 0: no clear translation ..."), shown by the status
"no plausible shift", else "did not move" (a correction below 0.01 px); those frames are named in the
headline, and a themed plot shows the corrections in pixels.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["StackToolSummary", "fit_table", "frame_table"]

#: status of a frame -> shown text
REFERENCE, MOVED, STILL, IMPLAUSIBLE = "reference", "moved", "did not move", "no plausible shift"
_FLAGGED = (STILL, IMPLAUSIBLE)
#: a correction below this (px) counts as "did not move"
STILL_PX = 0.01


def _implausible(warnings: list[str], tool: str) -> set[tuple[int, ...]]:
    """Frames the warnings name: ``(t,)`` for register, ``(t, z)`` for z-drift."""
    if tool == "register":
        pattern = re.compile(r"time point (\d+) against")
    else:
        pattern = re.compile(r"time point (\d+), z-slice (\d+) against")
    out = set()
    for text in warnings:
        m = pattern.search(str(text))
        if m:
            out.add(tuple(int(g) for g in m.groups()))
    return out


def frame_table(shifts: np.ndarray, report: dict[str, Any], tool: str) -> list[dict[str, Any]]:
    """One row per frame: ``frame`` ((t,) or (t, z)), ``dy``, ``dx`` (px) and ``status``.

    Examples
    --------
    >>> rows = frame_table(np.array([[0.0, 0.0], [1.0, 0.5], [0.0, 0.0]]),
    ...                    {"parameters": {"reference_t": 0}, "results": {}}, "register")
    >>> [r["status"] for r in rows]
    ['reference', 'moved', 'did not move']
    """
    shifts = np.asarray(shifts, float)
    results = report.get("results", {})
    bad = _implausible(list(results.get("warnings", [])), tool)
    params = report.get("parameters", {})
    rows = []
    for index in np.ndindex(shifts.shape[:-1]):
        dy, dx = (float(v) for v in shifts[index])
        if (tool == "register" and index[0] == params.get("reference_t", 0)) or (
            tool == "z-drift"
            and index[1] == 0
            and params.get("reference_mode") in ("first", "neighbor")
        ):
            status = REFERENCE
        elif tuple(int(i) for i in index) in bad:
            status = IMPLAUSIBLE
        elif max(abs(dy), abs(dx)) < STILL_PX:
            status = STILL
        else:
            status = MOVED
        rows.append({"frame": tuple(int(i) for i in index), "dy": dy, "dx": dx, "status": status})
    return rows


def fit_table(table: QTableWidget, cap: int) -> None:
    """Columns to their contents, the table as narrow as the dock and as tall as its rows
    (at most ``cap`` pixels)."""
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    table.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    rows = table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
    table.setMaximumHeight(min(cap, rows + 2 * table.frameWidth() + 18))


def _frame_name(frame: tuple[int, ...]) -> str:
    return f"t={frame[0]}" if len(frame) == 1 else f"t={frame[0]} z={frame[1]}"


class StackToolSummary(QWidget):
    """Headline, the frames of a drift tool (table and plot), the run's warnings."""

    def __init__(
        self,
        tool: str,
        report: dict[str, Any],
        shifts: np.ndarray | None = None,
        *,
        viewer: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        results = report.get("results", {})
        out = results.get("output", {})
        secs = results.get("seconds")
        head = f"{tool}: output {tuple(out.get('shape', ()))} {out.get('dtype', '')}"
        if secs is not None:
            head += f", {secs:.2f} s"
        self.headline = QLabel(head)
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        self.flagged = QLabel("")
        self.flagged.setWordWrap(True)
        self.table = None
        self.figure = None
        if shifts is not None:
            self.rows = frame_table(shifts, report, tool)
            layout.addWidget(self.flagged)
            self._add_table(layout)
            self._add_plot(layout, shifts, tool, viewer)
        self._set_flagged_text()
        notes = [w for w in results.get("warnings", []) if tool not in ("register", "z-drift")]
        if notes:
            extra = QLabel("\n".join(str(n) for n in notes[:5]))
            extra.setWordWrap(True)
            layout.addWidget(extra)
        layout.addStretch(1)  # content at the top of the panel

    def flagged_frames(self) -> list[dict[str, Any]]:
        """Rows of the frames left in place (no movement, or no plausible shift)."""
        return [r for r in self.rows if r["status"] in _FLAGGED]

    def _set_flagged_text(self) -> None:
        if not self.rows:
            return
        kind = "z-slices" if len(self.rows[0]["frame"]) == 2 else "time points"
        flagged = self.flagged_frames()
        if not flagged:
            self.flagged.setText(f"all {kind} moved onto their reference")
            return
        names = ", ".join(f"{_frame_name(r['frame'])} ({r['status']})" for r in flagged)
        self.flagged.setText(f"{len(flagged)} of {len(self.rows)} {kind} left in place: {names}")
        self.flagged.setStyleSheet("color: #ffb74d;")

    def _add_table(self, layout: QVBoxLayout) -> None:
        z = len(self.rows[0]["frame"]) == 2
        heads = ["t", "z"] if z else ["t"]
        table = QTableWidget(len(self.rows), len(heads) + 3)
        table.setHorizontalHeaderLabels([*heads, "Δy (px)", "Δx (px)", "status"])
        table.verticalHeader().setVisible(False)
        for i, row in enumerate(self.rows):
            cells = [
                *map(str, row["frame"]),
                f"{row['dy']:+.2f}",
                f"{row['dx']:+.2f}",
                row["status"],
            ]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if row["status"] in _FLAGGED:
                    item.setForeground(QColor("#ffb74d"))
                table.setItem(i, j, item)
        fit_table(table, 220)
        layout.addWidget(table)
        self.table = table

    def _add_plot(self, layout: QVBoxLayout, shifts: np.ndarray, tool: str, viewer: Any) -> None:
        from matplotlib.figure import Figure

        from ..plot.stack_tools import plot_shifts
        from ._canvas import LazyCanvas
        from ._theme import style_axes, theme_colors

        fig = Figure(figsize=(3.6, 2.2))  # fixed margins: constrained layout costs ~0.3 s
        fig.subplots_adjust(left=0.25, right=0.97, bottom=0.22, top=0.95)
        canvas = LazyCanvas(fig)
        ax = fig.add_subplot()
        flagged = np.array([r["status"] in _FLAGGED for r in self.rows])
        xlabel = "z-slice" if tool == "z-drift" else "time point"
        plot_shifts(ax, shifts, flagged, xlabel=xlabel)
        ax.xaxis.label.set_size(8)
        ax.yaxis.label.set_size(8)
        style_axes(fig, theme_colors(viewer))
        canvas.setMinimumHeight(150)
        canvas.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        canvas.setFixedHeight(190)
        layout.addWidget(canvas)
        self.figure = fig
