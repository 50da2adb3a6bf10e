"""Script API for PICASSO blind unmixing: ``unmix_picasso`` (files) and ``unmix_picasso_array``.

``unmix_picasso`` takes the parameter names of the ``spectral-unmixing`` package, so a
script switches by changing its import.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..core.axes import to_tzcyx
from ..core.options import takes_options
from ..core.picasso import (
    PicassoApplyOptions,
    PicassoOptions,
    PicassoResult,
    apply_picasso,
    iter_estimate_picasso,
)
from ..core.progress import Progress, Steps, run
from ..core.report import describe_array, start_report
from ..core.result import Result
from ..core.validate import check_option_types

__all__ = ["PicassoRun", "iter_unmix_picasso_array", "unmix_picasso", "unmix_picasso_array"]


class PicassoRun(NamedTuple):
    """What one PICASSO run produced: the unmixed stack, its report, the core result."""

    unmixed: Any
    report: dict[str, Any]
    result: PicassoResult

    def to_result(
        self, source: str = "", *, names: Sequence[str] | None = None, stacked: bool = False
    ) -> Result:
        """The unmixed channels as layers with this run's report
        (:meth:`PicassoResult.to_result <napari_unmix.core.picasso.PicassoResult.to_result>`)."""
        return self.result.to_result(
            source, unmixed=self.unmixed, names=names, stacked=stacked, report=self.report
        )


def _unmix_steps(
    data: Any,
    estimation: PicassoOptions,
    output: PicassoApplyOptions,
    *,
    axes: str | None,
    detail: bool,
) -> Steps:
    """Estimate, apply and report: the one code path of the script API, the CLI and the dock."""
    t_start = time.perf_counter()
    arr = to_tzcyx(data, axes)
    result = yield from iter_estimate_picasso(arr, estimation)
    out = apply_picasso(arr, result, **output.as_dict())
    params = {"axes": axes, **estimation.as_dict(), **output.as_dict(), "detail": detail}
    report = start_report("picasso", params, {"data": describe_array(data, axes=axes)})
    report["result"] = result.summary()
    if detail and result.fits:
        report["result"]["transforms_by_t"] = [
            [m.tolist() for m in f.transforms] for f in result.fits
        ]
    report["seconds_estimation"] = round(time.perf_counter() - t_start, 3)
    return PicassoRun(out, report, result)


def iter_unmix_picasso_array(data: Any, /, options: Mapping[str, Any] | None = None) -> Steps:
    """:func:`unmix_picasso_array` as a generator: yields its
    :class:`~napari_unmix.core.progress.Progress` events, returns a :class:`PicassoRun`
    (unmixed stack, report and the core result).

    ``options`` are keyword arguments of :func:`unmix_picasso_array` (``channels``
    included, ``progress`` excluded); unknown names are refused. The dock runs this in
    its worker and scripts call :func:`unmix_picasso_array`: one code path.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_picasso_mix
    >>> data, _ = make_picasso_mix(shape=(32, 32))
    >>> gen = iter_unmix_picasso_array(data, {"implementation": "source_sink_n"})
    >>> first = next(gen)
    >>> first.done, first.partial.t, first.partial.matrix.shape
    (1, 0, (3, 3))
    """
    given = dict(options or {})
    axes, detail = given.pop("axes", None), bool(given.pop("detail", False))
    apply_names = set(PicassoApplyOptions.defaults())
    output = PicassoApplyOptions.from_kwargs({k: v for k, v in given.items() if k in apply_names})
    estimation = PicassoOptions.from_kwargs(
        {k: v for k, v in given.items() if k not in apply_names}, where="PICASSO"
    )
    return (yield from _unmix_steps(data, estimation, output, axes=axes, detail=detail))


@takes_options(PicassoOptions, PicassoApplyOptions)
def unmix_picasso_array(
    data: Any,
    channels: Sequence[int] | None = None,
    *,
    axes: str | None = None,
    detail: bool = False,
    progress: Callable[[Progress], Any] | None = None,
    options: tuple[PicassoOptions, PicassoApplyOptions],
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
        Unmixing matrix applied to the selected channels as they are (minus
        ``fixed_background`` when given); it must be finite and invertible (condition
        number at most 1e6).
    fixed_background : array, shape (N,) or (T, N), optional
        With ``alpha_mode="fixed"``: offsets subtracted before the matrix (an earlier
        run's ``background_by_t``, which :func:`~napari_unmix.api.reapply.reapply` passes).
    source_sink_matrix, sink_channels, neutral_channels
        Source→sink relations for ``source_sink_n`` (rows = sources, -1 marks
        source→sink), or channel roles (indices of ``data``'s channels).
    pixel_bin_size, qn, step_size, alpha_clip, negativity_threshold, clip_every_n_iterations
        MATLAB scheme settings; ``pixel_bin_size``, ``qn``, ``negativity_threshold`` and
        ``clip_every_n_iterations`` belong to the published loop (``noise_aware=False``
        or ``reference_compatible=True``): the noise-aware loop refuses the last three
        when they differ from their defaults, and does not bin. Choose ``pixel_bin_size`` so that a plane has
        about 1000 blocks (16 for 512², 4 for 128²); ``None`` does that for you.
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
        Estimate on two views of the data with independent shot noise (the
        checkerboard halves of the pixels), so noise does not bias the coefficients
        low; for the MATLAB scheme, its MI step is then that of ``source_sink_n`` (on
        pixels, not blocks). Default on (the views are split only when the measured
        noise matters); with ``reference_compatible=True`` off, and
        ``noise_aware=True`` is refused.
    split_sigma : float, optional
        Gaussian smoothing (pixels) of the two noise-aware views; default from the
        measured noise (no split when it is negligible, up to 1.5 px).
    output_units : {"own_channel", "input", "normalized"}
        MATLAB scheme output scale: each fluorophore at the intensity it has in its own
        channel (default), the loop's rows times the channel maxima, or max-normalised
        as the reference.
    preprocess_alpha_inputs : bool
        Accepted for compatibility; recorded only (the preprocessing is fixed).
    detail : bool
        Keep the per-iteration transforms of the MATLAB scheme in the report.
    progress : callable, optional
        Called with every :class:`~napari_unmix.core.progress.Progress` event (``partial``:
        a :class:`~napari_unmix.core.picasso.Sweep`: time point, sweep, value, matrix).

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
    estimation, output = options
    done = run(_unmix_steps(data, estimation, output, axes=axes, detail=detail), progress)
    return done.unmixed, done.report


def unmix_picasso(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike | None = None,
    channels: Sequence[int] | None = None,
    *,
    implementation: str = PicassoOptions.implementation,
    alpha_mode: str | None = PicassoOptions.alpha_mode,
    alpha_reference_t: int = PicassoOptions.alpha_reference_t,
    source_sink_matrix: Any = PicassoOptions.source_sink_matrix,
    sink_channels: Sequence[int] | None = PicassoOptions.sink_channels,
    neutral_channels: Sequence[int] | None = PicassoOptions.neutral_channels,
    background_percentile: float = PicassoOptions.background_percentile,
    preprocess_alpha_inputs: bool = PicassoOptions.preprocess_alpha_inputs,
    mi_bins: int = PicassoOptions.mi_bins,
    alpha_max: float = PicassoOptions.alpha_max,
    max_iter: int = PicassoOptions.max_iter,
    tolerance: float = PicassoOptions.tolerance,
    max_alpha_voxels: int = PicassoOptions.max_alpha_voxels,
    random_state: int = PicassoOptions.random_state,
    step_size: float = PicassoOptions.step_size,
    qn: int = PicassoOptions.qn,
    pixel_bin_size: int | None = PicassoOptions.pixel_bin_size,
    alpha_clip: float = PicassoOptions.alpha_clip,
    negativity_threshold: float = PicassoOptions.negativity_threshold,
    clip_every_n_iterations: int = PicassoOptions.clip_every_n_iterations,
    clip_negative: bool = PicassoApplyOptions.clip_negative,
    output_dtype: Any = PicassoApplyOptions.output_dtype,
    verbose: bool = True,
    output_format: str = "ome-tiff",
    overwrite: bool = False,
    compression_level: int = 0,
    scheduler: Any = None,
    unmixing_matrix: Any = PicassoOptions.unmixing_matrix,
    fixed_background: Any = PicassoOptions.fixed_background,
    reference_compatible: bool = PicassoOptions.reference_compatible,
    output_units: str = PicassoOptions.output_units,
    noise_aware: bool | None = PicassoOptions.noise_aware,
    split_sigma: float | None = PicassoOptions.split_sigma,
    detail: bool = False,
) -> Path:
    """Unmix an image file with PICASSO and write OME-TIFF plus a JSON sidecar.

    Same parameters as :func:`unmix_picasso_array` (the first ones in the order of the
    ``spectral-unmixing`` package, then ``unmixing_matrix``, ``reference_compatible``,
    ``output_units``, ``noise_aware``, ``split_sigma``, ``detail``). ``output_path``
    defaults to ``<input stem>_picasso.ome.tif`` (or ``.ome.zarr``) next to the input; an
    existing file is overwritten only with ``overwrite=True``.

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
    estimation = PicassoOptions.pick(locals())
    output = PicassoApplyOptions.pick(locals())
    from . import _files  # imported on use (keeps `import napari_unmix.api` light)

    fmt = _files.resolve_output_format(output_format)
    input_path = Path(input_path)
    if output_path is None:
        stem = input_path.name.split(".")[0]
        ext = ".ome.zarr" if fmt == "ome-zarr" else ".ome.tif"
        output_path = input_path.with_name(f"{stem}_picasso{ext}")
    writing = {"output_format": fmt, "overwrite": overwrite, "compression_level": compression_level}
    output_path = _files.check_output(output_path, inputs=(input_path,), **writing)
    with _files.use_scheduler(scheduler):
        lazy = fmt == "ome-zarr" or _files.is_lazy_input(input_path)
        data, meta = _files.open_input(input_path, lazy=lazy)
        if verbose:
            print(f"[picasso] {input_path.name}: {data.shape} {data.dtype}, {implementation}")
        steps = _unmix_steps(data, estimation, output, axes=None, detail=detail)
        out, report, _ = run(steps)
        report["inputs"]["path"] = str(input_path)
        path = _files.save_output(output_path, out, meta, report, **writing)
    if verbose:
        print(f"[picasso] wrote {path} (+ .json), iterations {report['result']['iterations_run']}")
    return path
