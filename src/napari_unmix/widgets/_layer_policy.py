"""The result-layer policy shared by every dock.

- Results are named ``<input> · <tool> · <component>`` and tagged in their metadata
  (``metadata["napari_unmix"] = {"tool", "source", "run"}``) with the run's report in
  ``metadata["report"]``.
- Re-running a tool replaces that tool's previous results (and its previews) unless
  ``keep_previous``; results of other tools are left alone. A previous image or labels
  layer of the same name is updated in place (napari removes a layer with a full garbage
  collection, about a second in a large session), and only the properties that changed are
  set (each change makes napari redraw).
- The input layers and previews are hidden, never deleted, when results appear.
- Components get distinct colormaps with additive blending (labels and shapes are added as
  they are); the scale and translation follow the input layer for the axes they share,
  matched by axis names (``ResultLayer.axes`` against the input's axes, e.g. a ``ZYX`` map
  of a ``ZCYX`` cube), else by the last axes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from ..core.result import Result, ResultLayer, colormap_for
from ._layers import layer_axes

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


def _shared_axes(source: Any, axes: str, ndim: int) -> list[int] | None:
    """The source's dimensions that carry the result's ``axes`` (by name), or None."""
    if len(axes) != ndim or getattr(source, "ndim", 0) == ndim:
        return None
    try:
        names = layer_axes(source, channels=source.ndim > ndim)
    except (ValueError, AttributeError):
        return None
    if not set(axes) <= set(names):
        return None
    index = [names.index(a) for a in axes]
    return index if index == sorted(index) else None  # same order, e.g. not "XY" vs "YX"


def _geometry(source: Any, ndim: int, axes: str = "") -> dict[str, Any]:
    if source is None:
        return {}
    index = _shared_axes(source, axes, ndim)
    if index is not None:
        scale, translate = tuple(source.scale), tuple(source.translate)
        return {"scale": tuple(scale[i] for i in index),
                "translate": tuple(translate[i] for i in index)}  # fmt: skip
    scale = tuple(source.scale)[-ndim:]
    translate = tuple(source.translate)[-ndim:]
    if len(scale) < ndim:  # more axes than the input: leading ones at unit scale
        pad = ndim - len(scale)
        scale, translate = (1.0,) * pad + scale, (0.0,) * pad + translate
    return {"scale": scale, "translate": translate}


def _add(viewer: Any, name: str, item: ResultLayer, index: int, meta: dict, source: Any) -> Any:
    ndim = getattr(item.data, "ndim", 2)
    if item.kind == "labels":
        geometry = _geometry(source, ndim, item.axes)
        return viewer.add_labels(item.data, name=name, metadata=meta, **geometry)
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
        **_geometry(source, ndim, item.axes),
        **item.extra,
    )


_SHAPE_KEYS = {"shape_type", "edge_color", "face_color", "edge_width", "properties"}
#: an image's ``extra`` keywords that a previous layer can take as plain properties
_IMAGE_KEYS = {"visible", "opacity", "gamma", "interpolation2d"}


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
        and not (item.kind == "image" and set(item.extra) - _IMAGE_KEYS)  # labels: no extra
        and not getattr(layer, "rgb", False)
    )


def _set(layer: Any, key: str, value: Any) -> None:
    """``layer.<key> = value`` only when it differs (each change makes napari redraw)."""
    current = getattr(layer, key)
    sequence = isinstance(value, tuple | list)
    if (tuple(current) == tuple(value)) if sequence else (current == value):
        return
    setattr(layer, key, value)


def _colormap_name(colormap: Any) -> str:
    return colormap if isinstance(colormap, str) else getattr(colormap, "name", "")


def _update(layer: Any, item: ResultLayer, index: int, meta: dict, source: Any) -> Any:
    """Put ``item`` into a previous result layer of the same name (see :func:`_reusable`);
    only the properties that differ are set."""
    if item.kind == "shapes":
        _reshape(layer, item)
    else:
        layer.data = item.data
    layer.metadata = meta
    geometry = {} if item.kind == "shapes" else _geometry(source, layer.ndim, item.axes)
    for key, value in geometry.items():
        _set(layer, key, value)
    extra = dict(item.extra) if item.kind == "image" else {}
    if item.kind == "image":
        colormap = item.colormap or colormap_for(index)
        if _colormap_name(colormap) != layer.colormap.name:
            layer.colormap = colormap
        _set(layer, "blending", item.blending)
        for key in ("opacity", "gamma", "interpolation2d"):
            if key in extra:
                _set(layer, key, extra[key])
        layer.reset_contrast_limits_range()
        if item.contrast_limits is None:
            layer.reset_contrast_limits()
        else:
            _set(layer, "contrast_limits", item.contrast_limits)
    _set(layer, "visible", bool(extra.get("visible", True)))
    return layer


def show_result(
    viewer: Any,
    result: Result,
    *,
    inputs: Sequence[Any] = (),
    keep_previous: bool = False,
    names: Sequence[str] | None = None,
) -> list[Any]:
    """Add ``result``'s layers following the policy above; returns the new layers.

    ``names`` replaces ``result.layer_names()`` (e.g. ``<input> · NNLS · <component>`` for
    a result of the NNMF dock's tool).
    """
    names = list(result.layer_names() if names is None else names)
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
        if layer in viewer.layers and layer.visible:
            layer.visible = False
    return added
