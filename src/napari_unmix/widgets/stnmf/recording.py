"""The recording half of the STNMF dock: a spike table, its cells, the run's inputs.

Mixed into :class:`~napari_unmix.widgets.stnmf.viewer.STNMFWidget`: with a spike table
open, the input layer is the stimulus movie (t, x, y) and Run factorises the checked cells
one after the other (:func:`~napari_unmix.api.stnmf.iter_stnmf_cells`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QListWidgetItem

from ...io.spikes import read_spike_table

__all__ = ["RecordingMixin"]


class RecordingMixin:
    """Spike table, cell list and the recording's inputs and options."""

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
        self.spikes_btn.text = Path(path).name
        self._show_recording(True)

    def clear_spikes(self) -> None:
        """Back to an ensemble input."""
        self.spike_table = self.spike_path = None
        self.cell_list.clear()
        self.spikes_btn.text = "Spikes…"
        self._show_recording(False)

    def checked_cells(self) -> list[str]:
        """The names of the checked cells, in table order."""
        items = [self.cell_list.item(i) for i in range(self.cell_list.count())]
        return [
            it.data(Qt.ItemDataRole.UserRole)
            for it in items
            if it.checkState() == Qt.CheckState.Checked
        ]

    def _show_recording(self, on: bool) -> None:
        self.recording_form.visible = on
        self.cell_list.setVisible(on)
        self.axes_combo.enabled = not on
        self._show_axes()

    def recording_options(self, params: dict[str, Any]) -> dict[str, Any]:
        """Keywords of :func:`~napari_unmix.api.stnmf.iter_stnmf_cells` from the STNMF
        keywords and the recording form; ValueError without a frame rate for spike times."""
        values = self.recording_form.values()
        if not values["counts"] and values["frame_rate"] is None:
            raise ValueError("spike times need the frame rate of the stimulus (Hz)")
        out = {k: v for k, v in params.items() if k != "init"}
        out["frame_rate"] = None if values["counts"] else float(values["frame_rate"])
        out["lag"] = values["lag"]
        return out

    def recording_inputs(self, layer: Any) -> SimpleNamespace:
        """The stimulus movie and the checked cells (ValueError if none)."""
        if layer.data.ndim != 3:
            raise ValueError(
                f"pick the stimulus movie (t, x, y) as an image layer, not {layer.name!r}"
            )
        cells = self.checked_cells()
        if not cells:
            raise ValueError("no cell checked; tick the cells to factorise")
        return SimpleNamespace(
            ste=layer.data, table=self.spike_table, cells=cells, source=layer.name
        )
