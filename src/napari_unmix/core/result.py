"""One result shape: arrays, the report, and hints for display.

Every tool's result (``UnmixResult``, ``PicassoResult``, a corrected stack with its report,
maps, ...) can be turned into a :class:`Result`: named :class:`ResultLayer` entries (the
array and how to show it) plus the run's report. The CLI writer, the file-level functions
and the docks handle every tool's output the same way from it: the writer writes
``layers`` and the report sidecar, a dock adds one napari layer per entry, named
``<input> · <tool> · <component>`` and carrying the report in its metadata.

Examples
--------
>>> import numpy as np
>>> res = Result("nnmf", [ResultLayer("beads", np.zeros((4, 4)), colormap="green")],
...              report={"k": 1}, source="cube")
>>> res.layer_names()
['cube · nnmf · beads']
>>> res.layers[0].kind
'image'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DISTINCT_COLORMAPS", "Result", "ResultLayer", "colormap_for"]

#: Colormaps that stay distinguishable when k components are shown additively together.
DISTINCT_COLORMAPS = ("green", "magenta", "cyan", "yellow", "red", "blue", "bop orange", "gray")


def colormap_for(index: int) -> str:
    """The colormap of component ``index`` (cycles through :data:`DISTINCT_COLORMAPS`).

    >>> colormap_for(0), colormap_for(9)
    ('green', 'magenta')
    """
    return DISTINCT_COLORMAPS[index % len(DISTINCT_COLORMAPS)]


@dataclass
class ResultLayer:
    """One output array and how to show it.

    ``kind``: "image", "labels", "shapes" or "points"; ``axes``: the letters of ``data``'s
    dimensions (e.g. "TZYX", "YX"), from which the docks take the input layer's scale;
    ``role``: what the array is ("map", "corrected", "residual", "spectrum", ...).
    """

    name: str
    data: Any
    kind: str = "image"
    colormap: str | None = None
    blending: str = "additive"
    contrast_limits: tuple[float, float] | None = None
    axes: str = ""
    role: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """A tool's output: ``layers`` to show or write, the ``report`` of the run, the ``tool``
    name and the ``source`` (input name) they came from; ``tables`` holds small tabular
    outputs (spectra, metrics) by name."""

    tool: str
    layers: Sequence[ResultLayer]
    report: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    tables: dict[str, Any] = field(default_factory=dict)

    def layer_names(self) -> list[str]:
        """``<source> · <tool> · <layer>`` for every layer (``<tool> · <layer>`` without a source)."""
        head = f"{self.source} · {self.tool}" if self.source else self.tool
        return [f"{head} · {ly.name}" for ly in self.layers]
