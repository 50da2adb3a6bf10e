"""The "Hyperspectral maps" dock widget on the two-region sample, in a real viewer."""

import numpy as np
import pytest
from napari.layers import Image, Labels

from napari_unmix.widgets import hsmap as widget_module
from napari_unmix.widgets.hsmap import HyperspectralMapsWidget


@pytest.fixture
def dock(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "two_region")
    return viewer, HyperspectralMapsWidget(viewer)


def _run(qtbot, worker):
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=60000):
        pass


def test_cluster_map_with_painted_truth(qtbot, dock):
    viewer, w = dock
    cube = viewer.layers["two-region cube"]
    truth = viewer.layers["two-region truth"]
    before = np.array(cube.data, copy=True)
    w.cube.value = cube
    w.truth.value = truth
    w.n_clusters.value = 2
    _run(qtbot, w.run_cluster())
    labels = viewer.layers[-1]
    assert isinstance(labels, Labels) and labels.name == "two-region cube clusters (k=2)"
    assert labels.metadata["report"]["metrics"]["ari"] == pytest.approx(1.0)
    assert labels.metadata["report"]["metrics"]["silhouette"] >= 0.6
    table = {
        w.table.item(i, 0).text(): w.table.item(i, 1).text() for i in range(w.table.rowCount())
    }
    assert table["adjusted Rand index"] == "1.000"
    assert len(w.figure.axes[0].lines) == 2  # one mean spectrum per cluster
    np.testing.assert_array_equal(cube.data, before)  # input untouched


def test_intensity_and_ratio_layers(qtbot, dock):
    viewer, w = dock
    w.cube.value = viewer.layers["two-region cube"]
    w.target.value = 1450
    _run(qtbot, w.run_intensity())
    img = viewer.layers[-1]
    assert isinstance(img, Image) and img.data.shape == (30, 30)
    assert img.data[:, :15].mean() > 0.8 > 0.1 > img.data[:, 15:].mean()
    w.numerator.value, w.denominator.value = 1742, 1655
    _run(qtbot, w.run_ratio())
    ratio = viewer.layers[-1]
    assert ratio.data[:, 15:].min() > 0.8 and ratio.data[:, :15].max() < 0.2
    assert ratio.metadata["report"]["tool"] == "ratio_map"


def test_bad_input_shows_messages(qtbot, dock, monkeypatch):
    viewer, w = dock
    errors = []
    monkeypatch.setattr(widget_module, "show_error", errors.append)
    w.cube.value = viewer.layers["two-region cube"]
    w.target.value = 3000  # outside 600..1800
    _run(qtbot, w.run_intensity())
    assert "outside the spectral axis" in errors[-1]
    w.axis_text.value = "600"
    assert w.run_ratio() is None
    assert "two numbers" in errors[-1]
    w.axis_text.value = ""
    w.n_clusters.value = 50
    n_layers = len(viewer.layers)
    w.cube.value = viewer.layers["two-region cube"]
    viewer.layers["two-region cube"].data = viewer.layers["two-region cube"].data[:, :5, :5]
    _run(qtbot, w.run_cluster())
    assert "usable pixels" in errors[-1]
    assert len(viewer.layers) == n_layers


def test_manifest_widget_opens(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock_widget, widget = viewer.window.add_plugin_dock_widget(
        "napari-unmix", "Hyperspectral maps"
    )
    assert isinstance(widget, HyperspectralMapsWidget)


def test_dask_cube_gives_lazy_maps(qtbot, make_napari_viewer):
    import dask.array as da

    from napari_unmix.core.synthetic import make_two_region_cube

    cube, truth = make_two_region_cube()
    viewer = make_napari_viewer()
    viewer.add_image(
        da.from_array(cube, chunks=(200, 15, 15)),
        name="lazy cube",
        metadata={"spectral_axis": truth["spectral_axis"], "spectral_units": "cm-1"},
    )
    w = HyperspectralMapsWidget(viewer)
    w.cube.value = viewer.layers["lazy cube"]
    w.numerator.value, w.denominator.value = 1742, 1655
    _run(qtbot, w.run_ratio())
    ratio = viewer.layers[-1]
    assert isinstance(ratio.data, da.Array)
    assert float(ratio.data[0, 20].compute()) > 0.8
