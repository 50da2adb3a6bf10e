"""ROI manager + analysis dock in a real viewer: sample -> ROIs -> seeded NNMF -> results."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from napari_unmix.api.rois import rectangle


def _pure_boxes(truth, half=2):
    """One box per component inside its pure region, and one background box."""
    A = truth["abundances"]
    boxes = []
    for j in range(A.shape[0]):
        pure = (A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.02)
        core = binary_erosion(pure, iterations=half)
        ys, xs = np.nonzero(core)
        best = np.argmax(A[j][ys, xs])
        y, x = ys[best], xs[best]
        boxes.append(rectangle(y - half, x - half, y + half, x + half))
    empty = binary_erosion(A.max(0) < 0.01, iterations=4)
    ys, xs = np.nonzero(empty)
    y, x = ys[len(ys) // 2], xs[len(xs) // 2]
    return boxes, rectangle(y - 3, x - 3, y + 3, x + 3)


@pytest.fixture
def session(make_napari_viewer, monkeypatch):
    """Viewer with the bead cube, the ROI manager and a log of notifications."""
    from napari.utils import notifications

    from napari_unmix.widgets.roi_manager import RoiManagerWidget

    log = {"error": [], "warning": [], "info": []}
    for kind in log:
        monkeypatch.setattr(
            notifications, f"show_{kind}", lambda msg, kind=kind: log[kind].append(msg)
        )
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "bead_cube")
    manager = RoiManagerWidget(viewer)
    viewer.window.add_dock_widget(manager)
    return viewer, manager, log


def _run(nnmf, qtbot):
    """Press Run in the analysis dock and wait for its result."""
    with qtbot.waitSignal(nnmf.finished, timeout=120000) as sig:
        assert nnmf.start() is not None, nnmf.status.text()
    qtbot.waitUntil(lambda: not nnmf.running, timeout=10000)
    return sig.args[0]


def _draw(manager, truth, half=2):
    boxes, bg = _pure_boxes(truth, half)
    layer = manager.roi_layer
    for j, box in enumerate(boxes):
        manager.new_component.setValue(j)
        layer.add_rectangles([box])
    manager.new_component.setValue(len(boxes))
    layer.add_rectangles([bg])
    manager.mark_background([len(boxes)])
    return boxes


def test_rois_table_plot_seeded_nnmf_import_and_preset(session, qtbot, tmp_path):
    viewer, manager, log = session
    cube_layer = viewer.layers["bead cube"]
    truth = cube_layer.metadata["ground_truth"]
    assert manager.roi_layer.name == "ROIs"
    np.testing.assert_allclose(manager.roi_layer.scale, cube_layer.scale[-2:])
    _draw(manager, truth)
    # the table and plot follow the Shapes layer
    assert manager.table.rowCount() == 5
    assert manager.plot.line_count() == 5
    assert list(manager.roi_layer.features["component"]) == [0, 1, 2, 3, 4]
    assert manager.roi_layer.features["background"].tolist() == [False] * 4 + [True]
    assert manager.roi_layer.features["name"].tolist()[0] == "ROI 1"
    spec = manager.model.row_spectrum(0)
    assert np.corrcoef(spec, truth["spectra"][0])[0, 1] > 0.95
    # moving a ROI updates the spectra (live)
    before = manager.model.row_spectrum(2).copy()
    manager.roi_layer.data = [
        *manager.roi_layer.data[:2],
        manager.roi_layer.data[2] + 3.0,
        *manager.roi_layer.data[3:],
    ]
    assert not np.allclose(before, manager.model.row_spectrum(2))
    manager.roi_layer.data = [
        *manager.roi_layer.data[:2],
        manager.roi_layer.data[2] - 3.0,
        *manager.roi_layer.data[3:],
    ]
    # deleting a shape removes its row
    manager.roi_layer.add_rectangles([rectangle(1, 1, 3, 3)])
    assert manager.table.rowCount() == 6
    manager.remove_row(manager.model.rows()[5])
    assert manager.table.rowCount() == 5

    # seeded NNMF from those ROIs
    nnmf = manager.open_analysis()
    nnmf.apply_settings({"method": "seeded_nnmf", "tol": 1e-4, "max_iter": 300})
    preview = nnmf.test_seeds()
    assert len(preview.layers) == 4 and preview.fallback == []
    res = _run(nnmf, qtbot)
    assert res is not None and res.n_iter > 1, log
    names = [ly.name for ly in viewer.layers]
    assert sum(" · NNMF · " in n for n in names) == 5 and "bead cube · NNMF · residual" in names
    w_layer = viewer.layers[f"bead cube · NNMF · {res.names[0]}"]
    assert w_layer.blending == "additive"
    np.testing.assert_allclose(w_layer.scale, cube_layer.scale[-2:])
    A, S = truth["abundances"], truth["spectra"]
    pearson = [np.corrcoef(res.W[j].ravel(), A[j].ravel())[0, 1] for j in range(4)]
    cosine = [S[j] @ res.H[j] / np.linalg.norm(S[j]) / np.linalg.norm(res.H[j]) for j in range(4)]
    print("W Pearson", np.round(pearson, 4), "H cosine", np.round(cosine, 4))
    assert min(pearson) > 0.9 and min(cosine) > 0.97
    # hover spectrum vs model
    y, x = np.unravel_index(np.argmax(A[0]), A[0].shape)
    measured, fitted = nnmf.results_widget.show_pixel(y, x)
    assert np.linalg.norm(measured - fitted) < 0.2 * np.linalg.norm(measured)

    # import results as seeds: H, then W
    n_rows = len(manager.model.rows())
    assert nnmf.results_widget.import_as_seeds("H") == 4
    assert nnmf.results_widget.import_as_seeds("W") == 4
    rows = manager.model.rows()
    assert len(rows) == n_rows + 8 and manager.table.rowCount() == n_rows + 8
    assert rows[n_rows]["source"] == "imported result" and rows[-1]["source"] == "W map only"
    np.testing.assert_allclose(manager.model.row_spectrum(rows[n_rows]), res.H[0])

    # export W + H + sidecar
    out = nnmf.results_widget.export(tmp_path / "beads_W.ome.tif")
    assert out["W"].exists() and out["H"].exists() and out["report"].exists()

    # preset round trip: same state after clearing and reloading
    nnmf.apply_settings({"max_iter": 321, "w_mode": "selective_score"})
    manager.add_gaussian(center=2950.0, fwhm=40.0, amplitude=0.5)
    state = manager.state()
    path = manager.save_preset(tmp_path / "beads.json")
    manager.roi_layer.data = []
    manager.model.dummies.clear()
    manager.refresh()
    nnmf.apply_settings({})
    assert manager.table.rowCount() == 0
    manager.load_preset(path)
    again = manager.state()
    assert again["rois"] == state["rois"]
    assert again["settings"]["analysis"] == state["settings"]["analysis"]
    assert again["rows"] == state["rows"] and again == state
    assert len(manager.roi_layer.data) == 5 and manager.table.rowCount() == len(rows) + 1
    assert not log["error"], log["error"]


def test_cancel_leaves_no_result(session, qtbot):
    viewer, manager, _ = session
    truth = viewer.layers["bead cube"].metadata["ground_truth"]
    _draw(manager, truth)
    nnmf = manager.open_analysis()
    nnmf.apply_settings({"method": "seeded_nnmf", "max_iter": 100000, "tol": 0.0})
    n_layers = len(viewer.layers)
    nnmf.start()
    qtbot.waitUntil(lambda: nnmf.status.text().startswith(("running", "1")), timeout=60000)
    nnmf.cancel()
    qtbot.waitUntil(lambda: not nnmf.running, timeout=60000)
    assert len(viewer.layers) == n_layers and nnmf.last_result is None
    assert nnmf.status.text() == "cancelled"
    assert nnmf.run_button.isEnabled()


def test_bad_input_notifications(session, qtbot, tmp_path):
    viewer, manager, log = session
    nnmf = manager.open_analysis()
    # no ROI drawn
    assert nnmf.start() is None
    assert "no ROI" in log["error"][-1]
    # ROI outside the image
    manager.roi_layer.add_rectangles([rectangle(500, 500, 510, 510)])
    assert nnmf.start() is None
    assert "outside the image" in log["error"][-1]
    manager.roi_layer.data = []
    # spectrum file with text / NaN
    bad = tmp_path / "bad.csv"
    bad.write_text("wavenumber,lipid\n2850,1.0\n2900,abc\n2950,0.2\n")
    assert manager.add_spectrum_file(bad) is None
    assert "non-numeric" in log["error"][-1]
    bad.write_text("wavenumber,lipid\n2850,1.0\n2900,nan\n2950,0.2\n")
    manager.add_spectrum_file(bad)
    assert "NaN" in log["error"][-1]
    assert manager.model.dummies == []
    # a good file outside the axis only warns
    good = tmp_path / "good.csv"
    good.write_text("wavenumber,lipid\n2850,1.0\n2900,0.5\n2950,0.2\n")
    assert manager.add_spectrum_file(good) == 1
    assert "outside" in log["warning"][-1]
    # k larger than the number of channels
    nnmf.apply_settings({"method": "pca", "k": 100})
    assert nnmf.start() is None
    assert "larger than the number of channels" in log["error"][-1]
    # a 2-D image given to a hyperspectral tool
    viewer.add_image(np.zeros((32, 32), np.float32), name="flat")
    manager.image_combo.addItem("flat")
    manager.image_combo.setCurrentText("flat")
    assert "2-D image" in log["error"][-1]
    assert np.array_equal(viewer.layers["flat"].data, np.zeros((32, 32)))


def test_seed_audit_and_fixed_h_nnls(session, qtbot):
    viewer, manager, log = session
    truth = viewer.layers["bead cube"].metadata["ground_truth"]
    _draw(manager, truth)
    manager.add_background_map("mean")  # a W-only row: no H seed -> residual fallback
    nnmf = manager.open_analysis()
    nnmf.apply_settings({"method": "nnls"})
    asked = []
    nnmf.confirm_missing = lambda names: asked.append(names) or False
    n_layers = len(viewer.layers)
    assert nnmf.start() is None and asked == [["background (mean)"]]
    assert len(viewer.layers) == n_layers and "seed audit" in nnmf.status.text()
    manager.resonance.add_row()  # a resonance row (band pixels seed H) -> component 5
    manager.model.resonances[0].position = 3015.0
    header = manager.resonance.table.horizontalHeaderItem(1).text()
    assert header == "position (cm⁻¹)"  # the band in the cube's units
    preview = nnmf.test_seeds()
    assert preview.fallback == ["background (mean)"]
    assert viewer.layers["seed pixels"].data.shape == (150, 2)
    manager.model.resonances.clear()
    manager.resonance.refresh()
    nnmf.confirm_missing = lambda names: True
    res = _run(nnmf, qtbot)
    assert res.params["method"] == "nnls" and res.n_iter == 0 and res.k == 5
    assert any("residual" in m for m in log["warning"])
    A = truth["abundances"]
    assert min(np.corrcoef(res.W[j].ravel(), A[j].ravel())[0, 1] for j in range(4)) > 0.9


def test_four_d_stack_reference_slice(make_napari_viewer, qtbot):
    from napari_unmix.core.synthetic import make_bead_cube
    from napari_unmix.widgets.roi_manager import RoiManagerWidget

    cube, truth = make_bead_cube(shape=(64, 64), n_channels=24)
    viewer = make_napari_viewer()
    stack = np.stack([cube, 1.5 * cube])
    layer = viewer.add_image(
        stack, name="stack", scale=(2.0, 1.0, 0.5, 0.5),
        metadata={"spectral_axis": truth["spectral_axis"], "spectral_units": "cm-1"},
    )  # fmt: skip
    manager = RoiManagerWidget(viewer)
    assert manager.image_layer is layer and manager.model.cube.shape == (24, 64, 64)
    np.testing.assert_allclose(manager.roi_layer.scale, (0.5, 0.5))
    _draw(manager, truth, half=1)
    spec0 = manager.model.row_spectrum(0)
    viewer.dims.set_current_step(0, 1)  # the ROIs now read slice 1
    np.testing.assert_allclose(manager.model.row_spectrum(0), 1.5 * spec0, rtol=1e-5)
    assert manager.roi_layer.edge_color[0][:3].tolist() == pytest.approx(
        [1.0, 0.25, 0.25], abs=0.01
    )
    nnmf = manager.open_analysis()
    nnmf.apply_settings({"slice_mode": "reference", "reference_slice": 0, "tol": 1e-3})
    res = _run(nnmf, qtbot)
    assert res.W.shape == (2, 4, 64, 64) and res.H.shape == (4, 24)
    w = viewer.layers[f"stack · NNMF · {res.names[0]}"]
    assert w.data.shape == (2, 64, 64)
    np.testing.assert_allclose(w.scale, (2.0, 0.5, 0.5))
    for j in range(4):  # slice 1 (NNLS with the reference H) shows the same structures
        assert np.corrcoef(res.W[0, j].ravel(), res.W[1, j].ravel())[0, 1] > 0.95


def test_plugin_menu_widgets_share_one_manager(make_napari_viewer, monkeypatch):
    from pathlib import Path

    import napari_unmix
    from napari_unmix.widgets.nnmf import NNMFWidget
    from napari_unmix.widgets.roi_manager import RoiManagerWidget, roi_manager_for

    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "bead_cube")
    _, nnmf = viewer.window.add_plugin_dock_widget("napari-unmix", "Unmix (NNMF / NNLS)")
    manager = roi_manager_for(viewer)
    assert isinstance(nnmf, NNMFWidget) and isinstance(manager, RoiManagerWidget)
    assert nnmf.manager is manager and manager.analysis is nnmf
    assert manager.model.cube.shape == (64, 128, 128)
    assert viewer.window.add_plugin_dock_widget("napari-unmix", "ROI manager")[1] is manager
    assert manager.open_analysis() is nnmf
    # "Suggest ROIs" asks napari for the suggester's dock by its manifest name
    import yaml

    from napari_unmix.widgets.roi_manager import SUGGESTER_NAME

    manifest = Path(napari_unmix.__file__).with_name("napari.yaml")
    names = [
        w["display_name"] for w in yaml.safe_load(manifest.read_text())["contributions"]["widgets"]
    ]
    assert SUGGESTER_NAME in names
    calls = []
    monkeypatch.setattr(viewer.window, "add_plugin_dock_widget", lambda *a: calls.append(a))
    manager.open_suggester()
    assert calls == [("napari-unmix", SUGGESTER_NAME)]


def test_saved_preset_reruns_from_a_script_like_the_dock(session, qtbot, tmp_path):
    from napari_unmix.api.nmf import seeded_nnmf_file
    from napari_unmix.io.omio_io import read_image, write_image

    viewer, manager, log = session
    layer = viewer.layers["bead cube"]
    _draw(manager, layer.metadata["ground_truth"])
    nnmf = manager.open_analysis()
    nnmf.apply_settings({"method": "seeded_nnmf", "tol": 1e-4, "max_iter": 60})
    _run(nnmf, qtbot)
    preset = manager.save_preset(tmp_path / "beads.json")
    meta = layer.metadata
    extra = {"spectral_axis": np.asarray(meta["spectral_axis"]).tolist(), "spectral_units": "cm-1"}
    src = write_image(tmp_path / "beads.ome.tif", np.asarray(layer.data)[None, None], extra=extra)
    paths = seeded_nnmf_file(src, tmp_path / "W.ome.tif", preset=preset, tol=1e-4, max_iter=60)
    W = read_image(paths["W"])[0][0, 0]
    np.testing.assert_allclose(W, nnmf.last_result.W, rtol=1e-4, atol=1e-4)
    assert not log["error"], log["error"]


def test_five_d_layer_is_not_offered_and_a_later_cube_is_used(make_napari_viewer, qtbot):
    from contracts.docks import ErrorLog
    from napari_unmix.core.synthetic import make_bead_cube
    from napari_unmix.widgets.roi_manager import RoiManagerWidget

    viewer = make_napari_viewer()
    with ErrorLog() as log:
        viewer.add_image(np.zeros((2, 2, 3, 8, 8), np.float32), name="five-d")
        manager = RoiManagerWidget(viewer)
        viewer.add_image(np.zeros((8, 8), np.float32), name="plane")
        cube = viewer.add_image(make_bead_cube(shape=(32, 32), n_channels=12)[0], name="beads")
    assert not log.errors
    assert [manager.image_combo.itemText(i) for i in range(manager.image_combo.count())] == [
        "beads"
    ]
    assert manager.image_layer is cube and manager.model is not None


def test_table_rebuild_leaves_no_stale_cell_widgets(qtbot):
    from napari_unmix.widgets._roi_table import RoiTable

    table = RoiTable(lambda *a: None, lambda *a: None)
    qtbot.addWidget(table)
    row = {"name": "a", "component": 0, "color": "#ff0000", "show": True, "background": False,
           "subtract": False, "scale": 1.0, "offset": 0.0, "source": "roi", "kind": "drawn",
           "index": 0}  # fmt: skip
    table.show_rows([row, {**row, "name": "b", "index": 1}])
    table.show_rows([{**row, "name": "c"}])
    assert table.rowCount() == 1 and table.item(0, 0).text() == "c"
    assert table.cellWidget(0, 0) is None and table.cellWidget(1, 9) is None


def test_hovered_pixel_spectrum_is_plotted(make_napari_viewer, qtbot):
    from types import SimpleNamespace

    from napari_unmix.core.synthetic import make_bead_cube
    from napari_unmix.widgets.roi_manager import RoiManagerWidget

    viewer = make_napari_viewer()
    cube = make_bead_cube(shape=(32, 32), n_channels=12)[0]
    viewer.add_image(cube, name="beads", scale=(1.0, 2.0, 2.0))
    manager = RoiManagerWidget(viewer)
    n = manager.plot.line_count()
    manager.probe._moved(viewer, SimpleNamespace(position=(0.0, 10.0, 20.0)))  # world units
    assert manager.probe.pixel == (5, 10)
    assert manager.plot.line_count() == n + 1
    np.testing.assert_allclose(manager.pixel[1], cube[:, 5, 10])
    manager.probe._last = 0.0
    manager.probe._moved(viewer, SimpleNamespace(position=(0.0, -50.0, 20.0)))  # outside
    assert manager.pixel is None and manager.plot.line_count() == n
