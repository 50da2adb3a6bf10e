"""ROI suggester dock: propose seed ROIs in a C×Y×X image and write them as rectangles.

A :class:`~napari_unmix.widgets._dock.ToolDock`: the form comes from
:class:`~napari_unmix.core.suggest.SuggestOptions` (empty "local background σ" and "groups"
mean "estimated from the data"), Run calls :func:`napari_unmix.suggest_rois` in a worker,
and the boxes go into the "ROIs" Shapes layer (see :mod:`napari_unmix.widgets._roi_schema`),
tagged ``auto=True``, one component per group, outlined in their component's colour and
labelled with their name. A new run replaces the earlier suggestions (hand-drawn ROIs stay)
unless "keep previous results" is ticked. The results panel plots each group's mean
spectrum in the same colours.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
from napari.layers import Image
from napari.utils.notifications import show_info, show_warning
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..api.rois.schema import component_color
from ..core.progress import Progress
from ..core.suggest import SuggestOptions
from ..core.units import axis_label
from ._dock import LayerPicker, ToolDock
from ._layers import is_cube_layer
from ._plot import SpectrumPlot
from ._roi_schema import add_rois, get_or_create_roi_layer, remove_rois

__all__ = ["SuggestWidget"]


class SuggestWidget(ToolDock):
    """Dock widget of the ROI suggester (a thin driver around ``suggest_rois``)."""

    tool = "suggest"
    options = SuggestOptions
    form_fields = tuple(s.name for s in SuggestOptions.specs() if s.name != "frame")
    run_text = "Suggest ROIs"

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__(napari_viewer)
        self.image = self.add_picker(
            LayerPicker(
                napari_viewer,
                "image (C×Y×X)",
                is_cube_layer,
                prefer=lambda ly: list(napari_viewer.layers).index(ly),
                tooltip="a hyperspectral cube, channels as one layer (C×Y×X or Z×C×Y×X)",
            )
        )

    def parameters(self) -> dict[str, Any]:
        """The suggester settings currently set in the form."""
        return self.form.values()

    def _displayed_index(self, layer: Image) -> tuple[int, ...]:
        """Data indices of the slice on display, for every axis of ``layer``."""
        point = np.asarray(layer.world_to_data(self.viewer.dims.point[-layer.ndim :]))
        idx = np.clip(np.rint(point).astype(int), 0, np.array(layer.data.shape) - 1)
        return tuple(int(i) for i in idx)

    def read_inputs(self) -> dict[str, Any]:
        layer = self.image.value
        if layer is None:
            raise ValueError(
                "add or choose a C×Y×X image layer first (a hyperspectral cube, channels as "
                "one layer; e.g. File > Open Sample > napari-unmix > bead cube)"
            )
        index = self._displayed_index(layer)
        lead = index[: layer.ndim - 3]  # leading Z/T axes: the slice on display
        cube = np.asarray(layer.data[lead] if lead else layer.data)
        return {"cube": cube, "layer": layer, "frame": index[layer.ndim - 3]}

    def steps(self, inputs: dict[str, Any], options: Any) -> Generator[Progress, None, Any]:
        from ..api.suggest import suggest_rois

        yield Progress(0, None, "suggesting ROIs")
        values = {**options.as_dict(), "frame": inputs["frame"]}
        res = suggest_rois(inputs["cube"], name=inputs["layer"].name, warn=False, **values)
        yield Progress(1, 1, f"{len(res)} ROIs")
        return res

    def show_result(self, result: Any) -> str:
        layer = self.image.value
        if len(result) == 0:  # nothing found: say so, leave the layers alone
            show_info("; ".join(result.notes) or "no candidates")
            self.results.add_run("suggest · no candidates", QLabel("no candidates"))
            return "no candidates"
        rois = get_or_create_roi_layer(
            self.viewer, scale=layer.scale[-2:], translate=layer.translate[-2:]
        )
        feats = rois.features
        if not self.keep_previous.isChecked() and len(rois.data) and "auto" in feats:
            remove_rois(rois, feats["auto"].to_numpy(bool))
            feats = rois.features
        manual = feats[~feats["auto"].astype(bool)] if len(feats) and "auto" in feats else feats
        base = int(manual["component"].max()) + 1 if len(manual) else 0
        rows = [
            {"name": f"auto g{g} #{i}", "component": base + int(g), "background": False,
             "auto": True, "group": int(g)}
            for i, g in enumerate(result.groups)
        ]  # fmt: skip
        add_rois(rois, result.to_result(layer.name).layers[0].data, rows)
        components = rois.features["component"].to_numpy(int)
        rois.edge_color = [component_color(int(c)) for c in components]
        rois.text = {"string": "{name}", "size": 8, "color": "white", "anchor": "upper_left"}
        rois.metadata["suggest_report"] = result.report
        for note in result.notes:
            show_warning(note)
        self.results.add_run(f"suggest · {len(result)} ROIs", self.summary(result, base))
        return f"{len(result)} ROIs in {result.n_groups} groups"

    def summary(self, result: Any, base: int = 0) -> QWidget:  # type: ignore[override]
        """Each group's mean spectrum, in its component's colour."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        meta = self.image.value.metadata if self.image.value is not None else {}
        n_c = result.spectra.shape[1]
        axis = meta.get("spectral_axis")
        x = np.asarray(axis, float) if axis is not None and len(axis) == n_c else np.arange(n_c)
        units = meta.get("spectral_units") if axis is not None else None
        lines = [
            {"y": result.spectra[result.groups == g].mean(axis=0),
             "color": component_color(base + int(g)), "label": f"group {g}"}
            for g in np.unique(result.groups)
        ]  # fmt: skip
        plot = SpectrumPlot(box)
        plot.plot(x, lines, xlabel=axis_label(units), ylabel="mean intensity in the ROIs",
                  title=f"{len(result)} ROIs in {result.n_groups} groups")  # fmt: skip
        layout.addWidget(plot)
        estimated = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                              for k, v in result.estimated.items())  # fmt: skip
        note = QLabel(f"estimated from the data: {estimated}" if estimated else "")
        note.setWordWrap(True)
        layout.addWidget(note)
        return box
