"""The spectrum of the pixel under the mouse, for docks that plot spectra.

A :class:`PixelProbe` listens to the viewer's mouse moves (at most five updates a second),
maps the position to the data pixel of an image layer and calls ``on_change((y, x),
spectrum)`` — or ``on_change(None, None)`` when the mouse leaves the image.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["PixelProbe"]


class PixelProbe:
    """Calls ``on_change`` with the pixel and its spectrum from ``cube()`` (C x Y x X) of
    ``layer()``; both callables may return None (nothing to probe)."""

    def __init__(
        self,
        viewer: Any,
        layer: Callable[[], Any],
        cube: Callable[[], np.ndarray | None],
        on_change: Callable[[Any, Any], None],
        *,
        interval: float = 0.2,
    ) -> None:
        self.layer, self.cube, self.on_change, self.interval = layer, cube, on_change, interval
        self.pixel: tuple[int, int] | None = None
        self._last = 0.0
        viewer.mouse_move_callbacks.append(self._moved)

    def _moved(self, viewer: Any, event: Any) -> None:
        now = time.perf_counter()
        layer, cube = self.layer(), self.cube()
        if layer is None or cube is None or now - self._last < self.interval:
            return
        self._last = now
        y, x = (int(np.rint(v)) for v in layer.world_to_data(event.position)[-2:])
        inside = 0 <= y < cube.shape[1] and 0 <= x < cube.shape[2]
        if not inside:
            if self.pixel is not None:
                self.pixel = None
                self.on_change(None, None)
            return
        self.pixel = (y, x)
        self.on_change((y, x), np.asarray(cube[:, y, x]))
