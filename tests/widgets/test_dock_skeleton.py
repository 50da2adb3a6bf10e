"""The dock skeleton: pickers, form from options, one run at a time, progress, results policy,
reused results panel, settings that persist, errors in the status line."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.demo import DemoOptions
from napari_unmix.core.progress import Progress
from napari_unmix.core.result import Result, ResultLayer
from napari_unmix.widgets._dock import LayerPicker, ToolDock
from napari_unmix.widgets._settings import load_settings


class DemoDock(ToolDock):
    tool = "demo"
    options = DemoOptions
    form_fields = ("k", "tol", "kind", "fast")

    def __init__(self, viewer):
        super().__init__(viewer)
        self.image = self.add_picker(
            LayerPicker(viewer, "image", lambda ly: ly.data.ndim == 3 and ly.data.shape[0] > 1)
        )
        self.fail_next = False

    def read_inputs(self):
        if self.image.value is None:
            raise ValueError("open a C x Y x X image first")
        return np.asarray(self.image.value.data)

    def steps(self, cube, options):
        for i in range(options.k):
            yield Progress(i + 1, options.k, "component", partial=i)
        if self.fail_next:
            raise ValueError("the demo failed on purpose\nwith a second line")
        layers = [ResultLayer(f"c{i}", cube[i % cube.shape[0]] * 1.0) for i in range(options.k)]
        return Result("demo", layers, report={"k": options.k}, source=self.image.value.name)


@pytest.fixture
def dock(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 8)), name="plane")  # not usable: 2-D
    viewer.add_image(np.random.default_rng(0).random((3, 8, 8)), name="cube")
    d = DemoDock(viewer)
    viewer.window.add_dock_widget(d)
    return d


def test_picker_offers_only_usable_layers_and_preselects(dock):
    assert list(dock.image.choices) == [dock.viewer.layers["cube"]]
    assert dock.image.value is dock.viewer.layers["cube"]
    dock.viewer.add_image(np.zeros((2, 4, 4)), name="cube2")
    assert len(dock.image.choices) == 2 and dock.image.value.name == "cube"


def test_run_twice_replaces_results_and_reuses_panel(dock, qtbot):
    for _ in range(2):
        with qtbot.waitSignal(dock.finished, timeout=10000):
            dock.start()
        qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    names = [ly.name for ly in dock.viewer.layers]
    assert names == ["plane", "cube", "cube · demo · c0", "cube · demo · c1", "cube · demo · c2"]
    assert not dock.viewer.layers["cube"].visible
    assert dock.viewer.layers["cube · demo · c0"].metadata["report"] == {"k": 3}
    assert len(dock.results.runs()) == 2 and dock.progress.value() == dock.progress.maximum()
    assert dock.status.text().startswith("done in")


def test_keep_previous_results(dock, qtbot):
    dock.keep_previous.setChecked(True)
    for _ in range(2):
        with qtbot.waitSignal(dock.finished, timeout=10000):
            dock.start()
        qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    assert sum("· demo ·" in ly.name for ly in dock.viewer.layers) == 6


def test_second_start_while_running_is_refused(dock, qtbot):
    dock.form.field("k").value = 50
    first = dock.start()
    assert dock.start() is None
    with qtbot.waitSignal(dock.finished, timeout=20000):
        pass
    assert first is not None


def test_failure_goes_to_status_with_full_text(dock, qtbot):
    dock.fail_next = True
    with qtbot.waitSignal(dock.failed, timeout=10000) as sig:
        dock.start()
    qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    assert sig.args[0].startswith("the demo failed on purpose")
    assert dock.status.text() == "the demo failed on purpose"
    assert "second line" in dock.status.toolTip()
    assert dock.run_button.isEnabled() and dock.progress.maximum() == 1


def test_bad_input_is_refused_before_running(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    d = DemoDock(viewer)
    with qtbot.waitSignal(d.failed, timeout=2000):
        assert d.start() is None
    assert "open a C x Y x X image first" in d.status.text()


def test_settings_persist_and_reset(dock, qtbot, make_napari_viewer):
    dock.form.field("k").value = 4
    with qtbot.waitSignal(dock.finished, timeout=10000):
        dock.start()
    qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    assert load_settings("demo")["k"] == 4
    again = DemoDock(make_napari_viewer())
    assert again.form.values()["k"] == 4
    again.reset_settings()
    assert again.form.values()["k"] == DemoOptions.k and load_settings("demo") == {}


def test_matrix_table_and_theme(qtbot):
    from matplotlib.figure import Figure

    from napari_unmix.widgets._matrix import MatrixTable
    from napari_unmix.widgets._theme import style_axes, theme_colors

    table = MatrixTable()
    qtbot.addWidget(table)
    m = np.array([[1.0, -0.25], [0.125, 1.0]])
    table.set_matrix(m, ["C0", "C1"], ["C0", "C1"], title="unmixing matrix")
    np.testing.assert_allclose(table.values(), m)
    assert table.horizontalHeaderItem(1).text() == "C1"
    with pytest.raises(ValueError, match="does not match"):
        table.set_matrix(m, ["C0"], ["C0", "C1"])
    colors = theme_colors()
    fig = Figure()
    fig.add_subplot(111).plot([0, 1], label="x")
    fig.axes[0].legend()
    style_axes(fig, colors)
    assert fig.axes[0].xaxis.label.get_color() == colors["text"]


def test_demo_dock_passes_the_dock_contract(dock, qtbot):
    from contracts.docks import check_dock_runs, screen_size

    assert screen_size(dock.viewer) == (1280, 800)
    check_dock_runs(dock.viewer, dock, qtbot)


def test_lazy_canvas_draws_only_shown_and_not_while_held(qtbot):
    """A hidden plot or one whose dock is running does not redraw; it draws once after."""
    from napari_unmix.widgets._canvas import LazyCanvas, hold_drawing, release_drawing

    canvas = LazyCanvas(fill=lambda fig: fig.add_subplot().plot([0, 1], [1, 0]))
    qtbot.addWidget(canvas)
    canvas.resize(200, 150)
    for _ in range(3):
        canvas.draw_idle()
    qtbot.wait(50)
    assert canvas.draws == 0 and not canvas.figure.axes  # hidden: not even filled
    hold_drawing()
    try:
        canvas.show()
        qtbot.waitExposed(canvas)
        canvas.draw_idle()
        qtbot.wait(50)
        assert canvas.draws == 0  # held (a run is going)
    finally:
        release_drawing()
    qtbot.waitUntil(lambda: canvas.draws == 1, timeout=2000)
    assert len(canvas.figure.axes) == 1 and not canvas.stale
    qtbot.wait(50)
    assert canvas.draws == 1  # drawn once, not on every paint


def test_blas_limit_held_for_the_run(dock, qtbot):
    """The one-BLAS-thread limit is taken once from the GUI thread for the whole run (the
    worker's solver calls only nest into it) and given back after."""
    from napari_unmix.core.nnls import one_blas_thread

    seen = []
    dock.finished.connect(lambda _: seen.append(one_blas_thread._depth))
    with qtbot.waitSignal(dock.finished, timeout=10000):
        dock.start()
        assert one_blas_thread._depth == 1
    qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    assert one_blas_thread._depth == 0 and seen == [1]  # given back when the worker ends


def test_rerun_sets_only_what_changed(dock, qtbot):
    """A re-run puts new data into the previous layers and leaves their colormap, blending,
    scale and visibility alone (each change makes napari redraw)."""
    from contracts.docks import run_dock

    run_dock(dock, qtbot)
    layer = dock.viewer.layers["cube · demo · c0"]
    changed = []
    for name in ("colormap", "blending", "scale", "visible", "translate"):
        getattr(layer.events, name).connect(lambda e, name=name: changed.append(name))
    run_dock(dock, qtbot)
    assert dock.viewer.layers["cube · demo · c0"] is layer and changed == []


def test_result_scale_matched_by_axis_names(make_napari_viewer):
    """A Z x Y x X map of a Z x C x Y x X cube takes the cube's Z, Y and X scale (not its
    last three axes, C Y X)."""
    from napari_unmix.widgets._layer_policy import show_result

    viewer = make_napari_viewer()
    cube = viewer.add_image(
        np.zeros((2, 5, 8, 8)), scale=(3.0, 1.0, 0.5, 0.25), metadata={"axes": "ZCYX"}
    )
    result = Result("demo", [ResultLayer("map", np.zeros((2, 8, 8)), axes="ZYX")], source="c")
    (layer,) = show_result(viewer, result, inputs=[cube])
    assert tuple(layer.scale) == (3.0, 0.5, 0.25)
    plane = Result("demo", [ResultLayer("p", np.zeros((8, 8)), axes="YX")], source="c")
    (layer,) = show_result(viewer, plane, inputs=[cube], keep_previous=True)
    assert tuple(layer.scale) == (0.5, 0.25)
