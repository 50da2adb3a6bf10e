"""npe2 readers: microscopy files through OMIO, OME-Zarr stores lazily, into napari layers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .io.omio_io import is_supported_image, read_image

__all__ = [
    "HYPERSPECTRAL_MIN_CHANNELS",
    "get_reader",
    "get_zarr_reader",
    "layers_from_image",
    "read_layers",
    "read_zarr_layers",
]

#: Files with more channels than this (or with a spectral axis) open as one C×Y×X layer.
HYPERSPECTRAL_MIN_CHANNELS = 9

LayerDataTuple = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerDataTuple]] | None:
    """Return :func:`read_layers` when every path is a file OMIO reads, else None."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    if not paths or not all(is_supported_image(p) and Path(p).is_file() for p in paths):
        return None
    return read_layers


def read_layers(path: str | list[str]) -> list[LayerDataTuple]:
    """Read one or more files into layer data tuples."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    layers: list[LayerDataTuple] = []
    for p in paths:
        data, meta = read_image(p)
        layers.extend(layers_from_image(data, meta, name=Path(p).name, source_path=str(p)))
    return layers


def get_zarr_reader(
    path: str | list[str],
) -> Callable[[str | list[str]], list[LayerDataTuple]] | None:
    """Return :func:`read_zarr_layers` when every path is a ``*.zarr`` folder, else None."""
    from .io.zarr_io import is_zarr_path

    paths = [path] if isinstance(path, str | Path) else list(path)
    if not paths or not all(is_zarr_path(p) and Path(p).is_dir() for p in paths):
        return None
    return read_zarr_layers


def read_zarr_layers(path: str | list[str]) -> list[LayerDataTuple]:
    """OME-Zarr stores as lazy (dask-backed) layers: planes are read as they are shown.

    A store written by napari-unmix keeps its provenance report in
    ``layer.metadata["report"]``.
    """
    from .io.zarr_io import read_zarr

    paths = [path] if isinstance(path, str | Path) else list(path)
    layers: list[LayerDataTuple] = []
    for p in paths:
        data, meta = read_zarr(p)
        name = Path(str(p).rstrip("/\\")).name
        for data_, kwargs, kind in layers_from_image(data, meta, name=name, source_path=str(p)):
            kwargs["metadata"] = {**kwargs["metadata"], "report": meta.get("report")}
            layers.append((data_, kwargs, kind))
    return layers


def layers_from_image(
    data: Any, meta: dict[str, Any], *, name: str, source_path: str | None = None
) -> list[LayerDataTuple]:
    """Layer data tuples for a TZCYX array and its :func:`read_image` metadata.

    Few-channel fluorescence data become one layer per channel (TZYX each); hyperspectral
    data (many channels, or a spectral axis in the metadata) become one layer with the
    channel axis kept (C×Y×X when T and Z have length 1).
    """
    pz, py, px = meta.get("physical_size", (1.0, 1.0, 1.0))
    common = {
        "source_path": source_path,
        "physical_size": (pz, py, px),
        "unit": meta.get("unit", "micron"),
        "time_increment": meta.get("time_increment", 1.0),
        "file_metadata": meta.get("extra", {}),
    }
    n_c = data.shape[2]
    hyperspectral = n_c >= HYPERSPECTRAL_MIN_CHANNELS or "spectral_axis" in meta
    if hyperspectral:
        axes = "TZCYX"
        scale = [1.0, pz, 1.0, py, px]
        if data.shape[0] == 1 and data.shape[1] == 1:
            data, axes, scale = data[0, 0], "CYX", [1.0, py, px]
        md = {**common, "axes": axes, "channel_names": meta.get("channel_names")}
        labels = tuple(a.lower() for a in axes)
        for key in ("spectral_axis", "spectral_units"):
            if key in meta:
                md[key] = meta[key]
        kwargs = {
            "name": name,
            "scale": scale,
            "metadata": md,
            "colormap": "gray",
            "axis_labels": labels,
        }
        return [(data, kwargs, "image")]
    names = meta.get("channel_names") or [f"C{i}" for i in range(n_c)]
    colormaps = ["green", "magenta", "cyan", "yellow", "red", "blue", "gray", "bop orange"]
    md = {**common, "axes": "TZYX", "channel_axes": "TZCYX", "channel_names": names}
    kwargs = {
        "channel_axis": 2,
        "name": [f"{name} [{c}]" for c in names],
        "scale": [meta.get("time_increment", 1.0), pz, py, px],
        "axis_labels": ("t", "z", "y", "x"),
        "metadata": md,
        "blending": "additive",
        "colormap": [colormaps[i % len(colormaps)] for i in range(n_c)],
    }
    if n_c == 1:  # napari wants plain values when the channel axis has length 1
        kwargs = {**kwargs, "name": kwargs["name"][0], "colormap": "gray"}
    return [(data, kwargs, "image")]
