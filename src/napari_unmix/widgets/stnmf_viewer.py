"""STNMF dock widget: factorise a spike-triggered ensemble and browse its modules.

Thin driver around :class:`napari_unmix.api.stnmf.STNMF`: it reads an ensemble (an image
layer, or a ``.npy``/``.npz``/``.h5``/``.mat`` file), runs the factorisation in a
``thread_worker`` (progress + cancel), and shows the STA and the modules as image layers,
the outlines as a Shapes layer in subunit colours, a module table (click a row to show
that module) and the subunit weights. Export writes OME-TIFF + CSV + PNG + JSON.
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
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..api.stnmf import STNMF, PixelSizeWarning, export_stnmf, load_ste, modules_table
from ..plot.stnmf import subunit_colors

__all__ = ["STNMFWidget"]

_AXES = {
    "auto": "from layer metadata (ste_axes), else spikes first",
    "mxy": "spikes, x, y (napari scrolls through spikes)",
    "xym": "x, y, spikes (the stnmf package's order)",
}
_COLUMNS = ["index", "moransi", "localized", "polarity", "diameter", "distance", "mean_weight"]


def ensemble_from_layer(layer: Any, axes: str = "auto") -> np.ndarray:
    """The (x, y, m) ensemble held by an image layer (a view when possible)."""
    data = np.asarray(layer.data)
    if data.ndim != 3:
        raise ValueError(
            f"layer {layer.name!r} has shape {data.shape}; an ensemble needs 3 axes "
            "(spikes, x, y) or (x, y, spikes)"
        )
    if axes == "auto":
        axes = layer.metadata.get("ste_axes", "mxy")
    if axes not in ("mxy", "xym"):
        raise ValueError(f"unknown ensemble axes {axes!r}; use 'mxy' or 'xym'")
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


class STNMFWidget(QWidget):
    """Dock widget "STNMF"."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.result: STNMF | None = None
        self.worker = None
        self._file_ste: np.ndarray | None = None
        self._source_layer = None
        form = QFormLayout()
        self.layer_combo = QComboBox()
        self.axes_combo = QComboBox()
        for key, doc in _AXES.items():
            self.axes_combo.addItem(key)
            self.axes_combo.setItemData(self.axes_combo.count() - 1, doc, 3)  # tooltip
        self.load_btn = QPushButton("Open file…")
        self.load_btn.clicked.connect(self._open_file)
        src = QHBoxLayout()
        src.addWidget(self.layer_combo, 1)
        src.addWidget(self.load_btn)
        form.addRow("ensemble", src)
        form.addRow("axes", self.axes_combo)
        self.r = QSpinBox(minimum=2, maximum=200, value=20)
        self.sparsity = QDoubleSpinBox(minimum=0.0, maximum=100.0, value=1.7, singleStep=0.1)
        self.num_iter = QSpinBox(minimum=1, maximum=100000, value=1000)
        self.pixel_size = QDoubleSpinBox(minimum=0.0, maximum=10000.0, value=0.0, suffix=" µm")
        self.threshold = QDoubleSpinBox(minimum=-0.99, maximum=0.99, value=0.25, singleStep=0.05)
        self.init_combo = QComboBox()
        self.init_combo.addItems(["nnsvdlrc", "random"])
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        for label, w, tip in [
            ("modules r", self.r, "number of modules; more than the expected subunits"),
            ("sparsity", self.sparsity, "L1 weight: raise for smaller, cleaner modules"),
            ("iterations", self.num_iter, "AF-HALS iterations"),
            ("stixel size", self.pixel_size, "µm per stixel (0: sizes in stixels)"),
            ("Moran's I threshold", self.threshold, "modules above it are subunits"),
            ("init", self.init_combo, "initial modules"),
            ("seed", self.seed, "random init only"),
        ]:
            w.setToolTip(tip)
            form.addRow(label, w)
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
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellClicked.connect(self.select_module)
        self.figure = Figure(figsize=(4, 2), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(160)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.canvas)
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self._refresh_layers()

    # ------------------------------------------------------------------ inputs
    def _refresh_layers(self, event=None):
        current = self.layer_combo.currentText()
        self.layer_combo.clear()
        names = [
            ly.name for ly in self.viewer.layers if ly._type_string == "image" and ly.ndim == 3
        ]
        if self._file_ste is not None:
            names.append("(opened file)")
        self.layer_combo.addItems(names)
        if current in names:
            self.layer_combo.setCurrentText(current)

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
        self.layer_combo.setCurrentText("(opened file)")

    def _ensemble(self) -> np.ndarray | None:
        name = self.layer_combo.currentText()
        if not name:
            show_error("STNMF: no ensemble; add a 3-D image layer or open a file")
            return None
        if name == "(opened file)":
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
        return {
            "r": self.r.value(),
            "sparsity": self.sparsity.value(),
            "num_iter": self.num_iter.value(),
            "pixel_size": self.pixel_size.value(),
            "moransi_threshold": self.threshold.value(),
            "init": self.init_combo.currentText(),
            "seed": self.seed.value(),
        }

    # ------------------------------------------------------------------ run
    def run(self):
        """Start the factorisation in a worker thread; returns the worker (or None)."""
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
        self.worker = create_worker(
            _factorize,
            ste,
            params,
            _progress={
                "total": 1 + params["num_iter"] // _progress_step(params["num_iter"]),
                "desc": "STNMF",
            },
        )
        self.worker.yielded.connect(self.progress.setValue)
        self.worker.returned.connect(self._show_result)
        self.worker.errored.connect(lambda err: show_error(f"STNMF: {err}"))
        self.worker.finished.connect(self._finished)
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.status.setText("running…")
        self.worker.start()
        return self.worker

    def cancel(self):
        if self.worker is not None:
            self.worker.quit()
            self.status.setText("cancelled")

    def _finished(self):
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)

    # ------------------------------------------------------------------ output
    def _layer_kwargs(self) -> dict[str, Any]:
        src = self._source_layer
        if src is None:
            px = self.pixel_size.value() or 1.0
            return {"scale": (px, px)}
        return {"scale": tuple(src.scale[-2:]), "translate": tuple(src.translate[-2:])}

    def _show_result(self, s: STNMF) -> None:
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
        self.sta_layer = self.viewer.add_image(
            np.asarray(s.sta, np.float32), name="STNMF STA", colormap="PiYG",
            contrast_limits=(-slim, slim), metadata=meta, **kw,
        )  # fmt: skip
        self.modules_layer = self.viewer.add_image(
            np.array(s.modules), name="STNMF modules", colormap="PiYG",
            contrast_limits=(-lim, lim), metadata=meta, **kw,
        )  # fmt: skip
        self.outline_layer = self._add_outlines(s, kw, meta)
        self._fill_table(rows)
        self._plot_weights(s)
        self.export_btn.setEnabled(True)
        self.status.setText(
            f"{s.num_subunits} subunits of {s.r} modules; residual {s.res:.4g} "
            f"({s.n_iter} iterations, {s.seconds:.1f} s)"
        )
        if s.num_subunits == 0:
            show_warning(
                "STNMF: no localized module; try more spikes, a higher sparsity or a lower "
                "Moran's I threshold"
            )

    def _add_outlines(self, s: STNMF, kw, meta):
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
            face_color="transparent", edge_width=0.08, name="STNMF outlines",
            properties={k: np.array(v) for k, v in props.items()}, metadata=meta, **kw,
        )  # fmt: skip
        return layer

    def _fill_table(self, rows):
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, col in enumerate(_COLUMNS):
                val = row[col]
                text = f"{val:.4g}" if isinstance(val, float) else str(val)
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
        """Write modules OME-TIFF + JSON sidecar, table CSV and figure PNG to ``folder``."""
        if self.result is None:
            show_error("STNMF: nothing to export yet; run STNMF first")
            return None
        try:
            paths = export_stnmf(self.result, folder, name=name)
        except (FileExistsError, OSError, ValueError) as err:
            show_error(f"STNMF export: {err}")
            return None
        show_info(f"STNMF: wrote {', '.join(p.name for p in paths.values())}")
        return paths
