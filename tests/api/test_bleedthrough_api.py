"""Bleed-through script API: modes, bidirectional, per_t, files, reports, bad input."""

import inspect
import json

import dask.array as da
import numpy as np
import pytest

from napari_unmix.api.bleedthrough import (
    estimate_bleedthrough,
    report_path_from_output_path,
    unmix,
    unmix_array,
)
from napari_unmix.core.synthetic import make_bleedthrough_stack

SEPARATED = {"n_cells": 4, "random_state": 2, "shape": (96, 96), "n_z": 2}


def test_unmix_signature_matches_the_reference_package():
    expected = {
        "alpha": None, "alpha_mode": None, "alpha_reference_t": 0, "source_channel": 0,
        "target_channel": 1, "signal_percentile": 99.0, "target_low_percentile": None,
        "background_percentile": 1.0, "clip_negative": True, "output_dtype": "float32",
        "verbose": True, "method": "mean_ratio", "bidirectional": False, "alpha_reverse": None,
        "method_reverse": None, "preprocess_alpha_inputs": True, "alpha_max": 1.0,
        "signal_percentile_reverse": None, "background_percentile_reverse": None,
        "target_low_percentile_reverse": None, "alpha_max_reverse": None, "mi_bins": 64,
        "mi_bins_reverse": None, "max_alpha_voxels": 500000, "random_state": 0,
        "min_mask_voxels": 16, "output_format": "ome-tiff", "overwrite": False,
    }  # fmt: skip
    params = inspect.signature(unmix).parameters
    assert list(params)[:2] == ["input_path", "output_path"]
    for name, default in expected.items():
        assert params[name].default == default, name


def test_corrected_target_matches_truth():
    data, truth = make_bleedthrough_stack(n_t=2, noise_sigma=0.0, **SEPARATED)
    corrected, rep = unmix_array(data, method="linear_fit", n_bootstrap=0)
    assert rep["alpha_mode"] == "reference_t" and rep["alpha_mode_was_defaulted"]
    for t in range(2):
        r = np.corrcoef(corrected[t, :, 1].ravel(), truth["target"][t].ravel())[0, 1]
        assert r >= 0.99
    np.testing.assert_array_equal(corrected[:, :, 0], data[:, :, 0])  # source unchanged
    d = rep["diagnostics"]
    assert d["pearson_before"] > abs(d["pearson_after"]) + 0.2
    assert d["mi_after"] < d["mi_before"]


def test_per_t_recovers_a_drifting_alpha():
    alphas = [0.2, 0.35, 0.5]
    data, _ = make_bleedthrough_stack(n_t=3, alpha_per_t=alphas, noise_sigma=0.0, **SEPARATED)
    _, rep = unmix_array(data, alpha_mode="per_t", method="mi_min", n_bootstrap=10)
    np.testing.assert_allclose(rep["alpha_by_t"], alphas, atol=0.01)
    assert rep["alpha"] is None  # varies over t
    assert len(rep["forward"]["ci95_by_t"]) == 3
    _, ref = unmix_array(data, alpha_reference_t=2, method="mi_min", n_bootstrap=0)
    np.testing.assert_allclose(ref["alpha_by_t"], [ref["alpha"]] * 3)
    assert abs(ref["alpha"] - 0.5) < 0.01


@pytest.mark.parametrize("mode", ["reference_t", "per_t"])
def test_bidirectional_recovers_both(mode):
    data, truth = make_bleedthrough_stack(n_t=1, alpha_reverse=0.2, noise_sigma=0.0, **SEPARATED)
    corrected, rep = unmix_array(
        data, bidirectional=True, alpha_mode=mode, method="linear_fit", n_bootstrap=0
    )
    assert abs(rep["alpha"] - 0.35) < 0.01 and abs(rep["alpha_reverse"] - 0.2) < 0.01
    assert rep["forward"]["source_channel"] == 0 and rep["reverse"]["source_channel"] == 1
    for ch, key in ((0, "source"), (1, "target")):
        r = np.corrcoef(corrected[0, :, ch].ravel(), truth[key][0].ravel())[0, 1]
        assert r >= 0.99


def test_bidirectional_fixed_inherits_alpha_and_refuses_singular():
    data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(32, 32))
    _, rep = unmix_array(data, alpha=0.3, bidirectional=True)
    assert rep["alpha_mode"] == "fixed" and rep["alpha_reverse"] == 0.3
    assert rep["forward"]["alpha_source"] == "user_provided"
    with pytest.raises(ValueError, match="cannot be inverted"):
        unmix_array(data, alpha=0.9, alpha_reverse=1.5, bidirectional=True)


# tiny masks: mi_min says it cannot trust its curve (the parity is what is tested)
@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
@pytest.mark.parametrize(
    "kw",
    [
        {"method": "mi_min", "alpha_mode": "per_t"},
        {"method": "corr_min", "alpha_mode": "reference_t", "alpha_reference_t": 1},
        {"method": "linear_fit", "bidirectional": True, "target_low_percentile": 80.0},
        {"method": "mean_ratio", "bidirectional": True, "alpha_mode": "per_t"},
    ],
)
def test_dask_input_stays_lazy_with_the_same_alpha(kw):
    data, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(64, 64), dtype="uint16")
    lazy = da.from_array(data, chunks=(1, 1, 1, 32, 64))
    # 8192 voxels per volume: within max_alpha_voxels (every voxel) and above it (exact
    # whole-volume percentiles, mask subsampled): numpy and dask give identical reports
    for max_voxels in (10_000, 3000, 40):
        opts = {"max_alpha_voxels": max_voxels, "n_bootstrap": 5, **kw}
        out_np, rep_np = unmix_array(data, **opts)
        out_da, rep_da = unmix_array(lazy, **opts)
        assert isinstance(out_da, da.Array)
        for key in ("forward", "reverse", "alpha_by_t", "alpha_reverse_by_t", "diagnostics"):
            assert rep_np[key] == rep_da[key], key
        np.testing.assert_allclose(out_da.compute(), out_np, rtol=1e-6)


def test_unmix_file_round_trip(tmp_path, capsys):
    from napari_unmix.io.omio_io import read_image, write_image

    data, _ = make_bleedthrough_stack(n_t=2, dtype="uint16", **SEPARATED)
    src = write_image(tmp_path / "in.ome.tif", data, channel_names=["GFP", "RFP"])
    out = unmix(src, tmp_path / "out.ome.tif", method="linear_fit")
    assert "alpha" in capsys.readouterr().out  # verbose by default, like the reference
    back, meta = read_image(out)
    assert back.shape == data.shape and back.dtype == np.float32
    assert meta["channel_names"] == ["GFP", "RFP"]
    rep = json.loads(report_path_from_output_path(out).read_text())
    assert rep["inputs"]["input_path"] == str(src)
    assert rep["axis_order"] == "TZCYX" and rep["output_dtype"] == "float32"
    assert abs(rep["alpha"] - 0.35) < 0.04 and len(rep["forward"]["ci95_by_t"][0]) == 2
    assert {"pearson_before", "pearson_after", "mi_before", "mi_after"} <= set(rep["diagnostics"])
    assert rep["versions"]["numpy"] == np.__version__
    with pytest.raises(FileExistsError, match="exists"):
        unmix(src, out, alpha=0.3, verbose=False)
    with pytest.raises(ValueError, match="is the input file"):
        unmix(src, src, alpha=0.3, verbose=False)
    with pytest.raises(ValueError, match="output_format"):
        unmix(src, tmp_path / "o.zarr", alpha=0.3, output_format="zarr", verbose=False)


def test_estimate_only():
    data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(64, 64))
    rep = estimate_bleedthrough(data, method="corr_min", n_bootstrap=5)
    assert len(rep["estimates"]["forward"]) == 1 and rep["reverse"] is None


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        (np.ones((8, 8)), {}, "5-D TZCYX"),
        (np.ones((1, 1, 1, 8, 8)), {}, "at least 2"),
        (np.ones((1, 1, 2, 8, 8)), {"target_channel": 3}, "out of range"),
        (np.ones((1, 1, 2, 8, 8)), {"source_channel": 1}, "must differ"),
        (np.ones((1, 1, 2, 8, 8)), {"method": "manual"}, "needs a value"),
        (np.ones((1, 1, 2, 8, 8)), {"alpha_mode": "fixed"}, "needs alpha"),
        (np.ones((1, 1, 2, 8, 8)), {"alpha": -1.0}, ">= 0"),
        (np.ones((1, 1, 2, 8, 8)), {"alpha_mode": "daily"}, "alpha_mode must be"),
        (np.ones((2, 1, 2, 8, 8)), {"alpha_reference_t": 2}, "out of range for T=2"),
    ],
)
def test_bad_input(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        unmix_array(data, **kwargs)


def test_nan_and_all_zero_source():
    data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(32, 32))
    with_nan = data.copy()
    with_nan[0, 0, 1, 3, 3] = np.nan
    with_nan[0, 0, 0, 10, 10] = np.nan
    for alpha in (0.3, None):  # given or estimated: NaN stays NaN, the rest is finite
        out, rep = unmix_array(with_nan, alpha=alpha, signal_percentile=95.0)
        bad = np.zeros(out.shape, bool)
        bad[0, 0, 1, 3, 3] = bad[0, 0, 0, 10, 10] = bad[0, 0, 1, 10, 10] = True
        assert np.isnan(out[bad]).all() and np.isfinite(out[~bad]).all()
        assert np.isfinite(rep["alpha"])
    rep = unmix_array(with_nan, signal_percentile=95.0)[1]
    assert rep["forward"]["non_finite_voxels_ignored"] == 2
    clean = unmix_array(data, signal_percentile=95.0)[1]["alpha"]
    assert abs(rep["alpha"] - clean) < 0.01
    zero = data.copy()
    zero[:, :, 0] = 0
    with pytest.raises(ValueError, match="no source signal"):
        unmix_array(zero)


def test_unmix_file_in_place_path_equals_the_array_path(tmp_path):
    """float32 in, float32 out: unmix() corrects its own read buffer; same numbers."""
    from napari_unmix.io.omio_io import read_image, write_image

    data, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(48, 48))
    src = write_image(tmp_path / "in.ome.tif", data)
    out = unmix(src, tmp_path / "out.ome.tif", bidirectional=True, verbose=False, n_bootstrap=0)
    expected, rep = unmix_array(data, bidirectional=True, n_bootstrap=0)
    back, _ = read_image(out)
    np.testing.assert_array_equal(back, expected)
    side = json.loads(report_path_from_output_path(out).read_text())
    assert side["diagnostics"] == rep["diagnostics"]  # sampled before the buffer changed
    np.testing.assert_array_equal(read_image(src)[0], data)  # input file untouched
