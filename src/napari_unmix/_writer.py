"""npe2 writers: image layers to OME-TIFF or OME-Zarr (+ JSON sidecar), shapes layers to CSV."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from .core.axes import to_tzcyx
from .core.report import describe_array, start_report
from .io.omio_io import write_image
from .io.safety import atomic_output, plan_outputs
from .io.sidecar import sidecar_path, write_sidecar

__all__ = ["layer_axes", "write_image_layer", "write_shapes_layer", "write_zarr_layer"]

#: Axis names assumed for a layer without ``metadata["axes"]``, by number of dimensions.
#: A 3-D single-channel layer is most often a z-stack in napari.
LAYER_AXES = {2: "YX", 3: "ZYX", 4: "TZYX", 5: "TZCYX"}


def layer_axes(ndim: int, metadata: dict[str, Any]) -> str:
    """Axis names of a layer: ``metadata["axes"]`` if it fits, else :data:`LAYER_AXES`.

    Examples
    --------
    >>> layer_axes(3, {"axes": "CYX"}), layer_axes(3, {})
    ('CYX', 'ZYX')
    """
    axes = metadata.get("axes")
    if isinstance(axes, str) and len(axes) == ndim:
        return axes
    if ndim not in LAYER_AXES:
        raise ValueError(f"cannot save a {ndim}-D layer as OME-TIFF (2 to 5 dimensions)")
    return LAYER_AXES[ndim]


def _physical_size(axes: str, scale: Any) -> tuple[float, float, float]:
    scale = list(scale) if scale is not None else [1.0] * len(axes)
    size = {a: float(s) for a, s in zip(axes, scale, strict=False)}
    return size.get("Z", 1.0), size.get("Y", 1.0), size.get("X", 1.0)


def write_image_layer(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write one image layer as OME-TIFF with a JSON provenance sidecar.

    Refuses to replace an existing file or sidecar (napari then shows the message).
    """
    if attributes.get("rgb"):
        raise ValueError(
            "RGB layers are not supported by the OME-TIFF writer; split the channels first"
        )
    metadata = dict(attributes.get("metadata") or {})
    data = np.asarray(data)
    axes = layer_axes(data.ndim, metadata)
    out = plan_outputs([path, sidecar_path(path)])[0]
    extra = {k: metadata[k] for k in ("spectral_axis", "spectral_units") if k in metadata}
    stack = to_tzcyx(data, axes)
    write_image(
        out,
        stack,
        physical_size=_physical_size(axes, attributes.get("scale")),
        channel_names=[str(attributes.get("name", "layer"))] if stack.shape[2] == 1 else None,
        extra=extra,
    )
    params = {k: v for k, v in metadata.items() if k not in ("ground_truth", "omio")}
    report = start_report(
        "write_image_layer",
        {"axes": axes, "scale": attributes.get("scale"), "layer_metadata": params},
        layer=describe_array(data, name=attributes.get("name"), axes=axes),
    )
    report["output"] = str(out)
    write_sidecar(out, report)
    return [str(out)]


def write_zarr_layer(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write one image layer as a multiscale OME-Zarr store with a JSON provenance sidecar.

    A dask-backed (lazy) layer is written chunk by chunk, never loaded whole; resolution
    levels are added ("auto": while the smaller side stays >= 256 pixels) so napari
    reopens big results quickly. A multiscale layer is written from its full resolution.
    """
    from .io.zarr_io import check_zarr_output_path, write_zarr

    if attributes.get("rgb"):
        raise ValueError("RGB layers are not supported by the OME-Zarr writer; split the channels")
    if attributes.get("multiscale") or isinstance(data, list | tuple):  # the full resolution
        data = data[0]
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    metadata = dict(attributes.get("metadata") or {})
    axes = layer_axes(data.ndim, metadata)
    out = check_zarr_output_path(path)
    if sidecar_path(out).exists():
        raise FileExistsError(f"{str(sidecar_path(out))!r} exists; choose another name")
    keys = ("spectral_axis", "spectral_units", "spectral_axis_source")
    extra = {k: metadata[k] for k in keys if k in metadata}
    stack = to_tzcyx(data, axes)
    params = {k: v for k, v in metadata.items() if k not in ("ground_truth", "omio", "report")}
    report = start_report(
        "write_zarr_layer",
        {"axes": axes, "scale": attributes.get("scale"), "layer_metadata": params},
        layer=describe_array(data, name=attributes.get("name"), axes=axes),
    )
    report["output"] = str(out)
    write_zarr(
        out,
        stack,
        physical_size=_physical_size(axes, attributes.get("scale")),
        channel_names=[str(attributes.get("name", "layer"))] if stack.shape[2] == 1 else None,
        extra=extra,
        report=report,
        levels="auto",
    )
    write_sidecar(out, report)
    return [str(out)]


def write_shapes_layer(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write a shapes layer as CSV: one row per vertex, with each shape's type and features."""
    out = plan_outputs([path])[0]
    n = len(data)
    types = attributes.get("shape_type")
    types = ["polygon"] * n if types is None or len(types) == 0 else list(types)
    if isinstance(attributes.get("shape_type"), str):
        types = [attributes["shape_type"]] * n
    if len(types) != n:
        raise ValueError(f"{len(types)} shape types for {n} shapes; give one per shape")
    features = attributes.get("features")
    feature_cols: dict[str, list] = {}
    if features is not None and len(features):
        feature_cols = {str(c): list(features[c]) for c in features.columns}
    short = {c: len(v) for c, v in feature_cols.items() if len(v) != n}
    if short:
        raise ValueError(f"features {short} have not one value per shape ({n} shapes)")
    shapes = [np.asarray(v) for v in data]
    ndims = {v.shape[1] if v.ndim == 2 else -1 for v in shapes}
    if len(ndims) > 1 or -1 in ndims:
        raise ValueError("every shape must be an (N, D) array of vertices with one D")
    ndim = ndims.pop() if ndims else 2
    header = [
        "index",
        "shape_type",
        "vertex_index",
        *[f"axis-{i}" for i in range(ndim)],
        *feature_cols,
    ]
    with atomic_output(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, verts in enumerate(shapes):
            extra = [feature_cols[c][i] for c in feature_cols]
            for j, v in enumerate(verts):
                w.writerow([i, types[i], j, *(repr(float(x)) for x in v), *extra])
    return [str(out)]
