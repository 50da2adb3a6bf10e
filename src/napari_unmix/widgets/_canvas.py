"""A matplotlib canvas that draws only when it is on screen, and not while a dock runs.

matplotlib's Qt canvas redraws its whole figure (Agg, on the GUI thread, holding the GIL)
on every resize, even when it is hidden, e.g. a plot of an earlier run kept in a results
panel's history. A status line that changes during a run re-lays the dock out and resizes
every canvas in it, so each progress step cost a few full redraws and slowed the run's own
thread. :class:`LazyCanvas` only marks itself stale when asked to draw; it draws at its next
paint (Qt paints visible widgets only) and, while :func:`hold_drawing` is active (a dock's
run), keeps showing its last image and draws once when the hold ends. A figure can also be
filled lazily (``fill``), so building a plot's artists waits until it is first shown.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

__all__ = ["LazyCanvas", "hold_drawing", "release_drawing"]

_CANVASES: weakref.WeakSet[LazyCanvas] = weakref.WeakSet()
_HOLD = [0]


def hold_drawing() -> None:
    """Stop lazy canvases from drawing (a dock's run starts); pair with :func:`release_drawing`."""
    _HOLD[0] += 1


def release_drawing() -> None:
    """End one :func:`hold_drawing`; the last one lets stale, visible canvases draw once."""
    _HOLD[0] = max(_HOLD[0] - 1, 0)
    if _HOLD[0] == 0:
        for canvas in list(_CANVASES):
            if canvas.stale:
                try:
                    canvas.update()
                except RuntimeError:  # its Qt widget is gone (a closed panel)
                    _CANVASES.discard(canvas)


class LazyCanvas(FigureCanvasQTAgg):
    """A Qt-Agg canvas that draws at its next paint when visible (see the module docstring).

    Parameters
    ----------
    figure : Figure, optional
        The figure (a new one if omitted).
    fill : callable, optional
        ``fill(figure)`` adds the plot's artists; called once, just before the first draw.
    """

    def __init__(
        self, figure: Figure | None = None, *, fill: Callable[[Figure], Any] | None = None
    ) -> None:
        super().__init__(figure if figure is not None else Figure())
        self.stale = True
        self.draws = 0  # full redraws so far (for tests)
        self._fill = fill
        _CANVASES.add(self)

    def set_fill(self, fill: Callable[[Figure], Any]) -> None:
        """Replace the pending ``fill`` (the newest plot wins) and mark the figure stale."""
        self._fill = fill
        self.draw_idle()

    def ensure_filled(self) -> None:
        """Build the figure's artists now (if a ``fill`` is still pending)."""
        fill, self._fill = self._fill, None
        if fill is not None:
            fill(self.figure)

    def draw_idle(self) -> None:
        """Mark the figure stale; it is drawn at the next paint of the visible canvas."""
        self.stale = True
        self.update()

    def draw(self) -> None:
        self.ensure_filled()
        self.stale = False
        self.draws += 1
        super().draw()

    def paintEvent(self, event: Any) -> None:
        if self.stale and not _HOLD[0] and self.width() > 0 and self.height() > 0:
            self.draw()
        super().paintEvent(event)
