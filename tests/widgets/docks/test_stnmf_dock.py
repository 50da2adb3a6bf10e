"""The STNMF dock on both ensemble samples: the #16 contract (two runs, the window fits
1280x800, one panel, results replace results), one worker at a time, a failed run that does
not stay "running…", tables that fit the dock's width with units."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from contracts.docks import check_dock_runs
from napari_unmix.widgets.stnmf import STNMFWidget


def _dock(viewer, **values):
    dock = STNMFWidget(viewer)
    viewer.window.add_dock_widget(dock, name="STNMF")
    dock.form.set_values({"num_iter": 60, **values})
    return dock


@pytest.mark.parametrize("sample", ["ste", "ste_sparse"])
def test_dock_contract_on_every_ensemble_sample(make_napari_viewer, qtbot, sample):
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-unmix", sample)
    dock = _dock(viewer)
    assert dock.layer_picker.value is viewer.layers[0]
    assert dock.form.values()["pixel_size"] == 30.0  # from the layer's scale
    results = check_dock_runs(viewer, dock, qtbot)
    assert len(results[-1].results) == 1
    names = {ly.name for ly in viewer.layers if ly.visible}
    source = viewer.layers[0].name
    assert names == {f"{source} · STNMF · {p}" for p in ("STA", "modules", "outlines")}
    assert len(dock.results.runs()) == 2
    table = dock.panel.table
    assert table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert table.horizontalHeaderItem(4).toolTip() == "diameter (µm)"
    qtbot.wait(50)
    assert table.horizontalHeader().length() <= table.viewport().width() + 2  # no sideways
    assert "subunits of" in dock.status.text() and dock.status.text().startswith("done in")
    fig = dock.panel.figure
    assert fig.get_facecolor()[:3] != (1.0, 1.0, 1.0)  # themed, not white


def test_second_run_is_refused_while_running(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "ste_sparse")
    dock = _dock(viewer, num_iter=400)
    first = dock.start()
    assert first is not None and dock.running
    assert dock.start() is None  # one worker at a time
    assert not dock.run_button.isEnabled()
    dock.cancel()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    assert dock.status.text() == "cancelled" and dock.run_button.isEnabled()


def test_failed_run_does_not_stay_running(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((300, 6, 6), np.float32), name="blank")
    dock = _dock(viewer, r=4)
    with qtbot.waitSignal(dock.failed, timeout=30000) as sig:
        assert dock.start() is not None
    qtbot.waitUntil(lambda: not dock.running, timeout=10000)
    assert "zero everywhere" in sig.args[0]
    assert "running" not in dock.status.text() and dock.run_button.isEnabled()
    assert not [ly for ly in viewer.layers if "· STNMF ·" in ly.name]


def test_settings_fill_sparsity_and_smoothing(make_napari_viewer):
    from napari_unmix.core.stnmf import SETTINGS

    dock = _dock(make_napari_viewer())
    form = dock.settings_form
    for name in ("reference", "recovery"):
        form.field("settings").value = name
        values = form.values()
        assert values["sparsity"] == SETTINGS[name]["sparsity"]
        assert values["smoothing"] == SETTINGS[name]["smoothing"]
    form.set_values({"sparsity": 2.5})
    assert dock.current_options()["sparsity"] == 2.5
    assert dock.current_options()["normalize"] is SETTINGS["recovery"]["normalize"]


def test_rerun_updates_the_result_layers_in_place(make_napari_viewer, qtbot):
    from contracts.docks import run_dock

    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "ste_sparse")
    dock = _dock(viewer, num_iter=30)
    run_dock(dock, qtbot)
    first = {ly.name: ly for ly in viewer.layers if "· STNMF ·" in ly.name}
    dock.form.set_values({"r": 12})
    run_dock(dock, qtbot)
    second = {ly.name: ly for ly in viewer.layers if "· STNMF ·" in ly.name}
    assert set(first) == set(second)
    assert all(first[n] is second[n] for n in first)  # no napari remove + add
    modules = next(ly for n, ly in second.items() if n.endswith("modules"))
    outlines = next(ly for n, ly in second.items() if n.endswith("outlines"))
    assert modules.data.shape[0] == 12
    s = dock.result
    assert list(outlines.properties["kind"]).count("subunit") == s.num_subunits
    assert len(outlines.data) == len(outlines.properties["module"])
    # the STA outline is grey, readable on napari's dark canvas (it was black)
    sta = [i for i, k in enumerate(outlines.properties["kind"]) if k == "STA"]
    for i in sta:
        assert 0.4 < float(np.mean(outlines.edge_color[i][:3])) < 0.8
