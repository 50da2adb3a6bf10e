"""Script API of the stack tools: array- and file-level, each result with a report.

The plain array functions (:func:`~napari_unmix.core.stack_tools.apply_filters`,
``register_stack``, ...) keep the names and call style of ``spectral-unmixing`` and
return arrays; the functions here add the provenance record (and, for files, the JSON
sidecar) around any tool of :data:`~napari_unmix.core.stack_tools.STACK_TOOLS`.

Examples
--------
>>> import numpy as np
>>> stack = np.ones((2, 3, 2, 8, 8), np.uint16)
>>> out, report = apply_stack_tool("max-z", stack, zrange=(0, 2))
>>> out.shape, report["tool"], report["parameters"]["zrange"]
((2, 1, 2, 8, 8), 'stack_tools.max-z', [0, 2])
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..core.options import takes_options
from ..core.progress import Progress, Steps, run
from ..core.report import describe_array, start_report, to_jsonable
from ..core.stack_tools import (
    STACK_TOOLS,
    StackToolResult,
)

__all__ = [
    "apply_stack_tool",
    "apply_stack_tool_file",
    "convert_time_encoded_stack_to_channel_stack",
    "iter_stack_tool",
]

# Every option of every tool with its (common) default: the keywords of the functions below.
_DEFAULTS: dict[str, Any] = {}
for _tool in STACK_TOOLS.values():
    _DEFAULTS.update(_tool.options.defaults())


#: The keywords of the functions below: every field of every tool (generated, see
#: :func:`~napari_unmix.core.options.takes_options`); the functions get one options object
#: per tool and keep those of the tool asked for.
_takes_tool_options = takes_options(*(_tool.options for _tool in STACK_TOOLS.values()))


def _values(options: tuple) -> dict[str, Any]:
    return {k: v for opts in options for k, v in opts.as_dict().items()}


def _tool_options(tool: str, values: dict[str, Any]) -> tuple[Any, Any]:
    """``(method, options)`` of ``tool`` from a function's keywords; a keyword the tool
    does not take is refused when it is not left at its default."""
    method = STACK_TOOLS.resolve(tool)
    names = {s.name for s in method.options.specs()}
    given = {k: v for k, v in values.items() if k in _DEFAULTS}
    foreign = [k for k, v in given.items() if k not in names and _differs(v, _DEFAULTS[k])]
    if foreign:
        raise TypeError(
            f"the {tool!r} stack tool takes no option {foreign}; its options: {sorted(names)}"
        )
    return method, method.options.pick(given)


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # arrays
        return True


class _NotingWarnings:
    """Iterator over ``steps`` copying the text of every warning it raises into ``notes``.

    Warnings are caught only around each step (never across a ``yield``) and raised
    again, so callers still see them; ``yield from`` returns the steps' result.
    """

    def __init__(self, steps: Steps, notes: list[str]) -> None:
        self.steps, self.notes = steps, notes

    def __iter__(self) -> _NotingWarnings:
        return self

    def __next__(self) -> Progress:
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                return next(self.steps)
        finally:
            for w in caught:
                self.notes.append(str(w.message))
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _run_tool(tool: str, stack: Any, values: dict[str, Any]) -> Steps:
    """The generator behind the functions below: Progress events, then a
    :class:`~napari_unmix.core.stack_tools.StackToolResult` with its report."""
    method, opts = _tool_options(tool, values)
    t0 = time.perf_counter()
    report = start_report(
        f"stack_tools.{tool}",
        {"tool": tool, **opts.as_dict()},
        {"stack": describe_array(stack, axes="TZCYX")},
    )
    notes: list[str] = []
    res: StackToolResult = yield from _NotingWarnings(method.function(stack, opts), notes)
    results: dict[str, Any] = {}
    if notes:  # e.g. time points left unmoved because no shift was plausible
        results["warnings"] = notes
    if res.shifts is not None:
        results["shifts_yx"] = np.round(res.shifts, 4)
        results["max_abs_shift_px"] = float(np.abs(res.shifts).max())
    results["output"] = describe_array(res.data, axes="TZCYX")
    results["seconds"] = round(time.perf_counter() - t0, 3)
    report["results"] = to_jsonable(results)
    report["description"] = method.doc
    res.report = report
    return res


def iter_stack_tool(
    tool: str, stack: Any, /, options: Mapping[str, Any] | None = None
) -> Generator[Progress, None, StackToolResult]:
    """Generator form of :func:`apply_stack_tool`, with the tool's ``options`` as a mapping
    (the keywords of :func:`apply_stack_tool`): yields
    :class:`~napari_unmix.core.progress.Progress`, returns a
    :class:`~napari_unmix.core.stack_tools.StackToolResult` (``.data``, ``.report``,
    ``.to_result()``). Docks run it in a ``thread_worker`` (progress and cancel).

    Examples
    --------
    >>> import numpy as np
    >>> from napari_unmix.core.progress import run
    >>> res = run(iter_stack_tool("filter", np.zeros((1, 1, 1, 8, 8)), {"filters": "median"}))
    >>> res.report["parameters"]["filters"], res.data.shape
    (['median'], (1, 1, 1, 8, 8))
    """
    values = dict(options or {})
    unknown = sorted(set(values) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown stack tool option(s) {unknown}; options: {sorted(_DEFAULTS)}")
    return (yield from _run_tool(tool, stack, values))


@_takes_tool_options
def apply_stack_tool(
    tool: str,
    stack: Any,
    /,
    *,
    options: tuple,
) -> tuple[Any, dict[str, Any]]:
    """Run one stack tool on a TZCYX array and return ``(result, report)``.

    Parameters
    ----------
    tool : str
        A key of :data:`~napari_unmix.core.stack_tools.STACK_TOOLS`: ``"filter"``,
        ``"match-histograms"``, ``"max-z"``, ``"z-drift"`` or ``"register"``.
    stack : array, TZCYX
        numpy or dask.
    filters, median_size, ..., interpolation_order : keyword
        The options of the tool (the fields of its options class, e.g.
        :class:`~napari_unmix.core.stack_tools.FilterOptions`); an option of another
        tool is refused unless left at its default.

    Returns
    -------
    result : array
        TZCYX.
    report : dict
        Parameters, input description, versions and ``results`` (for ``"z-drift"`` and
        ``"register"``: the shifts in pixels, ``shifts_yx``; ``warnings``: the text of
        every warning, e.g. time points left unmoved because no shift was plausible).

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.zeros((2, 1, 1, 16, 16), np.float32)
    >>> stack[..., 4:9, 4:9] = 1
    >>> out, rep = apply_stack_tool("register", stack, registration_channel=0)
    >>> len(rep["results"]["shifts_yx"])
    2
    """
    res = run(_run_tool(tool, stack, _values(options)))
    return res.data, res.report


@_takes_tool_options
def apply_stack_tool_file(
    tool: str,
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    /,
    *,
    overwrite: bool = False,
    progress: Callable[[Progress], None] | None = None,
    options: tuple,
) -> Path:
    """Run one stack tool on an image file and write the result with its JSON sidecar.

    The output keeps the input's voxel size, time increment, channel names and the
    metadata napari-unmix stored in it; the report is written to ``<output>.json``.

    Parameters
    ----------
    tool : str
        See :func:`apply_stack_tool`.
    input_path, output_path : path
        Any file OMIO reads; the output is OME-TIFF. The output must not exist (unless
        ``overwrite``) and must not be the input.
    overwrite : bool
        Replace an existing output and sidecar.
    progress : callable, optional
        Called with each :class:`~napari_unmix.core.progress.Progress` event.
    filters, median_size, ..., interpolation_order : keyword
        The options of the tool, see :func:`apply_stack_tool`.

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from napari_unmix.io.omio_io import write_image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> src = write_image(d / "in.ome.tif", np.ones((1, 3, 1, 8, 8), np.uint16))
    >>> apply_stack_tool_file("max-z", src, d / "mip.ome.tif").name
    'mip.ome.tif'
    """
    from ..io.omio_io import read_image, write_image
    from ..io.sidecar import write_sidecar
    from ._files import check_output

    values = _values(options)
    _tool_options(tool, values)  # bad options fail before any file is touched
    output_path = check_output(
        output_path, output_format="ome-tiff", overwrite=overwrite, inputs=(input_path,)
    )
    data, meta = read_image(input_path)
    res = run(_run_tool(tool, data, values), progress)
    report = res.report
    report["inputs"]["input_path"] = str(Path(input_path).resolve())
    path = write_image(
        output_path,
        np.asarray(res.data),
        physical_size=meta["physical_size"],
        unit=meta["unit"],
        time_increment=meta["time_increment"],
        channel_names=meta["channel_names"],
        extra=meta.get("extra") or None,
        overwrite=overwrite,
    )
    report["output_path"] = str(path.resolve())
    write_sidecar(path, report, overwrite=overwrite)
    return path


def convert_time_encoded_stack_to_channel_stack(
    input_path: str | os.PathLike, output_path: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Rewrite a file whose "time" axis really holds channels: ``C=1, T=n`` → ``T=1, C=n``.

    Some acquisitions store successive channels as time points. The output has the
    same voxel size; channel names ``C0..C{n-1}``; a JSON sidecar records the conversion.

    Parameters
    ----------
    input_path, output_path : path
        Input readable by OMIO with one channel and more than one time point; OME-TIFF
        output (must not exist unless ``overwrite``).
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        The input has more than one channel, or a single time point.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from napari_unmix.io.omio_io import read_image, write_image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> src = write_image(d / "t.ome.tif", np.zeros((3, 2, 1, 8, 8), np.uint16))
    >>> out = convert_time_encoded_stack_to_channel_stack(src, d / "c.ome.tif")
    >>> read_image(out)[0].shape
    (1, 2, 3, 8, 8)
    """
    from ..io.omio_io import read_image, write_image
    from ..io.sidecar import write_sidecar
    from ._files import check_output

    output_path = check_output(
        output_path, output_format="ome-tiff", overwrite=overwrite, inputs=(input_path,)
    )
    data, meta = read_image(input_path)
    n_t, _, n_c = data.shape[:3]
    if n_c != 1:
        raise ValueError(
            f"expected a single-channel stack whose time axis holds the channels, got "
            f"{n_c} channels (shape {data.shape}, axes TZCYX); it needs no conversion"
        )
    if n_t < 2:
        raise ValueError(
            f"the stack has a single time point (shape {data.shape}, axes TZCYX); "
            "there is nothing to move to the channel axis"
        )
    converted = np.swapaxes(data, 0, 2)  # (T, Z, 1, Y, X) -> (1, Z, T, Y, X)
    report = start_report(
        "stack_tools.convert_time_to_channels",
        {},
        {
            "stack": describe_array(data, axes="TZCYX"),
            "input_path": str(Path(input_path).resolve()),
        },
    )
    report["results"] = {"output": describe_array(converted, axes="TZCYX")}
    path = write_image(
        output_path,
        converted,
        physical_size=meta["physical_size"],
        unit=meta["unit"],
        channel_names=[f"C{i}" for i in range(n_t)],
        overwrite=overwrite,
    )
    report["output_path"] = str(path.resolve())
    write_sidecar(path, report, overwrite=overwrite)
    return path
