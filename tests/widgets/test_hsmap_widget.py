"""The "Hyperspectral maps" dock widget on the two-region sample, in a real viewer."""

from napari.layers import Image

from napari_unmix.widgets.hsmap import HyperspectralMapsWidget


def _run(qtbot, dock, worker):
    assert worker is not None, dock.status.text()
    # wait on the dock, not on worker.finished: a quick run can finish before a signal wait connects
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)


def test_intensity_and_ratio_layers(qtbot, make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "two_region")
    w = HyperspectralMapsWidget(viewer)
    w.cube.value = viewer.layers["two-region cube"]
    w.target.value = 1450
    _run(qtbot, w, w.run_intensity())
    img = viewer.layers["two-region cube · hsmap · I(1450)"]
    assert isinstance(img, Image) and img.data.shape == (30, 30)
    assert img.data[:, :15].mean() > 0.8 > 0.1 > img.data[:, 15:].mean()
    w.numerator.value, w.denominator.value = 1742, 1655
    _run(qtbot, w, w.run_ratio())
    ratio = viewer.layers["two-region cube · hsmap · 1742/1655"]
    assert "two-region cube · hsmap · I(1450)" not in viewer.layers  # replaced
    assert ratio.data[:, 15:].min() > 0.8 and ratio.data[:, :15].max() < 0.2
    assert ratio.metadata["report"]["tool"] == "ratio_map"


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
    assert w.cube.value is viewer.layers["lazy cube"]
    w.numerator.value, w.denominator.value = 1742, 1655
    _run(qtbot, w, w.run_ratio())
    ratio = viewer.layers[-1]
    assert isinstance(ratio.data, da.Array)
    assert float(ratio.data[0, 20].compute()) > 0.8
