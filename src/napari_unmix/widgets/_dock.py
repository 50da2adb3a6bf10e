"""The dock skeleton every tool dock uses.

A :class:`ToolDock` has, top to bottom, inside one scroll area (so it never forces the
napari window past the screen): the input-layer pickers, the form generated from the tool's
options (advanced options collapsed), "keep previous results", Run / Cancel / Reset, a
progress bar, a status line (the full error text in its tooltip), and the tool's
:class:`~napari_unmix.widgets._results_panel.ResultsPanel`, reused on every run.

A dock subclass says what its tool is and fills three hooks:

- ``read_inputs()`` -> the arrays (and anything else) the computation needs, read from the
  pickers through the layer adapter; raise ``ValueError`` with a clear message otherwise;
- ``steps(inputs, options)`` -> the tool's generator (yields
  :class:`~napari_unmix.core.progress.Progress`, returns a
  :class:`~napari_unmix.core.result.Result` or a list of them) — the same generator the
  script API runs;
- ``summary(result)`` -> a widget for the results panel (default: the report's numbers).

Runs happen in a napari ``thread_worker``; one guard refuses a second run while one is
going. A run in the dock costs what the script costs: the progress bar and status line are
repainted at most every 0.1 s (the latest step wins) and live previews
(``preview(partial)``) at most every 0.5 s; the dock's plots do not draw while it runs
(:mod:`~napari_unmix.widgets._canvas`); the BLAS thread limit the solvers take
(:data:`~napari_unmix.core.nnls.one_blas_thread`) is held from the GUI thread for the
whole run, so the worker does not set and restore it on every solver call. Results follow :mod:`~napari_unmix.widgets._layer_policy`; the form's
values are saved per tool and restored next session (:mod:`~napari_unmix.widgets._settings`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from typing import Any

from magicgui import widgets as mw
from napari.utils import notifications
from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.nnls import one_blas_thread
from ..core.options import Options
from ..core.progress import Progress
from ..core.result import Result
from ._canvas import hold_drawing, release_drawing
from ._fit import fit_width
from ._form import OptionsForm
from ._layer_policy import show_result
from ._results_panel import ResultsPanel
from ._settings import clear_settings, load_settings, save_settings

__all__ = ["LayerPicker", "ToolDock", "scroll_around"]

DRAW_INTERVAL = 0.1  # seconds between progress redraws
PREVIEW_INTERVAL = 0.5  # seconds between live previews
MAX_WIDTH = 560  # px a dock asks for at most (the canvas keeps the rest of a 1280 px screen)
MIN_WIDTH = 380  # px a dock asks for at least (room for tables and plots once content shrinks)


def scroll_around(dock: QWidget, body: QWidget) -> QScrollArea:
    """Put ``body`` in a vertical scroll area filling ``dock`` (no sideways scrolling)."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(body)
    outer = QVBoxLayout(dock)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    return scroll


class LayerPicker(mw.ComboBox):
    """A dropdown of the viewer's layers that ``accept`` takes; refreshes quietly on layer
    events (a layer it cannot use is left out, never an error) and keeps the current choice
    when it is still there, else preselects the first (or ``prefer``-best) usable layer."""

    def __init__(
        self,
        viewer: Any,
        label: str,
        accept: Callable[[Any], bool],
        *,
        prefer: Callable[[Any], float] | None = None,
        optional: bool = False,
        tooltip: str = "",
    ) -> None:
        self.viewer, self.accept, self.prefer, self.optional = viewer, accept, prefer, optional
        super().__init__(label=label, choices=self._choices, tooltip=tooltip)
        events = viewer.layers.events
        for ev in (events.inserted, events.removed, events.reordered):
            ev.connect(self.refresh)
        self.refresh()

    def _usable(self) -> list[Any]:
        out = []
        for layer in self.viewer.layers:
            try:
                ok = bool(self.accept(layer))
            except Exception:  # a layer the rule cannot judge is just not offered
                ok = False
            if ok:
                out.append(layer)
        if self.prefer is not None:
            out.sort(key=self.prefer, reverse=True)
        return out

    def _choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        none = [("(none)", None)] if self.optional else []
        return none + [(layer.name, layer) for layer in self._usable()]

    def refresh(self, *_: Any) -> None:
        """Re-read the layer list (keeps the current layer if it is still usable)."""
        current = self.value
        self.reset_choices()
        usable = self._usable()
        if current is not None and current in usable:
            self.value = current
        elif usable and not self.optional:
            self.value = usable[0]


class ToolDock(QWidget):
    """Base of the docks (see the module docstring). Subclasses set ``tool``, ``options`` and
    ``form_fields`` and implement ``read_inputs`` / ``steps``."""

    tool: str = ""
    options: type[Options] | None = None
    form_fields: tuple[str, ...] | None = None
    run_text: str = "Run"

    #: emitted with the result (or list of results) when a run has been shown
    finished = Signal(object)
    #: emitted with the full error text of a failed run
    failed = Signal(str)

    def __init__(self, viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.worker: Any = None
        self.last_result: Any = None
        self.pickers: list[LayerPicker] = []
        self._last_preview = 0.0
        self._t0 = 0.0
        self._held = False  # drawing held and the BLAS limit taken for a run
        self._pending: Progress | None = None  # the newest step not drawn yet
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(int(DRAW_INTERVAL * 1000))
        self._draw_timer.timeout.connect(self._draw_progress)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.inputs_box = mw.Container(labels=True)
        self.body_layout.addWidget(self.inputs_box.native)
        self.form = None
        if self.options is not None:
            self.form = OptionsForm(
                self.options, only=self.form_fields, values=self._saved_values()
            )
            self.body_layout.addWidget(self.form.native)
        self.keep_previous = QCheckBox("keep previous results")
        self.keep_previous.setToolTip(
            "unticked: a new run replaces this dock's earlier result layers"
        )
        self.body_layout.addWidget(self.keep_previous)
        self._build_buttons()
        self.results = ResultsPanel()
        self.body_layout.addWidget(self.results)
        self.body_layout.addStretch(1)
        self.scroll = scroll_around(self, self.body)

    # -- construction helpers -------------------------------------------------------------
    def _build_buttons(self) -> None:
        row = QHBoxLayout()
        self.run_button = QPushButton(self.run_text)
        self.cancel_button = QPushButton("Cancel")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("back to the default settings (and forget the saved ones)")
        self.cancel_button.setEnabled(False)
        for b in (self.run_button, self.cancel_button, self.reset_button):
            row.addWidget(b)
        self.body_layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.body_layout.addWidget(self.progress)
        self.body_layout.addWidget(self.status)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.reset_button.clicked.connect(self.reset_settings)

    def add_picker(self, picker: LayerPicker) -> LayerPicker:
        """Put a layer picker in the inputs section."""
        self.pickers.append(picker)
        self.inputs_box.append(picker)
        return picker

    def fit_width(self) -> None:
        """Let the content follow the dock's width (combo boxes elide, labels wrap, no
        sideways scrolling) and ask for :data:`MIN_WIDTH` to :data:`MAX_WIDTH` px, so a dock
        never pushes the napari window past a 1280 x 800 screen."""
        fit_width(self.body)
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        need = self.body.minimumSizeHint().width() + bar + 4
        self.setMinimumWidth(min(max(need, MIN_WIDTH), MAX_WIDTH))

    def showEvent(self, event: Any) -> None:
        """Fit the width (:meth:`fit_width`) each time the dock is shown."""
        self.fit_width()
        super().showEvent(event)

    def _saved_values(self) -> dict[str, Any]:
        saved = load_settings(self.tool) if self.tool else {}
        out = {}
        for spec in self.options.specs() if self.options is not None else ():
            if spec.name in saved:
                try:
                    out[spec.name] = self.options.check(spec, saved[spec.name])
                except (TypeError, ValueError):
                    continue
        return out

    def reset_settings(self) -> None:
        """Back to the defaults, and forget the saved settings."""
        if self.form is not None:
            self.form.reset()
        clear_settings(self.tool)
        self.set_status("settings reset to the defaults")

    # -- hooks ------------------------------------------------------------------------------
    def read_inputs(self) -> Any:
        """What :meth:`steps` needs, read from the pickers (``ValueError`` if unusable)."""
        raise NotImplementedError

    def steps(self, inputs: Any, options: Any) -> Generator[Progress, None, Any]:
        """The tool's generator for these inputs and options."""
        raise NotImplementedError

    def input_layers(self) -> list[Any]:
        """The layers hidden when results appear (default: the pickers' choices)."""
        return [p.value for p in self.pickers if p.value is not None]

    def preview(self, partial: Any) -> None:
        """Show a partial result (called at most every 0.5 s); default: nothing."""

    def summary(self, result: Any) -> QWidget:
        """The results panel's content for ``result``."""
        report = result.report if isinstance(result, Result) else {}
        lines = [f"{k}: {v}" for k, v in report.items() if isinstance(v, int | float | str)]
        label = QLabel("\n".join(lines[:12]) or "done")
        label.setWordWrap(True)
        return label

    def current_options(self) -> Any:
        """The form's values as the tool's options object (validated)."""
        if self.options is None or self.form is None:
            return None
        return self.options.from_kwargs(self.form.values())

    # -- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> Any:
        """Read and check everything, then run :meth:`steps` in a worker (one at a time)."""
        if self.running:
            notifications.show_info(f"{self.tool}: a run is going on; wait or press Cancel")
            return None
        try:
            options = self.current_options()
            inputs = self.read_inputs()
        except (ValueError, TypeError, KeyError) as err:
            self._fail(err)
            return None
        from superqt.utils import create_worker

        self.worker = create_worker(
            self._work,
            inputs,
            options,
            _start_thread=False,
            _connect={
                "yielded": self._on_progress,
                "returned": self._on_result,
                "errored": self._fail,
                "aborted": self._on_aborted,
                "finished": self._on_finished,
                "warned": self._on_warning,
            },
        )
        self._t0 = time.perf_counter()
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        # a determinate bar: the busy animation repaints the window (napari's GL canvas
        # with it) many times a second while the run goes
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.set_status("running…")
        self._hold()
        self.worker.start()
        return self.worker

    def _hold(self) -> None:
        """For the run: no plot redraws, and one BLAS thread taken once, from here."""
        if not self._held:
            self._held = True
            hold_drawing()
            one_blas_thread.__enter__()

    def _release(self) -> None:
        if self._held:
            self._held = False
            one_blas_thread.__exit__(None, None, None)
            release_drawing()

    def _work(self, inputs: Any, options: Any) -> Generator[Progress, None, Any]:
        return (yield from self.steps(inputs, options))

    def cancel(self) -> None:
        """Stop the run at its next progress step."""
        if self.worker is not None:
            self.worker.quit()
            self.set_status("cancelling…")

    def _on_progress(self, event: Any) -> None:
        """Keep the newest step; it is drawn within :data:`DRAW_INTERVAL` (one repaint
        however many steps arrive in between)."""
        if not isinstance(event, Progress):
            return
        self._pending = event
        if not self._draw_timer.isActive():
            self._draw_timer.start()
        now = time.perf_counter()
        if event.partial is not None and now - self._last_preview >= PREVIEW_INTERVAL:
            self._last_preview = now
            self.preview(event.partial)

    def _draw_progress(self) -> None:
        event, self._pending = self._pending, None
        if event is None or not self.running:
            return
        if event.fraction is not None:
            self.progress.setValue(int(1000 * event.fraction))
        self.set_status(str(event))

    def show_result(self, result: Any) -> str | None:
        """Add the result layers (policy) and the results-panel entry; may return a short
        text for the status line ("12 ROIs in 4 groups")."""
        results = result if isinstance(result, list | tuple) else [result]
        for r in results:
            if isinstance(r, Result):
                show_result(
                    self.viewer, r, inputs=self.input_layers(),
                    keep_previous=self.keep_previous.isChecked(),
                )  # fmt: skip
        stamp = time.strftime("%H:%M:%S")
        self.results.add_run(f"{self.tool} · {stamp}", self.summary(result))
        return None

    def _on_result(self, result: Any) -> None:
        self.last_result = result
        self._draw_timer.stop()
        self._pending = None
        # plots stay held until the worker has finished (_on_finished): QProgressBar.setValue
        # repaints the window at once, which would draw plots that are about to be replaced
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        try:
            text = self.show_result(result)
        except (ValueError, TypeError, KeyError) as err:
            self._fail(err)
            return
        done = f"done in {time.perf_counter() - self._t0:.1f} s"
        self.set_status(f"{text} · {done}" if text else done)
        if self.form is not None and self.tool:
            save_settings(self.tool, self.form.values())
        self.finished.emit(result)

    def _on_warning(self, warning: Any) -> None:
        message = warning[0] if isinstance(warning, tuple) else warning
        notifications.show_warning(str(message))

    def _on_aborted(self) -> None:
        self._stop_drawing()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.set_status("cancelled")

    def _stop_drawing(self) -> None:
        self._draw_timer.stop()
        self._pending = None
        self._release()

    def _on_finished(self) -> None:
        self._stop_drawing()
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:  # never left busy
            self.progress.setRange(0, 1)

    def _fail(self, err: Any) -> None:
        self._stop_drawing()
        text = str(err).strip() or type(err).__name__
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.set_status(text.splitlines()[0], full=text, error=True)
        notifications.show_error(text.splitlines()[0])
        self.failed.emit(text)

    def set_status(self, text: str, *, full: str = "", error: bool = False) -> None:
        """One line in the status label; the full text (e.g. an error) in its tooltip."""
        self.status.setText(text)
        self.status.setToolTip(full or text)
        self.status.setStyleSheet("color: #ff8a80;" if error else "")


def layer_names(layers: Sequence[Any]) -> str:
    """``"a, b"`` for status lines."""
    return ", ".join(getattr(ly, "name", "?") for ly in layers)
