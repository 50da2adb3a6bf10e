"""Figure helpers shared by every tool's report figures (Agg backend, no pyplot state)."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure", "save_figure"]


def new_figure(width: float = 6.0, height: float = 4.0, *, dpi: float | None = None) -> Figure:
    """A matplotlib Figure with an Agg canvas, independent of pyplot and of any GUI.

    Examples
    --------
    >>> fig = new_figure(3, 2)
    >>> ax = fig.add_subplot()
    >>> fig.get_size_inches().tolist()
    [3.0, 2.0]
    """
    fig = Figure(figsize=(width, height), layout="constrained", dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(
    fig: Figure, path: str | os.PathLike, *, dpi: int = 110, overwrite: bool = False
) -> Path:
    """Save ``fig`` as PNG to ``path`` via a temporary name; refuse to replace a file."""
    from ..io.safety import atomic_output, plan_outputs

    path = plan_outputs([path], overwrite=overwrite)[0]
    with atomic_output(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png")
    return path
