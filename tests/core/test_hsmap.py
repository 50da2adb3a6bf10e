"""Hyperspectral maps: ground-truth recovery, laziness on dask, clean-up, bad input."""

import dask.array as da
import numpy as np
import pytest

from napari_unmix.core import hsmap
from napari_unmix.core.metrics import adjusted_rand_index, agreement, silhouette
from napari_unmix.core.progress import run
from napari_unmix.core.synthetic import bead_cube_labels, make_bead_cube, make_two_region_cube


@pytest.fixture(scope="module")
def two_region():
    return make_two_region_cube()


def _sil(res):
    feats = res.embedding.reshape(res.embedding.shape[0], -1).T
    return silhouette(feats, res.labels.ravel())


@pytest.mark.parametrize(
    "method, options",
    [
        ("kmeans", {}),
        ("kmeans", {"n_components": 4}),
        ("ward", {}),
        ("ward", {"max_samples": 300}),  # subsample + nearest-centroid assignment
        ("ward", {"connectivity": "grid"}),
        ("gmm", {}),
    ],
)
def test_two_region_recovered(two_region, method, options):
    cube, truth = two_region
    res = hsmap.cluster_pixels(cube, n_clusters=2, method=method, random_state=0, **options)
    assert adjusted_rand_index(res.labels, truth["labels"]) >= 0.95
    assert _sil(res) >= 0.6
    # mean spectra match the true spectra of the matched regions
    match = agreement(res.labels, truth["labels"])["matching"]
    for cluster, cls in match.items():
        err = np.abs(res.mean_spectra[int(cluster) - 1] - truth["spectra"][cls - 1]).max()
        assert err < 0.05
    assert res.counts.sum() == 900
    assert res.sd_spectra.mean() == pytest.approx(0.05, abs=0.01)  # the noise level


def test_labels_deterministic_and_ordered(two_region):
    cube, _ = two_region
    a = hsmap.cluster_pixels(cube, n_clusters=3, random_state=3)
    b = hsmap.cluster_pixels(cube, n_clusters=3, random_state=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.labels.ravel()[0] == 1  # first appearance in raster order gets label 1


def test_ward_subsample_used_on_large_input():
    cube, truth = make_two_region_cube(shape=(80, 80), random_state=1)
    res = hsmap.cluster_pixels(cube, n_clusters=2, method="ward", max_samples=1000)
    assert res.report["fit"]["mode"] == "subsample + nearest centroid"
    assert adjusted_rand_index(res.labels, truth["labels"]) >= 0.95


def test_ratio_map_separates_halves(two_region):
    cube, truth = two_region
    ratio, valid = hsmap.band_ratio(cube, truth["spectral_axis"], 1655, 1742, window=10)
    a, b = ratio[:, :15], ratio[:, 15:]
    assert valid.all()
    assert np.all(np.abs(b - 1) < 0.3)  # both bands present: ratio ~1
    assert np.all(np.abs(a) > 2)  # 1742 absent: ratio far from 1
    inv, _ = hsmap.band_ratio(cube, truth["spectral_axis"], 1742, 1655, window=10)
    assert inv[:, :15].max() < 0.2 < 0.8 < inv[:, 15:].min()


def test_intensity_and_ratio_stay_lazy_on_dask(two_region):
    cube, truth = two_region
    axis = truth["spectral_axis"]
    dcube = da.from_array(cube, chunks=(50, 10, 10))
    lazy = hsmap.band_intensity(dcube, axis, 1450, window=10)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), hsmap.band_intensity(cube, axis, 1450, window=10))
    r, ok = hsmap.band_ratio(dcube, axis, 1742, 1655, window=10)
    assert isinstance(r, da.Array) and isinstance(ok, da.Array)
    np.testing.assert_allclose(
        r.compute(), hsmap.band_ratio(cube, axis, 1742, 1655, window=10)[0], rtol=1e-6
    )


def test_intensity_window_and_nearest_channel(two_region):
    cube, truth = two_region
    axis = truth["spectral_axis"]
    assert hsmap.band_channels(axis, 1655, 0).size == 1  # narrower than the spacing
    img = hsmap.band_intensity(cube, axis, 1450, window=10)
    assert img[:, :15].mean() > 0.8 and abs(img[:, 15:].mean()) < 0.05


def test_zero_denominator_is_masked():
    cube = np.ones((3, 2, 2), np.float32)
    cube[2, 0, 0] = 0.0
    ratio, valid = hsmap.band_ratio(cube, np.array([1.0, 2.0, 3.0]), 1, 3, window=0)
    assert np.isnan(ratio[0, 0]) and not valid[0, 0]
    assert np.isfinite(ratio[valid]).all()


def test_cleanup_removes_salt_and_pepper(two_region):
    cube, truth = two_region
    noisy = cube.copy()
    rng = np.random.default_rng(0)
    noisy += rng.normal(0, 0.25, size=cube.shape).astype(np.float32)
    raw = hsmap.cluster_pixels(noisy, n_clusters=2, random_state=0)
    for cleanup, opts in [("majority", {"size": 5}), ("components", {"min_size": 20})]:
        clean = hsmap.cluster_pixels(
            noisy, n_clusters=2, cleanup=cleanup, cleanup_options=opts, random_state=0
        )
        before = agreement(raw.labels, truth["labels"])["accuracy"]
        after = agreement(clean.labels, truth["labels"])["accuracy"]
        assert after >= before
        assert after > 0.97


def test_bead_cube_ground_truth():
    cube, truth = make_bead_cube(shape=(64, 64))
    gt = bead_cube_labels(truth)
    res = hsmap.cluster_pixels(cube, n_clusters=5, random_state=0)
    m = agreement(res.labels, gt)
    assert m["ari"] > 0.8
    assert m["per_class"]["3"]["iou"] > 0.8  # protein beads: distinct spectrum
    assert m["per_class"]["5"]["iou"] > 0.9  # background


def test_non_finite_pixels_left_out(two_region):
    cube, _ = two_region
    bad = cube.copy()
    bad[:, 0, 0] = np.nan
    res = hsmap.cluster_pixels(bad, n_clusters=2)
    assert res.labels[0, 0] == 0 and res.report["n_pixels_left_out"] == 1
    assert np.isfinite(res.mean_spectra).all()


def test_generator_yields_progress(two_region):
    stages = [event.message for event in hsmap.iter_cluster_map(two_region[0], n_clusters=2)]
    assert stages == ["features", "clustering", "clean-up", "spectra"]


def test_choose_k_reports_best(two_region):
    out = hsmap.choose_k(two_region[0], k_range=range(2, 6))
    assert out["best_silhouette_k"] == 2
    assert len(out["silhouette"]) == len(out["inertia"]) == 4
    assert all(np.diff(out["inertia"]) <= 0)


def test_input_never_modified(two_region):
    cube, _ = two_region
    before = cube.copy()
    hsmap.cluster_pixels(cube, n_clusters=2, cleanup="majority")
    np.testing.assert_array_equal(cube, before)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c, a: hsmap.band_intensity(c, a, 2500.0), "outside the spectral axis"),
        (lambda c, a: hsmap.band_intensity(c, a, 1000.0, window=-1), "window must be >= 0"),
        (lambda c, a: hsmap.band_intensity(c, a[:10], 1000.0), "one axis value per channel"),
        (lambda c, a: hsmap.band_intensity(c[0], a, 1000.0), r"cube \(C, Y, X\)"),
        (lambda c, a: hsmap.cluster_pixels(c, n_clusters=901), "usable pixels"),
        (lambda c, a: hsmap.cluster_pixels(c, n_clusters=0), "usable pixels"),
        (lambda c, a: hsmap.cluster_pixels(c, n_clusters=2.0), "must be an integer"),
        (lambda c, a: hsmap.cluster_pixels(c, n_clusters=2, method="dbscan"), "unknown clustering"),
        (
            lambda c, a: hsmap.cluster_pixels(c, n_clusters=2, cleanup="erode"),
            "cleanup=.erode. is not a known clean-up",
        ),
        (lambda c, a: hsmap.cluster_pixels(c, n_clusters=2, n_components=500), "n_components"),
        (lambda c, a: hsmap.choose_k(c, k_range=[1, 2]), "k_range"),
    ],
)
def test_bad_input_messages(two_region, call, match):
    cube, truth = two_region
    with pytest.raises(ValueError, match=match):
        call(cube, truth["spectral_axis"])


def test_chunked_clustering_of_a_dask_cube_matches_the_truth_and_numpy():
    """A dask cube is labelled chunk by chunk from a bounded sample; the map agrees."""
    import dask.array as da

    from napari_unmix.api.hsmap import cluster_map
    from napari_unmix.core.hsmap import iter_cluster_map_chunked
    from napari_unmix.core.metrics import adjusted_rand_index
    from napari_unmix.core.synthetic import make_two_region_cube

    cube, truth = make_two_region_cube(shape=(48, 40), n_channels=80, random_state=3)
    lazy = da.from_array(cube, chunks=(20, 16, 16))  # channels split too: rechunked inside
    for method, n_components in (("kmeans", None), ("gmm", 3), ("ward", None)):
        res = cluster_map(lazy, 2, method=method, n_components=n_components, max_samples=400)
        ref = cluster_map(cube, 2, method=method, n_components=n_components)
        assert res.report["fit"]["n_sample"] == 400 and res.report["chunked"]
        assert adjusted_rand_index(truth["labels"], res.labels) > 0.95, method
        assert adjusted_rand_index(ref.labels, res.labels) > 0.95, method
        np.testing.assert_array_equal(res.counts, np.bincount(res.labels.ravel(), minlength=3)[1:])
        for j in range(2):  # exact per-cluster mean spectra of the chunked labels
            np.testing.assert_allclose(
                res.mean_spectra[j],
                cube[:, res.labels == j + 1].mean(axis=1),
                rtol=1e-4,
                atol=1e-5,
            )
    assert res.labels.flat[0] == 1  # first appearance in raster order
    gen = iter_cluster_map_chunked(lazy, n_clusters=2, cleanup="majority", max_samples=300)
    stages = []
    cleaned = run(gen, lambda event: stages.append(event.message))
    assert "labelling" in stages and "clean-up" in stages
    np.testing.assert_array_equal(
        cleaned.counts, np.bincount(cleaned.labels.ravel(), minlength=3)[1:]
    )
