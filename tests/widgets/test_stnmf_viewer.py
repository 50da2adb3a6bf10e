"""STNMF dock widget: run on a small ensemble layer, table selection, export, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix.core.synthetic import make_ste_sparse


@pytest.fixture
def ste_layer(make_napari_viewer):
    viewer = make_napari_viewer()
    ste, _truth = make_ste_sparse(n_spikes=4000, grid=12, random_state=4)
    layer = viewer.add_image(
        np.moveaxis(ste, -1, 0), name="ste", metadata={"ste_axes": "mxy"}, scale=(1, 30, 30)
    )
    return viewer, layer


def _widget(viewer):
    from napari_unmix.widgets.stnmf import STNMFWidget

    w = STNMFWidget(viewer)
    w.form.set_values({"r": 8, "num_iter": 40, "pixel_size": 30.0})
    return w


def test_run_select_export(ste_layer, qtbot, tmp_path):
    viewer, layer = ste_layer
    w = _widget(viewer)
    qtbot.addWidget(w)
    assert w.layer_picker.value is layer
    before = np.array(layer.data, copy=True)
    assert w.start() is not None
    # wait on the dock: a finished signal may come before a wait connects
    qtbot.waitUntil(lambda: not w.running, timeout=60000)
    assert w.result is not None
    names = [ly.name for ly in viewer.layers]
    assert {"ste · STNMF · STA", "ste · STNMF · modules", "ste · STNMF · outlines"} <= set(names)
    mods = viewer.layers["ste · STNMF · modules"]
    assert mods.data.shape == (8, 12, 12)
    assert tuple(mods.scale) == (1.0, 30.0, 30.0)
    assert "report" in mods.metadata
    outlines = viewer.layers["ste · STNMF · outlines"]
    assert tuple(outlines.scale) == (30.0, 30.0)
    assert len(outlines.data) == w.result.num_subunits + 1  # + the STA outline
    assert w.panel.table.rowCount() == 8
    w.select_module(1)
    assert viewer.dims.current_step[0] == 1
    if w.result.num_subunits > 1:
        assert outlines.selected_data == {int(np.nonzero(outlines.properties["module"] == 1)[0][0])}
    paths = w.export(tmp_path)
    assert {p.name for p in paths.values()} == {
        "stnmf_modules.ome.tif",
        "stnmf_modules.ome.tif.json",
        "stnmf_modules.csv",
        "stnmf.png",
    }
    np.testing.assert_array_equal(layer.data, before)  # input untouched


def test_bad_input_messages(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    w = _widget(viewer)
    qtbot.addWidget(w)
    assert w.start() is None and "no ensemble" in w.status.text()
    viewer.add_image(np.zeros((5, 6, 6), np.float32), name="tiny", metadata={"ste_axes": "mxy"})
    assert w.layer_picker.value.name == "tiny"
    assert w.start() is None and "lower r" in w.status.text()
    w.open_file("/nonexistent/file.xyz")
    assert "cannot read" in w.status.text()
    assert w.export("/tmp") is None and "run STNMF first" in w.status.text()


def test_open_file_adds_a_layer(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    w = _widget(viewer)
    qtbot.addWidget(w)
    ste, _ = make_ste_sparse(n_spikes=300, grid=8, random_state=1)
    np.save(tmp_path / "cell.npy", ste)
    w.open_file(tmp_path / "cell.npy")
    assert w.layer_picker.value.name == "cell" and w.layer_picker.value.data.shape == (300, 8, 8)
    assert "300 spikes" in w.axes_label.value


@pytest.mark.parametrize("sample", ["ste"])  # the sparse cell: benchmarks, demo
def test_samples_give_their_7_subunits_with_the_dock_defaults(make_napari_viewer, qtbot, sample):
    from napari_unmix.core.scenarios.stnmf import match_subunits
    from napari_unmix.widgets.stnmf import STNMFWidget

    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", sample)
    truth = viewer.layers[0].metadata["ground_truth"]
    w = STNMFWidget(viewer)  # every setting at its default
    qtbot.addWidget(w)
    assert w.form.values()["pixel_size"] == 30.0  # the sample's stixel size
    assert w.start() is not None
    # wait on the dock: a finished signal may come before a wait connects
    qtbot.waitUntil(lambda: not w.running, timeout=180000)
    assert w.result.num_subunits == 7
    assert (match_subunits(w.result.modules, truth["subunits"]) >= 0.8).sum() == 7
    assert viewer.layers[-2].scale[-1] == 30.0
    assert w.panel.table.horizontalHeaderItem(4).toolTip() == "diameter (µm)"
