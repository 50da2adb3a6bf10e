"""STNMF dock widget: subunits of one ensemble, or of many cells of one recording.

Thin driver around :mod:`napari_unmix.api.stnmf`. Two inputs:

* an **ensemble** (an image layer or a ``.npy``/``.npz``/``.h5``/``.mat`` file): its axes
  follow the layer's ``metadata["ste_axes"]`` or the rule *the longest axis is spikes*
  (the axes used are shown under the picker);
* a **recording**: an image layer holding the stimulus movie (t, x, y) plus a spike table
  (CSV/NPY/NPZ/HDF5, one column or dataset per cell). The cells are listed with check
  boxes; Run factorises the checked cells one after the other (progress per cell).

Results: STA, modules and subunit outlines (a Shapes layer in subunit colours) per cell,
the module table (Moran's I, subunit, polarity, diameter in µm; click a row to show that
module), a cells table (spikes, subunits, median diameter, coverage, time, error) and
the weights of the subunits. Export writes OME-TIFF + CSV + PNG + JSON per cell and the
cells table as CSV and JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...api.stnmf import (
    STNMF,
    CellResult,
    export_stnmf,
    load_ste,
    resolve_settings,
    write_cells_table,
)
from ...core.progress import Progress
from ...core.result import Result
from ...core.stnmf import SETTINGS, StnmfOptions, StnmfRecordingOptions, StnmfSettingsOptions
from .inputs import AXES, ensemble_from_layer, field_for, field_value, resolve_axes
from .plots import WeightsPlot
from .recording import _FILE_ITEM, RecordingMixin
from .tables import CELL_COLUMNS, MODULE_COLUMNS, fill_modules, make_table
from .worker import factorize_steps, progress_step

__all__ = ["STNMFWidget"]

_COUNTS = ["spike times (s)", "counts per frame"]
_ENSEMBLES = "Ensembles (*.npy *.npz *.mat *.h5 *.hdf5)"
_SPIKE_TABLES = "Spike tables (*.csv *.tsv *.txt *.npy *.npz *.h5 *.hdf5)"
#: The dock's fields: (options class, field, attribute, narrower range (min, max) or None)
_FIELDS = [
    (StnmfRecordingOptions, "frame_rate", "frame_rate", (0.0, 100000.0)),
    (StnmfRecordingOptions, "lag", "lag", (0, 1000)),
    (StnmfOptions, "r", "r", (2, 200)),
    (StnmfSettingsOptions, "settings", "settings_combo", None),
    (StnmfSettingsOptions, "sparsity", "sparsity", (0.0, 100.0)),
    (StnmfSettingsOptions, "smoothing", "smoothing", (0.0, 5.0)),
    (StnmfOptions, "num_iter", "num_iter", (1, 100000)),
    (StnmfOptions, "pixel_size", "pixel_size", (0.0, 10000.0)),
    (StnmfOptions, "moransi_threshold", "threshold", (-0.99, 0.99)),
    (StnmfOptions, "init", "init_combo", None),
    (StnmfOptions, "seed", "seed", None),
]
_RECORDING_ONLY = ("frame_rate", "lag", "counts")


class STNMFWidget(RecordingMixin, QWidget):
    """Dock widget "STNMF"."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.result: STNMF | None = None
        self.cell_results: dict[str, CellResult] = {}
        self.spike_table: dict[str, np.ndarray] | None = None
        self.spike_path: Path | None = None
        self.worker = None
        self._file_ste: np.ndarray | None = None
        self._source_layer = None
        self._build_form()
        self._build_results()
        self._apply_settings(self.settings_combo.currentText())
        self._show_recording(False)
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self._refresh_layers()

    # ------------------------------------------------------------------ form
    def _build_form(self) -> None:
        form = QFormLayout()
        self.layer_combo = QComboBox()
        self.layer_combo.currentTextChanged.connect(self._show_axes)
        self.axes_combo = QComboBox()
        for key, doc in AXES.items():
            self.axes_combo.addItem(key)
            self.axes_combo.setItemData(
                self.axes_combo.count() - 1, doc, Qt.ItemDataRole.ToolTipRole
            )
        self.axes_combo.currentTextChanged.connect(self._show_axes)
        self.axes_label = QLabel("")
        self.axes_label.setWordWrap(True)
        self.load_btn = QPushButton("Open file…")
        self.load_btn.clicked.connect(
            lambda: self._ask("Open ensemble", _ENSEMBLES, self.open_file)
        )
        form.addRow("input", _row(self.layer_combo, self.load_btn))
        form.addRow("axes", self.axes_combo)
        form.addRow("", self.axes_label)
        # recording: a spike table turns the input layer into the stimulus movie (t, x, y)
        self.spikes_btn = QPushButton("Spike table…")
        self.spikes_btn.setToolTip("CSV/NPY/NPZ/HDF5, one column or dataset per cell")
        self.spikes_btn.clicked.connect(
            lambda: self._ask("Open spike table", _SPIKE_TABLES, self.open_spikes)
        )
        self.clear_spikes_btn = QPushButton("Clear")
        self.clear_spikes_btn.clicked.connect(self.clear_spikes)
        form.addRow("spikes", _row(self.spikes_btn, self.clear_spikes_btn))
        self.cell_list = QListWidget()
        self.cell_list.setMaximumHeight(90)
        self.cell_list.setVisible(False)
        form.addRow(self.cell_list)
        tips = {k: v["label"] for k, v in SETTINGS.items()}
        self._specs: dict[str, Any] = {}
        for cls, name, attr, limits in _FIELDS:
            spec = cls.spec(name)
            lo, hi = limits or (None, None)
            box = field_for(spec, minimum=lo, maximum=hi, tips=tips)
            setattr(self, attr, box)
            self._specs[attr] = spec
            form.addRow(spec.label, box)
            if name == "lag":  # what the spike table holds, after the recording fields
                self.counts_combo = QComboBox()
                self.counts_combo.addItems(_COUNTS)
                self.counts_combo.setCurrentIndex(int(StnmfRecordingOptions.counts))
                self.counts_combo.setToolTip(StnmfRecordingOptions.spec("counts").help())
                form.addRow("spike values", self.counts_combo)
        self.settings_combo.currentTextChanged.connect(self._apply_settings)
        self._recording_rows = [self.frame_rate, self.lag, self.counts_combo]
        self.form = form

    def option_values(self) -> dict[str, Any]:
        """``{option: value}`` of every option field the dock shows."""
        out = {
            self._specs[a].name: field_value(getattr(self, a), self._specs[a]) for a in self._specs
        }
        out["counts"] = self.counts_combo.currentIndex() == 1
        return out

    def _build_results(self) -> None:
        self.run_btn = QPushButton("Run STNMF")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.export_btn = QPushButton("Export…")
        self.export_btn.setEnabled(False)
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn.clicked.connect(self.cancel)
        self.export_btn.clicked.connect(self._export_dialog)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.cells_table = make_table(CELL_COLUMNS)
        self.cells_table.setVisible(False)
        self.cells_table.cellClicked.connect(self._cell_clicked)
        self.table = make_table([h for _, h in MODULE_COLUMNS])
        self.table.cellClicked.connect(self.select_module)
        self.canvas = WeightsPlot()
        self.figure = self.canvas.figure
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(_row(self.run_btn, self.cancel_btn, self.export_btn))
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.cells_table)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.canvas)

    def _apply_settings(self, name: str) -> None:
        spec = SETTINGS.get(name)
        if spec is not None:
            self.sparsity.setValue(spec["sparsity"])
            self.smoothing.setValue(spec["smoothing"])

    def _show_recording(self, on: bool) -> None:
        for w in self._recording_rows:
            w.setVisible(on)
            label = self.form.labelForField(w)
            if label is not None:
                label.setVisible(on)
        self.cell_list.setVisible(on)
        self.axes_combo.setEnabled(not on)
        self.cells_table.setVisible(on)
        self._show_axes()

    # ------------------------------------------------------------------ inputs
    def _refresh_layers(self, event=None):
        current = self.layer_combo.currentText()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        names = [
            ly.name for ly in self.viewer.layers if ly._type_string == "image" and ly.ndim == 3
        ]
        if self._file_ste is not None:
            names.append(_FILE_ITEM)
        self.layer_combo.addItems(names)
        if current in names:
            self.layer_combo.setCurrentText(current)
        self.layer_combo.blockSignals(False)
        self._show_axes()

    def _show_axes(self, *_args) -> None:
        """Say which axes the input is read with (the rule, applied to this input)."""
        name = self.layer_combo.currentText()
        if self.spike_table is not None:
            self.axes_label.setText("stimulus movie: time, x, y")
            return
        if not name or name == _FILE_ITEM:
            self.axes_label.setText("file: x, y, spikes" if name else "")
            return
        layer = self.viewer.layers[name]
        try:
            axes = resolve_axes(layer, self.axes_combo.currentText())
        except ValueError as err:
            self.axes_label.setText(str(err))
            return
        shape = tuple(layer.data.shape)
        m = shape[0] if axes == "mxy" else shape[-1]
        order = "spikes, x, y" if axes == "mxy" else "x, y, spikes"
        self.axes_label.setText(f"read as ({order}): {m} spikes")

    def _ask(self, title: str, pattern: str, then) -> None:
        """A file dialog; ``then(path)`` if a file was chosen."""
        path, _ = QFileDialog.getOpenFileName(self, title, "", pattern)
        if path:
            then(path)

    def open_file(self, path: str | Path) -> None:
        """Use an ensemble (x, y, m) from a file as the input."""
        try:
            self._file_ste = load_ste(path)
        except (ValueError, ImportError, OSError) as err:
            show_error(f"STNMF: cannot read {Path(path).name}: {err}")
            return
        self._refresh_layers()
        self.layer_combo.setCurrentText(_FILE_ITEM)

    def _ensemble(self) -> np.ndarray | None:
        name = self.layer_combo.currentText()
        if not name:
            show_error("STNMF: no ensemble; add a 3-D image layer or open a file")
            return None
        if name == _FILE_ITEM:
            self._source_layer = None
            return self._file_ste
        layer = self.viewer.layers[name]
        self._source_layer = layer
        try:
            return ensemble_from_layer(layer, self.axes_combo.currentText())
        except ValueError as err:
            self._error(str(err))
            return None

    def parameters(self) -> dict[str, Any]:
        """Keywords of :class:`STNMF` from the form."""
        settings = resolve_settings(
            self.settings_combo.currentText(),
            sparsity=self.sparsity.value(),
            smoothing=self.smoothing.value(),
        )
        return {
            "r": self.r.value(),
            "num_iter": self.num_iter.value(),
            "pixel_size": self.pixel_size.value(),
            "moransi_threshold": self.threshold.value(),
            "init": self.init_combo.currentText(),
            "seed": self.seed.value(),
            **settings,
        }

    # ------------------------------------------------------------------ run
    def run(self):
        """Start the factorisation in a worker thread; returns the worker (or None)."""
        if self.spike_table is not None:
            return self.run_cells()
        ste = self._ensemble()
        if ste is None:
            return None
        params = self.parameters()
        if ste.shape[-1] < params["r"]:
            show_error(
                f"STNMF: {ste.shape[-1]} spikes for r={params['r']} modules; lower r "
                "or use a larger ensemble"
            )
            return None
        num_iter = params["num_iter"]
        self.progress.setRange(0, num_iter)
        self.progress.setValue(0)
        worker = create_worker(
            factorize_steps,
            ste,
            params,
            _progress={"total": 1 + num_iter // progress_step(num_iter), "desc": "STNMF"},
            _ignore_errors=True,  # errors go to the status line (self._failed)
        )
        worker.yielded.connect(self._progress_event)
        worker.returned.connect(self._show_stnmf)
        return self._start(worker)

    def _start(self, worker):
        self.worker = worker
        worker.errored.connect(self._failed)
        worker.finished.connect(self._finished)
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.status.setText("running…")
        worker.start()
        return worker

    def _error(self, message: str) -> None:
        show_error(f"STNMF: {message}")

    def _failed(self, err: Exception) -> None:
        self.status.setText(f"failed: {err}")
        show_error(f"STNMF: {err}")

    def cancel(self):
        if self.worker is not None:
            self.worker.quit()
            self.status.setText("cancelled")

    def _finished(self):
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        if self.status.text() == "running…":
            self.status.setText("stopped")

    def _progress_event(self, event: Progress) -> None:
        self.progress.setValue(int(event.done))

    # ------------------------------------------------------------------ output
    def _layer_kwargs(self) -> dict[str, Any]:
        src = self._source_layer
        if src is None:
            px = self.pixel_size.value() or 1.0
            return {"scale": (px, px)}
        return {"scale": tuple(src.scale[-2:]), "translate": tuple(src.translate[-2:])}

    def _add_layers(self, result: Result) -> dict[str, Any]:
        """One napari layer per result layer (replacing earlier ones); by role."""
        kw = self._layer_kwargs()
        meta = {"stnmf_report": result.report}
        names = (
            result.layer_names()
            if result.source
            else [f"{result.tool} {ly.name}" for ly in result.layers]
        )
        added = {}
        for ly, name in zip(result.layers, names, strict=True):
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
            if ly.kind == "shapes":
                layer = self.viewer.add_shapes(ly.data, name=name, metadata=meta, **ly.extra, **kw)
            else:
                layer = self.viewer.add_image(
                    ly.data, name=name, colormap=ly.colormap, blending=ly.blending,
                    contrast_limits=ly.contrast_limits, metadata=meta, **kw,
                )  # fmt: skip
            added[ly.role] = layer
        return added

    def _show_stnmf(self, s: STNMF) -> None:
        self._show_result(s.to_result(), s)

    def _show_result(self, result: Result, s: STNMF) -> None:
        self.result = s
        self.progress.setValue(self.progress.maximum())
        added = self._add_layers(result)
        self.sta_layer, self.modules_layer = added["sta"], added["map"]
        self.outline_layer = added["outline"]
        self._fill_table(result.tables["modules"])
        self.canvas.show_weights(s)
        self.export_btn.setEnabled(True)
        if self.spike_table is None:
            self.status.setText(
                f"{s.num_subunits} subunits of {s.r} modules; residual {s.res:.4g} "
                f"({s.n_iter} iterations, {s.seconds:.1f} s)"
            )
        if s.num_subunits == 0:
            show_warning(
                "STNMF: no localized module; try more spikes, a higher sparsity or a lower "
                "Moran's I threshold"
            )

    def _fill_table(self, rows):
        unit = "µm" if self.result is not None and self.result.pixel_size else "stixels"
        fill_modules(self.table, rows, unit)

    def select_module(self, row: int, column: int = 0) -> None:
        """Show module ``row`` in the modules layer and highlight its outline."""
        if self.result is None:
            return
        self.viewer.dims.set_current_step(0, row)
        self.table.selectRow(row)
        layer = self.outline_layer
        widths = np.full(len(layer.data), 0.08)
        mods = np.asarray(layer.properties.get("module", []))
        hit = np.nonzero(mods == row)[0]
        widths[hit] = 0.25
        if len(widths):
            layer.edge_width = list(widths)
        layer.selected_data = {int(h) for h in hit}

    def _export_dialog(self):
        folder = QFileDialog.getExistingDirectory(self, "Export STNMF results to")
        if folder:
            self.export(folder)

    def export(self, folder: str | Path, name: str = "stnmf") -> dict[str, Path] | None:
        """Write modules OME-TIFF + JSON sidecar, table CSV and figure PNG to ``folder``.

        After a recording run: one set per cell (named after the cell) and the cells
        table as ``<name>_cells.csv`` / ``.json``.
        """
        if self.result is None and not self.cell_results:
            show_error("STNMF: nothing to export yet; run STNMF first")
            return None
        try:
            if self.cell_results:
                paths: dict[str, Path] = {}
                for cell in self.cell_results.values():
                    if cell.stnmf is not None:
                        safe = "".join(
                            ch if ch.isalnum() or ch in "-_." else "_" for ch in cell.name
                        )
                        out = export_stnmf(cell.stnmf, folder, name=f"{name}_{safe}")
                        paths.update({f"{cell.name}:{k}": v for k, v in out.items()})
                paths.update(
                    write_cells_table(
                        list(self.cell_results.values()), Path(folder) / f"{name}_cells"
                    )
                )
            else:
                paths = export_stnmf(self.result, folder, name=name)
        except (FileExistsError, OSError, ValueError) as err:
            show_error(f"STNMF export: {err}")
            return None
        show_info(f"STNMF: wrote {len(paths)} files to {folder}")
        return paths


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == 0 and len(widgets) == 2 else 0)
    return row
