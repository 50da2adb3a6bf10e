"""Seed preview ("Test seeds"): W seed maps as layers, H seed curves, provenance."""

from __future__ import annotations

from typing import Any

import numpy as np
from napari.utils.colormaps import Colormap
from qtpy.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..api.rois import component_color
from ..core.seeds import SeedSet
from ._plot import SpectrumPlot, axis_label
from ._ui import yx_scale

__all__ = ["SeedPreview", "component_colormap"]


def component_colormap(color: str, name: str) -> Colormap:
    """Black → ``color`` colormap for a component's map."""
    rgb = np.array([int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5)])
    return Colormap(np.array([[0, 0, 0, 1], [*rgb, 1]]), name=f"unmix {name} {color}")


class SeedPreview(QWidget):
    """Adds one "seed W: <name>" layer per component and plots the H seeds."""

    def __init__(self, viewer: Any, seeds: SeedSet, image_layer: Any, model: Any = None) -> None:
        super().__init__()
        self.viewer = viewer
        self.seeds = seeds
        scale, translate = yx_scale(image_layer)
        self.layers = []
        for j, name in enumerate(seeds.names):
            color = component_color(j)
            self.layers.append(
                viewer.add_image(
                    seeds.W0[j].astype(np.float32), name=f"seed W: {name}", scale=scale,
                    translate=translate, blending="additive",
                    colormap=component_colormap(color, name),
                    metadata={"seed_provenance": seeds.provenance[j]},
                )
            )  # fmt: skip
        points, colors = [], []
        for j, p in enumerate(seeds.provenance):
            if p.get("seed_pixels") is not None:
                points.append(np.asarray(p["seed_pixels"], dtype=np.float64))
                colors += [component_color(j)] * len(p["seed_pixels"])
        if points:  # the pixels whose mean seeded a resonance component's H
            self.layers.append(
                viewer.add_points(
                    np.concatenate(points), name="seed pixels", scale=scale,
                    translate=translate, face_color=colors, border_color="white", size=1.5,
                )
            )  # fmt: skip
        self.plot = SpectrumPlot(self)
        axis = (
            seeds.spectral_axis if seeds.spectral_axis is not None else np.arange(seeds.H0.shape[1])
        )
        units = getattr(model, "spectral_units", None)
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
        layout.addWidget(self.plot)
        layout.addWidget(self.text)

    def close_layers(self) -> None:
        """Remove the preview's layers from the viewer."""
        for layer in self.layers:
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.layers = []
