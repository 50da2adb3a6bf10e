"""Script API: nnls_unmix, seeded_nnmf, random_nnmf, pca, files, 4-D cubes, bad input."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import napari_unmix
from napari_unmix.api.nmf import (
    UnmixResult,
    iter_seeded_nnmf,
    nnls_unmix,
    pca,
    random_nnmf,
    seeded_nnmf,
)
from napari_unmix.core.progress import run
from napari_unmix.core.seeds import ComponentSeed, prepare_seeds
from napari_unmix.core.synthetic import make_bead_cube


@pytest.fixture(scope="module")
def beads():
    cube, truth = make_bead_cube(shape=(64, 64))
    A = truth["abundances"]
    masks = [(A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.05) for j in range(4)]
    return cube, truth, masks, A.max(0) < 0.01


def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_public_names_exported():
    for name in ("nnls_unmix", "seeded_nnmf", "random_nnmf", "pca", "UnmixResult", "SeedSet"):
        assert getattr(napari_unmix, name) is not None


def test_nnls_unmix_ground_truth_and_report(beads):
    cube, truth, _, _ = beads
    H = np.vstack([truth["spectra"], truth["background_spectrum"]])
    res = nnls_unmix(cube, H, names=[*truth["names"], "bg"])
    assert isinstance(res, UnmixResult) and res.W.dtype == np.float32
    for j in range(4):
        assert np.corrcoef(res.W[j].ravel(), truth["abundances"][j].ravel())[0, 1] >= 0.98
    assert res.n_iter == 0 and res.converged and res.report["kkt_violation"] < 1e-9
    assert 0 < res.relative_error < 0.2
    assert np.array_equal(res.H, H)  # no normalisation of the spectra
    # W keeps the scale: true spectra give abundances on the truth's scale
    assert np.abs(res.W[0].max() - truth["abundances"][0].max()) < 0.1
    assert "negative values kept" in res.report["negative_values"]


def test_nnls_unmix_dask_lazy(beads):
    cube, truth, _, _ = beads
    ex = np.zeros(cube.shape[1:], bool)
    ex[:5] = True
    ref = nnls_unmix(cube, truth["spectra"], exclude=ex)
    res = nnls_unmix(da.from_array(cube, chunks=(16, 32, 32)), truth["spectra"], exclude=ex)
    assert isinstance(res.W, da.Array) and res.relative_error is None
    done = res.compute()
    np.testing.assert_allclose(done.W, ref.W, rtol=1e-4, atol=1e-5)
    assert np.isnan(done.W[:, :5]).all()
    assert done.relative_error == pytest.approx(ref.relative_error, rel=1e-4)


def test_nnls_unmix_integer_nan_and_file_input(beads, tmp_path):
    cube, truth, _, _ = beads
    u16 = np.clip(cube * 1000, 0, None).astype(np.uint16)
    res = nnls_unmix(u16, truth["spectra"])
    assert np.isfinite(res.W).all() and res.W.max() > 100  # no wrap-around, counts scale
    i16 = (cube * 1000).astype(np.int16)
    assert np.isfinite(nnls_unmix(i16, truth["spectra"]).W).all()
    nan_cube = cube.copy()
    nan_cube[:, 0, 0] = np.nan
    assert np.isnan(nnls_unmix(nan_cube, truth["spectra"]).W[:, 0, 0]).all()
    from napari_unmix.io.spectra import write_spectra_csv

    p = write_spectra_csv(
        tmp_path / "s.csv", truth["spectral_axis"], truth["spectra"], truth["names"]
    )
    res = nnls_unmix(cube, p, spectral_axis=truth["spectral_axis"])
    assert res.names == truth["names"]


def test_seeded_nnmf_beats_or_matches_sklearn(beads):
    from sklearn.decomposition import non_negative_factorization

    cube, truth, masks, background = beads
    comps = [ComponentSeed(name=n, masks=[m]) for n, m in zip(truth["names"], masks, strict=True)]
    res = seeded_nnmf(cube, comps, seed_options={"background_masks": [background]})
    ours = min(_cos(res.H[j], truth["spectra"][j]) for j in range(4))
    assert ours >= 0.97 and res.converged
    seeds = res.seeds
    X = np.maximum(cube.reshape(cube.shape[0], -1).T - seeds.subtract_spectrum, 0)
    for solver in ("cd", "mu"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, Hs, _ = non_negative_factorization(
                X, W=seeds.W0.reshape(4, -1).T.copy(), H=seeds.H0.copy(), n_components=4,
                init="custom", solver=solver, max_iter=200,
            )  # fmt: skip
        theirs = min(_cos(Hs[j], truth["spectra"][j]) for j in range(4))
        assert ours >= theirs - 0.002, (solver, ours, theirs)


def test_seeded_nnmf_locks_generator_and_seedset(beads):
    cube, _truth, masks, _ = beads
    seeds = prepare_seeds(cube, [{"masks": [m]} for m in masks])
    gen = iter_seeded_nnmf(cube, seeds, lock_H=[True, False, False, False], tol=1e-3)
    event = next(gen)
    assert event.done == 1 and event.partial > 0
    res = run(gen)
    assert np.array_equal(res.H[0], seeds.H0[0])
    assert res.history[0] >= res.history[-1]
    assert res.params["lock_H"] == [True, False, False, False]
    assert res.seeds is seeds


def test_seeded_nnmf_subsample_numpy_equals_dask(beads):
    cube, truth, _, _ = beads
    full = seeded_nnmf(cube, truth["spectra"], max_pixels=1500, random_state=1)
    assert full.W.shape == (4, 64, 64) and np.isfinite(full.W).all()
    lazy = seeded_nnmf(
        da.from_array(cube, chunks=(-1, 32, 32)), truth["spectra"], max_pixels=1500, random_state=1
    )
    assert isinstance(lazy.W, da.Array) and lazy.relative_error is None
    np.testing.assert_array_equal(lazy.H, full.H)  # the same estimate
    done = lazy.compute()
    np.testing.assert_allclose(done.W, full.W, rtol=1e-5, atol=1e-6)
    assert done.relative_error == pytest.approx(full.relative_error, rel=1e-5)
    with pytest.raises(ValueError, match="max_pixels"):
        seeded_nnmf(da.from_array(cube), truth["spectra"])
    with pytest.raises(ValueError, match="for a dask cube give the seeds"):
        seeded_nnmf(da.from_array(cube), [{"masks": [np.ones((64, 64), bool)]}], max_pixels=10)


def test_four_d_per_slice_and_reference(beads):
    cube, truth, _, _ = beads
    stack = np.stack([cube, cube * 1.5])
    per = seeded_nnmf(stack, truth["spectra"], max_iter=30, tol=1e-3)
    assert per.W.shape == (2, 4, 64, 64) and per.H.shape == (2, 4, cube.shape[0])
    ref = seeded_nnmf(stack, truth["spectra"], slice_mode="reference", reference_slice=1)
    assert ref.W.shape == (2, 4, 64, 64) and ref.H.shape == (4, cube.shape[0])
    # the other slices are exact NNLS with the reference slice's H
    np.testing.assert_allclose(ref.W[0], nnls_unmix(cube, ref.H).W, rtol=1e-5, atol=1e-6)
    assert nnls_unmix(stack, truth["spectra"]).W.shape == (2, 4, 64, 64)


def test_random_nnmf_and_pca(beads):
    cube, _, _, _ = beads
    a = random_nnmf(cube, 5, random_state=0, max_iter=100, tol=1e-3)
    b = random_nnmf(cube, 5, random_state=0, max_iter=100, tol=1e-3)
    assert np.array_equal(a.H, b.H) and a.relative_error < 0.2
    with pytest.warns(ConvergenceWarning, match="max_iter=30"):  # MU is slow
        r = random_nnmf(cube, 3, init="random", solver="mu", max_iter=30, tol=1e-2)
    assert r.W.shape == (3, 64, 64)
    p = pca(cube, 4)
    assert p.H.shape == (4, cube.shape[0]) and p.relative_error < 0.2
    assert sum(p.report["explained_variance_ratio"]) > 0.8


def test_save_result_round_trip(beads, tmp_path):
    from napari_unmix.io.omio_io import read_image
    from napari_unmix.io.sidecar import read_sidecar
    from napari_unmix.io.spectra import read_spectra_csv

    cube, truth, _, _ = beads
    res = nnls_unmix(
        cube, truth["spectra"], names=truth["names"], spectral_axis=truth["spectral_axis"],
        spectral_units="cm-1",
    )  # fmt: skip
    out = res.save(tmp_path / "beads_W.ome.tif")
    W, _meta = read_image(out["W"])
    assert W.dtype == np.float32 and W.shape == (1, 1, 4, 64, 64)
    np.testing.assert_array_equal(W[0, 0], res.W)
    axis, H, names = read_spectra_csv(out["H"])
    np.testing.assert_allclose(H, res.H) and np.testing.assert_allclose(
        axis, truth["spectral_axis"]
    )
    assert names == truth["names"] and out["H"].name == "beads_W_spectra.csv"
    rep = read_sidecar(out["W"])
    assert rep["tool"] == "nnls_unmix" and rep["relative_error"] == pytest.approx(
        res.relative_error
    )
    with pytest.raises(FileExistsError):
        res.save(tmp_path / "beads_W.ome.tif")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: random_nnmf(c, 500), "k must be between 1 and the number of channels"),
        (lambda c: nnls_unmix(c, np.ones((65, 64))), "only 64 channels"),
        (lambda c: nnls_unmix(c, np.ones((2, 10))), "k x 64"),
        (lambda c: seeded_nnmf(c, np.ones((2, 10))), "k x 64"),
        (lambda c: seeded_nnmf(c, [{"masks": [np.zeros((64, 64), bool)]}]), "empty"),
        (lambda c: nnls_unmix(np.full_like(c, np.nan), np.ones((1, 64))), "every pixel"),
        (lambda c: nnls_unmix(c[0], np.ones((1, 64))), "C x Y x X"),
        (lambda c: nnls_unmix(c.astype(complex), np.ones((1, 64))), "real numbers"),
        (lambda c: seeded_nnmf(c, np.ones((1, 64)), solver="x"), "unknown solver"),
        (lambda c: seeded_nnmf(c, np.ones((1, 64)), exclude=np.ones(3, bool)), "exclude"),
    ],
)
def test_bad_input_messages(beads, call, match):
    with pytest.raises(ValueError, match=match):
        call(beads[0])


def test_load_spectra_for_seeds(beads, tmp_path):
    from napari_unmix.api.nmf import load_spectra
    from napari_unmix.io.spectra import write_spectra_csv

    cube, truth, _, _ = beads
    ax = truth["spectral_axis"]
    p = write_spectra_csv(tmp_path / "lib.csv", ax[::3], truth["spectra"][:, ::3], truth["names"])
    H, names = load_spectra(p, spectral_axis=ax)
    assert H.shape == (4, ax.size) and names == truth["names"]
    seeds = [ComponentSeed(name=n, spectrum=h, lock_h=True) for n, h in zip(names, H, strict=True)]
    res = seeded_nnmf(cube, seeds, tol=1e-3)
    assert np.array_equal(res.H, H) and res.names == names
    with pytest.raises(ValueError, match="pass spectral_axis"):
        load_spectra(p, n_channels=ax.size)


def test_dask_path_removes_the_same_scaled_background_as_numpy():
    from napari_unmix.core.scenarios.hyperspectral import make_scene

    scene = make_scene(random_state=4, shape=(48, 48), n_channels=16, n_components=2,
                       background_level=0.5, dtype="float64", nan_fraction=0.0)  # fmt: skip
    masks, background = scene.roi_masks()
    comps = [ComponentSeed(name=f"c{j}", masks=[m]) for j, m in enumerate(masks)]
    seeds = prepare_seeds(scene.cube, comps, background_masks=[background])
    level = seeds.subtract_map
    assert level is not None and np.ptp(level) > 0.1 * level.mean()  # a gradient, not a constant
    locked = [True] * seeds.k  # fixed spectra: both paths are the NNLS of the same data
    full = seeded_nnmf(scene.cube, seeds, lock_H=locked, tol=1e-10, max_iter=3000)
    lazy = seeded_nnmf(da.from_array(scene.cube, chunks=(-1, 24, 24)), seeds, lock_H=locked,
                       max_pixels=500).compute()  # fmt: skip
    np.testing.assert_allclose(lazy.W, full.W, rtol=1e-3, atol=1e-4 * np.nanmax(full.W))
