"""Bleed-through runs as one :class:`~napari_unmix.core.result.Result`, with their checks.

:func:`unmix_result_steps` is :func:`~napari_unmix.api.bleedthrough.unmix_array_steps`
(the same generator the script API runs) whose corrected channel(s) come back as layers
(:func:`to_result`); :func:`estimate_result_steps` is
:func:`~napari_unmix.api.bleedthrough.estimate_bleedthrough_steps` with the estimates kept
for plots. Both add :func:`check_estimate` for every estimated direction: every estimator
on the same mask voxels (do they agree?) and the dependence left after the correction
(does another alpha leave less?), each with a plain message when something is off.

Examples
--------
>>> from napari_unmix.core.progress import run
>>> from napari_unmix.core.synthetic import make_bleedthrough_stack
>>> data, _ = make_bleedthrough_stack()  # the sample: alpha 0.35, touching target cells
>>> opts = BleedthroughOptions(method="mi_min", n_bootstrap=0)
>>> res = run(unmix_result_steps(data, opts, naming=LayerNaming("cells")))
>>> res.layer_names(), res.layers[0].data.shape
(['cells · bleed-through · C1'], (3, 4, 128, 128))
>>> checks = res.report["checks"]["forward"]
>>> round(checks["alpha"], 3), checks["estimators_disagree"], checks["dependence_remains"]
(0.389, True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.bleedthrough import ALPHA_METHODS, AlphaEstimate, BleedthroughOptions
from ..core.bleedthrough.estimators import _mi_noise, mi_bins_for
from ..core.mi import FixedBinnedMI
from ..core.progress import Progress, Steps
from ..core.result import Result, ResultLayer
from ._bleedthrough_estimate import _check_data, check_options
from .bleedthrough import estimate_bleedthrough_steps, unmix_array_steps

__all__ = [
    "DISAGREE_FRACTION",
    "RECOMMENDED_METHOD",
    "TOOL",
    "BleedthroughEstimate",
    "LayerNaming",
    "check_estimate",
    "check_run",
    "estimate_result_steps",
    "to_result",
    "unmix_result_steps",
]

#: the tool's name in result-layer names (``<input> · bleed-through · <channel>``)
TOOL = "bleed-through"
#: the estimator the dock starts from: the least biased when source and target structures
#: touch or overlap, within 0.005 of the best on separate ones (median |alpha - truth| on
#: the scenario table, ``benchmarks/bench_bleedthrough_scenarios.py``, 240 scenes: touching
#: 0.014 vs 0.035-0.041, partial overlap 0.062 vs 0.126-0.239; docs/bleedthrough.md). The
#: API keeps ``mean_ratio``, the default of ``spectral-unmixing``.
RECOMMENDED_METHOD = "mi_min"
#: estimators "disagree" when one differs from the chosen alpha by more than this fraction
#: of it (and by more than the chosen estimate's 95 % half-width)
DISAGREE_FRACTION = 0.10
#: the dependence left "remains" when the corrected target's MI with the source exceeds
#: the smallest MI any estimator's alpha leaves by this many noise levels of a plug-in MI
DEPENDENCE_NOISE_LEVELS = 2.0


def _estimating_methods() -> list[str]:
    return [m.name for m in ALPHA_METHODS.values() if m.function is not None]


def check_estimate(estimate: AlphaEstimate) -> dict[str, Any]:
    """Do the estimators agree on ``estimate``'s mask, and does its alpha leave dependence?

    Every estimating method of :data:`~napari_unmix.core.bleedthrough.ALPHA_METHODS` runs
    on the mask voxels ``estimate`` used (no bootstrap; a few milliseconds). They
    *disagree* when one is further from ``estimate.alpha`` than :data:`DISAGREE_FRACTION`
    of it and than the 95 % half-width. The *dependence left* is the mutual information of
    source and corrected target in the mask (``mi_min``'s objective, same bins) at each
    estimator's alpha; it *remains* when the chosen alpha leaves more than the smallest
    by :data:`DEPENDENCE_NOISE_LEVELS` noise levels of a plug-in MI.

    Returns
    -------
    dict
        ``alpha``, ``method``, ``ci95``, ``by_method`` (alpha of every estimator),
        ``mi_after_by_method``, ``estimators_disagree``, ``dependence_remains``,
        ``messages`` (plain sentences, empty when all is well; the estimator's own
        reliability warnings included).

    Examples
    --------
    >>> from napari_unmix.core.bleedthrough import estimate_alpha
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> data, _ = make_bleedthrough_stack()  # the sample: touching target cells, alpha 0.35
    >>> est = estimate_alpha(data[0, :, 0], data[0, :, 1], method="mean_ratio")
    >>> c = check_estimate(est)
    >>> c["estimators_disagree"], c["dependence_remains"], round(c["by_method"]["mi_min"], 3)
    (True, True, 0.389)
    """
    x, y = estimate.mask_source, estimate.mask_target
    details = estimate.details
    kw = {"alpha_max": details["alpha_max"], "mi_bins": details["mi_bins"]}
    n = int(details.get("mask_voxel_count", x.size))
    by_method = {estimate.method: float(estimate.alpha)}
    for name in _estimating_methods():
        if name not in by_method:
            try:
                by_method[name] = float(ALPHA_METHODS[name].function(x, y, mask_voxels=n, **kw)[0])
            except ValueError:  # e.g. constant source in the mask: that estimator is silent
                continue
    bins = mi_bins_for(n, kw["mi_bins"])
    mi = FixedBinnedMI(x, bins=bins)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    mi_after = {name: float(mi.line(y32, x32, a)) for name, a in by_method.items()}
    alpha = float(estimate.alpha)
    half = 0.0 if estimate.ci is None else (estimate.ci[1] - estimate.ci[0]) / 2.0
    tol = max(DISAGREE_FRACTION * abs(alpha), half, 1e-3)
    far = {m: a for m, a in by_method.items() if abs(a - alpha) > tol}
    best = min(mi_after, key=mi_after.get)
    excess = mi_after[estimate.method] - mi_after[best]
    remains = excess > DEPENDENCE_NOISE_LEVELS * _mi_noise(x.size, bins)
    messages = list(details.get("warnings", []))
    if far:
        listed = ", ".join(f"{m} {a:.3f}" for m, a in sorted(by_method.items()))
        messages.append(
            f"the estimators disagree ({listed}); look at the scatter plot. When source and "
            "target structures overlap or touch, mi_min is the least biased and a "
            "single-stained control is safer."
        )
    if remains:
        way = "too high (over-correction)" if alpha > by_method[best] else "too low"
        messages.append(
            f"dependence remains: with alpha {alpha:.3f} the corrected target still shares "
            f"{mi_after[estimate.method]:.3f} nats with the source, {best} (alpha "
            f"{by_method[best]:.3f}) leaves {mi_after[best]:.3f}; alpha is probably {way}."
        )
    return {
        "alpha": alpha,
        "method": estimate.method,
        "ci95": None if estimate.ci is None else [float(v) for v in estimate.ci],
        "by_method": by_method,
        "mi_after_by_method": mi_after,
        "mask_voxels": n,
        "estimators_disagree": bool(far),
        "dependence_remains": bool(remains),
        "messages": messages,
    }


def check_run(
    data: Any, options: BleedthroughOptions, *, alpha: Any = None, alpha_reverse: Any = None
) -> None:
    """The checks of :func:`unmix_result_steps` that need no computing (shape, dtype,
    channels, alpha mode, given alphas): a ``ValueError`` saying what is wrong, before a run.

    Examples
    --------
    >>> check_run(np.zeros((1, 1, 2, 4, 4)), BleedthroughOptions(target_channel=0))
    Traceback (most recent call last):
    ...
    ValueError: source_channel and target_channel must differ, both are 0
    """
    _check_data(data, options.source_channel, options.target_channel)
    check_options(options, alpha=alpha, alpha_reverse=alpha_reverse, n_t=data.shape[0])


def _checks(estimates: dict[str, list[AlphaEstimate]]) -> dict[str, Any]:
    """:func:`check_estimate` of the first estimate of each estimated direction."""
    return {label: check_estimate(ests[0]) for label, ests in estimates.items() if ests}


@dataclass(frozen=True)
class LayerNaming:
    """How :func:`to_result` names and shapes the corrected channels: ``source`` (the
    input's name), ``names[c]`` (default ``C<c>``), ``colormaps[c]``, ``channel(corrected,
    c)`` giving a channel's array (default ``corrected[:, :, c]``, TZYX; a dock passes one
    that restores its layer's axes) and the letters of those ``axes``."""

    source: str = ""
    names: Sequence[str] | None = None
    colormaps: Sequence[str | None] | None = None
    channel: Callable[[Any, int], Any] | None = None
    axes: str = "TZYX"


def to_result(corrected: Any, report: dict[str, Any], naming: LayerNaming | None = None) -> Result:
    """The corrected channel(s) of an :func:`~napari_unmix.api.bleedthrough.unmix_array`
    run as a :class:`~napari_unmix.core.result.Result` (tool ``"bleed-through"``).

    One layer for the target channel (and one for the source when bidirectional), role
    ``"corrected"``, named and shaped by ``naming`` (:class:`LayerNaming`).

    Examples
    --------
    >>> rep = {"forward": {"source_channel": 0, "target_channel": 1}, "bidirectional": False}
    >>> res = to_result(np.zeros((1, 1, 2, 4, 4)), rep, LayerNaming("cells", ["dapi", "gfp"]))
    >>> res.layer_names(), res.layers[0].role
    (['cells · bleed-through · gfp'], 'corrected')
    """
    how = naming or LayerNaming()
    fwd = report["forward"]
    chans = [fwd["target_channel"]]
    if report.get("bidirectional"):
        chans.append(fwd["source_channel"])
    get = how.channel or (lambda arr, c: arr[:, :, c])
    layers = [
        ResultLayer(
            how.names[c] if how.names else f"C{c}",
            get(corrected, c),
            colormap=how.colormaps[c] if how.colormaps else None,
            axes=how.axes,
            role="corrected",
        )
        for c in chans
    ]
    return Result(TOOL, layers, report=report, source=how.source)


@dataclass
class BleedthroughEstimate:
    """An "estimate only" run: the report, the estimate objects (for plots), the checks."""

    report: dict[str, Any]
    estimates: dict[str, list[AlphaEstimate]] = field(repr=False)
    checks: dict[str, Any]


def estimate_result_steps(
    data: Any, options: BleedthroughOptions | None = None, /, *, alphas: tuple = (None, None)
) -> Steps:
    """:func:`~napari_unmix.api.bleedthrough.estimate_bleedthrough_steps` and
    :func:`check_estimate`: yields progress, returns a :class:`BleedthroughEstimate`.

    ``alphas``: the given ``(alpha, alpha_reverse)``, as in
    :func:`~napari_unmix.api.bleedthrough.estimate_bleedthrough`."""
    alpha, alpha_reverse = alphas
    rep = yield from estimate_bleedthrough_steps(
        data, options, alpha=alpha, alpha_reverse=alpha_reverse
    )
    estimates = rep.pop("estimates")
    checks = _checks(estimates)
    rep["checks"] = checks
    return BleedthroughEstimate(rep, estimates, checks)


def unmix_result_steps(
    data: Any,
    options: BleedthroughOptions | None = None,
    /,
    *,
    alphas: tuple = (None, None),
    naming: LayerNaming | None = None,
) -> Steps:
    """:func:`~napari_unmix.api.bleedthrough.unmix_array_steps` as a :class:`Result`
    (:func:`to_result` with ``naming``) whose report holds ``"checks"``
    (:func:`check_estimate` per direction) and whose ``tables["estimates"]`` holds the
    estimate objects (for plots). ``alphas``: the given ``(alpha, alpha_reverse)``."""
    alpha, alpha_reverse = alphas
    steps = unmix_array_steps(data, options, alpha=alpha, alpha_reverse=alpha_reverse)
    estimates: dict[str, list[AlphaEstimate]] = {}
    while True:
        try:
            event = next(steps)
        except StopIteration as stop:
            corrected, report = stop.value
            break
        if isinstance(event.partial, dict) and "forward" in event.partial:
            estimates = event.partial  # the estimates, passed on before the correction
            event = Progress(event.done, event.total, event.message)
        yield event
    report["checks"] = _checks(estimates)
    result = to_result(corrected, report, naming)
    result.tables["estimates"] = estimates
    return result
