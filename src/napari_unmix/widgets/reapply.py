"""Dock "Apply a saved result to files": a report + files or folders -> a batch, with progress.

A thin driver of :func:`napari_unmix.api.reapply.iter_reapply` in a ``thread_worker``: it
re-applies the parameters and estimated coefficients (alpha, PICASSO matrix, H spectra)
of an earlier run's JSON report to other files, skips existing outputs unless asked to
overwrite, and lists done / skipped / failed files with reasons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtpy.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ._ui import guarded

__all__ = ["ReapplyWidget"]


def _row(edit: QLineEdit, *buttons: QPushButton) -> QWidget:
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit)
    for b in buttons:
        lay.addWidget(b)
    return box


class ReapplyWidget(QWidget):
    """Report, inputs (files, folders or glob patterns; ``;``-separated), output folder."""

    def __init__(self, napari_viewer: Any = None) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.summary = None
        self.report = QLineEdit()
        self.report.setPlaceholderText("run_unmixed.ome.tif.json")
        self.inputs = QLineEdit()
        self.inputs.setPlaceholderText("folder, files or a pattern such as raw/*.tif")
        self.output_dir = QLineEdit()
        self.output_dir.setPlaceholderText("folder for the results")
        self.overwrite = QCheckBox("replace existing outputs")
        self.run_button = QPushButton("Apply to files")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.log = QPlainTextEdit(readOnly=True)
        pick_report, pick_files, pick_folder, pick_out = (
            QPushButton(t) for t in ("...", "Files...", "Folder...", "...")
        )
        pick_report.clicked.connect(self._ask_report)
        pick_files.clicked.connect(self._ask_files)
        pick_folder.clicked.connect(self._ask_folder)
        pick_out.clicked.connect(self._ask_output)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        form = QFormLayout()
        form.addRow("Report", _row(self.report, pick_report))
        form.addRow("Inputs", _row(self.inputs, pick_files, pick_folder))
        form.addRow("Output folder", _row(self.output_dir, pick_out))
        form.addRow("", self.overwrite)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.log)

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

    # ------------------------------------------------------------------ run
    @guarded
    def run(self) -> Any:
        """Start the batch in a worker thread; returns the worker (None if not started)."""
        from napari.qt.threading import create_worker

        from ..api.reapply import iter_reapply, reapply_plan

        if self.worker is not None:
            raise ValueError("a batch is running; wait for it or cancel it")
        report = self.report.text().strip()
        inputs = [p.strip() for p in self.inputs.text().split(";") if p.strip()]
        out = self.output_dir.text().strip()
        if not report or not inputs or not out:
            raise ValueError("give a report, the inputs and an output folder")
        plan = reapply_plan(Path(report))  # a wrong report is reported before starting
        self.log.setPlainText(f"re-applying {plan.tool} ({Path(report).name})")
        self.progress.setRange(0, 0)
        self.worker = create_worker(
            iter_reapply, report, inputs, output_dir=out, overwrite=self.overwrite.isChecked()
        )
        self.worker.yielded.connect(self._on_item)
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.start()
        return self.worker

    def cancel(self) -> None:
        """Stop after the file being processed."""
        if self.worker is not None:
            self.worker.quit()

    def _on_item(self, event: Any) -> None:
        item = event.partial
        self.progress.setRange(0, int(event.total))
        self.progress.setValue(int(event.done))
        why = f": {item.message}" if item.message else ""
        self.log.appendPlainText(f"{item.status} {item.input.name}{why}")

    def _on_done(self, summary: Any) -> None:
        self.summary = summary
        self.log.appendPlainText(summary.lines()[0])

    def _on_error(self, err: Exception) -> None:
        self.log.appendPlainText(f"error: {err}")

    def _on_finished(self) -> None:
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
