"""ROI suggester dock widget under Xvfb: rectangles in the ROI layer, keep / replace, params."""

import numpy as np
import pytest

from napari_unmix.core.synthetic import make_bead_cube
from napari_unmix.widgets._plot import SpectrumPlot
from napari_unmix.widgets._roi_schema import (
    ROI_COLUMNS,
    add_rois,
    box_to_rectangle,
    get_or_create_roi_layer,
)
from napari_unmix.widgets.suggest import SuggestWidget


@pytest.fixture
def cube():
    return make_bead_cube(shape=(64, 64), n_channels=24)[0]


def _go(widget, qtbot):
    with qtbot.waitSignal(widget.finished, timeout=60000):
        assert widget.start() is not None, widget.status.text()
    qtbot.waitUntil(lambda: not widget.running, timeout=10000)


def _set(widget, **values):
    widget.form.set_values(values)


def test_rectangles_written_and_replace_previous_keeps_manual(make_napari_viewer, qtbot, cube):
    viewer = make_napari_viewer()
    img = viewer.add_image(cube, name="beads", scale=(1.0, 0.5, 0.25))
    widget = SuggestWidget(viewer)
    widget.image.value = img
    _set(widget, max_groups=4)
    _go(widget, qtbot)
    rois = viewer.layers["ROIs"]
    assert len(rois.data) == 4 and set(rois.shape_type) == {"rectangle"}
    assert list(rois.features.columns) == list(ROI_COLUMNS)
    assert rois.features["auto"].all()
    assert sorted(rois.features["group"]) == [0, 1, 2, 3]
    np.testing.assert_allclose(rois.scale, (0.5, 0.25))
    report = rois.metadata["suggest_report"]
    assert report["parameters"]["max_groups"] == 4
    # a hand-drawn ROI survives a second run; the earlier auto ROIs are replaced
    add_rois(rois, [box_to_rectangle((0, 0, 5, 5))], [{"name": "mine", "component": 0}])
    _set(widget, max_groups=2, max_rois_per_group=2)
    _go(widget, qtbot)
    feats = rois.features
    assert (~feats["auto"]).sum() == 1 and feats.loc[~feats["auto"], "name"].item() == "mine"
    assert feats["auto"].sum() == len(rois.data) - 1 >= 2
    assert set(feats.loc[feats["auto"], "component"]) <= {1, 2}  # after the manual component 0
    # with "keep previous results" the auto ROIs accumulate
    widget.keep_previous.setChecked(True)
    n_before = len(rois.data)
    _go(widget, qtbot)
    assert len(rois.data) > n_before


def test_dialog_parameters_reach_core(make_napari_viewer, qtbot, cube):
    viewer = make_napari_viewer()
    img = viewer.add_image(np.stack([cube, cube[::-1]]), name="beads (Z, C, Y, X)")
    viewer.dims.set_current_step(0, 1)  # z = 1
    viewer.dims.set_current_step(1, 5)  # channel 5 on display
    widget = SuggestWidget(viewer)
    widget.image.value = img
    _set(
        widget,
        projection="max",
        hierarchical=False,
        gradient_fingerprint=False,
        peak_threshold=0.5,
        binning=2,
        similarity_threshold=0.9,
        representative="typical",
    )
    _go(widget, qtbot)
    params = viewer.layers["ROIs"].metadata["suggest_report"]["parameters"]
    assert params["projection"] == "max"
    assert params["hierarchical"] is False and params["gradient_fingerprint"] is False
    assert params["peak_threshold"] == pytest.approx(0.5) and params["binning"] == 2
    assert params["similarity_threshold"] == pytest.approx(0.9)
    assert params["frame"] == 5 and params["representative"] == "typical"
    rep = viewer.layers["ROIs"].metadata["suggest_report"]
    assert rep["inputs"]["cube"]["shape"] == list(cube.shape)


def test_bad_input_messages(make_napari_viewer, qtbot, monkeypatch):
    import napari_unmix.widgets.suggest as mod

    infos = []
    monkeypatch.setattr(mod, "show_info", infos.append)
    viewer = make_napari_viewer()
    widget = SuggestWidget(viewer)
    # no usable layer: one clear status line, no worker
    viewer.add_image(np.ones((32, 32), np.float32), name="plane")
    assert widget.image.value is None  # a 2-D image is not offered (no error pop-up)
    with qtbot.waitSignal(widget.failed, timeout=5000):
        assert widget.start() is None
    assert "C×Y×X" in widget.status.text()
    # a flat image: a "no candidates" notification, no layer written
    widget.image.value = viewer.add_image(np.ones((8, 32, 32), np.float32), name="flat")
    _go(widget, qtbot)
    assert any("no candidates" in m for m in infos)
    assert "ROIs" not in viewer.layers
    # bad settings reported by the core reach the user as a message, not a traceback
    _set(widget, peak_threshold=0.0)
    with qtbot.waitSignal(widget.failed, timeout=60000) as sig:
        widget.start()
    qtbot.waitUntil(lambda: not widget.running, timeout=10000)
    assert "peak_threshold must be in (0, 1]" in sig.args[0]


def test_roi_layer_helpers(make_napari_viewer):
    viewer = make_napari_viewer()
    layer = get_or_create_roi_layer(viewer, scale=(2.0, 3.0))
    assert get_or_create_roi_layer(viewer) is layer
    add_rois(layer, [box_to_rectangle((1, 1, 4, 4))], [{"name": "a", "auto": True, "group": 2}])
    row = layer.features.iloc[0].to_dict()
    assert row == {"name": "a", "component": 0, "background": False, "auto": True, "group": 2}
    with pytest.raises(ValueError, match="1 rectangles but 0"):
        add_rois(layer, [box_to_rectangle((1, 1, 4, 4))], [])


def test_sample_cube_rectangles_match_ground_truth(make_napari_viewer, qtbot):
    from napari_unmix.core.suggest import score_against_truth

    viewer = make_napari_viewer()
    (img,) = viewer.open_sample("napari-unmix", "bead_cube")
    widget = SuggestWidget(viewer)
    widget.image.value = img
    _set(widget, max_groups=4)
    _go(widget, qtbot)
    rois = viewer.layers["ROIs"]
    assert len(set(map(tuple, rois.edge_color.round(3)))) == 4  # one colour per group
    corners = np.stack(rois.data)  # n × 4 × (y, x), data units of the ROI layer
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1).astype(int)
    truth = img.metadata["ground_truth"]
    s = score_against_truth(boxes, rois.features["group"].to_numpy(), truth["abundances"])
    assert s["n_found"] == 4 and s["n_pure_groups"] == 4
    assert len(rois.features) == 4 and rois.features["component"].tolist() == [0, 1, 2, 3]


def test_defaults_are_estimated_from_the_data(make_napari_viewer, qtbot, cube):
    viewer = make_napari_viewer()
    widget = SuggestWidget(viewer)
    params = widget.parameters()
    assert params["local_background_sigma"] is None and params["max_groups"] is None
    assert widget.form.field("local_background_sigma").value == ""  # empty: estimated
    widget.image.value = viewer.add_image(cube, name="beads")
    _go(widget, qtbot)
    est = viewer.layers["ROIs"].metadata["suggest_report"]["estimated"]
    assert est["local_background_sigma"] > 0 and est["n_groups"] >= 2
    _set(widget, max_groups=3, local_background_sigma=8.0)
    assert widget.parameters()["max_groups"] == 3
    assert widget.parameters()["local_background_sigma"] == 8.0


def test_suggest_dock_contract(make_napari_viewer, qtbot):
    from contracts.docks import check_fits_screen, run_dock

    viewer = make_napari_viewer()
    (img,) = viewer.open_sample("napari-unmix", "bead_cube")
    widget = SuggestWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.image.value is img  # preselected
    n_docks = len(viewer.window.dock_widgets)
    for _ in range(2):
        run_dock(widget, qtbot)
        check_fits_screen(viewer)
    assert len(viewer.window.dock_widgets) == n_docks
    assert len(widget.results.runs()) == 2 and "ROIs in" in widget.status.text()
    assert widget.results.current.findChild(SpectrumPlot).line_count() >= 2
