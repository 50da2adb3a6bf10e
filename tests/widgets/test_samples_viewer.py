"""Sample data, reader and writer through a real napari viewer (under Xvfb)."""

import numpy as np
import pytest

SAMPLES = ["bleedthrough", "picasso", "bead_cube", "ste", "two_region"]


@pytest.mark.parametrize("key", SAMPLES)
def test_open_every_sample(make_napari_viewer, key):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", key)
    assert len(viewer.layers) >= 1
    for layer in viewer.layers:
        assert "ground_truth" in layer.metadata
        assert np.isfinite(np.asarray(layer.data[(0,) * (layer.ndim - 2)])).all()


def test_open_file_and_save_layer(make_napari_viewer, tmp_path):
    from napari_unmix.io.omio_io import read_image, write_image

    data = np.random.default_rng(0).random((1, 2, 2, 16, 16), dtype=np.float32)
    p = write_image(tmp_path / "cells.ome.tif", data, physical_size=(2.0, 0.5, 0.5))
    viewer = make_napari_viewer()
    layers = viewer.open(str(p), plugin="napari-unmix")
    assert [layer.name for layer in layers] == ["cells.ome.tif [C0]", "cells.ome.tif [C1]"]
    np.testing.assert_allclose(layers[0].scale, [1.0, 2.0, 0.5, 0.5])
    out = tmp_path / "c1.ome.tif"
    written = layers[1].save(str(out), plugin="napari-unmix")
    assert written == [str(out)]
    back, meta = read_image(out)
    np.testing.assert_array_equal(back[:, :, 0], data[:, :, 1])
    assert meta["physical_size"] == pytest.approx((2.0, 0.5, 0.5))
    assert (tmp_path / "c1.ome.tif.json").exists()
