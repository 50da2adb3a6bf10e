"""source_sink_n keeps its mixing matrix invertible (co-localised scenes drove it singular)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix.core.picasso import estimate_picasso
from napari_unmix.core.picasso.sourcesink import MIN_DET, _on_det_bound, invertible_range
from napari_unmix.core.scenarios.picasso import make_picasso_scene


def test_colocalised_scene_gives_an_invertible_matrix():
    # this scene raised LinAlgError("Singular matrix"): alpha[0,1] and alpha[1,0] both
    # reached alpha_max = 1 during the global sweeps, and 1 + A had two equal rows
    data, _ = make_picasso_scene(
        n_channels=4,
        photons_per_unit=0.5,
        biology="colocalised",
        shape=(256, 256),
        n_nan=5,
        random_state=4004,
    )
    res = estimate_picasso(data, implementation="source_sink_n", pixel_bin_size=8)
    mixing, matrix = res.mixing[0], res.matrix[0]
    assert np.all(np.isfinite(mixing)) and np.all(np.isfinite(matrix))
    assert np.linalg.det(mixing) >= MIN_DET * (1 - 1e-9)
    np.testing.assert_allclose(matrix @ mixing, np.eye(4), atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_invertible_range_ends_where_the_determinant_is_min_det(seed):
    rng = np.random.default_rng(seed)
    n = 4
    mixing = np.eye(n) + rng.uniform(0, 0.6, (n, n)) * (1 - np.eye(n))
    assert np.linalg.det(mixing) > MIN_DET
    for source, sink in [(0, 1), (2, 3), (3, 0)]:
        lo, hi = invertible_range(mixing, source, sink, -100.0, 100.0)
        a = mixing[sink, source]
        assert lo <= a <= hi
        for end in (lo, hi):
            m = mixing.copy()
            m[sink, source] = end
            det = np.linalg.det(m)
            # an end inside (-100, 100) is where det(1 + A) reaches MIN_DET exactly
            if -100.0 < end < 100.0:
                assert det == pytest.approx(MIN_DET, rel=1e-9)
            else:
                assert det >= MIN_DET
        # unit free: rescaling the channels (D M D^-1) moves the ends by the same factor
        d = rng.uniform(0.1, 10, n)
        lo2, hi2 = invertible_range(np.diag(d) @ mixing / d, source, sink, -1e9, 1e9)
        lo1, hi1 = invertible_range(mixing, source, sink, -1e9, 1e9)
        f = d[sink] / d[source]
        for e1, e2 in ((lo1, lo2), (hi1, hi2)):
            if abs(e1) < 1e8:
                assert e2 == pytest.approx(e1 * f, rel=1e-9)


def test_relations_ending_on_the_bound_are_reported():
    alpha = np.array([[0.0, 0.8], [0.0, 0.0]])
    mixing = np.eye(2) + alpha.T
    _, hi = invertible_range(mixing, 1, 0, 0.0, 2.0)
    alpha[1, 0] = hi  # det(1 + A) = MIN_DET exactly
    assert _on_det_bound(alpha, [(0, 1), (1, 0)], 2.0, 1e-6) == [(0, 1), (1, 0)]
    alpha[1, 0] = hi / 2
    assert _on_det_bound(alpha, [(0, 1), (1, 0)], 2.0, 1e-6) == []
