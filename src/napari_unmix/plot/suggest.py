"""Figure of the ROI suggester: response map with the boxes, and the group spectra."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..core.units import axis_label
from .figure import new_figure

__all__ = ["suggestions_figure"]


def suggestions_figure(
    result,
    *,
    spectral_axis: np.ndarray | None = None,
    spectral_units: str | None = None,
    dominant: list[int] | None = None,
    names: list[str] | None = None,
    title: str = "ROI suggestions",
) -> Figure:
    """Response map with one coloured box per ROI (colour = group) and the ROI spectra.

    Parameters
    ----------
    result : Suggestions
        Output of :func:`napari_unmix.suggest_rois`.
    spectral_axis, spectral_units
        x axis of the spectra panel (channel index when None).
    dominant, names : optional
        Ground truth: the component dominating each box (-1: none) and the component
        names, written next to each box.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_unmix import make_bead_cube, suggest_rois
    >>> res = suggest_rois(make_bead_cube(shape=(48, 48), n_channels=16)[0], max_groups=2)
    >>> len(suggestions_figure(res).axes)
    2
    """
    fig = new_figure(10.0, 4.2)
    ax_map, ax_spec = fig.subplots(1, 2, width_ratios=[1.0, 1.2])
    ax_map.imshow(result.response, cmap="gray")
    colors = [f"C{i % 10}" for i in range(max(int(result.groups.max(initial=-1)) + 1, 1))]
    x = np.arange(result.spectra.shape[1]) if spectral_axis is None else spectral_axis
    for i, ((y0, x0, y1, x1), g) in enumerate(zip(result.boxes, result.groups, strict=True)):
        c = colors[int(g)]
        ax_map.add_patch(
            Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=c, lw=1.5)
        )
        label = f"g{g}"
        if dominant is not None:
            d = dominant[i]
            label += f": {names[d] if names and d >= 0 else ('mixed' if d < 0 else d)}"
        ax_map.text(x0, y0 - 1, label, color=c, fontsize=7, va="bottom")
        spec = result.spectra[i]
        ax_spec.plot(
            x, spec / max(float(np.abs(spec).max()), 1e-12), color=c, label=f"ROI {i} (g{g})"
        )
    ax_map.set_title("response map and suggested ROIs")
    ax_map.set_axis_off()
    ax_spec.set_xlabel(axis_label(spectral_units))
    ax_spec.set_ylabel("mean spectrum (max-normalised)")
    if len(result):
        ax_spec.legend(fontsize=7)
    fig.suptitle(title)
    return fig
