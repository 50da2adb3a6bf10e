"""ROI suggester dock widget under Xvfb: rectangles in the ROI layer, replace_previous, params."""

import numpy as np
import pytest

from napari_unmix.core.synthetic import make_bead_cube
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
    worker = widget.run(start=False)
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=60000):
        worker.start()


def test_rectangles_written_and_replace_previous_keeps_manual(make_napari_viewer, qtbot, cube):
    viewer = make_napari_viewer()
    img = viewer.add_image(cube, name="beads", scale=(1.0, 0.5, 0.25))
    widget = SuggestWidget(viewer)
    widget.image.value = img
    widget.max_groups.value = 4
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
    widget.max_groups.value = 2
    widget.max_rois_per_group.value = 2
    _go(widget, qtbot)
    feats = rois.features
    assert (~feats["auto"]).sum() == 1 and feats.loc[~feats["auto"], "name"].item() == "mine"
    assert feats["auto"].sum() == len(rois.data) - 1 >= 2
    assert set(feats.loc[feats["auto"], "component"]) <= {1, 2}  # after the manual component 0
    # without replace_previous the auto ROIs accumulate
    widget.replace_previous.value = False
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
    widget.projection.value = "max"
    widget.hierarchical.value = False
    widget.gradient_fingerprint.value = False
    widget.peak_threshold.value = 0.5
    widget.binning.value = 2
    widget.similarity_threshold.value = 0.9
    widget.representative.value = "typical"
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

    infos, errors = [], []
    monkeypatch.setattr(mod, "show_info", infos.append)
    monkeypatch.setattr(mod, "show_error", errors.append)
    viewer = make_napari_viewer()
    widget = SuggestWidget(viewer)
    # a flat image: a "no candidates" notification, no layer written
    widget.image.value = viewer.add_image(np.ones((8, 32, 32), np.float32), name="flat")
    _go(widget, qtbot)
    assert any("no candidates" in m for m in infos) and not errors
    assert "ROIs" not in viewer.layers
    # a 2-D image: an error message saying what is needed, no worker started
    widget.image.value = viewer.add_image(np.ones((32, 32), np.float32), name="plane")
    assert widget.run() is None and "C×Y×X" in errors[0]
    # bad settings reported by the core reach the user as a message, not a traceback
    widget.image.value = viewer.layers["flat"]
    widget.peak_threshold.min = 0.0
    widget.peak_threshold.value = 0.0
    _go(widget, qtbot)
    assert "peak_threshold must be in (0, 1]" in errors[1]


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
    widget.max_groups.value = 4
    _go(widget, qtbot)
    rois = viewer.layers["ROIs"]
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
    assert widget.local_background_sigma.native.text() == "auto"
    widget.image.value = viewer.add_image(cube, name="beads")
    _go(widget, qtbot)
    est = viewer.layers["ROIs"].metadata["suggest_report"]["estimated"]
    assert est["local_background_sigma"] > 0 and est["n_groups"] >= 2
    widget.max_groups.value = 3
    widget.local_background_sigma.value = 8.0
    assert widget.parameters()["max_groups"] == 3
    assert widget.parameters()["local_background_sigma"] == 8.0
