"""The NNMF / NNLS dock's results-panel content: one :class:`ResultsView` per run.

It shows what the run did (one summary line: method, solver and iterations, or what the
fixed-H NNLS computed), the spectra H against their seeds (themed plot, the spectral axis
with its units), the measured spectrum of the pixel under the mouse (or clicked) against
the model ``w · H``, "Import as seeds" (into the ROI model, which the ROI manager mirrors)
and "Export W + H". The layers themselves are added by the dock through the shared
result-layer policy; this widget owns none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..api.rois import component_color
from ._plot import SpectrumPlot, axis_label
from ._ui import guarded

__all__ = ["ResultsView", "summary_text"]


def _error(rel: float | None) -> str:
    return "n/a (lazy: exported or computed later)" if rel is None else f"{rel:.4f}"


def summary_text(result: Any, seconds: float | None = None) -> str:
    """One or two lines saying what the run did (method-specific).

    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(params={"method": "nnls"}, report={"kkt_violation": 1e-9},
    ...     relative_error=0.01, n_iter=0, converged=True, k=2, W=np.zeros((2, 4, 5)), names=[])
    >>> summary_text(r).splitlines()[0]
    'fixed-H NNLS: exact per-pixel NNLS of 20 pixels against 2 seed spectra (H kept fixed)'
    """
    p, rep = result.params, result.report
    method = p.get("method", "?")
    W = result.W
    pixels = int(np.prod(W.shape[-2:])) * (int(W.shape[0]) if W.ndim == 4 else 1)
    took = f" in {seconds:.2f} s" if seconds is not None else ""
    if method == "nnls":
        head = (
            f"fixed-H NNLS: exact per-pixel NNLS of {pixels} pixels against {result.k} seed "
            "spectra (H kept fixed)"
        )
        kkt = rep.get("kkt_violation")
        tail = f"relative error {_error(result.relative_error)}" + (
            f", KKT violation {kkt:.1e}" if kkt is not None else ""
        )
    elif method == "pca":
        ratio = np.asarray(rep.get("explained_variance_ratio", [])).ravel()
        head = f"PCA: {result.k} components of {pixels} pixels"
        tail = f"explained variance {ratio.sum():.1%}" if ratio.size else ""
    else:
        label = "seeded NNMF" if method == "seeded_nnmf" else "random NNMF"
        solver = rep.get("solver") or p.get("solver", "auto")
        conv = "converged" if result.converged else "stopped at max_iter (not converged)"
        head = (
            f"{label}: {result.k} components, solver {solver}, {result.n_iter} iterations, {conv}"
        )
        tail = f"relative error {_error(result.relative_error)}"
    return f"{head}{took}\n{tail}".strip()


class ResultsView(QWidget):
    """Summary, H vs seeds, pixel spectrum vs model, import and export of one run."""

    def __init__(
        self, result: Any, image_layer: Any, *, model: Any = None, seconds: float | None = None
    ) -> None:
        super().__init__()
        self.result = result
        self.image_layer = image_layer
        self.model = model
        H = np.asarray(result.H)
        self.axis = (
            np.asarray(result.spectral_axis)
            if result.spectral_axis is not None
            else np.arange(H.shape[-1], dtype=np.float64)
        )
        self.xlabel = axis_label(result.spectral_units)
        self.summary = QLabel(summary_text(result, seconds))
        self.summary.setWordWrap(True)
        self.h_plot = SpectrumPlot(self, height=2.2)
        self.pixel_plot: SpectrumPlot | None = None  # made on the first hover (speed)
        self.hint = QLabel("hover or click a pixel: its measured spectrum against the model W·H")
        self.hint.setWordWrap(True)
        self.plot_spectra()
        buttons = QHBoxLayout()
        for mode in ("H", "W", "H+W"):
            b = QPushButton(f"{mode} → seeds")
            b.setToolTip(f"add this result's components to the ROI manager as seed rows ({mode})")
            b.clicked.connect(lambda _=False, mode=mode: self.import_as_seeds(mode))
            buttons.addWidget(b)
        export = QPushButton("Export W + H…")
        export.clicked.connect(lambda: self._ask_export())
        buttons.addWidget(export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.summary, self.h_plot, self.hint):
            layout.addWidget(w)
        layout.addLayout(buttons)

    def plot_spectra(self) -> None:
        """H of the fit (solid) with the seeds (dashed)."""
        H = np.asarray(self.result.H)
        H = H[0] if H.ndim == 3 else H
        lines = [
            {"y": H[j], "color": component_color(j), "label": n}
            for j, n in enumerate(self.result.names)
        ]
        seeds = self.result.seeds
        fixed = self.result.params.get("method") == "nnls"
        if seeds is not None and not fixed:
            lines += [
                {"y": seeds.H0[j], "color": component_color(j), "ls": "--", "lw": 1.0}
                for j in range(seeds.k)
            ]
        title = "H = the seeds (kept fixed)" if fixed else "H (solid) and seeds (dashed)"
        if seeds is None:
            title = "H"
        self.h_plot.plot(self.axis, lines, xlabel=self.xlabel, ylabel="H (a.u.)", title=title)

    def pixel_model(self, y: int, x: int, slice_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The measured spectrum of pixel (y, x) and its model ``w · H`` (+ background)."""
        W, H = self.result.W, np.asarray(self.result.H)
        data = self.image_layer.data
        if W.ndim == 4:
            W, data = W[slice_index], data[slice_index]
            H = H[slice_index] if H.ndim == 3 else H
        measured = np.asarray(data[:, y, x], dtype=np.float64)
        w = np.nan_to_num(np.asarray(W[:, y, x], dtype=np.float64))
        fitted = w @ H
        seeds = self.result.seeds
        if seeds is not None and seeds.subtract_spectrum is not None:
            fitted = fitted + seeds.background_at(y, x)
        if self.result.params.get("method") == "pca":
            fitted = fitted + np.asarray(self.result.report["mean_spectrum"])
        return measured, fitted

    def show_pixel(self, y: int, x: int, slice_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Plot the measured spectrum of pixel (y, x) against its model ``w · H``."""
        measured, fitted = self.pixel_model(y, x, slice_index)
        if self.pixel_plot is None:
            self.pixel_plot = SpectrumPlot(self, height=1.9)
            self.layout().insertWidget(3, self.pixel_plot)
        self.pixel_plot.plot(
            self.axis,
            [{"y": measured, "color": "text", "label": "measured"},
             {"y": fitted, "color": "#ffbf00", "ls": "--", "label": "model W·H"}],
            xlabel=self.xlabel, ylabel="intensity", title=f"pixel y={y}, x={x}",
        )  # fmt: skip
        return measured, fitted

    def show_position(self, position: Any) -> bool:
        """Show the pixel at a world ``position`` (mouse); False when outside the image."""
        layer = self.image_layer
        if layer is None:
            return False
        pos = layer.world_to_data(position)
        y, x = (round(v) for v in pos[-2:])
        ny, nx = layer.data.shape[-2:]
        if not (0 <= y < ny and 0 <= x < nx):
            return False
        s = round(pos[0]) if layer.data.ndim == 4 else 0
        self.show_pixel(y, x, min(max(s, 0), layer.data.shape[0] - 1))
        return True

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
