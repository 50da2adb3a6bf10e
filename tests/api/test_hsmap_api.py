"""Script API of the hyperspectral maps: rows -> cube, files, reports, bad input."""

import json

import numpy as np
import pytest

import napari_unmix as nu


@pytest.fixture(scope="module")
def two_region():
    return nu.make_two_region_cube()


def test_must_show_two_region(two_region):
    cube, truth = two_region
    res = nu.cluster_map(cube, 2, spectral_axis=truth["spectral_axis"], random_state=0)
    m = nu.map_metrics(res.labels, truth["labels"], embedding=res.embedding)
    assert m["ari"] >= 0.95 and m["silhouette"] >= 0.6
    assert m["accuracy"] == 1.0 and m["mean_iou"] == 1.0
    rep = res.report
    assert rep["tool"] == "cluster_map" and rep["parameters"]["n_clusters"] == 2
    assert rep["inputs"]["cube"]["shape"] == [200, 30, 30]
    assert len(rep["spectral_axis"]) == 200


def test_preprocessing_recorded_and_applied(two_region):
    cube, truth = two_region
    pre = {"crop": (1300, 1800), "baseline": "poly", "normalise": "vector"}
    res = nu.cluster_map(cube, 2, spectral_axis=truth["spectral_axis"], preprocessing=pre)
    assert res.report["preprocessing"]["crop"] == [1300, 1800] or res.report["preprocessing"][
        "crop"
    ] == (1300, 1800)
    assert res.mean_spectra.shape[1] == len(res.report["spectral_axis"]) < 200
    img, rep = nu.intensity_map(cube, truth["spectral_axis"], 1450, window=10, preprocessing=pre)
    assert rep["preprocessing"]["normalise"] == "vector" and img.shape == (30, 30)


def test_ratio_map_report_and_zero_denominator(two_region):
    cube, truth = two_region
    ratio, rep = nu.ratio_map(cube, truth["spectral_axis"], 1742, 1655, window=10)
    assert rep["n_masked"] == 0 and ratio.dtype == np.float32
    zero = np.zeros_like(cube)
    with pytest.raises(ValueError, match="~0 .* at every pixel"):
        nu.ratio_map(zero, truth["spectral_axis"], 1742, 1655)


def test_cube_from_rows_round_trip_and_positions(two_region):
    cube, _ = two_region
    rows = cube.reshape(200, -1).T
    np.testing.assert_array_equal(nu.cube_from_rows(rows, (30, 30)), cube)
    yx = np.argwhere(np.ones((30, 30)))
    perm = np.random.default_rng(0).permutation(900)
    np.testing.assert_array_equal(nu.cube_from_rows(rows[perm], (30, 30), positions=yx[perm]), cube)


@pytest.mark.parametrize(
    "shape, match",
    [
        ((31, 30), "needs 930 pixels but there are 900"),
        ((30,), "height, width"),
        ((0, 5), "positive"),
    ],
)
def test_wrong_image_shape(two_region, shape, match):
    rows = two_region[0].reshape(200, -1).T
    with pytest.raises(ValueError, match=match):
        nu.cube_from_rows(rows, shape)


def _write_csv(path, cube, axis, shape_line=True):
    rows = cube.reshape(cube.shape[0], -1).T
    lines = ["# image_shape: 30, 30"] if shape_line else []
    lines.append(",".join(f"{a:.4f}" for a in axis))
    lines += [",".join(f"{v:.6g}" for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def test_read_pixel_spectra_csv(tmp_path, two_region):
    cube, truth = two_region
    p = tmp_path / "pixels.csv"
    _write_csv(p, cube, truth["spectral_axis"])
    back, axis, info = nu.read_pixel_spectra(p)
    np.testing.assert_allclose(back, cube, atol=1e-5)
    np.testing.assert_allclose(axis, truth["spectral_axis"], atol=1e-4)
    assert info["image_shape"] == (30, 30)
    with pytest.raises(ValueError, match="differs from the file"):
        nu.read_pixel_spectra(p, image_shape=(45, 20))
    q = tmp_path / "noshape.csv"
    _write_csv(q, cube, truth["spectral_axis"], shape_line=False)
    with pytest.raises(ValueError, match="pass image_shape"):
        nu.read_pixel_spectra(q)
    with pytest.raises(ValueError, match="needs 899 pixels"):
        nu.read_pixel_spectra(q, image_shape=(29, 31))


def test_read_pixel_spectra_hdf5(tmp_path, two_region):
    h5py = pytest.importorskip("h5py")
    cube, truth = two_region
    p = tmp_path / "pixels.h5"
    with h5py.File(p, "w") as f:
        f["spectra"] = cube.reshape(200, -1).T
        f["wavenumbers"] = truth["spectral_axis"]
        f.attrs["image_shape"] = (30, 30)
    back, _axis, _info = nu.read_pixel_spectra(p)
    np.testing.assert_array_equal(back, cube)
    with h5py.File(p, "a") as f:
        f.attrs["image_shape"] = (20, 40)
    with pytest.raises(ValueError, match=r"image_shape \(20, 40\) needs 800 pixels"):
        nu.read_pixel_spectra(p)


def test_write_map_report(tmp_path, two_region):
    cube, truth = two_region
    out = tmp_path / "report"
    md = nu.write_map_report(
        cube, truth["spectral_axis"], out, target=1450, numerator=1655, denominator=1742,
        n_clusters=2, window=10, truth=truth["labels"],
    )  # fmt: skip
    names = {p.name for p in out.iterdir()}
    assert {"intensity_map.png", "ratio_map.png", "cluster_map.png", "pixel_spectra.png",
            "metrics.json", "report.md"} <= names  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metrics"]["ari"] == 1.0
    assert metrics["clusters"]["parameters"]["n_clusters"] == 2
    assert "Adjusted Rand index: 1.000" in md.read_text()
    with pytest.raises(FileExistsError):
        nu.write_map_report(
            cube, truth["spectral_axis"], out, target=1450, numerator=1655, denominator=1742,
            n_clusters=2,
        )  # fmt: skip


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c, a: nu.intensity_map(c, a, 100.0), "outside the spectral axis"),
        (lambda c, a: nu.intensity_map(c, a[:-1], 1000.0), "one axis value per channel"),
        (lambda c, a: nu.cluster_map(c, 5000), "usable pixels"),
        (lambda c, a: nu.cluster_map(c, 2, preprocessing="snv"), "preprocessing must be"),
        (lambda c, a: nu.map_metrics(np.ones(4)), r"\(Y, X\) image"),
        (lambda c, a: nu.map_metrics(np.ones((3, 3)), np.ones((4, 4))), "differs from"),
        (lambda c, a: nu.map_metrics(np.ones((3, 3)), embedding=np.ones((2, 4, 4))), "embedding"),
    ],
)
def test_api_bad_input(two_region, call, match):
    cube, truth = two_region
    with pytest.raises(ValueError, match=match):
        call(cube, truth["spectral_axis"])


def test_map_report_file_maps_an_envi_cube_lazily(tmp_path):
    """An ENVI cube is mapped chunk by chunk; the maps equal those of the in-memory file."""
    from spectral.io import envi

    from napari_unmix.api.hsmap import map_report_file
    from napari_unmix.core.metrics import adjusted_rand_index
    from napari_unmix.core.synthetic import make_two_region_cube
    from napari_unmix.io.omio_io import read_image, write_image

    cube, truth = make_two_region_cube(shape=(24, 20), n_channels=60)
    axis = truth["spectral_axis"]
    hdr = tmp_path / "scan.hdr"
    meta = {"wavelength": axis.tolist(), "wavelength units": "cm-1"}
    envi.save_image(str(hdr), np.moveaxis(cube, 0, -1), interleave="bsq", metadata=meta)
    tif = write_image(tmp_path / "scan.ome.tif", cube[None, None],
                      extra={"spectral_axis": axis.tolist(), "spectral_units": "cm-1"})  # fmt: skip
    kw = {"target": 1655, "numerator": 1655, "denominator": 1742, "n_clusters": 2,
          "window": 10, "report": False}  # fmt: skip
    lazy = map_report_file(hdr, tmp_path / "lazy.ome.tif", **kw)
    ref = map_report_file(tif, tmp_path / "ref.ome.tif", **kw)
    a, b = read_image(lazy["maps"])[0][0, 0], read_image(ref["maps"])[0][0, 0]
    np.testing.assert_allclose(a[:2], b[:2], rtol=1e-5, atol=1e-6)  # intensity, ratio
    assert adjusted_rand_index(truth["labels"], a[2].astype(int)) > 0.95
    rep = json.loads((tmp_path / "lazy.ome.tif.json").read_text())
    assert rep["clusters"]["chunked"] and rep["spectral_axis_source"] == "ENVI header"
    assert rep["metrics"]["silhouette"] is not None
