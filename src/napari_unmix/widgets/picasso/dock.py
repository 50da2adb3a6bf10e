"""Dock "PICASSO unmixing": blind unmixing of the channels of one image.

A :class:`~napari_unmix.widgets._dock.ToolDock`: the channel layers of the newest image are
ticked for you (:class:`~._channels.ChannelList`), the form comes from
:class:`~napari_unmix.core.picasso.PicassoOptions` (the recommended implementation
preselected, the MATLAB block size from the image size), the source → sink grid says which
bleed-through ``source_sink_n`` estimates. Run drives the script API's own generator
(:func:`~napari_unmix.api.picasso.iter_unmix_picasso_array`) in a worker; while it runs the
current unmixing matrix is shown at most every 0.5 s. The unmixed channels become layers
``<image> · PICASSO · <channel>`` (inputs hidden, the previous run replaced) and the results
panel shows the mixing (± standard error) and unmixing matrices as labelled tables. Manual
mode (:class:`~._manual.ManualAlphas`) adjusts the estimate by hand on the displayed slice.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from qtpy.QtWidgets import QComboBox, QLabel, QWidget

from ...api.picasso import PicassoRun, iter_unmix_picasso_array
from ...core.picasso import (
    IMPLEMENTATIONS,
    RECOMMENDED_IMPLEMENTATION,
    PicassoApplyOptions,
    PicassoOptions,
    auto_pixel_bin_size,
    runs_published_loop,
)
from ...core.picasso.options import PUBLISHED_LOOP_ONLY
from ...core.progress import Progress
from ...core.result import Result, colormap_for
from .._dock import ToolDock
from .._form import OptionsForm
from .._layer_policy import TAG, remove_tool_layers, tool_layers
from .._layers import LayerStack, layers_to_tzcyx
from ._channels import ChannelList, SourceSinkGrid, split_names
from ._manual import ManualAlphas
from ._summary import FitMatrixTable, PicassoSummary

__all__ = ["DockRun", "PicassoWidget"]

TOOL = "PICASSO"
#: PicassoOptions fields in the form (the channels come from the ticked layers, the
#: relations from the grid; a given unmixing matrix belongs to scripts and the CLI)
FORM_FIELDS = (
    "implementation", "max_iter", "tolerance", "alpha_max", "alpha_mode",
    "alpha_reference_t", "pixel_bin_size", "background_percentile", "mi_bins",
    "noise_aware", "split_sigma", "max_alpha_voxels", "random_state", "step_size", "qn", "alpha_clip",
    "negativity_threshold", "clip_every_n_iterations", "reference_compatible", "output_units",
)  # fmt: skip
#: fields only the published MATLAB loop reads: greyed out when another loop runs
LOOP_FIELDS = (*PUBLISHED_LOOP_ONLY, "pixel_bin_size")
_LOOP_SWITCHES = ("implementation", "noise_aware", "reference_compatible")
_USER_COLORMAPS = {"gray", "grey", "gray_r", "viridis", "magma", "inferno", "plasma", "turbo"}


@dataclass(frozen=True)
class DockRun:
    """What one dock run produced: the layers to show, the API's run, the inputs."""

    result: Result
    run: PicassoRun
    stack: LayerStack
    source: str
    names: tuple[str, ...]


def _colormaps(stack: LayerStack) -> list[str]:
    """The input channels' own colormaps when they tell the channels apart, else distinct ones."""
    n = stack.data.shape[2]
    if not stack.multichannel:
        own = [stack.layers[c].colormap.name for c in range(n)]
        if len(set(own)) == n and not set(own) & _USER_COLORMAPS:
            return own
    return [colormap_for(c) for c in range(n)]


def replace_in_place(viewer: Any, result: Result, *, keep: bool) -> bool:
    """A re-run with the same layer names and shapes: new data into the previous result
    layers (the policy's replace, without napari's costly remove + add); False otherwise."""
    old = [
        ly for ly in tool_layers(viewer, result.tool) if ly.metadata[TAG].get("role") != "manual"
    ]
    same = [ly.name for ly in old] == result.layer_names() and all(
        ly.data.shape == item.data.shape for ly, item in zip(old, result.layers, strict=True)
    )
    if keep or not same:
        return False
    remove_tool_layers(viewer, result.tool, role="manual")
    for layer, item in zip(old, result.layers, strict=True):
        tag = {**layer.metadata[TAG], "run": layer.metadata[TAG].get("run", 0) + 1}
        layer.data = item.data
        layer.metadata = {TAG: tag, "report": result.report}
        layer.colormap = item.colormap or layer.colormap
        if item.contrast_limits is not None:
            layer.contrast_limits = item.contrast_limits
        else:
            layer.reset_contrast_limits()
        if not layer.visible:  # napari redraws even when the value does not change
            layer.visible = True
    return True


class PicassoWidget(ToolDock):
    """The PICASSO dock (see the module docstring); controls are public for scripts/tests."""

    tool = TOOL
    options = PicassoOptions
    form_fields = FORM_FIELDS

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(napari_viewer, parent)
        viewer = napari_viewer
        self.inputs_box.native.setVisible(False)
        self.channels = ChannelList(viewer, self.tool)
        self.body_layout.insertWidget(0, self.channels)
        self.grid = SourceSinkGrid()
        self.body_layout.insertWidget(3, self.grid)  # after the channels and the form
        self.output_form = OptionsForm(PicassoApplyOptions, only=("clip_negative",))
        self.body_layout.insertWidget(4, self.output_form.native)
        self.live_label = QLabel("")
        self.live = FitMatrixTable()
        self.live_label.setVisible(False)
        self.live.setVisible(False)
        at = self.body_layout.indexOf(self.status) + 1
        self.body_layout.insertWidget(at, self.live_label)
        self.body_layout.insertWidget(at + 1, self.live)
        self.manual = ManualAlphas(viewer, self.tool)
        self.body_layout.insertWidget(self.body_layout.indexOf(self.results) + 1, self.manual)
        self._names: tuple[str, ...] = ()
        for form in (self.form, self.output_form):  # long choice labels must not widen the dock
            for combo in form.native.findChildren(QComboBox):
                combo.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                combo.setMinimumContentsLength(12)
        self.grid.roles_button.clicked.connect(self._apply_roles)
        self.channels.changed.connect(self._channels_changed)
        self.form.field("implementation").changed.connect(lambda _v: self._show_grid())
        for name in _LOOP_SWITCHES:
            self.form.field(name).changed.connect(lambda _v: self._enable_loop_fields())
        self._channels_changed()
        self._enable_loop_fields()

    # -- defaults -----------------------------------------------------------------------------
    def _saved_values(self) -> dict[str, Any]:
        values = super()._saved_values()
        values.setdefault("implementation", RECOMMENDED_IMPLEMENTATION)
        return values

    def reset_settings(self) -> None:
        super().reset_settings()
        self.form.field("implementation").value = RECOMMENDED_IMPLEMENTATION
        self._channels_changed()

    def _channels_changed(self) -> None:
        """New channels: grid rows and the MATLAB block size (about 1000 blocks a plane)."""
        layers = self.channels.selected()
        try:
            stack = layers_to_tzcyx(layers, min_channels=2)
        except ValueError:
            self.grid.set_names([])
            self._show_grid()
            return
        self._names = tuple(split_names(stack.names)[1])
        self.grid.set_names(list(self._names))
        self.form.field("pixel_bin_size").value = str(auto_pixel_bin_size(stack.data.shape[-2:]))
        self._show_grid()

    def _show_grid(self) -> None:
        source_sink = self.form.field("implementation").value == "source_sink_n"
        self.grid.setVisible(source_sink and bool(self.grid.names))

    def _enable_loop_fields(self) -> None:
        """Grey out the published loop's own fields when the noise-aware or source-sink
        estimate runs (they would be refused or unused), saying why in the tooltip."""
        values = self.form.values()
        try:
            published = runs_published_loop(
                PicassoOptions(**{k: values[k] for k in _LOOP_SWITCHES})
            )
        except ValueError:  # a combination the run refuses with its own message
            published = True
        for name in LOOP_FIELDS:
            widget = self.form.field(name)
            widget.enabled = published
            help_text = self.form.specs[name].help()
            widget.tooltip = (
                help_text
                if published
                else f"{help_text}\n(unused: only the published MATLAB loop reads it — "
                "MATLAB scheme with noise aware off, or reference compatible)"
            )

    def _apply_roles(self) -> None:
        try:
            self.grid.apply_roles()
        except ValueError as err:
            self._fail(err)

    # -- the skeleton's hooks -----------------------------------------------------------------
    def input_layers(self) -> list[Any]:
        done = getattr(self, "_done", None)
        return list(done.stack.layers) if done is not None else self.channels.selected()

    def current_options(self) -> dict[str, Any]:
        """The form's values as keywords of :func:`iter_unmix_picasso_array` (validated)."""
        values = {**self.form.values(), **self.output_form.values()}
        if values["implementation"] == "source_sink_n" and self.grid.names:
            values["source_sink_matrix"] = self.grid.matrix()
        estimation = {k: v for k, v in values.items() if k in PicassoOptions.defaults()}
        PicassoOptions.from_kwargs(estimation, where="PICASSO")  # bad values: refused here
        PicassoApplyOptions.from_kwargs(
            {k: v for k, v in values.items() if k in PicassoApplyOptions.defaults()}
        )
        return values

    def read_inputs(self) -> LayerStack:
        """The ticked channels as one TZCYX stack (``ValueError`` says what is wrong)."""
        layers = self.channels.selected()
        if not layers:
            raise ValueError(
                "tick the channels to unmix (one layer per channel, or one multi-channel layer)"
            )
        stack = layers_to_tzcyx(layers, min_channels=2)
        impl = IMPLEMENTATIONS[self.form.field("implementation").value]
        need = getattr(impl.function, "n_channels", None)
        if need is not None and stack.data.shape[2] != need:
            raise ValueError(
                f"{impl.label} unmixes exactly {need} channels, {stack.data.shape[2]} are "
                f"ticked; tick {need} or choose another implementation"
            )
        return stack

    def steps(self, stack: LayerStack, options: dict[str, Any]) -> Generator[Progress, None, Any]:
        """The API's generator on the stack, then the unmixed channels as result layers."""
        self._pending_names = split_names(stack.names)[1]
        run = yield from iter_unmix_picasso_array(stack.data, {"axes": "TZCYX", **options})
        source, names = split_names(stack.names)
        result = run.to_result(source, names=names)
        result.tool = self.tool
        for c, (layer, cmap) in enumerate(zip(result.layers, _colormaps(stack), strict=True)):
            layer.data = stack.channel(run.unmixed, c)  # in the input layer's own axes
            layer.axes = stack.axes[0 if stack.multichannel else c].replace("C", "")
            layer.colormap = cmap
        return DockRun(result, run, stack, source, tuple(names))

    def preview(self, partial: Any) -> None:
        """The unmixing matrix so far (a :class:`~napari_unmix.core.picasso.Sweep`)."""
        names = list(getattr(self, "_pending_names", ()))
        if len(names) != partial.matrix.shape[0]:
            names = [f"C{c}" for c in range(partial.matrix.shape[0])]
        self.live_label.setText(
            f"Unmixing matrix so far (t={partial.t}, sweep {partial.iteration}, "
            f"change {partial.value:.3g})"
        )
        self.live.set_matrix(partial.matrix, names, names, title="current estimate")
        self.live_label.setVisible(True)
        self.live.setVisible(True)

    def show_result(self, done: DockRun) -> None:
        """Result layers by the policy, the matrices in the panel, sliders from the estimate."""
        self.live_label.setVisible(False)
        self.live.setVisible(False)
        self._done = done
        if replace_in_place(self.viewer, done.result, keep=self.keep_previous.isChecked()):
            for layer in done.stack.layers:  # inputs hidden, as the policy does
                if layer.visible:
                    layer.visible = False
            stamp = time.strftime("%H:%M:%S")
            self.results.add_run(f"{self.tool} · {stamp}", self.summary(done.result))
        else:
            super().show_result(done.result)
        self.manual.set_run(
            data=done.stack.data,
            result=done.run.result,
            names=done.names,
            source=done.source,
            layers=done.stack.layers,
            relations=self.grid.relations()
            or [(i, j) for i in range(len(done.names)) for j in range(len(done.names)) if i != j],
            alpha_max=float(self.form.values()["alpha_max"]),
        )

    def summary(self, result: Any) -> QWidget:
        return PicassoSummary(self._done.run.result, self._done.names)

    def _fail(self, err: Any) -> None:
        self.live_label.setVisible(False)
        self.live.setVisible(False)
        super()._fail(err)
