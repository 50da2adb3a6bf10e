"""Analysis dock: PCA, random NNMF, seeded NNMF or fixed-H NNLS on the ROI manager's cube.

The settings and the ROI model go to one of the :data:`METHODS` (each a generator that
yields ``(iteration, objective)`` and returns an
:class:`~napari_unmix.api.nmf_result.UnmixResult`), run in a napari ``thread_worker``
with a progress bar and a cancel button. Results are added as new layers only when the
run finishes; a cancelled run adds nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils import notifications
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..api.nmf import iter_random_nnmf, iter_seeded_nnmf, nnls_unmix, pca
from ..api.rois.preset import rank_components, seed_options
from ..core.nmf import DEFAULT_MAX_ITER, DEFAULT_SOLVER, DEFAULT_TOL, SOLVERS
from ..core.seeds import W_MODES, prepare_seeds
from ._ui import guarded

__all__ = ["METHODS", "NNMFWidget", "run_method"]


# ----------------------------------------------------------------------------- methods
def _run_seeded(data, s, components, background_masks, axis, units):
    return (
        yield from iter_seeded_nnmf(
            data,
            rank_components(components, s["rank_by"]),
            solver=s["solver"],
            max_iter=s["max_iter"],
            tol=s["tol"],
            l1_W=s["l1_W"],
            spectral_axis=axis,
            spectral_units=units,
            slice_mode=s["slice_mode"],
            reference_slice=s["reference_slice"],
            random_state=s["random_state"],
            max_pixels=s["max_pixels"] or None,
            seed_options=seed_options(s, background_masks),
        )
    )


def _run_nnls(data, s, components, background_masks, axis, units):
    ref = data[s["reference_slice"]] if data.ndim == 4 else data
    seeds = prepare_seeds(
        np.asarray(ref), rank_components(components, s["rank_by"]), spectral_axis=axis,
        random_state=s["random_state"], **seed_options(s, background_masks),
    )  # fmt: skip
    yield 0, float("nan")
    if seeds.subtract_spectrum is not None:  # the fit sees the background-subtracted data
        data = seeds.subtract_from_cube(data)  # the scaled per-pixel background
    res = nnls_unmix(data, seeds.H0, names=seeds.names, spectral_axis=axis, spectral_units=units)
    res.seeds = seeds
    return res


def _run_random(data, s, components, background_masks, axis, units):
    return (
        yield from iter_random_nnmf(
            data,
            s["k"],
            solver=s["solver"],
            max_iter=s["max_iter"],
            tol=s["tol"],
            l1_W=s["l1_W"],
            spectral_axis=axis,
            spectral_units=units,
            random_state=s["random_state"],
        )
    )


def _run_pca(data, s, components, background_masks, axis, units):
    yield 0, float("nan")
    return pca(
        data, s["k"], spectral_axis=axis, spectral_units=units, random_state=s["random_state"]
    )


#: method key -> runner (generator), label, whether it uses the ROI rows, doc
METHODS: dict[str, dict[str, Any]] = {
    "seeded_nnmf": {
        "fn": _run_seeded, "label": "seeded NNMF", "seeded": True,
        "doc": "NNMF started from the ROI / spectrum / resonance seeds (k = their count).",
    },
    "nnls": {
        "fn": _run_nnls, "label": "fixed-H NNLS", "seeded": True,
        "doc": "Exact NNLS of every pixel against the seed spectra (H kept fixed).",
    },
    "random_nnmf": {
        "fn": _run_random, "label": "random NNMF", "seeded": False,
        "doc": "Unseeded NNMF (NNDSVDa init), a first look at k components.",
    },
    "pca": {
        "fn": _run_pca, "label": "PCA", "seeded": False,
        "doc": "Principal components (scores can be negative).",
    },
}  # fmt: skip

DEFAULTS: dict[str, Any] = {
    "method": "seeded_nnmf",
    "k": 4,
    "w_mode": "nnls",
    "rank_by": "max_intensity",
    "overwrite": False,
    "background_projection": "estimate",
    "solver": DEFAULT_SOLVER,
    "max_iter": DEFAULT_MAX_ITER,
    "tol": DEFAULT_TOL,
    "l1_W": 0.0,
    "slice_mode": "per_slice",
    "reference_slice": 0,
    "max_pixels": 0,
    "random_state": 0,
}


def run_method(
    data: Any, settings: dict[str, Any], components: list, background_masks: list, axis, units
) -> Generator[tuple[int, float], None, Any]:
    """Run one of :data:`METHODS` (generator); warnings are collected in the result's report."""
    s = {**DEFAULTS, **settings}
    if s["method"] not in METHODS:
        raise ValueError(f"unknown method {s['method']!r}; choose one of {sorted(METHODS)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = yield from METHODS[s["method"]]["fn"](
            data, s, components, background_masks, axis, units
        )
    result.report["warnings"] = [str(w.message) for w in caught]
    return result


# ----------------------------------------------------------------------------- widget
class NNMFWidget(QWidget):
    """Method, seeds, solver and 4-D settings; Test seeds, Run, Cancel."""

    def __init__(self, napari_viewer: Any, *, manager: Any = None) -> None:
        super().__init__()
        viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)  # napari's proxy
        self.viewer = viewer
        if manager is None:  # opened from the Plugins menu: find or open the ROI manager
            from .roi_manager import MANAGER_NAME, roi_manager_for

            manager = roi_manager_for(viewer)
            if manager is None:
                manager = viewer.window.add_plugin_dock_widget("napari-unmix", MANAGER_NAME)[1]
        self.manager = manager
        self.worker = None
        self.last_result = None
        self.results_widget = None
        self.preview = None

        self.method = QComboBox()
        for key, m in METHODS.items():
            self.method.addItem(m["label"], key)
        self.k = QSpinBox()
        self.k.setRange(1, 256)
        self.w_mode = QComboBox()
        for key, m in W_MODES.items():
            self.w_mode.addItem(m["label"], key)
        self.rank_by = QComboBox()
        self.rank_by.addItem("max intensity", "max_intensity")
        self.rank_by.addItem("score", "score")
        self.overwrite = QCheckBox("overwrite existing W with H-based map")
        self.background_projection = QComboBox()
        self.background_projection.addItems(["estimate", "mean", "max", "min"])
        self.solver = QComboBox()
        self.solver.addItems(sorted(SOLVERS))
        self.max_iter = QSpinBox()
        self.max_iter.setRange(1, 100000)
        self.tol = QDoubleSpinBox()
        self.tol.setDecimals(8)
        self.tol.setRange(0.0, 1.0)
        self.tol.setSingleStep(1e-5)
        self.l1_W = QDoubleSpinBox()
        self.l1_W.setDecimals(4)
        self.l1_W.setRange(0.0, 1e6)
        self.slice_mode = QComboBox()
        self.slice_mode.addItem("NNMF per slice", "per_slice")
        self.slice_mode.addItem("NNMF on reference slice + NNLS on others", "reference")
        self.reference_slice = QSpinBox()
        self.reference_slice.setRange(0, 100000)
        self.max_pixels = QSpinBox()
        self.max_pixels.setRange(0, 10**8)
        self.max_pixels.setSpecialValueText("all pixels")
        self.random_state = QSpinBox()
        self.random_state.setRange(0, 2**31 - 1)

        form = QFormLayout()
        form.addRow("method", self.method)
        form.addRow("k (PCA / random NNMF)", self.k)
        form.addRow("W seed from H", self.w_mode)
        form.addRow("H seed pixel metric", self.rank_by)
        form.addRow("", self.overwrite)
        form.addRow("background W projection", self.background_projection)
        form.addRow("solver", self.solver)
        form.addRow("max_iter", self.max_iter)
        form.addRow("tol", self.tol)
        form.addRow("sparsity (L1 on W)", self.l1_W)
        form.addRow("4-D handling", self.slice_mode)
        form.addRow("reference slice", self.reference_slice)
        form.addRow("fit on pixels", self.max_pixels)
        form.addRow("random_state", self.random_state)

        self.test_button = QPushButton("Test seeds")
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.test_button.clicked.connect(lambda: self.test_seeds())
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.method.currentIndexChanged.connect(lambda _: self.model_changed())

        buttons = QHBoxLayout()
        for b in (self.test_button, self.run_button, self.cancel_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.info)
        self.apply_settings(DEFAULTS)
        self.link(manager)

    def link(self, manager: Any) -> None:
        """Become the analysis dock of ``manager`` (one per ROI manager)."""
        self.manager = manager
        manager.analysis = self
        self.model_changed()

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        """All analysis settings as a JSON-safe dict (goes into presets)."""
        return {
            "method": self.method.currentData(),
            "k": self.k.value(),
            "w_mode": self.w_mode.currentData(),
            "rank_by": self.rank_by.currentData(),
            "overwrite": self.overwrite.isChecked(),
            "background_projection": self.background_projection.currentText(),
            "solver": self.solver.currentText(),
            "max_iter": self.max_iter.value(),
            "tol": self.tol.value(),
            "l1_W": self.l1_W.value(),
            "slice_mode": self.slice_mode.currentData(),
            "reference_slice": self.reference_slice.value(),
            "max_pixels": self.max_pixels.value(),
            "random_state": self.random_state.value(),
        }

    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Set the controls from a settings dict (unknown keys are ignored)."""
        s = {**DEFAULTS, **settings}
        for name in ("method", "w_mode", "rank_by", "slice_mode"):
            box = getattr(self, name)
            box.setCurrentIndex(max(box.findData(s[name]), 0))
        for name in ("solver", "background_projection"):
            getattr(self, name).setCurrentText(str(s[name]))
        for name in ("k", "max_iter", "reference_slice", "max_pixels", "random_state"):
            getattr(self, name).setValue(int(s[name]))
        self.tol.setValue(float(s["tol"]))
        self.l1_W.setValue(float(s["l1_W"]))
        self.overwrite.setChecked(bool(s["overwrite"]))

    def model_changed(self) -> None:
        """Called by the ROI manager when rows change: show the seeded k."""
        model = self.manager.model
        if model is None:
            return
        n = len(model.component_ids())
        seeded = METHODS[self.method.currentData()]["seeded"]
        self.k.setEnabled(not seeded)
        if seeded:
            self.info.setText(f"{n} component(s) from the ROI manager rows")

    # ------------------------------------------------------------------ inputs
    def _inputs(self) -> tuple[Any, dict, list, list]:
        m = self.manager
        if m.model is None or m.image_layer is None:
            raise ValueError("open a hyperspectral C x Y x X image in the ROI manager first")
        data = m.image_layer.data
        if data.ndim not in (3, 4):
            raise ValueError(f"{m.image_layer.name!r} must be C x Y x X or S x C x Y x X")
        s = self.settings()
        C = data.shape[-3]
        comps, bg = [], []
        if METHODS[s["method"]]["seeded"]:
            comps, bg = m.model.components()
            if len(comps) > C:
                raise ValueError(f"{len(comps)} components but only {C} channels; remove rows")
        elif s["k"] > C:
            raise ValueError(f"k = {s['k']} is larger than the number of channels ({C}); lower k")
        if not hasattr(data, "compute"):
            data = np.asarray(data)
        elif s["method"] == "seeded_nnmf" and not s["max_pixels"]:
            s["max_pixels"] = 20000
        return data, s, comps, bg

    def confirm_missing(self, names: list[str]) -> bool:
        """Seed audit dialog: True = continue with the residual fallback."""
        box = QMessageBox(self)
        box.setWindowTitle("Seed audit")
        box.setText(
            f"No H seed for {', '.join(names)}.\nContinue anyway (seeded from the residual of "
            "the other seeds) or cancel and add ROIs / spectra?"
        )
        go = box.addButton("Continue anyway", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is go

    # ------------------------------------------------------------------ actions
    @guarded
    def test_seeds(self):
        """Prepare the seeds on the current slice and show them (no fit)."""
        from .seed_preview import SeedPreview

        _, s, comps, bg = self._inputs()
        if not comps:
            raise ValueError("Test seeds needs a seeded method (seeded NNMF or fixed-H NNLS)")
        model = self.manager.model
        seeds = prepare_seeds(
            model.cube, rank_components(comps, s["rank_by"]), spectral_axis=model.spectral_axis,
            random_state=s["random_state"], **seed_options(s, bg),
        )  # fmt: skip
        if self.preview is not None:
            self.preview.close_layers()
        self.preview = SeedPreview(self.viewer, seeds, self.manager.image_layer, model)
        self.viewer.window.add_dock_widget(self.preview, name="Seed preview", area="right")
        return self.preview

    @guarded
    def run(self, *, start: bool = True):
        """Start the analysis in a thread_worker; returns the worker (None on bad input).

        With ``start=False`` the connected worker is returned unstarted (call
        ``worker.start()``), so a caller can listen to its signals first.
        """
        if self.worker is not None:
            raise ValueError("an analysis is already running; cancel it first")
        data, s, comps, bg = self._inputs()
        if comps:
            missing = self.manager.model.missing_seeds()
            if missing and not self.confirm_missing(missing):
                self.info.setText("cancelled by the seed audit")
                return None
        model = self.manager.model
        axis, units = model.spectral_axis, model.spectral_units
        total = s["max_iter"] if s["method"] in ("seeded_nnmf", "random_nnmf") else 0
        worker = thread_worker(
            run_method, progress={"total": total, "desc": METHODS[s["method"]]["label"]}
        )(data, s, comps, bg, axis, units)
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(0)
        worker.yielded.connect(self._on_yield)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_error)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.info.setText(f"running {METHODS[s['method']]['label']}…")
        if start:
            worker.start()
        return worker

    def cancel(self) -> None:
        """Ask the running worker to stop at its next iteration (nothing is added)."""
        if self.worker is not None:
            self.worker.quit()

    def _on_yield(self, value: tuple[int, float]) -> None:
        it, obj = value
        if self.progress.maximum() > 0:
            self.progress.setValue(min(int(it), self.progress.maximum()))
        self.info.setText(f"iteration {it}, objective {obj:.6g}")

    def _on_returned(self, result) -> None:
        from .results import ResultsWidget

        self.last_result = result
        self.progress.setValue(self.progress.maximum())
        for msg in result.report.get("warnings", []):
            notifications.show_warning(msg)
        if self.results_widget is not None:
            self.results_widget.close_layers()
        self.results_widget = ResultsWidget(
            self.viewer, result, self.manager.image_layer, model=self.manager.model
        )
        self.viewer.window.add_dock_widget(
            self.results_widget, name="Unmixing result", area="right"
        )
        rel = result.relative_error
        self.info.setText(
            f"done: {result.n_iter} iterations, relative error "
            f"{'n/a' if rel is None else f'{rel:.4f}'}"
        )

    def _on_error(self, err: Exception) -> None:
        notifications.show_error(f"analysis failed: {err}")
        self.info.setText(f"failed: {err}")

    def _on_aborted(self) -> None:
        self.info.setText("cancelled; no result layers were added")
        notifications.show_info("analysis cancelled; no result layers were added")

    def _on_finished(self) -> None:
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
