"""What every dock must do on a laptop screen (issue #16): run twice without growing the
window past the screen, without new docks, without error notifications, and leave visible
only that run's results plus at most the inputs."""

from __future__ import annotations

from typing import Any

from napari.utils.notifications import NotificationSeverity, notification_manager

from napari_unmix.widgets._layer_policy import tool_layers


def screen_size(viewer: Any) -> tuple[int, int]:
    """(width, height) available on the window's screen."""
    qt = viewer.window._qt_window
    geo = qt.screen().availableGeometry()
    return geo.width(), geo.height()


def check_fits_screen(viewer: Any) -> None:
    """The napari window is not larger than its screen."""
    qt = viewer.window._qt_window
    w, h = screen_size(viewer)
    size = qt.frameGeometry()
    assert size.height() <= h and size.width() <= w, (
        f"window {size.width()} x {size.height()} on a {w} x {h} screen"
    )


class ErrorLog:
    """Collects error notifications while it is connected (use as a context manager)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def _on(self, notification: Any) -> None:
        if notification.severity >= NotificationSeverity.ERROR:
            self.errors.append(str(notification.message))

    def __enter__(self) -> ErrorLog:
        notification_manager.notification_ready.connect(self._on)
        return self

    def __exit__(self, *exc: Any) -> None:
        notification_manager.notification_ready.disconnect(self._on)


def run_dock(dock: Any, qtbot: Any, *, timeout: int = 120_000) -> Any:
    """Press Run and wait until the results are shown; returns the result."""
    with qtbot.waitSignal(dock.finished, timeout=timeout) as sig:
        assert dock.start() is not None, dock.status.text()
    qtbot.waitUntil(lambda: not dock.running, timeout=timeout)
    return sig.args[0]


def check_dock_runs(viewer: Any, dock: Any, qtbot: Any, *, runs: int = 2) -> list[Any]:
    """Run the dock's main action ``runs`` times and check the #16 rules after each."""
    n_docks = len(viewer.window.dock_widgets)
    inputs = {ly.name for ly in viewer.layers if ly.visible}
    results = []
    with ErrorLog() as log:
        for _ in range(runs):
            results.append(run_dock(dock, qtbot))
            qtbot.wait(50)
            assert len(viewer.window.dock_widgets) == n_docks, "a run opened a new dock"
            check_fits_screen(viewer)
    assert not log.errors, log.errors
    mine = {ly.name for ly in tool_layers(viewer, dock.tool)}
    visible = {ly.name for ly in viewer.layers if ly.visible}
    extra = visible - mine - inputs
    assert not extra, f"visible after the runs besides results and inputs: {sorted(extra)}"
    assert mine, "the run added no result layer"
    return results
