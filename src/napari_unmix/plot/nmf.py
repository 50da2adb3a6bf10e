"""Report figures of NNMF / NNLS results: spectra, maps, convergence (Agg, no pyplot)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..core.units import axis_label
from .figure import new_figure

__all__ = ["convergence_figure", "result_figure"]


def result_figure(
    result: Any,
    *,
    true_spectra: np.ndarray | None = None,
    true_names: list[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Spectra (left, scaled to unit max; dashed: ground truth) and one map per component.

    ``result`` is an :class:`~napari_unmix.api.nmf.UnmixResult` of a 3-D cube (for a
    4-D result the first slice is shown).

    Examples
    --------
    >>> from napari_unmix.api.nmf import nnls_unmix
    >>> cube = np.random.default_rng(0).random((5, 8, 8))
    >>> fig = result_figure(nnls_unmix(cube, np.eye(5)[:2]))
    >>> len(fig.axes) >= 3
    True
    """
    W = np.asarray(result.W)
    H = np.asarray(result.H)
    if W.ndim == 4:
        W = W[0]
    if H.ndim == 3:
        H = H[0]
    k = H.shape[0]
    axis = np.arange(H.shape[1]) if result.spectral_axis is None else result.spectral_axis
    fig = new_figure(3.0 * (k + 1), 3.2)
    axes = fig.subplots(1, k + 1)
    colors = [f"C{j}" for j in range(k)]
    for j in range(k):
        peak = np.abs(H[j]).max() or 1.0
        axes[0].plot(axis, H[j] / peak, color=colors[j], label=result.names[j])
        if true_spectra is not None and j < len(true_spectra):
            t = np.asarray(true_spectra[j])
            axes[0].plot(axis, t / (np.abs(t).max() or 1.0), "--", color=colors[j], lw=0.8)
        im = axes[j + 1].imshow(W[j], cmap="viridis")
        axes[j + 1].set_title(result.names[j], color=colors[j])
        axes[j + 1].set_axis_off()
        fig.colorbar(im, ax=axes[j + 1], shrink=0.75)
    axes[0].set_xlabel(axis_label(result.spectral_units))
    axes[0].set_ylabel("spectrum / max")
    axes[0].legend(fontsize=7)
    if true_spectra is not None:
        axes[0].set_title("fitted (solid) vs true (dashed)", fontsize=9)
    err = result.relative_error
    fig.suptitle(
        title
        or f"{result.params.get('method', 'unmixing')}: relative error "
        + (f"{err:.4f}" if err is not None else "not computed")
    )
    return fig


def convergence_figure(histories: dict[str, list[float]], *, title: str = "") -> Figure:
    """Objective per iteration (log scale) for one or several runs.

    Examples
    --------
    >>> fig = convergence_figure({"HALS": [3.0, 2.0, 1.5]})
    >>> fig.axes[0].get_yscale()
    'log'
    """
    fig = new_figure(4.5, 3.2)
    ax = fig.add_subplot()
    for label, h in histories.items():
        ax.plot(np.arange(len(h)), h, marker=".", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective ½‖X − WH‖²")
    ax.legend(fontsize=8)
    ax.set_title(title or "convergence")
    return fig
