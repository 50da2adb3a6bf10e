"""The STNMF dock (:class:`STNMFWidget`) and its parts.

:mod:`.viewer` the dock, :mod:`.recording` its recording half, :mod:`.inputs` the
ensemble axes and the option fields, :mod:`.worker` what runs in the worker thread,
:mod:`.tables` and :mod:`.plots` the results panel.
"""

from __future__ import annotations

from .inputs import ensemble_from_layer, resolve_axes
from .viewer import STNMFWidget

__all__ = ["STNMFWidget", "ensemble_from_layer", "resolve_axes"]
