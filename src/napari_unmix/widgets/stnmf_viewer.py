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

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..api.stnmf import (
    STNMF,
    CellResult,
    PixelSizeWarning,
    export_stnmf,
    iter_stnmf_cells,
    load_ste,
    modules_table,
)
from ..api.stnmf_recording import resolve_settings, write_cells_table
from ..core.stnmf import SETTINGS
from ..core.stnmf_ensemble import ensemble_axes
from ..io.spikes import read_spike_table
from ..plot.stnmf import subunit_colors

__all__ = ["STNMFWidget", "ensemble_from_layer"]

_AXES = {
    "auto": "from layer metadata (ste_axes), else the longest axis is spikes",
    "mxy": "spikes, x, y (napari scrolls through spikes)",
    "xym": "x, y, spikes (the stnmf package's order)",
}
#: module-table columns shown in the dock: (key of modules_table, header)
_COLUMNS = [
    ("module", "module"),
    ("morans_i", "Moran's I"),
    ("subunit", "subunit"),
    ("polarity", "polarity"),
    ("diameter", "diameter"),
    ("weight_z", "weight z"),
]
_CELL_COLUMNS = ["cell", "spikes", "subunits", "diameter_um", "coverage", "seconds", "error"]
_FILE_ITEM = "(opened file)"


def resolve_axes(layer: Any, axes: str = "auto") -> str:
    """``"mxy"`` or ``"xym"`` for a 3-D layer: the metadata, else the longest axis is spikes."""
    if axes == "auto":
        axes = layer.metadata.get("ste_axes", "")
        if axes not in ("mxy", "xym"):
            order = ensemble_axes(tuple(layer.data.shape))
            if order == (0, 1, 2):
                axes = "xym"
            elif order == (1, 2, 0):
                axes = "mxy"
            else:
                raise ValueError(
                    f"layer {layer.name!r} of shape {tuple(layer.data.shape)} has its longest "
                    "axis in the middle; choose the axes explicitly"
                )
    if axes not in ("mxy", "xym"):
        raise ValueError(f"unknown ensemble axes {axes!r}; use 'mxy' or 'xym'")
    return axes


def ensemble_from_layer(layer: Any, axes: str = "auto") -> np.ndarray:
    """The (x, y, m) ensemble held by an image layer (a view when possible)."""
    data = np.asarray(layer.data)
    if data.ndim != 3:
        raise ValueError(
            f"layer {layer.name!r} has shape {data.shape}; an ensemble needs 3 axes "
            "(spikes, x, y) or (x, y, spikes)"
        )
    axes = resolve_axes(layer, axes)
    return np.moveaxis(data, 0, -1) if axes == "mxy" else data


# At most this many progress updates per run: napari's progress bar processes Qt events on
# every update, so one yield per (millisecond-fast) iteration recurses until Python aborts.
_MAX_PROGRESS_UPDATES = 100


def _progress_step(num_iter: int) -> int:
    return max(1, -(-num_iter // _MAX_PROGRESS_UPDATES))


def _factorize(ste, params):
    s = STNMF(ste, factorize=False, **params)
    step = _progress_step(params["num_iter"])
    yield 0
    for i, _res in s.iter_factorize():
        if (i + 1) % step == 0:
            yield i + 1
    return s


def _run_cells(stimulus, table, cells, options):
    """Worker: yields ("progress", i, n, name, fraction) and ("cell", CellResult)."""
    gen = iter_stnmf_cells(stimulus, table, cells=cells, **options)
    last = -1.0
    while True:
        try:
            i, n, name, frac, done = next(gen)
        except StopIteration as stop:
            return stop.value
        if done is not None:
            yield ("cell", done)
        elif frac - last >= 0.02 or frac == 0:
            last = frac if frac else -1.0
            yield ("progress", i, n, name, frac)


class STNMFWidget(QWidget):
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
        for key, doc in _AXES.items():
            self.axes_combo.addItem(key)
            self.axes_combo.setItemData(
                self.axes_combo.count() - 1, doc, Qt.ItemDataRole.ToolTipRole
            )
        self.axes_combo.currentTextChanged.connect(self._show_axes)
        self.axes_label = QLabel("")
        self.axes_label.setWordWrap(True)
        self.load_btn = QPushButton("Open file…")
        self.load_btn.clicked.connect(self._open_file)
        src = QHBoxLayout()
        src.addWidget(self.layer_combo, 1)
        src.addWidget(self.load_btn)
        form.addRow("input", src)
        form.addRow("axes", self.axes_combo)
        form.addRow("", self.axes_label)
        # recording: a spike table turns the input layer into the stimulus movie (t, x, y)
        self.spikes_btn = QPushButton("Spike table…")
        self.spikes_btn.setToolTip("CSV/NPY/NPZ/HDF5, one column or dataset per cell")
        self.spikes_btn.clicked.connect(self._open_spikes)
        self.clear_spikes_btn = QPushButton("Clear")
        self.clear_spikes_btn.clicked.connect(self.clear_spikes)
        row = QHBoxLayout()
        row.addWidget(self.spikes_btn, 1)
        row.addWidget(self.clear_spikes_btn)
        form.addRow("spikes", row)
        self.cell_list = QListWidget()
        self.cell_list.setMaximumHeight(90)
        self.cell_list.setVisible(False)
        form.addRow(self.cell_list)
        self.frame_rate = QDoubleSpinBox(minimum=0.0, maximum=100000.0, value=60.0, suffix=" Hz")
        self.lag = QSpinBox(minimum=0, maximum=1000, value=0)
        self.counts_combo = QComboBox()
        self.counts_combo.addItems(["spike times (s)", "counts per frame"])
        self.r = QSpinBox(minimum=2, maximum=200, value=20)
        self.settings_combo = QComboBox()
        for key, spec in SETTINGS.items():
            self.settings_combo.addItem(key)
            self.settings_combo.setItemData(
                self.settings_combo.count() - 1, spec["label"], Qt.ItemDataRole.ToolTipRole
            )
        self.settings_combo.currentTextChanged.connect(self._apply_settings)
        self.sparsity = QDoubleSpinBox(minimum=0.0, maximum=100.0, singleStep=0.1)
        self.smoothing = QDoubleSpinBox(minimum=0.0, maximum=5.0, singleStep=0.1, suffix=" stixels")
        self.num_iter = QSpinBox(minimum=1, maximum=100000, value=1000)
        self.pixel_size = QDoubleSpinBox(minimum=0.0, maximum=10000.0, value=0.0, suffix=" µm")
        self.threshold = QDoubleSpinBox(minimum=-0.99, maximum=0.99, value=0.25, singleStep=0.05)
        self.init_combo = QComboBox()
        self.init_combo.addItems(["nnsvdlrc", "random"])
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self._recording_rows = []
        for label, w, tip in [
            ("frame rate", self.frame_rate, "stimulus frames per second (spike times in s)"),
            ("lag", self.lag, "frames between a stimulus frame and the spikes it drives"),
            ("spike values", self.counts_combo, "what the spike table holds"),
            ("modules r", self.r, "number of modules; more than the expected subunits"),
            ("settings", self.settings_combo, "recovery: more subunits from fewer spikes"),
            ("sparsity", self.sparsity, "L1 weight: raise for smaller, cleaner modules"),
            ("smoothing", self.smoothing, "Gaussian smoothing of every frame before STNMF"),
            ("iterations", self.num_iter, "AF-HALS iterations"),
            ("stixel size", self.pixel_size, "µm per stixel (0: sizes in stixels)"),
            ("Moran's I threshold", self.threshold, "modules above it are subunits"),
            ("init", self.init_combo, "initial modules"),
            ("seed", self.seed, "random init only"),
        ]:
            w.setToolTip(tip)
            form.addRow(label, w)
            if w in (self.frame_rate, self.lag, self.counts_combo):
                self._recording_rows.append(w)
        self.form = form

    def _build_results(self) -> None:
        self.run_btn = QPushButton("Run STNMF")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.export_btn = QPushButton("Export…")
        self.export_btn.setEnabled(False)
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn.clicked.connect(self.cancel)
        self.export_btn.clicked.connect(self._export_dialog)
        buttons = QHBoxLayout()
        for b in (self.run_btn, self.cancel_btn, self.export_btn):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.cells_table = _table(_CELL_COLUMNS)
        self.cells_table.setVisible(False)
        self.cells_table.cellClicked.connect(self._cell_clicked)
        self.table = _table([h for _, h in _COLUMNS])
        self.table.cellClicked.connect(self.select_module)
        self.figure = Figure(figsize=(4, 2), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(160)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(buttons)
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

    def _open_file(self):
        path, _ = QFileDialog.getOpenFileName(
            self, "Open ensemble", "", "Ensembles (*.npy *.npz *.mat *.h5 *.hdf5)"
        )
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> None:
        """Use an ensemble (x, y, m) from a file as the input."""
        try:
            self._file_ste = load_ste(path)
        except (ValueError, ImportError, OSError) as err:
            show_error(f"STNMF: cannot read {Path(path).name}: {err}")
            return
        self._refresh_layers()
        self.layer_combo.setCurrentText(_FILE_ITEM)

    def _open_spikes(self):
        path, _ = QFileDialog.getOpenFileName(
            self, "Open spike table", "", "Spike tables (*.csv *.tsv *.txt *.npy *.npz *.h5 *.hdf5)"
        )
        if path:
            self.open_spikes(path)

    def open_spikes(self, path: str | Path) -> None:
        """Read a spike table: the input layer becomes the stimulus, its cells are listed."""
        try:
            table = read_spike_table(path)
        except (ValueError, OSError) as err:
            show_error(f"STNMF: cannot read {Path(path).name}: {err}")
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
            show_error(f"STNMF: {err}")
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
        self.progress.setRange(0, params["num_iter"] + 1)
        self.progress.setValue(0)
        worker = create_worker(
            _factorize,
            ste,
            params,
            _progress={
                "total": 1 + params["num_iter"] // _progress_step(params["num_iter"]),
                "desc": "STNMF",
            },
            _ignore_errors=True,  # errors go to the status line (self._failed)
        )
        worker.yielded.connect(self.progress.setValue)
        worker.returned.connect(self._show_result)
        return self._start(worker)

    def run_cells(self):
        """Factorise the checked cells of the recording, one after the other."""
        name = self.layer_combo.currentText()
        if not name or name == _FILE_ITEM:
            show_error("STNMF: pick the stimulus movie (t, x, y) as an image layer")
            return None
        cells = self.checked_cells()
        if not cells:
            show_error("STNMF: no cell checked")
            return None
        layer = self.viewer.layers[name]
        self._source_layer = layer
        params = self.parameters()
        params.pop("init")
        times = self.counts_combo.currentIndex() == 0
        if times and self.frame_rate.value() <= 0:
            show_error("STNMF: spike times need the frame rate of the stimulus (Hz)")
            return None
        options = {
            **params,
            "frame_rate": self.frame_rate.value() if times else None,
            "lag": self.lag.value(),
        }
        self.cell_results = {}
        self.cells_table.setRowCount(0)
        self.progress.setRange(0, 100 * len(cells))
        self.progress.setValue(0)
        worker = create_worker(
            _run_cells, layer.data, self.spike_table, cells, options, _ignore_errors=True
        )
        worker.yielded.connect(self._cell_event)
        worker.returned.connect(self._cells_done)
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

    # ------------------------------------------------------------------ cells
    def _cell_event(self, event) -> None:
        if event[0] == "progress":
            _, i, n, name, frac = event
            self.progress.setValue(int(100 * (i + frac)))
            self.status.setText(f"cell {i + 1}/{n} {name!r}: {100 * frac:.0f} %")
            return
        cell: CellResult = event[1]
        self.cell_results[cell.name] = cell
        self._add_cell_row(cell)
        if cell.stnmf is not None:
            self._show_result(cell.stnmf, prefix=f"{cell.name} · STNMF")

    def _add_cell_row(self, cell: CellResult) -> None:
        row = cell.row()
        i = self.cells_table.rowCount()
        self.cells_table.setRowCount(i + 1)
        for j, col in enumerate(_CELL_COLUMNS):
            val = row[col]
            item = QTableWidgetItem(f"{val:.4g}" if isinstance(val, float) else str(val))
            if col == "error" and val:
                item.setToolTip(str(val))
            self.cells_table.setItem(i, j, item)

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
            self._plot_weights(cell.stnmf)
            self.outline_layer = self.viewer.layers[f"{name} · STNMF · outlines"]
            self.modules_layer = self.viewer.layers[f"{name} · STNMF · modules"]

    # ------------------------------------------------------------------ output
    def _layer_kwargs(self) -> dict[str, Any]:
        src = self._source_layer
        if src is None:
            px = self.pixel_size.value() or 1.0
            return {"scale": (px, px)}
        return {"scale": tuple(src.scale[-2:]), "translate": tuple(src.translate[-2:])}

    def _replace(self, name: str) -> None:
        if name in self.viewer.layers:
            self.viewer.layers.remove(name)

    def _show_result(self, s: STNMF, prefix: str = "STNMF") -> None:
        self.result = s
        self.progress.setValue(self.progress.maximum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            report = s.report
            rows = modules_table(s)
        kw = self._layer_kwargs()
        meta = {"stnmf_report": report}
        lim = float(np.nanmax(np.abs(s.modules))) or 1.0
        slim = float(np.nanmax(np.abs(s.sta))) or 1.0
        sep = " " if prefix == "STNMF" else " · "
        for part in ("STA", "modules", "outlines"):
            self._replace(f"{prefix}{sep}{part}")
        self.sta_layer = self.viewer.add_image(
            np.asarray(s.sta, np.float32), name=f"{prefix}{sep}STA", colormap="PiYG",
            contrast_limits=(-slim, slim), metadata=meta, **kw,
        )  # fmt: skip
        self.modules_layer = self.viewer.add_image(
            np.array(s.modules), name=f"{prefix}{sep}modules", colormap="PiYG",
            contrast_limits=(-lim, lim), metadata=meta, **kw,
        )  # fmt: skip
        self.outline_layer = self._add_outlines(s, kw, meta, f"{prefix}{sep}outlines")
        self._fill_table(rows)
        self._plot_weights(s)
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

    def _add_outlines(self, s: STNMF, kw, meta, name: str = "STNMF outlines"):
        shapes, colors, props = [], [], {"module": [], "kind": []}
        if len(s.sta_outline) >= 3:
            shapes.append(np.asarray(s.sta_outline))
            colors.append([0.0, 0.0, 0.0, 1.0])
            props["module"].append(-1)
            props["kind"].append("STA")
        for k, c, o in zip(s.localized, subunit_colors(s.num_subunits), s.outlines, strict=True):
            if len(o) >= 3:
                shapes.append(np.asarray(o))
                colors.append(list(c))
                props["module"].append(int(k))
                props["kind"].append("subunit")
        layer = self.viewer.add_shapes(
            shapes, shape_type="polygon", edge_color=np.array(colors).reshape(-1, 4),
            face_color="transparent", edge_width=0.08, name=name,
            properties={k: np.array(v) for k, v in props.items()}, metadata=meta, **kw,
        )  # fmt: skip
        return layer

    def _fill_table(self, rows):
        unit = "µm" if self.result is not None and self.result.pixel_size else "stixels"
        headers = [f"diameter ({unit})" if k == "diameter" else h for k, h in _COLUMNS]
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, (col, _) in enumerate(_COLUMNS):
                key = next((k for k in row if k.startswith(col)), col)
                val = row.get(key, "")
                text = f"{val:.3g}" if isinstance(val, float) else str(val)
                self.table.setItem(i, j, QTableWidgetItem(text))

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

    def _plot_weights(self, s: STNMF):
        self.figure.clear()
        ax = self.figure.add_subplot()
        loc = list(s.localized)
        cols = subunit_colors(len(loc))
        for k, c in zip(loc, cols, strict=True):
            ax.hist(s.weights[k], bins=60, histtype="step", color=c, label=str(k))
        ax.set_xlabel("weight per spike", fontsize=7)
        ax.set_ylabel("spikes", fontsize=7)
        ax.tick_params(labelsize=6)
        if loc:
            ax.legend(fontsize=6, ncols=2, title="subunit", title_fontsize=6)
        self.canvas.draw_idle()

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


def _table(headers: list[str]) -> QTableWidget:
    """A read-only table that fits the dock's width (no sideways scrolling)."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    return table
