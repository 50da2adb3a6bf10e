"""Show files in napari from interactive scripts (cell-by-cell editors, notebooks).

Same names and call style as ``spectral-unmixing``: each call opens a napari viewer, or
reuses the one already open, and adds one layer per channel with the file's physical
scale (T: time increment, Z/Y/X: voxel size). A layer with the same name is updated in
place, so re-running a cell does not pile up layers. napari is imported only when a
function is called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["show_all_channels_in_napari", "show_unmixed_channels_in_napari"]

DEFAULT_COLORMAPS = ("green", "magenta", "cyan", "yellow", "red", "blue", "gray")


def _get_viewer(viewer: Any, title: str) -> Any:
    """The given viewer, else napari's current (open) viewer, else a new one."""
    import napari

    if viewer is not None:
        return viewer
    current = napari.current_viewer()
    return current if current is not None else napari.Viewer(title=title)


def _scale(meta: dict[str, Any]) -> tuple[float, float, float, float]:
    pz, py, px = meta.get("physical_size", (1.0, 1.0, 1.0))
    return (float(meta.get("time_increment", 1.0) or 1.0), float(pz), float(py), float(px))


def _upsert(viewer: Any, name: str, data: np.ndarray, *, scale, colormap: str, meta) -> Any:
    lo, hi = float(np.min(data)), float(np.max(data))
    limits = (lo, hi if hi > lo else lo + 1.0)
    if name in viewer.layers:
        layer = viewer.layers[name]
        layer.data = data
        layer.scale = scale
        layer.colormap = colormap
        layer.contrast_limits = limits
        layer.metadata.update(meta)
        layer.visible = True
        return layer
    return viewer.add_image(
        data,
        name=name,
        scale=scale,
        colormap=colormap,
        blending="additive",
        contrast_limits=limits,
        metadata=meta,
        axis_labels=("t", "z", "y", "x"),
    )


def _read(path: str | os.PathLike) -> tuple[np.ndarray, dict[str, Any]]:
    from .io.omio_io import read_image

    return read_image(path)


def _layer_meta(path: Path, meta: dict[str, Any], channel: int) -> dict[str, Any]:
    return {
        "source_path": str(path),
        "axes": "TZYX",
        "channel": channel,
        "physical_size": meta.get("physical_size"),
        "unit": meta.get("unit"),
        "time_increment": meta.get("time_increment"),
    }


def show_all_channels_in_napari(
    stack_path: str | os.PathLike,
    *,
    layer_prefix: str = "Channels",
    colormaps: list[str] | None = None,
    title: str = "napari-unmix",
    viewer: Any = None,
) -> Any:
    """Show every channel of an image file as its own layer ``"<prefix> | C<i>"``.

    Parameters
    ----------
    stack_path : path
        Any file OMIO reads (OME-TIFF, TIFF, LSM, CZI).
    layer_prefix : str
        Start of the layer names.
    colormaps : list of str, optional
        One per channel, reused cyclically (default green, magenta, cyan, ...).
    title : str
        Title of a newly opened viewer.
    viewer : napari.Viewer, optional
        Use this viewer (default: the current one, or a new one).

    Returns
    -------
    napari.Viewer
    """
    path = Path(stack_path)
    data, meta = _read(path)
    viewer = _get_viewer(viewer, title)
    cmaps = list(colormaps) if colormaps else list(DEFAULT_COLORMAPS)
    scale = _scale(meta)
    for c in range(data.shape[2]):
        _upsert(
            viewer,
            f"{layer_prefix} | C{c}",
            data[:, :, c],
            scale=scale,
            colormap=cmaps[c % len(cmaps)],
            meta=_layer_meta(path, meta, c),
        )
    return viewer


def show_unmixed_channels_in_napari(
    output_path: str | os.PathLike,
    *,
    source_channel: int = 0,
    target_channel: int = 1,
    layer_prefix: str = "Unmixed",
    source_colormap: str = "green",
    target_colormap: str = "magenta",
    title: str = "napari-unmix",
    viewer: Any = None,
) -> Any:
    """Show the source and the corrected target channel of an unmixed file.

    Layers are named ``"<prefix> | source C<i>"`` and ``"<prefix> | target C<j>"``.

    Parameters
    ----------
    output_path : path
        The file an unmixing run wrote.
    source_channel, target_channel : int
        Channel indices to show.
    layer_prefix, source_colormap, target_colormap, title, viewer
        As in :func:`show_all_channels_in_napari`.

    Returns
    -------
    napari.Viewer
    """
    path = Path(output_path)
    data, meta = _read(path)
    n_c = data.shape[2]
    for name, c in (("source_channel", source_channel), ("target_channel", target_channel)):
        if not 0 <= int(c) < n_c:
            raise ValueError(f"{name}={c} is out of range: {path.name!r} has {n_c} channel(s)")
    viewer = _get_viewer(viewer, title)
    scale = _scale(meta)
    for role, c, cmap in (
        ("source", source_channel, source_colormap),
        ("target", target_channel, target_colormap),
    ):
        _upsert(
            viewer,
            f"{layer_prefix} | {role} C{c}",
            data[:, :, int(c)],
            scale=scale,
            colormap=cmap,
            meta=_layer_meta(path, meta, int(c)),
        )
    return viewer
