"""Figures for bleed-through correction: the alpha scatter, the estimators side by side and
before/after images.

The drawing functions take an optional ``colors`` dict (``text``, ``line``, ``accent``;
e.g. napari's theme from :func:`napari_unmix.widgets._theme.theme_colors`) so the dock's
plots follow the viewer's theme; without it they use matplotlib's colours.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .figure import new_figure

__all__ = [
    "alpha_scatter_figure",
    "correction_figure",
    "draw_alpha_scatter",
    "draw_estimator_comparison",
]

#: axis label of intensities after the estimation's background subtraction
INTENSITY = "− background (a.u.)"


def draw_alpha_scatter(
    ax: Axes,
    estimate: Any,
    *,
    title: str | None = None,
    cmap: str = "Greys",
    colors: dict[str, str] | None = None,
) -> None:
    """Source vs target of the estimation sample (2-D histogram), the mask and the fit.

    ``estimate`` is a :class:`~napari_unmix.core.bleedthrough.AlphaEstimate`. The line is
    ``target = alpha * source``, the shaded band the bootstrap 95% interval.

    Examples
    --------
    >>> from napari_unmix.core.bleedthrough import estimate_alpha
    >>> from napari_unmix.core.synthetic import make_bleedthrough_stack
    >>> data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(64, 64))
    >>> est = estimate_alpha(data[0, :, 0], data[0, :, 1], n_bootstrap=10)
    >>> fig = new_figure(3, 3)
    >>> draw_alpha_scatter(fig.add_subplot(), est)
    >>> fig.axes[0].get_xlabel()
    'source − background (a.u.)'
    """
    c = colors or {}
    s, t = estimate.sample_source, estimate.sample_target
    ax.hist2d(s, t, bins=96, cmap=cmap, norm=LogNorm(), rasterized=True)
    ax.scatter(
        estimate.mask_source, estimate.mask_target, s=3, c="tab:orange", alpha=0.5,
        label=f"mask ({estimate.mask_source.size} voxels)", rasterized=True,
    )  # fmt: skip
    xmax = float(s.max()) if s.size else 1.0
    xs = np.array([0.0, xmax])
    line = c.get("accent", "tab:blue")
    ax.plot(xs, estimate.alpha * xs, color=line, lw=1.5, label=f"alpha = {estimate.alpha:.4f}")
    if estimate.ci is not None:
        lo, hi = estimate.ci
        ax.fill_between(
            xs, lo * xs, hi * xs, color=line, alpha=0.25, label=f"95% CI {lo:.3f}-{hi:.3f}"
        )
    ax.set_xlabel(f"source {INTENSITY}")
    ax.set_ylabel(f"target {INTENSITY}")
    ax.set_title(title or f"{estimate.method}")
    ax.legend(loc="upper left", fontsize="small")


def draw_estimator_comparison(
    ax: Axes, checks: dict[str, Any], *, colors: dict[str, str] | None = None
) -> None:
    """Alpha of every estimator on the same mask voxels; the chosen one with its 95 % interval.

    ``checks`` is :func:`napari_unmix.api.bleedthrough_result.check_estimate`'s output.

    Examples
    --------
    >>> checks = {"method": "mi_min", "alpha": 0.38, "ci95": [0.33, 0.41],
    ...           "by_method": {"mi_min": 0.38, "mean_ratio": 0.53}}
    >>> fig = new_figure(3, 2)
    >>> draw_estimator_comparison(fig.add_subplot(), checks)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['mean_ratio', 'mi_min']
    """
    c = colors or {}
    names = sorted(checks["by_method"])
    values = [checks["by_method"][n] for n in names]
    chosen = names.index(checks["method"])
    base, accent = c.get("line", "tab:gray"), c.get("accent", "tab:blue")
    ax.scatter(values, range(len(names)), color=[accent if i == chosen else base
                                                  for i in range(len(names))], zorder=3)  # fmt: skip
    title = "estimators on the same mask voxels"
    if checks.get("ci95"):
        lo, hi = checks["ci95"]
        ax.axvspan(lo, hi, color=accent, alpha=0.2)
        title += f"\n(band: 95% CI of {checks['method']})"
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("alpha (target intensity per source intensity)")
    ax.set_title(title)
    ax.margins(x=0.15, y=0.2)


def alpha_scatter_figure(estimate: Any, *, title: str | None = None) -> Figure:
    """A figure with :func:`draw_alpha_scatter`."""
    fig = new_figure(4.5, 4.0)
    draw_alpha_scatter(fig.add_subplot(), estimate, title=title)
    return fig


def correction_figure(
    data: np.ndarray,
    corrected: np.ndarray,
    *,
    source_channel: int = 0,
    target_channel: int = 1,
    true_target: np.ndarray | None = None,
    t: int = 0,
    title: str = "",
) -> Figure:
    """Max-projections (over Z, time point ``t``): source, target before, after, truth.

    Examples
    --------
    >>> d = np.random.default_rng(0).random((1, 2, 2, 8, 8)).astype(np.float32)
    >>> len(correction_figure(d, d).axes) >= 3
    True
    """
    panels = [
        ("source", data[t, :, source_channel]),
        ("target, measured", data[t, :, target_channel]),
        ("target, corrected", corrected[t, :, target_channel]),
    ]
    if true_target is not None:
        panels.append(("target, true", true_target[t]))
    fig = new_figure(3.0 * len(panels), 3.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    vmax = float(np.max(panels[1][1]))
    for ax, (name, img) in zip(axes, panels, strict=True):
        im = ax.imshow(
            np.asarray(img).max(axis=0),
            cmap="magma",
            vmin=0,
            vmax=vmax if name != "source" else None,
        )
        ax.set_title(name)
        ax.set_axis_off()
        fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig
