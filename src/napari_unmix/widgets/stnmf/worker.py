"""What the STNMF dock runs in its worker thread: generators of Progress events.

napari's progress bar processes Qt events on every update, so one update per
(millisecond-fast) iteration recursed until Python aborted: the ensemble worker yields
at most :data:`MAX_PROGRESS_UPDATES` events, the recording worker one per 2 % of a cell
and one per finished cell (its :class:`~napari_unmix.api.stnmf.CellResult` as
``partial``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...api.stnmf import STNMF, CellResult, iter_stnmf_cells
from ...core.progress import Progress, Steps
from ...core.result import Result

__all__ = [
    "MAX_PROGRESS_UPDATES",
    "StnmfRun",
    "cells_steps",
    "factorize_steps",
    "progress_step",
    "run_steps",
]

#: At most this many progress updates per run (see the module docstring).
MAX_PROGRESS_UPDATES = 100


def progress_step(num_iter: int) -> int:
    """Iterations per progress update of a run of ``num_iter`` iterations."""
    return max(1, -(-num_iter // MAX_PROGRESS_UPDATES))


def factorize_steps(ste: Any, params: dict[str, Any]) -> Steps:
    """STNMF of one ensemble; ``params`` are keywords of :class:`STNMF`. Yields
    ``1 + num_iter // progress_step(num_iter)`` events, returns the fitted STNMF."""
    s = STNMF(ste, factorize=False, **params)
    step = progress_step(s.num_iter)
    yield Progress(0, s.num_iter, "STNMF")
    for event in s.iter_factorize():
        i = int(event.done)
        if i and i % step == 0:
            yield Progress(i, s.num_iter, event.message)
    return s


def cells_steps(stimulus: Any, table: Any, cells: list[str], options: dict[str, Any]) -> Steps:
    """STNMF of the ``cells`` of a recording: :func:`iter_stnmf_cells` thinned to one
    event per 2 % of a cell (plus every finished cell); returns the cells' results."""
    last, results = -1.0, []
    for event in iter_stnmf_cells(stimulus, table, cells=cells, **options):
        frac = event.done - int(event.done)
        if event.partial is not None:
            results.append(event.partial)
            yield event
        elif frac - last >= 0.02 or frac == 0:
            last = frac if frac else -1.0
            yield event
    return results


@dataclass
class StnmfRun:
    """What one Run of the dock returns: one :class:`~napari_unmix.core.result.Result` per
    ensemble or cell (``to_result()``), the fitted models (None for a failed cell) and, for
    a recording, the cells' :class:`~napari_unmix.api.stnmf.CellResult`."""

    results: list[Result]
    models: list[STNMF | None]
    cells: list[CellResult] = field(default_factory=list)


def run_steps(inputs: Any, params: dict[str, Any]) -> Steps:
    """The dock's run: :func:`factorize_steps` of an ensemble (``inputs.ste``) or
    :func:`cells_steps` of a recording (``inputs.cells``); returns a :class:`StnmfRun`."""
    if inputs.cells is None:
        s = yield from factorize_steps(inputs.ste, params)
        return StnmfRun([s.to_result(inputs.source)], [s])
    cells = yield from cells_steps(inputs.ste, inputs.table, inputs.cells, params)
    return StnmfRun([c.to_result() for c in cells], [c.stnmf for c in cells], cells)
