"""The recording half of the STNMF dock: a spike table, its cells, a run per cell.

Mixed into :class:`~napari_unmix.widgets.stnmf.viewer.STNMFWidget`, whose ``_error``
reports problems (the dock's one error path).
"""

from __future__ import annotations

from pathlib import Path

from napari.qt.threading import create_worker
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QListWidgetItem

from ...api.stnmf import CellResult, modules_table
from ...core.progress import Progress
from ...io.spikes import read_spike_table
from .tables import add_cell_row
from .worker import cells_steps

__all__ = ["RecordingMixin"]

_FILE_ITEM = "(opened file)"


class RecordingMixin:
    """Spike table, cell list, :meth:`run_cells` and the per-cell results of the dock."""

    def open_spikes(self, path: str | Path) -> None:
        """Read a spike table: the input layer becomes the stimulus, its cells are listed."""
        try:
            table = read_spike_table(path)
        except (ValueError, OSError) as err:
            self._error(f"cannot read {Path(path).name}: {err}")
            return
        self.spike_table, self.spike_path = table, Path(path)
        self.cell_list.clear()
        for name, times in table.items():
            item = QListWidgetItem(f"{name} ({times.size} spikes)")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.cell_list.addItem(item)
        self.spikes_btn.setText(Path(path).name)
        self._show_recording(True)

    def clear_spikes(self) -> None:
        """Back to an ensemble input."""
        self.spike_table = self.spike_path = None
        self.cell_list.clear()
        self.spikes_btn.setText("Spike table…")
        self._show_recording(False)

    def checked_cells(self) -> list[str]:
        items = [self.cell_list.item(i) for i in range(self.cell_list.count())]
        return [
            it.data(Qt.ItemDataRole.UserRole)
            for it in items
            if it.checkState() == Qt.CheckState.Checked
        ]

    def run_cells(self):
        """Factorise the checked cells of the recording, one after the other."""
        name = self.layer_combo.currentText()
        if not name or name == _FILE_ITEM:
            self._error("pick the stimulus movie (t, x, y) as an image layer")
            return None
        cells = self.checked_cells()
        if not cells:
            self._error("no cell checked")
            return None
        layer = self.viewer.layers[name]
        self._source_layer = layer
        params = self.parameters()
        params.pop("init")
        values = self.option_values()
        if not values["counts"] and values["frame_rate"] is None:
            self._error("spike times need the frame rate of the stimulus (Hz)")
            return None
        options = {
            **params,
            "frame_rate": None if values["counts"] else values["frame_rate"],
            "lag": values["lag"],
        }
        self.cell_results = {}
        self.cells_table.setRowCount(0)
        self.progress.setRange(0, 100 * len(cells))
        self.progress.setValue(0)
        worker = create_worker(
            cells_steps, layer.data, self.spike_table, cells, options, _ignore_errors=True
        )
        worker.yielded.connect(self._cell_event)
        worker.returned.connect(self._cells_done)
        return self._start(worker)

    # ------------------------------------------------------------------ cells
    def _cell_event(self, event: Progress) -> None:
        self.progress.setValue(int(100 * event.done))
        cell = event.partial
        if cell is None:
            frac = event.done - int(event.done)
            self.status.setText(f"{event.message}: {100 * frac:.0f} %")
            return
        self.cell_results[cell.name] = cell
        add_cell_row(self.cells_table, cell.row())
        if cell.stnmf is not None:
            self._show_result(cell.to_result(), cell.stnmf)

    def _cells_done(self, results: list[CellResult]) -> None:
        self.progress.setValue(self.progress.maximum())
        ok = [c for c in results if c.stnmf is not None]
        failed = [c.name for c in results if c.stnmf is None]
        subunits = sum(c.stnmf.num_subunits for c in ok)
        text = f"{len(ok)} of {len(results)} cells done, {subunits} subunits"
        if failed:
            text += f"; failed: {', '.join(failed)} (see the error column)"
        self.status.setText(text)
        self.export_btn.setEnabled(bool(ok))

    def _cell_clicked(self, row: int, column: int = 0) -> None:
        name = self.cells_table.item(row, 0).text()
        cell = self.cell_results.get(name)
        if cell is not None and cell.stnmf is not None:
            self.result = cell.stnmf
            self._fill_table(modules_table(cell.stnmf))
            self.canvas.show_weights(cell.stnmf)
            self.outline_layer = self.viewer.layers[f"{name} · STNMF · outlines"]
            self.modules_layer = self.viewer.layers[f"{name} · STNMF · modules"]
