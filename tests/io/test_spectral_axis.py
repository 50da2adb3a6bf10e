"""The spectral axis from each source, through read_image, read_lazy, the reader and the CLI."""

import json

import numpy as np
import pytest
import tifffile

from napari_unmix import cli
from napari_unmix._reader import get_reader
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.spectral_axis import (
    NO_AXIS,
    parse_spectral_axis,
    read_axis_file,
    resolve_spectral_axis,
)
from napari_unmix.io.zarr_io import read_lazy

C = 12
AXIS = np.linspace(600.0, 1800.0, C)


@pytest.fixture
def plain_tiff(tmp_path):
    """A plain TIFF cube (C, Y, X) without any axis metadata."""
    rng = np.random.default_rng(0)
    path = tmp_path / "cube.tif"
    tifffile.imwrite(path, (rng.random((C, 6, 7)) * 100).astype(np.float32))
    return path


def _both(path, **kw):
    """(axis, units, source) from read_image and read_lazy; they must agree."""
    _, meta = read_image(path, **kw)
    _, lazy = read_lazy(path, **kw)
    for key in ("spectral_axis", "spectral_units", "spectral_axis_source"):
        assert meta.get(key) == lazy.get(key), key
    return meta.get("spectral_axis"), meta.get("spectral_units"), meta["spectral_axis_source"]


def test_no_source_is_channel_index_and_says_so(plain_tiff):
    axis, units, source = _both(plain_tiff)
    assert axis is None and units is None and source == NO_AXIS


def test_sibling_wavelength_json_in_the_reference_format(plain_tiff):
    (plain_tiff.parent / "wavelength.json").write_text(
        json.dumps({"spectral_unit": "cm^-1", "custom_values": AXIS.tolist()})
    )
    axis, units, source = _both(plain_tiff)
    np.testing.assert_allclose(axis, AXIS)
    assert units == "cm-1" and source == "sibling file 'wavelength.json'"
    # the reader opens it as one hyperspectral layer carrying the axis and its source
    ((data, kwargs, _kind),) = get_reader(str(plain_tiff))(str(plain_tiff))
    md = kwargs["metadata"]
    assert data.shape == (C, 6, 7) and md["axes"] == "CYX"
    assert md["spectral_axis"] == pytest.approx(AXIS.tolist())
    assert md["spectral_axis_source"] == source


def test_per_image_sibling_wins_and_must_fit(plain_tiff):
    (plain_tiff.parent / "wavelength.json").write_text(json.dumps(list(range(C))))
    one_col = plain_tiff.parent / "cube_spectral_axis.csv"
    one_col.write_text("wavelength_nm\n" + "\n".join(str(v) for v in AXIS[::-1]))
    axis, units, source = _both(plain_tiff)
    np.testing.assert_allclose(axis, AXIS[::-1])  # decreasing is fine
    assert units == "nm" and "cube_spectral_axis.csv" in source
    one_col.write_text("\n".join(str(v) for v in AXIS[:5]))  # 5 values for 12 channels
    with pytest.raises(ValueError, match="has 5 values but the image has 12 channels"):
        read_image(plain_tiff)


def test_folder_wide_file_for_other_images_is_skipped(tmp_path):
    (tmp_path / "wavelength.json").write_text(json.dumps(AXIS.tolist()))
    two = write_image(tmp_path / "two.ome.tif", np.ones((1, 1, 2, 4, 4), np.float32))
    _, meta = read_image(two)
    assert "spectral_axis" not in meta and meta["spectral_axis_source"] == NO_AXIS


def test_ome_metadata_and_explicit_argument_wins(tmp_path):
    cube = np.ones((1, 1, C, 4, 4), np.float32)
    p = write_image(tmp_path / "a.ome.tif", cube, extra={"spectral_axis": AXIS.tolist()})
    axis, _, source = _both(p)
    assert source == "OME metadata" and axis == pytest.approx(AXIS.tolist())
    axis, units, source = _both(p, spectral_axis="400:700:12", spectral_units="nm")
    np.testing.assert_allclose(axis, np.linspace(400, 700, 12))
    assert units == "nm" and source == "argument '400:700:12'"


def test_tiff_tags_emission_wavelengths_and_imagej_labels(tmp_path):
    data = np.zeros((C, 5, 5), np.uint16)
    waves = np.linspace(500, 720, C).round().tolist()
    ome = tmp_path / "lambda.ome.tif"
    tifffile.imwrite(ome, data, metadata={"axes": "CYX", "Channel": {"EmissionWavelength": waves}})
    axis, units, source = _both(ome)
    assert axis == waves and units == "nm" and source == "OME channel emission wavelengths"
    ij = tmp_path / "labels.tif"
    labels = [f"{v:.4f} cm-1" for v in AXIS]
    tifffile.imwrite(ij, data, imagej=True, metadata={"axes": "CYX", "Labels": labels})
    axis, units, source = _both(ij)
    assert axis == pytest.approx(AXIS.tolist(), abs=1e-4) and units == "cm-1"
    assert source == "ImageJ channel labels"
    # three fluorescence channels with emission wavelengths stay a fluorescence image
    few = tmp_path / "confocal.ome.tif"
    tifffile.imwrite(
        few, data[:3], metadata={"axes": "CYX", "Channel": {"EmissionWavelength": waves[:3]}}
    )
    assert _both(few)[2] == NO_AXIS


def test_explicit_files_of_every_kind(tmp_path):
    from spectral.io import envi

    csv = tmp_path / "axis.txt"
    csv.write_text("\n".join(f"{v}" for v in AXIS))
    hdr = tmp_path / "ref.hdr"
    envi.save_image(
        str(hdr), np.zeros((2, 2, C), np.float32),
        metadata={"wavelength": AXIS.tolist(), "wavelength units": "Nanometers"},
    )  # fmt: skip
    js = tmp_path / "w.json"
    js.write_text(json.dumps({"spectral_unit": "nm", "custom_values": AXIS.tolist()}))
    for f, units in ((csv, None), (hdr, "nm"), (js, "nm")):
        found = parse_spectral_axis(str(f), n_channels=C)
        np.testing.assert_allclose(found.values, AXIS)
        assert found.units == units and f.name in found.source


def test_binary_file_is_refused_as_an_axis(tmp_path):
    p = tmp_path / "axis.csv"
    tifffile.imwrite(p, np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="binary file"):
        read_axis_file(p)


def test_resolve_keeps_file_units_unless_given():
    meta = {"spectral_axis": [1.0, 2.0], "spectral_units": "nm"}
    assert resolve_spectral_axis(None, meta, 2).units == "nm"
    assert resolve_spectral_axis(None, meta, 2, spectral_units="1/cm").units == "cm-1"
    with pytest.raises(ValueError, match="start:stop:n"):
        parse_spectral_axis("1:2")


def test_cli_spectral_axis_reaches_the_report_and_the_spectra_csv(plain_tiff, tmp_path):
    from napari_unmix.core.synthetic import make_bead_cube
    from napari_unmix.io.spectra import read_spectra_csv, write_spectra_csv

    cube, truth = make_bead_cube(shape=(16, 16), n_channels=24)
    src = tmp_path / "beads.tif"
    tifffile.imwrite(src, cube.astype(np.float32))  # no axis in the file
    lib = write_spectra_csv(
        tmp_path / "lib.csv", truth["spectral_axis"], truth["spectra"], truth["names"]
    )
    lo, hi = truth["spectral_axis"][0], truth["spectral_axis"][-1]
    out = tmp_path / "maps.ome.tif"
    argv = ["nnls", str(src), str(out), str(lib), "--spectral-axis", f"{lo}:{hi}:24"]
    assert cli.main([*argv, "--spectral-units", "cm-1", "--quiet"]) == 0
    rep = json.loads((tmp_path / "maps.ome.tif.json").read_text())
    assert rep["spectral_axis_source"] == f"argument '{lo}:{hi}:24'"
    header = (tmp_path / "maps_spectra.csv").read_text().splitlines()[0]
    assert header.startswith("wavenumber_cm-1,")  # the axis column, not "channel"
    axis, H, _ = read_spectra_csv(tmp_path / "maps_spectra.csv")
    np.testing.assert_allclose(axis, truth["spectral_axis"])
    np.testing.assert_allclose(H, truth["spectra"], rtol=1e-6, atol=1e-9)
