"""PICASSO estimation: one time point or every time point, any implementation.

:func:`iter_estimate_picasso` checks the options against the data, samples each time
point to estimate (:func:`_reference_planes`), runs the implementation's
:class:`~.implementations.Scheme` on it and collects the time points into a
:class:`~.result.PicassoResult`; :func:`estimate_picasso` runs it to the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..axes import validate_tzcyx
from ..options import takes_options
from ..progress import Progress, Steps, run
from .checks import (
    _check_sample,
    _check_source_sink_matrix,
    _matrix_per_t,
    build_source_sink_matrix,
    validate_channels,
)
from .implementations import IMPLEMENTATIONS, Plan, TimePoint
from .noise import auto_split_sigma, noise_fraction
from .options import PicassoOptions
from .result import PicassoResult, Sweep
from .sourcesink import relations_from_matrix

__all__ = [
    "auto_pixel_bin_size",
    "estimate_picasso",
    "iter_estimate_picasso",
    "runs_published_loop",
]


def auto_pixel_bin_size(shape_yx: Sequence[int], *, blocks: int = 1000) -> int:
    """Power-of-two block size giving about ``blocks`` blocks per Y–X plane.

    The MATLAB code bins its 512² images by 16 (1024 blocks); smaller images need smaller
    blocks, or the MI is computed from too few values.

    Examples
    --------
    >>> auto_pixel_bin_size((512, 512)), auto_pixel_bin_size((128, 128))
    (16, 4)
    """
    side = np.sqrt(float(shape_yx[0]) * float(shape_yx[1]) / blocks)
    return int(2 ** max(0, round(np.log2(max(side, 1.0)))))


# ----------------------------------------------------------------------------- checks
def _resolve_alpha_mode(opts: PicassoOptions) -> str:
    """``alpha_mode`` to run: a given matrix is applied, never silently replaced."""
    if opts.fixed_background is not None and opts.unmixing_matrix is None:
        raise ValueError(
            "fixed_background is the offset of a given unmixing_matrix; give the matrix too "
            "(an estimated matrix subtracts its own background)"
        )
    if opts.alpha_mode is None:
        return "reference_t" if opts.unmixing_matrix is None else "fixed"
    if opts.unmixing_matrix is not None and opts.alpha_mode != "fixed":
        raise ValueError(
            f"unmixing_matrix is given but alpha_mode={opts.alpha_mode!r} estimates a new "
            "matrix: pass alpha_mode='fixed' (or leave alpha_mode unset) to apply the given "
            "matrix, or drop unmixing_matrix to estimate one"
        )
    if opts.alpha_mode == "fixed" and opts.unmixing_matrix is None:
        raise ValueError("alpha_mode='fixed' needs unmixing_matrix=... (N×N or T×N×N)")
    return opts.alpha_mode


def _aware(opts: PicassoOptions) -> bool:
    """``noise_aware`` as given, else the implementation's default."""
    if opts.noise_aware is not None:
        return opts.noise_aware
    return IMPLEMENTATIONS[opts.implementation].function.noise_aware


def runs_published_loop(opts: PicassoOptions) -> bool:
    """Whether these options run the published MATLAB loop, the only one that reads
    :data:`~.options.PUBLISHED_LOOP_ONLY` (``qn``, ``negativity_threshold``,
    ``clip_every_n_iterations``) and ``pixel_bin_size``.

    Examples
    --------
    >>> runs_published_loop(PicassoOptions(implementation="matlab_3c"))
    False
    >>> runs_published_loop(PicassoOptions(implementation="matlab_3c", noise_aware=False))
    True
    >>> runs_published_loop(PicassoOptions(implementation="matlab_n", reference_compatible=True))
    True
    >>> runs_published_loop(PicassoOptions(implementation="source_sink_n", noise_aware=False))
    False
    """
    if opts.is_source_sink:
        return False
    return bool(opts.reference_compatible) or not _aware(opts)


def _resolve_noise_aware(opts: PicassoOptions) -> bool:
    """``noise_aware`` to run: the implementation's default (see :class:`~.implementations.Scheme`),
    off for the reference-compatible MATLAB scheme, which refuses it. The noise-aware MATLAB
    loop refuses the options only the published loop reads
    (:meth:`~.options.PicassoOptions.published_loop_values`)."""
    if opts.reference_compatible and not opts.is_source_sink:
        if opts.noise_aware:
            raise ValueError(
                "noise_aware=True and reference_compatible=True exclude each other: the "
                "reference-compatible MATLAB scheme reproduces the published code, which "
                "estimates on the noisy pixels; drop one of them (leave noise_aware unset "
                "to compare with the reference)"
            )
        return False
    aware = _aware(opts)
    given = opts.published_loop_values()
    if aware and not opts.is_source_sink and given:
        said = ", ".join(f"{k}={v!r}" for k, v in given.items())
        defaults = ", ".join(f"{k}={PicassoOptions.defaults()[k]!r}" for k in given)
        how = "noise_aware=True" if opts.noise_aware else f"the default of {opts.implementation}"
        raise ValueError(
            f"{said}: only the published MATLAB loop uses this, and the noise-aware loop "
            f"({how}) runs without it (MI of two views of the pixels: no quantisation, no "
            "negativity rule, no clipping of the state). Pass noise_aware=False to run the "
            f"published loop with it, or leave it at its default ({defaults})"
        )
    return aware


def _relations(opts: PicassoOptions, chans: list[int]) -> list[tuple[int, int]]:
    """The ``(source, sink)`` positions to estimate (source–sink only), from the matrix
    or the channel roles."""
    sinks, neutral = opts.sink_channels, opts.neutral_channels
    if not opts.is_source_sink:
        if opts.source_sink_matrix is not None or sinks is not None or neutral is not None:
            raise ValueError(
                "source_sink_matrix / sink_channels / neutral_channels need "
                "implementation='source_sink_n'"
            )
        return []
    matrix = opts.source_sink_matrix
    if matrix is not None and (sinks or neutral):
        raise ValueError("give either source_sink_matrix or sink/neutral channels, not both")
    if matrix is None:
        pos = {c: k for k, c in enumerate(chans)}
        for name, group in (("sink_channels", sinks), ("neutral", neutral)):
            missing = [c for c in group or [] if c not in pos]
            if missing:
                raise ValueError(f"{name} {missing} are not among the selected {chans=}")
        matrix = build_source_sink_matrix(
            len(chans),
            sink_channels=None if sinks is None else [pos[c] for c in sinks],
            neutral_channels=[pos[c] for c in neutral or []],
        )
    return relations_from_matrix(_check_source_sink_matrix(matrix, len(chans)))


def _fixed_background(background: Any, n: int, n_t: int) -> np.ndarray:
    """The offsets of a given matrix per time point, (T, N); zeros when not given."""
    if background is None:
        return np.zeros((n_t, n))
    b = np.asarray(background, dtype=np.float64)
    if b.shape not in ((n,), (n_t, n)) or not np.all(np.isfinite(b)):
        raise ValueError(
            f"fixed_background must be {n} finite offsets (one per selected channel) or "
            f"({n_t}, {n}), got shape {b.shape}"
        )
    return np.array(np.broadcast_to(b, (n_t, n)))


# ----------------------------------------------------------------------------- stages
def _reference_planes(
    data: Any, t: int, channels: list[int], max_voxels: int, rng: np.random.Generator
) -> np.ndarray:
    """Selected channels of time point ``t`` as (N, P, Y, X) float32, at most ``max_voxels``
    voxels per channel (a seeded choice of whole Z planes; at least one plane)."""
    n_z, plane = data.shape[1], data.shape[3] * data.shape[4]
    keep = max(1, min(n_z, int(max_voxels) // plane))
    zs = np.sort(rng.choice(n_z, size=keep, replace=False)) if keep < n_z else np.arange(n_z)
    block = data[t][zs][:, channels]  # Z, N, Y, X (numpy or dask)
    block = np.asarray(block.compute() if hasattr(block, "compute") else block)
    return np.ascontiguousarray(np.moveaxis(block, 1, 0), dtype=np.float32)


def _estimate_t(data: Any, t: int, plan: Plan, noise_aware: bool, result: PicassoResult) -> Steps:
    """Sample time point ``t``, record its noise, run the implementation on it."""
    opts = plan.opts
    planes = _reference_planes(data, t, plan.channels, opts.max_alpha_voxels, plan.rng)
    result.non_finite_pixels.append(_check_sample(planes, plan.channels))
    fraction = float(noise_fraction(planes).max())
    sigma = auto_split_sigma(fraction) if opts.split_sigma is None else float(opts.split_sigma)
    split = sigma if noise_aware and sigma > 0 else 0.0
    result.noise_fraction.append(round(fraction, 5))
    result.split_sigma.append(split)
    scheme = IMPLEMENTATIONS[opts.implementation].function
    return (yield from scheme(planes, plan, t, split))


def _with_time_point(steps: Steps, t: int, k: int, n_ts: int, max_iter: int) -> Steps:
    """Forward a solver's events for the ``k``-th of ``n_ts`` time points: ``done`` counts
    sweeps over all of them, ``partial`` is a :class:`~.result.Sweep`."""
    returned: list[Any] = []

    def solver() -> Steps:
        returned.append((yield from steps))

    for event in solver():
        fit = event.partial
        yield Progress(
            k * max_iter + event.done,
            n_ts * max_iter,
            f"t={t}: {event.message}",
            Sweep(t, int(event.done), float(fit.history[-1]), np.array(fit.matrix)),
        )
    return returned[0]


def _store(result: PicassoResult, t: int, point: TimePoint, out_scale: np.ndarray) -> None:
    """Put one time point's estimate into the result."""
    result.estimated_t.append(t)
    result.iterations.append(point.iterations)
    result.converged.append(point.converged)
    result.history.append(point.history)
    result.background[t], result.scale[t] = point.background, point.scale
    result.matrix[t], result.mixing[t] = point.matrix, point.mixing
    if point.out_scale is not None:
        out_scale[t] = point.out_scale
    if point.mixing_se is not None:
        if result.mixing_se is None:
            result.mixing_se = np.zeros_like(result.matrix)
        result.mixing_se[t] = point.mixing_se
    if point.zero_relations is not None:
        result.zero_relations.append(point.zero_relations)


def _finish(
    result: PicassoResult, ts: list[int], points: dict[int, TimePoint], out_scale: np.ndarray
) -> None:
    """Apply the reference time point's estimate everywhere (``reference_t``) and keep
    the MATLAB loop's fits for replay."""
    if result.alpha_mode == "reference_t":
        arrays = [result.matrix, result.background, result.scale, out_scale, result.mixing]
        for arr in arrays + ([result.mixing_se] if result.mixing_se is not None else []):
            arr[:] = arr[ts[0]]
    fits = {t: p.fit for t, p in points.items() if p.fit is not None}
    if fits:
        result.mode = "replay"
        result.out_scale = out_scale
        result.fits = [fits.get(t, fits[ts[0]]) for t in range(result.matrix.shape[0])]


# ----------------------------------------------------------------------------- estimation
def iter_estimate_picasso(data: Any, /, options: PicassoOptions | None = None) -> Steps:
    """Estimate PICASSO unmixing, yielding :class:`~napari_unmix.core.progress.Progress`
    events; returns a :class:`PicassoResult`.

    ``options`` (default: :class:`PicassoOptions` defaults) are those of
    :func:`estimate_picasso`. Every event counts sweeps over the estimated time points;
    its ``partial`` is a :class:`~.result.Sweep` (time point, sweep, largest |alpha|
    (MATLAB) or alpha change (source–sink), the matrix so far).
    """
    opts = PicassoOptions() if options is None else options
    validate_tzcyx(data, min_channels=2)
    alpha_mode = _resolve_alpha_mode(opts)
    noise_aware = _resolve_noise_aware(opts)
    chans = validate_channels(opts.channels, data.shape[2])
    if alpha_mode != "fixed":
        IMPLEMENTATIONS[opts.implementation].function.check_channels(opts.implementation, chans)
    n, n_t = len(chans), data.shape[0]
    if not opts.alpha_reference_t < n_t:
        raise ValueError(
            f"alpha_reference_t={opts.alpha_reference_t} is outside the {n_t} time point(s)"
        )
    relations = _relations(opts, chans)
    result = PicassoResult(
        implementation=opts.implementation,
        channels=chans,
        matrix=np.tile(np.eye(n), (n_t, 1, 1)),
        background=np.zeros((n_t, n)),
        scale=np.ones((n_t, n)),
        output_units="normalized" if opts.reference_compatible else opts.output_units,
        alpha_mode=alpha_mode,
        noise_aware=noise_aware and alpha_mode != "fixed",
    )
    if alpha_mode == "fixed":
        result.output_units = opts.output_units
        result.matrix = _matrix_per_t(opts.unmixing_matrix, n, n_t)
        result.background = _fixed_background(opts.fixed_background, n, n_t)
        return result
    size = opts.pixel_bin_size or auto_pixel_bin_size(data.shape[3:])
    rng = np.random.default_rng(opts.random_state)
    plan = Plan(opts, chans, relations, size, rng, result.output_units, noise_aware)
    ts = [opts.alpha_reference_t] if alpha_mode == "reference_t" else list(range(n_t))
    result.mixing = np.tile(np.eye(n), (n_t, 1, 1))
    out_scale = np.ones((n_t, n))
    points: dict[int, TimePoint] = {}
    for k, t in enumerate(ts):
        steps = _estimate_t(data, t, plan, noise_aware, result)
        points[t] = yield from _with_time_point(steps, t, k, len(ts), opts.max_iter)
        _store(result, t, points[t], out_scale)
    _finish(result, ts, points, out_scale)
    return result


@takes_options(PicassoOptions, exclude=("preprocess_alpha_inputs",))
def estimate_picasso(data: Any, /, *, options: PicassoOptions) -> PicassoResult:
    """Estimate PICASSO unmixing of the selected channels of a TZCYX stack.

    The keywords are the fields of :class:`PicassoOptions`, generated from it (their docs say what each does;
    :func:`napari_unmix.api.picasso.unmix_picasso_array` explains them in full);
    ``channels``, ``sink_channels`` and ``neutral_channels`` are channel indices of
    ``data``. ``reference_compatible=True`` runs the MATLAB scheme as the
    ``spectral-unmixing`` package does (sequential row updates, always ``max_iter``
    iterations, max-normalised output). ``pixel_bin_size=None`` picks the block size
    with :func:`auto_pixel_bin_size`. :func:`iter_estimate_picasso` is the same as a
    generator of progress events.
    """
    return run(iter_estimate_picasso(data, options))
