"""Re-apply a saved result to other files: the parameters and estimated coefficients of a run.

Every file-level function writes its report as a JSON sidecar (``<output>.json``). This
module turns such a report back into keywords of the function that made it, with the
estimated coefficients fixed, so new files get exactly the same correction:

* bleed-through (``unmix``): ``alpha`` (and ``alpha_reverse``) with ``alpha_mode="fixed"``;
* PICASSO (``unmix_picasso``): the estimated ``unmixing_matrix`` with ``alpha_mode="fixed"``
  and the same channels;
* NNMF / NNLS: the fitted (or given) spectra H, applied by fixed-H NNLS
  (``nnls_unmix_file``) from the spectra CSV the run wrote;
* stack tools: the same tool and options.

:func:`reapply_plan` gives the function and keywords (the command line's
``--from-report`` uses it); :func:`reapply` runs them over files, folders or globs as a
batch (:func:`napari_unmix.api.batch.run_batch`).

Examples
--------
>>> import tempfile, pathlib
>>> from napari_unmix.core.synthetic import make_bleedthrough_stack
>>> from napari_unmix.io.omio_io import write_image
>>> from napari_unmix.api.bleedthrough import unmix
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> data, truth = make_bleedthrough_stack()
>>> first = write_image(d / "first.ome.tif", data)
>>> _ = unmix(first, d / "first_unmixed.ome.tif", verbose=False)
>>> new = d / "new"; new.mkdir()
>>> _ = write_image(new / "a.ome.tif", data[:1])
>>> summary = reapply(d / "first_unmixed.ome.tif.json", new, output_dir=d / "out")
>>> summary.counts()["done"], [p.name for p in sorted((d / "out").glob("*.tif"))]
(1, ['a_unmix.ome.tif'])
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from ..core.progress import Progress, run_form

__all__ = ["ReapplyPlan", "iter_reapply", "read_report", "reapply", "reapply_plan"]

#: Keywords never taken from a report: they describe the old run's files and display.
_NOT_REUSED = {
    "input_path", "output_path", "overwrite", "verbose", "progress", "scheduler",
    "output_format", "compression_level", "axes", "detail", "spectral_axis",
}  # fmt: skip


@dataclass
class ReapplyPlan:
    """The function to call and the keywords that re-apply a report."""

    tool: str
    target: str  #: "module:function"
    keywords: dict[str, Any]
    prefix: tuple[Any, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)  #: positional arguments by name
    suffix: str = ""

    def function(self) -> Callable[..., Any]:
        module, _, attr = self.target.partition(":")
        return getattr(import_module(module), attr)


def read_report(report: dict[str, Any] | str | os.PathLike) -> tuple[dict[str, Any], Path | None]:
    """The report dict and the folder it was read from (None for a dict).

    ``report`` is a dict, a sidecar ``.json`` or the output file it belongs to.
    """
    if isinstance(report, dict):
        return report, None
    from ..io.sidecar import read_sidecar, sidecar_path

    path = Path(report)
    if path.suffix.lower() != ".json":
        path = sidecar_path(path)
    rep = read_sidecar(path)
    if not isinstance(rep, dict) or "tool" not in rep:
        raise ValueError(f"{path.name!r} is not a napari-unmix report (no 'tool' entry)")
    return rep, path.parent


def _same_or_list(values: Any) -> Any:
    """One value when all time points share it, else the list (one per time point)."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    if arr.size and np.all(arr == arr.reshape(arr.shape[0], -1)[0].reshape(arr.shape[1:])):
        first = arr[0]
        return float(first) if first.ndim == 0 else first.tolist()
    return arr.tolist()


def _accepted(target: str, params: dict[str, Any]) -> dict[str, Any]:
    module, _, attr = target.partition(":")
    sig = inspect.signature(getattr(import_module(module), attr))
    names = {
        n
        for n, p in sig.parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n not in _NOT_REUSED
    }
    return {k: v for k, v in params.items() if k in names}


def _bleedthrough(rep: dict[str, Any], folder: Path | None) -> ReapplyPlan:
    target = "napari_unmix.api.bleedthrough:unmix"
    kw = _accepted(target, rep.get("parameters", {}))
    alpha = _same_or_list(rep.get("alpha_by_t", rep.get("alpha")))
    if alpha is None:
        raise ValueError("the bleed-through report holds no alpha to re-apply")
    kw.update(alpha=alpha, alpha_mode="fixed")
    reverse = _same_or_list(rep.get("alpha_reverse_by_t", rep.get("alpha_reverse")))
    if reverse is not None:
        kw.update(alpha_reverse=reverse, bidirectional=True)
    for key in ("source_channel", "target_channel"):
        if key in (rep.get("forward") or {}):
            kw[key] = rep["forward"][key]
    return ReapplyPlan("bleedthrough", target, kw, suffix="_unmix")


def _picasso(rep: dict[str, Any], folder: Path | None) -> ReapplyPlan:
    target = "napari_unmix.api.picasso:unmix_picasso"
    params = dict(rep.get("parameters", {}))
    result = rep.get("result") or {}
    matrices = result.get("unmixing_matrix_by_t")
    if not matrices:
        raise ValueError("the PICASSO report holds no unmixing matrix to re-apply")
    kw = _accepted(target, params)
    for key in ("reference_compatible", "output_units"):  # options through **options
        if key in params:
            kw[key] = params[key]
    kw.update(
        alpha_mode="fixed",
        unmixing_matrix=_same_or_list(_picasso_linear(result, matrices)),
        fixed_background=_same_or_list(result.get("background_by_t")),
        channels=result.get("channels", params.get("channels")),
    )
    kw.pop("source_sink_matrix", None)
    return ReapplyPlan("picasso", target, kw, suffix="_picasso")


def _picasso_linear(result: dict[str, Any], matrices: Any) -> Any:
    """The matrices acting on the background-subtracted channels that give the run's output.

    A linear (source-sink) run applied ``matrix @ (I - background)``. A MATLAB-scheme run
    replayed its loop on ``(I - background) / scale`` and multiplied by ``output_scale``:
    the same linear map is ``diag(output_scale / scale) @ matrix``; the loop's clipping at
    zero is not replayed (re-applied MATLAB results differ where it clipped).
    """
    out_scale = result.get("output_scale_by_t")
    if result.get("mode") != "replay" or out_scale is None:
        return matrices
    factor = np.asarray(out_scale, np.float64) / np.asarray(
        result["normalization_by_t"], np.float64
    )
    return (factor[:, :, None] * np.asarray(matrices, np.float64)).tolist()


def _spectra_csv(rep: dict[str, Any], folder: Path | None) -> Path:
    stored = (rep.get("outputs") or {}).get("H")
    if not stored:
        raise ValueError("the report names no spectra file (outputs.H) to re-apply")
    for cand in (Path(stored), *(() if folder is None else (folder / Path(stored).name,))):
        if cand.is_file():
            return cand
    raise FileNotFoundError(
        f"the spectra file of the report, {stored!r}, is gone; keep it beside the report"
    )


def _nnls(rep: dict[str, Any], folder: Path | None) -> ReapplyPlan:
    csv_path = _spectra_csv(rep, folder)
    if np.ndim(rep.get("H")) == 3:
        raise ValueError(
            "the report holds one set of spectra per slice; re-apply one slice's spectra "
            "by giving nnls a spectra CSV"
        )
    names = (rep.get("parameters") or {}).get("names")
    kw = {"names": names} if names else {}
    return ReapplyPlan(
        str(rep.get("tool")),
        "napari_unmix.api.nmf:nnls_unmix_file",
        kw,
        args={"spectra_path": csv_path},
        suffix="_nnls",
    )


def _stack_tool(rep: dict[str, Any], folder: Path | None) -> ReapplyPlan:
    params = dict(rep.get("parameters") or {})
    tool = params.pop("tool", str(rep["tool"]).partition(".")[2])
    kw = {k: (tuple(v) if isinstance(v, list) and k == "zrange" else v) for k, v in params.items()}
    return ReapplyPlan(
        f"stack_tools.{tool}",
        "napari_unmix.api.stack_tools:apply_stack_tool_file",
        kw,
        prefix=(tool,),
        suffix=f"_{tool.replace('-', '_')}",
    )


#: Report ``tool`` -> how its run is re-applied.
PLANS: dict[str, Callable[[dict[str, Any], Path | None], ReapplyPlan]] = {
    "bleedthrough": _bleedthrough,
    "picasso": _picasso,
    "nnls_unmix": _nnls,
    "seeded_nnmf": _nnls,
    "random_nnmf": _nnls,
}


def reapply_plan(report: dict[str, Any] | str | os.PathLike) -> ReapplyPlan:
    """How to re-apply ``report``: the function, its keywords and positional arguments.

    Raises
    ------
    ValueError
        A report of a tool that cannot be re-applied, or without its coefficients.
    """
    rep, folder = read_report(report)
    tool = str(rep.get("tool"))
    if tool.startswith("stack_tools."):
        return _stack_tool(rep, folder)
    if tool not in PLANS:
        raise ValueError(
            f"cannot re-apply a {tool!r} report; re-applicable are {sorted(PLANS)} and the "
            "stack tools"
        )
    return PLANS[tool](rep, folder)


def iter_reapply(
    report: dict[str, Any] | str | os.PathLike,
    inputs: str | os.PathLike | Iterable[str | os.PathLike],
    /,
    *,
    output_dir: str | os.PathLike,
    overwrite: bool = False,
    suffix: str | None = None,
    output_format: str = "ome-tiff",
    overrides: Mapping[str, Any] | None = None,
) -> Generator[Progress, None, Any]:
    """Generator form of :func:`reapply`: yields a :class:`~napari_unmix.core.progress.Progress`
    after each input (``partial``: its :class:`~napari_unmix.api.batch.BatchItem`) and returns the :class:`~napari_unmix.api.batch.BatchSummary`; the plan, the
    inputs and the output folder are checked before the first file."""
    from ._files import resolve_output_format
    from .batch import expand_inputs, iter_batch

    plan = reapply_plan(report)
    kw = {**plan.keywords, **(overrides or {})}
    fmt = resolve_output_format(output_format)
    if fmt != "ome-tiff":
        kw["output_format"] = fmt
    if "verbose" in inspect.signature(plan.function()).parameters:
        kw.setdefault("verbose", False)
    files = expand_inputs(inputs)
    gen = iter_batch(
        plan.function(),
        files,
        output_dir,
        prefix=plan.prefix,
        args=tuple(plan.args.values()),
        kwargs=kw,
        suffix=plan.suffix if suffix is None else suffix,
        extension=".ome.zarr" if fmt == "ome-zarr" else ".ome.tif",
        overwrite=overwrite,
    )
    return (yield from gen)


reapply = run_form(
    iter_reapply,
    "reapply",
    """Apply the parameters and estimated coefficients of ``report`` to other files.

    Parameters
    ----------
    report : dict or path
        A report, its sidecar ``.json``, or the output file the sidecar belongs to.
    inputs : path, folder, glob pattern, or a list of them
        See :func:`napari_unmix.api.batch.expand_inputs`.
    output_dir : path
        Outputs are ``<output_dir>/<input stem><suffix>.ome.tif`` (``.ome.zarr`` with
        ``output_format="ome-zarr"``).
    overwrite : bool
        Replace existing outputs (default: inputs whose output exists are skipped).
    suffix : str, optional
        Default by tool (``_unmix``, ``_picasso``, ``_nnls``, ``_<stack tool>``).
    output_format : {"ome-tiff", "ome-zarr"}
        For the tools that take it (bleed-through, PICASSO, NNLS).
    overrides : mapping, optional
        Keywords that replace the report's (e.g. ``{"clip_negative": False}``).

    Returns
    -------
    BatchSummary
        Done / skipped / failed inputs with reasons (:class:`~napari_unmix.api.batch.BatchSummary`).
    """,
    "BatchSummary",
)
