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
from ..core.hsmap import ClusterOptions, MapOptions
from ..core.preprocess import Preprocessing
from ..core.result import Result
from ._form import widget_for

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
        self.baseline = widget_for(Preprocessing.spec("baseline"))
        self.normalise = widget_for(Preprocessing.spec("normalise"))
        self.sigma = widget_for(Preprocessing.spec("spatial_sigma"))
        self.target = mw.FloatSpinBox(label="band (intensity)", value=1655.0, min=-1e6, max=1e6)
        self.window = widget_for(MapOptions.spec("window"))
        self.numerator = mw.FloatSpinBox(label="ratio numerator", value=1655.0, min=-1e6, max=1e6)
        self.denominator = mw.FloatSpinBox(
            label="ratio denominator", value=1742.0, min=-1e6, max=1e6
        )
        self.method = widget_for(ClusterOptions.spec("method"))
        self.n_clusters = mw.SpinBox(label="clusters (k)", value=2, min=1, max=50)
        self.n_components = mw.SpinBox(
            label="PCA components", value=ClusterOptions.n_components or 0, min=0, max=100,
            tooltip="0 = cluster raw spectra",
        )  # fmt: skip
        self.cleanup = widget_for(ClusterOptions.spec("cleanup"))
        self.seed = widget_for(ClusterOptions.spec("random_state"))
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
        if total:  # a generator of Progress events
            worker.yielded.connect(lambda ev: self._progress(desc, ev))
        self.worker = worker
        self.btn_cancel.enabled = True
        self.status.value = f"{desc} ..."
        # started from the event loop, so callers can connect to its signals first
        QTimer.singleShot(0, worker.start)
        return worker

    def _progress(self, desc: str, event) -> None:
        """One Progress event of the running job: its stage in the status line."""
        self.status.value = f"{desc}: {event.message} ..."

    def _add(self, result: Result, layer, metadata: dict[str, Any] | None = None) -> None:
        """Add the result's layers next to ``layer`` (its Y/X scale), named ``<layer> <name>``."""
        meta = {"report": result.report, **(metadata or {})}
        for ly in result.layers:
            common = {"name": f"{layer.name} {ly.name}", "metadata": meta,
                      **self._map_kwargs(layer)}  # fmt: skip
            if ly.kind == "labels":
                colors = {**ly.extra["colors"], 0: (0, 0, 0, 0), None: (0, 0, 0, 0)}
                self.viewer.add_labels(
                    ly.data, colormap=DirectLabelColormap(color_dict=colors), **common
                )
            else:
                limits = {"contrast_limits": list(ly.contrast_limits)} if ly.contrast_limits else {}
                self.viewer.add_image(ly.data, colormap=ly.colormap, **limits, **common)

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

    def _run_map(self, compute, desc: str, status):
        """Run ``compute(cube, axis, preprocessing)`` (a map function of the API) in a worker;
        its MapResult becomes a layer and ``status(result)`` the status line."""
        got = self._guard()
        if got is None:
            return None
        layer, axis, pre = got

        def done(out):
            self._add(out.to_result(), layer)
            self.status.value = status(out)

        return self._start(lambda: compute(layer.data, axis, pre), done, total=0, desc=desc)

    def run_intensity(self):
        """Compute the intensity map of the chosen band; returns the worker (or None)."""
        target, window = float(self.target.value), float(self.window.value)
        return self._run_map(
            lambda cube, axis, pre: api.intensity_map(
                cube, axis, target, window=window, preprocessing=pre
            ),
            "intensity map",
            lambda out: f"intensity map at {target:g} ± {window:g} added",
        )

    def run_ratio(self):
        """Compute the ratio map numerator / denominator; returns the worker (or None)."""
        num, den = float(self.numerator.value), float(self.denominator.value)
        window = float(self.window.value)
        return self._run_map(
            lambda cube, axis, pre: api.ratio_map(
                cube, axis, num, den, window=window, preprocessing=pre
            ),
            "ratio map",
            lambda out: f"ratio map added ({out.report['n_masked']} masked pixels)",
        )

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
        cleanup = self.cleanup.value
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
            res = result.to_result()
            res.report = dict(result.report, metrics=metrics)
            tables = {n: res.tables[n] for n in ("mean_spectra", "sd_spectra", "spectral_axis")}
            self._add(res, layer, metadata=tables)
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
