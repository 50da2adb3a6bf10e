"""Files in a real viewer: the real samples, multiscale OME-Zarr round trip (lazy)."""

import numpy as np

from napari_unmix.io.zarr_io import read_zarr_levels, write_zarr


def test_real_samples_in_the_sample_menu(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso_brain")
    assert [ly.name for ly in viewer.layers] == [
        "picasso_gfap_draq5.ome.tif [GFAP]",
        "picasso_gfap_draq5.ome.tif [DRAQ5]",
    ]
    gfap, draq = (np.asarray(ly.data).squeeze() for ly in viewer.layers)
    assert gfap.shape == (256, 256) and gfap.dtype == np.uint8
    assert gfap.std() > 5 and draq.std() > 5  # real structure, not a constant
    assert abs(np.corrcoef(gfap.ravel(), draq.ravel())[0, 1]) < 0.5  # two different stains
    viewer.layers.clear()
    viewer.open_sample("napari-unmix", "raman_axis")
    (cube,) = viewer.layers
    assert cube.data.shape == (60, 32, 32)
    assert cube.metadata["spectral_axis_source"] == "sibling file 'wavelength.json'"
    assert cube.metadata["spectral_units"] == "cm-1"
    assert cube.metadata["spectral_axis"][0] == 600.0


def test_multiscale_ome_zarr_round_trip_is_lazy(make_napari_viewer, tmp_path):
    import dask.array as da

    rng = np.random.default_rng(0)
    data = da.from_array(rng.random((1, 1, 2, 96, 80)).astype(np.float32), chunks=(1, 1, 1, 96, 80))
    store = write_zarr(tmp_path / "big.ome.zarr", data, channel_names=["a", "b"], levels=3)
    viewer = make_napari_viewer()
    viewer.open(str(store), plugin="napari-unmix")
    assert len(viewer.layers) == 2  # one layer per channel, each multiscale
    layer = viewer.layers[0]
    assert layer.multiscale and len(layer.data) == 3
    assert [lv.shape[-2:] for lv in layer.data] == [(96, 80), (48, 40), (24, 20)]
    assert all(isinstance(lv, da.Array) for lv in layer.data)  # nothing loaded up front
    np.testing.assert_allclose(np.asarray(layer.data[0]).squeeze(), data[0, 0, 0].compute())
    np.testing.assert_allclose(
        np.asarray(layer.data[1]).squeeze(),
        data[0, 0, 0].compute().reshape(48, 2, 40, 2).mean(axis=(1, 3)),
        rtol=1e-6,
    )

    # the napari writer: a lazy layer saved as .ome.zarr, reopened, same pixels + report
    out = tmp_path / "saved.ome.zarr"
    viewer.layers[1].save(str(out), plugin="napari-unmix")
    levels, meta = read_zarr_levels(out)
    np.testing.assert_allclose(levels[0].compute().squeeze(), data[0, 0, 1].compute())
    assert meta["report"]["tool"] == "write_zarr_layer"
    assert (tmp_path / "saved.ome.zarr.json").exists()
