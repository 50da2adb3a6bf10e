"""Bleed-through core: ground-truth recovery, numpy/dask parity, the 2x2 inversion, bad input."""

import dask.array as da
import numpy as np
import pytest

from napari_unmix.core.bleedthrough import (
    ALPHA_METHODS,
    apply_correction,
    estimate_alpha,
    make_alpha_mask,
    prepare_source_target_for_alpha,
    sample_voxels,
)
from napari_unmix.core.synthetic import make_bleedthrough_stack

ESTIMATORS = [m for m in ALPHA_METHODS if m != "manual"]


@pytest.fixture(scope="module")
def separated():
    """Noise-free stack whose target cells do not reach into the brightest source voxels.

    Here the model holds exactly inside the mask (target = alpha * source), so every
    estimator must return alpha up to the optimiser's / histogram's resolution.
    """
    return make_bleedthrough_stack(
        n_t=1, n_z=2, shape=(128, 128), n_cells=4, random_state=2, noise_sigma=0.0
    )


@pytest.mark.parametrize("method", ESTIMATORS)
def test_every_estimator_recovers_alpha_when_the_model_holds(separated, method):
    data, truth = separated
    est = estimate_alpha(data[0, :, 0], data[0, :, 1], method=method, n_bootstrap=20)
    # tolerance 0.005: noise-free, no target signal in the mask; what remains is the
    # 0.0003-per-voxel target tail of the nearest target cell and the MI histogram's bins
    assert abs(est.alpha - truth["alpha"]) < 0.005
    assert est.ci[0] <= est.alpha <= est.ci[1]
    assert est.details["mask_voxel_count"] == int(np.ceil(0.01 * data[0, :, 0].size))


@pytest.mark.parametrize("method", ["linear_fit", "corr_min", "mi_min"])
def test_estimators_with_noise_within_the_background_bias(method):
    data, truth = make_bleedthrough_stack(
        n_t=1, n_z=4, shape=(128, 128), n_cells=4, random_state=2, noise_sigma=0.01
    )
    # mi_bins=16: a 656-voxel mask cannot fill 64x64 joint bins (see the tutorial)
    est = estimate_alpha(data[0, :, 0], data[0, :, 1], method=method, n_bootstrap=0, mi_bins=16)
    # the 1st-percentile background sits ~2.3 sigma below the true offset, leaving
    # ~0.023 in both channels: (alpha*S + 0.023) / (S + 0.023) with S ~ 0.8 is <= alpha + 0.04
    assert abs(est.alpha - truth["alpha"]) < 0.04


def test_mean_ratio_bias_equals_the_target_inside_the_mask():
    """On the overlapping sample the bias is what the true target contributes to the mask."""
    data, truth = make_bleedthrough_stack(n_t=1, n_z=2, shape=(96, 96), noise_sigma=0.0)
    est = estimate_alpha(data[0, :, 0], data[0, :, 1], method="mean_ratio", n_bootstrap=0)
    s, t = truth["source"][0].ravel(), truth["target"][0].ravel()
    mask = s >= np.percentile(s, 99)
    expected = truth["alpha"] + t[mask].mean() / s[mask].mean()
    assert abs(est.alpha - expected) < 0.01


# tiny masks: mi_min says it cannot trust its curve (the parity is what is tested)
@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
def test_numpy_and_dask_give_the_same_alpha_and_result():
    data, _ = make_bleedthrough_stack(n_t=2, n_z=3, shape=(64, 64))
    lazy = da.from_array(data, chunks=(1, 1, 1, 32, 32))
    for method in ("mean_ratio", "mi_min"):
        # within max_alpha_voxels (every voxel) and above it (exact whole-volume
        # percentiles, the mask subsampled to 5000 or 50 voxels): identical numbers
        for max_voxels in (500_000, 5000, 50):
            kw = {"method": method, "random_state": 3, "n_bootstrap": 10}
            kw["max_alpha_voxels"] = max_voxels
            a = estimate_alpha(data[0, :, 0], data[0, :, 1], **kw)
            b = estimate_alpha(lazy[0, :, 0], lazy[0, :, 1], **kw)
            assert a.alpha == b.alpha and a.ci == b.ci and a.to_dict() == b.to_dict()
            np.testing.assert_array_equal(a.mask_source, b.mask_source)
            np.testing.assert_array_equal(a.sample_target, b.sample_target)
        assert b.details["percentiles_from"] == "whole_volume" and b.details["subsampled"]
    out_np = apply_correction(data, [0.3, 0.4], alpha_reverse=0.1)
    out_da = apply_correction(lazy, [0.3, 0.4], alpha_reverse=0.1)
    assert isinstance(out_da, da.Array)
    assert all(c[3] == (64,) and c[4] == (64,) for c in [out_da.chunks])  # whole Y×X planes
    np.testing.assert_allclose(out_da.compute(), out_np, rtol=1e-6, atol=1e-7)


def test_subsample_is_seeded():
    a = np.arange(10_000.0)
    (x1,), _ = sample_voxels(a, max_voxels=100, random_state=1)
    (x2,), _ = sample_voxels(a, max_voxels=100, random_state=1)
    (x3,), _ = sample_voxels(a, max_voxels=100, random_state=2)
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3)
    (x4,), flat = sample_voxels(a.reshape(100, 100), max_voxels=3000, random_state=0)
    assert flat.size == 3000 and np.all(np.diff(flat) > 0)  # sorted, no repeats
    assert abs(x4.mean() - a.mean()) < 100  # spread over the whole volume
    stack = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5).transpose(1, 0, 2, 3)  # strided
    (v,), flat = sample_voxels(stack, max_voxels=17, random_state=0)
    np.testing.assert_array_equal(v, stack[np.unravel_index(flat, stack.shape)])
    (w,), _ = sample_voxels(da.from_array(stack, chunks=(1, 2, 4, 5)), max_voxels=17)
    np.testing.assert_array_equal(v, w)


def test_apply_inverts_known_bidirectional_mixing():
    rng = np.random.default_rng(0)
    S, T = rng.random((2, 2, 3, 8, 8)).astype(np.float32)
    a = np.array([0.3, 0.5])
    ar = np.array([0.2, 0.1])
    I_s = S + ar[:, None, None, None] * T
    I_t = T + a[:, None, None, None] * S
    data = np.stack([I_s, I_t, 0.5 * S], axis=2)
    before = data.copy()
    out = apply_correction(data, a, alpha_reverse=ar, clip_negative=False)
    np.testing.assert_allclose(out[:, :, 0], S, atol=1e-5)
    np.testing.assert_allclose(out[:, :, 1], T, atol=1e-5)
    np.testing.assert_array_equal(out[:, :, 2], data[:, :, 2])  # other channels copied
    np.testing.assert_array_equal(data, before)  # input untouched


def test_uint16_input_does_not_wrap():
    data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(32, 32), dtype="uint16")
    out = apply_correction(data, 0.9, output_dtype="uint16")
    expected = np.clip(data[:, :, 1].astype(np.float64) - 0.9 * data[:, :, 0], 0, None)
    assert out.dtype == np.uint16
    assert np.abs(out[:, :, 1].astype(np.float64) - expected).max() <= 1.0
    assert out[:, :, 1].max() <= data[:, :, 1].max()
    f = apply_correction(data, 0.9, clip_negative=False)
    assert f.dtype == np.float32 and f[:, :, 1].min() < 0  # negative, not wrapped to 65535


def test_mask_falls_back_and_says_so():
    s = np.arange(1000.0)
    t = np.arange(1000.0)  # the brightest source voxels all have a bright target
    mask, info = make_alpha_mask(s, t, signal_percentile=99, target_low_percentile=10, min_voxels=5)
    assert info["mask_fallback_used"] and info["mask_strategy"] == "source_only"
    assert mask.sum() == info["mask_voxel_count"] == 10
    _, info2 = make_alpha_mask(s, -t, signal_percentile=99, target_low_percentile=10, min_voxels=5)
    assert info2["mask_strategy"] == "source_and_low_target" and not info2["mask_fallback_used"]


def test_preprocessing_does_not_modify_input():
    s = np.array([5.0, 6.0, 9.0])
    s_copy = s.copy()
    prepare_source_target_for_alpha(s, s)
    assert np.array_equal(s, s_copy)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": -0.1}, "alpha must be finite and >= 0"),
        ({"alpha": [0.1, 0.2, 0.3]}, "one value per time point"),
        ({"alpha": 0.5, "alpha_reverse": 2.0}, "must be < 1"),
        ({"alpha": 0.5, "target_channel": 2}, "out of range"),
        ({"alpha": 0.5, "target_channel": 0}, "must differ"),
        ({"alpha": 0.5, "output_dtype": "complex64"}, "numeric dtype"),
    ],
)
def test_apply_bad_input(kwargs, match):
    data = np.ones((2, 1, 2, 4, 4), np.float32)
    alpha = kwargs.pop("alpha")
    with pytest.raises(ValueError, match=match):
        apply_correction(data, alpha, **kwargs)


def test_apply_refuses_2d():
    with pytest.raises(ValueError, match="5-D TZCYX"):
        apply_correction(np.ones((4, 4)), 0.1)


@pytest.mark.parametrize(
    ("source", "kwargs", "match"),
    [
        (np.zeros((4, 16, 16)), {}, "constant"),
        (np.full((4, 16, 16), np.nan), {}, "NaN"),
        (np.ones((4, 16, 16)), {"method": "manual"}, "manual"),
        (np.ones((4, 16, 16)), {"method": "nope"}, "unknown method"),
        (np.arange(1024.0).reshape(4, 16, 16), {"signal_percentile": 120}, "between 0 and 100"),
    ],
)
def test_estimate_bad_input(source, kwargs, match):
    target = np.random.default_rng(0).random((4, 16, 16))
    with pytest.raises(ValueError, match=match):
        estimate_alpha(source, target, **kwargs)


@pytest.mark.parametrize("reverse", [None, 0.2])
def test_apply_into_out_including_the_input_itself(reverse):
    data, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(32, 32))
    expected = apply_correction(data, [0.3, 0.4], alpha_reverse=reverse)
    buf = np.empty_like(data)
    assert apply_correction(data, [0.3, 0.4], alpha_reverse=reverse, out=buf) is buf
    np.testing.assert_array_equal(buf, expected)
    mine = data.copy()  # a caller that owns its stack may correct it in place
    apply_correction(mine, [0.3, 0.4], alpha_reverse=reverse, out=mine)
    np.testing.assert_array_equal(mine, expected)
    with pytest.raises(ValueError, match="out must be"):
        apply_correction(data, 0.3, out=np.empty(data.shape, np.float64))
    with pytest.raises(ValueError, match="numpy input"):
        apply_correction(da.from_array(data), 0.3, out=buf)


# tiny masks: mi_min says it cannot trust its curve (the parity is what is tested)
@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
@pytest.mark.parametrize(
    ("dtype", "kw"),
    [
        ("float32", {}),
        ("uint16", {"target_low_percentile": 80.0}),
        ("float32", {"preprocess_alpha_inputs": False, "signal_percentile": 95.0}),
        ("uint16", {"background_percentile": 60.0, "signal_percentile": 30.0}),
    ],
)
def test_whole_volume_percentiles_are_exact(dtype, kw):
    """numpy input above max_alpha_voxels: the mask of the whole prepared volume, exactly."""
    data, _ = make_bleedthrough_stack(n_t=1, n_z=3, shape=(64, 64), random_state=4)
    data = (data * 1000).astype(dtype) if dtype == "uint16" else data
    src, tgt = data[0, :, 0], data[0, :, 1]  # strided views, as the API passes them
    s, t, bs, bt = prepare_source_target_for_alpha(
        src,
        tgt,
        background_percentile=kw.get("background_percentile", 1.0),
        preprocess_alpha_inputs=kw.get("preprocess_alpha_inputs", True),
    )
    mask, info = make_alpha_mask(
        s,
        t,
        signal_percentile=kw.get("signal_percentile", 99.0),
        target_low_percentile=kw.get("target_low_percentile"),
    )
    for method in ("mean_ratio", "linear_fit", "corr_min", "mi_min"):
        est = estimate_alpha(src, tgt, method=method, max_alpha_voxels=2000, n_bootstrap=0, **kw)
        full = ALPHA_METHODS[method].function(
            s[mask].astype(np.float64), t[mask].astype(np.float64), alpha_max=1.0, mi_bins=64
        )[0]
        assert est.details["percentiles_from"] == "whole_volume"
        assert est.details["source_background"] == pytest.approx(bs, rel=1e-6)
        assert est.details["target_background"] == pytest.approx(bt, rel=1e-6)
        assert est.details["mask_voxel_count"] == info["mask_voxel_count"]
        assert est.details["mask_strategy"] == info["mask_strategy"]
        if info["mask_voxel_count"] <= 2000:
            assert est.alpha == pytest.approx(full, abs=1e-9)
        else:  # the mask itself is subsampled to max_alpha_voxels
            assert est.details["subsampled"] and est.mask_source.size == 2000
            assert est.alpha == pytest.approx(full, abs=0.02)


WHOLE_VOLUME_CASES = [
    ("float32", {}),
    ("uint16", {"target_low_percentile": 80.0}),
    ("uint16", {"target_low_percentile": 5.0}),  # strict mask too small: falls back
    ("float32", {"preprocess_alpha_inputs": False, "signal_percentile": 95.0}),
    ("uint16", {"background_percentile": 60.0, "signal_percentile": 30.0}),
    ("float32", {"target_low_percentile": 40.0, "signal_percentile": 60.0}),
]


# tiny masks: mi_min says it cannot trust its curve (the parity is what is tested)
@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
@pytest.mark.parametrize(("dtype", "kw"), WHOLE_VOLUME_CASES)
def test_dask_whole_volume_estimate_is_bit_identical_to_numpy(dtype, kw):
    """dask above max_alpha_voxels: the numpy path's percentiles, mask and subsample."""
    data, _ = make_bleedthrough_stack(n_t=1, n_z=3, shape=(64, 64), random_state=4)
    data = (data * 1000).astype(dtype) if dtype == "uint16" else data
    lazy = da.from_array(data, chunks=(1, 1, 1, 32, 48))  # blocks cut Y and X
    for max_voxels in (10_000, 2000, 300):  # 12288 voxels; mask whole or subsampled
        for method in ESTIMATORS:
            opts = {"method": method, "max_alpha_voxels": max_voxels, "n_bootstrap": 3, **kw}
            a = estimate_alpha(data[0, :, 0], data[0, :, 1], **opts)
            b = estimate_alpha(lazy[0, :, 0], lazy[0, :, 1], **opts)
            assert b.details["percentiles_from"] == "whole_volume"
            assert a.alpha == b.alpha and a.ci == b.ci
            assert a.to_dict() == b.to_dict()
            np.testing.assert_array_equal(a.mask_source, b.mask_source)
            np.testing.assert_array_equal(a.mask_target, b.mask_target)


def _largest_array(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.size
    if isinstance(obj, tuple | list):
        return max((_largest_array(o) for o in obj), default=0)
    return 0


def test_dask_estimate_never_computes_the_whole_volume():
    from dask.callbacks import Callback

    class Largest(Callback):
        """The largest array any task of any compute() returned."""

        def __init__(self):
            super().__init__()
            self.largest, self.tasks = 0, 0

        def _posttask(self, key, result, dsk, state, worker_id):
            self.tasks += 1
            self.largest = max(self.largest, _largest_array(result))

    data, _ = make_bleedthrough_stack(n_t=1, n_z=8, shape=(64, 64), random_state=4)
    plane = 64 * 64  # one block; the volume is 8 of them
    lazy = da.from_array(data, chunks=(1, 1, 1, 64, 64))
    for kw in ({}, {"target_low_percentile": 80.0}, {"signal_percentile": 30.0}):
        opts = {"max_alpha_voxels": 2000, "n_bootstrap": 0, **kw}
        with Largest() as cb:
            b = estimate_alpha(lazy[0, :, 0], lazy[0, :, 1], **opts)
        assert cb.tasks > 8 and 0 < cb.largest <= plane
        assert b.alpha == estimate_alpha(data[0, :, 0], data[0, :, 1], **opts).alpha


def test_dask_exact_statistics_with_ties_and_missed_windows():
    from napari_unmix.core.bleedthrough.exact import _ranks
    from napari_unmix.core.bleedthrough.lazy import _exact_stats, _flat_blocks

    rng = np.random.default_rng(0)
    vol = rng.integers(0, 7, size=(4, 50, 60)).astype(np.uint16).transpose(1, 0, 2)
    srt = np.sort(vol.ravel())
    blocks = _flat_blocks(da.from_array(vol, chunks=(7, 2, 60)), vol)
    guesses = (
        np.sort(vol.ravel()[::97]),  # good
        np.full(20_000, 3, np.uint16),  # a one-value window that misses both tails
        np.repeat(np.array([0, 6], np.uint16), 10_000),  # windows around the wrong values
        np.full(16, 3, np.uint16),  # tiny: windows open
    )
    for guess in guesses:
        for q in (0.0, 1.0, 37.5, 61.0, 99.0, 100.0):
            ks, _ = _ranks(vol.size, q)
            reqs = {"s": (0, ks), "t": (1, ks)}
            ext, stats = _exact_stats(*blocks, vol.size, (vol.dtype,) * 2, reqs, (guess,) * 2)
            assert ext == ((srt[0], srt[-1]),) * 2
            np.testing.assert_array_equal(stats["s"], srt[ks])
            np.testing.assert_array_equal(stats["t"], srt[ks])


def test_exact_tail_statistics_with_ties_and_failed_brackets():
    from napari_unmix.core.bleedthrough.exact import _ranks, _tail_stats

    rng = np.random.default_rng(0)
    vol = rng.integers(0, 7, size=(4, 50, 60)).astype(np.uint16)  # many ties
    vol = vol.transpose(1, 0, 2)  # strided
    for guess in (np.sort(vol.ravel()[::97]), np.full(16, 3, np.uint16)):  # good and bad
        for q_low, q_high in ((1.0, 99.0), (0.0, 100.0), (37.5, 61.0)):
            ks_lo, _ = _ranks(vol.size, q_low)
            ks_hi, _ = _ranks(vol.size, q_high)
            low, high, idx, ext = _tail_stats(vol, guess, ks_lo, ks_hi)
            srt = np.sort(vol.ravel())
            assert ext == (srt[0], srt[-1])
            np.testing.assert_array_equal(low, srt[ks_lo])
            np.testing.assert_array_equal(high, srt[ks_hi])
            if idx is not None:
                assert np.all(vol.reshape(-1)[idx] >= high[0])


def test_whole_volume_path_skips_nan_voxels():
    """NaN voxels (e.g. borders filled by registration) are left out of the estimate, on
    the sample path, the whole-volume numpy path and the dask path alike (#18)."""
    data, _ = make_bleedthrough_stack(n_t=1, n_z=2, shape=(32, 32))
    src, tgt = data[0, :, 0].copy(), data[0, :, 1].copy()
    kw = {"n_bootstrap": 0, "method": "linear_fit", "signal_percentile": 90.0}
    clean = estimate_alpha(src, tgt, **kw).alpha
    for bad_src in (True, False):
        s, t = src.copy(), tgt.copy()
        (s if bad_src else t)[1, 5, 7] = np.nan
        (s if bad_src else t)[0, :3, :] = np.inf
        for cap in (None, 500):
            est = estimate_alpha(s, t, max_alpha_voxels=cap, **kw)
            ignored = est.details["non_finite_voxels_ignored"]
            assert ignored == 97 if cap is None else 0 < ignored < 97
            assert abs(est.alpha - clean) < 0.05 and np.isfinite(est.alpha)
            lazy = estimate_alpha(
                da.from_array(s, chunks=(1, 16, 32)), da.from_array(t), max_alpha_voxels=cap, **kw
            )
            assert lazy.alpha == est.alpha
    with pytest.raises(ValueError, match="source channel is constant"):
        estimate_alpha(np.zeros_like(src), tgt, max_alpha_voxels=500, n_bootstrap=0)
    with pytest.raises(ValueError, match="every voxel of the source or target is NaN"):
        estimate_alpha(np.full_like(src, np.nan), tgt, n_bootstrap=0)
    with pytest.raises(ValueError, match="source channel is constant"):
        estimate_alpha(da.zeros_like(src, chunks=(1, 16, 32)), tgt, **kw)
