"""Small Qt helpers shared by the hyperspectral docks: guarded callbacks, layer lookup."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from napari.utils import notifications

__all__ = ["guarded", "hyperspectral_layers", "layer_cube", "yx_scale"]

#: errors turned into a notification instead of a traceback
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, OSError, KeyError)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a button callback; user errors become ``show_error``, warnings ``show_warning``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = func(*args, **kwargs)
        except USER_ERRORS as err:
            notifications.show_error(str(err))
            return None
        for w in caught:
            if issubclass(w.category, UserWarning | RuntimeWarning):
                notifications.show_warning(str(w.message))
        return out

    return wrapper


def hyperspectral_layers(viewer) -> list:
    """Image layers the hyperspectral tools can use (3-D or 4-D, channels at axis -3)."""
    from napari.layers import Image

    return [ly for ly in viewer.layers if isinstance(ly, Image) and not ly.rgb]


def layer_cube(layer, viewer, *, all_slices: bool = False) -> np.ndarray:
    """The C × Y × X cube of an image layer at the viewer's current Z/T position.

    A 4-D layer (slices × C × Y × X) gives the displayed slice, or the mean over slices
    when ``all_slices``; a 2-D image is an error that says what to open instead.
    """
    data = layer.data
    if data.ndim < 3:
        raise ValueError(
            f"{layer.name!r} is a 2-D image {tuple(data.shape)}; the hyperspectral tools need "
            "a C x Y x X cube (open a spectral stack, e.g. File > Open Sample > bead cube)"
        )
    if data.ndim > 4:
        raise ValueError(
            f"{layer.name!r} has {data.ndim} axes; expected C x Y x X or S x C x Y x X"
        )
    if data.ndim == 4:
        if all_slices:
            return np.nanmean(np.asarray(data, dtype=np.float32), axis=0)
        step = viewer.dims.current_step[viewer.dims.ndim - 4] if viewer.dims.ndim >= 4 else 0
        return np.asarray(data[min(int(step), data.shape[0] - 1)])
    return np.asarray(data)


def yx_scale(layer) -> tuple[tuple[float, float], tuple[float, float]]:
    """Y/X scale and translate of a layer (for the ROI layer and results)."""
    return tuple(layer.scale[-2:]), tuple(layer.translate[-2:])
