"""Background estimate (objects excluded), object scale, and the background seed workflows.

Ground truth from the scenario generator: the estimated background level follows the true
background field and not the objects; the estimated W seed of a background component and
the scaled background-ROI subtraction keep two close spectral variants apart; degenerate
inputs give clear errors; nothing depends on the data's unit.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_unmix.core.background import background_level, object_scale, smooth_background
from napari_unmix.core.scenarios.hyperspectral import make_scene
from napari_unmix.core.seeds import ComponentSeed, prepare_seeds


def _scene(seed: int, **kw):
    opts = {
        "shape": (96, 96),
        "n_components": 3,
        "close_pair": True,
        "background_level": 0.4,
        "counts": 2000.0,
        "dtype": "uint16",
        "n_channels": 30,
        "object_diameter": 12.0,
        "nan_fraction": 0.0,
    }
    return make_scene(random_state=seed, **(opts | kw))


def _pure_roi(scene, j):
    """The largest object dominated by component j, eroded by one pixel."""
    objs = list(np.flatnonzero(scene.object_components == j))
    sizes = [(scene.labels == i + 1).sum() for i in objs]
    mask = scene.labels == objs[int(np.argmax(sizes))] + 1
    eroded = ndi.binary_erosion(mask)
    return eroded if eroded.sum() >= 4 else mask


def _background_roi(scene):
    empty = scene.maps.sum(axis=0) < 0.01 * scene.maps.max()
    dist = ndi.distance_transform_edt(np.pad(empty, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(np.argmax(dist), dist.shape)
    h = int(np.clip(dist[y, x] / np.sqrt(2) - 1, 1, 6))
    m = np.zeros(empty.shape, bool)
    m[y - h : y + h + 1, x - h : x + h + 1] = True
    return m & empty


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("diameter", [4.0, 10.0, 24.0])
def test_object_scale_follows_the_objects(diameter):
    scene = _scene(1, object_diameter=diameter, shape=(128, 128))
    r = object_scale(scene.cube.mean(axis=0, dtype=np.float64))
    assert 0.5 * diameter / 2 <= r <= 2.0 * diameter / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_background_level_excludes_the_objects(seed):
    scene = _scene(seed)
    bg = _background_roi(scene)
    spectrum = scene.cube[:, bg].mean(axis=1)
    level = background_level(scene.cube, spectrum)
    truth = scene.background_map / scene.background_map[bg].mean()
    objects = scene.maps.sum(axis=0) > 0.3
    # under the objects, where the channel mean is dominated by them, the level is the
    # background's, not the objects'
    err = np.abs(level - truth) / truth.mean()
    assert np.median(err[objects]) < 0.05 and np.percentile(err, 95) < 0.12
    # a plain blur of the same projection holds the objects: several times the error
    coef = np.tensordot(spectrum / (spectrum @ spectrum), scene.cube.astype(float), (0, 0))
    blur = ndi.gaussian_filter(coef, 12.0, mode="nearest")
    assert np.median(err[objects]) < 0.3 * np.median((np.abs(blur - truth) / truth.mean())[objects])


def test_background_estimates_are_unit_free_and_handle_nan():
    scene = _scene(3, dtype="float32", unit=1.0)
    img = scene.cube.mean(axis=0, dtype=np.float64)
    r = object_scale(img)
    base = smooth_background(img, radius=r)
    for f in (1e-30, 1e30):
        assert object_scale(img * f) == r
        np.testing.assert_allclose(smooth_background(img * f, radius=r) / f, base, rtol=1e-6)
    holed = img.copy()
    holed[10:12, :] = np.nan
    est = smooth_background(holed, radius=r)
    assert np.isfinite(est).all() and np.abs(est - base).max() < 0.1 * np.abs(base).mean()


def test_background_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        smooth_background(np.zeros((2, 3, 4)), radius=2)
    with pytest.raises(ValueError, match="no finite pixel"):
        object_scale(np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="C = 3 channels"):
        background_level(np.zeros((4, 8, 8)), np.ones(3))
    with pytest.raises(ValueError, match="all zero"):
        background_level(np.zeros((3, 8, 8)), np.zeros(3))
    assert object_scale(np.full((32, 32), 5.0)) == 1.5  # nothing there: the minimum
    np.testing.assert_allclose(smooth_background(np.full((32, 32), 5.0), radius=3), 5.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_scaled_subtraction_keeps_close_variants_in_the_seeds(seed):
    """ROI seeds after subtraction: the scaled per-pixel background leaves the components'
    spectra (cosine >= 0.99 to the truth) where the constant one leaves gradient residue."""
    scene = _scene(seed)
    comps = [ComponentSeed(name=f"c{j}", masks=[_pure_roi(scene, j)]) for j in range(3)]
    bg = _background_roi(scene)
    scaled = prepare_seeds(scene.cube, comps, background_masks=[bg])
    const = prepare_seeds(
        scene.cube, comps, background_masks=[bg], background_subtraction="constant"
    )
    cs = [_cos(scaled.H0[j], scene.spectra[j]) for j in range(3)]
    cc = [_cos(const.H0[j], scene.spectra[j]) for j in range(3)]
    assert min(cs) >= 0.99 and min(cs) >= min(cc)
    assert scaled.subtract_map.shape == (96, 96) and const.subtract_map is None
    X = np.asarray(scene.cube, np.float64).reshape(30, -1).T
    removed = scaled.remove_background(X)
    np.testing.assert_allclose(
        X - removed, scaled.subtract_map.reshape(-1, 1) * scaled.subtract_spectrum
    )


def test_background_component_seed_map_is_the_background_not_the_objects():
    scene = _scene(4)
    bg = _background_roi(scene)
    comps = [ComponentSeed(name=f"c{j}", masks=[_pure_roi(scene, j)]) for j in range(3)]
    est = prepare_seeds(scene.cube, [*comps, ComponentSeed("bg", masks=[bg], background=True)])
    mean = prepare_seeds(
        scene.cube,
        [*comps, ComponentSeed("bg", masks=[bg], background=True)],
        background_projection="mean",
    )
    truth = scene.background_map.ravel()
    assert np.corrcoef(est.W0[3].ravel(), truth)[0, 1] > 0.95
    assert np.corrcoef(mean.W0[3].ravel(), truth)[0, 1] < 0.9  # holds the objects
    assert not est.lock_W.any()


def test_seed_bad_input_duplicate_names_and_background_equal_to_roi():
    scene = _scene(5)
    roi = _pure_roi(scene, 0)
    with pytest.raises(ValueError, match=r"names must be unique, \['a'\]"):
        prepare_seeds(
            scene.cube, [ComponentSeed("a", masks=[roi]), ComponentSeed("a", masks=[roi])]
        )
    with pytest.raises(ValueError, match="inside the background ROIs"):
        prepare_seeds(scene.cube, [ComponentSeed("a", masks=[roi])], background_masks=[roi])
    with pytest.raises(ValueError, match="background_subtraction must be one of"):
        prepare_seeds(
            scene.cube,
            [ComponentSeed("a", masks=[roi])],
            background_masks=[_background_roi(scene)],
            background_subtraction="median",
        )
    with pytest.raises(ValueError, match="background_projection must be one of"):
        prepare_seeds(
            scene.cube,
            [ComponentSeed("a", masks=[roi]), ComponentSeed("b", background=True)],
            background_projection="median",
        )


@pytest.mark.parametrize("factor", [1e-30, 1e30])
def test_seeds_do_not_depend_on_the_unit(factor):
    scene = _scene(6, dtype="float32", unit=1.0)
    comps = [ComponentSeed(name=f"c{j}", masks=[_pure_roi(scene, j)]) for j in range(3)]
    comps.append(ComponentSeed("bg", masks=[_background_roi(scene)], background=True))
    bg = [_background_roi(scene)]
    base = prepare_seeds(scene.cube, comps[:3], background_masks=bg)
    scaled = prepare_seeds(scene.cube.astype(np.float64) * factor, comps[:3], background_masks=bg)
    np.testing.assert_allclose(scaled.H0 / factor, base.H0, rtol=1e-6)
    np.testing.assert_allclose(scaled.subtract_map, base.subtract_map, rtol=1e-6, atol=1e-9)
    a = prepare_seeds(scene.cube, comps)
    b = prepare_seeds(scene.cube.astype(np.float64) * factor, comps)
    np.testing.assert_allclose(b.W0, a.W0, rtol=1e-5, atol=1e-7)


def test_seedset_background_helpers_agree():
    scene = _scene(7)
    comps = [ComponentSeed(name=f"c{j}", masks=[_pure_roi(scene, j)]) for j in range(3)]
    s = prepare_seeds(scene.cube, comps, background_masks=[_background_roi(scene)])
    cube = s.subtract_from_cube(scene.cube)
    X = np.asarray(scene.cube, np.float64).reshape(30, -1).T
    np.testing.assert_allclose(cube.reshape(30, -1).T, s.remove_background(X))
    np.testing.assert_allclose(scene.cube[:, 40, 50] - cube[:, 40, 50], s.background_at(40, 50))
