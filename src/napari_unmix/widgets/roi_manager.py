"""ROI manager dock: ROIs on the "ROIs" Shapes layer, their spectra, seed rows, presets.

The state lives in a :class:`~napari_unmix.api.rois.RoiModel` (no Qt); this widget
mirrors the Shapes layer into it (live, on ``events.data`` / ``events.features``), shows
the table and the spectrum plot, and offers the buttons (spectrum from file, Gaussian
row, background, presets, export, "Suggest ROIs", "Analysis"). Other docks that change
the model (the result viewer's "Import as seeds") call ``model.changed()``; the manager
listens and redraws. The analysis dock is opened through napari by its manifest name, so
this module imports no other dock.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import numpy as np
from napari.utils import notifications
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..api.rois import ROI_COLUMNS, RoiModel, component_color
from ..api.rois.files import add_spectra_file, export_spectra
from ..io.presets import load_preset as _read_preset
from ..io.presets import save_preset as _write_preset
from ._dock import scroll_around
from ._layers import is_cube_layer
from ._plot import SpectrumPlot, axis_label
from ._probe import PixelProbe
from ._roi_schema import get_or_create_roi_layer
from ._roi_table import RoiTable
from ._ui import guarded, layer_cube, yx_scale
from .resonance_table import ResonanceTable

__all__ = ["RoiManagerWidget", "roi_manager_for"]

_MANAGERS: dict[int, weakref.ref] = {}
#: display names in napari.yaml
MANAGER_NAME, ANALYSIS_NAME = "ROI manager", "Unmix (NNMF / NNLS)"
SUGGESTER_NAME = "ROI suggester"


def roi_manager_for(viewer) -> RoiManagerWidget | None:
    """The ROI manager open in ``viewer``, if any."""
    ref = _MANAGERS.get(id(viewer))
    return ref() if ref is not None else None


class RoiManagerWidget(QWidget):
    """The ROI manager dock (see the module docstring); one per viewer."""

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__()
        # napari passes a public-only proxy from the Plugins menu: keep the viewer itself
        viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)
        self.viewer = viewer
        self.model: RoiModel | None = None
        self.image_layer = None
        self.roi_layer = None
        self.analysis = None
        self._syncing = False
        self._removing: tuple[int, ...] = ()
        self.pixel: tuple[tuple[int, int], np.ndarray] | None = None  # spectrum under the mouse
        _MANAGERS[id(viewer)] = weakref.ref(self)

        self.image_combo = QComboBox()
        self.all_slices = QCheckBox("ROIs apply to all Z/T slices")
        self.processed_box = QCheckBox("show background-subtracted spectra")
        self.new_component = QSpinBox()
        self.new_component.setRange(0, 63)
        self.table = RoiTable(self.edit_row, self.remove_row)
        self.plot = SpectrumPlot(self)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.g_center = QDoubleSpinBox()
        self.g_fwhm = QDoubleSpinBox()
        self.g_amp = QDoubleSpinBox()
        for box, top in ((self.g_center, 1e6), (self.g_fwhm, 1e6), (self.g_amp, 1e9)):
            box.setRange(0.0 if box is not self.g_center else -1e6, top)
            box.setDecimals(2)
        self.g_amp.setValue(1.0)
        self.projection = QComboBox()
        self.projection.addItems(["estimate", "mean", "max", "min"])

        buttons = {
            "Add spectrum from file…": self._ask_spectrum_file,
            "Add Gaussian row": self._add_gaussian_clicked,
            "Mark selected as background": self.mark_background,
            "Subtract background → layer": self.subtract_background,
            "Background W map row": self._background_map_clicked,
            "Suggest ROIs…": self.open_suggester,
            "Save preset…": self._ask_save_preset,
            "Load preset…": self._ask_load_preset,
            "Export spectra CSV…": self._ask_export,
            "Analysis…": self.open_analysis,
        }
        self.buttons = {}
        grid = QGridLayout()
        for n, (text, slot) in enumerate(buttons.items()):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, slot=slot: slot())
            self.buttons[text] = b
            grid.addWidget(b, n // 2, n % 2)

        top = QGridLayout()
        top.addWidget(QLabel("image"), 0, 0)
        top.addWidget(self.image_combo, 0, 1)
        top.addWidget(QLabel("component of new ROIs"), 1, 0)
        top.addWidget(self.new_component, 1, 1)
        gauss = QHBoxLayout()
        for label, box in (("centre", self.g_center), ("FWHM", self.g_fwhm), ("amp.", self.g_amp)):
            gauss.addWidget(QLabel(label))
            gauss.addWidget(box)
        gauss.addWidget(QLabel("bg map"))
        gauss.addWidget(self.projection)

        self.resonance = None  # created with the model
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "ROIs and seed rows")
        body = QWidget()  # scrolls: the dock never forces the window past the screen
        layout = QVBoxLayout(body)
        layout.addLayout(top)
        layout.addWidget(self.all_slices)
        layout.addWidget(self.processed_box)
        layout.addWidget(self.tabs)
        layout.addWidget(self.plot)
        layout.addLayout(gauss)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        scroll_around(self, body)

        self.image_combo.currentIndexChanged.connect(lambda _: self._image_changed())
        self.all_slices.toggled.connect(lambda _: self._image_changed())
        self.processed_box.toggled.connect(lambda _: self.refresh())
        self.new_component.valueChanged.connect(self._set_defaults)
        viewer.layers.events.inserted.connect(self._layers_changed)
        viewer.layers.events.removed.connect(self._layers_changed)
        viewer.dims.events.current_step.connect(self._step_changed)
        self.probe = PixelProbe(viewer, lambda: self.image_layer,
                                lambda: None if self.model is None else self.model.cube, self._hovered)  # fmt: skip
        self._layers_changed()

    # ------------------------------------------------------------------ layers
    def _layers_changed(self, event=None) -> None:
        # only layers that are cubes: a 5-D or 2-D layer is not offered (no error pop-ups)
        names = [ly.name for ly in self.viewer.layers if is_cube_layer(ly)]
        current = self.image_combo.currentText()
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItems(names)
        if current in names:
            self.image_combo.setCurrentText(current)
        self.image_combo.blockSignals(False)
        if (self.image_layer is None or self.image_layer.name not in names) and names:
            self._image_changed()

    def _hovered(self, pixel: Any, spectrum: Any) -> None:
        self.pixel = None if pixel is None else (pixel, spectrum)
        if self.model is not None:
            self._plot_rows(self.model.rows())

    def _step_changed(self, event=None) -> None:
        ly = self.image_layer
        if ly is not None and ly in self.viewer.layers and ly.data.ndim == 4:
            self._image_changed()

    def select_image(self, layer) -> None:
        """Use ``layer`` (an image in the viewer) as the cube."""
        self.image_combo.setCurrentText(layer.name)
        self._image_changed()

    @guarded
    def _image_changed(self) -> None:
        name = self.image_combo.currentText()
        if not name or name not in self.viewer.layers:
            return
        layer = self.viewer.layers[name]
        cube = layer_cube(layer, self.viewer, all_slices=self.all_slices.isChecked())
        meta = layer.metadata
        axis = meta.get("spectral_axis")
        if axis is not None and np.size(axis) != cube.shape[0]:
            notifications.show_warning(
                f"metadata spectral_axis has {np.size(axis)} values for {cube.shape[0]} "
                "channels; using the channel index"
            )
            axis = None
        if self.model is None:
            self.model = RoiModel(
                cube, spectral_axis=axis, spectral_units=meta.get("spectral_units")
            )
            self.model.listeners.append(self.refresh)
            self.resonance = ResonanceTable(self.model, self.refresh)
            self.tabs.addTab(self.resonance, "Resonances")
        else:
            self.model.set_cube(cube, spectral_axis=axis)
            self.model.spectral_units = meta.get("spectral_units") if axis is not None else None
        self.image_layer = layer
        if self.roi_layer is None:
            scale, translate = yx_scale(layer)
            self.roi_layer = get_or_create_roi_layer(self.viewer, scale=scale, translate=translate)
            self.roi_layer.events.data.connect(self._on_data)
            self.roi_layer.events.features.connect(self._on_features)
            self._set_defaults()
            self.viewer.layers.selection.active = self.roi_layer
        self._sync_from_layer()

    def _set_defaults(self, *_: Any) -> None:
        if self.roi_layer is not None:
            self.roi_layer.feature_defaults["component"] = self.new_component.value()
            self.roi_layer.feature_defaults["name"] = ""
            self.roi_layer.current_edge_color = component_color(self.new_component.value())

    def _on_data(self, event) -> None:
        if self._syncing:
            return
        action = str(getattr(event, "action", ""))
        if action.endswith("removing"):
            self._removing = tuple(getattr(event, "data_indices", ()))
            return
        if action.endswith(("adding", "changing")):
            return
        removed = self._removing if action.endswith("removed") else ()
        self._removing = ()
        self._sync_from_layer(removed=removed)

    def _on_features(self, event=None) -> None:
        if not self._syncing:
            self._sync_from_layer()

    @guarded
    def _sync_from_layer(self, removed=()) -> None:
        if self.model is None or self.roi_layer is None:
            return
        ly = self.roi_layer
        feats = ly.features if len(ly.features) == len(ly.data) else None
        self.model.set_shapes(list(ly.data), list(ly.shape_type), feats, removed=removed)
        self._write_features()
        self._color_shapes()
        self.refresh()

    def _color_shapes(self) -> None:
        """Outline every ROI in its component's colour (background ROIs grey)."""
        ly, rows = self.roi_layer, self.model.rows()
        colors = [
            "#909090" if r["background"] else r["color"] for r in rows if r["kind"] == "drawn"
        ]
        if len(colors) != len(ly.data) or not colors:
            return
        self._syncing = True
        try:
            ly.edge_color = colors
            ly.current_edge_color = component_color(self.new_component.value())
        finally:
            self._syncing = False

    def _write_features(self) -> None:
        """Push the model's features (names filled in, edits) back to the layer."""
        ly = self.roi_layer
        if ly is None or len(ly.data) != len(self.model.features):
            return
        current = ly.features.reindex(columns=list(ROI_COLUMNS))
        if current.equals(self.model.features):
            return
        self._syncing = True
        try:
            ly.features = self.model.features.copy()
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ table + plot
    def refresh(self) -> None:
        """Rebuild the table and the spectrum plot from the model."""
        if self.model is None:
            return
        self.model.show_processed = self.processed_box.isChecked()
        rows = self.model.rows()
        self.table.show_rows(rows)
        problems = self._plot_rows(rows)
        self.status.setText("\n".join(problems))
        if problems:
            notifications.show_warning(problems[0])
        if self.analysis is not None:
            self.analysis.model_changed()

    def _plot_rows(self, rows: list[dict[str, Any]]) -> list[str]:
        """Plot the shown rows' spectra (and the hovered pixel's); returns the problems."""
        lines, problems = [], []
        for r in rows:
            if not r["show"]:
                continue
            try:
                y = self.model.row_spectrum(r)
            except ValueError as err:
                problems.append(str(err))
                continue
            if y is not None:
                ls = "--" if r["kind"] != "drawn" else ":" if r["background"] else "-"
                lines.append({"y": y, "color": r["color"], "label": r["name"], "ls": ls})
        if self.pixel is not None:
            (py, px), spectrum = self.pixel
            lines.append({"y": spectrum, "color": "#dddddd", "lw": 1.0, "ls": "-.",
                          "label": f"pixel (y {py}, x {px})"})  # fmt: skip
        self.plot.plot(
            self.model.axis,
            lines,
            xlabel=axis_label(self.model.spectral_units),
            ylabel="mean intensity"
            + (" (background subtracted)" if self.model.show_processed else ""),
        )
        return problems

    @guarded
    def edit_row(self, row: dict[str, Any], field: str, value: Any) -> None:
        """Set one field of a table row (see :meth:`RoiModel.edit_row`); drawn rows write
        back to the layer's features."""
        self.model.edit_row(row, field, value)
        if row["kind"] == "drawn":
            self._write_features()
            self._color_shapes()
        self.refresh()

    def remove_row(self, row: dict[str, Any]) -> None:
        """Remove a row: a drawn ROI is deleted from the Shapes layer."""
        if row["kind"] == "drawn":
            mask = np.zeros(len(self.roi_layer.data), bool)
            mask[row["index"]] = True
            self.roi_layer.selected_data = {row["index"]}
            self.roi_layer.remove_selected()
        else:
            self.model.remove_dummy(row["index"])
            self.refresh()

    # ------------------------------------------------------------------ buttons
    def _need_model(self) -> RoiModel:
        if self.model is None:
            raise ValueError(
                "open a hyperspectral C x Y x X image first (e.g. the bead cube sample)"
            )
        return self.model

    def _ask_spectrum_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Spectrum file", "", "Spectra (*.csv *.txt)")
        if path:
            self.add_spectrum_file(path)

    @guarded
    def add_spectrum_file(self, path: str | os.PathLike) -> int:
        """Add one dummy row per spectrum column of a CSV/TXT file; returns how many."""
        n, extrapolated = add_spectra_file(self._need_model(), path)
        if extrapolated:
            notifications.show_warning(
                f"the image's spectral axis reaches outside {Path(path).name!r}; edge values "
                "are held there (check the file's units)"
            )
        self.refresh()
        return n

    def _add_gaussian_clicked(self) -> None:
        self.add_gaussian(
            center=self.g_center.value(), fwhm=self.g_fwhm.value(), amplitude=self.g_amp.value()
        )

    @guarded
    def add_gaussian(self, *, center: float, fwhm: float, amplitude: float = 1.0) -> None:
        """Add a Gaussian resonance model as a dummy row (next free component)."""
        model = self._need_model()
        model.add_gaussian(
            center=center, fwhm=fwhm, amplitude=amplitude,
            name=f"Gaussian {center:g}", component=model.next_component(),
        )  # fmt: skip
        self.refresh()

    @guarded
    def mark_background(self, indices=None) -> None:
        """Flag the selected shapes (or ``indices``) as background ROIs."""
        self._need_model()
        idx = sorted(self.roi_layer.selected_data if indices is None else indices)
        if not idx:
            raise ValueError("select one or more ROIs on the 'ROIs' layer first")
        for i in idx:
            self.model.set_drawn(i, background=True)
        self._write_features()
        self._color_shapes()
        self.refresh()

    @guarded
    def subtract_background(self):
        """Add a "processed" layer: the image minus the background ROIs' mean spectrum."""
        model = self._need_model()
        data = model.processed(self.image_layer.data)
        ly = self.image_layer
        meta = {k: v for k, v in ly.metadata.items() if k != "ground_truth"}
        meta["background_spectrum"] = model.background_spectrum()
        return self.viewer.add_image(
            data, name=f"{ly.name} (processed)", scale=ly.scale, translate=ly.translate,
            colormap=ly.colormap, metadata=meta,
        )  # fmt: skip

    def _background_map_clicked(self) -> None:
        self.add_background_map(self.projection.currentText())

    @guarded
    def add_background_map(self, projection: str = "estimate") -> None:
        """Add a fixed background W map row (a projection of the cube over channels)."""
        model = self._need_model()
        model.add_background_map(projection=projection, component=model.next_component())
        self.refresh()

    def open_suggester(self) -> None:
        """Open the ROI suggester dock when it is installed (another napari-unmix tool)."""
        try:
            self.viewer.window.add_plugin_dock_widget("napari-unmix", SUGGESTER_NAME)
        except Exception as err:  # a missing or broken optional tool must not crash the manager
            notifications.show_warning(f"could not open the ROI suggester: {err}")

    def open_analysis(self):
        """Open (or show) the seeded NNMF / NNLS analysis dock linked to this manager.

        napari makes the dock from the manifest; it finds this manager
        (:func:`roi_manager_for`) and links itself (sets :attr:`analysis`).
        """
        if self.analysis is None:
            self.viewer.window.add_plugin_dock_widget("napari-unmix", ANALYSIS_NAME)
        return self.analysis

    # ------------------------------------------------------------------ presets, export
    def _ask_save_preset(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save preset", "", "Preset (*.json)")
        if path:
            self.save_preset(path, overwrite=True)

    def _ask_load_preset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load preset", "", "Preset (*.json)")
        if path:
            self.load_preset(path)

    def state(self) -> dict[str, Any]:
        """The full state: ROI model, slice option and analysis settings."""
        state = self._need_model().to_state()
        state["settings"]["all_slices"] = self.all_slices.isChecked()
        state["settings"]["analysis"] = (
            self.analysis.settings() if self.analysis is not None else None
        )
        return state

    @guarded
    def save_preset(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the state as a preset JSON file."""
        return _write_preset(path, self.state(), overwrite=overwrite)

    @guarded
    def load_preset(self, path: str | os.PathLike) -> None:
        """Restore ROIs, rows, resonance rows and analysis settings from a preset."""
        model = self._need_model()
        state = _read_preset(path)
        model.load_state(state)
        settings = state["settings"]
        self.all_slices.setChecked(bool(settings.get("all_slices", False)))
        self._syncing = True
        try:
            ly = self.roi_layer
            ly.data = []
            if model.shapes:
                ly.add(model.shapes, shape_type=model.shape_types)
            ly.features = model.features.copy()
        finally:
            self._syncing = False
        if self.resonance is not None:
            self.resonance.refresh()
        if settings.get("analysis"):
            self.open_analysis().apply_settings(settings["analysis"])
        self.refresh()

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export spectra", "", "CSV (*.csv)")
        if path:
            self.export_spectra(path, overwrite=True)

    @guarded
    def export_spectra(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the spectra of all rows that have one as CSV (axis column first)."""
        return export_spectra(self._need_model(), path, overwrite=overwrite)
