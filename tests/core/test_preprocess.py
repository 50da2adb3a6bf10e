"""Preprocessing: exact baselines, normalisations, dask laziness, the frozen pipeline."""

import dataclasses

import dask.array as da
import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.linalg import spsolve

from napari_unmix.core import preprocess as pp
from napari_unmix.core.synthetic import make_two_region_cube


def _asls_reference(y, lam, p, n_iter):
    """Eilers & Boelens' published algorithm, one spectrum, sparse direct solve."""
    n = y.size
    D = sparse.diags([1.0, -2.0, 1.0], [0, -1, -2], shape=(n, n - 2))
    w = np.ones(n)
    for _ in range(n_iter):
        z = spsolve((sparse.diags(w) + lam * D @ D.T).tocsc(), w * y)
        w = p * (y > z) + (1 - p) * (y <= z)
    return z


def test_asls_matches_reference_solver():
    cube, _ = make_two_region_cube(shape=(2, 3))
    rows = cube.reshape(cube.shape[0], -1).T.astype(np.float64) + np.linspace(0, 1, 200)
    ours = pp.baseline_asls(rows, lam=1e4, p=0.02, n_iter=5)
    for i in range(rows.shape[0]):
        np.testing.assert_allclose(ours[i], _asls_reference(rows[i], 1e4, 0.02, 5), atol=1e-4)


def test_poly_baseline_recovers_sloped_background():
    cube, truth = make_two_region_cube(shape=(4, 4), noise_sigma=0)
    axis = truth["spectral_axis"]
    background = (0.5 + 1e-3 * (axis - 600) + 1e-6 * (axis - 1200) ** 2).astype(np.float32)
    sloped = cube + background[:, None, None]
    out, _ = pp.Preprocessing(baseline="poly", baseline_params=(("degree", 2),)).apply(sloped, axis)
    err = np.abs(out - cube)
    # background 0.5..1.9 removed to within a few % of the peak height (modpoly sits
    # slightly low under peaks)
    assert err.max() < 0.06 and err.mean() < 0.03


@pytest.mark.parametrize(
    "method, check",
    [
        ("vector", lambda r, a: np.linalg.norm(r, axis=1)),
        ("max", lambda r, a: np.abs(r).max(axis=1)),
        ("area", lambda r, a: (np.abs(r) * np.abs(np.gradient(a))).sum(axis=1)),
        ("snv", lambda r, a: r.std(axis=1)),
    ],
)
def test_normalisations(method, check):
    cube, truth = make_two_region_cube(shape=(3, 4))
    axis = truth["spectral_axis"]
    scaled = cube * np.linspace(1, 5, 12, dtype=np.float32).reshape(1, 3, 4) + 0.2
    out = pp.normalise(scaled, axis, method=method)
    rows = out.reshape(out.shape[0], -1).T.astype(np.float64)
    np.testing.assert_allclose(check(rows, axis), 1.0, rtol=1e-4)
    zero = pp.normalise(np.zeros((5, 2, 2), np.float32), np.arange(5.0), method=method)
    assert np.array_equal(zero, np.zeros_like(zero))  # zero spectra stay zero, no NaN


def test_pipeline_lazy_on_dask_and_equal_to_numpy():
    cube, truth = make_two_region_cube(shape=(20, 20))
    pipe = pp.Preprocessing(crop=(800, 1800), baseline="asls", normalise="snv", spatial_sigma=1.0)
    ref, axis = pipe.apply(cube, truth["spectral_axis"])
    lazy, axis2 = pipe.apply(da.from_array(cube, chunks=(60, 8, 8)), truth["spectral_axis"])
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(axis, axis2)
    np.testing.assert_allclose(lazy.compute(), ref, atol=1e-5)


def test_pipeline_is_frozen_and_recorded():
    pipe = pp.Preprocessing(baseline="asls", baseline_params=(("lam", 1e4),), normalise="area")
    with pytest.raises(dataclasses.FrozenInstanceError):
        pipe.normalise = "max"
    assert pipe.to_dict()["baseline_params"] == {"lam": 1e4}
    cube, truth = make_two_region_cube(shape=(3, 3))
    before = cube.copy()
    pipe.apply(cube, truth["spectral_axis"])
    np.testing.assert_array_equal(cube, before)


def test_smoothing_lowers_noise():
    cube, _truth = make_two_region_cube(shape=(30, 30), noise_sigma=0.05)
    out = pp.smooth_spatial(cube, sigma=1.5)
    assert out[:50, :, :10].std() < 0.5 * cube[:50, :, :10].std()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pp.Preprocessing(baseline="rubberband"), "unknown baseline"),
        (lambda: pp.Preprocessing(normalise="l1"), "unknown normalisation"),
        (lambda: pp.Preprocessing(spatial_sigma=-1), "spatial_sigma"),
        (lambda: pp.crop_spectral(np.zeros((3, 2, 2)), np.arange(3.0), (10, 20)), "widen"),
        (lambda: pp.baseline_asls(np.zeros((2, 10)), p=2), "0 < p < 1"),
        (lambda: pp.baseline_poly(np.zeros((2, 10)), axis=np.arange(9.0)), "channels"),
        (lambda: pp.Preprocessing().apply(np.zeros((4, 2, 2)), np.arange(3.0)), "axis length"),
    ],
)
def test_preprocess_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_nan_pixel_stays_nan_and_does_not_spread():
    from napari_unmix.core.preprocess import normalise, smooth_spatial

    cube = np.random.default_rng(0).random((4, 9, 9)).astype(np.float32) + 1
    bad = cube.copy()
    bad[2, 4, 4] = np.nan
    smooth = smooth_spatial(bad, sigma=1.0)
    assert np.isnan(smooth).sum() == 1 and np.isnan(smooth[2, 4, 4])
    far = np.ones(cube.shape, bool)
    far[2, 1:8, 1:8] = False
    np.testing.assert_allclose(smooth[far], smooth_spatial(cube, sigma=1.0)[far], atol=1e-3)
    axis = np.arange(4.0)
    for method in ("area", "max", "vector", "snv"):
        out = normalise(bad, axis, method=method)
        assert np.isnan(out[:, 4, 4]).all()  # the pixel with a NaN stays NaN ...
        assert np.isfinite(np.delete(out.reshape(4, -1), 40, axis=1)).all()  # ... alone
