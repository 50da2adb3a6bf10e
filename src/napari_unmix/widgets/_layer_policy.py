"""The result-layer policy shared by every dock.

- Results are named ``<input> · <tool> · <component>`` and tagged in their metadata
  (``metadata["napari_unmix"] = {"tool", "source", "run"}``) with the run's report in
  ``metadata["report"]``.
- Re-running a tool replaces that tool's previous results (and its previews) unless
  ``keep_previous``; results of other tools are left alone. A previous image or labels
  layer of the same name is updated in place (napari removes a layer with a full garbage
  collection, about a second in a large session).
- The input layers and previews are hidden, never deleted, when results appear.
- Components get distinct colormaps with additive blending (labels and shapes are added as
  they are); the scale and translation follow the input layer for the axes they share.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from ..core.result import Result, ResultLayer, colormap_for

__all__ = ["TAG", "remove_tool_layers", "replace_in_place", "show_result", "tool_layers"]

#: metadata key that marks layers made by a napari-unmix dock
TAG = "napari_unmix"
_RUNS = itertools.count(1)


def tool_layers(viewer: Any, tool: str, *, role: str | None = None) -> list[Any]:
    """The layers a dock of ``tool`` added (of one ``role``, e.g. "preview", if given)."""
    out = []
    for layer in viewer.layers:
        tag = layer.metadata.get(TAG) if isinstance(layer.metadata, dict) else None
        mine = isinstance(tag, dict) and tag.get("tool") == tool
        if mine and (role is None or tag.get("role") == role):
            out.append(layer)
    return out


def remove_tool_layers(viewer: Any, tool: str, *, role: str | None = None) -> int:
    """Remove the layers of ``tool`` (of ``role``); returns how many."""
    layers = tool_layers(viewer, tool, role=role)
    for layer in layers:
        viewer.layers.remove(layer)
    return len(layers)


def replace_in_place(earlier: list[Any], result: Result, inputs: Sequence[Any]) -> list | None:
    """Put a re-run's arrays into the tool's previous layers when they have the same names
    and dimensions (what "replace" means, without napari's costly removal and creation of
    layers: about a second each on a busy viewer); None when they differ."""
    names = result.layer_names()
    if [ly.name for ly in earlier] != names or any(
        ly.data.ndim != getattr(item.data, "ndim", -1) or item.kind != "image"
        for ly, item in zip(earlier, result.layers, strict=True)
    ):
        return None
    for layer, item in zip(earlier, result.layers, strict=True):
        layer.data = item.data
        layer.metadata = {**layer.metadata, "report": result.report}
        if item.contrast_limits is None:
            layer.reset_contrast_limits()
        else:
            layer.contrast_limits = item.contrast_limits
        layer.visible = True
    for layer in inputs:
        layer.visible = False
    return earlier


def _geometry(source: Any, ndim: int) -> dict[str, Any]:
    if source is None:
        return {}
    scale = tuple(source.scale)[-ndim:]
    translate = tuple(source.translate)[-ndim:]
    if len(scale) < ndim:  # more axes than the input: leading ones at unit scale
        pad = ndim - len(scale)
        scale, translate = (1.0,) * pad + scale, (0.0,) * pad + translate
    return {"scale": scale, "translate": translate}


def _add(viewer: Any, name: str, item: ResultLayer, index: int, meta: dict, source: Any) -> Any:
    ndim = getattr(item.data, "ndim", 2)
    if item.kind == "labels":
        return viewer.add_labels(item.data, name=name, metadata=meta, **_geometry(source, ndim))
    if item.kind == "shapes":
        return viewer.add_shapes(item.data, name=name, metadata=meta, **item.extra)
    if item.kind == "points":
        return viewer.add_points(item.data, name=name, metadata=meta, **item.extra)
    return viewer.add_image(
        item.data,
        name=name,
        colormap=item.colormap or colormap_for(index),
        blending=item.blending,
        contrast_limits=item.contrast_limits,
        metadata=meta,
        **_geometry(source, ndim),
        **item.extra,
    )


_SHAPE_KEYS = {"shape_type", "edge_color", "face_color", "edge_width", "properties"}


def _reshape(layer: Any, item: ResultLayer) -> None:
    """Replace the shapes of a previous shapes result by ``item``'s."""
    extra = dict(item.extra)
    properties = extra.pop("properties", None)
    layer.selected_data = set()
    layer.data = []
    if len(item.data):
        layer.add(item.data, **extra)
    if properties is not None:
        layer.properties = properties


def _reusable(layer: Any, item: ResultLayer) -> bool:
    """Whether ``layer`` can take ``item``'s data in place (same kind and dimensions)."""
    ndim = getattr(item.data, "ndim", None)
    if item.kind == "shapes":
        return layer._type_string == "shapes" and set(item.extra) <= _SHAPE_KEYS
    return (
        item.kind in ("image", "labels")
        and layer._type_string == item.kind
        and layer.ndim == ndim
        and not (item.kind == "image" and item.extra)  # (labels are added without extra)
        and not getattr(layer, "rgb", False)
    )


def _update(layer: Any, item: ResultLayer, index: int, meta: dict, source: Any) -> Any:
    """Put ``item`` into a previous result layer of the same name (see :func:`_reusable`)."""
    if item.kind == "shapes":
        _reshape(layer, item)
    else:
        layer.data = item.data
    layer.metadata = meta
    geometry = {} if item.kind == "shapes" else _geometry(source, layer.ndim)  # as _add
    for key, value in geometry.items():  # each change redraws
        if tuple(getattr(layer, key)) != tuple(value):
            setattr(layer, key, value)
    if item.kind == "image":
        layer.colormap = item.colormap or colormap_for(index)
        layer.blending = item.blending
        layer.reset_contrast_limits_range()
        if item.contrast_limits is None:
            layer.reset_contrast_limits()
        else:
            layer.contrast_limits = item.contrast_limits
    if not layer.visible:
        layer.visible = True
    return layer


def show_result(
    viewer: Any,
    result: Result,
    *,
    inputs: Sequence[Any] = (),
    keep_previous: bool = False,
) -> list[Any]:
    """Add ``result``'s layers following the policy above; returns the new layers."""
    names = result.layer_names()
    previous = {} if keep_previous else {
        ly.name: ly for ly in tool_layers(viewer, result.tool)
        if ly.metadata[TAG].get("role") != "preview"  # previews stay, hidden below
    }  # fmt: skip
    reuse = {
        name: previous.pop(name)
        for name, item in zip(names, result.layers, strict=True)
        if name in previous and _reusable(previous[name], item)
    }
    for layer in previous.values():
        viewer.layers.remove(layer)
    for layer in tool_layers(viewer, result.tool, role="preview"):
        layer.visible = False
    run = next(_RUNS)
    source = inputs[0] if inputs else None
    added = []
    for i, (name, item) in enumerate(zip(names, result.layers, strict=True)):
        tag = {"tool": result.tool, "source": result.source, "run": run, "role": item.role}
        meta = {TAG: tag, "report": result.report}
        if name in reuse:
            added.append(_update(reuse[name], item, i, meta, source))
        else:
            added.append(_add(viewer, name, item, i, meta, source))
    for layer in inputs:
        if layer in viewer.layers:
            layer.visible = False
    return added
