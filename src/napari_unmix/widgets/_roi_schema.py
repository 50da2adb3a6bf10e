"""The "ROIs" Shapes layer in a viewer, shared by the ROI suggester and the ROI manager.

The columns of ``layer.features`` (:data:`ROI_COLUMNS`) and the shape helpers are defined
without Qt in :mod:`napari_unmix.api.rois.schema`; this module finds or creates the layer
and keeps ``features`` and shapes in step when tools add or remove ROIs (use these helpers
rather than editing ``layer.data`` directly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..api.rois.schema import (
    ROI_COLUMNS,
    ROI_DEFAULTS,
    ROI_LAYER_NAME,
    box_to_rectangle,
    conform_features,
    empty_features,
)

__all__ = [
    "ROI_COLUMNS",
    "ROI_LAYER_NAME",
    "add_rois",
    "box_to_rectangle",
    "empty_features",
    "find_roi_layer",
    "get_or_create_roi_layer",
    "remove_rois",
]


def find_roi_layer(viewer):
    """The viewer's ROI Shapes layer, or None."""
    from napari.layers import Shapes

    for layer in viewer.layers:
        if isinstance(layer, Shapes) and layer.name == ROI_LAYER_NAME:
            return layer
    return None


def get_or_create_roi_layer(viewer, *, scale=(1.0, 1.0), translate=(0.0, 0.0)):
    """Find the ROI layer or add an empty one with the given Y/X ``scale`` and ``translate``."""
    layer = find_roi_layer(viewer)
    if layer is None:
        layer = viewer.add_shapes(
            name=ROI_LAYER_NAME,
            ndim=2,
            scale=tuple(scale)[-2:],
            translate=tuple(translate)[-2:],
            features=empty_features(),
            edge_width=1,
            face_color="transparent",
        )
    return layer


def add_rois(layer, rectangles: list[np.ndarray], rows: list[dict[str, Any]]) -> None:
    """Append rectangles (4×2 corner arrays, data units) with one features row each."""
    if len(rectangles) != len(rows):
        raise ValueError(f"{len(rectangles)} rectangles but {len(rows)} feature rows")
    if not rectangles:
        return
    old = conform_features(layer.features) if len(layer.data) else empty_features()
    new = conform_features(pd.DataFrame([{**ROI_DEFAULTS, **r} for r in rows]))
    layer.add_rectangles(list(rectangles))
    layer.features = pd.concat([old, new], ignore_index=True)


def remove_rois(layer, mask) -> int:
    """Remove the shapes where ``mask`` (bool per shape) is True; returns how many."""
    idx = set(np.nonzero(np.asarray(mask, bool))[0].tolist())
    if idx:
        layer.selected_data = idx
        layer.remove_selected()
    return len(idx)
