"""npe2 writers: image layers to OME-TIFF or OME-Zarr (+ JSON sidecar), shapes layers to CSV."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from .core.axes import resolve_axes, to_tzcyx
from .core.report import describe_array, start_report
from .io.omio_io import write_image
from .io.safety import atomic_output, plan_outputs
from .io.sidecar import sidecar_path, write_sidecar

__all__ = ["layer_axes", "write_image_layer", "write_shapes_layer", "write_zarr_layer"]


def layer_axes(ndim: int, metadata: dict[str, Any]) -> str:
    """Axis names of a layer: ``metadata["axes"]`` if it fits, else
    :data:`~napari_unmix.core.axes.CHANNEL_AXES` (the rule of
    :func:`~napari_unmix.core.axes.resolve_axes`).

    Examples
    --------
    >>> layer_axes(3, {"axes": "CYX"}), layer_axes(3, {})
    ('CYX', 'ZYX')
    """
    try:
        return resolve_axes(ndim, metadata.get("axes"), channels=False)
    except ValueError:
        raise ValueError(f"cannot save a {ndim}-D layer as OME-TIFF (2 to 5 dimensions)") from None


def _prepare(data: Any, attributes: dict[str, Any], tool: str, skip: tuple[str, ...]):
    """(TZCYX stack, writer keywords, report) of one image layer."""
    if attributes.get("rgb"):
        raise ValueError("RGB layers are not supported by the writers; split the channels first")
    metadata = dict(attributes.get("metadata") or {})
    axes = layer_axes(data.ndim, metadata)
    stack = to_tzcyx(data, axes)
    keys = ("spectral_axis", "spectral_units", "spectral_axis_source")
    write_kw = {
        "physical_size": _physical_size(axes, attributes.get("scale")),
        "channel_names": [str(attributes.get("name", "layer"))] if stack.shape[2] == 1 else None,
        "extra": {k: metadata[k] for k in keys if k in metadata},
    }
    params = {k: v for k, v in metadata.items() if k not in skip}
    report = start_report(
        tool,
        {"axes": axes, "scale": attributes.get("scale"), "layer_metadata": params},
        {"layer": describe_array(data, name=attributes.get("name"), axes=axes)},
    )
    return stack, write_kw, report


def _physical_size(axes: str, scale: Any) -> tuple[float, float, float]:
    scale = list(scale) if scale is not None else [1.0] * len(axes)
    size = {a: float(s) for a, s in zip(axes, scale, strict=False)}
    return size.get("Z", 1.0), size.get("Y", 1.0), size.get("X", 1.0)


def write_image_layer(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write one image layer as OME-TIFF with a JSON provenance sidecar.

    Refuses to replace an existing file or sidecar (napari then shows the message).
    """
    data = np.asarray(data)
    out = plan_outputs([path, sidecar_path(path)])[0]
    stack, write_kw, report = _prepare(
        data, attributes, "write_image_layer", ("ground_truth", "omio")
    )
    write_kw["extra"].pop("spectral_axis_source", None)
    write_image(out, stack, **write_kw)
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

    if attributes.get("multiscale") or isinstance(data, list | tuple):  # the full resolution
        data = data[0]
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    out = check_zarr_output_path(path)
    if sidecar_path(out).exists():
        raise FileExistsError(f"{str(sidecar_path(out))!r} exists; choose another name")
    skip = ("ground_truth", "omio", "report")
    stack, write_kw, report = _prepare(data, attributes, "write_zarr_layer", skip)
    report["output"] = str(out)
    write_zarr(out, stack, report=report, levels="auto", **write_kw)
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
