"""From a recording (a stimulus movie and spike times of many cells) to subunits per cell.

:func:`iter_stnmf_cells` builds every selected cell's ensemble from the stimulus
(:func:`~napari_unmix.core.stnmf_ensemble.spike_triggered_ensemble`: only frames before
spikes are read, a dask or memory-mapped movie stays lazy), factorises it, and yields
progress per cell; a cell that fails (too few spikes, not enough memory, ...) gets its
error in its result and the others go on. :func:`stnmf_recording_file` does the same from
files and writes one set of outputs per cell plus a table of all cells (CSV and JSON).

Examples
--------
>>> from napari_unmix.core.scenarios.stnmf import make_recording
>>> stim, counts, _ = make_recording(n_spikes=800, grid=10, n_subunits=3, random_state=0)
>>> res = stnmf_cells(stim, {"a": counts, "b": counts[::-1].copy()}, r=4, num_iter=20)
>>> [(c.name, c.n_spikes > 0, c.error) for c in res]
[('a', True, None), ('b', True, None)]
"""

from __future__ import annotations

import csv
import json
import os
import time
import warnings
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.stnmf import SETTINGS, drain
from ..core.stnmf_ensemble import (
    spike_triggered_average,
    spike_triggered_ensemble,
    temporal_filter_from_sta,
)
from .stnmf_model import STNMF, PixelSizeWarning

__all__ = [
    "RECOVERY",
    "CellResult",
    "cells_table",
    "iter_stnmf_cells",
    "resolve_settings",
    "stnmf_cells",
    "stnmf_recording_file",
]

RECOVERY = "recovery"  #: name of the default settings (see ``core.stnmf.SETTINGS``)


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


def resolve_settings(settings: str = RECOVERY, /, **overrides: Any) -> dict[str, Any]:
    """Keywords of :class:`STNMF` from named ``settings``; ``overrides`` that are not None win.

    Examples
    --------
    >>> resolve_settings("reference", sparsity=2.0)["sparsity"]
    2.0
    """
    if settings not in SETTINGS:
        raise ValueError(f"unknown settings {settings!r}; choose one of {sorted(SETTINGS)}")
    out = {k: v for k, v in SETTINGS[settings].items() if k != "label"}
    unknown = set(overrides) - set(out)
    if unknown:
        raise TypeError(f"unknown settings keywords {sorted(unknown)}; use {sorted(out)}")
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out


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


def iter_stnmf_cells(
    stimulus: Any,
    spikes: Mapping[str, Any],
    /,
    *,
    cells: Sequence[str] | None = None,
    frame_rate: float | None = None,
    frame_times: Any = None,
    lag: int = 0,
    latency: float | None = None,
    temporal_filter: Any = None,
    n_lags: int = 10,
    r: int = 20,
    settings: str = RECOVERY,
    sparsity: float | None = None,
    smoothing: float | None = None,
    normalize: bool | None = None,
    min_weight_z: float | None = None,
    min_weight_ratio: float | None = None,
    num_iter: int = 1000,
    pixel_size: float = 0,
    moransi_threshold: float = 0.25,
    seed: int | None = 0,
) -> Generator[tuple[int, int, str, float, CellResult | None], None, list[CellResult]]:
    """STNMF of many cells of one recording, yielding progress per cell.

    Every event is ``(cell index, n cells, name, fraction, result)``; ``result`` is the
    finished :class:`CellResult` (fraction 1), else None.

    ``spikes`` maps cell names to spike times (s; with ``frame_rate`` or ``frame_times``)
    or spike counts per frame. ``cells`` selects and orders cells (default all).
    ``temporal_filter="sta"`` estimates each cell's filter from its STA over ``n_lags``
    frames. ``settings`` names the defaults of ``sparsity``/``smoothing``/``normalize``
    (``core.stnmf.SETTINGS``). ``fraction`` runs from 0 to 1 within a cell. Returns one
    :class:`CellResult` per cell, in order.
    """
    names = list(spikes) if cells is None else [str(c) for c in cells]
    missing = [c for c in names if c not in spikes]
    if missing:
        raise ValueError(f"no cell named {missing}; the spike table has {list(spikes)}")
    if not names:
        raise ValueError("no cells selected")
    opts = resolve_settings(
        settings, sparsity=sparsity, smoothing=smoothing, normalize=normalize,
        min_weight_z=min_weight_z, min_weight_ratio=min_weight_ratio,
    )  # fmt: skip
    timing = {"frame_rate": frame_rate, "frame_times": frame_times}
    results = []
    step = max(1, num_iter // 50)
    for i, name in enumerate(names):
        yield i, len(names), name, 0.0, None
        t0 = time.perf_counter()
        cell = CellResult(name)
        try:
            filt = _filter(stimulus, spikes[name], temporal_filter, n_lags, timing)
            cell.temporal_filter = None if filt is None else np.asarray(filt)
            ste = spike_triggered_ensemble(
                stimulus, spikes[name], lag=lag, latency=latency, temporal_filter=filt, **timing
            )
            cell.n_spikes = int(ste.shape[-1])
            if cell.n_spikes < r:
                raise ValueError(
                    f"cell {name!r} has {cell.n_spikes} spikes inside the movie; STNMF with "
                    f"r={r} modules needs at least {r} (thousands for subunits)"
                )
            s = STNMF(
                ste, r=r, factorize=False, num_iter=num_iter, pixel_size=pixel_size,
                moransi_threshold=moransi_threshold, seed=seed, **opts,
            )  # fmt: skip
            for it, _ in s.iter_factorize(num_iter):
                if it % step == 0:
                    yield i, len(names), name, it / max(num_iter, 1), None
            cell.stnmf = s
        except (ValueError, MemoryError) as err:
            cell.error = str(err)
        cell.seconds = time.perf_counter() - t0
        results.append(cell)
        yield i, len(names), name, 1.0, cell
    return results


def stnmf_cells(stimulus: Any, spikes: Mapping[str, Any], /, **kwargs: Any) -> list[CellResult]:
    """:func:`iter_stnmf_cells` run to the end (same arguments)."""
    return drain(iter_stnmf_cells(stimulus, spikes, **kwargs))


def cells_table(results: Sequence[CellResult], /) -> list[dict[str, Any]]:
    """One summary row per cell (see :meth:`CellResult.row`)."""
    return [c.row() for c in results]


def write_cells_table(
    results: Sequence[CellResult], stem: str | os.PathLike, /, *, overwrite: bool = False
) -> dict[str, Path]:
    """The cells table as ``<stem>.csv`` and ``<stem>.json``; returns both paths."""
    from ..io.omio_io import check_output_path

    rows = cells_table(results)
    stem = Path(stem)
    out = {
        "cells_csv": check_output_path(stem.with_name(stem.name + ".csv"), overwrite=overwrite),
        "cells_json": check_output_path(stem.with_name(stem.name + ".json"), overwrite=overwrite),
    }
    with open(out["cells_csv"], "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out["cells_json"].write_text(json.dumps(rows, indent=1))
    return out


def stnmf_recording_file(
    stimulus_path: str | os.PathLike,
    output_folder: str | os.PathLike,
    /,
    *,
    spikes: str | os.PathLike,
    cells: Sequence[str] | None = None,
    stimulus_key: str | None = None,
    frame_rate: float | None = None,
    lag: int = 0,
    latency: float | None = None,
    temporal_filter: str | None = None,
    n_lags: int = 10,
    counts: bool = False,
    figure: bool = True,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> dict[str, Path]:
    """STNMF of the cells of a recording on disk: per cell modules, table, figure, report.

    ``stimulus_path`` is a movie (t, x, y) (``.npy`` memory-mapped or HDF5, read lazily);
    ``spikes`` a spike table (:func:`napari_unmix.io.spikes.read_spike_table`: CSV / NPY
    / NPZ / HDF5, one column or dataset per cell) of spike times in seconds (needs
    ``frame_rate``), or of counts per frame with ``counts=True``. Writes, in
    ``output_folder``, ``<cell>.ome.tif`` (+ ``.json``, ``.csv``, ``.png``) per cell and
    ``cells.csv`` / ``cells.json`` (spikes, subunits, diameters, coverage, time, error
    per cell). ``options`` go to :func:`iter_stnmf_cells` (``r``, ``settings``,
    ``sparsity``, ``smoothing``, ``num_iter``, ``pixel_size``, ...).
    """
    from ..io.safety import plan_outputs
    from ..io.sidecar import sidecar_path
    from ..io.spikes import read_spike_table, read_stimulus
    from .stnmf_files import _write_outputs

    def _cell_paths(folder: Path, name: str, figure: bool) -> dict[str, Path | None]:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        modules = folder / f"{safe}.ome.tif"
        return {"modules": modules, "table": folder / f"{safe}.csv",
                "figure": folder / f"{safe}.png" if figure else None,
                "sidecar": sidecar_path(modules)}  # fmt: skip

    folder = Path(output_folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; the output of a recording is a folder")
    stim = read_stimulus(stimulus_path, key=stimulus_key)
    table = read_spike_table(spikes)
    if not counts and frame_rate is None:
        raise ValueError("spike times need --frame-rate (Hz); or say the table holds counts")
    names = list(table) if cells is None else [str(c) for c in cells]
    per_cell = {name: _cell_paths(folder, name, figure) for name in names if name in table}
    inputs = (Path(stimulus_path), Path(spikes))
    folder.mkdir(parents=True, exist_ok=True)
    plan_outputs(  # every output, before the work
        [*(v for d in per_cell.values() for v in d.values()), folder / "cells.csv",
         folder / "cells.json"], inputs=inputs, overwrite=overwrite,
    )  # fmt: skip
    gen = iter_stnmf_cells(
        stim, table, cells=cells, frame_rate=None if counts else frame_rate, lag=lag,
        latency=latency, temporal_filter=temporal_filter, n_lags=n_lags, **options,
    )  # fmt: skip
    while True:
        try:
            i, n, _name, frac, _ = next(gen)
        except StopIteration as stop:
            results: list[CellResult] = stop.value
            break
        if progress is not None:
            progress(round(100 * (i + frac)), 100 * n)
    written: dict[str, Path] = {}
    for cell in results:
        if cell.stnmf is None:
            continue
        paths = per_cell[cell.name]
        extra = {"input": {"stimulus": str(stimulus_path), "spikes": str(spikes),
                           "cell": cell.name}}  # fmt: skip
        out = _write_outputs(cell.stnmf, dict(paths), overwrite=overwrite, extra=extra)
        written.update({f"{cell.name}:{k}": v for k, v in out.items()})
    written.update(write_cells_table(results, folder / "cells", overwrite=overwrite))
    return written
