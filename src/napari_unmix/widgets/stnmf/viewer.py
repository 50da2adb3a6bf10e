"""STNMF dock widget: subunits of one ensemble, or of many cells of one recording.

A :class:`~napari_unmix.widgets._dock.ToolDock` around :mod:`napari_unmix.api.stnmf`.
Two inputs:

* an **ensemble** (an image layer, or a ``.npy``/``.npz``/``.h5``/``.mat`` file opened as
  one): its axes follow the layer's ``metadata["ste_axes"]`` or the rule *the longest axis
  is spikes* (the axes used are shown under the picker);
* a **recording**: an image layer holding the stimulus movie (t, x, y) plus a spike table
  (CSV/NPY/NPZ/HDF5, one column or dataset per cell). The cells are listed with check
  boxes; Run factorises the checked cells one after the other (progress per cell).

The form comes from :class:`~napari_unmix.core.stnmf.StnmfOptions` (the stixel size starts
at the layer's pixel size), the named settings from
:class:`~napari_unmix.core.stnmf.StnmfSettingsOptions` (empty sparsity / smoothing: the
settings' values). The computation is the API's generator; results (STA, modules, subunit
outlines per cell) follow the shared layer policy, and the results panel shows the module
table (diameters with units; click a row to show that module), the cells table and the
weights of the subunits. Export writes OME-TIFF + CSV + PNG + JSON per cell and the cells
table as CSV and JSON.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from magicgui import widgets as mw
from napari.layers import Image
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtWidgets import QFileDialog, QListWidget, QPushButton

from ...api.stnmf import export_stnmf, load_ste, resolve_settings, write_cells_table
from ...core.stnmf import SETTINGS, StnmfOptions, StnmfRecordingOptions, StnmfSettingsOptions
from .._dock import LayerPicker, ToolDock
from .._fit import fit_width
from .._form import OptionsForm
from .._layer_policy import TAG, remove_tool_layers, show_result
from .inputs import AXES, ensemble_from_layer, resolve_axes
from .panel import StnmfPanel, run_summary
from .recording import RecordingMixin
from .worker import StnmfRun, run_steps

__all__ = ["STNMFWidget"]

_ENSEMBLES = "Ensembles (*.npy *.npz *.mat *.h5 *.hdf5)"
_SPIKE_TABLES = "Spike tables (*.csv *.tsv *.txt *.npy *.npz *.h5 *.hdf5)"


def _is_input(layer: Any) -> bool:
    tag = layer.metadata.get(TAG) if isinstance(layer.metadata, dict) else None
    return isinstance(layer, Image) and not layer.rgb and layer.ndim == 3 and tag is None


class STNMFWidget(RecordingMixin, ToolDock):
    """Dock widget "STNMF" (see the module docstring)."""

    tool = "STNMF"
    options = StnmfOptions
    form_fields = ("r", "num_iter", "pixel_size", "moransi_threshold", "init", "seed")
    run_text = "Run STNMF"

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__(napari_viewer)
        viewer = self.viewer
        self.spike_table: dict[str, np.ndarray] | None = None
        self.spike_path: Path | None = None
        self.layer_picker = self.add_picker(LayerPicker(
            viewer, "input", _is_input, prefer=lambda ly: viewer.layers.index(ly),
            tooltip="an ensemble (spikes, x, y) or, with a spike table, the stimulus movie",
        ))  # fmt: skip
        self.axes_combo = mw.ComboBox(
            label="axes", choices=list(AXES), value="auto",
            tooltip="; ".join(f"{k}: {v}" for k, v in AXES.items()),
        )  # fmt: skip
        self.axes_label = mw.Label(value="")
        self.load_btn = mw.PushButton(text="Open file…", tooltip="an ensemble (x, y, spikes)")
        self.spikes_btn = mw.PushButton(
            text="Spikes…", tooltip="a spike table: CSV/NPY/NPZ/HDF5, one column per cell"
        )
        self.clear_spikes_btn = mw.PushButton(text="Clear")
        files = mw.Container(widgets=[self.load_btn, self.spikes_btn, self.clear_spikes_btn],
                             layout="horizontal", labels=False)  # fmt: skip
        self.inputs_box.extend([self.axes_combo, self.axes_label, files])
        self.cell_list = QListWidget()
        self.cell_list.setMaximumHeight(90)
        self.recording_form = OptionsForm(
            StnmfRecordingOptions, only=("frame_rate", "lag", "counts")
        )
        self.settings_form = OptionsForm(
            StnmfSettingsOptions, only=("settings", "sparsity", "smoothing")
        )
        for i, w in enumerate((self.cell_list, self.recording_form.native), start=1):
            self.body_layout.insertWidget(i, w)
        self.body_layout.insertWidget(
            self.body_layout.indexOf(self.form.native) + 1, self.settings_form.native
        )
        self.export_btn = QPushButton("Export…")
        self.export_btn.setEnabled(False)
        self.body_layout.insertWidget(self.body_layout.indexOf(self.results), self.export_btn)
        self._connect()
        self._apply_settings()
        self._show_recording(False)
        self._layer_changed()
        fit_width(self)

    def _connect(self) -> None:
        self.load_btn.changed.connect(
            lambda: self._ask("Open ensemble", _ENSEMBLES, self.open_file)
        )
        self.spikes_btn.changed.connect(
            lambda: self._ask("Open spike table", _SPIKE_TABLES, self.open_spikes)
        )
        self.clear_spikes_btn.changed.connect(self.clear_spikes)
        self.settings_form.field("settings").changed.connect(self._apply_settings)
        self.layer_picker.changed.connect(self._layer_changed)
        self.axes_combo.changed.connect(self._show_axes)
        self.export_btn.clicked.connect(self._export_dialog)
        self.finished.connect(self._after_run)

    # ------------------------------------------------------------------ form
    def _apply_settings(self, *_: Any) -> None:
        """Show the named settings' sparsity and smoothing (edit them to override)."""
        preset = SETTINGS[self.settings_form.field("settings").value]
        self.settings_form.set_values({k: preset[k] for k in ("sparsity", "smoothing")})

    def option_values(self) -> dict[str, Any]:
        """``{option: value}`` of every option field the dock shows."""
        return {**self.form.values(), **self.settings_form.values(),
                **self.recording_form.values()}  # fmt: skip

    def current_options(self) -> dict[str, Any]:
        """Keywords of :class:`STNMF` (or, with a spike table, of ``iter_stnmf_cells``)."""
        values = StnmfOptions.from_kwargs(self.form.values()).as_dict()
        params = {k: values[k] for k in self.form_fields}
        settings = StnmfSettingsOptions.from_kwargs(self.settings_form.values())
        params.update(resolve_settings(
            settings.settings, sparsity=settings.sparsity, smoothing=settings.smoothing
        ))  # fmt: skip
        return params if self.spike_table is None else self.recording_options(params)

    # ------------------------------------------------------------------ inputs
    def _layer_changed(self, *_: Any) -> None:
        """The stixel size from the layer's pixel size (when it has one); the axes label."""
        layer = self.layer_picker.value
        if layer is not None and float(layer.scale[-1]) != 1.0:
            self.form.field("pixel_size").value = float(layer.scale[-1])
        self._show_axes()

    def _show_axes(self, *_: Any) -> None:
        """Say which axes the input is read with (the rule, applied to this input)."""
        layer = self.layer_picker.value
        if self.spike_table is not None:
            self.axes_label.value = "stimulus movie: time, x, y"
            return
        if layer is None:
            self.axes_label.value = "no ensemble: open a sample, a file or a 3-D layer"
            return
        try:
            axes = resolve_axes(layer, self.axes_combo.value)
        except ValueError as err:
            self.axes_label.value = str(err)
            return
        shape = tuple(layer.data.shape)
        m = shape[0] if axes == "mxy" else shape[-1]
        order = "spikes, x, y" if axes == "mxy" else "x, y, spikes"
        self.axes_label.value = f"read as ({order}): {m} spikes"

    def _ask(self, title: str, pattern: str, then: Any) -> None:
        """A file dialog; ``then(path)`` if a file was chosen."""
        path, _ = QFileDialog.getOpenFileName(self, title, "", pattern)
        if path:
            then(path)

    def open_file(self, path: str | Path) -> None:
        """Open an ensemble (x, y, m) file as a layer (spikes first) and pick it."""
        try:
            ste = load_ste(path)
        except (ValueError, ImportError, OSError) as err:
            self._error(f"cannot read {Path(path).name}: {err}")
            return
        layer = self.viewer.add_image(
            np.moveaxis(ste, -1, 0), name=Path(path).stem,
            metadata={"ste_axes": "mxy", "path": str(path)}, colormap="gray",
        )  # fmt: skip
        self.layer_picker.value = layer

    def read_inputs(self) -> SimpleNamespace:
        """The ensemble (or the stimulus and cells); ValueError says what to change."""
        layer = self.layer_picker.value
        if layer is None:
            raise ValueError("no ensemble; add a 3-D image layer or open a file")
        if self.spike_table is not None:
            return self.recording_inputs(layer)
        ste = ensemble_from_layer(layer, self.axes_combo.value)
        r = int(self.form.field("r").value)
        if ste.shape[-1] < r:
            raise ValueError(
                f"{ste.shape[-1]} spikes for r={r} modules; lower r or use a larger ensemble"
            )
        return SimpleNamespace(ste=ste, table=None, cells=None, source=layer.name)

    def steps(self, inputs: SimpleNamespace, params: dict[str, Any]):
        """The API's STNMF generator for the ensemble or the cells; a :class:`StnmfRun`."""
        return run_steps(inputs, params)

    # ------------------------------------------------------------------ output
    def show_result(self, run: StnmfRun) -> None:
        """The layers of every result (policy: named after the input or the cell), one
        results-panel entry for the run."""
        keep = self.keep_previous.isChecked()
        shown = [res for res in run.results if res.layers]
        if not shown and not keep:
            remove_tool_layers(self.viewer, self.tool)
        inputs = self.input_layers()
        for i, res in enumerate(shown):  # the cells of one run are kept together
            layers = show_result(self.viewer, res, inputs=inputs, keep_previous=keep or i > 0)
            for layer in layers:
                if layer._type_string == "shapes" and inputs:  # outlines: in stixels
                    layer.scale = tuple(inputs[0].scale[-2:])
                    layer.translate = tuple(inputs[0].translate[-2:])
        stamp = time.strftime("%H:%M:%S")
        label = f"{len(run.cells)} cells" if run.cells else run.results[0].source
        panel = StnmfPanel(self.viewer, run)
        fit_width(panel)
        self.results.add_run(f"STNMF · {label} · {stamp}", panel)
        if any(m is not None and m.num_subunits == 0 for m in run.models):
            show_warning(
                "STNMF: no localized module; try more spikes, a higher sparsity or a lower "
                "Moran's I threshold"
            )

    def _after_run(self, run: StnmfRun) -> None:
        self.set_status(f"{self.status.text()}: {run_summary(run)}")
        self.export_btn.setEnabled(any(m is not None for m in run.models))

    def _error(self, message: str) -> None:
        self.set_status(message, error=True)
        show_error(f"STNMF: {message}")

    @property
    def panel(self) -> StnmfPanel | None:
        """The results panel's shown run."""
        return self.results.current

    @property
    def result(self) -> Any:
        """The STNMF shown in the panel (None before a run)."""
        return self.panel.result if self.panel is not None else None

    @property
    def cell_results(self) -> dict[str, Any]:
        """The cells of the shown run, by name (empty for an ensemble)."""
        return {c.name: c for c in self.panel.run.cells} if self.panel is not None else {}

    def select_module(self, row: int, column: int = 0) -> None:
        """Show module ``row`` of the shown result (see :meth:`StnmfPanel.select_module`)."""
        if self.panel is not None:
            self.panel.select_module(row, column)

    def _export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export STNMF results to")
        if folder:
            self.export(folder)

    def export(self, folder: str | Path, name: str = "stnmf") -> dict[str, Path] | None:
        """Write modules OME-TIFF + JSON sidecar, table CSV and figure PNG to ``folder``.

        After a recording run: one set per cell (named after the cell) and the cells
        table as ``<name>_cells.csv`` / ``.json``.
        """
        if self.result is None and not self.cell_results:
            self._error("nothing to export yet; run STNMF first")
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
            self._error(f"export: {err}")
            return None
        show_info(f"STNMF: wrote {len(paths)} files to {folder}")
        return paths
