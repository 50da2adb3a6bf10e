"""Estimation half of the bleed-through API: alpha per direction and time point.

:func:`estimate_bleedthrough_steps` checks every option up front, resolves ``alpha_mode``,
uses or refuses the alphas the user gives, and estimates the others with
:func:`napari_unmix.core.bleedthrough.estimate_alpha`. :mod:`napari_unmix.api.bleedthrough`
re-exports it next to ``unmix`` / ``unmix_array``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from ..core._bleedthrough_exact import check_random_state
from ..core.axes import validate_tzcyx
from ..core.bleedthrough import ALPHA_METHODS, AlphaEstimate, estimate_alpha
from ..core.validate import check_int

__all__ = [
    "ALPHA_MODES",
    "check_options",
    "estimate_bleedthrough",
    "estimate_bleedthrough_steps",
]

#: How alpha varies over time: one given value, one estimated at a reference time
#: point, or one estimated per time point.
ALPHA_MODES = ("fixed", "reference_t", "per_t")
_REVERSE_SEED_OFFSET = 10_000  # as in spectral-unmixing: the reverse direction's seed


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


def _given_alpha(alpha: Any, n_t: int | None, *, label: str, mode: str) -> np.ndarray:
    """A given alpha as one value per time point, or a message why it cannot be used.

    ``fixed``: one value (for every time point) or T values. ``per_t``: T values, one per
    time point. ``reference_t`` estimates, so a given alpha would be ignored: refused.
    ``n_t=None`` (T not known yet, e.g. before reading a file): the checks that need no T.
    """
    try:
        a = np.asarray(alpha, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{label} alpha must be numbers, got {alpha!r}") from err
    n = "T" if n_t is None else n_t  # (in messages)
    if not np.all(np.isfinite(a)) or np.any(a < 0) or a.size == 0:
        raise ValueError(
            f"{label} alpha must be >= 0 (one value or one per time point, T={n}), got {a.tolist()}"
        )
    if mode == "reference_t":
        raise ValueError(
            f"alpha_mode='reference_t' estimates alpha, so the given {label} alpha {a.tolist()} "
            "would be ignored. To apply it: alpha_mode='fixed' (one value, or one per time "
            f"point); per time point: alpha_mode='per_t' with {n} values; to estimate: leave "
            "alpha out"
        )
    sizes = {"fixed": (1, n_t), "per_t": (n_t,)}[mode]
    sequence_ok = mode == "fixed" or np.ndim(alpha) > 0
    if sequence_ok and (n_t is None or a.size in sizes):
        return a if n_t is None else np.broadcast_to(a, (n_t,)).copy()
    count = "a sequence" if n_t is None else f"a sequence of {n_t} values"
    need = (
        "one value or one per time point"
        if mode == "fixed"
        else f"{count}, one per time point (one value for every time point: alpha_mode='fixed')"
    )
    where = "" if n_t is None else f" (T={n_t})"
    raise ValueError(
        f"{label} alpha has {a.size} value(s) but alpha_mode={mode!r} needs {need}{where}; "
        f"got {a.tolist()}"
    )


def check_options(
    *,
    alpha: Any = None,
    alpha_mode: str | None = None,
    alpha_reverse: Any = None,
    method: str = "mean_ratio",
    method_reverse: str | None = None,
    bidirectional: bool = False,
    alpha_reference_t: int = 0,
    source_channel: int = 0,
    target_channel: int = 1,
    mi_bins: int = 64,
    mi_bins_reverse: int | None = None,
    max_alpha_voxels: int | None = 500_000,
    random_state: Any = 0,
    min_mask_voxels: int = 16,
    n_bootstrap: int = 100,
    n_t: int | None = None,
) -> tuple[str, bool, Any]:
    """Every check that needs no data, so a file-level call fails before reading its input.

    ``n_t``: the number of time points when known (checks the length of given alphas).
    Returns ``(alpha_mode, alpha_mode_was_defaulted, random_state)``.

    Examples
    --------
    >>> check_options(alpha=[0.1, 0.2], alpha_mode="per_t")
    ('per_t', False, 0)
    >>> check_options(alpha=0.1, alpha_mode="per_t")
    Traceback (most recent call last):
    ...
    ValueError: forward alpha has 1 value(s) but alpha_mode='per_t' needs a sequence, one per time point (one value for every time point: alpha_mode='fixed'); got [0.1]
    """
    check_int("source_channel", source_channel, minimum=0)
    check_int("target_channel", target_channel, minimum=0)
    random_state = check_random_state(random_state)
    check_int("alpha_reference_t", alpha_reference_t, minimum=0)
    check_int("n_bootstrap", n_bootstrap, minimum=0)
    check_int("min_mask_voxels", min_mask_voxels, minimum=1)
    for name, bins in (("mi_bins", mi_bins), ("mi_bins_reverse", mi_bins_reverse)):
        if bins is not None:
            check_int(name, bins, minimum=2)
    if max_alpha_voxels is not None:
        check_int("max_alpha_voxels", max_alpha_voxels, minimum=1)
    for name, m in (("method", method), ("method_reverse", method_reverse)):
        if m is not None and str(m).strip().lower() not in ALPHA_METHODS:
            raise ValueError(f"unknown {name} {m!r}; choose one of {sorted(ALPHA_METHODS)}")
    mode, defaulted = _resolve_mode(alpha_mode, alpha, str(method).strip().lower())
    if alpha is not None:
        _given_alpha(alpha, n_t, label="forward", mode=mode)
    rev = alpha if alpha_reverse is None else alpha_reverse
    if bidirectional and rev is not None:
        _given_alpha(rev, n_t, label="reverse", mode=mode)
    return mode, defaulted, random_state


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
        t_ref = check_int("alpha_reference_t", t_ref)
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
    s = check_int("source_channel", source_channel)
    t = check_int("target_channel", target_channel)
    for name, ch in (("source_channel", s), ("target_channel", t)):
        if not 0 <= ch < n_c:
            raise ValueError(
                f"{name}={ch} is out of range: the data have {n_c} channels (0..{n_c - 1})"
            )
    if s == t:
        raise ValueError(f"source_channel and target_channel must differ, both are {s}")
    return s, t


def estimate_bleedthrough(data: Any, /, **kwargs: Any) -> dict:
    """Only the estimation part of :func:`~napari_unmix.api.bleedthrough.unmix_array`.

    Takes the same keywords and returns the report without corrected data: ``"forward"`` (and ``"reverse"`` when bidirectional) with ``alpha_by_t``,
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

    Keywords as in :func:`~napari_unmix.api.bleedthrough.unmix_array` (without
    ``clip_negative`` / ``output_dtype``).
    """
    s, t = _check_data(data, source_channel, target_channel)
    mode, defaulted, random_state = check_options(
        alpha=alpha, alpha_mode=alpha_mode, alpha_reverse=alpha_reverse, method=method,
        method_reverse=method_reverse, bidirectional=bidirectional,
        alpha_reference_t=alpha_reference_t, source_channel=s, target_channel=t,
        mi_bins=mi_bins, mi_bins_reverse=mi_bins_reverse, max_alpha_voxels=max_alpha_voxels,
        random_state=random_state, min_mask_voxels=min_mask_voxels, n_bootstrap=n_bootstrap,
        n_t=data.shape[0],
    )  # fmt: skip
    method = str(method).strip().lower()

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
