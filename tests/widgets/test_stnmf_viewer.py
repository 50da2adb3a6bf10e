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
    w.r.setValue(8)
    w.num_iter.setValue(40)
    w.pixel_size.setValue(30.0)
    return w


def test_run_select_export(ste_layer, qtbot, tmp_path):
    viewer, layer = ste_layer
    w = _widget(viewer)
    qtbot.addWidget(w)
    assert w.layer_combo.currentText() == "ste"
    before = np.array(layer.data, copy=True)
    worker = w.run()
    with qtbot.waitSignal(worker.finished, timeout=60000):
        pass
    assert w.result is not None
    names = [ly.name for ly in viewer.layers]
    assert {"STNMF STA", "STNMF modules", "STNMF outlines"} <= set(names)
    mods = viewer.layers["STNMF modules"]
    assert mods.data.shape == (8, 12, 12)
    assert tuple(mods.scale) == (1.0, 30.0, 30.0)[-mods.ndim :] or mods.scale[-1] == 30.0
    assert "stnmf_report" in mods.metadata
    outlines = viewer.layers["STNMF outlines"]
    assert len(outlines.data) == w.result.num_subunits + 1  # + the STA outline
    assert w.table.rowCount() == 8
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


def test_bad_input_messages(make_napari_viewer, qtbot, monkeypatch):
    from napari_unmix.widgets.stnmf import viewer as stnmf_viewer

    errors = []
    monkeypatch.setattr(stnmf_viewer, "show_error", errors.append)
    viewer = make_napari_viewer()
    w = _widget(viewer)
    qtbot.addWidget(w)
    assert w.run() is None and "no ensemble" in errors[-1]
    viewer.add_image(np.zeros((5, 6, 6), np.float32), name="tiny", metadata={"ste_axes": "mxy"})
    w.layer_combo.setCurrentText("tiny")
    assert w.run() is None and "lower r" in errors[-1]
    w.open_file("/nonexistent/file.xyz")
    assert "cannot read" in errors[-1]
    assert w.export("/tmp") is None and "run STNMF first" in errors[-1]


@pytest.mark.parametrize("sample", ["ste"])  # the sparse cell: benchmarks, demo
def test_samples_give_their_7_subunits_with_the_dock_defaults(make_napari_viewer, qtbot, sample):
    from napari_unmix.core.scenarios.stnmf import match_subunits
    from napari_unmix.widgets.stnmf import STNMFWidget

    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", sample)
    truth = viewer.layers[0].metadata["ground_truth"]
    w = STNMFWidget(viewer)  # every setting at its default
    qtbot.addWidget(w)
    worker = w.run()
    with qtbot.waitSignal(worker.finished, timeout=180000):
        pass
    assert w.result.num_subunits == 7
    assert (match_subunits(w.result.modules, truth["subunits"]) >= 0.8).sum() == 7
    assert viewer.layers["STNMF modules"].scale[-1] == 30.0  # the sample's stixel size
