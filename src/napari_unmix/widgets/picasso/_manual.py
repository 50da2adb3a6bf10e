"""Manual alphas: one slider per source → sink relation, starting from the estimate, that
re-unmix the displayed T/Z slice live (the source–sink model, ``mixing = 1 + A``).

The manual layers are this dock's layers (role ``"manual"``), named
``<image> · PICASSO · manual <channel>``; while manual mode is on, the automatic result
layers are hidden, and the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QSlider, QVBoxLayout, QWidget

from ...core.picasso import apply_unmixing
from ...core.picasso.sourcesink import SourceSinkFit
from ...core.result import colormap_for
from .._layer_policy import TAG, tool_layers

__all__ = ["ManualAlphas"]

_STEPS = 1000


class ManualAlphas(QWidget):
    """The manual-mode switch and its sliders (see the module docstring)."""

    def __init__(self, viewer: Any, tool: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer, self.tool = viewer, tool
        self.sliders: dict[tuple[int, int], QSlider] = {}
        self.alpha_max = 1.0
        self._run: dict[str, Any] | None = None
        self.enabled = QCheckBox("Manual alphas (current slice)")
        self.enabled.setToolTip(
            "one slider per relation, starting from the estimate; the displayed slice is "
            "re-unmixed as you drag (layers '… · manual …')"
        )
        self.box = QGroupBox("source → sink: share of the source's dye")
        self.form = QFormLayout(self.box)
        self.box.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.box)
        self.enabled.toggled.connect(self._toggle)
        viewer.dims.events.current_step.connect(lambda _e: self.update())

    def set_run(
        self,
        *,
        data: Any,
        result: Any,
        names: Sequence[str],
        source: str,
        layers: Sequence[Any],
        relations: Sequence[tuple[int, int]],
        alpha_max: float,
    ) -> None:
        """Sliders for ``relations`` starting from ``result``'s mixing matrix."""
        self._run = {"data": data, "result": result, "names": list(names), "source": source,
                     "layers": list(layers)}  # fmt: skip
        self.alpha_max = float(alpha_max)
        while self.form.rowCount():
            self.form.removeRow(0)
        self.sliders = {}
        if result.mixing is None:
            self.form.addRow(QLabel("this run has no mixing matrix to start from"))
            return
        mixing = np.asarray(result.mixing)[result.estimated_t[0] if result.estimated_t else 0]
        for i, j in relations:
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, _STEPS)
            value = float(np.clip(mixing[j, i], 0, self.alpha_max))
            slider.setValue(round(value / self.alpha_max * _STEPS))
            slider.setToolTip(f"{names[i]} → {names[j]}: 0 … {self.alpha_max:g}")
            slider.valueChanged.connect(lambda _v: self.update())
            self.form.addRow(f"{names[i]} → {names[j]}", slider)
            self.sliders[(i, j)] = slider
        self.update()

    def alphas(self) -> np.ndarray:
        """Slider values as ``alpha[source, sink]``."""
        n = len(self._run["names"]) if self._run else 0
        alpha = np.zeros((n, n))
        for (i, j), slider in self.sliders.items():
            alpha[i, j] = slider.value() / _STEPS * self.alpha_max
        return alpha

    def _toggle(self, on: bool) -> None:
        self.box.setVisible(on)
        for layer in tool_layers(self.viewer, self.tool):
            role = layer.metadata[TAG].get("role")
            if role == "manual":
                layer.visible = on
            elif role in ("unmixed", "passed"):
                layer.visible = not on
        if on and not self.sliders:
            self.form.addRow(QLabel("run an estimation first: the sliders start from it"))
        self.update()

    def _slice(self) -> tuple[int, int]:
        n_t, n_z = self._run["data"].shape[:2]
        step, ndim = self.viewer.dims.current_step, self.viewer.dims.ndim
        t = step[0] if ndim >= 4 and n_t > 1 else 0
        z = step[ndim - 3] if ndim >= 3 and n_z > 1 else 0
        return min(int(t), n_t - 1), min(int(z), n_z - 1)

    def update(self) -> None:
        """Re-unmix the displayed T/Z slice with the slider alphas."""
        if not self.enabled.isChecked() or self._run is None or not self.sliders:
            return
        run = self._run
        t, z = self._slice()
        plane = np.asarray(run["data"][t : t + 1, z : z + 1])
        alpha = self.alphas()
        background = run["result"].background[t]
        out = apply_unmixing(plane, SourceSinkFit(alpha=alpha).matrix, background=background)
        head = f"{run['source']} · {self.tool}" if run["source"] else self.tool
        for k, name in enumerate(run["names"]):
            lname = f"{head} · manual {name}"
            meta = {"manual_alpha": alpha.tolist(), "t": t, "z": z}
            if lname in self.viewer.layers:
                self.viewer.layers[lname].data = out[0, 0, k]
                self.viewer.layers[lname].metadata.update(meta)
                continue
            like = run["layers"][min(k, len(run["layers"]) - 1)]
            tag = {"tool": self.tool, "source": run["source"], "role": "manual"}
            self.viewer.add_image(
                out[0, 0, k],
                name=lname,
                scale=like.scale[-2:],
                translate=like.translate[-2:],
                colormap=colormap_for(k),
                blending="additive",
                metadata={TAG: tag, **meta},
            )
