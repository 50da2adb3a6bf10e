"""Dock widget "PICASSO unmixing": blind unmixing of N channel layers, automatic or manual.

Thin driver: gathers layers and settings (defaults and ranges from
:class:`~napari_unmix.core.picasso.PicassoOptions`), runs the script API's own code path
(:func:`napari_unmix.api.picasso.iter_unmix_picasso_array`, the generator behind
``unmix_picasso_array``) in a ``thread_worker`` (progress bar from its
:class:`~napari_unmix.core.progress.Progress` events, cancel), and adds the layers of its
:meth:`~napari_unmix.api.picasso.PicassoRun.to_result` as ``unmixed_<name>`` with the
API's report. The manual mode shows one slider per source→sink relation and re-unmixes
the displayed slice live.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from napari.layers import Image
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..api.picasso import PicassoRun, iter_unmix_picasso_array
from ..core.axes import from_tzcyx
from ..core.options import OptionSpec
from ..core.picasso import (
    IMPLEMENTATIONS,
    RECOMMENDED_IMPLEMENTATION,
    PicassoOptions,
    PicassoResult,
    apply_unmixing,
    auto_pixel_bin_size,
    build_source_sink_matrix,
)
from ..core.picasso.sourcesink import SourceSinkFit
from ..core.progress import Progress
from ..core.result import ResultLayer
from ._layers import layers_to_tzcyx

__all__ = ["PicassoWidget", "gather_channels"]

_SLIDER_STEPS = 1000
_SPIN_MAX = 1_000_000  # the spin boxes' upper end where an option has none
#: the options the dock shows (the rest keep their defaults)
DOCK_OPTIONS = ("implementation", "max_iter", "tolerance", "pixel_bin_size", "alpha_max")


def _spin_box(spec: OptionSpec) -> QSpinBox | QDoubleSpinBox:
    """A spin box with the option's range, default and doc."""
    lo, hi = spec.bounds or (None, None)
    if spec.base is int:
        box = QSpinBox(minimum=int(lo or 0), maximum=int(min(hi or _SPIN_MAX, _SPIN_MAX)))
    else:
        box = QDoubleSpinBox(decimals=5, minimum=float(lo or 0), maximum=float(hi or _SPIN_MAX))
        box.setSingleStep(0.1 * float(spec.default) or 0.1)
    box.setValue(spec.default)
    box.setToolTip(spec.help())
    return box


def gather_channels(layers: list[Image]) -> tuple[np.ndarray, list[str], str | None]:
    """TZCYX array from several single-channel layers or one multichannel layer.

    Returns the data, the channel names and the axes of the single multichannel layer
    (None when the channels came from separate layers).
    """
    if not layers:
        raise ValueError("tick the image layers to unmix (one per channel, or one multichannel)")
    stack = layers_to_tzcyx(layers, min_channels=2)
    return stack.data, list(stack.names), stack.axes[0] if stack.multichannel else None


class PicassoWidget(QWidget):
    """Dock widget; every control is a public attribute for scripts and tests."""

    def __init__(self, napari_viewer: Any) -> None:
        viewer = napari_viewer
        super().__init__()
        self.viewer = viewer
        self.worker = None
        self.result: PicassoResult | None = None
        self._data: np.ndarray | None = None
        self._names: list[str] = []
        self._layers: list[Image] = []
        self.sliders: dict[tuple[int, int], QSlider] = {}

        self.layer_list = QListWidget()
        self.refresh_button = QPushButton("Refresh layers")
        self.implementation = QComboBox()
        for method in IMPLEMENTATIONS.values():
            self.implementation.addItem(method.label, method.name)
            self.implementation.setItemData(
                self.implementation.count() - 1, method.doc, Qt.ToolTipRole
            )
        self.implementation.setCurrentIndex(list(IMPLEMENTATIONS).index(RECOMMENDED_IMPLEMENTATION))
        self.max_iter = _spin_box(PicassoOptions.spec("max_iter"))
        self.tolerance = _spin_box(PicassoOptions.spec("tolerance"))
        self.pixel_bin_size = _spin_box(PicassoOptions.spec("pixel_bin_size"))
        self.alpha_max = _spin_box(PicassoOptions.spec("alpha_max"))
        self.grid_box = QGroupBox("Source (row) → sink (column)")
        self.grid = QGridLayout(self.grid_box)
        self.all_button = QPushButton("All → all")
        self.none_button = QPushButton("None")
        self.sinks_edit = QLineEdit()
        self.sinks_edit.setPlaceholderText("sinks, e.g. 2 (empty: all)")  # grey hint text
        self.neutral_edit = QLineEdit()
        self.neutral_edit.setPlaceholderText("neutral, e.g. 3")
        self.roles_button = QPushButton("Apply roles")
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.matrix_label = QLabel("")
        self.matrix_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.manual = QCheckBox("Manual mode (alpha sliders, current slice)")
        self.slider_box = QGroupBox("Manual alphas")
        self.slider_layout = QFormLayout(self.slider_box)
        self.slider_box.setVisible(False)
        self.checks: dict[tuple[int, int], QCheckBox] = {}

        form = QFormLayout()
        for name in DOCK_OPTIONS:
            form.addRow(PicassoOptions.spec(name).label, getattr(self, name))
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        shortcuts = QHBoxLayout()
        shortcuts.addWidget(self.all_button)
        shortcuts.addWidget(self.none_button)
        roles = QHBoxLayout()
        roles.addWidget(self.sinks_edit)
        roles.addWidget(self.neutral_edit)
        roles.addWidget(self.roles_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Channels (tick one layer per channel, or one multichannel layer)"))
        layout.addWidget(self.layer_list)
        layout.addWidget(self.refresh_button)
        layout.addLayout(form)
        layout.addWidget(self.grid_box)
        layout.addLayout(shortcuts)
        layout.addLayout(roles)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.matrix_label)
        layout.addWidget(self.manual)
        layout.addWidget(self.slider_box)

        self.refresh_button.clicked.connect(self.refresh_layers)
        self.layer_list.itemChanged.connect(lambda _item: self._rebuild_grid())
        self.all_button.clicked.connect(lambda: self._set_all(True))
        self.none_button.clicked.connect(lambda: self._set_all(False))
        self.roles_button.clicked.connect(self.apply_roles)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.manual.toggled.connect(self._toggle_manual)
        self.viewer.layers.events.inserted.connect(lambda _e: self.refresh_layers())
        self.viewer.layers.events.removed.connect(lambda _e: self.refresh_layers())
        self.viewer.dims.events.current_step.connect(lambda _e: self.update_manual())
        self.refresh_layers()

    # ------------------------------------------------------------------ inputs
    def refresh_layers(self) -> None:
        ticked = {layer.name for layer in self.selected_layers()}
        self.layer_list.blockSignals(True)
        self.layer_list.clear()
        for layer in self.viewer.layers:
            if isinstance(layer, Image) and not layer.name.startswith(("unmixed_", "manual_")):
                item = QListWidgetItem(layer.name)
                item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
                fresh = not ticked and not layer.rgb
                item.setCheckState(Qt.Checked if layer.name in ticked or fresh else Qt.Unchecked)
                self.layer_list.addItem(item)
        self.layer_list.blockSignals(False)
        self._rebuild_grid()

    def selected_layers(self) -> list[Image]:
        names = [
            self.layer_list.item(i).text()
            for i in range(self.layer_list.count())
            if self.layer_list.item(i).checkState() == Qt.Checked
        ]
        return [self.viewer.layers[n] for n in names if n in self.viewer.layers]

    def _channel_names(self) -> list[str]:
        try:
            return gather_channels(self.selected_layers())[1]
        except ValueError:
            return []

    def _rebuild_grid(self) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        self.checks = {}
        names = self._channel_names()
        layers = self.selected_layers()
        if layers:  # about 1000 blocks per plane for the MATLAB scheme
            self.pixel_bin_size.setValue(auto_pixel_bin_size(layers[0].data.shape[-2:]))
        for k, name in enumerate(names):
            self.grid.addWidget(QLabel(f"{k}"), 0, k + 1)
            self.grid.addWidget(QLabel(f"{k}: {name}"), k + 1, 0)
            for j in range(len(names)):
                box = QCheckBox()
                box.setChecked(k != j)
                box.setEnabled(k != j)
                self.grid.addWidget(box, k + 1, j + 1)
                if k != j:
                    self.checks[(k, j)] = box

    def _set_all(self, on: bool) -> None:
        for box in self.checks.values():
            box.setChecked(on)

    def apply_roles(self) -> None:
        """Tick the grid from sink / neutral channel numbers (every other channel a source)."""
        try:
            sinks = [int(v) for v in self.sinks_edit.text().replace(",", " ").split()]
            neutral = [int(v) for v in self.neutral_edit.text().replace(",", " ").split()]
            m = build_source_sink_matrix(
                len(self._channel_names()), sink_channels=sinks or None, neutral_channels=neutral
            )
        except ValueError as err:
            show_error(f"roles: {err} (give channel numbers of the grid, e.g. '0 2')")
            return
        for (i, j), box in self.checks.items():
            box.setChecked(bool(m[i, j] == -1))

    def source_sink_matrix(self) -> np.ndarray:
        n = len(self._channel_names())
        m = np.eye(n, dtype=int)
        for (i, j), box in self.checks.items():
            if box.isChecked():
                m[i, j] = -1
        return m

    # ------------------------------------------------------------------ run
    def run(self, *, start: bool = True):
        """Start the estimation in a worker (``start=False``: return it unstarted)."""
        try:
            data, names, axes = gather_channels(self.selected_layers())
        except ValueError as err:
            show_error(str(err))
            return None
        kwargs = self.option_values()
        impl = kwargs["implementation"]
        if impl == "source_sink_n":  # the grid declares its relations
            kwargs["source_sink_matrix"] = self.source_sink_matrix()
        self._data, self._names, self._layers = data, names, self.selected_layers()
        self._axes = axes
        self.progress.setRange(0, kwargs["max_iter"])
        self.progress.setValue(0)

        # napari's activity dock shows a busy bar (the run may stop early at `tolerance`);
        # the dock's own bar counts iterations
        @thread_worker(progress={"desc": f"PICASSO {impl}"})
        def work():
            return (yield from iter_unmix_picasso_array(data, {"axes": "TZCYX", **kwargs}))

        self.worker = work()
        self.worker.yielded.connect(self._on_progress)
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(lambda err: show_error(f"PICASSO failed: {err}"))
        self.worker.finished.connect(self._on_finished)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        if start:
            self.worker.start()
        return self.worker

    def option_values(self) -> dict[str, Any]:
        """The options the dock shows, as :class:`PicassoOptions` keywords."""
        values = {name: getattr(self, name).value() for name in DOCK_OPTIONS[1:]}
        return {"implementation": self.implementation.currentData(), **values}

    def _on_progress(self, event: Progress) -> None:
        if event.total:
            self.progress.setMaximum(int(event.total))
        self.progress.setValue(int(event.done))

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()
            show_info("PICASSO cancelled; no layers were added")

    def _on_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_done(self, run: PicassoRun) -> None:
        result = self.result = run.result
        self.progress.setValue(self.progress.maximum())  # converged before max_iter: done
        stacked = self._axes is not None  # one multichannel layer in, one out
        likes = self._layers[:1] if stacked else self._layers
        out = run.to_result(names=[f"unmixed_{ly.name}" for ly in likes], stacked=stacked)
        for layer, like in zip(out.layers, likes, strict=True):
            data = from_tzcyx(layer.data, self._axes) if stacked else layer.data
            self._put_layer(layer, data.reshape(like.data.shape), like, {"report": out.report})
        shown = result.mixing if result.mixing is not None else result.matrix
        self.matrix_label.setText(
            "estimated mixing (rows = channels, unit diagonal):\n"
            + np.array2string(np.asarray(shown)[0], precision=3, suppress_small=True)
        )
        self._build_sliders()

    def _put_layer(self, out: ResultLayer, data: Any, like: Image, metadata: dict) -> None:
        name = out.name
        if name in self.viewer.layers:
            self.viewer.layers[name].data = data
            self.viewer.layers[name].metadata.update(metadata)
            return
        self.viewer.add_image(
            data,
            name=name,
            scale=like.scale,
            translate=like.translate,
            colormap=out.colormap or like.colormap,
            blending=out.blending,
            metadata=dict(metadata),
        )

    # ------------------------------------------------------------------ manual mode
    def _build_sliders(self) -> None:
        while self.slider_layout.rowCount():
            self.slider_layout.removeRow(0)
        self.sliders = {}
        if self.result is None or self.result.mixing is None:
            return
        mixing = self.result.mixing[0]
        for (i, j), box in self.checks.items():
            if not box.isChecked():
                continue
            slider = QSlider(Qt.Horizontal)
            slider.setRange(0, _SLIDER_STEPS)
            value = float(np.clip(mixing[j, i], 0, self.alpha_max.value()))
            slider.setValue(round(value / self.alpha_max.value() * _SLIDER_STEPS))
            slider.valueChanged.connect(lambda _v: self.update_manual())
            self.slider_layout.addRow(f"{i} → {j}", slider)
            self.sliders[(i, j)] = slider

    def manual_alphas(self) -> np.ndarray:
        """Slider values as ``alpha[source, sink]``."""
        n = len(self._names)
        alpha = np.zeros((n, n))
        for (i, j), slider in self.sliders.items():
            alpha[i, j] = slider.value() / _SLIDER_STEPS * self.alpha_max.value()
        return alpha

    def _toggle_manual(self, on: bool) -> None:
        self.slider_box.setVisible(on)
        if on and not self.sliders:
            show_info("run an estimation first: the sliders start from its values")
        self.update_manual()

    def update_manual(self) -> None:
        """Re-unmix the displayed T/Z slice with the slider alphas (source-sink model)."""
        if not self.manual.isChecked() or self._data is None or not self.sliders:
            return
        step = self.viewer.dims.current_step
        n_t, n_z = self._data.shape[:2]
        ndim = self.viewer.dims.ndim
        t = step[0] if ndim >= 4 and n_t > 1 else 0
        z = step[ndim - 3] if ndim >= 3 and n_z > 1 else 0
        t, z = min(int(t), n_t - 1), min(int(z), n_z - 1)
        plane = self._data[t : t + 1, z : z + 1]
        matrix = SourceSinkFit(alpha=self.manual_alphas()).matrix
        bg = self.result.background[t] if self.result is not None else None
        out = apply_unmixing(plane, matrix, background=bg)
        for k, name in enumerate(self._names):
            layer = self._layers[k] if self._axes is None else self._layers[0]
            lname = f"manual_{name}"
            img = out[0, 0, k]
            if lname in self.viewer.layers:
                self.viewer.layers[lname].data = img
            else:
                self.viewer.add_image(
                    img,
                    name=lname,
                    scale=layer.scale[-2:],
                    translate=layer.translate[-2:],
                    blending="additive",
                    metadata={"manual_alpha": self.manual_alphas().tolist(), "t": t, "z": z},
                )
            self.viewer.layers[lname].metadata["manual_alpha"] = self.manual_alphas().tolist()
