"""Small Qt helpers shared by the hyperspectral docks: guarded callbacks, layer lookup.

``hyperspectral_layers`` and ``layer_cube`` live in :mod:`._layers` (the layer adapter).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from napari.utils import notifications

from ._layers import hyperspectral_layers, layer_cube

__all__ = ["guarded", "hyperspectral_layers", "layer_cube", "yx_scale"]

#: errors turned into a notification instead of a traceback
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, OSError, KeyError)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a button callback; user errors become ``show_error``, warnings ``show_warning``."""

    @functools.wraps(func)
    def _wrapper(*args: Any, **kwargs: Any) -> Any:
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

    return _wrapper


def yx_scale(layer) -> tuple[tuple[float, float], tuple[float, float]]:
    """Y/X scale and translate of a layer (for the ROI layer and results)."""
    return tuple(layer.scale[-2:]), tuple(layer.translate[-2:])
