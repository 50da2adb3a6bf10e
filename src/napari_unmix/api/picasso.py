"""Script API for PICASSO blind unmixing: ``unmix_picasso`` (files) and ``unmix_picasso_array``.

``unmix_picasso`` takes the parameter names of the ``spectral-unmixing`` package, so a
script switches by changing its import.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..core.axes import to_tzcyx
from ..core.picasso import PicassoResult, apply_picasso, iter_estimate_picasso
from ..core.report import describe_array, start_report
from ..core.validate import check_option_types

__all__ = ["PicassoRun", "iter_unmix_picasso_array", "unmix_picasso", "unmix_picasso_array"]


class PicassoRun(NamedTuple):
    """What one PICASSO run produced: the unmixed stack, its report, the core result."""

    unmixed: Any
    report: dict[str, Any]
    result: PicassoResult


def iter_unmix_picasso_array(
    data: Any, /, options: Mapping[str, Any] | None = None
) -> Generator[dict, None, PicassoRun]:
    """:func:`unmix_picasso_array` as a generator: yields its progress dicts, returns a
    :class:`PicassoRun` (unmixed stack, report and the core result).

    ``options`` are keyword arguments of :func:`unmix_picasso_array` (``channels``
    included, ``progress`` excluded); unknown names are refused. The dock runs this in
    its worker and scripts call :func:`unmix_picasso_array`: one code path.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_picasso_mix
    >>> data, _ = make_picasso_mix(shape=(32, 32))
    >>> gen = iter_unmix_picasso_array(data, {"implementation": "source_sink_n"})
    >>> first = next(gen)
    >>> sorted(first)
    ['iteration', 'max_iter', 't', 'value']
    """
    signature = inspect.signature(unmix_picasso_array).parameters
    names = list(signature)[1:-1]  # the options: not data, not progress
    unknown = sorted(set(options or {}) - set(names))
    if unknown:
        raise ValueError(f"unknown PICASSO option(s) {unknown}; valid: {names}")
    params = {k: (options or {}).get(k, signature[k].default) for k in names}
    t_start = time.perf_counter()
    arr = to_tzcyx(data, params["axes"])
    core = {k: v for k, v in params.items() if k not in _API_ONLY}
    result = yield from iter_estimate_picasso(arr, **core)
    out = apply_picasso(
        arr, result, clip_negative=params["clip_negative"], output_dtype=params["output_dtype"]
    )
    report = start_report("picasso", params, {"data": describe_array(data, axes=params["axes"])})
    report["result"] = result.summary()
    if params["detail"] and result.fits:
        report["result"]["transforms_by_t"] = [
            [m.tolist() for m in f.transforms] for f in result.fits
        ]
    report["seconds_estimation"] = round(time.perf_counter() - t_start, 3)
    return PicassoRun(out, report, result)


#: options of the array API that the core estimator does not take
_API_ONLY = {"axes", "preprocess_alpha_inputs", "clip_negative", "output_dtype", "detail"}


def unmix_picasso_array(
    data: Any,
    channels: Sequence[int] | None = None,
    *,
    axes: str | None = None,
    implementation: str = "matlab_3c",
    alpha_mode: str | None = None,
    alpha_reference_t: int = 0,
    source_sink_matrix: Any = None,
    sink_channels: Sequence[int] | None = None,
    neutral_channels: Sequence[int] | None = None,
    unmixing_matrix: Any = None,
    background_percentile: float = 1.0,
    preprocess_alpha_inputs: bool = True,
    mi_bins: int = 64,
    alpha_max: float = 1.0,
    max_iter: int = 200,
    tolerance: float = 1e-4,
    max_alpha_voxels: int = 500_000,
    random_state: int = 0,
    step_size: float = 0.2,
    qn: int = 100,
    pixel_bin_size: int | None = 16,
    alpha_clip: float = 0.5,
    negativity_threshold: float = 0.0009,
    clip_every_n_iterations: int = 50,
    reference_compatible: bool = False,
    output_units: str = "own_channel",
    noise_aware: bool | None = None,
    split_sigma: float | None = None,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    detail: bool = False,
    progress: Any = None,
) -> tuple[Any, dict[str, Any]]:
    """Blindly unmix the selected channels of an image array with PICASSO.

    Parameters
    ----------
    data : ndarray or dask array
        Image, TZCYX or fewer axes (see ``axes``); never modified.
    channels : sequence of int, optional
        Channels to unmix, in order (default all); others pass through unchanged.
    axes : str, optional
        Axis letters of ``data`` (default by number of dimensions: CYX, ZCYX, TZCYX).
    implementation : {"matlab_3c", "matlab_n", "source_sink_n"}
        ``source_sink_n`` is the most accurate (see ``docs/picasso.md``).
    alpha_mode : {"reference_t", "per_t", "fixed"}, optional
        Estimate on time point ``alpha_reference_t`` and apply to all, estimate per time
        point, or apply ``unmixing_matrix`` as given. Default: ``"fixed"`` when
        ``unmixing_matrix`` is given, else ``"reference_t"``; an estimating mode with a
        given matrix is refused.
    unmixing_matrix : array, shape (N, N) or (T, N, N), optional
        Unmixing matrix applied to the selected channels as they are (no background
        subtracted); it must be finite and invertible (condition number at most 1e6).
    source_sink_matrix, sink_channels, neutral_channels
        Source→sink relations for ``source_sink_n`` (rows = sources, -1 marks
        source→sink), or channel roles (indices of ``data``'s channels).
    pixel_bin_size, qn, step_size, alpha_clip, negativity_threshold, clip_every_n_iterations
        MATLAB scheme settings. Choose ``pixel_bin_size`` so that a plane has about
        1000 blocks (16 for 512², 4 for 128²); ``None`` does that for you.
    mi_bins, alpha_max
        Source–sink MI histogram bins and alpha upper bound.
    max_iter, tolerance
        Iteration limit; stop when the largest |alpha| (MATLAB) or alpha change
        (source–sink) of a sweep is at most ``tolerance``.
    max_alpha_voxels, random_state
        Bound and seed of the estimation subsample.
    reference_compatible : bool
        Run the MATLAB scheme exactly as the ``spectral-unmixing`` package (sequential
        updates, Nelder–Mead searches, no early stop, max-normalised output).
    noise_aware : bool, optional
        Source–sink: estimate on two views of the data with independent shot noise
        (the checkerboard halves of the pixels), so noise does not bias the
        coefficients low. Default on for ``source_sink_n`` (the views are split only
        when the measured noise matters), refused for the MATLAB scheme.
    split_sigma : float, optional
        Source–sink: Gaussian smoothing (pixels) of the two noise-aware views; default
        from the measured noise (no split when it is negligible, up to 1.5 px).
    output_units : {"own_channel", "input", "normalized"}
        MATLAB scheme output scale: each fluorophore at the intensity it has in its own
        channel (default), the loop's rows times the channel maxima, or max-normalised
        as the reference.
    preprocess_alpha_inputs : bool
        Accepted for compatibility; recorded only (the preprocessing is fixed).
    detail : bool
        Keep the per-iteration transforms of the MATLAB scheme in the report.
    progress : callable, optional
        Called with every progress dict ``{"t", "iteration", "max_iter", "value"}``.

    Returns
    -------
    unmixed : ndarray or dask array
        TZCYX, same type as the input (dask stays lazy).
    report : dict
        Parameters, versions, input description, matrices per time point, iterations,
        convergence.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_picasso_mix
    >>> data, truth = make_picasso_mix(shape=(64, 64))
    >>> out, rep = unmix_picasso_array(data, implementation="source_sink_n")
    >>> out.shape, rep["result"]["converged"]
    ((1, 1, 3, 64, 64), [True])
    """
    check_option_types(unmix_picasso_array, locals())
    options = {k: v for k, v in locals().items() if k not in ("data", "progress")}
    gen = iter_unmix_picasso_array(data, options)
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            run = stop.value
            break
        if progress is not None:
            progress(item)
    return run.unmixed, run.report


def unmix_picasso(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike | None = None,
    channels: Sequence[int] | None = None,
    *,
    implementation: str = "matlab_3c",
    alpha_mode: str | None = None,
    alpha_reference_t: int = 0,
    source_sink_matrix: Any = None,
    sink_channels: Sequence[int] | None = None,
    neutral_channels: Sequence[int] | None = None,
    background_percentile: float = 1.0,
    preprocess_alpha_inputs: bool = True,
    mi_bins: int = 64,
    alpha_max: float = 1.0,
    max_iter: int = 200,
    tolerance: float = 1e-4,
    max_alpha_voxels: int = 500_000,
    random_state: int = 0,
    step_size: float = 0.2,
    qn: int = 100,
    pixel_bin_size: int | None = 16,
    alpha_clip: float = 0.5,
    negativity_threshold: float = 0.0009,
    clip_every_n_iterations: int = 50,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    verbose: bool = True,
    output_format: str = "ome-tiff",
    overwrite: bool = False,
    compression_level: int = 0,
    scheduler: Any = None,
    **options: Any,
) -> Path:
    """Unmix an image file with PICASSO and write OME-TIFF plus a JSON sidecar.

    Same parameters as :func:`unmix_picasso_array` (extra ones such as
    ``reference_compatible``, ``output_units``, ``unmixing_matrix`` go through
    ``**options``). ``output_path`` defaults to ``<input stem>_picasso.ome.tif`` (or
    ``.ome.zarr``) next to the input; an existing file is overwritten only with
    ``overwrite=True``.

    ``output_format="ome-zarr"`` reads the input lazily (OME-Zarr, OME-TIFF), estimates
    on the bounded sample and writes the unmixed stack chunk by chunk to an OME-Zarr
    store (for stacks larger than memory; ``scheduler`` may be a
    ``dask.distributed.Client``). A Zarr input is always read lazily.
    ``compression_level``: 0 none, 1–9 zlib (OME-TIFF) or Blosc zstd (OME-Zarr).

    Returns
    -------
    Path
        The written image; its report is ``<path>.json``.
    """
    check_option_types(unmix_picasso, locals())
    from ._files import (
        check_output,
        is_lazy_input,
        open_input,
        resolve_output_format,
        save_output,
        use_scheduler,
    )

    fmt = resolve_output_format(output_format)
    input_path = Path(input_path)
    if output_path is None:
        stem = input_path.name.split(".")[0]
        ext = ".ome.zarr" if fmt == "ome-zarr" else ".ome.tif"
        output_path = input_path.with_name(f"{stem}_picasso{ext}")
    output_path = check_output(
        output_path, output_format=fmt, overwrite=overwrite, inputs=(input_path,),
        compression_level=compression_level,
    )  # fmt: skip
    kwargs = {k: v for k, v in locals().items() if k in _ARRAY_KEYS}
    with use_scheduler(scheduler):
        lazy = fmt == "ome-zarr" or is_lazy_input(input_path)
        data, meta = open_input(input_path, lazy=lazy)
        if verbose:
            print(f"[picasso] {input_path.name}: {data.shape} {data.dtype}, {implementation}")
        out, report = unmix_picasso_array(data, channels, **kwargs, **options)
        report["inputs"]["path"] = str(input_path)
        path = save_output(
            output_path,
            out,
            meta,
            report,
            output_format=fmt,
            overwrite=overwrite,
            compression_level=compression_level,
        )
    if verbose:
        print(f"[picasso] wrote {path} (+ .json), iterations {report['result']['iterations_run']}")
    return path


_ARRAY_KEYS = {
    "implementation",
    "alpha_mode",
    "alpha_reference_t",
    "source_sink_matrix",
    "sink_channels",
    "neutral_channels",
    "background_percentile",
    "preprocess_alpha_inputs",
    "mi_bins",
    "alpha_max",
    "max_iter",
    "tolerance",
    "max_alpha_voxels",
    "random_state",
    "step_size",
    "qn",
    "pixel_bin_size",
    "alpha_clip",
    "negativity_threshold",
    "clip_every_n_iterations",
    "noise_aware",
    "split_sigma",
    "clip_negative",
    "output_dtype",
}
