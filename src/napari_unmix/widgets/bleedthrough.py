"""Dock widget "Bleed-through correction": estimate alpha, look at it, apply it.

Thin driver: it gathers layers and settings, runs
:func:`napari_unmix.api.bleedthrough.estimate_bleedthrough_steps` or
:func:`~napari_unmix.api.bleedthrough.unmix_array_steps` in a ``thread_worker`` (progress
bar, cancel button) and writes the corrected channel(s) as new layers.

Input: either one multi-channel layer (CYX, ZCYX or TZCYX; pick the channels) or two
single-channel layers (YX, ZYX or TZYX of one shape) as source and target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magicgui import widgets as mw
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QVBoxLayout, QWidget

from ..api.bleedthrough import estimate_bleedthrough_steps, unmix_array_steps
from ..core.bleedthrough import BleedthroughOptions
from ._form import _parse, widget_for
from ._layers import layer_axes, layers_to_tzcyx

if TYPE_CHECKING:
    import napari

__all__ = ["BleedthroughWidget"]

#: dock attribute -> option (every default, range, label and tooltip from the options)
_FIELDS = {
    "source_channel": "source_channel",
    "target_channel": "target_channel",
    "method": "method",
    "alpha_mode": "alpha_mode",
    "reference_t": "alpha_reference_t",
    "bidirectional": "bidirectional",
    "signal_percentile": "signal_percentile",
    "target_low": "target_low_percentile",
    "background_percentile": "background_percentile",
    "alpha_max": "alpha_max",
    "mi_bins": "mi_bins",
    "max_voxels": "max_alpha_voxels",
    "n_bootstrap": "n_bootstrap",
    "random_state": "random_state",
    "clip_negative": "clip_negative",
}


class _InputError(ValueError):
    """Bad widget input: shown as a notification."""


def _stack_from_layers(source, target, source_channel: int, target_channel: int):
    """TZCYX data, channel indices and a function giving a result channel the layer's shape."""
    if source is None or target is None:
        raise _InputError("pick a source and a target image layer")
    stack = layers_to_tzcyx([source] if source is target else [source, target], min_channels=2)
    if not stack.multichannel:
        return stack.data, 0, 1, stack.channel, None
    n_c = stack.data.shape[2]
    for name, ch in (("source", source_channel), ("target", target_channel)):
        if not 0 <= ch < n_c:
            raise _InputError(
                f"{name} channel {ch} does not exist: the layer has {n_c} (0..{n_c - 1})"
            )
    if source_channel == target_channel:
        raise _InputError("source and target channel are the same; pick two different channels")
    return stack.data, source_channel, target_channel, stack.channel, stack.axes[0].index("C")


class BleedthroughWidget(QWidget):
    """Bleed-through correction dock widget (see the module docstring)."""

    #: emitted with the estimation report (dict) when "Estimate" has finished
    estimated = Signal(object)
    #: emitted with the list of new layers when "Apply" has finished
    applied = Signal(object)
    #: emitted with the message of any failure (also shown as a notification)
    failed = Signal(str)

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = viewer
        self.worker = None
        self.source = mw.ComboBox(label="source layer", choices=self._image_layers)
        self.target = mw.ComboBox(label="target layer", choices=self._image_layers)
        for attr, name in _FIELDS.items():
            setattr(self, attr, widget_for(BleedthroughOptions.spec(name)))
        modes = BleedthroughOptions.spec("alpha_mode").choices.labels()
        self.alpha_mode.choices = [("(auto)", None), *modes.items()]  # None: chosen from alpha
        self.alpha = mw.FloatSpinBox(
            label="alpha (manual)", value=0.0, min=-10.0, max=10.0, step=0.01
        )
        self.alpha_reverse = mw.FloatSpinBox(
            label="alpha reverse (manual)", value=0.0, min=-10.0, max=10.0, step=0.01
        )
        self.show_advanced = mw.CheckBox(label="advanced settings", value=False)
        self.advanced = mw.Container(
            widgets=[
                self.signal_percentile, self.target_low, self.background_percentile,
                self.alpha_max, self.mi_bins, self.max_voxels, self.n_bootstrap,
                self.random_state, self.clip_negative,
            ],
            visible=False,
        )  # fmt: skip
        self.estimate_button = mw.PushButton(text="Estimate")
        self.apply_button = mw.PushButton(text="Apply")
        self.cancel_button = mw.PushButton(text="Cancel", enabled=False)
        self.result = mw.Label(value="")
        form = mw.Container(
            widgets=[
                self.source, self.target, self.source_channel, self.target_channel,
                self.method, self.alpha_mode, self.alpha, self.reference_t,
                self.bidirectional, self.alpha_reverse, self.show_advanced, self.advanced,
                mw.Container(widgets=[self.estimate_button, self.apply_button, self.cancel_button], layout="horizontal", labels=False),
                self.result,
            ]
        )  # fmt: skip
        self.show_advanced.changed.connect(lambda v: setattr(self.advanced, "visible", bool(v)))
        self.estimate_button.changed.connect(lambda: self.run(apply=False))
        self.apply_button.changed.connect(lambda: self.run(apply=True))
        self.cancel_button.changed.connect(self.cancel)
        viewer.layers.events.inserted.connect(self._refresh)
        viewer.layers.events.removed.connect(self._refresh)

        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4, 3.5), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.addWidget(form.native)
        layout.addWidget(self.canvas)
        self._pick_defaults()

    # ------------------------------------------------------------------ layers
    def _image_layers(self, _widget: Any = None) -> list:
        from napari.layers import Image

        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image)]

    def _refresh(self, _event: Any = None) -> None:
        self.source.reset_choices()
        self.target.reset_choices()

    def _pick_defaults(self) -> None:
        layers = [v for _, v in self._image_layers()]
        if len(layers) >= 2 and layers[0].data.shape == layers[1].data.shape:
            self.source.value, self.target.value = layers[0], layers[1]

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        """Keyword arguments for the api functions from the current widget state."""
        kw = {
            name: _parse(BleedthroughOptions.spec(name), getattr(self, attr).value)
            for attr, name in _FIELDS.items()
        }
        if kw["method"] == "manual":
            kw["alpha_mode"] = "fixed"
        if kw["alpha_mode"] == "fixed":
            for box in (self.alpha, self.alpha_reverse):
                if box.value < 0:
                    raise _InputError(
                        f"{box.label} is {box.value}; bleed-through coefficients must be >= 0"
                    )
            kw["alpha"] = float(self.alpha.value)
            if kw["bidirectional"]:
                kw["alpha_reverse"] = float(self.alpha_reverse.value)
        return kw

    # ------------------------------------------------------------------ running
    def run(self, *, apply: bool) -> None:
        """Start "Estimate" (``apply=False``) or "Apply" in a worker thread."""
        from napari.qt.threading import create_worker

        if self.worker is not None:
            self._fail("a run is in progress; wait for it or press Cancel")
            return
        try:
            kw = self.settings()
            given = {k: kw.pop(k) for k in ("alpha", "alpha_reverse") if k in kw}
            stack, s_ch, t_ch, back, _ = _stack_from_layers(
                self.source.value,
                self.target.value,
                int(self.source_channel.value),
                int(self.target_channel.value),
            )
            kw.update(source_channel=s_ch, target_channel=t_ch)
            opts = BleedthroughOptions.pick(kw)
        except ValueError as err:
            self._fail(str(err))
            return
        n_steps = 2 + (stack.shape[0] if kw["alpha_mode"] == "per_t" else 1) * (
            2 if kw["bidirectional"] else 1
        )
        src_layer, tgt_layer = self.source.value, self.target.value

        def job():
            run = unmix_array_steps if apply else estimate_bleedthrough_steps
            steps = run(stack, opts, **given)
            try:
                result = yield from steps
            except ValueError as err:  # bad data: a message for the user, not a traceback
                return ("error", str(err))
            return ("ok", result)

        self.worker = create_worker(job, _progress={"total": n_steps, "desc": "Bleed-through"})
        self.worker.yielded.connect(lambda event: setattr(self.result, "value", event.message))
        self.worker.returned.connect(
            lambda out: self._done(
                out, apply=apply, back=back, layers=(src_layer, tgt_layer), kw=kw
            )
        )
        self.worker.finished.connect(self._finished)
        self.estimate_button.enabled = self.apply_button.enabled = False
        self.cancel_button.enabled = True
        self.worker.start()

    def cancel(self) -> None:
        """Stop the running worker at its next progress step."""
        if self.worker is not None:
            self.worker.quit()
            self.result.value = "cancelled"

    def _finished(self) -> None:
        self.worker = None
        self.estimate_button.enabled = self.apply_button.enabled = True
        self.cancel_button.enabled = False

    def _fail(self, message: str) -> None:
        from napari.utils.notifications import show_error

        self.result.value = f"error: {message}"
        show_error(message)
        self.failed.emit(message)

    def _done(self, out, *, apply: bool, back, layers, kw) -> None:
        status, result = out
        if status == "error":
            self._fail(result)
            return
        if not apply:
            self._show_estimate(result)
            self.estimated.emit(result)
            return
        corrected, report = result
        src_layer, tgt_layer = layers
        multi = src_layer is tgt_layer
        new = []
        channels = [(kw["target_channel"], tgt_layer)]
        if report["bidirectional"]:
            channels.append((kw["source_channel"], src_layer))
        for ch, layer in channels:
            scale, translate = list(layer.scale), list(layer.translate)
            if multi:
                c_dim = layer_axes(layer, channels=True).index("C")
                scale.pop(c_dim)
                translate.pop(c_dim)
            name = f"{layer.name} [C{ch}] corrected" if multi else f"{layer.name} corrected"
            new.append(
                self.viewer.add_image(
                    back(corrected, ch), name=name, scale=scale, translate=translate,
                    colormap=layer.colormap, blending=layer.blending,
                    contrast_limits=None, metadata={"bleedthrough_report": report},
                )
            )  # fmt: skip
        self.result.value = self._summary(report)
        self.applied.emit(new)

    def _summary(self, rep: dict) -> str:
        def fmt(part):
            a = part["alpha_by_t"]
            ci = part["ci95_by_t"]
            if len(set(a)) == 1:
                txt = f"{a[0]:.4f}"
                if ci and ci[0]:
                    txt += (
                        f" ± {(ci[0][1] - ci[0][0]) / 2:.4f} (95% CI {ci[0][0]:.4f}-{ci[0][1]:.4f})"
                    )
                return txt
            return ", ".join(f"{v:.3f}" for v in a) + " (per t)"

        text = f"alpha = {fmt(rep['forward'])}"
        if rep.get("reverse"):
            text += f"\nalpha reverse = {fmt(rep['reverse'])}"
        for part in (rep["forward"], rep.get("reverse") or {}):
            for e in part.get("estimates", []):
                for warning in e.get("warnings", []):  # estimates that know they are unsure
                    text += f"\n⚠ t={e['t']}: {warning}"
        return text

    def _show_estimate(self, rep: dict) -> None:
        from ..plot.bleedthrough import draw_alpha_scatter

        self.result.value = self._summary(rep)
        est = rep["estimates"]["forward"]
        rev = rep["estimates"]["reverse"]
        self.figure.clear()
        panels = est[:1] + rev[:1]
        for i, e in enumerate(panels):
            draw_alpha_scatter(
                self.figure.add_subplot(1, len(panels), i + 1),
                e,
                title=("forward " if i == 0 else "reverse ") + e.method,
            )
        self.canvas.draw_idle()
