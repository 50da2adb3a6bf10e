"""The layer adapter: selected napari image layers -> the arrays the tools take.

One rule set for every dock:

- **Fluorescence docks** take a TZCYX stack (:func:`layers_to_tzcyx`) from either one
  multi-channel layer or several layers, one per channel.
- **Hyperspectral docks** take the C x Y x X cube of one layer at the displayed Z/T
  position (:func:`layer_cube`).

A layer's axes are ``layer.metadata["axes"]`` when that names one letter of ``TZCYX`` per
dimension (the plugin's reader always writes it); otherwise they follow from the number
of dimensions:

- one layer per channel (several layers, or a lone layer in a tool that works on one
  channel): :data:`~napari_unmix.core.axes.CHANNEL_AXES` (``YX``, ``ZYX``, ``TZYX``);
- a lone layer in a tool that needs channels (``min_channels >= 2``):
  :data:`~napari_unmix.core.axes.DEFAULT_AXES` (``CYX``, ``ZCYX``, ``TZCYX``).

(:func:`napari_unmix.core.axes.resolve_axes` holds the rule; the writer uses it too.)

Channel layers must agree in T, Z, Y and X; RGB layers are refused. numpy data stay
numpy, dask data stay lazy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dask import is_dask_collection

from ..core.axes import from_tzcyx, resolve_axes, to_tzcyx, validate_axes

__all__ = [
    "LayerStack",
    "hyperspectral_layers",
    "layer_axes",
    "layer_cube",
    "layers_to_tzcyx",
]


def _named_axes(layer: Any) -> str | None:
    """``metadata["axes"]`` when it names every dimension of the layer, else None."""
    axes = (getattr(layer, "metadata", None) or {}).get("axes")
    try:
        return validate_axes(axes, layer.data.ndim) if isinstance(axes, str) else None
    except ValueError:
        return None


def layer_axes(layer: Any, *, channels: bool = False) -> str:
    """The axis letters of one image layer (:func:`napari_unmix.core.axes.resolve_axes`).

    ``channels=True`` reads a layer without axis names as channels first
    (``CYX``, ``ZCYX``, ``TZCYX``); otherwise as one channel (``YX``, ``ZYX``, ``TZYX``).
    """
    if getattr(layer, "rgb", False):
        raise ValueError(
            f"layer {layer.name!r} is an RGB image; split it into channels first "
            "(right-click the layer > Split RGB)"
        )
    try:
        return resolve_axes(layer.data.ndim, layer.metadata.get("axes"), channels=channels)
    except ValueError as err:
        raise ValueError(f"layer {layer.name!r} {tuple(layer.data.shape)}: {err}") from None


@dataclass(frozen=True)
class LayerStack:
    """A TZCYX stack built from layers, and how to put results back into their shape."""

    #: the TZCYX stack (numpy or dask, as the layers were)
    data: Any
    #: the input layers, in channel order
    layers: tuple[Any, ...]
    #: the axes of every input layer
    axes: tuple[str, ...]
    #: one name per channel
    names: tuple[str, ...]

    @property
    def multichannel(self) -> bool:
        """True when one layer holds all channels."""
        return len(self.layers) == 1 and "C" in self.axes[0]

    def channel_layer(self, c: int) -> Any:
        """The layer channel ``c`` came from."""
        return self.layers[0] if self.multichannel else self.layers[c]

    def channel(self, stack: Any, c: int) -> Any:
        """Channel ``c`` of a TZCYX result, in the axes of its layer without C."""
        axes = self.axes[0 if self.multichannel else c].replace("C", "")
        return from_tzcyx(stack[:, :, c : c + 1], axes)

    def restore(self, stack: Any) -> list[Any]:
        """A TZCYX result as one array per input layer, each in that layer's axes."""
        if self.multichannel:
            return [from_tzcyx(stack, self.axes[0])]
        return [self.channel(stack, c) for c in range(len(self.layers))]


def _concatenate(parts: list[Any]) -> Any:
    if any(is_dask_collection(p) for p in parts):  # large data stay lazy
        import dask.array as da

        return da.concatenate([da.asarray(p) for p in parts], axis=2)
    return np.concatenate([np.asarray(p) for p in parts], axis=2)


def is_spike_ensemble(layer: Any) -> bool:
    """Whether ``layer`` holds a spike-triggered ensemble (``metadata["ste_axes"]``), whose
    long first axis is spikes, not channels."""
    meta = getattr(layer, "metadata", None)
    return isinstance(meta, dict) and bool(meta.get("ste_axes"))


def layers_to_tzcyx(layers: Sequence[Any], *, min_channels: int = 1) -> LayerStack:
    """One TZCYX stack from one multi-channel layer or several one-channel layers.

    Parameters
    ----------
    layers : sequence of napari image layers
        One layer (any of YX, ZYX, CYX, ZCYX, TZCYX ...) or one layer per channel.
    min_channels : int
        Channels the tool needs; with 2 or more, a lone layer without axis names is read
        channels first.

    Raises
    ------
    ValueError
        No layer, an RGB layer, a layer of unsupported dimensions, channel layers of
        different shapes, a multi-channel layer among channel layers, or too few channels.
    """
    layers = tuple(layers)
    if not layers:
        raise ValueError("select at least one image layer (one per channel, or one multi-channel)")
    for layer in layers:
        if is_spike_ensemble(layer):
            raise ValueError(
                f"{layer.name!r} is a spike-triggered ensemble (one frame per spike), not a "
                "channel stack; open it in the STNMF dock"
            )
    if len(layers) == 1:
        layer = layers[0]
        axes = layer_axes(layer, channels=min_channels >= 2)
        data = to_tzcyx(layer.data, axes)
        n_c = data.shape[2]
        if n_c < min_channels:
            raise ValueError(
                f"layer {layer.name!r} has only one channel ({layer.data.shape=}, axes {axes}); "
                "pick a multi-channel layer (CYX, ZCYX, TZCYX) or one layer per channel"
            )
        names = [f"{layer.name} C{c}" for c in range(n_c)] if "C" in axes else [layer.name]
        return LayerStack(data, layers, (axes,), tuple(names))
    axes = tuple(layer_axes(layer) for layer in layers)
    parts = [to_tzcyx(layer.data, ax) for layer, ax in zip(layers, axes, strict=True)]
    for layer, part in zip(layers, parts, strict=True):
        if part.shape[2] != 1:
            raise ValueError(
                f"layer {layer.name!r} holds {part.shape[2]} channels; select one layer per "
                "channel, or that layer alone"
            )
    shapes = {(layer.name, tuple(layer.data.shape)) for layer in layers}
    if len({p.shape for p in parts}) > 1:
        raise ValueError(
            f"the selected layers differ in shape ({sorted(shapes)}); select channels of one "
            "stack (equal T, Z, Y and X)"
        )
    return LayerStack(_concatenate(parts), layers, axes, tuple(ly.name for ly in layers))


# ----------------------------------------------------------------------------- hyperspectral


def hyperspectral_layers(viewer: Any) -> list:
    """Image layers the hyperspectral tools can use (not RGB)."""
    from napari.layers import Image

    return [ly for ly in viewer.layers if isinstance(ly, Image) and not ly.rgb]


def is_cube_layer(layer: Any) -> bool:
    """Whether :func:`layer_cube` can read ``layer`` as a cube: a non-RGB image with a channel
    axis of at least 2 channels (C x Y x X, S x C x Y x X, or ``metadata["axes"]`` naming C;
    a layer whose axes name no C — one channel of a stack — is not a cube)."""
    from napari.layers import Image

    if not isinstance(layer, Image) or layer.rgb or layer.data.ndim < 3:
        return False
    if is_spike_ensemble(layer):
        return False
    named = _named_axes(layer)
    if named is not None:
        return "C" in named and named[-2:] == "YX" and layer.data.shape[named.index("C")] >= 2
    return layer.data.ndim <= 4 and layer.data.shape[-3] >= 2


def layer_cube(layer: Any, viewer: Any, *, all_slices: bool = False) -> np.ndarray:
    """The C x Y x X cube of an image layer at the viewer's current Z/T position.

    The channel axis is ``C`` of ``metadata["axes"]``, else axis -3. Axes before it (Z, T)
    give the displayed slice, or the mean over them when ``all_slices``; a 2-D image is an
    error that says what to open instead.
    """
    data = layer.data
    if data.ndim < 3:
        raise ValueError(
            f"{layer.name!r} is a 2-D image {tuple(data.shape)}; the hyperspectral tools need "
            "a C x Y x X cube (open a spectral stack, e.g. File > Open Sample > bead cube)"
        )
    named = _named_axes(layer)
    order = list(range(data.ndim))
    if named is not None and "C" in named:
        if named[-2:] != "YX":
            raise ValueError(f"{layer.name!r} has axes {named}; expected Y and X last")
        c = named.index("C")
        order = [i for i in order[:-2] if i != c] + [c, data.ndim - 2, data.ndim - 1]
        data = data.transpose(order)
    elif data.ndim > 4:
        raise ValueError(
            f"{layer.name!r} has {data.ndim} axes; expected C x Y x X or S x C x Y x X "
            "(or name them in layer.metadata['axes'])"
        )
    lead = data.ndim - 3
    if lead == 0:
        return np.asarray(data)
    if all_slices:
        flat = data.reshape((-1, *data.shape[-3:]))
        return np.nanmean(np.asarray(flat, dtype=np.float32), axis=0)
    dims = viewer.dims
    first = dims.ndim - data.ndim  # the viewer's dimension of the layer's axis 0
    index = tuple(
        min(max(int(dims.current_step[first + order[i]]), 0), data.shape[i] - 1)
        if first + order[i] >= 0
        else 0
        for i in range(lead)
    )
    return np.asarray(data[index])
