"""ROI suggester dock widget: propose seed ROIs in a C×Y×X image and write them as rectangles.

The widget reads an image layer and the settings, runs :func:`napari_unmix.suggest_rois`
in a ``thread_worker`` and writes the boxes into the "ROIs" Shapes layer (see
:mod:`napari_unmix.widgets._roi_schema`), tagged ``auto=True``, one component per group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSpinBox,
    Label,
    PushButton,
    SpinBox,
)
from napari.layers import Image
from napari.utils.notifications import show_error, show_info, show_warning

from ..core.suggest import SuggestOptions
from ._form import widget_for
from ._roi_schema import add_rois, get_or_create_roi_layer, remove_rois

__all__ = ["SuggestWidget"]

#: spin-box value shown as "auto" for the local background sigma (estimated from the data)
AUTO = -1.0


def _shown(default: Any, auto: Any) -> Any:
    """A spin box's value for an option whose None means "estimated" (shown as ``auto``)."""
    return auto if default is None else default


def _run(data: np.ndarray, name: str, params: dict[str, Any]):
    """Worker body: returns the result, or the message of a bad-input ValueError."""
    from ..api.suggest import suggest_rois

    try:
        return suggest_rois(data, name=name, warn=False, **params)
    except ValueError as exc:
        return str(exc)


class SuggestWidget(Container):
    """Dock widget of the ROI suggester (a thin driver around ``suggest_rois``)."""

    def __init__(self, napari_viewer) -> None:
        super().__init__(labels=True)
        self.viewer = napari_viewer
        self.worker = None
        self.image = ComboBox(label="image (C×Y×X)", choices=self._image_choices)
        self.projection = widget_for(SuggestOptions.spec("projection"))
        self.processed = CheckBox(
            text=SuggestOptions.spec("processed").label, value=SuggestOptions.processed
        )
        # the lowest value of these two boxes means "auto": estimated from the data (None)
        self.local_background_sigma = FloatSpinBox(
            label="local background σ (px, -1 = auto)",
            value=_shown(SuggestOptions.local_background_sigma, AUTO), min=AUTO, max=500.0,
        )  # fmt: skip
        self.binning = SpinBox(label="binning", value=SuggestOptions.binning, min=1, max=16)
        self.peak_sigma = widget_for(SuggestOptions.spec("peak_sigma"))
        self.peak_threshold = FloatSpinBox(
            label="peak threshold", value=SuggestOptions.peak_threshold, min=0.01, max=1.0,
            step=0.05,
        )  # fmt: skip
        self.min_area = widget_for(SuggestOptions.spec("min_area"))
        self.min_diagonal = widget_for(SuggestOptions.spec("min_diagonal"))
        self.max_groups = SpinBox(
            label="groups (0 = auto)", value=_shown(SuggestOptions.max_groups, 0), min=0, max=100
        )
        self.local_background_sigma.native.setSpecialValueText("auto")
        self.max_rois_per_group = widget_for(SuggestOptions.spec("max_rois_per_group"))
        for name in ("gradient_fingerprint", "hierarchical", "merge_duplicates"):
            spec = SuggestOptions.spec(name)
            setattr(self, name, CheckBox(text=spec.label, value=spec.default))
        self.similarity_threshold = FloatSpinBox(
            label="similarity (greedy)", value=SuggestOptions.similarity_threshold, min=-1.0,
            max=1.0, step=0.01,
        )  # fmt: skip
        self.representative = widget_for(SuggestOptions.spec("representative"))
        self.replace_previous = CheckBox(text="replace previous suggestions", value=True)
        self.run_button = PushButton(text="Suggest ROIs")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.status = Label(value="")
        options = [getattr(self, n) for n in SuggestOptions.defaults() if hasattr(self, n)]
        self.extend([self.image, *options, self.replace_previous, self.run_button,
                     self.cancel_button, self.status])  # fmt: skip
        self.run_button.changed.connect(self.run)
        self.cancel_button.changed.connect(self.cancel)
        self.viewer.layers.events.inserted.connect(self.reset_choices)
        self.viewer.layers.events.removed.connect(self.reset_choices)

    def _image_choices(self, _widget=None) -> list[tuple[str, Image]]:
        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image)]

    def parameters(self) -> dict[str, Any]:
        """The core settings currently set in the dialog."""
        params = {n: getattr(self, n).value for n in SuggestOptions.defaults() if hasattr(self, n)}
        if params["local_background_sigma"] <= AUTO:
            params["local_background_sigma"] = None
        if params["max_groups"] < 1:
            params["max_groups"] = None
        return params

    def _displayed_index(self, layer: Image) -> tuple[int, ...]:
        """Data indices of the slice on display, for every axis of ``layer``."""
        point = np.asarray(layer.world_to_data(self.viewer.dims.point[-layer.ndim :]))
        idx = np.clip(np.rint(point).astype(int), 0, np.array(layer.data.shape) - 1)
        return tuple(int(i) for i in idx)

    def _cube(self, layer: Image) -> np.ndarray | None:
        if layer.ndim < 3 or layer.rgb:
            show_error(
                f"{layer.name!r} has {layer.ndim} dimensions: the ROI suggester needs a "
                "C×Y×X image (channels as one layer); open the file as a hyperspectral cube"
            )
            return None
        # leading Z/T axes: the slice on display; the channel axis is the third from the end
        lead = self._displayed_index(layer)[: layer.ndim - 3]
        return np.asarray(layer.data[lead] if lead else layer.data)

    def run(self, *, start: bool = True):
        """Start the suggester in a worker thread (bound to the Run button).

        Returns the worker (None on bad input); with ``start=False`` the caller starts it
        (tests connect to its signals first).
        """
        from napari.qt.threading import create_worker

        layer = self.image.value
        if layer is None:
            show_error("add or choose a C×Y×X image layer first")
            return None
        cube = self._cube(layer)
        if cube is None:
            return None
        params = self.parameters()
        params["frame"] = self._displayed_index(layer)[layer.ndim - 3]  # "current_frame"
        self.worker = create_worker(
            _run, cube, layer.name, params, _progress={"desc": "Suggesting ROIs"}
        )
        self.worker.returned.connect(lambda res, lay=layer: self._done(res, lay))
        self.worker.finished.connect(self._finished)
        self.run_button.enabled, self.cancel_button.enabled = False, True
        self.status.value = "running…"
        if start:
            self.worker.start()
        return self.worker

    def cancel(self) -> None:
        """Stop waiting for the running job; its result is discarded."""
        if self.worker is not None:
            self.worker.returned.disconnect()
            self.worker.quit()
            self.status.value = "cancelled"

    def _finished(self) -> None:
        self.run_button.enabled, self.cancel_button.enabled = True, False

    def _done(self, res, layer: Image) -> None:
        if isinstance(res, str):
            show_error(res)
            self.status.value = "bad input"
            return
        if len(res) == 0:  # nothing found: say so, leave the layers alone
            show_info("; ".join(res.notes) or "no candidates")
            self.status.value = "no candidates"
            return
        rois = get_or_create_roi_layer(
            self.viewer, scale=layer.scale[-2:], translate=layer.translate[-2:]
        )
        feats = rois.features
        if self.replace_previous.value and len(rois.data) and "auto" in feats:
            remove_rois(rois, feats["auto"].to_numpy(bool))
            feats = rois.features
        manual = feats[~feats["auto"].astype(bool)] if len(feats) and "auto" in feats else feats
        base = int(manual["component"].max()) + 1 if len(manual) else 0
        rows = [
            {
                "name": f"auto g{g} #{i}",
                "component": base + int(g),
                "background": False,
                "auto": True,
                "group": int(g),
            }
            for i, g in enumerate(res.groups)
        ]
        add_rois(rois, res.to_result(layer.name).layers[0].data, rows)
        rois.metadata["suggest_report"] = res.report
        for note in res.notes:
            show_warning(note)
        self.status.value = f"{len(res)} ROIs in {res.n_groups if len(res) else 0} groups"
