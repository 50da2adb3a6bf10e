"""ROI suggester core: ground-truth recovery on the bead cubes, invariants, bad input."""

import numpy as np
import pytest

from napari_unmix.core import synthetic
from napari_unmix.core.suggest import (
    PROJECTIONS,
    box_iou,
    candidate_boxes,
    find_suggestions,
    fingerprints,
    response_maps,
    score_against_truth,
)


@pytest.fixture(scope="module")
def bead():
    return synthetic.make_bead_cube()


@pytest.fixture(scope="module")
def similar():
    return synthetic.make_similar_bead_cube()


def _score(res, truth):
    return score_against_truth(res.boxes, res.groups, truth["abundances"])


#: the bead cubes' fixed background sigma of the tests of the grouping options (the
#: estimated one is tested on the scenario generator in test_suggest_scenarios.py)
S8 = {"local_background_sigma": 8.0}


@pytest.mark.parametrize(("max_groups", "found"), [(3, 3), (4, 4)])
def test_bead_cube_given_groups_finds_dominated_components(bead, max_groups, found):
    cube, truth = bead
    s = _score(find_suggestions(cube, **S8, max_groups=max_groups), truth)
    assert s["n_found"] == found and s["n_pure_groups"] == max_groups == s["n_groups"]


def test_bead_cube_weak_component_found(bead):
    cube, truth = bead
    res = find_suggestions(cube, **S8, max_groups=4)
    assert 3 in _score(res, truth)["components_found"]  # 4x dimmer "weak" beads


def test_bead_cube_pure_groups_with_several_rois(bead):
    cube, truth = bead
    s = _score(find_suggestions(cube, **S8, max_groups=4, max_rois_per_group=3), truth)
    assert s["n_found"] == 4 and s["n_pure_groups"] == 4


def test_gradient_fingerprint_helps_on_bead_cube(bead):
    cube, truth = bead
    on = _score(find_suggestions(cube, **S8, max_groups=4, gradient_fingerprint=True), truth)
    off = _score(find_suggestions(cube, **S8, max_groups=4, gradient_fingerprint=False), truth)
    assert on["n_found"] == 4 and off["n_found"] == 2


def test_similar_cube_hierarchical(similar):
    cube, truth = similar
    u = truth["spectra"] / np.linalg.norm(truth["spectra"], axis=1, keepdims=True)
    cos = (u @ u.T)[np.triu_indices(5, 1)]
    assert cos.min() >= 0.85 and cos.max() <= 0.95
    s = _score(find_suggestions(cube, **S8, max_groups=5), truth)
    assert s["n_found"] == 5 and s["n_pure_groups"] == 5  # the weak one (4) too
    s = _score(find_suggestions(cube, **S8, max_groups=3), truth)
    assert s["n_found"] == 3 and s["n_pure_groups"] == 3
    s = _score(find_suggestions(cube, **S8, max_groups=5, max_rois_per_group=3), truth)
    assert s["n_found"] == 5 and s["n_pure_groups"] >= 3


def test_gradient_fingerprint_over_seeds():
    """Over 3 more bead cubes (seeds 1-3) the gradient fingerprint finds 9 of 12 (plain: 6)."""
    found = {True: 0, False: 0}
    for seed in (1, 2, 3):
        cube, truth = synthetic.make_bead_cube(random_state=seed)
        for grad in found:
            found[grad] += _score(
                find_suggestions(cube, **S8, max_groups=4, gradient_fingerprint=grad), truth
            )["n_found"]
    assert found == {True: 9, False: 6}


def test_representative_rules(bead):
    cube, truth = bead
    for rule in ("distinctive", "typical"):
        s = _score(find_suggestions(cube, **S8, max_groups=4, representative=rule), truth)
        assert s["n_found"] == 4 and s["n_pure_groups"] == 4


def test_similar_cube_greedy_merges_everything_at_default_threshold(similar):
    cube, _ = similar
    # every pair of spectra has cosine >= 0.85 > 0.82: greedy cannot separate them
    assert find_suggestions(cube, max_groups=5, hierarchical=False).n_groups == 1


@pytest.mark.parametrize("projection", sorted(PROJECTIONS))
def test_every_projection_runs(bead, projection):
    cube, _truth = bead
    res = find_suggestions(cube[:, :64, :64], projection=projection, frame=20, max_groups=2)
    assert res.response.shape == (64, 64) and len(res) >= 1
    assert np.all((res.boxes[:, :2] >= 0) & (res.boxes[:, 2:] <= 64))
    assert np.all(res.boxes[:, 2:] > res.boxes[:, :2])


def test_binning_and_processed_still_find_components(bead):
    cube, truth = bead
    s = _score(find_suggestions(cube, max_groups=4, binning=2), truth)
    assert s["n_found"] >= 3
    s = _score(find_suggestions(cube, max_groups=4, processed=True), truth)
    assert s["n_found"] >= 3


def test_invariants(bead):
    cube, _ = bead
    before = cube.copy()
    res = find_suggestions(cube, max_groups=3, max_rois_per_group=2)
    np.testing.assert_array_equal(cube, before)  # input untouched
    assert res.spectra.shape == (len(res), cube.shape[0]) and res.spectra.dtype == np.float32
    assert res.groups.min() == 0 and res.groups.max() == 2
    y0, x0, y1, x1 = res.boxes[0]
    np.testing.assert_allclose(res.spectra[0], cube[:, y0:y1, x0:x1].mean(axis=(1, 2)), rtol=1e-5)
    # no two boxes of a group overlap (merge_duplicates)
    for g in range(3):
        b = res.boxes[res.groups == g]
        for i in range(len(b)):
            assert np.all(box_iou(b[i], np.delete(b, i, axis=0)) == 0)
    # min_diagonal drops small boxes
    big = find_suggestions(cube, min_diagonal=30)
    diag = np.hypot(*(big.boxes[:, 2:] - big.boxes[:, :2]).T)
    assert np.all(diag >= 30)


def test_response_map_removes_gradient():
    _yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    ramp = np.broadcast_to(xx / 64, (4, 64, 64))
    m = response_maps(ramp)
    assert float(m[0, 16:48, 16:48].max()) < 0.05  # only the image border keeps a response


def test_weak_blob_found_by_the_sweep():
    img = np.zeros((64, 64), np.float32)
    img[10:16, 10:16] = 1.0
    img[40:46, 40:46] = 0.2  # 5x dimmer
    boxes, _ = candidate_boxes(img)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert np.any(np.all(np.abs(centres - 43) < 3, axis=1))


def test_fingerprint_gradient_separates_shoulder():
    ax = np.linspace(0, 1, 50)
    a = np.exp(-((ax - 0.5) ** 2) / 0.02)
    b = a + 0.3 * np.exp(-((ax - 0.65) ** 2) / 0.002)
    plain = fingerprints(np.stack([a, b]), gradient=False)
    grad = fingerprints(np.stack([a, b]), gradient=True)
    assert grad[0] @ grad[1] < plain[0] @ plain[1]


def test_flat_image_gives_no_candidates():
    res = find_suggestions(np.full((5, 32, 32), 3.0, np.float32))
    assert len(res) == 0 and res.boxes.shape == (0, 4) and "no candidates" in res.notes[0]


def test_more_groups_than_candidates():
    cube = np.zeros((4, 40, 40), np.float32)
    cube[:, 10:16, 10:16] = np.array([1, 0, 0, 1])[:, None, None]
    res = find_suggestions(cube, max_groups=5)
    assert len(res) == 1 and res.n_groups == 1 and "only 1 candidates" in res.notes[0]
