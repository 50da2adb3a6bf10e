"""STNMF outputs on disk: modules OME-TIFF + JSON report, module table CSV, figure PNG,
and the table of the cells of a recording (CSV and JSON)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .model import STNMF
from .properties import PixelSizeWarning, modules_table

__all__ = ["export_stnmf", "write_cells_table", "write_outputs", "write_rows_csv"]


def export_stnmf(
    s: STNMF,
    folder: str | os.PathLike,
    /,
    *,
    name: str = "stnmf",
    figure: bool = True,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write the modules (OME-TIFF, r as channels), the module table (CSV), the figure
    (PNG) and the report (JSON sidecar of the OME-TIFF) into ``folder``; existing files
    are an error unless ``overwrite``.

    Returns the written paths by kind (``modules``, ``sidecar``, ``table``, ``figure``).
    """
    from ...io.safety import plan_outputs
    from ...io.sidecar import sidecar_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "modules": folder / f"{name}_modules.ome.tif",
        "table": folder / f"{name}_modules.csv",
        "figure": folder / f"{name}.png" if figure else None,
    }
    plan_outputs([*paths.values(), sidecar_path(paths["modules"])], overwrite=overwrite)
    return write_outputs(s, paths, overwrite=overwrite)


def write_rows_csv(
    path: str | os.PathLike, rows: list[dict[str, Any]], /, *, overwrite: bool = False
) -> Path:
    """Write ``rows`` (dicts with the same keys) as a CSV table with a header, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_rows_csv(pathlib.Path(tempfile.mkdtemp()) / "t.csv", [{"a": 1, "b": "x"}])
    >>> p.read_text().splitlines()
    ['a,b', '1,x']
    """
    import csv

    from ...io.safety import atomic_output, plan_outputs

    path = plan_outputs([path], overwrite=overwrite)[0]
    with atomic_output(path, overwrite=overwrite) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_outputs(
    s: STNMF, paths: dict[str, Any], *, overwrite: bool, extra: dict | None = None
) -> dict[str, Path]:
    """Modules OME-TIFF + sidecar, module table CSV and (if a path is given) the figure."""
    from ...io.omio_io import write_image
    from ...io.sidecar import write_sidecar

    px = s.pixel_size or 1.0
    # modules (r, x, y) -> TZCYX with the module index as channel, x as Y and y as X
    data = np.nan_to_num(s.modules)[None, None].astype(np.float32)
    out = {"modules": Path(paths["modules"])}
    write_image(
        out["modules"], data, physical_size=(1.0, px, px),
        channel_names=[f"module {k}" for k in range(s.r)],
        extra={"stnmf_localized": [int(k) for k in s.localized]}, overwrite=overwrite,
    )  # fmt: skip
    rep = s.report
    rep.update(extra or {})
    out["sidecar"] = write_sidecar(out["modules"], rep, overwrite=overwrite)
    out["table"] = write_rows_csv(paths["table"], modules_table(s), overwrite=overwrite)
    if paths.get("figure") is not None:
        from ...plot.figure import save_figure

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            out["figure"] = save_figure(s.plot(), paths["figure"], overwrite=overwrite)
    return out


def write_cells_table(
    results: Sequence[Any], stem: str | os.PathLike, /, *, overwrite: bool = False
) -> dict[str, Path]:
    """The table of a recording's cells (one :meth:`CellResult.row` each) as ``<stem>.csv``
    and ``<stem>.json``; returns both paths."""
    from ...io.safety import plan_outputs
    from ...io.sidecar import write_json

    rows = [c.row() for c in results]
    stem = Path(stem)
    csv_path, json_path = plan_outputs(
        [stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".json")],
        overwrite=overwrite,
    )
    return {
        "cells_csv": write_rows_csv(csv_path, rows, overwrite=overwrite),
        "cells_json": write_json(json_path, rows, overwrite=overwrite),
    }
