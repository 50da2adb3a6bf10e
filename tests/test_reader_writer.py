"""Reader and writer hooks without a viewer: layer tuples, round trips, refusals."""

import csv
import json

import numpy as np
import pytest

from napari_unmix._reader import get_reader, read_layers
from napari_unmix._writer import write_image_layer, write_shapes_layer
from napari_unmix.io.omio_io import read_image, write_image


def test_reader_declines_unknown_paths(tmp_path):
    assert get_reader(str(tmp_path / "x.png")) is None
    assert get_reader(str(tmp_path / "missing.tif")) is None
    assert get_reader([]) is None


def test_reader_splits_few_channels(tmp_path):
    data = np.random.default_rng(1).random((2, 3, 2, 8, 9), dtype=np.float32)
    p = write_image(
        tmp_path / "s.ome.tif", data, physical_size=(2.0, 0.5, 0.25), channel_names=["a", "b"]
    )
    reader = get_reader(str(p))
    assert reader is read_layers
    [(layer_data, kwargs, kind)] = reader(str(p))
    assert kind == "image" and kwargs["channel_axis"] == 2
    np.testing.assert_array_equal(layer_data, data)
    assert kwargs["scale"] == [1.0, 2.0, 0.5, 0.25]
    assert kwargs["name"] == ["s.ome.tif [a]", "s.ome.tif [b]"]
    assert kwargs["metadata"]["source_path"] == str(p)


def test_reader_keeps_hyperspectral_cube_together(tmp_path):
    cube = np.random.default_rng(2).random((1, 1, 12, 8, 9), dtype=np.float32)
    axis = np.linspace(500, 600, 12)
    p = write_image(
        tmp_path / "h.ome.tif", cube, extra={"spectral_axis": axis, "spectral_units": "nm"}
    )
    [(layer_data, kwargs, _)] = read_layers(str(p))
    assert layer_data.shape == (12, 8, 9)
    assert kwargs["metadata"]["axes"] == "CYX"
    np.testing.assert_allclose(kwargs["metadata"]["spectral_axis"], axis)
    assert kwargs["metadata"]["spectral_units"] == "nm"


def test_writer_round_trip_with_sidecar(tmp_path):
    data = np.random.default_rng(3).random((3, 8, 9), dtype=np.float32)
    out = tmp_path / "layer.ome.tif"
    attrs = {"name": "unmixed", "scale": (1.5, 0.2, 0.1), "metadata": {"axes": "ZYX", "alpha": 0.3}}
    assert write_image_layer(str(out), data, attrs) == [str(out)]
    back, meta = read_image(out)
    assert back.shape == (1, 3, 1, 8, 9)
    np.testing.assert_array_equal(back[0, :, 0], data)
    assert meta["physical_size"] == pytest.approx((1.5, 0.2, 0.1))
    report = json.loads((tmp_path / "layer.ome.tif.json").read_text())
    assert report["parameters"]["layer_metadata"]["alpha"] == 0.3
    assert report["inputs"]["layer"]["name"] == "unmixed"
    assert report["versions"]["napari-unmix"]
    with pytest.raises(FileExistsError):
        write_image_layer(str(out), data, attrs)


def test_shapes_writer(tmp_path):
    import pandas as pd

    data = [
        np.array([[0, 0], [0, 4], [4, 4], [4, 0]], float),
        np.array([[1, 1], [2, 2], [1, 3]], float),
    ]
    attrs = {
        "shape_type": ["rectangle", "polygon"],
        "features": pd.DataFrame({"component": ["a", "b"]}),
    }
    out = tmp_path / "rois.csv"
    write_shapes_layer(str(out), data, attrs)
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 7
    assert rows[0]["shape_type"] == "rectangle" and rows[0]["component"] == "a"
    assert rows[-1]["index"] == "1" and float(rows[-1]["axis-1"]) == 3.0
