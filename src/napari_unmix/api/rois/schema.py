"""ROI geometry and table schema without Qt: feature columns, shapes -> masks, colours.

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

Shapes are stored as napari does: vertices in data (= pixel) coordinates, (Y, X).

Examples
--------
>>> empty_features().columns.tolist()
['name', 'component', 'background', 'auto', 'group']
>>> int(shape_mask(rectangle(1, 1, 3, 3), "rectangle", (8, 8)).sum())
9
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from skimage.draw import polygon2mask

__all__ = [
    "PALETTE",
    "ROI_COLUMNS",
    "ROI_DEFAULTS",
    "ROI_LAYER_NAME",
    "SOURCES",
    "DummyRow",
    "ResonanceRow",
    "box_to_rectangle",
    "component_color",
    "conform_features",
    "empty_features",
    "rectangle",
    "shape_mask",
]

ROI_LAYER_NAME = "ROIs"
#: column, dtype of ``layer.features``, value used for a column a caller does not give
_SCHEMA: tuple[tuple[str, str, Any], ...] = (
    ("name", "object", ""),
    ("component", "int64", 0),
    ("background", "bool", False),
    ("auto", "bool", False),
    ("group", "int64", -1),
)
#: column -> dtype of ``layer.features``
ROI_COLUMNS: dict[str, str] = {name: dtype for name, dtype, _ in _SCHEMA}
#: column -> value used for a column a caller does not give
ROI_DEFAULTS: dict[str, Any] = {name: default for name, _, default in _SCHEMA}

#: component index -> colour (cycled)
PALETTE = (
    "#ff4040", "#40c040", "#4080ff", "#ffbf00", "#ff40ff", "#00d0d0", "#ff8040", "#a060ff",
)  # fmt: skip
#: source of a table row -> label shown in the table
SOURCES = {
    "drawn": "drawn ROI", "file": "spectrum file", "gaussian": "Gaussian model",
    "resonance": "resonance (Gaussian, locked)", "imported": "imported result",
    "w_only": "W map only",
}  # fmt: skip


@dataclass
class DummyRow:
    """A row without a drawn region: a spectrum and/or a fixed W map."""

    name: str
    component: int
    source: str  #: a key of :data:`SOURCES`
    spectrum: np.ndarray | None = None  #: (C,) on the image's spectral axis
    w_map: np.ndarray | None = None  #: (Y, X)
    gaussian: dict[str, float] | None = None  #: center, fwhm, amplitude
    background: bool = False
    show: bool = True
    scale: float = 1.0
    offset: float = 0.0
    lock_h: bool = False
    lock_w: bool = False


@dataclass
class ResonanceRow:
    """Spectral information about one component (see ``ComponentSeed.resonance``)."""

    component: int
    position: float
    width: float
    n_pixels: int = 150
    use_subtracted: bool = True
    gaussian: bool = False
    amplitude: float = 1.0
    rank_by: str = "max_intensity"


def empty_features() -> pd.DataFrame:
    """An empty features table with the ROI columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ROI_COLUMNS.items()})


def conform_features(features: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``features`` with every ROI column (missing ones and gaps filled with
    :data:`ROI_DEFAULTS`) in its dtype; other columns are kept.

    Examples
    --------
    >>> conform_features(pd.DataFrame([{"name": "a"}])).to_dict("records")
    [{'name': 'a', 'component': 0, 'background': False, 'auto': False, 'group': -1}]
    """
    out = features.copy()
    for col, dtype in ROI_COLUMNS.items():
        if col not in out:
            out[col] = ROI_DEFAULTS[col]
        out[col] = out[col].fillna(ROI_DEFAULTS[col]).astype(dtype)
    return out


def component_color(component: int) -> str:
    """Colour of a component (hex), cycling through :data:`PALETTE`.

    Examples
    --------
    >>> component_color(0), component_color(len(PALETTE))
    ('#ff4040', '#ff4040')
    """
    return PALETTE[int(component) % len(PALETTE)]


def rectangle(y0: float, x0: float, y1: float, x1: float) -> np.ndarray:
    """4 × 2 corners (Y, X) of an axis-aligned rectangle, as napari stores it.

    Examples
    --------
    >>> rectangle(0, 0, 2, 3).tolist()
    [[0.0, 0.0], [0.0, 3.0], [2.0, 3.0], [2.0, 0.0]]
    """
    return np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]], dtype=np.float64)


def box_to_rectangle(box: Sequence[float]) -> np.ndarray:
    """``(y0, x0, y1, x1)`` half-open pixel box -> 4×2 rectangle corners in data (Y, X) units.

    Examples
    --------
    >>> box_to_rectangle((1, 2, 5, 8)).tolist()
    [[1.0, 2.0], [1.0, 8.0], [5.0, 8.0], [5.0, 2.0]]
    """
    y0, x0, y1, x1 = (float(v) for v in box)
    return rectangle(y0, x0, y1, x1)


def shape_mask(vertices: np.ndarray, shape_type: str, image_shape: tuple[int, int]) -> np.ndarray:
    """Boolean Y × X mask of one napari shape (vertices in pixel coordinates).

    Rectangles and polygons include the pixels whose centre lies inside or on the outline
    (as napari's ``Shapes.to_masks``); an ellipse is given by the four corners of its
    (possibly rotated) bounding box. Lines and paths have no area and give an empty mask.

    Examples
    --------
    >>> int(shape_mask(rectangle(1, 1, 3, 3), "rectangle", (8, 8)).sum())
    9
    >>> int(shape_mask(rectangle(0, 0, 4, 4), "ellipse", (8, 8)).sum())
    13
    """
    v = np.asarray(vertices, dtype=np.float64)[:, -2:]
    if shape_type == "ellipse":
        center = v.mean(axis=0)
        a, b = (v[1] - v[0]) / 2.0, (v[2] - v[1]) / 2.0
        t = np.linspace(0.0, 2.0 * np.pi, 97)[:-1, None]
        v = center + np.cos(t) * a + np.sin(t) * b
    elif shape_type in ("line", "path") or len(v) < 3:
        return np.zeros(image_shape, bool)
    return polygon2mask(image_shape, v)
