"""Degenerate inputs to the hyperspectral unmixing API: a clear error or warning each."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix.api.nmf import nnls_unmix, pca, random_nnmf, seeded_nnmf
from napari_unmix.core.nmf import fit_nmf, nndsvd_init, random_init
from napari_unmix.core.scenarios.hyperspectral import make_scene


@pytest.fixture(scope="module")
def scene():
    return make_scene(random_state=7, shape=(32, 32), n_channels=12, n_components=3,
                      dtype="float32", nan_fraction=0.0, background_level=0.2)  # fmt: skip


def _bad_axis(n, kind):
    ax = np.linspace(2750.0, 3050.0, n)
    if kind == "nan":
        ax[3] = np.nan
    else:
        ax[[2, 3]] = ax[[3, 2]]
    return ax


BAD = [
    ("nnls: (0, C) spectra", lambda c, H: nnls_unmix(c, H[:0]), "no spectra"),
    ("nnls: all-zero row", lambda c, H: nnls_unmix(c, np.vstack([H, 0 * H[:1]])), "no positive"),
    ("nnls: negative spectra", lambda c, H: nnls_unmix(c, -H), "no positive"),
    (
        "nnls: duplicated spectrum",
        lambda c, H: nnls_unmix(c, np.vstack([H, 2 * H[:1]])),
        "same spectrum",
    ),
    ("nnls: duplicated names", lambda c, H: nnls_unmix(c, H, names=["a", "b", "c", "a"]), "unique"),
    (
        "nnls: NaN axis",
        lambda c, H: nnls_unmix(c, H, spectral_axis=_bad_axis(12, "nan")),
        "NaN or inf",
    ),
    (
        "nnls: unsorted axis",
        lambda c, H: nnls_unmix(c, H, spectral_axis=_bad_axis(12, "swap")),
        "strictly increasing",
    ),
    ("seeded: negative cube", lambda c, H: seeded_nnmf(-c, H), "no positive value"),
    (
        "seeded: zero seed",
        lambda c, H: seeded_nnmf(c, np.vstack([H, 0 * H[:1]])),
        "no positive value|all zero",
    ),
    (
        "seeded: duplicated seeds",
        lambda c, H: seeded_nnmf(c, np.vstack([H, H[:1]])),
        "same spectrum",
    ),
    (
        "seeded: max_iter 2.5",
        lambda c, H: seeded_nnmf(c, H, max_iter=2.5),
        "max_iter must be an integer, got max_iter=2.5",
    ),
    ("random: k=2.5", lambda c, H: random_nnmf(c, 2.5), "k must be an integer, got k=2.5"),
    ("random: k > channels", lambda c, H: random_nnmf(c, 13), "between 1 and"),
    ("random: negative cube", lambda c, H: random_nnmf(-c, 2), "no positive value"),
    ("random: k > pixels", lambda c, H: random_nnmf(c[:, :2, :2], 5), "usable pixels"),
    ("pca: k=True", lambda c, H: pca(c, True), "k must be an integer, got k=True"),
    ("core: k > pixels", lambda c, H: nndsvd_init(np.ones((3, 12)), 4), "min\\(pixels"),
    ("core: random k=0", lambda c, H: random_init(np.ones((3, 12)), 0), "between 1"),
    (
        "core: no components",
        lambda c, H: fit_nmf(np.ones((4, 12)), np.ones((4, 0)), H[:0]),
        "no components",
    ),
]


@pytest.mark.parametrize(("call", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_degenerate_inputs_raise_clearly(scene, call, match):
    with pytest.raises(ValueError, match=match):
        call(scene.cube, scene.truth()[1])


def test_all_zero_abundances_warn(scene):
    H = scene.truth()[1]
    with pytest.warns(UserWarning, match="every abundance is 0"):
        res = nnls_unmix(-np.abs(scene.cube), H)
    assert res.relative_error == pytest.approx(1.0)


def test_inputs_not_modified(scene):
    cube, H = scene.cube.copy(), scene.truth()[1].copy()
    nnls_unmix(scene.cube, H)
    assert np.array_equal(cube, scene.cube) and np.array_equal(H, scene.truth()[1])
