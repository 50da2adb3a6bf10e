"""Batches: run one file-level function over many inputs in one process, past bad files.

:func:`expand_inputs` turns files, folders and glob patterns into a list of input files;
:func:`run_batch` calls ``func(input, output, ...)`` for each one with the output named
``<output_dir>/<input stem><suffix><extension>``, skips inputs whose output exists
(unless ``overwrite``), records the reason when a file fails and goes on with the next,
and returns a :class:`BatchSummary` (done / skipped / failed with reasons). The command
line's ``--output-dir`` and :func:`napari_unmix.api.reapply.reapply` are built on it.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from napari_unmix.io.omio_io import write_image
>>> from napari_unmix.api.stack_tools import apply_stack_tool_file
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for i in range(3):
...     _ = write_image(d / f"s{i}.ome.tif", np.ones((1, 2, 1, 8, 8), np.float32))
>>> _ = (d / "broken.tif").write_bytes(b"not a tiff")
>>> summary = run_batch(
...     apply_stack_tool_file, expand_inputs(d), d / "out", prefix=("max-z",), suffix="_max"
... )
>>> summary.counts()
{'done': 3, 'skipped': 0, 'failed': 1}
>>> summary.items[0].input.name, summary.items[0].status
('broken.tif', 'failed')
>>> sorted(p.name for p in (d / "out").glob("*.tif"))
['s0_max.ome.tif', 's1_max.ome.tif', 's2_max.ome.tif']
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.progress import Progress, run_form

__all__ = [
    "BatchItem",
    "BatchSummary",
    "expand_inputs",
    "is_image_input",
    "iter_batch",
    "output_path_for",
    "run_batch",
]

_GLOB_CHARS = set("*?[")


def is_image_input(path: str | os.PathLike) -> bool:
    """True for files and stores the image readers open (OMIO types, ENVI, Zarr).

    Examples
    --------
    >>> is_image_input("a.ome.tif"), is_image_input("b.ome.zarr"), is_image_input("c.csv")
    (True, True, False)
    """
    from ..io.omio_io import is_supported_image
    from ..io.zarr_io import is_zarr_path

    return is_supported_image(path) or is_zarr_path(path)


def expand_inputs(
    inputs: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    accept: Callable[[str | os.PathLike], bool] = is_image_input,
) -> list[Path]:
    """Input files from paths, folders and glob patterns, in the order given.

    A folder (not itself a Zarr store) stands for the files and stores in it that
    ``accept`` (sorted by name, not recursive); a pattern with ``*``, ``?`` or ``[`` is
    expanded (sorted). Paths named explicitly are kept even when they do not exist or
    are of another type, so the batch reports them as failed instead of dropping them.
    Duplicates are dropped.

    Raises
    ------
    ValueError
        No inputs, a pattern that matches nothing, or a folder with no readable input.
    """
    from ..io.zarr_io import is_zarr_path

    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    if not items:
        raise ValueError("no inputs given; give files, folders or glob patterns")
    out: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir() and not is_zarr_path(p):
            found = sorted(c for c in p.iterdir() if accept(c) and not c.name.startswith("."))
            if not found:
                raise ValueError(f"the folder {text!r} holds no input this command reads")
            out.extend(found)
        elif _GLOB_CHARS & set(text) and not p.exists():
            found = sorted(Path(m) for m in glob.glob(text) if not Path(m).name.startswith("."))
            if not found:
                raise ValueError(f"no file matches {text!r}")
            out.extend(found)
        else:
            out.append(p)
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def output_path_for(
    input_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    suffix: str = "",
    extension: str = ".ome.tif",
) -> Path:
    """``<output_dir>/<input stem><suffix><extension>``.

    Examples
    --------
    >>> output_path_for("raw/cells.ome.tif", "out", suffix="_unmixed").as_posix()
    'out/cells_unmixed.ome.tif'
    """
    from ..io.spectral_axis import image_stem

    return Path(output_dir) / f"{image_stem(input_path)}{suffix}{extension}"


@dataclass
class BatchItem:
    """What happened to one input."""

    input: Path
    output: Path | None
    status: str  #: "done", "skipped" or "failed"
    message: str = ""
    seconds: float = 0.0
    result: Any = field(default=None, repr=False)


@dataclass
class BatchSummary:
    """Done / skipped / failed inputs of a batch, with reasons."""

    items: list[BatchItem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of inputs per status."""
        return {s: sum(i.status == s for i in self.items) for s in ("done", "skipped", "failed")}

    @property
    def failed(self) -> list[BatchItem]:
        return [i for i in self.items if i.status == "failed"]

    @property
    def ok(self) -> bool:
        """True when no input failed (skipped ones are fine)."""
        return not self.failed

    def lines(self) -> list[str]:
        """A one-line total, then one line per skipped or failed input."""
        c = self.counts()
        head = f"{c['done']} done, {c['skipped']} skipped, {c['failed']} failed"
        rest = [f"  {i.status} {i.input}: {i.message}" for i in self.items if i.status != "done"]
        return [head, *rest]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for reports and logs)."""
        return {
            "counts": self.counts(),
            "items": [
                {
                    "input": str(i.input),
                    "output": None if i.output is None else str(i.output),
                    "status": i.status,
                    "message": i.message,
                    "seconds": round(i.seconds, 3),
                }
                for i in self.items
            ],
        }


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def iter_batch(
    func: Callable[..., Any],
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    on_item: Callable[[BatchItem], None] | None = None,
    prefix: tuple[Any, ...] = (),
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    suffix: str = "",
    extension: str = ".ome.tif",
    overwrite: bool = False,
    pass_overwrite: bool = True,
    overwrite_hint: str = "overwrite=True",
    on_start: Callable[[int, int, Path, Path], None] | None = None,
) -> Generator[Progress, None, BatchSummary]:
    """Generator form of :func:`run_batch`: yields a :class:`~napari_unmix.core.progress.Progress`
    per finished input (``partial``: its :class:`BatchItem`) and returns the summary; docks
    run it in a worker thread with a progress bar. ``overwrite_hint`` names how the caller
    replaces outputs in "skipped" reasons (the command line says ``--overwrite``);
    ``on_start(index, total, input, output)`` is called before each input, ``on_item(item)``
    with each finished :class:`BatchItem`.
    """
    out_dir = Path(output_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"the output folder {str(out_dir)!r} is a file")
    if not out_dir.parent.exists():
        raise FileNotFoundError(f"the parent of the output folder {str(out_dir)!r} does not exist")
    folders = {Path(p).resolve().parent for p in inputs}
    if out_dir.resolve() in folders:
        raise ValueError(
            f"the output folder {str(out_dir)!r} holds inputs; choose another output folder "
            "so that the results are not taken as inputs next time"
        )
    out_dir.mkdir(exist_ok=True)
    kwargs = dict(kwargs or {})
    if overwrite and pass_overwrite:
        kwargs["overwrite"] = True
    summary = BatchSummary()
    claimed: dict[Path, Path] = {}
    for n, inp in enumerate(inputs, start=1):
        inp = Path(inp)
        out = output_path_for(inp, out_dir, suffix=suffix, extension=extension)
        if on_start is not None:
            on_start(n, len(inputs), inp, out)
        t0 = time.perf_counter()
        if out in claimed:
            item = BatchItem(
                inp, out, "failed", f"same output name as {claimed[out].name!r}; rename one"
            )
        elif out.exists() and not overwrite:
            item = BatchItem(
                inp, out, "skipped", f"{out.name} exists; pass {overwrite_hint} to replace"
            )
        else:
            try:
                result = func(*prefix, inp, out, *args, **kwargs)
            except KeyboardInterrupt:
                raise
            except Exception as err:  # keep going: the summary names the reason
                item = BatchItem(inp, out, "failed", _one_line(err))
            else:
                item = BatchItem(inp, out, "done", "", result=result)
        claimed.setdefault(out, inp)
        item.seconds = time.perf_counter() - t0
        summary.items.append(item)
        if on_item is not None:
            on_item(item)
        yield Progress(n, len(inputs), f"{item.status} {inp.name}", partial=item)
    return summary


run_batch = run_form(
    iter_batch,
    "run_batch",
    """Call ``func(*prefix, input, output, *args, **kwargs)`` for every input.

    Parameters
    ----------
    func : callable
        A file-level function (``unmix``, ``unmix_picasso``, ``nnls_unmix_file``, ...).
    inputs : sequence of paths
        Input files (see :func:`expand_inputs`).
    output_dir : path
        Folder of the outputs; created when missing (its parent must exist). It must
        not be a folder the inputs come from, so a second run does not take the outputs
        of the first as inputs.
    on_item : callable, optional
        Called with each finished :class:`BatchItem` (e.g. to print progress).
    prefix, args, kwargs, suffix, extension, overwrite, pass_overwrite, overwrite_hint, on_start
        As in :func:`iter_batch`: positional arguments before the input and after the
        output, keywords of ``func``; output ``<input stem><suffix><extension>``;
        ``overwrite`` replaces existing outputs (otherwise such inputs are skipped).

    Returns
    -------
    BatchSummary
        ``.ok`` is False when any input failed; a ``KeyboardInterrupt`` stops the batch.
    """,
    "BatchSummary",
)
