"""From a recording (a stimulus movie and spike times of many cells) to subunits per cell.

:func:`iter_stnmf_cells` builds every selected cell's ensemble from the stimulus
(:func:`~napari_unmix.core.stnmf.spike_triggered_ensemble`: only frames before spikes are
read, a dask or memory-mapped movie stays lazy), factorises it, and yields progress per
cell; a cell that fails (too few spikes, not enough memory, ...) gets its error in its
result and the others go on. :func:`stnmf_recording_file` does the same from files and
writes one set of outputs per cell plus a table of all cells (CSV and JSON).

Examples
--------
>>> from napari_unmix.core.scenarios.stnmf import ModelCell, make_recording
>>> stim, counts, _ = make_recording(ModelCell(grid=10, n_subunits=3), n_spikes=800)
>>> res = stnmf_cells(stim, {"a": counts, "b": counts[::-1].copy()}, r=4, num_iter=20)
>>> [(c.name, c.n_spikes > 0, c.error) for c in res]
[('a', True, None), ('b', True, None)]
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...core.options import takes_options
from ...core.progress import Progress, Steps, run, run_form
from ...core.result import Result
from ...core.stnmf import (
    StnmfFitOptions,
    StnmfRecordingOptions,
    StnmfSettingsOptions,
    check_stimulus,
    settings_values,
    spike_triggered_average,
    spike_triggered_ensemble,
    temporal_filter_from_sta,
)
from ...core.validate import check_int
from .model import STNMF
from .outputs import write_cells_table, write_outputs
from .properties import PixelSizeWarning

__all__ = [
    "RECOVERY",
    "CellResult",
    "cells_table",
    "iter_stnmf_cells",
    "resolve_settings",
    "stnmf_cells",
    "stnmf_recording_file",
]

RECOVERY = StnmfSettingsOptions.settings  #: name of the default settings (``SETTINGS``)
_F, _S, _R = StnmfFitOptions, StnmfSettingsOptions, StnmfRecordingOptions

#: :func:`resolve_settings` under its API name (the keywords of :class:`STNMF` from named
#: settings; overrides that are not None win).
resolve_settings = settings_values


@dataclass
class CellResult:
    """One cell of a recording: its STNMF (or the error that stopped it)."""

    name: str
    n_spikes: int = 0
    stnmf: STNMF | None = None
    seconds: float = 0.0
    error: str | None = None
    temporal_filter: np.ndarray | None = field(default=None, repr=False)

    def row(self) -> dict[str, Any]:
        """Summary: cell, spikes, subunits, median diameter (µm), coverage, time, error."""
        s = self.stnmf
        row: dict[str, Any] = {"cell": self.name, "spikes": self.n_spikes}
        if s is None:
            return {**row, "subunits": "", "diameter_um": "", "coverage": "",
                    "seconds": round(self.seconds, 2), "error": self.error or ""}  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            d = s.diameters
        return {
            **row,
            "subunits": s.num_subunits,
            "diameter_um": round(float(np.median(d)), 1) if len(d) and s.pixel_size else "",
            "coverage": round(float(s.coverage), 3) if s.num_subunits else "",
            "seconds": round(self.seconds, 2),
            "error": "",
        }

    def to_result(self, source: str = "") -> Result:
        """The cell's STA, modules and outlines as layers (see :meth:`STNMF.to_result`),
        named after the cell unless ``source`` is given; no layers for a failed cell."""
        source = source or self.name
        if self.stnmf is None:
            return Result("STNMF", [], report={"error": self.error}, source=source)
        res = self.stnmf.to_result(source)
        res.tables["cell"] = self.row()
        return res


def _filter(stimulus, spikes, temporal_filter, n_lags, timing):
    if isinstance(temporal_filter, str):
        if temporal_filter != "sta":
            raise ValueError(
                f"temporal_filter must be an array, 'sta' or None, got {temporal_filter!r}"
            )
        return temporal_filter_from_sta(
            spike_triggered_average(stimulus, spikes, n_lags=n_lags, **timing)
        )
    return temporal_filter


def _cell(stimulus, spikes, name, timing, recording, stnmf, where) -> Steps:
    """Cell ``i`` of ``n`` (``where``): its ensemble and STNMF; yields about 50 progress
    events, returns the :class:`CellResult` (with the error that stopped it, if any)."""
    i, n = where
    t0 = time.perf_counter()
    cell = CellResult(name)
    r, num_iter = stnmf["r"], stnmf["num_iter"]
    every = max(1, num_iter // 50)
    try:
        filt = _filter(stimulus, spikes, recording["temporal_filter"], recording["n_lags"], timing)
        cell.temporal_filter = None if filt is None else np.asarray(filt)
        ste = spike_triggered_ensemble(
            stimulus, spikes, lag=recording["lag"], latency=recording["latency"],
            temporal_filter=filt, **timing,
        )  # fmt: skip
        cell.n_spikes = int(ste.shape[-1])
        if cell.n_spikes < r:
            raise ValueError(
                f"cell {name!r} has {cell.n_spikes} spikes inside the movie; STNMF with "
                f"r={r} modules needs at least {r} (thousands for subunits)"
            )
        s = STNMF(ste, factorize=False, **stnmf)
        for event in s.iter_factorize():
            if int(event.done) % every == 0:
                yield Progress(i + event.done / max(num_iter, 1), n, f"cell {i + 1}/{n} {name!r}")
        cell.stnmf = s
    except (ValueError, MemoryError) as err:
        cell.error = str(err)
    cell.seconds = time.perf_counter() - t0
    return cell


@takes_options(_R, _S, _F, exclude=("counts", "temporal_filter"))
def iter_stnmf_cells(
    stimulus: Any,
    spikes: Mapping[str, Any],
    /,
    *,
    cells: Sequence[str] | None = None,
    frame_times: Any = None,
    temporal_filter: Any = _R.temporal_filter,
    options: tuple[StnmfRecordingOptions, StnmfSettingsOptions, StnmfFitOptions],
) -> Steps:
    """STNMF of many cells of one recording, yielding progress per cell.

    Every event is a :class:`~napari_unmix.core.progress.Progress` whose ``done`` runs
    from ``i`` to ``i + 1`` while cell ``i`` of ``total`` cells is factorised, with the
    cell's name in the message; when a cell is finished, its :class:`CellResult` is the
    event's ``partial`` (else None).

    ``spikes`` maps cell names to spike times (s; with ``frame_rate`` or ``frame_times``)
    or spike counts per frame. ``cells`` selects and orders cells (default all).
    ``temporal_filter="sta"`` estimates each cell's filter from its STA over ``n_lags``
    frames (or pass an array). ``settings`` names the defaults of
    ``sparsity``/``smoothing``/``normalize``/``min_weight_z``/``min_weight_ratio``
    (``core.stnmf.SETTINGS``). Returns one :class:`CellResult` per cell, in order.
    """
    rec, named, fit = options
    recording = {**rec.as_dict(), "temporal_filter": temporal_filter}  # may be an array
    stnmf = fit.as_dict()
    check_int("num_iter", fit.num_iter, minimum=1)
    overrides = {k: v for k, v in named.as_dict().items() if k != "settings"}
    stnmf.update(settings_values(named.settings, **overrides))
    check_stimulus(stimulus)  # the movie of every cell: its errors are the call's
    names = list(spikes) if cells is None else [str(c) for c in cells]
    missing = [c for c in names if c not in spikes]
    if missing:
        raise ValueError(f"no cell named {missing}; the spike table has {list(spikes)}")
    if not names:
        raise ValueError("no cells selected")
    timing = {"frame_rate": rec.frame_rate, "frame_times": frame_times}
    results = []
    n = len(names)
    for i, name in enumerate(names):
        yield Progress(i, n, f"cell {i + 1}/{n} {name!r}")
        cell = yield from _cell(stimulus, spikes[name], name, timing, recording, stnmf, (i, n))
        results.append(cell)
        yield Progress(i + 1, n, f"cell {i + 1}/{n} {name!r} done", cell)
    return results


stnmf_cells = run_form(
    iter_stnmf_cells,
    "stnmf_cells",
    """:func:`iter_stnmf_cells` run to the end (same arguments): one :class:`CellResult`
    per cell.""",
    returns=list[CellResult],
)


def cells_table(results: Sequence[CellResult], /) -> list[dict[str, Any]]:
    """One summary row per cell (see :meth:`CellResult.row`)."""
    return [c.row() for c in results]


def _cell_paths(folder: Path, name: str, figure: bool) -> dict[str, Path | None]:
    from ...io.sidecar import sidecar_path

    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    modules = folder / f"{safe}.ome.tif"
    return {"modules": modules, "table": folder / f"{safe}.csv",
            "figure": folder / f"{safe}.png" if figure else None,
            "sidecar": sidecar_path(modules)}  # fmt: skip


@takes_options(_R, _S, _F)
def stnmf_recording_file(
    stimulus_path: str | os.PathLike,
    output_folder: str | os.PathLike,
    /,
    *,
    spikes: str | os.PathLike,
    cells: Sequence[str] | None = None,
    stimulus_key: str | None = None,
    figure: bool = True,
    overwrite: bool = False,
    progress: Callable[[Progress], Any] | None = None,
    options: tuple[StnmfRecordingOptions, StnmfSettingsOptions, StnmfFitOptions],
) -> dict[str, Path]:
    """STNMF of the cells of a recording on disk: per cell modules, table, figure, report.

    ``stimulus_path`` is a movie (t, x, y) (``.npy`` memory-mapped or HDF5, read lazily);
    ``spikes`` a spike table (:func:`napari_unmix.io.spikes.read_spike_table`: CSV / NPY
    / NPZ / HDF5, one column or dataset per cell) of spike times in seconds (needs
    ``frame_rate``), or of counts per frame with ``counts=True``. Writes, in
    ``output_folder``, ``<cell>.ome.tif`` (+ ``.json``, ``.csv``, ``.png``) per cell and
    ``cells.csv`` / ``cells.json`` (spikes, subunits, diameters, coverage, time, error
    per cell). The STNMF keywords are those of :func:`iter_stnmf_cells`; ``progress``
    receives its :class:`~napari_unmix.core.progress.Progress` events.
    """
    from ...io.safety import plan_outputs
    from ...io.spikes import read_spike_table, read_stimulus

    rec = options[0]
    given = {k: v for opts in options for k, v in opts.as_dict().items() if k in _CELL_OPTIONS}
    folder = Path(output_folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; the output of a recording is a folder")
    stim = read_stimulus(stimulus_path, key=stimulus_key)
    table = read_spike_table(spikes)
    if not rec.counts and rec.frame_rate is None:
        raise ValueError("spike times need --frame-rate (Hz); or say the table holds counts")
    names = list(table) if cells is None else [str(c) for c in cells]
    per_cell = {name: _cell_paths(folder, name, figure) for name in names if name in table}
    inputs = (Path(stimulus_path), Path(spikes))
    folder.mkdir(parents=True, exist_ok=True)
    plan_outputs(  # every output, before the work
        [*(v for d in per_cell.values() for v in d.values()), folder / "cells.csv",
         folder / "cells.json"], inputs=inputs, overwrite=overwrite,
    )  # fmt: skip
    steps = iter_stnmf_cells(
        stim, table, cells=cells, frame_rate=None if rec.counts else rec.frame_rate, **given
    )
    results: list[CellResult] = run(steps, progress)
    written: dict[str, Path] = {}
    for cell in results:
        if cell.stnmf is None:
            continue
        paths = per_cell[cell.name]
        extra = {"input": {"stimulus": str(stimulus_path), "spikes": str(spikes),
                           "cell": cell.name}}  # fmt: skip
        out = write_outputs(cell.stnmf, dict(paths), overwrite=overwrite, extra=extra)
        written.update({f"{cell.name}:{k}": v for k, v in out.items()})
    written.update(write_cells_table(results, folder / "cells", overwrite=overwrite))
    return written


#: Keywords that :func:`stnmf_recording_file` passes on to :func:`iter_stnmf_cells`.
_CELL_OPTIONS = (
    "lag", "latency", "temporal_filter", "n_lags", "r", "settings", "sparsity", "smoothing",
    "normalize", "min_weight_z", "min_weight_ratio", "num_iter", "pixel_size",
    "moransi_threshold", "seed",
)  # fmt: skip
