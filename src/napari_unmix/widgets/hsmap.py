"""Dock widget "Hyperspectral maps": intensity, ratio and cluster maps with metrics.

A thin driver: it reads the cube layer and the settings, runs one function of
:mod:`napari_unmix.api.hsmap` in a worker thread (progress bar, cancel button) and adds
the result as new layers — maps as Image layers, the cluster map as a Labels layer in the
cluster colours — with the cluster spectra plotted in the dock and the metrics in a table.
A Labels layer painted by the user (0 = unpainted) can be chosen as ground truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from magicgui import widgets as mw
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from napari.layers import Image, Labels
from napari.qt.threading import create_worker
from napari.utils.colormaps import DirectLabelColormap
from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ..api import hsmap as api
from ..core.hsmap import CLEANUPS, CLUSTER_METHODS, cluster_colors
from ..core.preprocess import BASELINES, NORMALISATIONS

__all__ = ["HyperspectralMapsWidget"]

_NONE = "none"


def _float_pair(text: str, what: str) -> tuple[float, float] | None:
    text = text.strip()
    if not text:
        return None
    parts = text.replace(";", ",").split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{what}: write two numbers 'start, stop', got {text!r}") from None
    return lo, hi


class HyperspectralMapsWidget(QWidget):
    """Intensity, ratio and cluster maps of a C×Y×X layer (see module docstring)."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.last_result: Any = None
        self.last_metrics: dict[str, Any] | None = None

        self.cube = mw.ComboBox(label="cube (C×Y×X)", choices=self._cube_layers)
        self.axis_text = mw.LineEdit(
            label="spectral axis", value="", tooltip="empty: from layer metadata; or 'start, stop'"
        )
        self.units = mw.ComboBox(label="units", choices=["cm-1", "nm", "channel"], value="cm-1")
        self.crop = mw.LineEdit(label="crop range", value="", tooltip="empty = all; 'lo, hi'")
        self.baseline = mw.ComboBox(label="baseline", choices=[_NONE, *BASELINES], value=_NONE)
        self.normalise = mw.ComboBox(
            label="normalise", choices=[_NONE, *NORMALISATIONS], value=_NONE
        )
        self.sigma = mw.FloatSpinBox(label="spatial sigma (px)", value=0.0, min=0.0, max=20.0)
        self.target = mw.FloatSpinBox(label="band (intensity)", value=1655.0, min=-1e6, max=1e6)
        self.window = mw.FloatSpinBox(label="± window", value=10.0, min=0.0, max=1e5)
        self.numerator = mw.FloatSpinBox(label="ratio numerator", value=1655.0, min=-1e6, max=1e6)
        self.denominator = mw.FloatSpinBox(
            label="ratio denominator", value=1742.0, min=-1e6, max=1e6
        )
        self.method = mw.ComboBox(
            label="clustering",
            choices=[(m.label, name) for name, m in CLUSTER_METHODS.items()],
            value="kmeans",
        )
        self.n_clusters = mw.SpinBox(label="clusters (k)", value=2, min=1, max=50)
        self.n_components = mw.SpinBox(
            label="PCA components", value=0, min=0, max=100, tooltip="0 = cluster raw spectra"
        )
        self.cleanup = mw.ComboBox(
            label="spatial clean-up",
            choices=[(_NONE, _NONE)] + [(c.label, name) for name, c in CLEANUPS.items()],
            value=_NONE,
        )
        self.seed = mw.SpinBox(label="random_state", value=0, min=0, max=2**31 - 1)
        self.truth = mw.ComboBox(label="ground truth", choices=self._truth_layers)
        self.btn_intensity = mw.PushButton(text="Intensity map")
        self.btn_ratio = mw.PushButton(text="Ratio map")
        self.btn_cluster = mw.PushButton(text="Cluster map")
        self.btn_cancel = mw.PushButton(text="Cancel", enabled=False)
        self.status = mw.Label(value="")
        self.btn_intensity.changed.connect(self.run_intensity)
        self.btn_ratio.changed.connect(self.run_ratio)
        self.btn_cluster.changed.connect(self.run_cluster)
        self.btn_cancel.changed.connect(self.cancel)

        form = mw.Container(
            widgets=[
                self.cube, self.axis_text, self.units, self.crop, self.baseline,
                self.normalise, self.sigma, self.target, self.window, self.numerator,
                self.denominator, self.method, self.n_clusters, self.n_components,
                self.cleanup, self.seed, self.truth,
                mw.Container(widgets=[self.btn_intensity, self.btn_ratio], layout="horizontal",
                             labels=False),
                mw.Container(widgets=[self.btn_cluster, self.btn_cancel], layout="horizontal",
                             labels=False),
                self.status,
            ]
        )  # fmt: skip
        self.figure = Figure(figsize=(4, 3), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(220)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["metric", "value"])
        layout = QVBoxLayout(self)
        layout.addWidget(form.native)
        layout.addWidget(self.canvas)
        layout.addWidget(self.table)
        self.viewer.layers.events.inserted.connect(self._refresh)
        self.viewer.layers.events.removed.connect(self._refresh)

    # ------------------------------------------------------------------ layer choices
    def _cube_layers(self, *_):
        return [
            (ly.name, ly) for ly in self.viewer.layers if isinstance(ly, Image) and ly.ndim == 3
        ]

    def _truth_layers(self, *_):
        return [(_NONE, None)] + [
            (ly.name, ly) for ly in self.viewer.layers if isinstance(ly, Labels)
        ]

    def _refresh(self, *_):
        self.cube.reset_choices()
        self.truth.reset_choices()

    # ------------------------------------------------------------------ inputs
    def _inputs(self):
        """Cube layer, spectral axis and preprocessing; ValueError says what to change."""
        layer = self.cube.value
        if layer is None:
            raise ValueError("open or select a C×Y×X image layer (e.g. File > Open Sample)")
        c = layer.data.shape[0]
        if c < 2:
            raise ValueError(f"the layer '{layer.name}' has {c} channel; need a spectral cube")
        pair = _float_pair(self.axis_text.value, "spectral axis")
        meta_axis = layer.metadata.get("spectral_axis")
        if pair is not None:
            axis = np.linspace(pair[0], pair[1], c)
        elif meta_axis is not None and np.size(meta_axis) == c:
            axis = np.asarray(meta_axis, dtype=np.float64)
        else:
            axis = np.arange(c, dtype=np.float64)
        pre = {
            "crop": _float_pair(self.crop.value, "crop range"),
            "baseline": self.baseline.value,
            "normalise": self.normalise.value,
            "spatial_sigma": float(self.sigma.value),
        }
        return layer, axis, pre

    def _units(self, layer) -> str | None:
        if self.axis_text.value.strip():
            return None if self.units.value == "channel" else self.units.value
        return layer.metadata.get("spectral_units", self.units.value)

    # ------------------------------------------------------------------ running
    def _start(self, fn, on_done, *, total: int, desc: str):
        if self.worker is not None:
            show_warning("a map is still being computed; wait or press Cancel")
            return None
        worker = create_worker(
            fn,
            _progress={"total": total, "desc": desc},
            _connect={
                "returned": on_done,
                "errored": lambda err: show_error(f"{desc} failed: {err}"),
                "finished": self._finished,
            },
            _start_thread=False,
        )
        self.worker = worker
        self.btn_cancel.enabled = True
        self.status.value = f"{desc} ..."
        # started from the event loop, so callers can connect to its signals first
        QTimer.singleShot(0, worker.start)
        return worker

    def _finished(self):
        self.worker = None
        self.btn_cancel.enabled = False
        if self.status.value.endswith("..."):
            self.status.value = "stopped"

    def cancel(self):
        if self.worker is not None:
            self.worker.quit()

    def _guard(self):
        try:
            return self._inputs()
        except ValueError as err:
            show_error(str(err))
            return None

    def _map_kwargs(self, layer):
        return {"scale": layer.scale[-2:], "translate": layer.translate[-2:]}

    def run_intensity(self):
        """Compute the intensity map of the chosen band; returns the worker (or None)."""
        got = self._guard()
        if got is None:
            return None
        layer, axis, pre = got
        target, window = float(self.target.value), float(self.window.value)

        def done(out):
            image, report = out
            self.viewer.add_image(
                image, name=f"{layer.name} I({target:g})", colormap="viridis",
                metadata={"report": report}, **self._map_kwargs(layer),
            )  # fmt: skip
            self.status.value = f"intensity map at {target:g} ± {window:g} added"

        def job():
            return api.intensity_map(layer.data, axis, target, window=window, preprocessing=pre)

        return self._start(job, done, total=0, desc="intensity map")

    def run_ratio(self):
        """Compute the ratio map numerator / denominator; returns the worker (or None)."""
        got = self._guard()
        if got is None:
            return None
        layer, axis, pre = got
        num, den, window = (
            float(self.numerator.value),
            float(self.denominator.value),
            float(self.window.value),
        )

        def done(out):
            ratio, report = out
            extra = {}
            if isinstance(ratio, np.ndarray):  # robust limits; a lazy (dask) map is not computed
                finite = ratio[np.isfinite(ratio)]
                if finite.size:
                    lo, hi = (float(v) for v in np.percentile(finite, [1, 99]))
                    extra["contrast_limits"] = [lo, max(hi, lo + 1e-6)]
            self.viewer.add_image(
                ratio, name=f"{layer.name} {num:g}/{den:g}", colormap="magma",
                metadata={"report": report}, **extra, **self._map_kwargs(layer),
            )  # fmt: skip
            self.status.value = f"ratio map added ({report['n_masked']} masked pixels)"

        def job():
            return api.ratio_map(layer.data, axis, num, den, window=window, preprocessing=pre)

        return self._start(job, done, total=0, desc="ratio map")

    def run_cluster(self):
        """Cluster the pixels; adds a Labels layer, plots spectra, fills the metrics table."""
        got = self._guard()
        if got is None:
            return None
        layer, axis, pre = got
        truth_layer = self.truth.value
        truth = None
        if truth_layer is not None:
            truth = np.asarray(truth_layer.data)
            if truth.shape != tuple(layer.data.shape[1:]):
                show_warning(
                    f"ground truth '{truth_layer.name}' is {truth.shape}, the cube's image is "
                    f"{tuple(layer.data.shape[1:])}: metrics without ground truth"
                )
                truth = None
            elif not truth.any():
                show_warning(f"'{truth_layer.name}' has no painted pixels: metrics without it")
                truth = None
        k = int(self.n_clusters.value)
        n_comp = int(self.n_components.value) or None
        cleanup = None if self.cleanup.value == _NONE else self.cleanup.value
        seed = int(self.seed.value)
        method = self.method.value
        units = self._units(layer)

        def job():
            result = yield from api.iter_cluster_map(
                layer.data, k, method=method, n_components=n_comp, cleanup=cleanup,
                spectral_axis=axis, preprocessing=pre, random_state=seed,
            )  # fmt: skip
            metrics = api.map_metrics(
                result.labels, truth, embedding=result.embedding, random_state=seed
            )
            return result, metrics

        def done(out):
            result, metrics = out
            self.last_result, self.last_metrics = out
            colors = {j + 1: tuple(c) for j, c in enumerate(cluster_colors(result.n_clusters))}
            colors[0] = (0, 0, 0, 0)
            colors[None] = (0, 0, 0, 0)
            report = dict(result.report, metrics=metrics)
            self.viewer.add_labels(
                result.labels, name=f"{layer.name} clusters (k={k})",
                colormap=DirectLabelColormap(color_dict=colors),
                metadata={"report": report, "mean_spectra": result.mean_spectra,
                          "sd_spectra": result.sd_spectra,
                          "spectral_axis": np.asarray(result.report["spectral_axis"])},
                **self._map_kwargs(layer),
            )  # fmt: skip
            self._plot_spectra(result, units)
            self._fill_table(metrics)
            self.status.value = f"{result.report['method_label']}: {k} clusters"

        return self._start(job, done, total=5, desc="cluster map")

    # ------------------------------------------------------------------ display
    def _plot_spectra(self, result, units):
        from ..plot.hsmap import draw_cluster_spectra

        self.figure.clear()
        ax = self.figure.add_subplot()
        draw_cluster_spectra(
            ax, np.asarray(result.report["spectral_axis"]), result.mean_spectra,
            result.sd_spectra, counts=result.counts, units=units,
        )  # fmt: skip
        self.canvas.draw_idle()

    def _fill_table(self, metrics: dict[str, Any]):
        rows = [("clusters", str(metrics["n_clusters"]))]
        if metrics.get("silhouette") is not None:
            rows.append(("silhouette", f"{metrics['silhouette']:.3f}"))
        if "ari" in metrics:
            rows += [
                ("adjusted Rand index", f"{metrics['ari']:.3f}"),
                ("pixel accuracy", f"{metrics['accuracy']:.3f}"),
                ("mean IoU", f"{metrics['mean_iou']:.3f}"),
            ]
            for cls, v in metrics["per_class"].items():
                rows.append(
                    (f"class {cls} ↔ cluster {v['cluster']}",
                     f"P {v['precision']:.2f}  R {v['recall']:.2f}  IoU {v['iou']:.2f}")
                )  # fmt: skip
        self.table.setRowCount(len(rows))
        for i, (name, value) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            self.table.setItem(i, 1, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
