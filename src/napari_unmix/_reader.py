"""npe2 readers: microscopy files (OMIO), ENVI cubes and OME-Zarr stores (lazily), spectra CSVs.

Every image reader resolves the spectral axis the same way as the scripts and the command
line (:mod:`napari_unmix.io.spectral_axis`); the layer's ``metadata["spectral_axis_source"]``
says where it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .io.omio_io import is_supported_image, read_image

__all__ = [
    "HYPERSPECTRAL_MIN_CHANNELS",
    "get_reader",
    "get_spectra_reader",
    "get_zarr_reader",
    "layers_from_image",
    "read_layers",
    "read_spectra_layers",
    "read_zarr_layers",
]

#: Files with more channels than this (or with a spectral axis) open as one C×Y×X layer.
HYPERSPECTRAL_MIN_CHANNELS = 9

LayerDataTuple = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerDataTuple]] | None:
    """Return :func:`read_layers` when every path is a file OMIO reads, else None."""
    from .io.envi import is_envi_path, looks_like_envi

    paths = [path] if isinstance(path, str | Path) else list(path)
    if not paths or not all(is_supported_image(p) and Path(p).is_file() for p in paths):
        return None
    if any(is_envi_path(p) and not looks_like_envi(p) for p in paths):
        return None  # e.g. an Analyze .hdr: another plugin's file
    return read_layers


def read_layers(path: str | list[str]) -> list[LayerDataTuple]:
    """Read one or more files into layer data tuples."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    from .io.envi import is_envi_path
    from .io.zarr_io import read_lazy

    layers: list[LayerDataTuple] = []
    for p in paths:
        # ENVI cubes stay lazy (memory-mapped, one band per chunk); OMIO reads whole files
        data, meta = read_lazy(p) if is_envi_path(p) else read_image(p)
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

    A store with several resolution levels opens as a multiscale layer (napari reads the
    level that fits the view). A store written by napari-unmix keeps its provenance
    report in ``layer.metadata["report"]``.
    """
    from .io.spectral_axis import attach_spectral_axis
    from .io.zarr_io import read_zarr_levels

    paths = [path] if isinstance(path, str | Path) else list(path)
    layers: list[LayerDataTuple] = []
    for p in paths:
        levels, meta = read_zarr_levels(p)
        meta = attach_spectral_axis(p, meta, levels[0].shape[2])
        data = levels if len(levels) > 1 else levels[0]
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
        "spectral_axis_source": meta.get("spectral_axis_source"),
    }
    multiscale = isinstance(data, list)
    first = data[0] if multiscale else data
    n_c = first.shape[2]
    hyperspectral = n_c >= HYPERSPECTRAL_MIN_CHANNELS or "spectral_axis" in meta
    if hyperspectral:
        axes = "TZCYX"
        scale = [1.0, pz, 1.0, py, px]
        if first.shape[0] == 1 and first.shape[1] == 1:
            data = [d[0, 0] for d in data] if multiscale else data[0, 0]
            axes, scale = "CYX", [1.0, py, px]
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
        if multiscale:
            kwargs["multiscale"] = True
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
    if multiscale:
        kwargs["multiscale"] = True
    return [(data, kwargs, "image")]


#: Spectra files the spectra reader offers to open (narrow, so napari's own CSV reader
#: keeps every other CSV); the content is checked too.
SPECTRA_PATTERNS = ("_spectra.csv", "_spectra.txt", ".spectra.csv", "_library.csv")


def get_spectra_reader(
    path: str | list[str],
) -> Callable[[str | list[str]], list[LayerDataTuple]] | None:
    """:func:`read_spectra_layers` for spectra CSVs (``*_spectra.csv`` ...), else None.

    The file must also parse as spectra (an axis column, one numeric column per
    spectrum); any other CSV is left to napari's own reader.
    """
    from .io.spectra import read_spectra_csv

    paths = [path] if isinstance(path, str | Path) else list(path)
    if not paths or not all(str(p).lower().endswith(SPECTRA_PATTERNS) for p in paths):
        return None
    for p in paths:
        try:
            read_spectra_csv(p)
            first = Path(p).read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, ValueError, IndexError):
            return None
        cells = [c.strip().lower() for c in first.replace(";", ",").split(",")]
        if cells[0] == "index" or any(c.startswith("axis-") for c in cells):
            return None  # napari's own points / shapes CSV
    return read_spectra_layers


def read_spectra_layers(path: str | list[str]) -> list[LayerDataTuple]:
    """Spectra CSVs as Shapes layers: one path (line) per spectrum, drawn as a plot.

    X is the spectral axis, Y the value (scaled so the plot is about half as high as it
    is wide; up is larger). The numbers themselves travel in ``layer.metadata``:
    ``spectra`` (k × C), ``spectra_names``, ``spectral_axis``, ``spectral_units`` and
    ``kind == "spectra"``, and each shape's ``features["name"]``.
    """
    import numpy as np

    from .core.units import normalize_units
    from .io.spectra import read_spectra_csv

    paths = [path] if isinstance(path, str | Path) else list(path)
    colors = ["green", "magenta", "cyan", "yellow", "red", "blue", "orange", "white"]
    layers: list[LayerDataTuple] = []
    for p in paths:
        axis, spectra, names = read_spectra_csv(p)
        first_line = Path(p).read_text(encoding="utf-8", errors="replace").splitlines()[0]
        head = first_line.replace(";", ",").replace("\t", ",").split(",")[0].strip()
        units = normalize_units(head.split("_", 1)[1] if "_" in head else head)
        span = float(np.ptp(axis)) or 1.0
        top = float(np.ptp(np.concatenate([spectra.ravel(), [0.0]]))) or 1.0
        y_scale = 0.5 * span / top
        shapes = [np.column_stack([-s * y_scale, axis]) for s in spectra]
        kwargs = {
            "name": Path(p).name,
            "shape_type": "path",
            "edge_color": [colors[i % len(colors)] for i in range(len(shapes))],
            "edge_width": span / 250,
            "features": {"name": list(names)},
            "metadata": {
                "kind": "spectra",
                "source_path": str(p),
                "spectra": spectra.tolist(),
                "spectra_names": list(names),
                "spectral_axis": axis.tolist(),
                "spectral_units": units if units in ("cm-1", "nm", "um", "ev") else None,
                "plot_y_scale": y_scale,
            },
        }
        layers.append((shapes, kwargs, "shapes"))
    return layers
