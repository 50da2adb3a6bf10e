"""Dock "Bleed-through correction": estimate alpha, look at it, correct the target.

A :class:`~napari_unmix.widgets._dock.ToolDock` around the script API's generators:
"Estimate + correct" runs :func:`napari_unmix.api.bleedthrough_result.unmix_result_steps`
(:func:`~napari_unmix.api.bleedthrough.unmix_array_steps` and the checks) and shows the
corrected channel(s) as ``<input> · bleed-through · C<c>``; "Estimate only" runs
:func:`~napari_unmix.api.bleedthrough_result.estimate_result_steps` and fills the results
panel without touching the layers. One worker guard for both. The layers follow the shared
result-layer policy (a re-run updates its layers in place; the scale of a multi-channel
input is matched by axis names, without its C axis).

Input: one multi-channel layer (CYX, ZCYX, TZCYX; the source and target channels pick two
of its channels) or two one-channel layers of one shape as source and target, read
through :mod:`napari_unmix.widgets._layers`. The method starts at
:data:`~napari_unmix.api.bleedthrough_result.RECOMMENDED_METHOD` (``mi_min``, the least
biased when source and target structures overlap); the results panel shows alpha, its
95 % interval, every estimator on the same voxels, the dependence diagnostic and the
scatter plot, and the status line says when the estimators disagree or dependence remains.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from magicgui import widgets as mw
from qtpy.QtWidgets import QComboBox, QPushButton, QWidget

from ...api.bleedthrough_result import (
    RECOMMENDED_METHOD,
    TOOL,
    BleedthroughEstimate,
    LayerNaming,
    check_run,
    estimate_result_steps,
    unmix_result_steps,
)
from ...core.bleedthrough import BleedthroughOptions
from ...core.result import Result
from .._dock import LayerPicker, ToolDock
from .._layers import layers_to_tzcyx

if TYPE_CHECKING:
    import napari

__all__ = ["BleedthroughDock", "BleedthroughWidget", "status_text"]


def _image(layer: Any) -> bool:
    from napari.layers import Image

    return isinstance(layer, Image) and not layer.rgb


@dataclass
class _Inputs:
    """What a run needs, read from the pickers before it starts."""

    stack: Any  # the LayerStack of the layer adapter
    options: BleedthroughOptions
    alpha: float | None
    alpha_reverse: float | None
    estimate_only: bool
    source: str
    colormaps: list[str | None]


class BleedthroughDock(ToolDock):
    """Bleed-through correction dock (see the module docstring)."""

    tool = TOOL
    options = BleedthroughOptions
    run_text = "Estimate + correct"
    #: the dock's own starting values (the API keeps ``spectral-unmixing``'s defaults)
    dock_defaults: ClassVar[dict[str, Any]] = {"method": RECOMMENDED_METHOD}

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None) -> None:
        super().__init__(viewer, parent)
        self.source = self.add_picker(
            LayerPicker(viewer, "source layer", _image, tooltip="the channel that bleeds")
        )
        self.target = self.add_picker(
            LayerPicker(
                viewer, "target layer", _image, prefer=self._target_rank,
                tooltip="the channel it bleeds into (the one corrected); the same layer as "
                "the source for a multi-channel layer",
            )
        )  # fmt: skip
        self.source.changed.connect(self._source_changed)
        self.target.changed.connect(self._sync_channels)
        self._estimate_only = False
        self._cancelled = False
        self._stack: Any = None
        self._add_manual_alpha()
        self._add_estimate_button()
        self.form.field("alpha_mode").choices = [
            ("(auto)", None),
            *[(lab, name) for lab, name in BleedthroughOptions.spec("alpha_mode").choices.labels().items()],
        ]  # fmt: skip
        self.form.field("method").changed.connect(self._sync_manual)
        self.form.field("alpha_mode").changed.connect(self._sync_manual)
        self.form.field("bidirectional").changed.connect(self._sync_manual)
        self._source_changed()
        self._sync_manual()
        _narrow_combos(self)

    # -- construction -----------------------------------------------------------------------
    def _add_manual_alpha(self) -> None:
        self.alpha = mw.FloatSpinBox(label="alpha (manual)", value=0.0, min=0.0, max=10.0,
                                     step=0.01, tooltip="the bleed-through coefficient you give")  # fmt: skip
        self.alpha_reverse = mw.FloatSpinBox(label="alpha reverse (manual)", value=0.0, min=0.0,
                                             max=10.0, step=0.01)  # fmt: skip
        self.manual = mw.Container(widgets=[self.alpha, self.alpha_reverse], labels=True)
        self.body_layout.insertWidget(
            self.body_layout.indexOf(self.form.native) + 1, self.manual.native
        )

    def _add_estimate_button(self) -> None:
        self.estimate_button = QPushButton("Estimate only")
        self.estimate_button.setToolTip("estimate alpha and check it; no layers are added")
        self.body_layout.insertWidget(self.body_layout.indexOf(self.progress), self.estimate_button)
        self.estimate_button.clicked.connect(self.estimate)

    def _saved_values(self) -> dict[str, Any]:
        return {**self.dock_defaults, **super()._saved_values()}

    def reset_settings(self) -> None:
        """Back to the dock's defaults (``mi_min``), and forget the saved settings."""
        super().reset_settings()
        self.form.set_values(self.dock_defaults)

    # -- pickers ----------------------------------------------------------------------------
    def _target_rank(self, layer: Any) -> float:
        """Prefer another layer of the source's shape, then the source itself if it has
        channels, then anything."""
        src = self.source.value if hasattr(self, "source") else None
        if src is None:
            return 0.0
        if layer is not src and layer.data.shape == src.data.shape:
            return 2.0
        return 1.0 if layer is src and layer.data.ndim >= 3 else 0.0

    def _source_changed(self, *_: Any) -> None:
        self.target.refresh()
        src = self.source.value
        if (
            src is not None
            and self.target.value is not None
            and self._target_rank(self.target.value) < 2
        ):
            best = max(self.target._usable(), key=self._target_rank, default=None)
            if best is not None:
                self.target.value = best
        self._sync_channels()

    def _sync_channels(self, *_: Any) -> None:
        """Channel fields only for one multi-channel layer (two layers: source -> target)."""
        one = self.source.value is not None and self.source.value is self.target.value
        for name in ("source_channel", "target_channel"):
            self.form.field(name).visible = one

    def _sync_manual(self, *_: Any) -> None:
        values = self.form.values()
        manual = values["method"] == "manual" or values["alpha_mode"] == "fixed"
        self.manual.visible = manual
        self.alpha_reverse.visible = manual and bool(values["bidirectional"])

    # -- hooks ------------------------------------------------------------------------------
    def read_inputs(self) -> _Inputs:
        src, tgt = self.source.value, self.target.value
        if src is None or tgt is None:
            raise ValueError(
                "open a two-channel image first (File > Open Sample > napari-unmix > "
                "Bleed-through stack), then pick the source and target layers"
            )
        stack = layers_to_tzcyx([src] if src is tgt else [src, tgt], min_channels=2)
        opts = self.current_options()
        if not stack.multichannel:
            opts = dataclasses.replace(opts, source_channel=0, target_channel=1)
        manual = opts.method == "manual" or opts.alpha_mode == "fixed"
        if opts.method == "manual" and opts.alpha_mode is None:
            opts = dataclasses.replace(opts, alpha_mode="fixed")
        alpha = float(self.alpha.value) if manual else None
        alpha_rev = float(self.alpha_reverse.value) if manual and opts.bidirectional else None
        check_run(stack.data, opts, alpha=alpha, alpha_reverse=alpha_rev)
        colormaps = [getattr(getattr(stack.channel_layer(c), "colormap", None), "name", None)
                     for c in range(stack.data.shape[2])]  # fmt: skip
        if stack.multichannel:
            colormaps = [None] * len(colormaps)  # one layer: distinct colormaps per channel
        self._stack = stack
        return _Inputs(stack, opts, alpha, alpha_rev, self._estimate_only, tgt.name, colormaps)

    def steps(self, inputs: _Inputs, options: Any) -> Any:
        alphas = (inputs.alpha, inputs.alpha_reverse)
        stack = inputs.stack
        if inputs.estimate_only:
            return (yield from estimate_result_steps(stack.data, inputs.options, alphas=alphas))
        axes = stack.axes[0].replace("C", "") if stack.multichannel else stack.axes[1]
        naming = LayerNaming(inputs.source, None, inputs.colormaps, stack.channel, axes)
        steps = unmix_result_steps(stack.data, inputs.options, alphas=alphas, naming=naming)
        return (yield from steps)

    def input_layers(self) -> list[Any]:
        return list(dict.fromkeys(p.value for p in self.pickers if p.value is not None))

    def summary(self, result: Any) -> QWidget:
        from .panel import BleedthroughPanel

        return BleedthroughPanel(result, viewer=self.viewer)

    # -- running ----------------------------------------------------------------------------
    def start(self, *, estimate_only: bool = False) -> Any:
        """Run ("Estimate + correct"; ``estimate_only``: estimate and check only)."""
        if self.running:
            return super().start()  # the one guard says a run is going on
        self._estimate_only = bool(estimate_only)
        self._cancelled = False
        worker = super().start()
        if worker is not None:
            self.estimate_button.setEnabled(False)
            # a determinate bar from the start: the busy animation repaints the whole window
            # (with napari's GL canvas in it) many times a second, slowing the run itself
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)
        return worker

    def estimate(self) -> Any:
        """The "Estimate only" button: alpha, its interval and the checks in the results panel."""
        return self.start(estimate_only=True)

    def cancel(self) -> None:
        self._cancelled = self.running
        super().cancel()

    def _on_progress(self, event: Any) -> None:
        if not self._cancelled:  # after Cancel the status says so, not the last step
            super()._on_progress(event)

    def _on_result(self, result: Any) -> None:
        super()._on_result(result)
        if self.status.text().startswith("done"):
            head, full = status_text(result)
            self.set_status(f"{self.status.text()}: {head}", full=full)

    def _on_aborted(self) -> None:
        super()._on_aborted()
        self.set_status("cancelled: no layers were added")

    def _on_finished(self) -> None:
        super()._on_finished()
        self.estimate_button.setEnabled(True)


def _narrow_combos(widget: QWidget) -> None:
    """Drop-downs size to a short text, not their longest choice, so the dock stays narrow."""
    for combo in widget.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)


def _checks_of(result: Any) -> dict[str, Any]:
    if isinstance(result, Result | BleedthroughEstimate):
        return result.report.get("checks") or {}
    return {}


def status_text(result: Any) -> tuple[str, str]:
    """The status line after a run (alpha, interval, ⚠ when something is off) and its
    full text (every message)."""
    report = result.report
    parts = []
    for label, key in (("alpha", "forward"), ("alpha reverse", "reverse")):
        part = report.get(key)
        if not part:
            continue
        a = part["alpha_by_t"]
        txt = (
            f"{label} {a[0]:.3f}"
            if len(set(a)) == 1
            else f"{label} {min(a):.3f}–{max(a):.3f} (per t)"
        )
        ci = (part.get("ci95_by_t") or [None])[0]
        if ci and len(set(a)) == 1:
            txt += f" (95% CI {ci[0]:.3f}–{ci[1]:.3f})"
        parts.append(txt)
    checks = _checks_of(result)
    messages = [m for c in checks.values() for m in c["messages"]]
    flags = []
    if any(c["estimators_disagree"] for c in checks.values()):
        flags.append("estimators disagree")
    if any(c["dependence_remains"] for c in checks.values()):
        flags.append("dependence remains")
    if any(not c.get("reliable", True) for c in _estimates_of(report)):
        flags.append("estimate unreliable")
    head = ", ".join(parts)
    if flags:
        head += " · ⚠ " + ", ".join(flags) + " (see the results panel)"
    return head, "\n".join([head, *messages])


def _estimates_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for key in ("forward", "reverse")
        for e in ((report.get(key) or {}).get("estimates") or [])
    ]


#: the dock under its earlier name (the manifest's ``make_bleedthrough_widget``)
BleedthroughWidget = BleedthroughDock
