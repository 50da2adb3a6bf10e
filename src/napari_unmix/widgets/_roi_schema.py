"""The ROI Shapes-layer schema shared by the ROI suggester and the ROI manager.

ROIs live in one napari Shapes layer named :data:`ROI_LAYER_NAME` ("ROIs") with the
image's Y/X scale (2-D shapes). Every shape has one row in ``layer.features`` with the
columns of :data:`ROI_COLUMNS`:

``name`` (str)
    Display name, e.g. ``"auto g0 #1"``.
``component`` (int)
    Index of the component (seed spectrum) the ROI belongs to.
``background`` (bool)
    True for a background ROI (its mean spectrum is subtracted, not used as a seed).
``auto`` (bool)
    True for ROIs written by the ROI suggester; ``replace_previous`` removes only these.
``group`` (int)
    Spectral group from the suggester (-1 for hand-drawn ROIs).

The helpers keep ``features`` and shapes in step; tools should use them rather than
editing ``layer.data`` directly.

Examples
--------
>>> empty_features().columns.tolist()
['name', 'component', 'background', 'auto', 'group']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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

ROI_LAYER_NAME = "ROIs"
#: column -> dtype of ``layer.features``
ROI_COLUMNS: dict[str, str] = {
    "name": "object",
    "component": "int64",
    "background": "bool",
    "auto": "bool",
    "group": "int64",
}
#: value used for a column a caller does not give
ROI_DEFAULTS: dict[str, Any] = {
    "name": "",
    "component": 0,
    "background": False,
    "auto": False,
    "group": -1,
}


def empty_features() -> pd.DataFrame:
    """An empty features table with the ROI columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ROI_COLUMNS.items()})


def box_to_rectangle(box) -> np.ndarray:
    """``(y0, x0, y1, x1)`` half-open pixel box -> 4×2 rectangle corners in data (Y, X) units.

    Examples
    --------
    >>> box_to_rectangle((1, 2, 5, 8)).tolist()
    [[1.0, 2.0], [1.0, 8.0], [5.0, 8.0], [5.0, 2.0]]
    """
    y0, x0, y1, x1 = (float(v) for v in box)
    return np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]])


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


def _conform(features: pd.DataFrame) -> pd.DataFrame:
    out = features.copy()
    for col, dtype in ROI_COLUMNS.items():
        if col not in out:
            out[col] = ROI_DEFAULTS[col]
        out[col] = out[col].astype(dtype)
    return out


def add_rois(layer, rectangles: list[np.ndarray], rows: list[dict[str, Any]]) -> None:
    """Append rectangles (4×2 corner arrays, data units) with one features row each."""
    if len(rectangles) != len(rows):
        raise ValueError(f"{len(rectangles)} rectangles but {len(rows)} feature rows")
    if not rectangles:
        return
    old = _conform(layer.features) if len(layer.data) else empty_features()
    new = _conform(pd.DataFrame([{**ROI_DEFAULTS, **r} for r in rows]))
    layer.add_rectangles(list(rectangles))
    layer.features = pd.concat([old, new], ignore_index=True)


def remove_rois(layer, mask) -> int:
    """Remove the shapes where ``mask`` (bool per shape) is True; returns how many."""
    idx = set(np.nonzero(np.asarray(mask, bool))[0].tolist())
    if idx:
        layer.selected_data = idx
        layer.remove_selected()
    return len(idx)
