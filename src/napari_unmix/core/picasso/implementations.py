"""The PICASSO implementations: how each estimates the matrix of one time point.

Every implementation is one :class:`~napari_unmix.core.registry.Method` of
:data:`IMPLEMENTATIONS` whose function is a :class:`Scheme`: a generator estimating one
time point from its sampled planes (yielding the solver's
:class:`~napari_unmix.core.progress.Progress` events, returning a :class:`TimePoint`) and
the number of channels it needs. Adding an implementation is one entry.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..progress import Steps
from ..registry import Method, Registry
from .matlab import MatlabFit, iter_matlab_picasso, replay
from .matlab_views import iter_matlab_views, split_views
from .noise import checkerboard_smoothed
from .result import InseparableChannelsWarning, NoBleedThroughWarning
from .sourcesink import MIN_DET, iter_source_sink

__all__ = ["IMPLEMENTATIONS", "Plan", "Scheme", "TimePoint"]


@dataclass
class Plan:
    """What every time point's estimate shares: the options (a
    :class:`~.options.PicassoOptions`, which reads this module's registry), the selected
    channels, the source→sink relations, the resolved block size, the sampling generator,
    the output units and whether the estimate is noise-aware (resolved)."""

    opts: Any
    channels: list[int]
    relations: list[tuple[int, int]]
    pixel_bin_size: int
    rng: np.random.Generator
    output_units: str
    noise_aware: bool = False


@dataclass
class TimePoint:
    """One time point's estimate (input units, see :class:`~.result.PicassoResult`)."""

    background: np.ndarray
    scale: np.ndarray
    matrix: np.ndarray
    mixing: np.ndarray
    iterations: int
    converged: bool
    history: list[float]
    out_scale: np.ndarray | None = None  # MATLAB scheme: the loop's output to output units
    fit: MatlabFit | None = None  # MATLAB scheme: replayed by apply_picasso
    mixing_se: np.ndarray | None = None  # source-sink, noise-aware MATLAB scheme
    zero_relations: list[list[int]] | None = None  # source-sink


@dataclass(frozen=True)
class Scheme:
    """An implementation: ``fit(planes, plan, t, split_sigma)`` estimates time point ``t``
    from its (N, P, Y, X) planes (``split_sigma`` 0: no noise-aware split); ``n_channels``
    is the channel count it needs (None: any, at least 2); ``noise_aware`` whether it
    estimates on the noise-aware views when ``PicassoOptions.noise_aware`` is not given
    (chosen on ``benchmarks/bench_picasso_scenarios.py``)."""

    fit: Callable[..., Steps]
    n_channels: int | None = None
    noise_aware: bool = False

    def __call__(self, planes: np.ndarray, plan: Plan, t: int, split_sigma: float) -> Steps:
        return self.fit(planes, plan, t, split_sigma)

    def check_channels(self, name: str, chans: list[int]) -> None:
        need, n = self.n_channels, len(chans)
        if need is not None and n != need:
            raise ValueError(
                f"implementation={name!r} needs exactly {need} channels, got {n} "
                f"({chans=}); select {need} channels or use 'matlab_n'"
            )


# ----------------------------------------------------------------------------- source-sink
def _fit_source_sink(planes: np.ndarray, plan: Plan, t: int, split_sigma: float) -> Steps:
    """Source–sink alphas on background-subtracted pixel samples (split views if noisy)."""
    opts, n = plan.opts, planes.shape[0]
    bg = np.percentile(planes.reshape(n, -1), opts.background_percentile, axis=1)
    centred = planes - bg[:, None, None, None].astype(np.float32)
    if split_sigma > 0:
        flat, partner = checkerboard_smoothed(centred, split_sigma)
    else:
        flat, partner = centred.reshape(n, -1), None
    if flat.shape[1] > opts.max_alpha_voxels:
        pick = plan.rng.choice(flat.shape[1], int(opts.max_alpha_voxels), replace=False)
        flat = flat[:, pick]
        partner = None if partner is None else partner[:, pick]
    fit = yield from iter_source_sink(
        flat,
        plan.relations,
        partner=partner,
        alpha_max=opts.alpha_max,
        mi_bins=opts.mi_bins,
        max_iter=opts.max_iter,
        tolerance=opts.tolerance,
    )
    chans = plan.channels
    zero = [[chans[i], chans[j]] for i, j in plan.relations if fit.alpha[i, j] <= opts.tolerance]
    if plan.relations and len(zero) == len(plan.relations):
        warnings.warn(
            f"PICASSO source_sink_n found no bleed-through at t={t}: every "
            "coefficient stayed at 0, so the channels are returned unchanged. "
            "The source-sink model sees no spill-over to remove (check the "
            "scatter plot); implementation='matlab_n' may subtract more, but "
            "it can over-subtract (negative correlation afterwards)",
            NoBleedThroughWarning,
            stacklevel=4,
        )
    if fit.limited:
        pairs = [[chans[i], chans[j]] for i, j in fit.limited]
        warnings.warn(
            f"PICASSO source_sink_n at t={t}: the (source, sink) coefficients {pairs} "
            f"stopped on the bound that keeps the mixing matrix invertible (det >= {MIN_DET}): "
            "the MI does not separate these channels (a structure shared by their "
            "fluorophores?), so their unmixing is not reliable. Declare only the "
            "directions that really bleed (source_sink_matrix or sink_channels) or lower "
            "alpha_max",
            InseparableChannelsWarning,
            stacklevel=4,
        )
    return TimePoint(
        background=bg,
        scale=np.ones(n),
        matrix=fit.matrix,
        mixing=fit.mixing,
        iterations=fit.iterations,
        converged=fit.converged,
        history=fit.max_change,
        mixing_se=fit.alpha_se.T,
        zero_relations=zero,
    )


# ----------------------------------------------------------------------------- MATLAB scheme
def _fit_matlab(planes: np.ndarray, plan: Plan, t: int, split_sigma: float) -> Steps:
    """The MATLAB loop on max-normalised planes; the matrix and scale in input units."""
    opts, size = plan.opts, plan.pixel_bin_size
    if min(planes.shape[2:]) < 2 * size:
        raise ValueError(
            f"images of {planes.shape[2:]} pixels are too small for "
            f"pixel_bin_size={size}: use at most {min(planes.shape[2:]) // 2}"
        )
    exact = opts.reference_compatible
    scale, bg = _matlab_normalisation(planes, plan.channels, opts.background_percentile, exact)
    centred = (planes - bg[:, None, None, None].astype(np.float32)) / scale[
        :, None, None, None
    ].astype(np.float32)
    prepared = np.maximum(centred, 0)
    if plan.noise_aware:  # the MI step of source_sink_n, on split views when noisy
        fit = yield from iter_matlab_views(
            split_views(centred, split_sigma, opts.max_alpha_voxels, plan.rng),
            max_iter=opts.max_iter,
            tolerance=opts.tolerance,
            step_size=opts.step_size,
            alpha_clip=opts.alpha_clip,
            mi_bins=opts.mi_bins,
            random_state=plan.rng,
        )
    else:
        fit = yield from iter_matlab_picasso(
            prepared,
            update="sequential" if exact else "simultaneous",
            max_iter=opts.max_iter,
            tolerance=0.0 if exact else opts.tolerance,
            step_size=opts.step_size,
            qn=opts.qn,
            pixel_bin_size=size,
            alpha_clip=opts.alpha_clip,
            negativity_threshold=opts.negativity_threshold,
            clip_every_n_iterations=opts.clip_every_n_iterations,
        )
    matrix = np.diag(scale) @ fit.matrix @ np.diag(1 / scale)  # D U D⁻¹ acting on (I - b)
    if plan.output_units == "own_channel":
        out_scale, mixing = _own_channel_fit(planes, bg, prepared, fit, plan.rng)
    else:  # the mixing the linear part of the loop inverts, unit diagonal
        mix = np.linalg.inv(matrix)
        mixing = mix / np.diag(mix)[None, :]
        out_scale = scale if plan.output_units == "input" else np.ones(len(scale))
    return TimePoint(
        background=bg,
        scale=scale,
        matrix=matrix,
        mixing=mixing,
        iterations=fit.iterations,
        converged=fit.converged,
        history=fit.max_alpha,
        out_scale=out_scale,
        fit=fit,
        # residual alpha of sink i to source j in normalised units -> input units
        mixing_se=None if fit.alpha_se is None else fit.alpha_se * np.outer(scale, 1 / scale),
    )


def _matlab_normalisation(
    planes: np.ndarray, chans: list[int], percentile: float, reference_compatible: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel scale and background of the MATLAB scheme: ``(I - bg) / scale``.

    The published code divides by the channel maximum; by default the scale is the span
    above the background (``max - bg``), so an offset added to the data (a camera
    baseline, ``data - 5``) changes nothing.
    """
    flat = planes.reshape(planes.shape[0], -1)
    top = flat.max(axis=1).astype(np.float64)
    bg = np.percentile(flat, percentile, axis=1).astype(np.float64)
    scale = top if reference_compatible else top - bg
    bad = [c for c, v in zip(chans, scale, strict=True) if not v > 0]
    if bad:
        what = "maximum" if reference_compatible else "maximum above the background"
        fix = (
            "; reference_compatible=True divides by the maximum as the MATLAB code does "
            "and needs positive data: add an offset, or use reference_compatible=False"
            if reference_compatible
            else ""
        )
        raise ValueError(f"channel(s) {bad}: the {what} is not positive{fix}")
    return scale, bg


def _own_channel_fit(
    planes: np.ndarray,
    bg: np.ndarray,
    prepared: np.ndarray,
    fit: MatlabFit,
    rng: np.random.Generator,
    max_pixels: int = 100_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Blind scale of the MATLAB output: regress every measured channel on the unmixed ones.

    Under ``I = M F`` with unit-diagonal ``M`` and outputs ``o_k = d_k F_k``, the
    coefficient of ``o_k`` in the fit of ``I_k`` is ``1 / d_k``: multiplying ``o_k`` by it
    gives ``F_k`` in the units of its own channel. Returns those factors and the fitted
    mixing matrix (columns scaled to unit diagonal). Uses at most ``max_pixels`` seeded
    pixels (the replay is pixel-wise).
    """
    n = planes.shape[0]
    flat_prep, flat_meas = prepared.reshape(n, -1), planes.reshape(n, -1)
    if flat_prep.shape[1] > max_pixels:
        pick = np.sort(rng.choice(flat_prep.shape[1], max_pixels, replace=False))
        flat_prep, flat_meas = flat_prep[:, pick], flat_meas[:, pick]
    out = replay(flat_prep, fit).astype(np.float64)
    meas = np.maximum(flat_meas - bg[:, None], 0).astype(np.float64)
    design = np.vstack([out, np.ones(out.shape[1])]).T
    coef = np.linalg.lstsq(design, meas.T, rcond=None)[0][:n].T  # meas_j ≈ Σ_k coef_jk o_k
    factors = np.diag(coef).copy()
    if not np.all(factors > 0):
        raise ValueError(
            "the unmixed channels do not explain the measured ones (an own-channel scale "
            f"came out <= 0: {factors.tolist()}); use output_units='input' (the loop's "
            "output times each channel's span) or implementation='source_sink_n'"
        )
    return factors, coef / factors[None, :]


#: implementation name -> how it estimates one time point (see :class:`Scheme`)
IMPLEMENTATIONS = Registry(
    "implementation",
    [
        Method(
            "matlab_3c",
            Scheme(_fit_matlab, n_channels=3, noise_aware=True),
            "MATLAB PICASSO, 3 channels",
            "Iterative pairwise MI minimisation of the published MATLAB code (3 channels).",
        ),
        Method(
            "matlab_n",
            Scheme(_fit_matlab, noise_aware=True),
            "MATLAB PICASSO, N channels",
            "The same iterative scheme for any number (>= 2) of channels.",
        ),
        Method(
            "source_sink_n",
            Scheme(_fit_source_sink, noise_aware=True),
            "Source → sink (recommended)",
            "Declared sources bleed into sinks; alphas in [0, alpha_max] minimise the MI "
            "between corrected sink and unmixed source, without over-subtraction.",
        ),
    ],
)
