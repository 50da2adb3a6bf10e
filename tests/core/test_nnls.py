"""Exact fixed-H NNLS: agreement with scipy.optimize.nnls, KKT, dask laziness, errors."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from napari_unmix.core.nnls import kkt_violation, nnls, nnls_gram, nnls_maps
from napari_unmix.core.synthetic import make_bead_cube


@pytest.mark.parametrize(("k", "seed"), [(1, 0), (2, 1), (3, 2), (5, 3), (7, 4), (10, 5)])
def test_matches_scipy_per_pixel(k, seed):
    rng = np.random.default_rng(seed)
    H = rng.random((k, 30))
    X = rng.random((300, k)) @ H + rng.normal(0, 0.3, (300, 30))  # many active bounds
    W, info = nnls(X, H)
    ref = np.array([scipy_nnls(H.T, x)[0] for x in X])
    assert info["unconverged"] == 0
    assert np.abs(W - ref).max() <= 1e-8 * max(1.0, np.abs(ref).max())
    assert info["kkt_violation"] < 1e-10
    assert kkt_violation(X, H, W) < 1e-10


def test_kkt_detects_a_wrong_solution():
    rng = np.random.default_rng(0)
    H = rng.random((3, 20))
    X = rng.random((50, 3)) @ H
    W, _ = nnls(X, H)
    assert kkt_violation(X, H, W) < 1e-10
    assert kkt_violation(X, H, W * 0.9) > 1e-3


def test_rank_deficient_spectra_still_optimal():
    rng = np.random.default_rng(1)
    h = rng.random(15)
    H = np.stack([h, h, rng.random(15)])  # duplicate spectrum: W not unique, objective is
    X = rng.random((40, 3)) @ H
    W, _info = nnls(X, H)
    ref = np.array([scipy_nnls(H.T, x)[0] for x in X])
    obj = ((X - W @ H) ** 2).sum(axis=1)
    obj_ref = ((X - ref @ H) ** 2).sum(axis=1)
    assert (W >= 0).all()
    assert np.allclose(obj, obj_ref, atol=1e-10)


def test_gram_form_small_example():
    W, _info = nnls_gram(np.eye(2), np.array([[1.0], [-2.0]]))
    assert W.ravel().tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="G must be 2x2"):
        nnls_gram(np.eye(3), np.ones((2, 4)))


def test_bad_shapes():
    with pytest.raises(ValueError, match="same number of channels"):
        nnls(np.ones((4, 5)), np.ones((2, 6)))
    with pytest.raises(ValueError, match="C = 6 channels"):
        nnls_maps(np.ones((5, 4, 4)), np.ones((2, 6)))


def test_bead_cube_true_spectra_pearson():
    cube, truth = make_bead_cube(shape=(64, 64))
    H = np.vstack([truth["spectra"], truth["background_spectrum"]])
    W, res = nnls_maps(cube, H)
    for j in range(4):
        r = np.corrcoef(W[j].ravel(), truth["abundances"][j].ravel())[0, 1]
        assert r >= 0.98, (j, r)
    assert res.shape == (64, 64)


def test_dask_is_lazy_and_equal_to_numpy():
    cube, truth = make_bead_cube(shape=(40, 40), n_channels=24)
    cube = cube.copy()
    cube[:, 3, 5] = np.nan
    W_np, r_np = nnls_maps(cube, truth["spectra"])
    lazy = da.from_array(cube, chunks=(8, 16, 16))
    W_da, r_da = nnls_maps(lazy, truth["spectra"])
    assert isinstance(W_da, da.Array) and isinstance(r_da, da.Array)
    assert W_da.chunks[1:] == lazy.chunks[1:]
    np.testing.assert_allclose(W_da.compute(), W_np, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r_da.compute(), r_np, rtol=1e-5, atol=1e-6)
    assert np.isnan(W_np[:, 3, 5]).all() and np.isnan(r_np[3, 5])


def test_blas_thread_limit_is_restored():
    from threadpoolctl import threadpool_info

    before = [(d["internal_api"], d["num_threads"]) for d in threadpool_info()]
    cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
    lazy = da.from_array(cube, chunks=(24, 8, 8))  # blocks solved concurrently in threads
    W, _ = nnls_maps(lazy, truth["spectra"])
    W.compute(scheduler="threads")
    nnls(cube.reshape(24, -1).T, truth["spectra"])
    assert [(d["internal_api"], d["num_threads"]) for d in threadpool_info()] == before


def test_no_pixels():
    W, info = nnls(np.zeros((0, 6)), np.ones((2, 6)))
    assert W.shape == (0, 2) and info["unconverged"] == 0


@pytest.mark.parametrize("scale", [1e-12, 1.0, 1e12])
def test_many_passive_sets_and_a_singular_block_at_any_unit(scale):
    # many distinct passive sets with a singular block (a duplicated spectrum): the
    # batched pivoting matrices give scipy's optimum and the same W whatever the data's unit
    from napari_unmix.core._passive_sets import _Pivots

    rng = np.random.default_rng(3)
    H = rng.random((7, 25))
    H[6] = H[0]
    X = rng.random((400, 7)) @ H + rng.normal(0, 0.4, (400, 25))
    W1, _ = nnls(X, H)
    X, H = X * scale, H * scale
    W, _ = nnls(X, H)
    assert len(np.unique(W > 0, axis=0)) > 16
    np.testing.assert_allclose(W, W1, rtol=1e-9, atol=1e-9 * np.abs(W1).max())
    obj = ((X - W @ H) ** 2).sum(axis=1)
    ref = np.array([scipy_nnls(H.T, x)[0] for x in X])
    np.testing.assert_allclose(obj, ((X - ref @ H) ** 2).sum(axis=1), rtol=1e-8)
    assert kkt_violation(X, H, W) < 1e-9
    # one batched eigendecomposition gives what one set at a time gives
    codes = [int(c) for c in np.unique((W > 0) @ (1 << np.arange(7)))]
    batched = _Pivots(H @ H.T).many(codes)
    for code, A in zip(codes, batched, strict=True):
        alone = _Pivots(H @ H.T).many([code])[0]
        np.testing.assert_allclose(A, alone, rtol=1e-10, atol=1e-12 * np.abs(alone).max())


def _direct_residual(cube, H, W):
    C = cube.shape[0]
    X = cube.reshape(C, -1).astype(np.float64)
    R = X - H.T @ W.reshape(len(H), -1).astype(np.float64)
    return np.sqrt((R**2).sum(axis=0)).reshape(cube.shape[1:])


def test_cube_matches_scipy_on_a_pixel_subset_with_residual_and_kkt():
    # the block solver on a float32 bead cube (several blocks, slabs, NaN and excluded
    # pixels, negatives): W as scipy on a random subset, the residual map as the direct
    # ||x - wH||, and the fit statistics as computed from the maps
    from napari_unmix.core import nnls as core_nnls

    cube, truth = make_bead_cube(shape=(96, 96), n_channels=40, random_state=2)
    cube = cube.copy()
    cube[:, 5, 7] = np.nan
    exclude = np.zeros((96, 96), bool)
    exclude[10:12] = True
    H = np.vstack([truth["spectra"], truth["background_spectrum"]])
    W, res, st = core_nnls.nnls_cube(cube, H, exclude=exclude)
    used = ~exclude & np.isfinite(cube).all(axis=0)
    assert np.isnan(W[:, ~used]).all() and np.isnan(res[~used]).all()
    rng = np.random.default_rng(0)
    X = cube.reshape(40, -1).T.astype(np.float64)
    pick = rng.choice(np.flatnonzero(used.ravel()), 300, replace=False)
    ref = np.array([scipy_nnls(H.T, X[p])[0] for p in pick])
    got = W.reshape(len(H), -1)[:, pick].T
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    direct = _direct_residual(np.nan_to_num(cube), H, np.nan_to_num(W))
    np.testing.assert_allclose(res[used], direct[used], rtol=2e-6)
    assert st["kkt_violation"] < 1e-10 and st["unconverged"] == 0
    assert st["n_pixels"] == used.sum()
    values = cube[:, used]
    assert st["negative_fraction"] == np.count_nonzero(values < 0) / values.size > 0
    np.testing.assert_allclose(st["sum_x2"], (values.astype(np.float64) ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(st["sum_r2"], (direct[used] ** 2).sum(), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_exact_cube_gives_zero_residual_through_the_exact_recompute(dtype):
    # a cube that W H reproduces exactly: the Gram form's ||x||² - 2 wᵀb + wᵀGw cancels to
    # rounding noise, so those residuals are recomputed from the pixels (0 here), W is the
    # truth, KKT holds; a noisy half of the image keeps the Gram form and agrees with the
    # direct residual
    from napari_unmix.core.nnls import nnls_cube

    rng = np.random.default_rng(5)
    H = rng.integers(0, 4, (4, 30)).astype(np.float64)
    W_true = rng.integers(0, 50, (4, 40, 300)).astype(np.float64)  # 3 blocks
    W_true[rng.random(W_true.shape) < 0.3] = 0.0  # active bounds
    cube = np.einsum("kc,kyx->cyx", H, W_true)
    noisy = cube.copy()
    noisy[:, 20:] += rng.normal(0, 3.0, (30, 20, 300))
    for data, exact_rows in ((cube, slice(0, 40)), (noisy, slice(0, 20))):
        data = np.round(data).astype(dtype) if dtype == np.int32 else data.astype(dtype)
        W, res, st = nnls_cube(data, H)
        assert st["kkt_violation"] < 1e-10
        np.testing.assert_allclose(W[:, exact_rows], W_true[:, exact_rows], atol=1e-4)
        norm = np.sqrt((cube[:, exact_rows] ** 2).sum(axis=0))
        assert (res[exact_rows] <= 1e-9 * norm).all()  # the Gram form alone: ~1e-7
        assert st["exact_residuals"] == np.count_nonzero(W_true[:, exact_rows].any(axis=0))
        direct = _direct_residual(data, H, W)
        np.testing.assert_allclose(res, direct, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize(
    ("k", "n_pixels", "n_channels", "seed"), [(18, 200, 40, 7), (70, 12, 90, 11)]
)
def test_many_components_match_scipy(k, n_pixels, n_channels, seed):
    # passive-set codes of more than 16 bits (uint32), and past 64 bits (Python integers:
    # slow, but the same optimum)
    rng = np.random.default_rng(seed)
    H = rng.random((k, n_channels))
    X = rng.random((n_pixels, k)) @ H + rng.normal(0, 0.5, (n_pixels, n_channels))
    W, info = nnls(X, H)
    ref = np.array([scipy_nnls(H.T, x)[0] for x in X])
    assert info["unconverged"] == 0 and (W >= 0).all()
    obj = ((X - W @ H) ** 2).sum(axis=1)
    np.testing.assert_allclose(obj, ((X - ref @ H) ** 2).sum(axis=1), rtol=1e-8)
    assert info["kkt_violation"] < 1e-9 and (W == 0).any()
