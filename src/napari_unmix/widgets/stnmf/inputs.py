"""STNMF dock inputs: the axes of an ensemble layer.

:func:`ensemble_from_layer` reads an (x, y, m) ensemble from an image layer by its
``metadata["ste_axes"]`` or the rule *the longest axis is spikes*.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core.stnmf import ensemble_axes

__all__ = ["AXES", "ensemble_from_layer", "resolve_axes"]

AXES = {
    "auto": "from layer metadata (ste_axes), else the longest axis is spikes",
    "mxy": "spikes, x, y (napari scrolls through spikes)",
    "xym": "x, y, spikes (the stnmf package's order)",
}


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
