"""The "Unmix (NNMF / NNLS)" dock on every sample that fits it (issue #16): two runs per
method without new docks or a window past the screen, one results panel with a history,
maps named from the seeds, inputs and seed previews hidden, NNLS said plainly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from contracts.docks import check_dock_runs, check_fits_screen, run_dock
from napari_unmix.api.rois import rectangle
from napari_unmix.core.nmf import SeededNmfOptions
from napari_unmix.widgets._layer_policy import tool_layers


def _pure_boxes(truth, half=2):
    """One box per component inside its pure region, and one background box."""
    A = truth["abundances"]
    boxes = []
    for j in range(A.shape[0]):
        pure = (A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.02)
        ys, xs = np.nonzero(binary_erosion(pure, iterations=half))
        best = np.argmax(A[j][ys, xs])
        y, x = ys[best], xs[best]
        boxes.append(rectangle(y - half, x - half, y + half, x + half))
    ys, xs = np.nonzero(binary_erosion(A.max(0) < 0.01, iterations=4))
    y, x = ys[len(ys) // 2], xs[len(xs) // 2]
    return boxes, rectangle(y - 3, x - 3, y + 3, x + 3)


def _open(make_napari_viewer, sample):
    from napari_unmix.widgets.nnmf import NNMFWidget
    from napari_unmix.widgets.roi_manager import roi_manager_for

    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-unmix", sample)
    _, dock = viewer.window.add_plugin_dock_widget("napari-unmix", "Unmix (NNMF / NNLS)")
    assert isinstance(dock, NNMFWidget)
    return viewer, dock, roi_manager_for(viewer)


@pytest.fixture
def beads(make_napari_viewer):
    viewer, dock, manager = _open(make_napari_viewer, "bead_cube")
    truth = viewer.layers["bead cube"].metadata["ground_truth"]
    boxes, background = _pure_boxes(truth)
    for j, box in enumerate(boxes):
        manager.new_component.setValue(j)
        manager.roi_layer.add_rectangles([box])
    manager.new_component.setValue(len(boxes))
    manager.roi_layer.add_rectangles([background])
    manager.mark_background([len(boxes)])
    return viewer, dock, manager, truth


def test_form_from_the_options_common_visible_advanced_collapsed(beads):
    _, dock, _, _ = beads
    form = dock.form
    basic = [w.name for w in form if not w.name.startswith("_")]
    assert basic[:5] == ["method", "k", "w_mode", "max_iter", "tol"]
    assert {"solver", "l1_W", "slice_mode", "max_pixels", "anchor"} <= {
        w.name for w in form.advanced
    }
    assert form.values()["anchor"] == SeededNmfOptions.anchor
    assert not form.advanced_shown and all(w.native.isHidden() for w in form.advanced)
    assert form.values()["max_iter"] == SeededNmfOptions.max_iter
    assert dock.form.field("k").enabled is False  # seeded: k = the ROI manager's components
    assert "4 component(s)" in dock.info.text()


def test_seeded_nnmf_twice_one_panel_named_maps(beads, qtbot):
    viewer, dock, manager, truth = beads
    dock.apply_settings({"method": "seeded_nnmf", "tol": 1e-4, "max_iter": 300})
    n_docks = len(viewer.window.dock_widgets)
    results = check_dock_runs(viewer, dock, qtbot)
    res = results[-1]
    assert len(viewer.window.dock_widgets) == n_docks
    maps = [
        ly for ly in tool_layers(viewer, "NNMF") if ly.metadata["napari_unmix"]["role"] == "map"
    ]
    assert [ly.name for ly in maps] == [f"bead cube · NNMF · {n}" for n in res.names]
    assert len({ly.colormap.name for ly in maps}) == len(maps)  # distinct colormaps
    assert not viewer.layers["bead cube"].visible and "bead cube" in viewer.layers
    assert maps[0].metadata["report"]["tool"] == "seeded_nnmf"
    assert dock.results.runs()[0].startswith("seeded NNMF") and len(dock.results.runs()) == 2
    view = dock.results_widget
    assert "iterations" in view.summary.text() and "solver" in view.summary.text()
    assert view.h_plot.ax.get_xlabel() == "Raman shift (cm⁻¹)"
    A = truth["abundances"]
    pearson = [np.corrcoef(np.asarray(res.W[j]).ravel(), A[j].ravel())[0, 1] for j in range(4)]
    assert min(pearson) > 0.9
    # the pixel under the mouse: measured spectrum against the model
    y, x = np.unravel_index(np.argmax(A[0]), A[0].shape)
    assert view.show_position(viewer.layers["bead cube"].data_to_world((0, y, x)))
    measured, fitted = view.pixel_model(y, x)
    assert np.linalg.norm(measured - fitted) < 0.2 * np.linalg.norm(measured)
    assert view.pixel_plot.line_count() == 2
    # results fed back as seeds through the ROI model (the manager mirrors it)
    rows = len(manager.model.rows())
    assert view.import_as_seeds("H") == 4
    assert len(manager.model.rows()) == rows + 4 and manager.table.rowCount() == rows + 4


def test_nnls_after_nnmf_replaces_and_says_what_it_did(beads, qtbot):
    viewer, dock, _, _ = beads
    dock.apply_settings({"method": "seeded_nnmf", "tol": 1e-3, "max_iter": 100, "anchor": 0.5})
    run_dock(dock, qtbot)
    reports = [ly.metadata.get("report") for ly in tool_layers(viewer, "NNMF")]
    assert reports and all(r["parameters"]["anchor"] == 0.5 for r in reports)  # the form's
    dock.apply_settings({"method": "nnls"})
    check_dock_runs(viewer, dock, qtbot)
    names = [ly.name for ly in viewer.layers]
    assert not any(" · NNMF · " in n for n in names)  # the NNMF maps were replaced
    assert sum(" · NNLS · " in n for n in names) == 5  # four maps + the residual
    text = dock.results_widget.summary.text()
    assert text.startswith("fixed-H NNLS: exact per-pixel NNLS of 16384 pixels against 4 seed")
    assert "0 iterations" not in text and "solver -" not in text
    assert dock.progress.value() == dock.progress.maximum() == 1  # not left busy
    assert dock.status.text().startswith("fixed-H NNLS: exact") and "done in" in dock.status.text()
    assert len(dock.results.runs()) == 3


def test_seed_preview_hidden_not_deleted_when_results_appear(beads, qtbot):
    viewer, dock, _, _ = beads
    n_docks = len(viewer.window.dock_widgets)
    preview = dock.test_seeds()
    assert len(preview.layers) == 4 and all(ly.visible for ly in preview.layers)
    assert len(viewer.window.dock_widgets) == n_docks and dock.results.current is preview
    again = dock.test_seeds()  # a second preview replaces the first
    assert len(viewer.layers) == 2 + 4 and again.layers[0] in viewer.layers
    dock.apply_settings({"method": "nnls"})
    run_dock(dock, qtbot)
    assert all(ly in viewer.layers and not ly.visible for ly in again.layers)
    check_fits_screen(viewer)


def test_bad_input_one_status_line(beads, qtbot):
    _, dock, _, _ = beads
    dock.apply_settings({"method": "pca", "k": 100})
    with qtbot.waitSignal(dock.failed, timeout=2000):
        assert dock.start() is None
    assert "larger than the number of channels" in dock.status.text()
    assert dock.run_button.isEnabled()


@pytest.mark.parametrize(
    ("sample", "settings"),
    [
        ("two_region", {"method": "random_nnmf", "k": 2, "max_iter": 200, "tol": 1e-4}),
        ("raman_axis", {"method": "pca", "k": 3}),
    ],
)
def test_unseeded_methods_on_the_raman_samples(make_napari_viewer, qtbot, sample, settings):
    viewer, dock, _ = _open(make_napari_viewer, sample)
    dock.apply_settings(settings)
    check_dock_runs(viewer, dock, qtbot)
    short = "PCA" if settings["method"] == "pca" else "NNMF"
    maps = [ly for ly in viewer.layers if f" · {short} · " in ly.name]
    assert len(maps) == settings["k"] + 1
    assert "components" in dock.results_widget.summary.text()
