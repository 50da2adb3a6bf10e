"""Solvers on a seeded subset of the hyperspectral scenarios: truth, optimum, unit invariance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls
from sklearn.exceptions import ConvergenceWarning

from napari_unmix.api.nmf import nnls_unmix, random_nnmf, seeded_nnmf
from napari_unmix.core.nmf import STOP_WINDOW, fit_nmf
from napari_unmix.core.scenarios.hyperspectral import make_scene
from napari_unmix.core.seeds import ComponentSeed, prepare_seeds

SMALL = {"shape": (64, 64), "nan_fraction": 0.0}


def _roi_seeds(scene, cube=None):
    masks, background = scene.roi_masks()
    comps = [ComponentSeed(name=f"c{j}", masks=[m]) for j, m in enumerate(masks)]
    if scene.params["background_level"] > 0:
        comps.append(ComponentSeed(name="background", masks=[background]))
    data = scene.cube if cube is None else cube
    return prepare_seeds(np.asarray(data, dtype=np.float64), comps, background_projection=None)


@pytest.mark.parametrize("seed", [3, 8, 21])
def test_seeded_default_reaches_the_long_run_optimum(seed):
    scene = make_scene(random_state=seed, n_channels=30, max_components=4, **SMALL)
    seeds = _roi_seeds(scene)
    X = scene.cube.reshape(scene.cube.shape[0], -1).T.astype(np.float64)
    W0 = seeds.W0.reshape(seeds.k, -1).T
    fit = fit_nmf(X, W0, seeds.H0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        long = fit_nmf(X, W0, seeds.H0, tol=0.0, max_iter=3000)
    assert fit.converged and fit.n_iter > 2 * STOP_WINDOW
    assert (fit.objective - long.objective) / long.objective < 1e-4
    h = np.array(fit.history)
    assert np.all(np.diff(h) <= 0)


def test_results_do_not_depend_on_the_unit():
    scene = make_scene(random_state=5, n_components=3, n_channels=24, dtype="float64",
                       counts=300.0, close_pair=True, **SMALL)  # fmt: skip
    seeds = _roi_seeds(scene)
    runs = {}
    for scale in (1e-3, 1.0, 1e4):
        H0 = seeds.H0 * scale
        runs[scale] = seeded_nnmf(scene.cube * scale, H0)
        runs[scale, "random"] = random_nnmf(scene.cube * scale, 3, random_state=1)
    ref, ref_r = runs[1.0], runs[1.0, "random"]
    for scale in (1e-3, 1e4):
        res, rnd = runs[scale], runs[scale, "random"]
        assert res.n_iter == ref.n_iter and rnd.n_iter == ref_r.n_iter
        np.testing.assert_allclose(res.W, ref.W, rtol=1e-6, atol=1e-9 * np.nanmax(ref.W))
        np.testing.assert_allclose(res.H / scale, ref.H, rtol=1e-6, atol=1e-9 * ref.H.max())
        # random NNMF: W and H each carry the square root of the unit
        np.testing.assert_allclose(rnd.W / np.sqrt(scale), ref_r.W, rtol=1e-5,
                                   atol=1e-8 * np.nanmax(ref_r.W))  # fmt: skip
        assert rnd.relative_error == pytest.approx(ref_r.relative_error, rel=1e-9)


def test_random_nnmf_on_raw_counts_runs_to_convergence():
    scene = make_scene(random_state=2, n_components=3, n_channels=40, dtype="uint16",
                       counts=1e4, background_level=0.3, **SMALL)  # fmt: skip
    raw = random_nnmf(scene.cube, 4, random_state=0)
    scaled = random_nnmf(scene.cube.astype(np.float64) / 1000.0, 4, random_state=0)
    assert raw.converged and raw.n_iter > 2 * STOP_WINDOW
    assert raw.n_iter == scaled.n_iter
    assert raw.relative_error == pytest.approx(scaled.relative_error, rel=1e-8)
    # the true model (k=3 + background) explains the cube to its noise: so does ours
    W, H = scene.truth()
    X = scene.cube.reshape(scene.cube.shape[0], -1).T.astype(np.float64)
    truth_err = np.linalg.norm(X - W @ H) / np.linalg.norm(X)
    assert raw.relative_error <= truth_err * 1.001


@pytest.mark.parametrize("seed", [1, 4])
def test_nnls_exact_and_maps_follow_the_truth(seed):
    scene = make_scene(random_state=seed, n_channels=20, counts=2000.0, **SMALL)
    _, H = scene.truth()
    res = nnls_unmix(scene.cube, H)
    X = scene.cube.reshape(scene.cube.shape[0], -1).T.astype(np.float64)
    rows = np.random.default_rng(0).choice(X.shape[0], 200, replace=False)
    ref = np.array([scipy_nnls(H.T, X[r])[0] for r in rows])
    ours = res.W.reshape(H.shape[0], -1).T[rows]
    assert np.abs(ours - ref).max() <= 1e-5 * np.abs(ref).max()
    assert res.report["kkt_violation"] < 1e-9
    for j in range(scene.n_components):
        r = np.corrcoef(res.W[j].ravel(), scene.maps[j].ravel())[0, 1]
        assert r > 0.9, (j, r)


def _worst_cos(H, truth):
    H, truth = np.asarray(H)[: len(truth)], np.asarray(truth)
    cos = (H * truth).sum(1) / (np.linalg.norm(H, axis=1) * np.linalg.norm(truth, axis=1))
    return float(cos.min())


@pytest.mark.parametrize("seed", [0, 12])
def test_seed_anchor_keeps_close_spectra_at_the_truth(seed):
    # scenes of the bench's table (bench_hs_scenarios --quick): the plain optimum drifts
    # away from seeds that are right (7 components on 8 channels; low counts), the default
    # seed anchor keeps the spectra at the truth
    from napari_unmix.core.nmf import SeededNmfOptions

    scene = make_scene(random_state=seed, max_side=128, max_channels=60)
    seeds = _roi_seeds(scene, np.nan_to_num(scene.cube.astype(np.float64)))
    assert _worst_cos(seeds.H0, scene.spectra) > 0.95
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = seeded_nnmf(scene.cube, seeds, anchor=0.0)
    held = seeded_nnmf(scene.cube, seeds)
    assert SeededNmfOptions.anchor > 0 and held.converged
    assert _worst_cos(plain.H, scene.spectra) < 0.7
    assert _worst_cos(held.H, scene.spectra) > 0.96


def test_seeded_default_with_anchor_reaches_the_long_run_optimum():
    from napari_unmix.core.nmf import SeededNmfOptions

    scene = make_scene(random_state=8, n_channels=30, max_components=4, **SMALL)
    seeds = _roi_seeds(scene)
    X = scene.cube.reshape(scene.cube.shape[0], -1).T.astype(np.float64)
    W0, a = seeds.W0.reshape(seeds.k, -1).T, SeededNmfOptions.anchor
    fit = fit_nmf(X, W0, seeds.H0, anchor=a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        long = fit_nmf(X, W0, seeds.H0, tol=0.0, max_iter=3000, anchor=a)
    assert fit.converged and fit.n_iter > 2 * STOP_WINDOW
    assert (fit.objective - long.objective) / long.objective < 1e-4
