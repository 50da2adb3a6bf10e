"""Seed preview ("Test seeds"): W seed maps as preview layers, H seed curves, provenance.

The preview layers are tagged as previews of :data:`PREVIEW_TOOL` (result-layer policy,
:mod:`._layer_policy`): a new "Test seeds" replaces them, and they are hidden (not
deleted) when the results of a run appear. The :class:`SeedPreview` widget goes into the
dock's results panel; no dock of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from napari.utils.colormaps import Colormap
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..api.rois import component_color
from ..core.seeds import SeedSet
from ._layer_policy import TAG, remove_tool_layers
from ._plot import SpectrumPlot, axis_label
from ._ui import yx_scale

__all__ = ["PREVIEW_TOOL", "SeedPreview", "add_preview_layers", "component_colormap"]

#: the tool name of the seed-preview layers (kept apart from the results, which replace
#: their own earlier layers but only hide the previews)
PREVIEW_TOOL = "NNMF seeds"


def component_colormap(color: str, name: str = "") -> Colormap:
    """Black → ``color`` colormap for a component's map (named by the colour only: a long
    name widens napari's layer controls, and the window with them)."""
    rgb = np.array([int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5)])
    return Colormap(np.array([[0, 0, 0, 1], [*rgb, 1]]), name=f"roi {color}")


def add_preview_layers(viewer: Any, seeds: SeedSet, image_layer: Any) -> list[Any]:
    """Replace the previous preview: one "<input> · seed W · <name>" layer per component
    (the ROI colours) and the pixels that seeded resonance components."""
    remove_tool_layers(viewer, PREVIEW_TOOL)
    scale, translate = yx_scale(image_layer)
    meta = {TAG: {"tool": PREVIEW_TOOL, "role": "preview", "source": image_layer.name}}
    layers = []
    for j, name in enumerate(seeds.names):
        layers.append(
            viewer.add_image(
                seeds.W0[j].astype(np.float32), name=f"{image_layer.name} · seed W · {name}",
                scale=scale, translate=translate, blending="additive",
                colormap=component_colormap(component_color(j), name),
                metadata={**meta, "seed_provenance": seeds.provenance[j]},
            )
        )  # fmt: skip
    points, colors = [], []
    for j, p in enumerate(seeds.provenance):
        if p.get("seed_pixels") is not None:
            points.append(np.asarray(p["seed_pixels"], dtype=np.float64))
            colors += [component_color(j)] * len(p["seed_pixels"])
    if points:  # the pixels whose mean seeded a resonance component's H
        layers.append(
            viewer.add_points(
                np.concatenate(points), name="seed pixels", scale=scale, translate=translate,
                face_color=colors, border_color="white", size=1.5, metadata=dict(meta),
            )
        )  # fmt: skip
    return layers


class SeedPreview(QWidget):
    """The H seed curves and where every seed came from (the results panel's content)."""

    def __init__(self, seeds: SeedSet, layers: list[Any], units: str | None = None) -> None:
        super().__init__()
        self.seeds = seeds
        self.layers = layers
        self.plot = SpectrumPlot(self, height=2.2)
        axis = (
            seeds.spectral_axis if seeds.spectral_axis is not None else np.arange(seeds.H0.shape[1])
        )
        self.fallback = [p["name"] for p in seeds.provenance if p.get("filled")]
        lines = [
            {
                "y": seeds.H0[j],
                "color": component_color(j),
                "label": name + (" (residual fallback)" if name in self.fallback else ""),
                "ls": "--" if name in self.fallback else "-",
            }
            for j, name in enumerate(seeds.names)
        ]
        self.plot.plot(axis, lines, xlabel=axis_label(units), ylabel="H seed", title="seed spectra")
        text = "\n".join(
            f"{p['name']}: H = {p.get('H', '?')}; W = {p.get('W', '?')}"
            + ("  [residual fallback]" if p.get("filled") else "")
            for p in seeds.provenance
        )
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        layout.addWidget(self.text)
