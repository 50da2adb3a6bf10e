"""Analysis dock: PCA, random NNMF, seeded NNMF or fixed-H NNLS on the ROI manager's cube.

The settings and the ROI model go to one of the API's
:data:`~napari_unmix.api.nmf.METHODS` (each a generator that yields
:class:`~napari_unmix.core.progress.Progress` events and returns an
:class:`~napari_unmix.api.nmf.UnmixResult`), run in a napari ``thread_worker`` with a
progress bar and a cancel button. Every default comes from the options classes
(:class:`~napari_unmix.core.nmf.SeededNmfOptions`,
:class:`~napari_unmix.core.seeds.SeedOptions`). Results are added as new layers only when
the run finishes; a cancelled run adds nothing.
"""

from __future__ import annotations

import warnings
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

from ..api.nmf import METHODS, SEEDED, iter_method
from ..api.rois.preset import rank_components, seed_options
from ..core.nmf import SOLVERS, SeededNmfOptions
from ..core.progress import Progress, Steps
from ..core.seeds import BACKGROUND_MAPS, W_MODES, SeedOptions, prepare_seeds
from ._ui import guarded

__all__ = ["METHODS", "NNMFWidget", "run_method"]


# ----------------------------------------------------------------------------- methods
_FIT = ("solver", "max_iter", "tol", "l1_W", "slice_mode", "reference_slice", "random_state")

#: the dock's settings (saved in presets); the analysis options are the options classes'
#: defaults. Dock-only: the method, k, the seed-pixel ranking and max_pixels 0 = all pixels.
DEFAULTS: dict[str, Any] = {
    "method": next(iter(METHODS)),
    "k": 4,
    "w_mode": SeedOptions.w_mode,
    "rank_by": "max_intensity",
    "overwrite": SeedOptions.overwrite,
    "background_projection": SeedOptions.background_projection,
    **{name: getattr(SeededNmfOptions, name) for name in _FIT},
    "max_pixels": 0,
}


def run_method(
    data: Any, settings: dict[str, Any], components: list, background_masks: list, axis, units
) -> Steps:
    """Run one of :data:`~napari_unmix.api.nmf.METHODS` (generator); warnings are collected
    in the result's report."""
    s = {**DEFAULTS, **settings}
    seeded = METHODS.resolve(s["method"]).name in SEEDED
    options = {
        **{name: s[name] for name in _FIT},
        "max_pixels": s["max_pixels"] or None,
        "spectral_axis": axis,
        "spectral_units": units,
        "seed_options": seed_options(s),
        "background_masks": background_masks,
    }
    seeds_or_k = rank_components(components, s["rank_by"]) if seeded else s["k"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = yield from iter_method(s["method"], data, seeds_or_k, options)
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
            self.method.addItem(m.label, key)
        self.k = QSpinBox()
        self.k.setRange(1, 256)
        self.w_mode = QComboBox()
        for key, m in W_MODES.items():
            self.w_mode.addItem(m.label, key)
        self.rank_by = QComboBox()
        self.rank_by.addItem("max intensity", "max_intensity")
        self.rank_by.addItem("score", "score")
        self.overwrite = QCheckBox("overwrite existing W with H-based map")
        self.background_projection = QComboBox()
        self.background_projection.addItems(list(BACKGROUND_MAPS))
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
        rows = {
            "method": self.method, "k (PCA / random NNMF)": self.k, "W seed from H": self.w_mode,
            "H seed pixel metric": self.rank_by, "": self.overwrite,
            "background W projection": self.background_projection, "solver": self.solver,
            "max_iter": self.max_iter, "tol": self.tol, "sparsity (L1 on W)": self.l1_W,
            "4-D handling": self.slice_mode, "reference slice": self.reference_slice,
            "fit on pixels": self.max_pixels, "random_state": self.random_state,
        }  # fmt: skip
        for label, control in rows.items():
            form.addRow(label, control)

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
        seeded = self.method.currentData() in SEEDED
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
        if s["method"] in SEEDED:
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
            background_masks=bg, **seed_options(s).as_dict(),
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
            run_method, progress={"total": total, "desc": METHODS[s["method"]].label}
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
        self.info.setText(f"running {METHODS[s['method']].label}…")
        if start:
            worker.start()
        return worker

    def cancel(self) -> None:
        """Ask the running worker to stop at its next iteration (nothing is added)."""
        if self.worker is not None:
            self.worker.quit()

    def _on_yield(self, event: Progress) -> None:
        if self.progress.maximum() > 0:
            self.progress.setValue(min(int(event.done), self.progress.maximum()))
        self.info.setText(f"iteration {event.done:g}, {event.message}")

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
