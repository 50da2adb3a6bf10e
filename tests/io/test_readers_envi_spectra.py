"""ENVI cubes and spectra CSVs: readers, content checks, the napari reader hooks."""

import numpy as np
import pytest
import tifffile
from spectral.io import envi

from napari_unmix._reader import get_reader, get_spectra_reader
from napari_unmix.io.envi import read_envi
from napari_unmix.io.omio_io import read_image
from napari_unmix.io.spectra import read_spectra_csv, write_spectra_csv

BANDS = [450.0, 500.0, 550.0, 600.0, 650.0, 700.0, 750.0, 800.0, 850.0, 900.0]


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_envi_cube_is_read_lazily_with_its_axis(tmp_path, interleave):
    rng = np.random.default_rng(1)
    cube = rng.random((6, 9, len(BANDS))).astype(np.float32)  # rows, samples, bands
    hdr = tmp_path / "scan.hdr"
    envi.save_image(
        str(hdr), cube, interleave=interleave,
        metadata={"wavelength": BANDS, "wavelength units": "Nanometers",
                  "band names": [f"b{i}" for i in range(len(BANDS))]},
    )  # fmt: skip
    data, meta = read_envi(hdr)
    assert type(data).__module__.startswith("dask") and data.shape == (1, 1, 10, 6, 9)
    assert data.chunksize == (1, 1, 1, 6, 9)  # one band per chunk
    np.testing.assert_array_equal(data.compute()[0, 0], cube.transpose(2, 0, 1))
    assert meta["spectral_axis"] == BANDS and meta["spectral_units"] == "nm"
    assert meta["spectral_axis_source"] == "ENVI header"
    assert meta["channel_names"][3] == "b3"
    full, _meta2 = read_image(hdr)  # the same through read_image (in memory)
    np.testing.assert_array_equal(full, data.compute())
    # napari: one lazy hyperspectral layer
    reader = get_reader(str(hdr))
    ((layer_data, kwargs, kind),) = reader(str(hdr))
    assert kind == "image" and layer_data.shape == (10, 6, 9)
    assert type(layer_data).__module__.startswith("dask")
    assert kwargs["metadata"]["spectral_axis"] == BANDS


def test_reader_declines_non_envi_hdr(tmp_path):
    analyze = tmp_path / "brain.hdr"
    analyze.write_bytes(b"\x5c\x01\x00\x00" + b"\x00" * 344)  # an Analyze 7.5 header
    assert get_reader(str(analyze)) is None


def test_envi_without_data_file_is_one_clear_error(tmp_path):
    hdr = tmp_path / "lost.hdr"
    envi.save_image(str(hdr), np.zeros((2, 2, 3), np.float32))
    for f in tmp_path.iterdir():
        if f.suffix != ".hdr":
            f.unlink()
    with pytest.raises(ValueError, match="cannot read 'lost.hdr' as an ENVI cube"):
        read_envi(hdr)


def test_spectra_csv_refused_by_content(tmp_path):
    tif = tmp_path / "lib_spectra.csv"
    tifffile.imwrite(tif, np.arange(64, dtype=np.uint8).reshape(8, 8))
    with pytest.raises(ValueError) as err:
        read_spectra_csv(tif)
    msg = str(err.value)
    assert "is a TIFF image, not a spectra CSV" in msg and msg.isprintable()
    unsorted = tmp_path / "u.csv"
    unsorted.write_text("nm,a\n500,1\n520,2\n510,3\n")
    with pytest.raises(ValueError, match="not strictly increasing or decreasing"):
        read_spectra_csv(unsorted)


def test_spectra_csv_whose_axis_misses_the_image_is_refused(tmp_path):
    from napari_unmix.api.nmf import nnls_unmix_file
    from napari_unmix.io.omio_io import write_image

    cube = np.ones((1, 1, 10, 4, 4), np.float32)
    src = write_image(tmp_path / "c.ome.tif", cube, extra={"spectral_axis": BANDS})
    lib = write_spectra_csv(tmp_path / "lib.csv", np.linspace(2800, 3000, 10), np.ones((1, 10)))
    with pytest.raises(ValueError, match="covers 2800..3000 but the image's spectral axis"):
        nnls_unmix_file(src, tmp_path / "o.ome.tif", lib)
    assert not (tmp_path / "o.ome.tif").exists()


def test_spectra_reader_is_narrow_and_checks_content(tmp_path):
    axis = np.array(BANDS)
    spectra = np.stack([np.linspace(0, 1, 10), np.linspace(1, 0, 10)])
    lib = write_spectra_csv(
        tmp_path / "beads_spectra.csv", axis, spectra, ["up", "down"], axis_name="wavelength_nm"
    )
    ((shapes, kwargs, kind),) = get_spectra_reader(str(lib))(str(lib))
    assert kind == "shapes" and kwargs["shape_type"] == "path" and len(shapes) == 2
    md = kwargs["metadata"]
    assert md["kind"] == "spectra" and md["spectra_names"] == ["up", "down"]
    np.testing.assert_allclose(md["spectra"], spectra)
    assert md["spectral_axis"] == BANDS and md["spectral_units"] == "nm"
    np.testing.assert_allclose(shapes[0][:, 1], axis)  # x is the axis
    # napari keeps every other CSV: other names, and *_spectra.csv that are not spectra
    other = write_spectra_csv(tmp_path / "points.csv", axis, spectra)
    assert get_spectra_reader(str(other)) is None
    pts = tmp_path / "cells_spectra.csv"
    pts.write_text("index,axis-0,axis-1\n0,1.5,2.5\n1,3.0,1.0\n")
    assert get_spectra_reader(str(pts)) is None
