"""STNMF dock inputs: the axes of an ensemble layer, and form fields from the options.

:func:`ensemble_from_layer` reads an (x, y, m) ensemble from an image layer by its
``metadata["ste_axes"]`` or the rule *the longest axis is spikes*; :func:`field_for`
makes the Qt field of one option of :mod:`napari_unmix.core.stnmf.options` (its default,
range, unit and tooltip from the options class, so no default is typed in the dock).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from ...core.options import OptionSpec
from ...core.stnmf import ensemble_axes

__all__ = ["AXES", "ensemble_from_layer", "field_for", "field_value", "resolve_axes"]

AXES = {
    "auto": "from layer metadata (ste_axes), else the longest axis is spikes",
    "mxy": "spikes, x, y (napari scrolls through spikes)",
    "xym": "x, y, spikes (the stnmf package's order)",
}

_INT_MAX = 2**31 - 1


def resolve_axes(layer: Any, axes: str = "auto") -> str:
    """``"mxy"`` or ``"xym"`` for a 3-D layer: the metadata, else the longest axis is spikes."""
    if axes == "auto":
        axes = layer.metadata.get("ste_axes", "")
        if axes not in ("mxy", "xym"):
            order = ensemble_axes(tuple(layer.data.shape))
            if order == (0, 1, 2):
                axes = "xym"
            elif order == (1, 2, 0):
                axes = "mxy"
            else:
                raise ValueError(
                    f"layer {layer.name!r} of shape {tuple(layer.data.shape)} has its longest "
                    "axis in the middle; choose the axes explicitly"
                )
    if axes not in ("mxy", "xym"):
        raise ValueError(f"unknown ensemble axes {axes!r}; use 'mxy' or 'xym'")
    return axes


def ensemble_from_layer(layer: Any, axes: str = "auto") -> np.ndarray:
    """The (x, y, m) ensemble held by an image layer (a view when possible)."""
    data = np.asarray(layer.data)
    if data.ndim != 3:
        raise ValueError(
            f"layer {layer.name!r} has shape {data.shape}; an ensemble needs 3 axes "
            "(spikes, x, y) or (x, y, spikes)"
        )
    axes = resolve_axes(layer, axes)
    return np.moveaxis(data, 0, -1) if axes == "mxy" else data


def field_for(
    spec: OptionSpec,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    tips: dict[str, str] | None = None,
) -> QWidget:
    """A spin box (numbers) or a combo box (choices, ``tips`` per choice) showing the
    option's default.

    The range is the option's bounds; ``minimum`` / ``maximum`` narrow it or close open
    ends (a number without a default shows "not set" at its minimum, which reads as None).
    """
    if spec.choices is not None:
        box = QComboBox()
        for name in spec.choice_names:
            box.addItem(name)
            method = spec.choices.get(name) if hasattr(spec.choices, "get") else None
            tip = (tips or {}).get(name) or getattr(method, "doc", "")
            if tip:
                box.setItemData(box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        box.setCurrentText(str(spec.default))
    else:
        lo, hi = spec.bounds if spec.bounds is not None else (None, None)
        lo = minimum if minimum is not None else (lo if lo is not None else 0)
        hi = maximum if maximum is not None else (hi if hi is not None else _INT_MAX)
        if spec.base is int:
            box = QSpinBox(minimum=int(lo), maximum=int(min(hi, _INT_MAX)))
        else:
            box = QDoubleSpinBox(minimum=float(lo), maximum=float(hi), singleStep=0.05)
        if spec.unit:
            box.setSuffix(f" {spec.unit}")
        if spec.default is None:
            box.setSpecialValueText("not set")
        box.setValue(box.minimum() if spec.default is None else spec.default)
    box.setToolTip(spec.help())
    return box


def field_value(box: QWidget, spec: OptionSpec) -> Any:
    """The value a :func:`field_for` box shows (None for "not set")."""
    if isinstance(box, QComboBox):
        return box.currentText()
    value = box.value()
    if spec.default is None and value == box.minimum():
        return None
    return value
