"""Bleed-through on the scenario generator: ground truth, overlap bias, reliability, interval.

A small seeded subset of ``benchmarks/bench_bleedthrough_scenarios.py``.
"""

import numpy as np
import pytest

from napari_unmix.core.bleedthrough import AlphaReliabilityWarning, estimate_alpha
from napari_unmix.core.scenarios.bleedthrough import OVERLAPS, draw_scenarios, make_scenario
from napari_unmix.core.synthetic import make_bleedthrough_stack

ESTIMATORS = ("mean_ratio", "linear_fit", "corr_min", "mi_min")


def _errors(scenes, method):
    out = []
    for p in scenes:
        data, truth = make_scenario(**p)
        est = estimate_alpha(data[0, :, 0], data[0, :, 1], method=method, n_bootstrap=0)
        out.append(abs(est.alpha - truth["alpha_by_t"][0]))
    return np.array(out)


class _maybe_warns:
    """Records AlphaReliabilityWarning (a flagged scene is allowed, not required)."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings(record=True)
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always", AlphaReliabilityWarning)
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        other = [w for w in self.caught if not issubclass(w.category, AlphaReliabilityWarning)]
        assert not other, [str(w.message) for w in other]


def test_generator_follows_its_model():
    kw = {"overlap": "partial", "alpha": 0.3, "n_z": 2, "n_t": 2, "shape": (48, 48)}
    data, truth = make_scenario(photons_per_unit=1e7, random_state=4, **kw)  # ~noise-free
    offset, auto = np.array(truth["offset"]), np.array(truth["autofluorescence"])
    expected_t = truth["target"] + 0.3 * truth["source"] + auto[1] + offset[1]
    np.testing.assert_allclose(data[:, :, 1], expected_t, rtol=0, atol=0.05)
    np.testing.assert_allclose(data[:, :, 0], truth["source"] + auto[0] + offset[0], atol=0.05)
    again, _ = make_scenario(photons_per_unit=1e7, random_state=4, **kw)
    np.testing.assert_array_equal(data, again)  # everything through random_state
    noisy, _ = make_scenario(photons_per_unit=0.1, random_state=4, **kw)
    resid = noisy[:, :, 1] - expected_t
    # Poisson at 0.1 photons/unit: variance of the expected value / 0.1 (units²)
    assert 0.5 < resid.var() / (expected_t - offset[1]).mean() * 0.1 < 2.0
    _, dtruth = make_scenario(alpha_per_t=True, random_state=1, **kw)
    assert dtruth["alpha_by_t"][0] == 0.3 and dtruth["alpha_by_t"][1] != 0.3
    nan, ntruth = make_scenario(n_nan=5, random_state=2, **kw)
    assert np.isnan(nan).sum() == len({tuple(p) for p in ntruth["nan_pixels"]}) * 2 * 2 * 2


def test_overlap_modes_place_target_cells_as_named():
    dist = {}
    for overlap in OVERLAPS:
        _, truth = make_scenario(overlap=overlap, n_z=1, shape=(128, 128), random_state=3)
        s, t = truth["source"][0, 0], truth["target"][0, 0]
        # how much target signal sits where the source is bright
        bright = s >= np.percentile(s, 99)
        dist[overlap] = t[bright].mean() / t.max()
    assert dist["separate"] < 0.01 < dist["partial"] < dist["full"]
    assert dist["touching"] < dist["partial"]


def test_draw_scenarios_is_seeded_and_spans_the_conditions():
    a = draw_scenarios(40, random_state=1)
    assert a == draw_scenarios(40, random_state=1)
    assert {p["overlap"] for p in a} == set(OVERLAPS)
    g = [p["photons_per_unit"] for p in a]
    assert min(g) < 1 and max(g) > 10
    assert all(0.05 <= p["alpha"] <= 0.5 for p in a)


@pytest.mark.parametrize("method", ESTIMATORS)
def test_every_estimator_recovers_alpha_on_separate_biology(method):
    scenes = draw_scenarios(5, random_state=8, overlap="separate", n_t=1)
    with _maybe_warns():  # (a scene at 0.1 photons/unit may be flagged)
        err = _errors(scenes, method)
    # what remains: the 1st-percentile background below the true offset under shot noise
    assert np.median(err) < 0.03 and err.max() < 0.08, err


def test_mi_min_is_least_biased_when_structures_overlap_partly():
    scenes = draw_scenarios(6, random_state=5, overlap="partial", n_t=1, photons_per_unit=5.0)
    with _maybe_warns():
        err = {m: np.median(_errors(scenes, m)) for m in ESTIMATORS}
    assert err["mi_min"] < min(err["mean_ratio"], err["linear_fit"], err["corr_min"]), err
    assert err["mi_min"] < 0.15, err


def test_mi_min_on_a_small_mask_says_so_and_uses_the_stated_rule():
    data, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(96, 96))
    with pytest.warns(AlphaReliabilityWarning, match="mi_min: .*min\\(mi_argmin, corr_min\\)"):
        est = estimate_alpha(data[0, :, 0], data[0, :, 1], method="mi_min")
    d = est.details["method_details"]
    assert est.details["reliable"] is False and est.details["warnings"]
    assert d["unreliable_reason"] and d["fallback"] == "min(mi_argmin, corr_min)"
    corr = estimate_alpha(data[0, :, 0], data[0, :, 1], method="corr_min", n_bootstrap=0)
    assert est.alpha == min(d["mi_argmin"], corr.alpha) != 0.5
    assert est.ci[0] <= est.alpha <= est.ci[1]
    # a mask large enough: trusted, no warning (warnings are errors here)
    big, _ = make_bleedthrough_stack(n_t=1, n_z=4, shape=(256, 256), random_state=1)
    ok = estimate_alpha(big[0, :, 0], big[0, :, 1], method="mi_min", n_bootstrap=0)
    assert ok.details["reliable"] is True and not ok.details["warnings"]
    assert abs(ok.alpha - 0.35) < 0.03


@pytest.mark.parametrize("method", ESTIMATORS)
def test_estimates_do_not_depend_on_the_unit(method):
    data, _ = make_scenario(overlap="touching", n_z=2, shape=(64, 64), random_state=6)
    src, tgt = data[0, :, 0], data[0, :, 1]
    with _maybe_warns():
        ests = [
            estimate_alpha(src * np.float32(k), tgt * np.float32(k), method=method, n_bootstrap=20)
            for k in (1.0, 1e-30, 1e30)
        ]
    # mi_min on this 82-voxel mask: the MI is piecewise constant in alpha and the float32
    # rounding of the scaled input moves the minimum within its plateau (< 1e-3), and
    # the 20 resamples' interval around it by a few 1e-3
    tol, ci_tol = (1e-3, 5e-3) if method == "mi_min" else (1e-6, 1e-5)
    for e in ests[1:]:
        assert e.alpha == pytest.approx(ests[0].alpha, rel=1e-4, abs=tol)
        np.testing.assert_allclose(e.ci, ests[0].ci, rtol=1e-3, atol=ci_tol)


@pytest.mark.parametrize("method", ESTIMATORS)
def test_bounded_bootstrap_is_as_wide_as_the_ordinary_one(method):
    """m-out-of-n (2048 of a larger mask, deviations scaled by sqrt(m/n)) vs resampling
    every mask voxel, which costs the mask size times the estimate per resample."""
    from napari_unmix.core.bleedthrough.estimators import ALPHA_METHODS

    data, _ = make_bleedthrough_stack(n_t=1, n_z=8, shape=(256, 256), random_state=3)
    est = estimate_alpha(data[0, :, 0], data[0, :, 1], method=method, random_state=1)
    x, y = est.mask_source.astype(np.float64), est.mask_target.astype(np.float64)
    assert x.size > est.details["bootstrap_voxels"] == 2048
    rng = np.random.default_rng(2)
    func = ALPHA_METHODS[method].function
    full = [
        func(x[i], y[i], alpha_max=1.0, mi_bins=64)[0]
        for i in rng.integers(0, x.size, (60, x.size))
    ]
    lo, hi = np.percentile(full, [2.5, 97.5])
    ratio = (est.ci[1] - est.ci[0]) / (hi - lo)
    assert 0.6 < ratio < 1.6, (est.ci, (lo, hi))


def test_mi_min_interval_matches_the_spread_over_noise_realisations():
    """With the cells fixed and only the noise redrawn, alpha varies as wide as its interval."""
    clean, _ = make_bleedthrough_stack(n_t=1, n_z=6, shape=(192, 192), noise_sigma=0.0)
    rng = np.random.default_rng(0)
    alphas, widths = [], []
    for r in range(10):
        d = clean + rng.normal(0, 0.01, clean.shape).astype(np.float32)
        est = estimate_alpha(d[0, :, 0], d[0, :, 1], method="mi_min", random_state=r)
        alphas.append(est.alpha)
        widths.append(est.ci[1] - est.ci[0])
    true_width = 3.92 * np.std(alphas, ddof=1)
    assert 0.5 < np.mean(widths) / true_width < 2.0, (np.mean(widths), true_width)


def test_mi_min_is_stable_in_the_bins_on_small_masks(monkeypatch):
    """Masks too small for mi_bins average four shifted histogram grids (#18): the
    estimate moves less between 2.5 and 3.5 n^(1/3) bins than with one grid."""
    from napari_unmix.core.bleedthrough import estimators

    rule, offsets = estimators.mi_bins_for, estimators.mi_offsets
    scenes = [make_scenario(**p) for p in draw_scenarios(24, random_state=2026)]
    scenes = [(d[0, :, 0], d[0, :, 1], t["alpha_by_t"][0]) for d, t in scenes]
    spread, error = {}, {}
    for grids in (1, 4):
        one = (lambda b, m: (None,)) if grids == 1 else offsets
        monkeypatch.setattr(estimators, "mi_offsets", one)
        alphas = []
        for f in (2.5, 3.0, 3.5):
            monkeypatch.setattr(
                estimators, "mi_bins_for",
                lambda n, m, f=f: int(min(m, max(2, np.ceil(f * n ** (1 / 3))))),
            )  # fmt: skip
            with _maybe_warns():
                est = [estimate_alpha(s, t, method="mi_min", n_bootstrap=0) for s, t, _ in scenes]
            alphas.append([e.alpha for e in est])
        monkeypatch.setattr(estimators, "mi_bins_for", rule)
        a, truth = np.array(alphas), np.array([a for _, _, a in scenes])
        spread[grids] = np.median(a.max(0) - a.min(0))
        error[grids] = np.median(np.abs(a[1] - truth))
    assert spread[4] < 0.7 * spread[1], spread  # 0.017 vs 0.032 (24 scenes)
    assert error[4] <= error[1], error  # 0.030 vs 0.039
