"""The hyperspectral scene generator: its truth explains its cube, its draws span the conditions."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix.core.scenarios.hyperspectral import make_scene, spectral_cosines

SMALL = {"max_side": 96, "max_channels": 40}


@pytest.mark.parametrize("seed", range(6))
def test_drawn_scene_is_consistent(seed):
    scene = make_scene(random_state=seed, **SMALL)
    p = scene.params
    k, (ny, nx), c = p["n_components"], p["shape"], p["n_channels"]
    assert scene.cube.shape == (c, ny, nx)
    assert scene.maps.shape == (k, ny, nx) and scene.spectra.shape == (k, c)
    assert 64 <= ny <= 96 and 8 <= c <= 40 and 1 <= k <= 8
    assert np.all(np.diff(scene.spectral_axis) > 0)
    # every component dominates at least one object, and the labels say which
    assert set(scene.object_components.tolist()) == set(range(k))
    comp = scene.component_labels()
    for i, dom in enumerate(scene.object_components):
        inside = scene.labels == i + 1
        if inside.any():
            assert np.all(comp[inside] == dom)
            assert np.argmax(scene.maps[:, inside].sum(axis=1)) == dom
    cos = spectral_cosines(scene.spectra) - 2 * np.eye(k)
    assert cos.max() <= 0.95 + 1e-9
    if p["close_pair"]:
        assert 0.86 - 1e-6 <= spectral_cosines(scene.spectra)[0, 1] <= 0.92 + 1e-6
    if scene.cube.dtype == np.uint16:
        assert not scene.nan_mask.any()
    else:
        assert np.array_equal(np.isnan(scene.cube).all(axis=0), scene.nan_mask)
        assert not np.isnan(scene.cube[:, ~scene.nan_mask]).any()


def test_truth_explains_noise_free_cube():
    scene = make_scene(
        random_state=3,
        shape=(64, 80),
        n_channels=24,
        n_components=4,
        dtype="float64",
        unit=1e-3,
        shot_noise=False,
        read_noise=0.0,
        background_level=0.3,
        nan_fraction=0.0,
    )
    w, h = scene.truth()
    assert w.shape == (64 * 80, 5) and h.shape == (5, 24)
    model = (w.astype(np.float64) @ h).T.reshape(scene.cube.shape)
    np.testing.assert_allclose(scene.cube, model, rtol=1e-5, atol=1e-9 * model.max())
    # the background sits under the objects and is smooth and positive
    assert scene.background_map.min() > 0 and abs(scene.background_map.mean() - 1) < 1e-5


def test_shot_noise_is_poisson_in_counts():
    conditions = {"shape": (128, 128), "n_channels": 10, "n_components": 2, "dtype": "uint16"}
    noise = {"counts": 200.0, "read_noise": 0.0, "shot_noise": True, "background_level": 0.5}
    scene = make_scene(5, **conditions, **noise)
    lam = scene.expected().astype(np.float64)
    resid = scene.cube.astype(np.float64) - lam
    keep = lam > 20  # rounding and clipping are negligible there
    assert abs(resid[keep].mean()) < 0.05 * np.sqrt(lam[keep].mean())
    np.testing.assert_allclose((resid[keep] ** 2 / lam[keep]).mean(), 1.0, atol=0.05)


def test_seeded_and_overrides_keep_other_draws():
    a = make_scene(random_state=11, **SMALL)
    b = make_scene(random_state=11, **SMALL)
    assert np.array_equal(a.cube, b.cube, equal_nan=True)
    c = make_scene(random_state=11, counts=a.params["counts"] * 10, **SMALL)
    for key in ("shape", "n_channels", "n_components", "dtype", "spectral_units"):
        assert c.params[key] == a.params[key]


def test_units_and_counts_follow_the_request():
    cm = make_scene(random_state=2, spectral_units="cm-1", shape=(64, 64), n_channels=16)
    nm = make_scene(random_state=2, spectral_units="nm", shape=(64, 64), n_channels=16)
    assert cm.spectral_units == "cm-1" and 600 <= cm.spectral_axis[0] <= 2750
    assert nm.spectral_units == "nm" and 400 <= nm.spectral_axis[0] <= 600
    big = make_scene(random_state=4, counts=1e4, dtype="uint16", shape=(64, 64))
    assert big.cube.max() > 2000 and big.spectra.max() == pytest.approx(1e4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dtype": "int8"}, "dtype"),
        ({"spectral_units": "eV"}, "spectral_units"),
        ({"n_components": 9, "n_channels": 8}, "n_components"),
        ({"shape": (8, 8)}, "shape"),
        ({"counts": -1.0}, "counts"),
        ({"nan_fraction": 1.0}, "nan_fraction"),
    ],
)
def test_bad_conditions_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_scene(random_state=0, **kwargs)
