"""unmix_picasso (files, sidecar) and unmix_picasso_array (arrays, dask, axes)."""

import dask.array as da
import numpy as np
import pytest

import napari_unmix
from napari_unmix.core.picasso import crosstalk_metrics
from napari_unmix.core.synthetic import make_picasso_mix
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.sidecar import read_sidecar


def test_file_round_trip_with_sidecar(tmp_path):
    data, truth = make_picasso_mix(n_channels=3, n_t=2, shape=(64, 64), random_state=1)
    src = write_image(tmp_path / "mix.ome.tif", data, physical_size=(1.0, 0.3, 0.3))
    out_path = napari_unmix.unmix_picasso(src, implementation="source_sink_n", verbose=False)
    assert out_path.name == "mix_picasso.ome.tif"
    out, meta = read_image(out_path)
    assert out.shape == data.shape and out.dtype == np.float32
    assert meta["physical_size"] == pytest.approx((1.0, 0.3, 0.3))
    rep = read_sidecar(out_path)
    res = rep["result"]
    assert res["implementation"] == "source_sink_n" and res["converged"] == [True]
    assert np.asarray(res["unmixing_matrix_by_t"]).shape == (2, 3, 3)
    assert rep["parameters"]["max_alpha_voxels"] == 500_000
    assert rep["inputs"]["path"] == str(src)
    m = crosstalk_metrics(out[1, 0], truth["fluorophores"][1, 0])
    assert m["crosstalk"] < 0.02  # estimated on t=0, applied to t=1
    with pytest.raises(FileExistsError):
        napari_unmix.unmix_picasso(src, out_path, implementation="source_sink_n", verbose=False)
    with pytest.raises(ValueError, match="is the input file"):
        napari_unmix.unmix_picasso(src, src, verbose=False)


def test_array_api_accepts_cyx_and_dask_and_keeps_other_channels():
    data, _ = make_picasso_mix(n_channels=4, shape=(64, 64), random_state=2)
    cyx = data[0, 0]
    out, rep = napari_unmix.unmix_picasso_array(
        cyx, [0, 1, 3], implementation="matlab_3c", pixel_bin_size=4, max_iter=20
    )
    assert out.shape == (1, 1, 4, 64, 64)
    np.testing.assert_array_equal(out[0, 0, 2], cyx[2])
    assert rep["result"]["channels"] == [0, 1, 3]
    assert len(rep["result"]["history"][0]) == 20
    lazy, _ = napari_unmix.unmix_picasso_array(
        da.from_array(data, chunks=(1, 1, 1, 32, 32)), implementation="source_sink_n"
    )
    assert isinstance(lazy, da.Array)
    eager, _ = napari_unmix.unmix_picasso_array(data, implementation="source_sink_n")
    np.testing.assert_allclose(lazy.compute(), eager, rtol=1e-6)


def test_progress_callback_and_detail():
    data, _ = make_picasso_mix(n_channels=3, shape=(64, 64))
    seen = []
    _, rep = napari_unmix.unmix_picasso_array(
        data, pixel_bin_size=4, max_iter=3, progress=seen.append, detail=True
    )
    assert [s.done for s in seen] == [1, 2, 3]
    assert len(rep["result"]["transforms_by_t"][0]) == 3


def test_a_given_unmixing_matrix_is_applied_or_refused():
    data, truth = make_picasso_mix(n_channels=3, shape=(64, 64), noise_sigma=0, random_state=1)
    unmix = np.linalg.inv(truth["mixing"])
    out, rep = napari_unmix.unmix_picasso_array(data, unmixing_matrix=unmix)  # no alpha_mode
    assert rep["result"]["alpha_mode"] == "fixed"
    np.testing.assert_allclose(out, truth["fluorophores"], atol=1e-5)  # used, not ignored
    with pytest.raises(ValueError, match="alpha_mode='fixed'"):
        napari_unmix.unmix_picasso_array(data, unmixing_matrix=unmix, alpha_mode="per_t")
    bad = [
        (np.eye(2), "must be 3x3 or 1x3x3"),
        (np.full((3, 3), np.nan), "NaN or infinite"),
        (np.ones((3, 3)), "singular or nearly so"),
        ([["a", 0, 0], [0, 1, 0], [0, 0, 1]], "not a numeric"),
    ]
    for matrix, message in bad:
        with pytest.raises(ValueError, match=message):
            napari_unmix.unmix_picasso_array(data, unmixing_matrix=matrix)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"qn": 100.0}, r"qn must be an integer .* \(float\)"),
        ({"max_iter": 2.5}, "max_iter must be an integer"),
        ({"pixel_bin_size": True}, "pixel_bin_size must be an integer"),
        ({"alpha_reference_t": 0.0}, "alpha_reference_t must be an integer"),
        ({"random_state": "x"}, "random_state must be an integer"),
        ({"channels": [0, 0.5, 2]}, r"channels must be integer channel indices.*0.5 is float"),
        (
            {"implementation": "source_sink_n", "sink_channels": [2.0]},
            "sink_channels must be integer",
        ),
        (
            {"implementation": "matlab_n", "noise_aware": True, "reference_compatible": True},
            "noise_aware=True and reference_compatible=True exclude each other",
        ),
        ({"split_sigma": -1.0}, "split_sigma must be > 0"),
    ],
)
def test_options_that_must_be_integers_or_valid_are_refused(kwargs, message):
    data, _ = make_picasso_mix(n_channels=3, shape=(64, 64))
    with pytest.raises(ValueError, match=message):
        napari_unmix.unmix_picasso_array(data, **kwargs)


def test_offset_data_unmix_and_the_advice_works():
    """``d - 5`` (all values negative) used to fail, and so did the advised option."""
    data, truth = make_picasso_mix(n_channels=3, shape=(64, 64), random_state=0)
    for units in ("own_channel", "input"):
        out, _ = napari_unmix.unmix_picasso_array(
            data - 5, pixel_bin_size=4, output_units=units, clip_negative=False
        )
        assert crosstalk_metrics(out[0, 0], truth["fluorophores"][0, 0])["crosstalk"] < 0.1
    ss, _ = napari_unmix.unmix_picasso_array(data - 5, implementation="source_sink_n")
    ref, _ = napari_unmix.unmix_picasso_array(data, implementation="source_sink_n")
    # an offset changes nothing beyond float32 rounding of the shifted values
    np.testing.assert_allclose(ss, ref, atol=2e-3)
    with pytest.raises(ValueError, match="reference_compatible=True divides by the maximum"):
        napari_unmix.unmix_picasso_array(data - 5, pixel_bin_size=4, reference_compatible=True)
