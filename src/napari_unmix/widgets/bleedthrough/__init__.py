"""The bleed-through correction dock (:class:`BleedthroughDock`) and its results panel.

:mod:`.dock` the dock (pickers, form, "Estimate + correct" / "Estimate only"),
:mod:`.panel` its results-panel content (alpha, interval, checks, themed plots).
"""

from __future__ import annotations

from .dock import BleedthroughDock, BleedthroughWidget, status_text
from .panel import BleedthroughPanel

__all__ = ["BleedthroughDock", "BleedthroughPanel", "BleedthroughWidget", "status_text"]
