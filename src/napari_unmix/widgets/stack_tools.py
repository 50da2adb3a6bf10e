"""The "Stack tools" dock: filters, histogram matching, max-z, z-drift and time registration.

A thin driver: it gathers the selected channel layers into one TZCYX stack, runs
:func:`napari_unmix.api.stack_tools.iter_stack_tool` in a ``thread_worker`` (progress bar,
cancel button), and adds the result as new layers with the inputs' scale, translate and
the report in ``layer.metadata["report"]``. Input layers are never modified.
"""

from typing import Annotated, Any

from magicgui import magicgui
from magicgui.widgets import ComboBox, Container, FunctionGui, Label, PushButton, Select
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..api.stack_tools import iter_stack_tool
from ..core.axes import from_tzcyx
from ..core.stack_tools import REFERENCE_MODES, REGISTRATION_METHODS, STACK_TOOLS
from ._layers import layers_to_tzcyx

__all__ = ["StackToolsWidget", "layers_to_stack"]

_STEPS = ["median", "gaussian", "median, gaussian", "gaussian, median"]
_METHODS = list(REGISTRATION_METHODS)
_MODES = list(REFERENCE_MODES)


# Parameter panels: one small function per tool; magicgui builds the widgets from the
# signature and the function turns the values into the tool's keywords.
def _filter_params(
    steps: Annotated[str, {"choices": _STEPS}] = "median",
    median_size: Annotated[int, {"min": 1, "max": 51}] = 3,
    gaussian_sigma: Annotated[float, {"min": 0.0, "max": 50.0, "step": 0.1}] = 1.0,
    apply_3d: bool = False,
) -> dict:
    """Filters.

    Parameters
    ----------
    steps : str
        Filters applied in this order.
    median_size : int
        Median window (pixels): 3 gentle, 5 strong; removes shot noise and hot pixels.
    gaussian_sigma : float
        Gaussian sigma (pixels); keep it below the smallest structure of interest.
    apply_3d : bool
        Filter each z-stack as a volume instead of plane by plane.
    """
    return {
        "filters": [s.strip() for s in steps.split(",")],
        "median_size": median_size,
        "gaussian_sigma": gaussian_sigma,
        "apply_3d": apply_3d,
    }


def _histogram_params(reference_t: Annotated[int, {"min": 0, "max": 100000}] = 0) -> dict:
    return {"reference_t": reference_t}


def _zrange(use_zrange: bool, z_start: int, z_stop: int) -> dict:
    return {"zrange": (z_start, z_stop)} if use_zrange else {}


def _projection_params(
    use_zrange: bool = False,
    z_start: Annotated[int, {"min": 0, "max": 100000}] = 0,
    z_stop: Annotated[int, {"min": 1, "max": 100000}] = 1,
) -> dict:
    return _zrange(use_zrange, z_start, z_stop)


def _z_drift_params(
    registration_channel: Annotated[int, {"min": 0, "max": 64}] = 0,
    method: Annotated[str, {"choices": _METHODS}] = "phase_cross_correlation",
    reference_mode: Annotated[str, {"choices": _MODES}] = "neighbor",
    neighbor_window_size: Annotated[int, {"min": 3, "max": 21, "step": 2}] = 3,
    pre_median_filter: bool = False,
    post_median_filter: bool = False,
    median_kernel_size: Annotated[int, {"min": 1, "max": 21}] = 3,
    interpolation_order: Annotated[int, {"min": 0, "max": 5}] = 1,
    max_shift: Annotated[float, {"min": 0.0, "max": 100000.0}] = 0.0,
) -> dict:
    """Intra-stack z-drift.

    Parameters
    ----------
    registration_channel : int
        Index (in the selection) of the channel with structures visible in every slice.
    method : str
        Shift estimator; phase_cross_correlation is refined to a fraction of a pixel.
    reference_mode : str
        neighbor: against the slices just before; first: against slice 0; mean /
        full_projection: against the mean / max over Z.
    neighbor_window_size : int
        Odd; 5 compares with two slices before each slice and averages.
    pre_median_filter : bool
        Median-filter the registration channel before estimating (noisy data).
    post_median_filter : bool
        Median-filter both images just before each estimate.
    median_kernel_size : int
        Size of those median filters.
    interpolation_order : int
        1 linear (no new extremes), 3 cubic (sharper).
    max_shift : float
        Largest plausible shift in pixels; 0: 45 % of the image.
    """
    return _bound(dict(locals()))


def _bound(opts: dict) -> dict:
    """``max_shift`` 0 in the form means the default bound (None)."""
    return {**opts, "max_shift": opts["max_shift"] or None}


def _register_params(
    registration_channel: Annotated[int, {"min": 0, "max": 64}] = 0,
    method: Annotated[str, {"choices": _METHODS}] = "phase_cross_correlation",
    reference_t: Annotated[int, {"min": 0, "max": 100000}] = 0,
    use_zrange: bool = False,
    z_start: Annotated[int, {"min": 0, "max": 100000}] = 0,
    z_stop: Annotated[int, {"min": 1, "max": 100000}] = 1,
    pre_median_filter: bool = False,
    post_median_filter: bool = False,
    median_kernel_size: Annotated[int, {"min": 1, "max": 21}] = 3,
    interpolation_order: Annotated[int, {"min": 0, "max": 5}] = 1,
    max_shift: Annotated[float, {"min": 0.0, "max": 100000.0}] = 0.0,
) -> dict:
    opts = dict(locals())
    zr = _zrange(opts.pop("use_zrange"), opts.pop("z_start"), opts.pop("z_stop"))
    return {**_bound(opts), **zr}


_PANELS = {
    "filter": _filter_params,
    "match-histograms": _histogram_params,
    "max-z": _projection_params,
    "z-drift": _z_drift_params,
    "register": _register_params,
}


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
        self.panels: dict[str, FunctionGui] = {
            name: magicgui(fn, call_button=False) for name, fn in _PANELS.items()
        }
        for panel in self.panels.values():
            panel.label = "parameters"
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
        return panel(**{w.name: w.value for w in panel})

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
        self.worker = create_worker(_guarded, iter_stack_tool(tool, stack, **options))
        pbar = progress(total=0, desc=STACK_TOOLS[tool].label)

        def on_yield(step: tuple[int, int]) -> None:
            done, total = step
            pbar.total = total
            pbar.n = done
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

    def _add_result(self, result: tuple[Any, dict], layers: list, tool: str, axes: list) -> None:
        out, report = result
        multichannel = "C" in axes[0]
        for c, (layer, ax) in enumerate(zip(layers, axes, strict=True)):
            data = from_tzcyx(out if multichannel else out[:, :, c : c + 1], ax)
            meta = {k: v for k, v in layer.metadata.items() if k != "report"}
            meta["report"] = report
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
