"""Preview figures of the synthetic sample data sets."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .figure import new_figure

__all__ = ["bead_cube_figure", "channels_figure", "ste_figure"]


def channels_figure(stack: np.ndarray, title: str, names: list[str] | None = None) -> Figure:
    """One panel per channel of a TZCYX stack (max projection over Z of the first T)."""
    n_c = stack.shape[2]
    fig = new_figure(3.0 * n_c, 3.2)
    axes = fig.subplots(1, n_c, squeeze=False)[0]
    for c, ax in enumerate(axes):
        im = ax.imshow(stack[0, :, c].max(axis=0), cmap="magma")
        ax.set_title(names[c] if names else f"C{c}")
        ax.set_axis_off()
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(title)
    return fig


def bead_cube_figure(cube: np.ndarray, truth: dict) -> Figure:
    """True spectra and abundance maps of the bead cube."""
    k = truth["spectra"].shape[0]
    fig = new_figure(3.0 * (k + 1), 3.2)
    axes = fig.subplots(1, k + 1)
    for i, name in enumerate(truth["names"]):
        axes[0].plot(truth["spectral_axis"], truth["spectra"][i], label=name)
        axes[i + 1].imshow(truth["abundances"][i], cmap="viridis")
        axes[i + 1].set_title(f"{name} (true map)")
        axes[i + 1].set_axis_off()
    axes[0].set_xlabel("Raman shift (cm⁻¹)")
    axes[0].set_ylabel("intensity")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"bead cube {cube.shape[0]}×{cube.shape[1]}×{cube.shape[2]} (C×Y×X)")
    return fig


def ste_figure(ste: np.ndarray, truth: dict) -> Figure:
    """Spike-triggered average and the true subunits (x, y, m ensemble)."""
    sta = ste.mean(axis=-1)
    fig = new_figure(6.5, 3.2)
    ax0, ax1 = fig.subplots(1, 2)
    ax0.imshow(sta.T, cmap="RdBu_r", vmin=-abs(sta).max(), vmax=abs(sta).max())
    ax0.set_title(f"STA ({ste.shape[-1]} spikes)")
    ax1.imshow(truth["subunits"].max(axis=0).T, cmap="viridis")
    ax1.set_title(f"{len(truth['subunits'])} true subunits")
    for ax in (ax0, ax1):
        ax.set_axis_off()
    return fig
