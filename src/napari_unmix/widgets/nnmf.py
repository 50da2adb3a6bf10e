"""The "Unmix (NNMF / NNLS)" dock: seeded NNMF, fixed-H NNLS, random NNMF or PCA on the
ROI manager's image, seeded from the ROI model's rows.

A :class:`~napari_unmix.widgets._dock.ToolDock`: the form is generated from
:class:`UnmixDockOptions` (the fields of :class:`~napari_unmix.core.nmf.SeededNmfOptions`
and :class:`~napari_unmix.core.seeds.SeedOptions` plus the method, ``k`` and the seed-pixel
ranking; common options visible, the others under "Advanced options"), the computation is
the API's generator (:data:`~napari_unmix.api.nmf.METHODS` through :func:`run_method`),
progress is throttled (no redraw per iteration), and every run puts its
:class:`~napari_unmix.widgets.results.ResultsView` into the dock's one results panel. The
maps are named ``<input> · NNMF · <component>`` (``NNLS`` / ``PCA`` for those methods) by
the shared result-layer policy: a re-run replaces them, the input and the seed previews are
hidden. "Test seeds" shows the seeds as preview layers and their curves in the same panel.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from qtpy.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from ..api.nmf import METHODS, SEEDED, iter_method
from ..api.rois import component_color
from ..api.rois.preset import rank_components, seed_options
from ..core.nmf import SeededNmfOptions
from ..core.options import option
from ..core.progress import Steps
from ..core.seeds import RESIDUAL_RANKS, SeedOptions, prepare_seeds
from ._dock import ToolDock
from ._layer_policy import show_result, tool_layers
from ._ui import guarded

__all__ = ["DEFAULTS", "METHODS", "NNMFWidget", "UnmixDockOptions", "run_method"]


@dataclass(frozen=True)
class UnmixDockOptions(SeededNmfOptions, SeedOptions):
    """The dock's form: the seeded fit's and the seeds' options, plus what the dock chooses."""

    method: str = option("seeded_nnmf", label="Method", doc="what to compute", choices=METHODS)
    k: int = option(
        4, label="Components (PCA / random NNMF)", doc="k of the unseeded methods (seeded: the "
        "ROI manager's components)", bounds=(1, 256),
    )  # fmt: skip
    rank_by: str = option(
        "max_intensity", label="H seed pixel metric", choices=RESIDUAL_RANKS, advanced=True,
        doc="ranking of the band pixels that seed a resonance component",
    )  # fmt: skip


#: the fit's fields passed to the API
_FIT = tuple(s.name for s in SeededNmfOptions.specs() if s.name != "max_pixels")
#: the form, in order (the options' ``advanced`` flag sorts them into the two sections)
_FORM = ("method", "k", "w_mode", "max_iter", "tol", "rank_by", "overwrite",
         "background_projection", "solver", "l1_W", "slice_mode", "reference_slice",
         "anchor", "max_pixels", "random_state")  # fmt: skip
#: the dock's settings (saved in ROI-manager presets): the form's values, max_pixels 0 = all
DEFAULTS: dict[str, Any] = {
    **{n: UnmixDockOptions.spec(n).default for n in _FORM},
    "max_pixels": 0,
}
#: the middle part of the result layers' names, per method
SHORT = {"seeded_nnmf": "NNMF", "random_nnmf": "NNMF", "nnls": "NNLS", "pca": "PCA"}
#: the keywords of ``viewer.add_image`` a result layer's ``extra`` may carry (the others,
#: e.g. the component's spectrum, go into the layer's metadata)
_ADD = frozenset({"visible", "opacity", "gamma", "interpolation2d"})
HOVER_INTERVAL = 0.05  # seconds between pixel-spectrum redraws while the mouse moves


def _map_colormap(j: int, layer: Any) -> Any:
    """Component ``j``'s map in its ROI-manager colour (the same in the table, the plots and
    the canvas; the colours are distinct)."""
    from .seed_preview import component_colormap

    return component_colormap(component_color(j), layer.name)


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


class NNMFWidget(ToolDock):
    """Method, seeds and solver from the options; Test seeds, Run, Cancel; one results panel."""

    tool = "NNMF"
    options = UnmixDockOptions
    form_fields = _FORM
    run_text = "Run"

    def __init__(self, napari_viewer: Any, *, manager: Any = None) -> None:
        viewer = getattr(napari_viewer, "__wrapped__", napari_viewer)  # napari's proxy
        super().__init__(viewer)
        if manager is None:  # opened from the Plugins menu: find or open the ROI manager
            from .roi_manager import MANAGER_NAME, roi_manager_for

            manager = roi_manager_for(viewer)
            if manager is None:
                manager = viewer.window.add_plugin_dock_widget("napari-unmix", MANAGER_NAME)[1]
        self.manager = manager
        self._last_hover = 0.0
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.test_button = QPushButton("Test seeds")
        self.test_button.setToolTip("prepare the seeds on the displayed slice and show them")
        self.test_button.clicked.connect(lambda: self.test_seeds())
        line.addWidget(self.info, 1)
        line.addWidget(self.test_button)
        self.body_layout.insertWidget(1, row)
        self.form.field("method").changed.connect(lambda _: self.model_changed())
        for callbacks in ("mouse_move_callbacks", "mouse_drag_callbacks"):
            if hasattr(viewer, callbacks):
                getattr(viewer, callbacks).append(self._on_mouse)
        self.link(manager)

    def showEvent(self, event: Any) -> None:
        """The first time it is shown next to the ROI manager: share its place as a tab
        (the manager is tall; stacked, this dock would get a sliver of the screen)."""
        super().showEvent(event)
        if not getattr(self, "_tabbed", False):
            self._tabbed = True
            from qtpy.QtCore import QTimer

            QTimer.singleShot(0, self._tab_with_manager)

    def _tab_with_manager(self) -> None:
        from qtpy.QtWidgets import QDockWidget, QMainWindow

        def dock_of(widget: Any) -> Any:
            while widget is not None and not isinstance(widget, QDockWidget):
                widget = widget.parent()
            return widget

        mine, theirs = dock_of(self), dock_of(self.manager)
        window = mine.parent() if mine is not None else None
        if theirs is None or not isinstance(window, QMainWindow) or mine is theirs:
            return
        if window.dockWidgetArea(mine) == window.dockWidgetArea(theirs):
            window.tabifyDockWidget(theirs, mine)
            mine.raise_()

    def link(self, manager: Any) -> None:
        """Become the analysis dock of ``manager`` (one per ROI manager)."""
        self.manager = manager
        manager.analysis = self
        self.model_changed()

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        """All analysis settings as a JSON-safe dict (goes into presets)."""
        values = self.form.values()
        return {**values, "max_pixels": values["max_pixels"] or 0}

    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Set the controls from a settings dict (unknown keys are ignored; missing ones
        take their defaults)."""
        s = {**DEFAULTS, **settings}
        self.form.set_values({**s, "max_pixels": s["max_pixels"] or None})

    def model_changed(self) -> None:
        """Called by the ROI manager when rows change: say what the run will use."""
        model = getattr(self.manager, "model", None)
        method = self.form.values()["method"]
        seeded = method in SEEDED
        self.form.field("k").enabled = not seeded
        self.test_button.setEnabled(seeded)
        if model is None:
            self.info.setText("open a hyperspectral C x Y x X image in the ROI manager")
            return
        name = getattr(self.manager.image_layer, "name", "?")
        if seeded:
            n = len(model.component_ids())
            self.info.setText(f"{name}: {n} component(s) from the ROI manager rows")
        else:
            self.info.setText(f"{name}: k components, no seeds")

    # ------------------------------------------------------------------ inputs
    def read_inputs(self) -> tuple[Any, list, list, Any, Any]:
        """The image (C x Y x X or slices x C x Y x X), the seeds and the spectral axis."""
        m = self.manager
        if m.model is None or m.image_layer is None:
            raise ValueError("open a hyperspectral C x Y x X image in the ROI manager first")
        data = m.image_layer.data
        if data.ndim not in (3, 4):
            raise ValueError(f"{m.image_layer.name!r} must be C x Y x X or S x C x Y x X")
        method = self.form.values()["method"]
        k = self.form.values()["k"]
        C = data.shape[-3]
        comps, bg = [], []
        if method in SEEDED:
            comps, bg = m.model.components()
            if len(comps) > C:
                raise ValueError(f"{len(comps)} components but only {C} channels; remove rows")
        elif k > C:
            raise ValueError(f"k = {k} is larger than the number of channels ({C}); lower k")
        if not hasattr(data, "compute"):
            data = np.asarray(data)
        return data, comps, bg, m.model.spectral_axis, m.model.spectral_units

    def input_layers(self) -> list[Any]:
        layer = getattr(self.manager, "image_layer", None)
        return [layer] if layer is not None else []

    def steps(self, inputs: Any, options: Any) -> Steps:
        data, comps, bg, axis, units = inputs
        s = options.as_dict()
        if hasattr(data, "compute") and s["method"] == "seeded_nnmf" and not s["max_pixels"]:
            s["max_pixels"] = 20000  # a lazy cube: fit on a sample, then NNLS of all
        return (yield from run_method(data, s, comps, bg, axis, units))

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
    def start(self) -> Any:
        """Run (after the seed audit: rows without an H seed are asked about first)."""
        model = getattr(self.manager, "model", None)
        if not self.running and model is not None and self.form.values()["method"] in SEEDED:
            try:
                missing = model.missing_seeds()
            except ValueError:
                missing = []  # read_inputs reports what is wrong with the rows
            if missing and not self.confirm_missing(missing):
                self.set_status("cancelled by the seed audit")
                return None
        return super().start()

    @guarded
    def test_seeds(self) -> Any:
        """Prepare the seeds on the current slice and show them (no fit)."""
        from .seed_preview import SeedPreview, add_preview_layers

        _, comps, bg, axis, units = self.read_inputs()
        if not comps:
            raise ValueError("Test seeds needs a seeded method (seeded NNMF or fixed-H NNLS)")
        values = self.form.values()
        model = self.manager.model
        seeds = prepare_seeds(
            model.cube, rank_components(comps, values["rank_by"]), spectral_axis=axis,
            background_masks=bg, **seed_options(values).as_dict(),
        )  # fmt: skip
        layers = add_preview_layers(self.viewer, seeds, self.manager.image_layer)
        preview = SeedPreview(seeds, layers, units)
        self.results.add_run(f"seed preview · {time.strftime('%H:%M:%S')}", preview)
        self.set_status(f"seed preview: {seeds.k} components")
        return preview

    def show_result(self, result: Any) -> str:
        """The maps through the result-layer policy; the run's view in the results panel;
        returns the summary's first line for the status line."""
        from napari.utils import notifications

        from .results import ResultsView
        from .seed_preview import PREVIEW_TOOL

        seconds = time.perf_counter() - self._t0
        for msg in result.report.get("warnings", []):
            notifications.show_warning(msg)
        image = self.manager.image_layer
        self._add_layers(result, image)
        for layer in tool_layers(self.viewer, PREVIEW_TOOL):
            layer.visible = False
        self.model_changed()
        view = ResultsView(result, image, model=self.manager.model, seconds=seconds)
        label = METHODS.resolve(result.params.get("method", "seeded_nnmf")).label
        self.results.add_run(f"{label} · {time.strftime('%H:%M:%S')}", view)
        return view.summary.text().splitlines()[0]

    def _add_layers(self, result: Any, image: Any) -> None:
        """The maps and the residual, named ``<input> · <NNMF|NNLS|PCA> · <component>``."""
        shared = result.to_result(image.name)
        extras = [ly.extra for ly in shared.layers]  # component / spectrum go to metadata
        shared = dataclasses.replace(shared, tool=self.tool, layers=[
            dataclasses.replace(
                ly, extra={k: v for k, v in ly.extra.items() if k in _ADD},
                colormap=_map_colormap(j, ly) if ly.role == "map" else ly.colormap,
            )
            for j, ly in enumerate(shared.layers)
        ])  # fmt: skip
        short = SHORT.get(result.params.get("method", ""), self.tool)
        names = [n.replace(f" · {self.tool} · ", f" · {short} · ", 1) for n in shared.layer_names()]
        layers = show_result(
            self.viewer, shared, inputs=self.input_layers(),
            keep_previous=self.keep_previous.isChecked(), names=names,
        )  # fmt: skip
        for layer, extra in zip(layers, extras, strict=True):
            layer.metadata.update({k: v for k, v in extra.items() if k not in _ADD})

    def prepare_benchmark(self, method: str) -> None:
        """Seeds for a timing run (``benchmarks/bench_docks.py``): the sample's known spectra
        as spectrum rows of the ROI model (as "Add spectrum from file" adds them), and
        ``method``."""
        model = self.manager.model
        truth = self.manager.image_layer.metadata["ground_truth"]
        for name, spectrum in zip(truth["names"], truth["spectra"], strict=True):
            model.add_spectrum(model.axis, spectrum, name=name, component=model.next_component())
        model.changed()
        self.apply_settings({"method": method})

    @property
    def results_widget(self) -> Any:
        """The results panel's current run view (None before a run)."""
        from .results import ResultsView

        current = self.results.current
        return current if isinstance(current, ResultsView) else None

    def _on_mouse(self, viewer: Any, event: Any) -> None:
        """Hover (throttled) or click: the pixel's spectrum against the model."""
        now = time.perf_counter()
        if event.type == "mouse_move" and now - self._last_hover < HOVER_INTERVAL:
            return
        view = self.results_widget
        if view is None or view.image_layer not in viewer.layers:
            return
        self._last_hover = now
        view.show_position(event.position)

    def preview(self, partial: Any) -> None:
        """The fit's objective (the NNMF generators' partial), at most every 0.5 s."""
        if isinstance(partial, float | int):
            self.info.setText(f"running: objective {float(partial):.5g}")
