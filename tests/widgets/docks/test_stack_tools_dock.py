"""The Stack tools dock on the skeleton: every sample it fits, run twice (issue #16 contract),
preselection, the tool chooser, the result-layer policy and the drift summary."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from contracts.docks import check_dock_runs, run_dock
from napari_unmix.core.stack_tools import RegisterOptions, ZDriftOptions
from napari_unmix.widgets._layer_policy import tool_layers
from napari_unmix.widgets.stack_tools import StackToolsWidget


def _dock(viewer):
    dock = StackToolsWidget(viewer)
    viewer.window.add_dock_widget(dock, name="Stack tools")
    return dock


@pytest.mark.parametrize(
    ("sample", "n_layers"),
    [("bleedthrough", 2), ("picasso", 3), ("picasso_brain", None), ("bead_cube", 1)],
)
def test_dock_runs_twice_on_every_sample(make_napari_viewer, qtbot, sample, n_layers):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", sample)
    dock = _dock(viewer)
    chosen = list(dock.layers.value)
    assert chosen, "no stack preselected"
    if n_layers is not None:
        assert len(chosen) == n_layers
    check_dock_runs(viewer, dock, qtbot)
    mine = tool_layers(viewer, "filter")
    assert len(mine) == len(chosen)  # one per input layer; the second run replaced the first
    assert all(" · filter · " in ly.name for ly in mine)
    assert dock.progress.value() == dock.progress.maximum() == 1
    assert len(dock.results.runs()) == 2


def test_preselects_newest_stack_and_names_results(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "bleedthrough")
    viewer.open_sample("napari-unmix", "picasso")
    dock = _dock(viewer)
    assert [ly.name for ly in dock.layers.value] == ["mixed C0", "mixed C1", "mixed C2"]
    dock.chooser.value = "max-z"
    for _ in range(3):  # no pile-up: each run replaces the tool's previous layers
        run_dock(dock, qtbot)
    names = [ly.name for ly in tool_layers(viewer, "max-z")]
    assert names == ["mixed · max-z · C0", "mixed · max-z · C1", "mixed · max-z · C2"]
    out, src = viewer.layers["mixed · max-z · C1"], viewer.layers["mixed C1"]
    assert out.data.shape[1] == 1 and not src.visible and out.visible
    np.testing.assert_allclose(out.scale, src.scale)
    assert out.colormap.name == src.colormap.name
    assert out.metadata["report"]["tool"] == "stack_tools.max-z"


def test_chooser_switches_the_form(make_napari_viewer):
    dock = _dock(make_napari_viewer())
    shown = [name for name, panel in dock.panels.items() if not panel.native.isHidden()]
    assert dock.form is dock.panels["filter"] and shown == ["filter"]
    dock.chooser.value = "register"
    assert dock.form is dock.panels["register"] and dock.panels["filter"].native.isHidden()
    assert dock.form.options_class is RegisterOptions
    assert isinstance(dock.current_options(), RegisterOptions)
    dock.chooser.value = "z-drift"
    assert dock.form.options_class is ZDriftOptions
    dock.chooser.value = "time-to-channels"
    assert dock.form is None and dock.current_options() is None


def test_filter_options_reach_the_tool(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "bleedthrough")
    dock = _dock(viewer)
    dock.form.steps.value = "median, gaussian"
    dock.form.field("median_size").value = 5
    result = run_dock(dock, qtbot)
    assert result.report["parameters"]["filters"] == ["median", "gaussian"]
    assert result.report["parameters"]["median_size"] == 5


def _drifting(n_t=4):
    rng = np.random.default_rng(1)
    plane = ndi.gaussian_filter(rng.random((64, 64)), 2.0).astype(np.float32)
    frames = [plane, ndi.shift(plane, (2.0, -1.0), mode="nearest"), plane.copy()]
    frames.append(rng.random((64, 64)).astype(np.float32))  # no structure: no plausible shift
    return np.stack(frames[:n_t])[:, None]  # T Z Y X


def test_register_lists_frames_left_in_place(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(_drifting(), name="cells", metadata={"axes": "TZYX"})
    dock = _dock(viewer)
    dock.chooser.value = "register"
    run_dock(dock, qtbot)
    panel = dock.results.current
    status = {r["frame"][0]: r["status"] for r in panel.rows}
    assert status == {0: "reference", 1: "moved", 2: "did not move", 3: "no plausible shift"}
    assert "2 of 4 time points left in place" in panel.flagged.text()
    assert "t=3 (no plausible shift)" in panel.flagged.text()
    ax = panel.figure.axes[0]
    assert ax.get_xlabel() == "time point" and ax.get_ylabel() == "correction (px)"
    assert panel.table.rowCount() == 4
    assert viewer.layers[-1].name == "cells · register · C0"


def test_time_to_channels(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((3, 2, 16, 16)), name="encoded")
    dock = _dock(viewer)
    dock.chooser.value = "time-to-channels"
    run_dock(dock, qtbot)
    names = [ly.name for ly in tool_layers(viewer, "time-to-channels")]
    assert names == [f"encoded · time-to-channels · C{c}" for c in range(3)]
    np.testing.assert_array_equal(viewer.layers[names[1]].data, viewer.layers["encoded"].data[1])


def test_bad_input_is_one_status_line(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 16, 16)), name="a")
    viewer.add_image(np.zeros((3, 16, 16)), name="b")
    dock = _dock(viewer)
    dock.layers.value = list(viewer.layers)
    with qtbot.waitSignal(dock.failed, timeout=2000):
        assert dock.start() is None
    assert "differ in shape" in dock.status.text()
    dock.layers.value = []
    assert dock.start() is None and "select at least one" in dock.status.text()
    dock.layers.value = [viewer.layers["a"]]
    dock.chooser.value = "match-histograms"
    with qtbot.waitSignal(dock.failed, timeout=20000):
        dock.start()
    qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    assert "time points" in dock.status.text() and dock.progress.maximum() == 1
    assert len(viewer.layers) == 2


def test_second_run_is_refused_while_one_runs(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "bleedthrough")
    dock = _dock(viewer)
    first = dock.start()
    assert first is not None and dock.start() is None
    with qtbot.waitSignal(dock.finished, timeout=60000):
        pass
    qtbot.waitUntil(lambda: not dock.running, timeout=5000)
    assert len(tool_layers(viewer, "filter")) == 2
