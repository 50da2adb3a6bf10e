"""Bleed-through correction for scripts: ``unmix`` (files) and ``unmix_array`` (arrays).

``unmix`` keeps the keyword names and defaults of the ``spectral-unmixing`` package, so a
script written for it runs after changing the import. It reads any file OMIO reads, writes
the corrected stack as OME-TIFF and the report as a JSON sidecar ``<output>.json``.

Examples
--------
>>> from napari_unmix.core.synthetic import make_bleedthrough_stack
>>> data, truth = make_bleedthrough_stack(n_t=2, n_z=2, shape=(64, 64), n_cells=4,
...                                       random_state=2, noise_sigma=0)
>>> corrected, report = unmix_array(data, method="linear_fit", n_bootstrap=0)
>>> report["alpha_mode"], round(report["alpha"], 2)
('reference_t', 0.35)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.bleedthrough import (
    BleedthroughOptions,
    apply_correction,
    correct_values,
    correction_diagnostics,
    estimate_alpha,
    make_alpha_mask,
    prepare_source_target_for_alpha,
    sample_voxels,
)
from ..core.options import takes_options
from ..core.progress import Progress, Steps, run
from ..core.report import describe_array, start_report, to_jsonable
from ..core.validate import check_option_types
from ..io.sidecar import sidecar_path
from ._bleedthrough_estimate import (
    ALPHA_MODES,
    check_options,
    estimate_bleedthrough,
    estimate_bleedthrough_steps,
)

__all__ = [
    "ALPHA_MODES",
    "BleedthroughOptions",
    "estimate_alpha",
    "estimate_bleedthrough",
    "estimate_bleedthrough_steps",
    "make_alpha_mask",
    "prepare_source_target_for_alpha",
    "report_path_from_output_path",
    "unmix",
    "unmix_array",
    "unmix_array_steps",
]

_O = BleedthroughOptions  # (the defaults of unmix_array and unmix)


def report_path_from_output_path(output_path: str | os.PathLike) -> Path:
    """The JSON sidecar written next to ``output_path`` (``<output>.json``), as
    :func:`napari_unmix.io.sidecar.sidecar_path` (the name ``spectral-unmixing`` uses).

    Examples
    --------
    >>> report_path_from_output_path("out/cells.ome.tif").name
    'cells.ome.tif.json'
    """
    return sidecar_path(output_path)


def _diagnostics(data: Any, rep: dict, opts: BleedthroughOptions) -> dict:
    """Correlation and MI of source vs target, before and after, on a seeded sample."""
    s, t = rep["forward"]["source_channel"], rep["forward"]["target_channel"]
    (xs, ys), flat = sample_voxels(
        data[:, :, s], data[:, :, t], max_voxels=opts.max_alpha_voxels,
        random_state=opts.random_state,
    )  # fmt: skip
    xs, ys = xs.astype(np.float32), ys.astype(np.float32)
    plane = int(np.prod(data.shape[1:2] + data.shape[3:]))
    t_idx = (np.arange(xs.size) if flat is None else flat) // plane
    a = np.asarray(rep["alpha_by_t"], np.float32)[t_idx]
    ar = None
    if rep["reverse"] is not None:
        ar = np.asarray(rep["alpha_reverse_by_t"], np.float32)[t_idx]
    new_s, new_t = correct_values(xs, ys, a, ar, clip=opts.clip_negative)
    d = correction_diagnostics(xs, ys, new_t, mi_bins=opts.mi_bins)
    if new_s is not None:
        after = correction_diagnostics(new_s, ys, new_t, mi_bins=opts.mi_bins)
        d["pearson_after"], d["mi_after"] = after["pearson_after"], after["mi_after"]
    return d


def unmix_array_steps(
    data: Any,
    options: BleedthroughOptions | None = None,
    /,
    *,
    alpha: Any = None,
    alpha_reverse: Any = None,
    out: np.ndarray | None = None,
) -> Steps:
    """Generator form of :func:`unmix_array`: yields
    :class:`~napari_unmix.core.progress.Progress`, returns ``(corrected, report)``.

    ``options``: the settings (default :class:`BleedthroughOptions()`); the keywords as in
    :func:`unmix_array`. Widgets run it in a ``thread_worker``; scripts use
    :func:`unmix_array`.
    """
    opts = BleedthroughOptions() if options is None else options
    params = {**opts.as_dict(), "alpha": alpha, "alpha_reverse": alpha_reverse}
    params["output_dtype"] = str(opts.output_dtype)
    report = start_report("bleedthrough", params, {"data": describe_array(data, axes="TZCYX")})
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    est = yield from estimate_bleedthrough_steps(
        data, opts, alpha=alpha, alpha_reverse=alpha_reverse
    )
    est.pop("estimates")
    diagnostics = to_jsonable(_diagnostics(data, est, opts))
    yield Progress(0, 1, "applying the correction")
    corrected = apply_correction(
        data,
        est["alpha_by_t"],
        source_channel=est["forward"]["source_channel"],
        target_channel=est["forward"]["target_channel"],
        alpha_reverse=est["alpha_reverse_by_t"],
        clip_negative=opts.clip_negative,
        output_dtype=opts.output_dtype,
        out=out,
    )
    report.update(to_jsonable(est))
    report["diagnostics"] = diagnostics
    report.update(
        axis_order="TZCYX",
        output_dtype=str(corrected.dtype),
        output_shape=list(corrected.shape),
        clip_negative=opts.clip_negative,
        bidirectional=est["reverse"] is not None,
    )
    return corrected, report


def _printer(verbose: bool) -> Callable[[Progress], None] | None:
    """Print each event's message (``verbose``), or nothing."""
    if not verbose:
        return None
    return lambda event: print(event.message, flush=True)


@takes_options(BleedthroughOptions)
def unmix_array(
    data: Any,
    /,
    *,
    alpha: Any = None,
    alpha_reverse: Any = None,
    verbose: bool = False,
    out: np.ndarray | None = None,
    options: BleedthroughOptions,
) -> tuple[Any, dict]:
    """Correct bleed-through in a TZCYX array; return ``(corrected, report)``.

    Parameters are those of :func:`unmix` (without the paths; the keywords are generated
    from :class:`BleedthroughOptions`), plus ``n_bootstrap``
    (bootstrap resamples for the 95% interval of every estimated alpha; 0 to skip) and
    ``out`` (see :func:`~napari_unmix.core.bleedthrough.apply_correction`).
    ``alpha`` and ``alpha_reverse`` may be one value per time point in ``fixed`` mode.
    A dask array stays lazy (estimation reads it block by block; the same alphas as
    numpy input).

    Returns
    -------
    corrected : array of the input's type, TZCYX
    report : dict
        Settings, alpha per direction and time point with 95% intervals, mask sizes and
        fallbacks, diagnostics (Pearson and MI before/after), versions, input description.
    """
    steps = unmix_array_steps(data, options, alpha=alpha, alpha_reverse=alpha_reverse, out=out)
    return run(steps, _printer(verbose))


def unmix(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    alpha: Any = None,
    alpha_mode: str | None = _O.alpha_mode,
    alpha_reference_t: int = _O.alpha_reference_t,
    source_channel: int = _O.source_channel,
    target_channel: int = _O.target_channel,
    signal_percentile: float = _O.signal_percentile,
    target_low_percentile: float | None = _O.target_low_percentile,
    background_percentile: float = _O.background_percentile,
    clip_negative: bool = _O.clip_negative,
    output_dtype: Any = _O.output_dtype,
    verbose: bool = True,
    method: str = _O.method,
    bidirectional: bool = _O.bidirectional,
    alpha_reverse: Any = None,
    method_reverse: str | None = _O.method_reverse,
    preprocess_alpha_inputs: bool = _O.preprocess_alpha_inputs,
    alpha_max: float = _O.alpha_max,
    signal_percentile_reverse: float | None = _O.signal_percentile_reverse,
    background_percentile_reverse: float | None = _O.background_percentile_reverse,
    target_low_percentile_reverse: float | None = _O.target_low_percentile_reverse,
    alpha_max_reverse: float | None = _O.alpha_max_reverse,
    mi_bins: int = _O.mi_bins,
    mi_bins_reverse: int | None = _O.mi_bins_reverse,
    max_alpha_voxels: int | None = _O.max_alpha_voxels,
    random_state: Any = _O.random_state,
    min_mask_voxels: int = _O.min_mask_voxels,
    *,
    n_bootstrap: int = _O.n_bootstrap,
    output_format: str = "ome-tiff",
    overwrite: bool = False,
    compression_level: int = 0,
    scheduler: Any = None,
) -> Path:
    """Remove the bleed-through of one channel into another from an image file.

    Reads ``input_path`` with OMIO (OME-TIFF, TIFF, LSM, CZI), corrects the target channel
    (both channels when ``bidirectional``), writes the TZCYX result to ``output_path`` as
    OME-TIFF and the report as ``<output_path>.json``. Keyword names and defaults are those
    of ``spectral_unmixing.unmix``.

    Parameters
    ----------
    input_path, output_path : str or PathLike
        Input image; output file (never the input; an existing file only with
        ``overwrite=True``).
    alpha : float or sequence of float, optional
        Bleed-through coefficient: one value, or one per time point. Given and
        ``alpha_mode=None``: used as is ("fixed"); with "per_t" it must be one value per
        time point; with "reference_t" it is refused (that mode estimates).
    alpha_mode : {"fixed", "reference_t", "per_t"}, optional
        One given alpha; one estimated from time point ``alpha_reference_t`` (all its
        z-slices) and applied to every time point; or one estimated per time point.
        ``None``: "fixed" when alpha is given, else "reference_t" ("manual" without alpha
        is an error).
    alpha_reference_t : int
        Time point used by "reference_t".
    source_channel, target_channel : int
        The channel that bleeds, and the channel it bleeds into.
    signal_percentile : float
        Estimation mask: source voxels at or above this percentile.
    target_low_percentile : float, optional
        Also require the target at or below this percentile (falls back to the
        source-only mask, recorded in the report, if fewer than ``min_mask_voxels`` remain).
    background_percentile : float
        Percentile subtracted from each channel before estimation (only for estimation).
    clip_negative : bool
        Clip corrected values at 0.
    output_dtype : str
        "float32" (default), another numeric dtype (integers are rounded and clipped), or
        "same".
    verbose : bool
        Print progress and the estimated coefficients.
    method : {"manual", "mean_ratio", "linear_fit", "corr_min", "mi_min"}
        Estimator (see :data:`napari_unmix.core.bleedthrough.ALPHA_METHODS`).
    bidirectional : bool
        Also estimate/use the target-to-source coefficient and invert the 2x2 model.
    alpha_reverse, method_reverse, signal_percentile_reverse, background_percentile_reverse, target_low_percentile_reverse, alpha_max_reverse, mi_bins_reverse
        Reverse-direction settings; ``None`` inherits the forward value.
    preprocess_alpha_inputs : bool
        Background-subtract and clip before estimation.
    alpha_max : float
        Search bound of "corr_min" and "mi_min".
    mi_bins : int
        Histogram bins for "mi_min" and the MI diagnostics.
    max_alpha_voxels : int or None
        Per estimation (one volume, all z): a volume of at most this many voxels uses
        every voxel; a larger one gets the exact whole-volume percentiles and mask (as the
        reference), then at most this many mask voxels drawn with ``random_state``. numpy
        and dask input give the same alpha bit for bit (dask is read block by block).
    random_state : int or None
        Seed of the subsample and bootstrap ("per_t": ``random_state + t``; reverse:
        ``+ 10000``).
    min_mask_voxels : int
        Minimum mask size.
    n_bootstrap : int
        Bootstrap resamples for the 95% interval of each estimated alpha (0: none); at
        most 2048 mask voxels each (m-out-of-n), so the interval costs little.
    output_format : {"ome-tiff", "ome-zarr"}
        "ome-tiff" (default): computed in memory, one OME-TIFF file. "ome-zarr": the input
        (OME-Zarr, OME-TIFF) is read lazily, alpha is estimated exactly in a few bounded-memory passes and
        the corrected stack is written chunk by chunk to an OME-Zarr store
        (``output_path`` ending in ``.ome.zarr``): for stacks larger than memory. A Zarr
        input is always read lazily.
    overwrite : bool
        Replace an existing output file and sidecar.
    compression_level : int
        0–9; 0 (default): no compression (corrected float32 data compress poorly and
        uncompressed writes several times faster); 1–9: zlib (OME-TIFF) or Blosc zstd
        (OME-Zarr) at that level.
    scheduler : optional
        Dask scheduler for the lazy path, e.g. a ``dask.distributed.Client`` (default:
        the active one, or dask's threads).

    Returns
    -------
    Path
        The written OME-TIFF or OME-Zarr store; its report is ``report_path_from_output_path(path)``.
    """
    check_option_types(unmix, locals())
    opts = BleedthroughOptions.pick(locals())
    given = {"alpha": alpha, "alpha_reverse": alpha_reverse}
    from . import _files as files  # (file support is imported when a file is used)

    fmt = files.resolve_output_format(output_format)
    check_options(opts, **given)  # everything that needs no data, before reading the input
    input_path, output_path = Path(input_path), Path(output_path)
    writing = {"output_format": fmt, "overwrite": overwrite, "compression_level": compression_level}
    files.check_output(output_path, inputs=(input_path,), **writing)
    with files.use_scheduler(scheduler):
        if verbose:
            print(f"reading {input_path}", flush=True)
        if fmt == "ome-zarr" or files.is_lazy_input(input_path):
            # lazy: estimation streams bounded-memory passes, the correction goes chunk by chunk
            data, meta = files.open_input(input_path, lazy=True)
            steps = unmix_array_steps(data, opts, **given)
        else:
            data, meta = files.open_input(input_path, lazy=False)
            # the stack just read is ours, not the caller's: correct it in place when the
            # output dtype allows (one stack-sized buffer instead of two: faster, half the memory)
            same = str(output_dtype).lower() in {"same", "input"}
            try:
                in_place = same or np.dtype(output_dtype) == data.dtype
            except TypeError:
                in_place = False  # an invalid dtype: unmix_array says what is wrong
            steps = unmix_array_steps(data, opts, out=data if in_place else None, **given)
        corrected, report = run(steps, _printer(verbose))
        del data, steps
        if verbose:
            print(
                f"writing {output_path} ({fmt}, compression level {compression_level})", flush=True
            )
        report["inputs"]["input_path"] = str(input_path)
        report["channel_names"] = meta["channel_names"]
        report["physical_size_zyx"] = list(meta["physical_size"])
        out = files.save_output(output_path, corrected, meta, report, **writing)
    if verbose:
        print(f"report: {report_path_from_output_path(out)}", flush=True)
    return out
