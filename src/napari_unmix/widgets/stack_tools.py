"""The "Stack tools" dock: filters, histogram matching, max-z, z-drift and time registration.

A thin driver: it gathers the selected channel layers into one TZCYX stack, runs
:func:`napari_unmix.api.stack_tools.iter_stack_tool` in a ``thread_worker`` (progress bar,
cancel button), and adds the result as new layers with the inputs' scale, translate and
the report in ``layer.metadata["report"]``. Input layers are never modified.
"""

from typing import Any

from magicgui.widgets import ComboBox, Container, Label, PushButton, Select
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..api.stack_tools import iter_stack_tool
from ..core.axes import from_tzcyx
from ..core.stack_tools import STACK_TOOLS, FilterOptions
from ._form import OptionsForm
from ._layers import layers_to_tzcyx

__all__ = ["StackToolsWidget", "layers_to_stack"]

_STEPS = ["median", "gaussian", "median, gaussian", "gaussian, median"]
_AXES_BY_NDIM = {2: "YX", 3: "ZYX", 4: "TZYX"}
#: Fields of the filter form (the filter steps are a dropdown of orders; the per-channel
#: overrides are for scripts and the command line).
_FILTER_FIELDS = ("median_size", "gaussian_sigma", "apply_3d")
#: What an empty line edit means.
_PLACEHOLDERS = {
    "zrange": "START STOP (empty: all slices)",
    "max_shift": "empty: 45 % of the image",
}


def _panel(tool: str) -> OptionsForm:
    """The parameter form of one tool, from its options class."""
    options = STACK_TOOLS[tool].options
    if tool != "filter":
        form = OptionsForm(options)
    else:
        form = OptionsForm(options, only=_FILTER_FIELDS)
        steps = ComboBox(
            name="steps",
            label="Filters",
            choices=_STEPS,
            value=", ".join(FilterOptions.filters),
            tooltip=FilterOptions.spec("filters").help(),
        )
        form.insert(0, steps)
    for name, text in _PLACEHOLDERS.items():
        if name in form.specs:
            form.field(name).native.setPlaceholderText(text)
    form.label = "parameters"
    return form


def layers_to_stack(layers: list[Any]) -> tuple[Any, list[str]]:
    """One TZCYX stack from channel layers (TZYX / ZYX / YX) or one layer with a C axis.

    Returns the stack and the axes of every layer (to put results back in that form).
    """
    stack = layers_to_tzcyx(layers)
    return stack.data, list(stack.axes)


class _Failed(str):
    """The message of a run that stopped on bad input (not an Exception: superqt would
    re-raise a returned exception)."""


def _guarded(steps: Any):
    """Run a steps generator; bad input (ValueError) comes back as a :class:`_Failed`
    message, so the dock shows one line instead of napari's traceback notification."""
    try:
        return (yield from steps)
    except ValueError as err:
        return _Failed(err)


class StackToolsWidget(QWidget):
    """Dock widget: pick channel layers and one stack tool, run it in the background."""

    def __init__(self, napari_viewer: Any):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.layers = Select(label="channel layers", choices=self._image_layers)
        self.layers.native.setMaximumHeight(110)
        self.layers.tooltip = "the channels of one stack, in channel order"
        self.tool = ComboBox(
            label="tool",
            choices=[(t.label, name) for name, t in STACK_TOOLS.items()],
            value="filter",
        )
        self.panels: dict[str, OptionsForm] = {name: _panel(name) for name in STACK_TOOLS}
        self.run_button = PushButton(text="Run")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.status = Label(value="")
        self.container = Container(
            widgets=[
                self.layers,
                self.tool,
                *self.panels.values(),
                self.run_button,
                self.cancel_button,
                self.status,
            ]
        )
        self.tool.changed.connect(self._show_panel)
        self.run_button.changed.connect(self.run)
        self.cancel_button.changed.connect(self.cancel)
        for event in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed):
            event.connect(lambda _e=None: self.layers.reset_choices())
        self._show_panel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.container.native)
        layout.addStretch(1)

    def _image_layers(self, _widget: Any = None) -> list[tuple[str, Any]]:
        from napari.layers import Image

        return [(ly.name, ly) for ly in self.viewer.layers if isinstance(ly, Image)]

    def _show_panel(self, _value: Any = None) -> None:
        for name, panel in self.panels.items():
            panel.visible = name == self.tool.value

    def options(self) -> dict[str, Any]:
        """The keywords of the chosen tool, from its parameter panel."""
        panel = self.panels[self.tool.value]
        values = panel.values()
        if self.tool.value == "filter":
            values["filters"] = [s.strip() for s in panel.steps.value.split(",")]
        return values

    def run(self, _value: Any = None):
        """Start the chosen tool on the selected layers; returns the worker (or None)."""
        from napari.qt.threading import create_worker
        from napari.utils import progress
        from napari.utils.notifications import show_error

        layers = list(self.layers.value)
        tool = self.tool.value
        try:
            stack, axes = layers_to_stack(layers)
            options = self.options()
        except ValueError as err:
            show_error(f"Stack tools: {err}")
            return None
        self.worker = create_worker(_guarded, iter_stack_tool(tool, stack, options))
        pbar = progress(total=0, desc=STACK_TOOLS[tool].label)

        def on_yield(event: Any) -> None:
            pbar.total = int(event.total or 0)
            pbar.n = int(event.done)
            pbar.refresh()

        def on_return(result: Any) -> None:
            if isinstance(result, _Failed):
                show_error(f"Stack tools ({tool}): {result}")
                self.status.value = "failed: see the message"
            else:
                self._add_result(result, layers, tool, axes)

        def on_done() -> None:
            pbar.close()
            self.run_button.enabled, self.cancel_button.enabled = True, False

        self.worker.yielded.connect(on_yield)
        self.worker.returned.connect(on_return)
        self.worker.finished.connect(on_done)
        self.run_button.enabled, self.cancel_button.enabled = False, True
        self.status.value = f"running {STACK_TOOLS[tool].label} ..."
        self.worker.start()
        return self.worker

    def cancel(self, _value: Any = None) -> None:
        if self.worker is not None:
            self.worker.quit()
            self.status.value = "cancelled"

    def _add_result(self, result: Any, layers: list, tool: str, axes: list) -> None:
        """Add the layers of the tool's :class:`~napari_unmix.core.result.Result`, one per
        input layer (channel), with the input's scale, colormap and the report."""
        res = result.to_result(source=", ".join(ly.name for ly in layers))
        multichannel = "C" in axes[0]
        for out in res.layers:
            for c, (layer, ax) in enumerate(zip(layers, axes, strict=True)):
                data = from_tzcyx(out.data if multichannel else out.data[:, :, c : c + 1], ax)
                meta = {k: v for k, v in layer.metadata.items() if k != "report"}
                meta["report"] = res.report
                self.viewer.add_image(
                    data,
                    name=f"{layer.name} [{tool}]",
                    scale=list(layer.scale),
                    translate=list(layer.translate),
                    axis_labels=tuple(layer.axis_labels),
                    colormap=layer.colormap.name,
                    blending=layer.blending,
                    metadata=meta,
                )
        self.status.value = f"{STACK_TOOLS[tool].label}: added {len(layers)} layer(s)"
