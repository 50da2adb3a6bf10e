import numpy as np
import pytest

from napari_unmix.io.sidecar import read_sidecar, sidecar_path, write_sidecar
from napari_unmix.io.spectra import read_spectra_csv, write_spectra_csv
from napari_unmix.io.spectral_axis import read_axis_file


def test_sidecar_round_trip(tmp_path):
    out = tmp_path / "r.ome.tif"
    p = write_sidecar(out, {"alpha": np.float64(0.3), "per_t": np.array([0.1, np.nan])})
    assert p == sidecar_path(out) == tmp_path / "r.ome.tif.json"
    assert read_sidecar(out) == {"alpha": 0.3, "per_t": [0.1, None]}
    with pytest.raises(FileExistsError):
        write_sidecar(out, {})
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.ome.tif.json"]


def test_read_sidecar_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no report"):
        read_sidecar(tmp_path / "x.tif")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_sidecar(bad)


def test_spectra_round_trip(tmp_path):
    axis = np.linspace(2800, 3000, 7)
    spectra = np.random.default_rng(0).random((3, 7))
    p = write_spectra_csv(
        tmp_path / "s.csv", axis, spectra, ["a", "b", "c"], axis_name="wavenumber"
    )
    ax2, sp2, names = read_spectra_csv(p)
    np.testing.assert_array_equal(ax2, axis)
    np.testing.assert_array_equal(sp2, spectra)
    assert names == ["a", "b", "c"]


SPECTRA, AXIS = (read_spectra_csv, "bad.csv"), (read_axis_file, "wavelength.json")


@pytest.mark.parametrize(
    ("reader", "text", "message"),
    [
        (SPECTRA, "axis,a\n1,0.5\n2,hello\n", "non-numeric value 'hello' in 'a', data row 2"),
        (SPECTRA, "axis,a\n1,0.5\n2,nan\n", "NaN or infinite value in 'a'"),
        (SPECTRA, "axis,a\n1,0.5\n", "at least one spectrum column with two"),
        (SPECTRA, "", "is empty"),
        (AXIS, "[1, 2, 2, 3]", "not strictly increasing or decreasing"),
        (AXIS, '{"spectral_unit": "nm"}', "has no axis values"),
        (AXIS, "[1, 2, NaN]", "NaN or infinite"),
        (AXIS, "[1, 2,", "not a JSON file"),
    ],
)
def test_bad_spectra_and_axis_files_say_what_is_wrong(tmp_path, reader, text, message):
    read, name = reader
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ValueError, match=message):
        read(p)


def test_tab_separated_without_header(tmp_path):
    p = tmp_path / "s.txt"
    p.write_text("1\t0.1\t0.2\n2\t0.3\t0.4\n3\t0.5\t0.6\n")
    axis, spectra, names = read_spectra_csv(p)
    assert axis.tolist() == [1, 2, 3]
    assert spectra.shape == (2, 3)
    assert names == ["spectrum_1", "spectrum_2"]
