"""Result viewer: W maps and residual as layers, H vs seeds, hover spectrum, import, export."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..api.rois import component_color
from ._plot import SpectrumPlot, axis_label
from ._ui import guarded
from .seed_preview import component_colormap

__all__ = ["ResultsWidget", "add_result_layers"]


def _layer_geometry(image_layer: Any, result_ndim: int) -> dict[str, tuple]:
    """Scale/translate for a result layer: the image's slice axis (if any) + Y/X."""
    scale, translate = tuple(image_layer.scale), tuple(image_layer.translate)
    if result_ndim == 3:  # slices x Y x X
        return {"scale": (scale[0], *scale[-2:]), "translate": (translate[0], *translate[-2:])}
    return {"scale": scale[-2:], "translate": translate[-2:]}


def add_result_layers(viewer: Any, result: Any, image_layer: Any) -> list:
    """Add one W layer per component (additive, component colours) and the residual map."""
    W = np.asarray(result.W)
    is4d = W.ndim == 4
    layers = []
    method = result.params.get("method", "unmix")
    for j, name in enumerate(result.names):
        data = W[:, j] if is4d else W[j]
        color = component_color(j)
        layers.append(
            viewer.add_image(
                data, name=f"W {name} ({method})", blending="additive",
                colormap=component_colormap(color, name),
                metadata={"unmix_report": result.report, "component": name,
                          "spectrum": np.asarray(result.H)[..., j, :]},
                **_layer_geometry(image_layer, data.ndim),
            )
        )  # fmt: skip
    res = np.asarray(result.residual)
    layers.append(
        viewer.add_image(
            res, name=f"residual ({method})", colormap="inferno", visible=False,
            metadata={"unmix_report": result.report}, **_layer_geometry(image_layer, res.ndim),
        )
    )  # fmt: skip
    return layers


class ResultsWidget(QWidget):
    """Fit summary, H spectra with seeds, hover spectrum vs model, import and export."""

    def __init__(self, viewer: Any, result: Any, image_layer: Any, *, model: Any = None) -> None:
        super().__init__()
        self.viewer = viewer
        self.result = result
        self.image_layer = image_layer
        self.model = model
        self.layers = add_result_layers(viewer, result, image_layer)
        self.axis = (
            np.asarray(result.spectral_axis)
            if result.spectral_axis is not None
            else np.arange(np.shape(result.H)[-1], dtype=np.float64)
        )
        rel = result.relative_error
        p = result.params
        self.summary = QLabel(
            f"{p.get('method')}: solver {p.get('solver', '-')}, {result.n_iter} iterations, "
            f"converged {result.converged}, relative error "
            f"{'n/a' if rel is None else f'{rel:.4f}'}"
        )
        self.summary.setWordWrap(True)
        self.h_plot = SpectrumPlot(self)
        self.pixel_plot = SpectrumPlot(self, height=2.0)
        self.plot_spectra()
        buttons = QHBoxLayout()
        for mode in ("H", "W", "H+W"):
            b = QPushButton(f"Import {mode} as seeds")
            b.clicked.connect(lambda _=False, mode=mode: self.import_as_seeds(mode))
            buttons.addWidget(b)
        export = QPushButton("Export W + H…")
        export.clicked.connect(lambda: self._ask_export())
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.h_plot)
        layout.addWidget(QLabel("hover a pixel: measured spectrum vs model"))
        layout.addWidget(self.pixel_plot)
        layout.addLayout(buttons)
        layout.addWidget(export)
        viewer.mouse_move_callbacks.append(self._on_move)

    def plot_spectra(self) -> None:
        """H of the fit (solid) with the seeds (dashed)."""
        H = np.asarray(self.result.H)
        H = H[0] if H.ndim == 3 else H
        lines = [
            {"y": H[j], "color": component_color(j), "label": n}
            for j, n in enumerate(self.result.names)
        ]
        seeds = self.result.seeds
        if seeds is not None:
            lines += [
                {"y": seeds.H0[j], "color": component_color(j), "ls": "--", "lw": 1.0}
                for j in range(seeds.k)
            ]
        self.h_plot.plot(
            self.axis, lines, xlabel=axis_label(self.result.spectral_units),
            title="H (solid) and seeds (dashed)",
        )  # fmt: skip

    def show_pixel(self, y: int, x: int, slice_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Plot the measured spectrum of pixel (y, x) against its model ``w · H``."""
        W, H = np.asarray(self.result.W), np.asarray(self.result.H)
        data = self.image_layer.data
        if W.ndim == 4:
            W, data = W[slice_index], data[slice_index]
            H = H[slice_index] if H.ndim == 3 else H
        measured = np.asarray(data[:, y, x], dtype=np.float64)
        w = np.nan_to_num(W[:, y, x])
        fitted = w @ H
        if self.result.seeds is not None and self.result.seeds.subtract_spectrum is not None:
            fitted = fitted + self.result.seeds.background_at(y, x)
        if self.result.params.get("method") == "pca":
            fitted = fitted + np.asarray(self.result.report["mean_spectrum"])
        self.pixel_plot.plot(
            self.axis,
            [{"y": measured, "color": "#dddddd", "label": "measured"},
             {"y": fitted, "color": "#ffbf00", "ls": "--", "label": "model"}],
            xlabel=axis_label(self.result.spectral_units), title=f"pixel y={y}, x={x}",
        )  # fmt: skip
        return measured, fitted

    def _on_move(self, viewer: Any, event: Any) -> None:
        if self.image_layer not in viewer.layers:
            return
        pos = self.image_layer.world_to_data(event.position)
        y, x = (round(v) for v in pos[-2:])
        ny, nx = self.image_layer.data.shape[-2:]
        if 0 <= y < ny and 0 <= x < nx:
            s = round(pos[0]) if self.image_layer.data.ndim == 4 else 0
            self.show_pixel(y, x, min(max(s, 0), self.image_layer.data.shape[0] - 1))

    @guarded
    def import_as_seeds(self, mode: str) -> int:
        """Add the result's components to the ROI model as seed rows (H, W or H+W); the
        docks that mirror the model (the ROI manager) hear it through ``model.changed()``."""
        if self.model is None:
            raise ValueError("no ROI manager to import into; open it first")
        n = self.model.import_result(
            self.result, mode=mode, first_component=self.model.next_component()
        )
        self.model.changed()
        return n

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export W", "", "OME-TIFF (*.ome.tif)")
        if path:
            self.export(path)

    @guarded
    def export(self, path: str | os.PathLike, *, overwrite: bool = False) -> dict[str, Path]:
        """W as float32 OME-TIFF, H as CSV, the report as JSON sidecar (see ``save_result``)."""
        from ..api.nmf import save_result

        sy, sx = (float(v) for v in self.image_layer.scale[-2:])
        sz = float(self.image_layer.scale[0]) if self.image_layer.data.ndim == 4 else 1.0
        return save_result(self.result, path, overwrite=overwrite, physical_size=(sz, sy, sx))

    def close_layers(self) -> None:
        """Remove this result's layers and the hover callback."""
        for layer in self.layers:
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.layers = []
        if self._on_move in self.viewer.mouse_move_callbacks:
            self.viewer.mouse_move_callbacks.remove(self._on_move)
