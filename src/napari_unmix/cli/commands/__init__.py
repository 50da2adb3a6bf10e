"""The command table: sub-command name -> :class:`~napari_unmix.cli._spec.Command`, one
module per tool. Adding a tool's command is one entry in its module."""

from __future__ import annotations

from .._spec import Command
from . import bleedthrough, hsmap, nmf, picasso, stack_tools, stnmf

__all__ = ["REGISTRY"]

_ORDER = (
    "filter",
    "match-histograms",
    "max-z",
    "z-drift",
    "register",
    "unmix",
    "picasso",
    "nnls",
    "nnmf",
    "stnmf",
    "maps",
    "convert-time-to-channels",
)
_ALL = {
    **stack_tools.COMMANDS,
    **bleedthrough.COMMANDS,
    **picasso.COMMANDS,
    **nmf.COMMANDS,
    **stnmf.COMMANDS,
    **hsmap.COMMANDS,
}

#: Sub-command name -> :class:`~napari_unmix.cli._spec.Command`.
REGISTRY: dict[str, Command] = {name: _ALL[name] for name in _ORDER}
