"""Results-panel content of the hyperspectral-maps dock: cluster spectra and metrics, or the
band(s) of a map. Plots follow napari's theme (:mod:`._theme`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.result import Result
from ..core.units import unit_symbol
from ._canvas import LazyCanvas
from ._fit import shrinkable
from ._theme import style_axes, theme_colors

__all__ = ["cluster_summary", "map_summary", "metric_rows"]


TABLE_MIN_ROWS = 6  # the metrics table shows at least this many rows without scrolling


def metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, value) rows of :func:`~napari_unmix.api.hsmap.map_metrics`.

    >>> metric_rows({"n_clusters": 2, "silhouette": 0.71234})
    [('clusters', '2'), ('silhouette', '0.712')]
    """
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
    return rows


def _table(rows: list[tuple[str, str]]) -> QTableWidget:
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(["metric", "value"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    for i, (name, value) in enumerate(rows):
        table.setItem(i, 0, QTableWidgetItem(name))
        table.setItem(i, 1, QTableWidgetItem(value))
    row_h = table.verticalHeader().defaultSectionSize()
    shown = min(max(len(rows), TABLE_MIN_ROWS), 10)
    table.setMinimumHeight(table.horizontalHeader().sizeHint().height() + shown * row_h + 4)
    return table


def _spectra_canvas(result: Result, viewer: Any) -> LazyCanvas:
    from ..plot.hsmap import draw_cluster_spectra

    figure = Figure(figsize=(4, 2.6))
    figure.subplots_adjust(left=0.15, right=0.97, bottom=0.19, top=0.96)
    canvas = shrinkable(LazyCanvas(figure))
    canvas.setMinimumHeight(200)
    ax = figure.add_subplot()
    t = result.tables
    axis = t.get("spectral_axis", np.arange(t["mean_spectra"].shape[1]))
    draw_cluster_spectra(
        ax, np.asarray(axis), t["mean_spectra"], t["sd_spectra"], counts=t["counts"],
        units=result.report.get("spectral_units"),
    )  # fmt: skip
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    style_axes(figure, theme_colors(viewer))
    canvas.draw_idle()  # drawn when shown
    return canvas


def cluster_summary(result: Result, viewer: Any) -> QWidget:
    """Method and k, the cluster spectra (mean ± sd) and the metrics table."""
    report = result.report
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    sizes = ", ".join(str(c) for c in report.get("counts", []))
    head = QLabel(f"{report.get('method_label', report.get('method'))}: "
                  f"{report.get('n_clusters')} clusters ({sizes} pixels)")  # fmt: skip
    head.setWordWrap(True)
    layout.addWidget(head)
    box.canvas = _spectra_canvas(result, viewer)
    box.figure = box.canvas.figure
    layout.addWidget(box.canvas)
    box.table = _table(metric_rows(report.get("metrics", {"n_clusters": 0})))
    layout.addWidget(box.table)
    return box


def map_summary(result: Result) -> QWidget:
    """The map's band(s) in axis units, the channels used and the masked pixels."""
    r = result.report
    p = r.get("parameters", {})
    sym = unit_symbol(r.get("spectral_units"))
    if r.get("tool") == "ratio_map":
        dw = p.get("denominator_window")
        dw = p.get("window") if dw is None else dw
        lines = [f"ratio {p['numerator']:g} / {p['denominator']:g} {sym}",
                 f"windows ± {p['window']:g} / ± {dw:g} {sym}",
                 f"masked pixels (denominator ~0): {r.get('n_masked')}"]  # fmt: skip
    else:
        band = r.get("band", {})
        lines = [f"intensity at {p['target']:g} ± {p['window']:g} {sym}",
                 f"channels {band.get('channels')}"]  # fmt: skip
    label = QLabel("\n".join(lines))
    label.setWordWrap(True)
    return label
