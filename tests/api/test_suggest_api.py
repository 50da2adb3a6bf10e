"""suggest_rois: report, re-export, warnings and bad-input messages."""

import numpy as np
import pytest

import napari_unmix
from napari_unmix.core.synthetic import make_bead_cube


@pytest.fixture(scope="module")
def small():
    return make_bead_cube(shape=(64, 64), n_channels=24)


def test_reexported_and_report(small):
    cube, _ = small
    res = napari_unmix.suggest_rois(cube.astype(np.float64), max_groups=2, name="beads")
    assert isinstance(res, napari_unmix.Suggestions)
    rep = res.report
    assert rep["tool"] == "suggest_rois" and rep["inputs"]["cube"]["name"] == "beads"
    assert rep["parameters"]["max_groups"] == 2 and rep["parameters"]["projection"] == "average"
    assert rep["result"]["n_rois"] == len(res) == 2
    assert rep["versions"]["numpy"]


def test_uint16_and_dask_input(small):
    da = pytest.importorskip("dask.array")
    cube, _ = small
    counts = np.rint(cube.clip(0) * 1000).astype(np.uint16)
    a = napari_unmix.suggest_rois(counts)
    b = napari_unmix.suggest_rois(da.from_array(counts, chunks=(8, 32, 32)))
    np.testing.assert_array_equal(a.boxes, b.boxes)


def test_2d_image_is_rejected():
    with pytest.raises(
        ValueError, match=r"expected a C×Y×X cube \(3 dimensions\), got shape=\(32, 32\)"
    ):
        napari_unmix.suggest_rois(np.zeros((32, 32)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"projection": "median"}, "projection must be one of"),
        ({"max_groups": 0}, "max_groups must be an integer >= 1, got max_groups=0"),
        ({"max_groups": 2.5}, "max_groups must be an integer.*, got max_groups=2.5"),
        ({"local_background_sigma": -1.0}, "local_background_sigma must be >= 0"),
        ({"peak_threshold": 1.5}, r"peak_threshold must be in \(0, 1\]"),
        ({"similarity_threshold": 2.0}, "similarity_threshold is a cosine"),
    ],
)
def test_bad_parameters(small, kwargs, match):
    # wrong types are TypeErrors of the shared option check, bad values ValueErrors
    with pytest.raises((TypeError, ValueError), match=match):
        napari_unmix.suggest_rois(small[0], **kwargs)


def test_inf_and_all_nan_rejected():
    cube = np.zeros((3, 16, 16), np.float32)
    cube[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite values"):
        napari_unmix.suggest_rois(cube)
    with pytest.raises(ValueError, match="every pixel of the cube is NaN"):
        napari_unmix.suggest_rois(np.full((3, 16, 16), np.nan))
    with pytest.raises(TypeError, match="real numbers"):
        napari_unmix.suggest_rois(np.zeros((3, 16, 16), complex))


def test_nan_pixels_are_ignored_with_a_note(small):
    cube, _ = small
    holed = cube.copy()
    holed[:, 5:7, 5:40] = np.nan
    with pytest.warns(UserWarning, match="70 NaN pixel"):
        res = napari_unmix.suggest_rois(holed, max_groups=4)
    assert np.isfinite(res.spectra).all() and res.estimated["nan_pixels"] == 70


def test_flat_image_warns_no_candidates():
    with pytest.warns(UserWarning, match="no candidates"):
        res = napari_unmix.suggest_rois(np.ones((4, 32, 32), np.uint16))
    assert len(res) == 0 and res.report["result"]["n_rois"] == 0


def test_k_larger_than_candidates_warns():
    cube = np.zeros((4, 40, 40), np.float32)
    cube[:, 10:16, 10:16] = 1.0
    with pytest.warns(UserWarning, match="only 1 candidates for max_groups=4"):
        res = napari_unmix.suggest_rois(cube, max_groups=4)
    assert len(res) == 1


def test_no_warning_when_asked(recwarn):
    napari_unmix.suggest_rois(np.ones((4, 32, 32)), warn=False)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
