"""Estimation half of the bleed-through API: alpha per direction and time point.

:func:`estimate_bleedthrough_steps` checks every option up front, resolves ``alpha_mode``,
uses or refuses the alphas the user gives, and estimates the others with
:func:`napari_unmix.core.bleedthrough.estimate_alpha`, one direction at a time (the
reverse direction is the same function with the channels swapped and the ``*_reverse``
settings, :meth:`~napari_unmix.core.bleedthrough.BleedthroughOptions.direction`).
:mod:`napari_unmix.api.bleedthrough` re-exports it next to ``unmix`` / ``unmix_array``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.axes import validate_tzcyx
from ..core.bleedthrough import (
    ALPHA_METHODS,
    ALPHA_MODES,
    AlphaEstimate,
    AlphaOptions,
    BleedthroughOptions,
    estimate_alpha,
)
from ..core.options import takes_options
from ..core.progress import Progress, Steps, run
from ..core.validate import check_int

__all__ = [
    "ALPHA_MODES",
    "check_options",
    "estimate_bleedthrough",
    "estimate_bleedthrough_steps",
]

_REVERSE_SEED_OFFSET = 10_000  # as in spectral-unmixing: the reverse direction's seed


def _resolve_mode(alpha_mode: str | None, alpha: Any, method: str) -> tuple[str, bool]:
    if alpha_mode is not None:
        return alpha_mode, False
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
    opts: BleedthroughOptions,
    *,
    alpha: Any = None,
    alpha_reverse: Any = None,
    n_t: int | None = None,
) -> tuple[str, bool]:
    """The checks that need no data beyond the options' own, so a file-level call fails
    before reading its input: ``alpha_mode`` and the given alphas.

    ``n_t``: the number of time points when known (checks the length of given alphas).
    Returns ``(alpha_mode, alpha_mode_was_defaulted)``.

    Examples
    --------
    >>> check_options(BleedthroughOptions(alpha_mode="per_t"), alpha=[0.1, 0.2])
    ('per_t', False)
    >>> check_options(BleedthroughOptions(alpha_mode="per_t"), alpha=0.1)
    Traceback (most recent call last):
    ...
    ValueError: forward alpha has 1 value(s) but alpha_mode='per_t' needs a sequence, one per time point (one value for every time point: alpha_mode='fixed'); got [0.1]
    """
    mode, defaulted = _resolve_mode(opts.alpha_mode, alpha, opts.method)
    if alpha is not None:
        _given_alpha(alpha, n_t, label="forward", mode=mode)
    rev = alpha if alpha_reverse is None else alpha_reverse
    if opts.bidirectional and rev is not None:
        _given_alpha(rev, n_t, label="reverse", mode=mode)
    return mode, defaulted


def _given_part(a: np.ndarray, method: str, src: int, tgt: int) -> dict[str, Any]:
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


def _direction(
    data: Any,
    opts: AlphaOptions,
    *,
    label: str,
    channels: tuple[int, int],
    mode: str,
    alpha: Any,
    t_ref: int,
    seed_offset: int,
) -> Steps:
    """Alpha per time point for one direction; yields progress, returns a report part."""
    n_t = data.shape[0]
    src, tgt = channels
    if mode == "fixed" and alpha is None:
        raise ValueError(f"alpha_mode='fixed' needs alpha for the {label} direction")
    if alpha is not None:
        a = _given_alpha(alpha, n_t, label=label, mode=mode)
        yield Progress(1, 1, f"{label}: alpha given ({', '.join(f'{v:.4f}' for v in a[:4])})")
        return _given_part(a, opts.method, src, tgt)
    if opts.method == "manual":
        raise ValueError(
            f"method='manual' cannot estimate alpha (alpha_mode={mode!r}); use alpha_mode='fixed' "
            "with alpha=..., or choose an estimating method"
        )
    if not 0 <= t_ref < n_t:
        raise ValueError(f"alpha_reference_t={t_ref} is out of range for T={n_t} time points")
    times = ALPHA_MODES[mode].function(n_t, t_ref)
    estimates: list[AlphaEstimate] = []
    for i, t in enumerate(times):
        kw = {**opts.as_dict(), "random_state": _seed(opts.random_state, seed_offset + i)}
        est = estimate_alpha(data[t, :, src], data[t, :, tgt], **kw)
        estimates.append(est)
        ci = "" if est.ci is None else f" (95% CI {est.ci[0]:.4f}-{est.ci[1]:.4f})"
        text = f"{label}: t={t} alpha={est.alpha:.4f}{ci} [{est.method}]"
        yield Progress(i + 1, len(times), text)
    alphas = np.array([e.alpha for e in estimates])
    cis = [None if e.ci is None else list(e.ci) for e in estimates]
    if len(times) < n_t:  # one estimate for every time point
        alphas = np.full(n_t, alphas[0])
        cis = cis * n_t
    return {
        "source_channel": src,
        "target_channel": tgt,
        "method": opts.method,
        "method_effective": opts.method,
        "alpha_source": "estimated",
        "alpha_by_t": alphas.tolist(),
        "ci95_by_t": cis,
        "estimates": [{"t": t, **e.to_dict()} for t, e in zip(times, estimates, strict=True)],
        "mask_voxel_count_by_t": [e.details["mask_voxel_count"] for e in estimates],
        "mask_fallback_used": any(e.details["mask_fallback_used"] for e in estimates),
        "non_finite_voxels_ignored": sum(e.details["non_finite_voxels_ignored"] for e in estimates),
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


@takes_options(BleedthroughOptions, exclude=("clip_negative", "output_dtype"))
def estimate_bleedthrough(
    data: Any,
    /,
    *,
    alpha: Any = None,
    alpha_reverse: Any = None,
    options: BleedthroughOptions,
) -> dict:
    """Only the estimation part of :func:`~napari_unmix.api.bleedthrough.unmix_array`.

    Takes the same keywords (the fields of :class:`BleedthroughOptions` but the output
    ones, generated from it) and returns the report without corrected data: ``"forward"`` (and ``"reverse"`` when bidirectional) with ``alpha_by_t``,
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
    return run(estimate_bleedthrough_steps(data, options, alpha=alpha, alpha_reverse=alpha_reverse))


def estimate_bleedthrough_steps(
    data: Any,
    options: BleedthroughOptions | None = None,
    /,
    *,
    alpha: Any = None,
    alpha_reverse: Any = None,
) -> Steps:
    """Generator form of :func:`estimate_bleedthrough`: yields
    :class:`~napari_unmix.core.progress.Progress`, returns the report.

    ``options``: the settings (default :class:`BleedthroughOptions()`); ``alpha`` and
    ``alpha_reverse`` the given coefficients, as in :func:`estimate_bleedthrough`.
    """
    opts = BleedthroughOptions() if options is None else options
    s, t = _check_data(data, opts.source_channel, opts.target_channel)
    n_t = data.shape[0]
    mode, defaulted = check_options(opts, alpha=alpha, alpha_reverse=alpha_reverse, n_t=n_t)
    out: dict[str, Any] = {"alpha_mode": mode, "alpha_mode_was_defaulted": defaulted}
    given = {"forward": alpha, "reverse": alpha if alpha_reverse is None else alpha_reverse}
    parts: dict[str, Any] = {"forward": None, "reverse": None}
    for label in ("forward", "reverse")[: 1 + opts.bidirectional]:
        reverse = label == "reverse"
        parts[label] = yield from _direction(
            data, opts.direction(reverse=reverse), label=label,
            channels=(t, s) if reverse else (s, t), mode=mode, alpha=given[label],
            t_ref=opts.alpha_reference_t, seed_offset=_REVERSE_SEED_OFFSET * reverse,
        )  # fmt: skip
    fwd, rev = parts["forward"], parts["reverse"]
    if rev is not None:
        det = 1.0 - np.asarray(fwd["alpha_by_t"]) * np.asarray(rev["alpha_by_t"])
        if np.any(det <= 0):
            raise ValueError(
                "alpha * alpha_reverse >= 1: the 2x2 mixing matrix cannot be inverted "
                f"(alpha={fwd['alpha_by_t']}, alpha_reverse={rev['alpha_by_t']}); lower alpha_max "
                "or give the coefficients"
            )
        out["determinant_by_t"] = det.tolist()
    out["estimates"] = {k: [] if p is None else p.pop("_objects") for k, p in parts.items()}
    out["forward"], out["reverse"] = fwd, rev
    for key, part in (("alpha", fwd), ("alpha_reverse", rev)):
        vals = None if part is None else part["alpha_by_t"]
        out[f"{key}_by_t"] = vals
        out[key] = None if vals is None or len(set(vals)) > 1 else vals[0]
    return out
