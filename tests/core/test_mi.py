import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from napari_unmix.core.mi import FixedBinnedMI, bin_indices, mutual_information


@given(seed=st.integers(0, 10_000), bins=st.integers(2, 40))
def test_matches_sklearn_on_the_same_bins(seed, bins):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=2000)
    y = 0.5 * x + rng.normal(size=2000)
    ours = mutual_information(x, y, bins=bins)
    ref = mutual_info_score(bin_indices(x, bins), bin_indices(y, bins))
    assert ours == pytest.approx(ref, abs=1e-10)


def test_independent_is_near_zero_dependent_is_large():
    rng = np.random.default_rng(0)
    x = rng.random(100_000)
    assert mutual_information(x, rng.random(100_000), bins=32) < 0.02
    assert mutual_information(x, x**2, bins=32) > 2.5


def test_fixed_binned_minimum_is_at_the_true_alpha():
    rng = np.random.default_rng(3)
    s = rng.exponential(size=200_000)
    t = rng.exponential(size=200_000)
    y = t + 0.3 * s
    mi = FixedBinnedMI(s, bins=64)
    alphas = np.linspace(0, 0.6, 61)
    best = alphas[np.argmin([mi(y - a * s) for a in alphas])]
    assert best == pytest.approx(0.3, abs=0.02)


def test_constant_and_bad_inputs():
    assert mutual_information(np.ones(10), np.arange(10.0)) == 0.0
    with pytest.raises(ValueError, match="same size"):
        mutual_information(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="bins must be"):
        bin_indices(np.ones(3), 1)
