"""Sparse semi-NMF (AF-HALS through the Gram matrix) and the STNMF spatial properties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from napari_unmix.core import stnmf as core
from napari_unmix.core.stnmf import props
from napari_unmix.core.synthetic import make_ste_sparse


@pytest.fixture(scope="module")
def small_ste():
    ste, truth = make_ste_sparse(n_spikes=15000, grid=12, random_state=1)
    return ste.reshape(-1, ste.shape[-1]), truth


def _gauss(shape, cx, cy, sx, sy=None):
    sy = sx if sy is None else sy
    x, y = np.indices(shape, dtype=float)
    return np.exp(-((x - cx) ** 2 / (2 * sx**2) + (y - cy) ** 2 / (2 * sy**2)))


def test_afhals_objective_decreases(small_ste):
    v, _ = small_ste
    hist = core.sparse_seminmf(v, 8, num_iter=25, sparsity=0.0).history
    # with sparsity 0 every AF-HALS step lowers ‖V − W H‖ (H the LS weights of W)
    assert np.all(np.diff(hist) <= 1e-6 * hist[0])
    assert hist[-1] < hist[0]


def test_afhals_penalised_objective_decreases():
    rng = np.random.default_rng(0)
    w_true = np.abs(rng.standard_normal((30, 4)))
    h = rng.standard_normal((4, 200))
    h /= np.linalg.norm(h, axis=1, keepdims=True)  # the update assumes unit-norm rows
    v = w_true @ h
    w = np.abs(rng.standard_normal((30, 4))).astype(np.float64)
    vht, hht = v @ h.T, h @ h.T
    lam = 0.5

    def objective(w):
        return 0.5 * np.sum((v - w @ h) ** 2) + lam * w.sum()

    values = [objective(w)]
    for _ in range(10):
        core.afhals(vht, hht, w, rho=0, sparsity=lam)  # one fast-HALS sweep
        values.append(objective(w))
    assert np.all(np.diff(values) <= 1e-9 * values[0])
    assert w.min() >= 0


def test_gram_and_direct_agree(small_ste):
    v, _ = small_ste
    kw = {"num_iter": 15, "sparsity": 1.7}
    g = core.sparse_seminmf(v, 10, formulation="gram", **kw)
    d = core.sparse_seminmf(v, 10, formulation="direct", **kw)
    scale = np.abs(d.modules).max()
    assert np.abs(g.modules - d.modules).max() < 1e-3 * scale
    assert g.residual == pytest.approx(d.residual, rel=1e-5)
    np.testing.assert_allclose(g.weights, d.weights, atol=1e-3)
    direct_res = np.linalg.norm(v.astype(np.float64) - g.modules @ g.weights)
    assert g.residual == pytest.approx(direct_res, rel=1e-4)


def test_products_match(small_ste):
    v, _ = small_ste
    w = np.abs(np.random.default_rng(2).standard_normal((v.shape[0], 5))).astype(np.float32)
    vg, hg = core.products_gram(core.gram(v), w)
    vd, hd = core.products_direct(v, w)
    np.testing.assert_allclose(vg, vd, rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(hg, hd, atol=1e-4)


def test_recovers_subunits(small_ste):
    v, truth = small_ste
    res = core.sparse_seminmf(v, 10, num_iter=150)
    t = truth["subunits"].reshape(7, -1)
    c = np.nan_to_num(np.corrcoef(t, res.modules.T)[:7, 7:])
    i, j = linear_sum_assignment(-c)
    assert (c[i, j] >= 0.8).sum() >= 5


def test_random_init_is_seeded(small_ste):
    v, _ = small_ste
    a = core.sparse_seminmf(v, 4, init="random", random_state=3, num_iter=3)
    b = core.sparse_seminmf(v, 4, init="random", random_state=3, num_iter=3)
    np.testing.assert_array_equal(a.modules, b.modules)


def test_callbacks_stop(small_ste):
    v, _ = small_ste
    res = core.sparse_seminmf(v, 4, num_iter=500, callbacks=[core.RelativeChange(1e-2)])
    assert res.n_iter < 500
    assert res.stopped_by == "RelativeChange"
    steps = list(core.iter_sparse_seminmf(v, 4, num_iter=3))
    assert [s.done for s in steps] == [0, 1, 2, 3]


def test_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        core.sparse_seminmf(np.zeros((3, 4, 5)), 2)
    with pytest.raises(ValueError, match="at least r"):
        core.sparse_seminmf(np.ones((10, 3)), 5)
    with pytest.raises(ValueError, match="NaN"):
        core.sparse_seminmf(np.full((10, 20), np.nan), 2)
    with pytest.raises(ValueError, match="unknown init"):
        core.sparse_seminmf(np.ones((10, 20)), 2, init="svd")
    with pytest.raises(ValueError, match="shape"):
        core.sparse_seminmf(np.ones((10, 20)), 2, init=np.ones((3, 2)))


# ----------------------------------------------------------------------------- properties
def test_moransi_known_patterns():
    board = np.indices((16, 16)).sum(axis=0) % 2 * 2.0 - 1
    assert props.moransi(board, connectivity=4) == pytest.approx(-1.0)
    assert abs(props.moransi(board)) < 0.1  # 8-connected: 4 same, 4 opposite neighbours
    stripes = np.tile([1.0, -1.0], (16, 8))
    assert props.moransi(stripes) == pytest.approx(-0.5, abs=0.1)
    assert props.moransi(_gauss((20, 20), 9.5, 9.5, 3.0)) > 0.85
    noise = np.random.default_rng(0).standard_normal((200, 64, 64))
    assert abs(props.moransi(noise).mean()) < 0.01
    assert props.moransi(noise).std() < 0.05


def test_moransi_ignores_nan():
    blob = _gauss((20, 20), 9.5, 9.5, 3.0)
    holed = blob.copy()
    holed[0, :] = np.nan
    assert props.moransi(holed) == pytest.approx(props.moransi(blob), abs=0.05)
    with pytest.raises(ValueError, match="connectivity"):
        props.moransi(blob, connectivity=6)


@pytest.mark.parametrize("sigma", [1.2, 2.0, 3.5])
def test_contour_and_diameter_of_gaussian(sigma):
    img = _gauss((31, 31), 15.3, 14.6, sigma)
    c = props.contour(img)
    radius = np.hypot(c[:, 0] - 15.3, c[:, 1] - 14.6)
    assert radius.mean() == pytest.approx(props.CONTOUR_SD * sigma, rel=0.03)
    assert props.polygon_area(c) == pytest.approx(np.pi * (1.22 * sigma) ** 2, rel=0.06)
    fit = props.gaussian_fit(img)
    assert fit["diameter"] == pytest.approx(4 * sigma, rel=1e-3)
    assert (fit["x"], fit["y"]) == pytest.approx((15.3, 14.6), abs=1e-3)


def test_elliptical_fit_and_off_polarity():
    img = -2 * _gauss((31, 31), 15, 15, 3.0, 1.5)
    fit = props.gaussian_fit(img)
    assert (fit["major"], fit["minor"]) == pytest.approx((6.0, 3.0), rel=1e-3)
    assert fit["diameter"] == pytest.approx(2 * np.sqrt(18.0), rel=1e-3)
    assert props.polarity(img) == -1
    assert len(props.contour(img)) > 10


def test_coverage():
    def sq(a, b):
        return np.array([[a, a], [b, a], [b, b], [a, b]], float)

    assert props.coverage(sq(0, 8), [sq(0, 8)], (10, 10)) == pytest.approx(1.0, abs=0.02)
    assert props.coverage(sq(0, 8), [sq(0, 8), sq(0, 8)], (10, 10)) == 0.0
    assert props.coverage(sq(0, 8), [sq(0, 4)], (10, 10)) == pytest.approx(0.25, abs=0.03)
