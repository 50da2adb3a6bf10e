"""Shared file handling of the file-level script APIs: output formats, inputs, outputs.

``unmix``, ``unmix_picasso`` and ``nnls_unmix`` take ``output_format``:

* ``"ome-tiff"`` — the result is computed in memory and written as one OME-TIFF (OMIO).
* ``"ome-zarr"`` — the input is opened lazily (OME-Zarr, OME-TIFF through tifffile's
  Zarr interface), the result stays a dask array and is written chunk by chunk to an
  OME-Zarr store: stacks larger than memory go through, on the threaded scheduler or a
  ``dask.distributed`` cluster.

Either way the report is written as the sidecar ``<output>.json``; an OME-Zarr store also
keeps it in its attributes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import numpy as np
from dask import is_dask_collection

from ..core.validate import check_int

__all__ = [
    "OUTPUT_FORMATS",
    "check_output",
    "is_lazy_input",
    "open_input",
    "resolve_output_format",
    "save_output",
    "use_scheduler",
]

#: Output formats of the file-level functions, name -> description.
OUTPUT_FORMATS = {
    "ome-tiff": "one OME-TIFF file, computed in memory (OMIO)",
    "ome-zarr": "an OME-Zarr store (NGFF 0.4), computed and written chunk by chunk (dask)",
}


def use_scheduler(scheduler: Any = None) -> contextlib.AbstractContextManager:
    """Context in which dask computes on ``scheduler`` (None: leave dask's choice).

    ``scheduler`` is anything ``dask.config.set(scheduler=...)`` takes: "threads",
    "synchronous", "processes" or a ``dask.distributed.Client``.

    Examples
    --------
    >>> import dask.array as da
    >>> with use_scheduler("synchronous"):
    ...     int(da.ones(4, chunks=2).sum().compute())
    4
    """
    if scheduler is None:
        return contextlib.nullcontext()
    import dask

    return dask.config.set(scheduler=scheduler)


def resolve_output_format(output_format: str) -> str:
    """Normalised output format name, or a ValueError naming the choices.

    Examples
    --------
    >>> resolve_output_format("OME-Zarr")
    'ome-zarr'
    """
    fmt = str(output_format).strip().lower().replace("_", "-")
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(
            f"output_format must be one of {list(OUTPUT_FORMATS)}, got {output_format!r}"
        )
    return fmt


def is_lazy_input(path: str | os.PathLike) -> bool:
    """True for inputs that must be read lazily whatever the output (Zarr stores)."""
    from ..io.zarr_io import is_zarr_path

    return is_zarr_path(path) or Path(path).is_dir()


def check_output(
    output_path: str | os.PathLike,
    *,
    output_format: str,
    overwrite: bool,
    inputs: tuple = (),
    other_inputs: dict[str, Any] | None = None,
    companions: tuple = (),
    expected_bytes: int | None = None,
    compression_level: int = 0,
) -> Path:
    """Check the inputs and every output of a file-level call before any work is done.

    ``inputs`` are image inputs (files, or OME-Zarr stores), ``other_inputs`` maps a
    description ("spectra file") to another input file. The outputs are ``output_path``,
    its sidecar ``<output>.json`` and ``companions`` (e.g. ``<stem>_spectra.csv``); none
    may be an input (even with ``overwrite``), an existing one only with ``overwrite``,
    and the output folder must be writable with room for ``expected_bytes`` (default:
    the size of the inputs). ``compression_level`` (0-9) is checked here too, so a bad
    value is refused before any work. See :func:`~napari_unmix.io.safety.plan_outputs`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> lib = d / "lib.csv"
    >>> _ = lib.write_text("axis,a\\n1,2\\n")
    >>> check_output(d / "maps.ome.tif", output_format="ome-tiff", overwrite=True,
    ...              other_inputs={"spectra file": lib}, companions=(lib,))
    Traceback (most recent call last):
    ...
    napari_unmix.io.safety.OutputIsInputError: refusing to write ...lib.csv': it is the input file ...
    """
    from ..io.safety import check_input, input_bytes, plan_outputs
    from ..io.sidecar import sidecar_path
    from ..io.zarr_io import is_zarr_path

    check_int("compression_level", compression_level, minimum=0, maximum=9)
    images = [check_input(p, allow_store=True) for p in inputs if p is not None]
    others = [
        check_input(p, what=what) for what, p in (other_inputs or {}).items() if p is not None
    ]
    path = Path(output_path)
    zarr = output_format == "ome-zarr"
    if zarr and not is_zarr_path(path):
        raise ValueError(f"an OME-Zarr output must end in .ome.zarr or .zarr, got {path.name!r}")
    outputs = [path, sidecar_path(path), *(Path(c) for c in companions if c is not None)]
    all_inputs = [*images, *others]
    plan_outputs(
        outputs,
        inputs=all_inputs,
        overwrite=overwrite,
        expected_bytes=input_bytes(images) if expected_bytes is None else int(expected_bytes),
        directories=[path] if zarr else (),
    )
    return path


def open_input(
    path: str | os.PathLike,
    *,
    lazy: bool,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Read an input image: a lazy dask TZCYX array when ``lazy`` (or a Zarr store).

    Zarr stores are always opened lazily; with ``lazy=False`` they are then computed
    into memory, so the caller gets numpy. The spectral axis is resolved once here for
    every file-level function (``spectral_axis`` / ``spectral_units`` win over the file;
    see :mod:`napari_unmix.io.spectral_axis`); ``meta["spectral_axis_source"]`` says
    where it came from.
    """
    from ..io.omio_io import read_image
    from ..io.zarr_io import read_lazy

    axis = {"spectral_axis": spectral_axis, "spectral_units": spectral_units}
    if lazy:
        return read_lazy(path, **axis)
    if is_lazy_input(path):
        data, meta = read_lazy(path, **axis)
        return np.asarray(data.compute()), meta
    return read_image(path, **axis)


def save_output(
    output_path: str | os.PathLike,
    data: Any,
    meta: dict[str, Any],
    report: dict[str, Any],
    *,
    output_format: str,
    overwrite: bool,
    compression_level: int = 0,
    channel_names: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    scheduler: Any = None,
) -> Path:
    """Write ``data`` (TZCYX) in ``output_format`` and ``report`` as its sidecar.

    ``meta`` is the input's metadata (sizes, unit, time increment, channel names);
    ``compression_level`` 0 means none, 1–9 zlib (OME-TIFF) or Blosc zstd (OME-Zarr).
    The report gets ``output_path``, ``output_format`` and ``compression_level``.
    """
    from ..io.omio_io import write_image
    from ..io.sidecar import write_sidecar
    from ..io.zarr_io import write_zarr

    level = check_int("compression_level", compression_level, minimum=0, maximum=9)
    names = list(channel_names if channel_names is not None else meta.get("channel_names"))
    report.setdefault("spectral_axis_source", meta.get("spectral_axis_source"))
    report["output_path"] = str(output_path)
    report["output_format"] = output_format
    report["compression_level"] = level
    common = {
        "physical_size": meta.get("physical_size", (1.0, 1.0, 1.0)),
        "unit": meta.get("unit", "micron"),
        "time_increment": meta.get("time_increment", 1.0),
        "channel_names": names,
        "extra": extra,
        "overwrite": overwrite,
    }
    if output_format == "ome-zarr":
        out = write_zarr(
            output_path,
            data,
            report=report,
            compression="zstd" if level else None,
            compression_level=max(level, 1),
            scheduler=scheduler,
            levels="auto",
            **common,
        )
    else:
        if is_dask_collection(data):
            data = data.compute(scheduler=scheduler)
        out = write_image(output_path, data, compression_level=level, **common)
    write_sidecar(out, report, overwrite=overwrite)
    return out
