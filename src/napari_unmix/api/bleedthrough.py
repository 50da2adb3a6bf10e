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
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from ..core._bleedthrough_exact import check_integer, check_random_state
from ..core.axes import validate_tzcyx
from ..core.bleedthrough import (
    ALPHA_METHODS,
    AlphaEstimate,
    apply_correction,
    correction_diagnostics,
    estimate_alpha,
    make_alpha_mask,
    prepare_source_target_for_alpha,
    sample_voxels,
)
from ..core.report import describe_array, start_report, to_jsonable

__all__ = [
    "ALPHA_MODES",
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

#: How alpha varies over time: one given value, one estimated at a reference time
#: point, or one estimated per time point.
ALPHA_MODES = ("fixed", "reference_t", "per_t")
_REVERSE_SEED_OFFSET = 10_000  # as in spectral-unmixing: the reverse direction's seed


def report_path_from_output_path(output_path: str | os.PathLike) -> Path:
    """The JSON sidecar written next to ``output_path`` (``<output>.json``).

    Examples
    --------
    >>> report_path_from_output_path("out/cells.ome.tif").name
    'cells.ome.tif.json'
    """
    path = Path(output_path)
    return path.with_name(path.name + ".json")


def _resolve_mode(alpha_mode: str | None, alpha: Any, method: str) -> tuple[str, bool]:
    if alpha_mode is not None:
        mode = str(alpha_mode).strip().lower()
        if mode not in ALPHA_MODES:
            raise ValueError(f"alpha_mode must be one of {ALPHA_MODES} or None, got {alpha_mode!r}")
        return mode, False
    if alpha is not None:
        return "fixed", True
    if method == "manual":
        raise ValueError(
            "method='manual' needs a value: give alpha=..., or choose an estimating method "
            f"({', '.join(m for m in ALPHA_METHODS if m != 'manual')})"
        )
    return "reference_t", True


def _seed(random_state: Any, offset: int) -> Any:
    return random_state + offset if isinstance(random_state, int | np.integer) else random_state


def _given_alpha(alpha: Any, n_t: int, *, label: str, mode: str) -> np.ndarray:
    """A given alpha as one value per time point, or a message why it cannot be used.

    ``fixed``: one value (for every time point) or T values. ``per_t``: T values, one per
    time point. ``reference_t`` estimates, so a given alpha would be ignored: refused.
    """
    try:
        a = np.asarray(alpha, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{label} alpha must be numbers, got {alpha!r}") from err
    if not np.all(np.isfinite(a)) or np.any(a < 0) or a.size == 0:
        raise ValueError(
            f"{label} alpha must be >= 0 (one value or one per time point, T={n_t}), "
            f"got {a.tolist()}"
        )
    given_per_t = np.ndim(alpha) > 0 and a.size == n_t
    if mode == "fixed" and a.size in (1, n_t):
        return np.broadcast_to(a, (n_t,)).copy()
    if mode == "per_t" and given_per_t:
        return a
    if mode == "fixed":
        need = "one value or one per time point"
    elif mode == "per_t":
        need = (
            f"a sequence of {n_t} values, one per time point (one value for every time point: "
            "alpha_mode='fixed')"
        )
    else:
        need = None
    if need is not None:
        raise ValueError(
            f"{label} alpha has {a.size} value(s) but alpha_mode={mode!r} needs {need}, "
            f"T={n_t}; got {a.tolist()}"
        )
    raise ValueError(
        f"alpha_mode={mode!r} estimates alpha, so the given {label} alpha {a.tolist()} would "
        "be ignored. To apply it: alpha_mode='fixed' (one value, or one per time point); "
        f"per time point: alpha_mode='per_t' with {n_t} values; to estimate: leave alpha out"
    )


def _direction(
    data: Any,
    *,
    label: str,
    src: int,
    tgt: int,
    mode: str,
    alpha: Any,
    t_ref: int,
    seed_offset: int,
    est_kw: dict[str, Any],
) -> Generator[dict, None, dict]:
    """Alpha per time point for one direction; yields progress, returns a report part."""
    n_t = data.shape[0]
    method = est_kw["method"]
    if mode == "fixed" and alpha is None:
        raise ValueError(f"alpha_mode='fixed' needs alpha for the {label} direction")
    if alpha is not None:
        a = _given_alpha(alpha, n_t, label=label, mode=mode)
        yield {"message": f"{label}: alpha given ({', '.join(f'{v:.4f}' for v in a[:4])})"}
        return {
            "source_channel": src,
            "target_channel": tgt,
            "method": method,
            "method_effective": "manual",
            "alpha_source": "user_provided",
            "alpha_by_t": a.tolist(),
            "ci95_by_t": None,
            "estimates": [],
            "_objects": [],
        }
    if method == "manual":
        raise ValueError(
            f"method='manual' cannot estimate alpha (alpha_mode={mode!r}); use alpha_mode='fixed' "
            "with alpha=..., or choose an estimating method"
        )
    if mode == "reference_t":
        t_ref = check_integer("alpha_reference_t", t_ref)
        if not 0 <= t_ref < n_t:
            raise ValueError(f"alpha_reference_t={t_ref} is out of range for T={n_t} time points")
        times = [t_ref]
    else:
        times = list(range(n_t))
    estimates: list[AlphaEstimate] = []
    for t in times:
        kw = dict(
            est_kw, random_state=_seed(est_kw["random_state"], seed_offset + t * (mode == "per_t"))
        )
        est = estimate_alpha(data[t, :, src], data[t, :, tgt], **kw)
        estimates.append(est)
        ci = "" if est.ci is None else f" (95% CI {est.ci[0]:.4f}-{est.ci[1]:.4f})"
        yield {"message": f"{label}: t={t} alpha={est.alpha:.4f}{ci} [{est.method}]"}
    alphas = np.array([e.alpha for e in estimates])
    cis = [None if e.ci is None else list(e.ci) for e in estimates]
    if mode == "reference_t":
        alphas = np.full(n_t, alphas[0])
        cis = cis * n_t
    return {
        "source_channel": src,
        "target_channel": tgt,
        "method": method,
        "method_effective": method,
        "alpha_source": "estimated",
        "alpha_by_t": alphas.tolist(),
        "ci95_by_t": cis,
        "estimates": [{"t": t, **e.to_dict()} for t, e in zip(times, estimates, strict=True)],
        "mask_voxel_count_by_t": [e.details["mask_voxel_count"] for e in estimates],
        "mask_fallback_used": any(e.details["mask_fallback_used"] for e in estimates),
        "_objects": estimates,
    }


def _check_data(data: Any, source_channel: int, target_channel: int) -> tuple[int, int]:
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    if data.ndim != 5:
        raise ValueError(
            f"expected a 5-D TZCYX array, got {data.shape=}; convert it with "
            "napari_unmix.to_tzcyx(data, axes=...)"
        )
    validate_tzcyx(data, min_channels=2)
    if data.dtype.kind not in "uif":
        raise ValueError(f"expected numeric image data, got {data.dtype=}")
    n_c = data.shape[2]
    s = check_integer("source_channel", source_channel)
    t = check_integer("target_channel", target_channel)
    for name, ch in (("source_channel", s), ("target_channel", t)):
        if not 0 <= ch < n_c:
            raise ValueError(
                f"{name}={ch} is out of range: the data have {n_c} channels (0..{n_c - 1})"
            )
    if s == t:
        raise ValueError(f"source_channel and target_channel must differ, both are {s}")
    return s, t


def estimate_bleedthrough(data: Any, /, **kwargs: Any) -> dict:
    """Only the estimation part of :func:`unmix_array`: the report without corrected data.

    Takes the same keywords as :func:`unmix_array`. The returned dict has
    ``"forward"`` (and ``"reverse"`` when bidirectional) with ``alpha_by_t``,
    ``ci95_by_t`` and per-estimate details, plus ``"estimates"``: the
    :class:`~napari_unmix.core.bleedthrough.AlphaEstimate` objects (for plots).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(64, 64), noise_sigma=0)
    >>> rep = estimate_bleedthrough(data, method="linear_fit", n_bootstrap=0)
    >>> len(rep["forward"]["alpha_by_t"])
    1
    """
    gen = estimate_bleedthrough_steps(data, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def estimate_bleedthrough_steps(
    data: Any,
    /,
    *,
    alpha: Any = None,
    alpha_mode: str | None = None,
    alpha_reference_t: int = 0,
    source_channel: int = 0,
    target_channel: int = 1,
    signal_percentile: float = 99.0,
    target_low_percentile: float | None = None,
    background_percentile: float = 1.0,
    method: str = "mean_ratio",
    bidirectional: bool = False,
    alpha_reverse: Any = None,
    method_reverse: str | None = None,
    preprocess_alpha_inputs: bool = True,
    alpha_max: float = 1.0,
    signal_percentile_reverse: float | None = None,
    background_percentile_reverse: float | None = None,
    target_low_percentile_reverse: float | None = None,
    alpha_max_reverse: float | None = None,
    mi_bins: int = 64,
    mi_bins_reverse: int | None = None,
    max_alpha_voxels: int | None = 500_000,
    random_state: Any = 0,
    min_mask_voxels: int = 16,
    n_bootstrap: int = 100,
) -> Generator[dict, None, dict]:
    """Generator form of :func:`estimate_bleedthrough`: yields progress, returns the report.

    Keywords as in :func:`unmix_array` (without ``clip_negative``/``output_dtype``).
    """
    s, t = _check_data(data, source_channel, target_channel)
    random_state = check_random_state(random_state)
    check_integer("alpha_reference_t", alpha_reference_t, minimum=0)
    check_integer("n_bootstrap", n_bootstrap, minimum=0)
    check_integer("min_mask_voxels", min_mask_voxels, minimum=1)
    for name, bins in (("mi_bins", mi_bins), ("mi_bins_reverse", mi_bins_reverse)):
        if bins is not None:
            check_integer(name, bins, minimum=2)
    if max_alpha_voxels is not None:
        check_integer("max_alpha_voxels", max_alpha_voxels, minimum=1)
    method = str(method).strip().lower()
    if method not in ALPHA_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {sorted(ALPHA_METHODS)}")
    mode, defaulted = _resolve_mode(alpha_mode, alpha, method)

    def inherit(rev: Any, fwd: Any) -> Any:
        return fwd if rev is None else rev

    common = {
        "preprocess_alpha_inputs": preprocess_alpha_inputs,
        "max_alpha_voxels": max_alpha_voxels,
        "random_state": random_state,
        "min_mask_voxels": min_mask_voxels,
        "n_bootstrap": n_bootstrap,
    }
    fwd_kw = {
        "method": method,
        "signal_percentile": signal_percentile,
        "target_low_percentile": target_low_percentile,
        "background_percentile": background_percentile,
        "alpha_max": alpha_max,
        "mi_bins": mi_bins,
        **common,
    }
    out: dict[str, Any] = {"alpha_mode": mode, "alpha_mode_was_defaulted": defaulted}
    fwd = yield from _direction(
        data, label="forward", src=s, tgt=t, mode=mode, alpha=alpha, t_ref=alpha_reference_t,
        seed_offset=0, est_kw=fwd_kw,
    )  # fmt: skip
    rev = None
    if bidirectional:
        rev_kw = {
            "method": str(inherit(method_reverse, method)).strip().lower(),
            "signal_percentile": inherit(signal_percentile_reverse, signal_percentile),
            "target_low_percentile": inherit(target_low_percentile_reverse, target_low_percentile),
            "background_percentile": inherit(background_percentile_reverse, background_percentile),
            "alpha_max": inherit(alpha_max_reverse, alpha_max),
            "mi_bins": inherit(mi_bins_reverse, mi_bins),
            **common,
        }
        if rev_kw["method"] not in ALPHA_METHODS:
            raise ValueError(
                f"unknown method_reverse {method_reverse!r}; choose one of {sorted(ALPHA_METHODS)}"
            )
        rev = yield from _direction(
            data, label="reverse", src=t, tgt=s, mode=mode, alpha=inherit(alpha_reverse, alpha),
            t_ref=alpha_reference_t, seed_offset=_REVERSE_SEED_OFFSET, est_kw=rev_kw,
        )  # fmt: skip
        det = 1.0 - np.asarray(fwd["alpha_by_t"]) * np.asarray(rev["alpha_by_t"])
        if np.any(det <= 0):
            raise ValueError(
                "alpha * alpha_reverse >= 1: the 2x2 mixing matrix cannot be inverted "
                f"(alpha={fwd['alpha_by_t']}, alpha_reverse={rev['alpha_by_t']}); lower alpha_max "
                "or give the coefficients"
            )
        out["determinant_by_t"] = det.tolist()
    out["estimates"] = {
        "forward": fwd.pop("_objects"),
        "reverse": rev.pop("_objects") if rev else [],
    }
    out["forward"], out["reverse"] = fwd, rev
    for key, part in (("alpha", fwd), ("alpha_reverse", rev)):
        vals = None if part is None else part["alpha_by_t"]
        out[f"{key}_by_t"] = vals
        out[key] = None if vals is None or len(set(vals)) > 1 else vals[0]
    return out


def _diagnostics(
    data: Any, rep: dict, *, clip_negative: bool, mi_bins: int, max_voxels: Any, seed: Any
) -> dict:
    """Correlation and MI of source vs target, before and after, on a seeded sample."""
    s, t = rep["forward"]["source_channel"], rep["forward"]["target_channel"]
    (xs, ys), flat = sample_voxels(
        data[:, :, s], data[:, :, t], max_voxels=max_voxels, random_state=seed
    )
    xs, ys = xs.astype(np.float32), ys.astype(np.float32)
    plane = int(np.prod(data.shape[1:2] + data.shape[3:]))
    t_idx = (np.arange(xs.size) if flat is None else flat) // plane
    a = np.asarray(rep["alpha_by_t"], np.float32)[t_idx]
    new_t = ys - a * xs
    new_s = xs
    if rep["reverse"] is not None:
        ar = np.asarray(rep["alpha_reverse_by_t"], np.float32)[t_idx]
        det = 1 - a * ar
        new_s, new_t = (xs - ar * ys) / det, new_t / det
    if clip_negative:
        new_t, new_s = np.maximum(new_t, 0), np.maximum(new_s, 0)
    d = correction_diagnostics(xs, ys, new_t, mi_bins=mi_bins)
    if rep["reverse"] is not None:
        after = correction_diagnostics(new_s, ys, new_t, mi_bins=mi_bins)
        d["pearson_after"], d["mi_after"] = after["pearson_after"], after["mi_after"]
    return d


def unmix_array_steps(
    data: Any,
    /,
    *,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    out: np.ndarray | None = None,
    **kwargs: Any,
) -> Generator[dict, None, tuple[Any, dict]]:
    """Generator form of :func:`unmix_array`: yields progress dicts, returns the result.

    Each yielded dict has ``"message"``; the generator's return value (``StopIteration``)
    is ``(corrected, report)``. Widgets run it in a ``thread_worker``; scripts use
    :func:`unmix_array`.
    """
    params = {"clip_negative": clip_negative, "output_dtype": str(output_dtype), **kwargs}
    report = start_report("bleedthrough", params, data=describe_array(data, axes="TZCYX"))
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    est = yield from estimate_bleedthrough_steps(data, **kwargs)
    est.pop("estimates")
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        for name, ch in (
            ("source", est["forward"]["source_channel"]),
            ("target", est["forward"]["target_channel"]),
        ):
            if not all(np.isfinite(data[t, :, ch]).all() for t in range(data.shape[0])):
                raise ValueError(
                    f"the {name} channel contains NaN or infinite values; replace them "
                    "(e.g. with 0) before correcting"
                )
    diagnostics = to_jsonable(
        _diagnostics(
            data,
            est,
            clip_negative=clip_negative,
            mi_bins=int(kwargs.get("mi_bins", 64)),
            max_voxels=kwargs.get("max_alpha_voxels", 500_000),
            seed=kwargs.get("random_state", 0),
        )
    )
    yield {"message": "applying the correction"}
    corrected = apply_correction(
        data,
        est["alpha_by_t"],
        source_channel=est["forward"]["source_channel"],
        target_channel=est["forward"]["target_channel"],
        alpha_reverse=est["alpha_reverse_by_t"],
        clip_negative=clip_negative,
        output_dtype=output_dtype,
        out=out,
    )
    report.update(to_jsonable(est))
    report["diagnostics"] = diagnostics
    report.update(
        axis_order="TZCYX",
        output_dtype=str(corrected.dtype),
        output_shape=list(corrected.shape),
        clip_negative=bool(clip_negative),
        bidirectional=est["reverse"] is not None,
    )
    return corrected, report


def unmix_array(
    data: Any,
    /,
    *,
    alpha: Any = None,
    alpha_mode: str | None = None,
    alpha_reference_t: int = 0,
    source_channel: int = 0,
    target_channel: int = 1,
    signal_percentile: float = 99.0,
    target_low_percentile: float | None = None,
    background_percentile: float = 1.0,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    verbose: bool = False,
    method: str = "mean_ratio",
    bidirectional: bool = False,
    alpha_reverse: Any = None,
    method_reverse: str | None = None,
    preprocess_alpha_inputs: bool = True,
    alpha_max: float = 1.0,
    signal_percentile_reverse: float | None = None,
    background_percentile_reverse: float | None = None,
    target_low_percentile_reverse: float | None = None,
    alpha_max_reverse: float | None = None,
    mi_bins: int = 64,
    mi_bins_reverse: int | None = None,
    max_alpha_voxels: int | None = 500_000,
    random_state: Any = 0,
    min_mask_voxels: int = 16,
    n_bootstrap: int = 100,
    out: np.ndarray | None = None,
) -> tuple[Any, dict]:
    """Correct bleed-through in a TZCYX array; return ``(corrected, report)``.

    Parameters are those of :func:`unmix` (without the paths), plus ``n_bootstrap``
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
    kwargs = {
        k: v
        for k, v in locals().items()
        if k not in {"data", "verbose", "clip_negative", "output_dtype", "out"}
    }
    gen = unmix_array_steps(
        data, clip_negative=clip_negative, output_dtype=output_dtype, out=out, **kwargs
    )
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        if verbose:
            print(step["message"], flush=True)


def unmix(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    alpha: Any = None,
    alpha_mode: str | None = None,
    alpha_reference_t: int = 0,
    source_channel: int = 0,
    target_channel: int = 1,
    signal_percentile: float = 99.0,
    target_low_percentile: float | None = None,
    background_percentile: float = 1.0,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    verbose: bool = True,
    method: str = "mean_ratio",
    bidirectional: bool = False,
    alpha_reverse: Any = None,
    method_reverse: str | None = None,
    preprocess_alpha_inputs: bool = True,
    alpha_max: float = 1.0,
    signal_percentile_reverse: float | None = None,
    background_percentile_reverse: float | None = None,
    target_low_percentile_reverse: float | None = None,
    alpha_max_reverse: float | None = None,
    mi_bins: int = 64,
    mi_bins_reverse: int | None = None,
    max_alpha_voxels: int | None = 500_000,
    random_state: Any = 0,
    min_mask_voxels: int = 16,
    *,
    n_bootstrap: int = 100,
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
    alpha : float, optional
        Bleed-through coefficient. Given and ``alpha_mode=None``: used as is ("fixed").
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
        Bootstrap resamples for the 95% interval of each estimated alpha (0: none).
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
    kwargs = {
        k: v
        for k, v in locals().items()
        if k
        not in {
            "input_path", "output_path", "output_format", "overwrite", "compression_level",
            "scheduler",
        }
    }  # fmt: skip
    from ._files import (
        check_output,
        is_lazy_input,
        open_input,
        resolve_output_format,
        save_output,
        use_scheduler,
    )

    fmt = resolve_output_format(output_format)
    input_path, output_path = Path(input_path), Path(output_path)
    check_output(output_path, output_format=fmt, overwrite=overwrite, inputs=(input_path,))
    with use_scheduler(scheduler):
        if verbose:
            print(f"reading {input_path}", flush=True)
        if fmt == "ome-zarr" or is_lazy_input(input_path):
            # lazy: estimation streams bounded-memory passes, the correction goes chunk by chunk
            data, meta = open_input(input_path, lazy=True)
            corrected, report = unmix_array(data, **kwargs)
        else:
            data, meta = open_input(input_path, lazy=False)
            # the stack just read is ours, not the caller's: correct it in place when the
            # output dtype allows (one stack-sized buffer instead of two: faster, half the memory)
            same = str(output_dtype).lower() in {"same", "input"}
            try:
                in_place = same or np.dtype(output_dtype) == data.dtype
            except TypeError:
                in_place = False  # an invalid dtype: unmix_array says what is wrong
            corrected, report = unmix_array(data, out=data if in_place else None, **kwargs)
        del data
        if verbose:
            print(
                f"writing {output_path} ({fmt}, compression level {compression_level})", flush=True
            )
        report["inputs"]["input_path"] = str(input_path)
        report["channel_names"] = meta["channel_names"]
        report["physical_size_zyx"] = list(meta["physical_size"])
        out = save_output(
            output_path,
            corrected,
            meta,
            report,
            output_format=fmt,
            overwrite=overwrite,
            compression_level=compression_level,
        )
    if verbose:
        print(f"report: {report_path_from_output_path(out)}", flush=True)
    return out
