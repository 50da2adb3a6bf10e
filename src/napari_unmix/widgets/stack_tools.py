"""The "Stack tools" dock: filters, histogram matching, max-z, z-drift, registration over
time, and time → channels, on the dock skeleton (:class:`~._dock.ToolDock`).

A thin driver: the channel layers become one TZCYX stack through the layer adapter
(:mod:`._layers`), the chosen tool runs the generator the script API runs
(:func:`napari_unmix.api.stack_tools.iter_stack_tool`, or
:func:`~napari_unmix.api.stack_tools.iter_time_to_channels`) in a worker, and the result
comes back as one layer per channel, named ``<input> · <tool> · <channel>`` with the input's
scale and colormap, replacing the tool's previous results unless "keep previous results"
is ticked (inputs hidden, never modified). The results panel shows the run's summary; for
z-drift and registration the frames left in place and a plot of the corrections.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Sequence
from typing import Any

from magicgui import widgets as mw
from qtpy.QtWidgets import QComboBox, QLabel, QWidget

from ..api.stack_tools import iter_stack_tool, iter_time_to_channels
from ..core.axes import from_tzcyx
from ..core.progress import Progress
from ..core.result import Result, ResultLayer, colormap_for
from ..core.stack_tools import STACK_TOOLS
from ._dock import ToolDock
from ._form import OptionsForm
from ._layer_policy import TAG, replace_in_place, show_result, tool_layers
from ._layers import LayerStack, layer_axes, layers_to_tzcyx
from .stack_tools_summary import StackToolSummary

__all__ = ["StackToolsWidget", "newest_stack"]

TIME_TO_CHANNELS = "time-to-channels"
#: the tools of the chooser: the registry's, then time -> channels (a layout change)
_TOOLS = [(m.label, name) for name, m in STACK_TOOLS.items()] + [
    ("Time → channels", TIME_TO_CHANNELS)
]
_STEPS = ["median", "gaussian", "median, gaussian", "gaussian, median"]
#: the filter form: the steps are a dropdown of orders, the per-channel dict is for scripts
_FILTER_FIELDS = (
    "median_size",
    "gaussian_sigma",
    "apply_3d",
    "filters_channel2",
    "median_size_channel2",
    "gaussian_sigma_channel2",
)
#: what an empty line edit means: (placeholder, short enough for a narrow dock; tooltip line)
_PLACEHOLDERS = {
    "zrange": ("all slices", "START STOP, e.g. '3 20'; empty: all slices"),
    "max_shift": ("45 % of the image", "empty: 45 % of the image"),
    "filters_channel2": ("as the others", "e.g. 'median gaussian'; empty: as the other channels"),
}


def _usable(layer: Any) -> bool:
    """An image layer the stack tools can read (not RGB, 2 to 5 dimensions, not a preview)."""
    from napari.layers import Image

    tag = layer.metadata.get(TAG) if isinstance(layer.metadata, dict) else None
    preview = isinstance(tag, dict) and tag.get("role") == "preview"
    return isinstance(layer, Image) and not layer.rgb and 2 <= layer.ndim <= 5 and not preview


def _multichannel(layer: Any) -> bool:
    try:
        return "C" in layer_axes(layer)
    except ValueError:
        return False


def _group(layer: Any) -> Any:
    """What makes layers channels of one stack: one dock run, one sample, one file."""
    meta = layer.metadata if isinstance(layer.metadata, dict) else {}
    tag = meta.get(TAG)
    if isinstance(tag, dict):
        return ("run", tag.get("tool"), tag.get("run"))
    if meta.get("sample"):
        return ("sample", meta["sample"])
    path = getattr(getattr(layer, "source", None), "path", None)
    return ("file", str(path)) if path else None


def newest_stack(layers: Sequence[Any]) -> list[Any]:
    """The channel layers of the newest usable stack: the newest usable layer alone when it
    holds channels, else it and the layers of the same shape from the same run, sample or
    file (all layers of that shape when it has no such origin).
    """
    usable = [ly for ly in layers if _usable(ly)]
    if not usable:
        return []
    newest = usable[-1]
    if _multichannel(newest):
        return [newest]
    key, shape = _group(newest), newest.data.shape
    return [
        ly
        for ly in usable
        if ly.data.shape == shape and _group(ly) == key and not _multichannel(ly)
    ]


def _channel_names(stack: LayerStack, n_out: int) -> tuple[str, list[str]]:
    """``(source, component names)`` of a result with ``n_out`` channels."""
    layers = stack.layers
    if stack.multichannel:
        return layers[0].name, ["channels"]
    if len(layers) == 1 or n_out != len(layers):
        return layers[0].name, [f"C{c}" for c in range(n_out)]
    names = [ly.name for ly in layers]
    prefix = os.path.commonprefix(names)  # noqa: RUF071 - cut back to whole words below
    cut = max(prefix.rfind(sep) for sep in " ·_-(")  # whole words only: "mixed C0" -> "mixed "
    prefix = prefix[: cut + 1]
    source = prefix.rstrip(" ·-_(")
    rest = [n[len(prefix) :].strip(" ·-_") for n in names]
    if len(source) >= 2 and all(rest):
        return source, rest
    meta = layers[0].metadata if isinstance(layers[0].metadata, dict) else {}
    return str(meta.get("sample") or "stack"), names


def _place(layer: Any, axes: str, source: Any, source_axes: str) -> None:
    """Scale, translation and axis labels of the ``source`` layer, for the result's axes."""
    by_axis = dict(
        zip(source_axes, zip(source.scale, source.translate, source.axis_labels, strict=True),
            strict=True)
    )  # fmt: skip
    keep = [by_axis.get(a, (1.0, 0.0, a.lower())) for a in axes]
    named = not all(str(a).lstrip("-").isdigit() for a in source.axis_labels)
    for i, attr in enumerate(("scale", "translate", "axis_labels")[: 3 if named else 2]):
        value = [k[i] for k in keep]
        if list(getattr(layer, attr)) != value:  # each change redraws
            setattr(layer, attr, value)


class StackToolsWidget(ToolDock):
    """Dock: channel layers of one stack + a stack tool -> corrected channel layers."""

    run_text = "Run"

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        self._stack: LayerStack | None = None
        self.layers = mw.Select(label="channel layers", choices=self._layer_choices)
        self.layers.native.setMaximumHeight(110)
        self.layers.tooltip = (
            "the channels of one stack, in channel order (or one layer that holds the channels)"
        )
        self.chooser = mw.ComboBox(label="tool", choices=_TOOLS, value="filter")
        self.inputs_box.extend([self.layers, self.chooser])
        self.panels: dict[str, Any] = {}
        for i, (_, name) in enumerate(_TOOLS):
            self.chooser.value = name
            self.panels[name] = self._panel(name)
            self.body_layout.insertWidget(1 + i, self.panels[name].native)
        self.chooser.value = "filter"
        for combo in self.findChildren(QComboBox):  # long choices must not widen the dock
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        self.chooser.changed.connect(self._switch)
        self.layers.changed.connect(self._fit_bounds)
        events = napari_viewer.layers.events
        for ev in (events.inserted, events.removed, events.reordered):
            ev.connect(self._refresh_layers)
        self._refresh_layers()
        self._switch()

    # -- what the skeleton asks ------------------------------------------------------------
    @property
    def tool(self) -> str:  # type: ignore[override]
        """The chosen stack tool (the result layers are tagged with it)."""
        chooser = getattr(self, "chooser", None)
        return str(chooser.value) if chooser is not None else ""

    @property
    def options(self) -> Any:  # type: ignore[override]
        """The options class of the chosen tool (None for time -> channels)."""
        method = STACK_TOOLS.get(self.tool)
        return method.options if method is not None else None

    def _panel(self, name: str) -> Any:
        """The form of one tool, from its options class, with the saved values."""
        if name == TIME_TO_CHANNELS:
            text = mw.Label(
                value="For a one-channel stack whose time axis really holds the channels:\n"
                "T=n, C=1 becomes T=1, C=n (one layer per channel)."
            )
            return mw.Container(widgets=[text])
        saved = self._saved_values()
        if name != "filter":
            form = OptionsForm(self.options, values=saved)
        else:
            form = OptionsForm(self.options, only=_FILTER_FIELDS, values=saved)
            steps = mw.ComboBox(
                name="steps",
                label="Filters",
                choices=_STEPS,
                value=", ".join(self.options.filters),
                tooltip=self.options.spec("filters").help(),
            )
            form.insert(0, steps)
        for field, (text, hint) in _PLACEHOLDERS.items():
            if field in form.specs:
                widget = form.field(field)
                widget.native.setPlaceholderText(text)
                widget.tooltip = f"{hint}\n{widget.tooltip or ''}".strip()
        return form

    def _switch(self, _value: Any = None) -> None:
        for name, panel in self.panels.items():
            panel.visible = name == self.tool
        panel = self.panels.get(self.tool)
        self.form = panel if isinstance(panel, OptionsForm) else None
        self.reset_button.setEnabled(self.form is not None)

    def current_options(self) -> Any:
        if self.form is None:
            return None
        values = self.form.values()
        if self.tool == "filter":
            values["filters"] = [s.strip() for s in self.form.steps.value.split(",")]
        return self.options.from_kwargs(values)

    # -- layers ----------------------------------------------------------------------------
    def _layer_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        return [(ly.name, ly) for ly in self.viewer.layers if _usable(ly)]

    def _refresh_layers(self, _event: Any = None) -> None:
        """Re-read the layers quietly; keep the selection while its layers are there, else
        preselect the newest usable stack."""
        current = [ly for ly in self.layers.value if ly in self.viewer.layers]
        self.layers.reset_choices()
        self.layers.value = current or newest_stack(list(self.viewer.layers))

    def _fit_bounds(self, _value: Any = None) -> None:
        """Channel and time-point choices bounded by the selected stack."""
        layers = list(self.layers.value)
        if not layers:
            return
        try:
            axes = layer_axes(layers[0])
        except ValueError:
            return
        shape = dict(zip(axes, layers[0].data.shape, strict=True))
        n_c = shape.get("C", 1) if len(layers) == 1 else len(layers)
        limits = {"registration_channel": n_c - 1, "reference_t": shape.get("T", 1) - 1}
        for panel in self.panels.values():
            for field, top in limits.items():
                if isinstance(panel, OptionsForm) and field in panel.specs:
                    panel.field(field).max = max(top, 0)

    def input_layers(self) -> list[Any]:
        return list(self._stack.layers) if self._stack is not None else list(self.layers.value)

    def read_inputs(self) -> tuple[LayerStack, str]:
        self._stack = layers_to_tzcyx(list(self.layers.value))
        return self._stack, self.tool

    # -- running ---------------------------------------------------------------------------
    def steps(self, inputs: Any, options: Any) -> Generator[Progress, None, Result]:
        stack, tool = inputs
        if tool == TIME_TO_CHANNELS:
            res = yield from iter_time_to_channels(stack.data)
        else:
            res = yield from iter_stack_tool(tool, stack.data, options.as_dict())
        return self._to_result(res, stack)

    def _to_result(self, res: Any, stack: LayerStack) -> Result:
        """The tool's result as one layer per input layer, in that layer's axes (time ->
        channels: one layer per new channel)."""
        whole = res.to_result()
        n_out = res.data.shape[2]
        if n_out == len(stack.names):
            arrays = stack.restore(res.data)
            source, names = _channel_names(stack, len(arrays))
            axes = list(stack.axes)
            cmaps = [ly.colormap.name for ly in stack.layers]
        else:  # time -> channels: one channel became n; its time axis is gone
            source, names = stack.layers[0].name, [f"C{c}" for c in range(n_out)]
            axes = [stack.axes[0].replace("C", "").replace("T", "")] * n_out
            arrays = [from_tzcyx(res.data[:, :, c : c + 1], axes[c]) for c in range(n_out)]
            cmaps = [colormap_for(c) for c in range(n_out)]
        layers = [
            ResultLayer(name, data, colormap=cmap, axes=ax, role="corrected")
            for name, data, cmap, ax in zip(names, arrays, cmaps, axes, strict=True)
        ]
        return Result(res.tool, layers, report=res.report, source=source, tables=whole.tables)

    def show_result(self, result: Any) -> None:
        stack = self._stack
        inputs = list(stack.layers) if stack is not None else []
        added = None
        if not self.keep_previous.isChecked():  # earlier results, unless they are the input
            earlier = [ly for ly in tool_layers(self.viewer, result.tool) if ly not in inputs]
            added = replace_in_place(earlier, result, inputs)
            if added is None:
                for layer in earlier:
                    self.viewer.layers.remove(layer)
        if added is None:
            added = show_result(self.viewer, result, inputs=inputs, keep_previous=True)
        for _, name in _TOOLS:  # the results of the dock's other tools step back (hidden)
            for layer in tool_layers(self.viewer, name) if name != result.tool else ():
                layer.visible = False
        if stack is not None:
            same = len(added) == len(stack.layers)
            for i, layer in enumerate(added):
                j = i if same else 0
                _place(layer, result.layers[i].axes, stack.layers[j], stack.axes[j])
        label = {n: lab for lab, n in _TOOLS}[result.tool]
        stamp = time.strftime("%H:%M:%S")
        self.results.add_run(f"{label} · {stamp}", self.summary(result))

    def summary(self, result: Any) -> QWidget:
        if not isinstance(result, Result):
            return QLabel("done")
        shifts = result.tables.get("shifts_yx")
        return StackToolSummary(result.tool, result.report, shifts, viewer=self.viewer)
