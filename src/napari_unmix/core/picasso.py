"""PICASSO blind unmixing of N fluorescence channels (``I = M F``, ``M`` unknown).

Three implementations (registry :data:`IMPLEMENTATIONS`):

* ``matlab_3c`` / ``matlab_n`` — the iterative scheme of the published MATLAB code
  (:mod:`napari_unmix.core.picasso_matlab`), for exactly 3 or any N >= 2 channels;
* ``source_sink_n`` — user-declared source→sink relations, guarded against
  over-subtraction (:mod:`napari_unmix.core.picasso_sourcesink`).

Estimation runs on one time point (``alpha_mode="reference_t"``) or on every time point
(``"per_t"``), on at most ``max_alpha_voxels`` voxels (whole Y–X planes for the MATLAB
scheme, seeded pixel samples for source–sink). Application is pixel-wise
(:func:`apply_unmixing`, :func:`apply_picasso`) and keeps dask arrays lazy.

Examples
--------
>>> from napari_unmix.core.synthetic import make_picasso_mix
>>> data, truth = make_picasso_mix(shape=(64, 64), random_state=1)
>>> res = estimate_picasso(data, implementation="source_sink_n")
>>> out = apply_picasso(data, res)
>>> out.shape, out.dtype.name
((1, 1, 3, 64, 64), 'float32')
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .axes import validate_tzcyx
from .picasso_apply import (
    _matrix_per_t,
    apply_unmixing,
    check_integers,
    crosstalk_metrics,
    is_integer,
    map_selected_channels,
    validate_channels,
)
from .picasso_matlab import MatlabFit, iter_matlab_picasso, replay
from .picasso_noise import auto_split_sigma, checkerboard_smoothed, noise_fraction
from .picasso_sourcesink import iter_source_sink, relations_from_matrix

__all__ = [
    "IMPLEMENTATIONS",
    "PicassoResult",
    "apply_picasso",
    "apply_unmixing",
    "auto_pixel_bin_size",
    "build_source_sink_matrix",
    "crosstalk_metrics",
    "estimate_picasso",
    "iter_estimate_picasso",
    "validate_channels",
]


class NoBleedThroughWarning(UserWarning):
    """A blind source–sink estimate found no bleed-through: the matrix is the identity."""


#: implementation name -> label, doc, channel rule
IMPLEMENTATIONS: dict[str, dict[str, Any]] = {
    "matlab_3c": {
        "label": "MATLAB PICASSO, 3 channels",
        "doc": "Iterative pairwise MI minimisation of the published MATLAB code (3 channels).",
        "n_channels": 3,
    },
    "matlab_n": {
        "label": "MATLAB PICASSO, N channels",
        "doc": "The same iterative scheme for any number (>= 2) of channels.",
        "n_channels": None,
    },
    "source_sink_n": {
        "label": "Source → sink (recommended)",
        "doc": "Declared sources bleed into sinks; alphas in [0, alpha_max] minimise the MI "
        "between corrected sink and unmixed source, without over-subtraction.",
        "n_channels": None,
    },
}

ALPHA_MODES = ("reference_t", "per_t", "fixed")
OUTPUT_UNITS = ("own_channel", "input", "normalized")


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


# ----------------------------------------------------------------------------- validation
def build_source_sink_matrix(
    n_channels: int,
    *,
    sink_channels: Sequence[int] | None = None,
    neutral_channels: Sequence[int] | None = None,
) -> np.ndarray:
    """Source–sink matrix (rows = sources, columns = sinks) from channel roles.

    Positions refer to the selected channels (0..n_channels-1). Every non-neutral channel
    may bleed into every sink except itself; neutral channels are neither sources nor
    sinks. Diagonal 1, ``-1`` marks source→sink, 0 none.

    Examples
    --------
    >>> build_source_sink_matrix(3, sink_channels=[2]).tolist()
    [[1, 0, -1], [0, 1, -1], [0, 0, 1]]
    """
    neutral = {int(c) for c in neutral_channels or []}
    sinks = (
        [c for c in range(n_channels) if c not in neutral]
        if sink_channels is None
        else [int(c) for c in sink_channels]
    )
    for name, group in (("sink_channels", sinks), ("neutral_channels", neutral)):
        bad = [c for c in group if not 0 <= c < n_channels]
        if bad:
            raise ValueError(f"{name} {bad} are not among the {n_channels} selected channels")
    if neutral & set(sinks):
        raise ValueError(f"channels {sorted(neutral & set(sinks))} are both sink and neutral")
    if not sinks:
        raise ValueError("no sink channel left; name at least one non-neutral sink")
    m = np.eye(n_channels, dtype=int)
    for src in range(n_channels):
        if src in neutral:
            continue
        for snk in sinks:
            if snk != src:
                m[src, snk] = -1
    return m


def _check_source_sink_matrix(m: Any, n: int) -> np.ndarray:
    m = np.asarray(m)
    if m.shape != (n, n):
        raise ValueError(f"source_sink_matrix must be {n}x{n} for {n} channels, got {m.shape=}")
    if not np.all(np.diag(m) == 1):
        raise ValueError(
            f"source_sink_matrix must have 1 on the diagonal, got diagonal {np.diag(m).tolist()}"
        )
    off = m[~np.eye(n, dtype=bool)]
    if not np.all(np.isin(off, (-1, 0))):
        raise ValueError("off-diagonal entries of source_sink_matrix must be -1 (source→sink) or 0")
    if not np.any(off == -1):
        raise ValueError("source_sink_matrix declares no source→sink relation (-1 entry)")
    return m.astype(int)


def _check_sample(sample: np.ndarray, channels: list[int]) -> int:
    """Fill a few NaN/inf pixels with the channel median (in place); refuse constant
    channels and channels that are mostly non-finite. Returns the filled pixel count."""
    filled = 0
    for k, c in enumerate(channels):
        ch = sample[k]
        bad = ~np.isfinite(ch)
        if bad.any():
            if bad.mean() > 0.5:
                raise ValueError(
                    f"channel {c} is {bad.mean():.0%} NaN or infinite at the estimation time "
                    "point; estimate on a time point with data (alpha_reference_t) or "
                    "replace them first"
                )
            ch[bad] = np.median(ch[~bad])  # a few dead pixels: no structure, no weight
            filled += int(bad.sum())
        lo, hi = float(ch.min()), float(ch.max())
        if not hi > lo:
            raise ValueError(
                f"channel {c} is constant (all values {lo:g}) at the estimation time point; "
                "PICASSO needs structure in every selected channel: deselect it"
            )
    return filled


# ----------------------------------------------------------------------------- result
@dataclass
class PicassoResult:
    """What an estimation found; apply it with :func:`apply_picasso`.

    Attributes
    ----------
    matrix : ndarray, shape (T, N, N)
        Unmixing matrix per time point in input intensity units, acting on the
        background-subtracted selected channels ``max(I - background, 0)``. For the MATLAB
        scheme this is the cumulative linear transform the loop applied; its clipping
        steps make the loop's output (``mode="replay"``) differ from it.
    background : ndarray, shape (T, N)
        Per-channel offsets (input units) subtracted before unmixing.
    scale : ndarray, shape (T, N)
        Per-channel normalisation (channel maximum; MATLAB scheme) or ones.
    out_scale : ndarray, shape (T, N)
        MATLAB scheme: factor from the loop's normalised output to the output units
        (``own_channel``: least-squares fit of each measured channel on the unmixed ones,
        so a fluorophore keeps the intensity it has in its own channel; ``input``: the
        channel maximum; ``normalized``: 1).
    mixing : ndarray, shape (T, N, N)
        Estimated mixing matrix with unit diagonal (``I ≈ mixing @ F``).
    mixing_se : ndarray, shape (T, N, N), optional
        Source–sink: standard error of every estimated mixing coefficient (spread of
        the MI minimum over disjoint pixel subsets); 0 where nothing was estimated.
    alpha_mode, noise_aware
        How the matrix was obtained (``"fixed"``: given by the caller) and whether the
        estimate may compare independently noisy views.
    noise_fraction, split_sigma
        Per estimated time point: the largest channel's share of variance that is pixel
        noise, and the smoothing of the split views used (0: not split, the noise was
        negligible or ``noise_aware=False``).
    non_finite_pixels : list of int
        Per estimated time point, NaN/inf values left out of the estimate (they stay
        NaN in the output).
    zero_relations : list of list of [int, int]
        Source–sink, per estimated time point: the ``[source, sink]`` channels (indices of
        the data) whose coefficient stayed at its lower bound 0, i.e. no bleed-through
        detectable in that direction (all of them: the matrix is the identity, and
        :class:`NoBleedThroughWarning` says so).
    """

    implementation: str
    channels: list[int]
    matrix: np.ndarray
    background: np.ndarray
    scale: np.ndarray
    mode: str = "linear"
    output_units: str = "own_channel"
    out_scale: np.ndarray | None = None
    estimated_t: list[int] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    converged: list[bool] = field(default_factory=list)
    history: list[list[float]] = field(default_factory=list)
    mixing: np.ndarray | None = None
    fits: list[Any] = field(default_factory=list)
    mixing_se: np.ndarray | None = None
    alpha_mode: str = "reference_t"
    noise_aware: bool = False
    noise_fraction: list[float] = field(default_factory=list)
    non_finite_pixels: list[int] = field(default_factory=list)
    split_sigma: list[float] = field(default_factory=list)
    zero_relations: list[list[list[int]]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (matrices per time point, iterations, convergence)."""
        out = {
            "implementation": self.implementation,
            "channels": self.channels,
            "mode": self.mode,
            "output_units": self.output_units,
            "unmixing_matrix_by_t": self.matrix,
            "background_by_t": self.background,
            "normalization_by_t": self.scale,
            "output_scale_by_t": self.out_scale,
            "estimated_t": self.estimated_t,
            "iterations_run": self.iterations,
            "converged": self.converged,
            "history": [[round(float(v), 6) for v in h] for h in self.history],
        }
        if self.mixing is not None:
            out["mixing_matrix_by_t"] = self.mixing
        if self.mixing_se is not None:
            out["mixing_standard_error_by_t"] = self.mixing_se
        out["alpha_mode"], out["noise_aware"] = self.alpha_mode, self.noise_aware
        out["noise_fraction"], out["split_sigma"] = self.noise_fraction, self.split_sigma
        out["non_finite_pixels_ignored"] = self.non_finite_pixels
        if self.implementation == "source_sink_n" and self.alpha_mode != "fixed":
            out["zero_relations"] = self.zero_relations
        return out


# ----------------------------------------------------------------------------- estimation
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


def iter_estimate_picasso(
    data: Any,
    /,
    *,
    channels: Sequence[int] | None = None,
    implementation: str = "matlab_3c",
    alpha_mode: str | None = None,
    alpha_reference_t: int = 0,
    source_sink_matrix: Any = None,
    sink_channels: Sequence[int] | None = None,
    neutral_channels: Sequence[int] | None = None,
    unmixing_matrix: Any = None,
    background_percentile: float = 1.0,
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
) -> Generator[dict, None, PicassoResult]:
    """Estimate PICASSO unmixing, yielding progress dicts; returns a :class:`PicassoResult`.

    Progress items: ``{"t", "iteration", "max_iter", "value"}`` (``value`` = largest
    |alpha| of the sweep for MATLAB, largest alpha change for source–sink).

    Parameters are those of :func:`napari_unmix.api.picasso.unmix_picasso_array`;
    ``channels``, ``sink_channels`` and ``neutral_channels`` are channel indices of
    ``data``. ``reference_compatible=True`` runs the MATLAB scheme as the
    ``spectral-unmixing`` package does (sequential row updates, always ``max_iter``
    iterations, max-normalised output). ``pixel_bin_size=None`` picks the block size
    with :func:`auto_pixel_bin_size`.
    """
    validate_tzcyx(data, min_channels=2)
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"{implementation=} is not one of {sorted(IMPLEMENTATIONS)}")
    alpha_mode = _resolve_alpha_mode(alpha_mode, unmixing_matrix)
    if noise_aware is None:
        noise_aware = implementation == "source_sink_n"
    if noise_aware and implementation != "source_sink_n":
        raise ValueError(
            f"noise_aware=True is implemented for 'source_sink_n', not {implementation!r} "
            "(the MATLAB scheme bins pixels instead); leave noise_aware unset"
        )
    if output_units not in OUTPUT_UNITS:
        raise ValueError(f"{output_units=} is not one of {OUTPUT_UNITS}")
    chans = validate_channels(channels, data.shape[2])
    n = len(chans)
    need = IMPLEMENTATIONS[implementation]["n_channels"]
    if need is not None and n != need and alpha_mode != "fixed":
        raise ValueError(
            f"implementation={implementation!r} needs exactly {need} channels, got {n} "
            f"({chans=}); select {need} channels or use 'matlab_n'"
        )
    n_t = data.shape[0]
    if pixel_bin_size is None:
        pixel_bin_size = auto_pixel_bin_size(data.shape[3:])
    _check_numbers(
        alpha_reference_t=alpha_reference_t,
        random_state=random_state,
        clip_every_n_iterations=clip_every_n_iterations,
        split_sigma=split_sigma,
        qn=qn,
        max_iter=max_iter,
        pixel_bin_size=pixel_bin_size,
        mi_bins=mi_bins,
        max_alpha_voxels=max_alpha_voxels,
        step_size=step_size,
        alpha_clip=alpha_clip,
        alpha_max=alpha_max,
        background_percentile=background_percentile,
        tolerance=tolerance,
    )
    if not 0 <= int(alpha_reference_t) < n_t:
        raise ValueError(f"{alpha_reference_t=} is outside the {n_t} time point(s)")
    is_ss = implementation == "source_sink_n"
    if not is_ss and (
        source_sink_matrix is not None or sink_channels is not None or neutral_channels is not None
    ):
        raise ValueError(
            "source_sink_matrix / sink_channels / neutral_channels need "
            "implementation='source_sink_n'"
        )
    relations: list[tuple[int, int]] = []
    if is_ss:
        if source_sink_matrix is not None and (sink_channels or neutral_channels):
            raise ValueError("give either source_sink_matrix or sink/neutral channels, not both")
        for name, group in (
            ("sink_channels", sink_channels),
            ("neutral_channels", neutral_channels),
        ):
            if group is not None:
                check_integers(name, group)
        if source_sink_matrix is None:
            pos = {c: k for k, c in enumerate(chans)}
            for name, group in (("sink_channels", sink_channels), ("neutral", neutral_channels)):
                missing = [c for c in group or [] if c not in pos]
                if missing:
                    raise ValueError(f"{name} {missing} are not among the selected {chans=}")
            source_sink_matrix = build_source_sink_matrix(
                n,
                sink_channels=None if sink_channels is None else [pos[c] for c in sink_channels],
                neutral_channels=[pos[c] for c in neutral_channels or []],
            )
        relations = relations_from_matrix(_check_source_sink_matrix(source_sink_matrix, n))

    result = PicassoResult(
        implementation=implementation,
        channels=chans,
        matrix=np.tile(np.eye(n), (n_t, 1, 1)),
        background=np.zeros((n_t, n)),
        scale=np.ones((n_t, n)),
        output_units=output_units,
        alpha_mode=alpha_mode,
        noise_aware=bool(noise_aware) and alpha_mode != "fixed",
    )
    if alpha_mode == "fixed":
        if unmixing_matrix is None:
            raise ValueError("alpha_mode='fixed' needs unmixing_matrix=... (N×N or T×N×N)")
        result.matrix = _matrix_per_t(unmixing_matrix, n, n_t)
        return result
    ts = [int(alpha_reference_t)] if alpha_mode == "reference_t" else list(range(n_t))
    if reference_compatible:
        result.output_units = "normalized"
    out_scale = np.ones((n_t, n))
    result.mixing = np.tile(np.eye(n), (n_t, 1, 1))
    rng = np.random.default_rng(random_state)
    fits = {}
    for t in ts:
        planes = _reference_planes(data, t, chans, max_alpha_voxels, rng)
        result.non_finite_pixels.append(_check_sample(planes, chans))
        fraction = float(noise_fraction(planes).max())
        sigma = auto_split_sigma(fraction) if split_sigma is None else float(split_sigma)
        split = bool(noise_aware) and sigma > 0
        result.noise_fraction.append(round(fraction, 5))
        result.split_sigma.append(sigma if split else 0.0)
        if is_ss:
            bg = np.percentile(planes.reshape(n, -1), background_percentile, axis=1)
            centred = planes - bg[:, None, None, None].astype(np.float32)
            if split:
                flat, partner = checkerboard_smoothed(centred, sigma)
            else:
                flat, partner = centred.reshape(n, -1), None
            if flat.shape[1] > max_alpha_voxels:
                pick = rng.choice(flat.shape[1], int(max_alpha_voxels), replace=False)
                flat = flat[:, pick]
                partner = None if partner is None else partner[:, pick]
            gen = iter_source_sink(
                flat,
                relations,
                partner=partner,
                alpha_max=alpha_max,
                mi_bins=mi_bins,
                max_iter=max_iter,
                tolerance=tolerance,
            )
            scale = np.ones(n)
        else:
            if min(planes.shape[2:]) < 2 * pixel_bin_size:
                raise ValueError(
                    f"images of {planes.shape[2:]} pixels are too small for "
                    f"{pixel_bin_size=}: use at most {min(planes.shape[2:]) // 2}"
                )
            scale, bg = _matlab_normalisation(
                planes, chans, background_percentile, reference_compatible
            )
            prepared = np.maximum(
                (planes - bg[:, None, None, None].astype(np.float32))
                / scale[:, None, None, None].astype(np.float32),
                0,
            )
            gen = iter_matlab_picasso(
                prepared,
                update="sequential" if reference_compatible else "simultaneous",
                max_iter=max_iter,
                tolerance=0.0 if reference_compatible else tolerance,
                step_size=step_size,
                qn=qn,
                pixel_bin_size=pixel_bin_size,
                alpha_clip=alpha_clip,
                negativity_threshold=negativity_threshold,
                clip_every_n_iterations=clip_every_n_iterations,
            )
        fit = yield from _relabel(gen, t, max_iter)
        fits[t] = fit
        result.estimated_t.append(t)
        result.iterations.append(fit.iterations)
        result.converged.append(fit.converged)
        result.history.append(fit.max_change if is_ss else fit.max_alpha)
        result.background[t], result.scale[t] = bg, scale
        if is_ss:
            result.matrix[t] = fit.matrix
            result.mixing[t] = fit.mixing
            if result.mixing_se is None:
                result.mixing_se = np.zeros((n_t, n, n))
            result.mixing_se[t] = fit.alpha_se.T
            zero = [[chans[i], chans[j]] for i, j in relations if fit.alpha[i, j] <= tolerance]
            result.zero_relations.append(zero)
            if relations and len(zero) == len(relations):
                warnings.warn(
                    f"PICASSO source_sink_n found no bleed-through at t={t}: every "
                    "coefficient stayed at 0, so the channels are returned unchanged. "
                    "The source-sink model sees no spill-over to remove (check the "
                    "scatter plot); implementation='matlab_n' may subtract more, but "
                    "it can over-subtract (negative correlation afterwards)",
                    NoBleedThroughWarning,
                    stacklevel=2,
                )
        else:  # input units: D U D⁻¹ acting on (I - b)
            result.matrix[t] = np.diag(scale) @ fit.matrix @ np.diag(1 / scale)
            if result.output_units == "own_channel":
                out_scale[t], result.mixing[t] = _own_channel_fit(planes, bg, prepared, fit, rng)
            else:  # the mixing the linear part of the loop inverts, unit diagonal
                mix = np.linalg.inv(result.matrix[t])
                result.mixing[t] = mix / np.diag(mix)[None, :]
            if result.output_units == "input":
                out_scale[t] = scale
            elif result.output_units == "normalized":
                out_scale[t] = 1.0
    if alpha_mode == "reference_t":
        t0 = ts[0]
        arrays = [result.matrix, result.background, result.scale, out_scale, result.mixing]
        for arr in arrays + ([result.mixing_se] if result.mixing_se is not None else []):
            arr[:] = arr[t0]
    if not is_ss:
        result.mode = "replay"
        result.out_scale = out_scale
        result.fits = [fits[t] if t in fits else fits[ts[0]] for t in range(n_t)]
    return result


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


def _relabel(gen: Generator, t: int, max_iter: int) -> Generator[dict, None, Any]:
    """Forward a solver's progress with the time point added; return its result."""
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        value = item.get("max_alpha", item.get("max_change"))
        yield {"t": t, "iteration": item["iteration"], "max_iter": max_iter, "value": value}


def estimate_picasso(data: Any, /, **kwargs: Any) -> PicassoResult:
    """Run :func:`iter_estimate_picasso` to the end and return its result."""
    gen = iter_estimate_picasso(data, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def _resolve_alpha_mode(alpha_mode: str | None, unmixing_matrix: Any) -> str:
    """``alpha_mode`` to run: a given matrix is applied, never silently replaced."""
    if alpha_mode is None:
        return "reference_t" if unmixing_matrix is None else "fixed"
    if alpha_mode not in ALPHA_MODES:
        raise ValueError(f"{alpha_mode=} is not one of {ALPHA_MODES}")
    if unmixing_matrix is not None and alpha_mode != "fixed":
        raise ValueError(
            f"unmixing_matrix is given but {alpha_mode=} estimates a new matrix: pass "
            "alpha_mode='fixed' (or leave alpha_mode unset) to apply the given matrix, "
            "or drop unmixing_matrix to estimate one"
        )
    return alpha_mode


def _check_numbers(**v: Any) -> None:
    ints = {"qn": (2, 10_000), "max_iter": (1, 100_000), "pixel_bin_size": (1, 4096)}
    ints |= {"mi_bins": (2, 4096), "max_alpha_voxels": (100, 10**10)}
    ints |= {"alpha_reference_t": (0, 10**9), "random_state": (0, 2**63 - 1)}
    ints |= {"clip_every_n_iterations": (0, 10**9)}
    for name, (lo, hi) in ints.items():
        val = v[name]
        if not is_integer(val) or not lo <= int(val) <= hi:
            raise ValueError(
                f"{name} must be an integer in [{lo}, {hi}], got {name}={val!r}"
                + (f" ({type(val).__name__})" if not is_integer(val) else "")
            )
    if v["split_sigma"] is not None and not v["split_sigma"] > 0:
        raise ValueError(
            f"split_sigma must be > 0 (pixels) or None (from the noise), got {v['split_sigma']!r}"
        )
    for name in ("step_size", "alpha_clip", "alpha_max"):
        if not v[name] > 0:
            raise ValueError(f"{name} must be > 0, got {name}={v[name]!r}")
    if not 0 <= v["background_percentile"] < 100:
        raise ValueError(
            f"background_percentile must be in [0, 100), got {v['background_percentile']}"
        )
    if not v["tolerance"] >= 0:
        raise ValueError(f"tolerance must be >= 0, got {v['tolerance']!r}")


# ----------------------------------------------------------------------------- application
def apply_picasso(
    data: Any,
    result: PicassoResult,
    /,
    *,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
) -> Any:
    """Apply an estimated :class:`PicassoResult` to every time point of ``data``.

    Linear results go through :func:`apply_unmixing`. MATLAB-scheme results replay the
    loop (its transforms and clipping) on every time point, normalised with the
    estimation time point's maxima and backgrounds (``alpha_mode="reference_t"``) so all
    time points are treated alike, then scales by ``result.out_scale``.
    """
    if result.mode == "linear" or result.out_scale is None:
        return apply_unmixing(
            data,
            result.matrix,
            channels=result.channels,
            clip_negative=clip_negative,
            output_dtype=output_dtype,
            background=result.background,
        )
    validate_tzcyx(data)
    if data.shape[0] != len(result.fits):
        raise ValueError(
            f"result was estimated for {len(result.fits)} time points, data has {data.shape[0]}"
        )
    scale = result.scale.astype(np.float32)
    bg = result.background.astype(np.float32)
    out_scale = result.out_scale.astype(np.float32)

    def fn(sel: np.ndarray, t: int) -> np.ndarray:
        s = scale[t][:, None, None, None]
        prepared = np.maximum(sel / s - bg[t][:, None, None, None] / s, 0)
        return replay(prepared, result.fits[t]) * out_scale[t][:, None, None, None]

    return map_selected_channels(
        data, result.channels, fn, clip_negative=clip_negative, output_dtype=output_dtype
    )
