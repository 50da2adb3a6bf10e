"""Dock "Apply a saved result to files": a report + files or folders -> a batch, with progress.

On the dock skeleton (:class:`~._dock.ToolDock`): files in, a folder out, the generator
the script API runs (:func:`napari_unmix.api.reapply.iter_reapply`) in a worker, one run
at a time, a real progress bar (one step per file), and the results panel listing every
file as done / skipped / failed with the reason. It re-applies the parameters and estimated
coefficients (alpha, PICASSO matrix, H spectra) of an earlier run's JSON report; existing
outputs are skipped unless "replace existing outputs" is ticked. No layer is added.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.progress import Progress
from ._dock import ToolDock
from .stack_tools_summary import fit_table

__all__ = ["BatchTable", "ReapplyWidget"]

_COLOURS = {"done": "#81c784", "skipped": "#b0bec5", "failed": "#ff8a80"}


def _row(edit: QLineEdit, *buttons: QPushButton) -> QWidget:
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit)
    for b in buttons:
        lay.addWidget(b)
    return box


class BatchTable(QWidget):
    """A batch's totals and one row per input: file, status, reason, seconds."""

    def __init__(self, summary: Any, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.headline = QLabel(f"{title}: {summary.lines()[0]}" if title else summary.lines()[0])
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        items = summary.items
        table = QTableWidget(len(items), 4)
        table.setHorizontalHeaderLabels(["file", "status", "s", "reason"])
        table.verticalHeader().setVisible(False)
        for i, item in enumerate(items):
            cells = [item.input.name, item.status, f"{item.seconds:.1f}", item.message]
            for j, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(str(item.input) if j == 0 else text)
                if j == 1:
                    cell.setForeground(QColor(_COLOURS.get(item.status, "#ffffff")))
                table.setItem(i, j, cell)
        fit_table(table, 300)
        # the reason takes the rest of the width, cut with "…" (the whole text in its tooltip)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(table)
        layout.addStretch(1)
        self.table = table

    def statuses(self) -> dict[str, str]:
        """``{file name: status}`` (for tests)."""
        t = self.table
        return {t.item(i, 0).text(): t.item(i, 1).text() for i in range(t.rowCount())}


class ReapplyWidget(ToolDock):
    """Report, inputs (files, folders or glob patterns; ``;``-separated), output folder."""

    tool = "reapply"
    run_text = "Apply to files"

    def __init__(self, napari_viewer: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self.batch: Any = None  #: the last BatchSummary
        self.keep_previous.setVisible(False)  # no layers: nothing to keep or replace
        self.reset_button.setVisible(False)
        self.report = QLineEdit()
        self.report.setPlaceholderText("run_unmixed.ome.tif.json")
        self.inputs = QLineEdit()
        self.inputs.setPlaceholderText("folder, files or a pattern such as raw/*.tif")
        self.output_dir = QLineEdit()
        self.output_dir.setPlaceholderText("folder for the results")
        self.overwrite = QCheckBox("replace existing outputs")
        pick_report, pick_files, pick_folder, pick_out = (
            QPushButton(t) for t in ("...", "Files...", "Folder...", "...")
        )
        pick_report.clicked.connect(self._ask_report)
        pick_files.clicked.connect(self._ask_files)
        pick_folder.clicked.connect(self._ask_folder)
        pick_out.clicked.connect(self._ask_output)
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Report", _row(self.report, pick_report))
        form.addRow("Inputs", _row(self.inputs, pick_files, pick_folder))
        form.addRow("Output folder", _row(self.output_dir, pick_out))
        form.addRow("", self.overwrite)
        self.body_layout.insertWidget(0, box)
        self.inputs_box.native.setVisible(False)

    # ------------------------------------------------------------------ pickers
    def _ask_report(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Report", "", "Reports (*.json)")
        if path:
            self.report.setText(path)

    def _ask_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Input images")
        if paths:
            self.inputs.setText("; ".join(paths))

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Input folder")
        if path:
            self.inputs.setText(path)

    def _ask_output(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder")
        if path:
            self.output_dir.setText(path)

    # ------------------------------------------------------------------ the skeleton's hooks
    def read_inputs(self) -> dict[str, Any]:
        from ..api.reapply import reapply_plan

        report = self.report.text().strip()
        inputs = [p.strip() for p in self.inputs.text().split(";") if p.strip()]
        out = self.output_dir.text().strip()
        if not report or not inputs or not out:
            raise ValueError("give a report, the inputs and an output folder")
        plan = reapply_plan(Path(report))  # a wrong report is reported before starting
        self.set_status(f"re-applying {plan.tool} ({Path(report).name})")
        return {
            "report": report,
            "inputs": inputs,
            "output_dir": out,
            "overwrite": self.overwrite.isChecked(),
        }

    def steps(self, inputs: dict[str, Any], options: Any) -> Generator[Progress, None, Any]:
        from ..api.reapply import iter_reapply

        return (
            yield from iter_reapply(
                inputs["report"], inputs["inputs"], output_dir=inputs["output_dir"],
                overwrite=inputs["overwrite"],
            )
        )  # fmt: skip

    def input_layers(self) -> list[Any]:
        return []

    def show_result(self, result: Any) -> None:
        self.batch = result
        name = Path(self.report.text().strip()).name
        self.results.add_run(f"{name} · {result.lines()[0]}", BatchTable(result, name))
