"""The hyperspectral-maps dock on every cube sample: the #16 contract (two runs, the window
fits 1280x800, one panel, results replace results), defaults from the layer's spectral axis,
bad bands refused before computing."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.docks import check_dock_runs, check_fits_screen, run_dock
from napari_unmix.widgets.hsmap import HyperspectralMapsWidget, band_defaults

CUBES = {"two_region": (600, 1800), "bead_cube": (2800, 3100), "raman_axis": None}


def _dock(viewer):
    dock = HyperspectralMapsWidget(viewer)
    viewer.window.add_dock_widget(dock, name="Hyperspectral maps")
    return dock


@pytest.mark.parametrize("sample", list(CUBES))
def test_dock_contract_on_every_cube_sample(make_napari_viewer, qtbot, sample):
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-unmix", sample)
    dock = _dock(viewer)
    layer = dock.cube.value
    assert layer is not None and layer.data.ndim >= 3
    lo, hi = dock.target.native.minimum(), dock.target.native.maximum()
    if CUBES[sample] is not None:
        assert (lo, hi) == pytest.approx(CUBES[sample], abs=30)
        assert "cm⁻¹" in dock.target.label and "cm⁻¹" in dock.window.label
    assert lo <= dock.target.value <= hi
    results = check_dock_runs(viewer, dock, qtbot)  # cluster map, twice
    assert results[-1].layers[0].kind == "labels"
    dock.kind.value = "intensity"
    run_dock(dock, qtbot)  # the data-derived band works on every sample
    dock.kind.value = "ratio"
    run_dock(dock, qtbot)
    assert len(dock.results.runs()) == 4
    check_fits_screen(viewer)


def test_cluster_panel_metrics_and_colours(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "two_region")
    dock = _dock(viewer)
    cube = viewer.layers["two-region cube"]
    before = np.array(cube.data, copy=True)
    dock.cube.value = cube
    dock.truth.value = viewer.layers["two-region truth"]
    result = run_dock(dock, qtbot)
    labels = viewer.layers["two-region cube · hsmap · clusters (k=2)"]
    assert labels.metadata["report"]["metrics"]["ari"] == pytest.approx(1.0)
    assert not cube.visible
    panel = dock.results.current
    rows = {panel.table.item(i, 0).text(): panel.table.item(i, 1).text()
            for i in range(panel.table.rowCount())}  # fmt: skip
    assert rows["adjusted Rand index"] == "1.000"
    assert panel.table.minimumHeight() >= 6 * panel.table.verticalHeader().defaultSectionSize()
    ax = panel.figure.axes[0]
    assert len(ax.lines) == 2 and "cm⁻¹" in ax.get_xlabel()
    assert ax.get_facecolor() != (1.0, 1.0, 1.0, 1.0)  # themed, not white
    colours = result.layers[0].extra["colors"]
    np.testing.assert_allclose(labels.colormap.map(np.array([1]))[0], colours[1], atol=1e-6)
    np.testing.assert_array_equal(cube.data, before)


def test_defaults_follow_the_axis_and_are_rederived(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "two_region")
    dock = _dock(viewer)
    assert 600 <= dock.target.value <= 1800
    viewer.open_sample("napari-unmix", "bead_cube")
    assert dock.cube.value.name == "two-region cube"  # the choice is kept
    dock.cube.value = viewer.layers[-1]  # another cube: the bands are derived again
    assert 2800 <= dock.target.value <= 3100 and 2800 <= dock.denominator.value <= 3100
    assert dock.numerator.value != dock.denominator.value
    dock.cube.value = viewer.layers["two-region cube"]
    assert 600 <= dock.target.value <= 1800


def test_band_defaults_without_spectrum():
    d = band_defaults(np.linspace(2800, 3100, 61), None)
    assert d["target"] == 2950 and d["window"] == pytest.approx(10)


def test_bad_band_is_refused_before_running(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "two_region")
    dock = _dock(viewer)
    dock.kind.value = "intensity"
    dock.target.native.setRange(-1e9, 1e9)
    dock.target.value = 3000
    with qtbot.waitSignal(dock.failed, timeout=5000):
        assert dock.start() is None
    assert "outside the cube's spectral axis 600–1800 cm⁻¹" in dock.status.text()
    dock.axis_text.value = "600"
    with qtbot.waitSignal(dock.failed, timeout=5000):
        assert dock.run_ratio() is None
    assert "two numbers" in dock.status.text()


def test_failed_run_goes_to_the_status_line(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "two_region")
    dock = _dock(viewer)
    dock.n_clusters.value = 50
    layer = viewer.layers["two-region cube"]
    layer.data = layer.data[:, :5, :5]
    with qtbot.waitSignal(dock.failed, timeout=30000):
        dock.run_cluster()
    qtbot.waitUntil(lambda: not dock.running, timeout=10000)
    assert "usable pixels" in dock.status.text() and dock.run_button.isEnabled()
    assert not [ly for ly in viewer.layers if "· hsmap ·" in ly.name]


def test_no_cube_is_a_status_line(make_napari_viewer, qtbot):
    dock = _dock(make_napari_viewer())
    assert "no cube" in dock.axis_info.value
    with qtbot.waitSignal(dock.failed, timeout=5000):
        assert dock.start() is None
    assert "open or select" in dock.status.text()
