"""Stack tools: equal to scipy, histogram quantiles matched, known shifts recovered and undone."""

import re

import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from scipy import ndimage as ndi

from napari_unmix.core import stack_tools as st
from napari_unmix.core.progress import run
from napari_unmix.core.synthetic import make_bleedthrough_stack

RNG = np.random.default_rng(0)


def _rand(shape=(2, 3, 2, 9, 10), dtype=np.float32):
    return np.random.default_rng(1).random(shape).astype(dtype)


# ----------------------------------------------------------------------------- refusal
CALLS = {
    "apply_filters": lambda a: st.apply_filters(a, "median"),
    "match_histograms_across_time": st.match_histograms_across_time,
    "max_z_project": st.max_z_project,
    "correct_intra_stack_z_drift": st.correct_intra_stack_z_drift,
    "register_stack": lambda a: st.register_stack(a, registration_channel=0),
    "apply_shifts": lambda a: st.apply_shifts(a, np.zeros((1, 2))),
    "estimate_z_drift": lambda a: run(st.estimate_z_drift(a)),
    "estimate_time_shifts": lambda a: run(st.estimate_time_shifts(a, registration_channel=0)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 5), (3, 2, 4, 5)])
def test_non_tzcyx_is_refused_with_its_shape(name, shape):
    with pytest.raises(ValueError, match="TZCYX.*" + re.escape(f"stack.shape={tuple(shape)}")):
        CALLS[name](np.zeros(shape, np.float32))


# ----------------------------------------------------------------------------- filters
def test_filters_2d_equal_scipy_per_plane():
    stack = _rand()
    med = st.apply_filters(stack, "median", median_size=3)
    gau = st.apply_filters(stack, "gaussian", gaussian_sigma=1.5)
    for t, z, c in np.ndindex(stack.shape[:3]):
        plane = stack[t, z, c]
        np.testing.assert_array_equal(med[t, z, c], ndi.median_filter(plane, size=3))
        np.testing.assert_allclose(gau[t, z, c], ndi.gaussian_filter(plane, 1.5), atol=1e-6)


def test_filters_3d_and_order_equal_scipy():
    stack = _rand()
    out = st.apply_filters(
        stack, ["gaussian", "median"], median_size=3, gaussian_sigma=0.8, apply_3d=True
    )
    for t, c in np.ndindex(2, 2):
        vol = stack[t, :, c]
        expected = ndi.median_filter(ndi.gaussian_filter(vol, 0.8), size=3)
        np.testing.assert_allclose(out[t, :, c], expected, atol=1e-6)
    swapped = st.apply_filters(
        stack, ["median", "gaussian"], median_size=3, gaussian_sigma=0.8, apply_3d=True
    )
    assert not np.allclose(out, swapped)  # the order of the steps matters


def test_filters_per_time_and_per_channel_overrides():
    stack = _rand()
    out = st.apply_filters(
        stack, "median", median_size=[3, 5], channel_overrides={1: {"filters": "gaussian"}}
    )
    np.testing.assert_array_equal(out[1, 0, 0], ndi.median_filter(stack[1, 0, 0], size=5))
    np.testing.assert_array_equal(out[0, 0, 0], ndi.median_filter(stack[0, 0, 0], size=3))
    np.testing.assert_allclose(out[0, 2, 1], ndi.gaussian_filter(stack[0, 2, 1], 1.0), atol=1e-6)
    compat = st.apply_filters(stack, "median", filters_channel2=["gaussian"])
    np.testing.assert_allclose(compat[0, 1, 1], ndi.gaussian_filter(stack[0, 1, 1], 1.0), atol=1e-6)


def test_filters_dtype_rules_and_no_wraparound():
    stack = (_rand() * 1000).astype(np.uint16)
    out = st.apply_filters(stack, "gaussian")
    assert out.dtype == np.float32 and stack.dtype == np.uint16
    assert st.apply_filters(stack.astype(np.float64), "median").dtype == np.float64
    np.testing.assert_allclose(
        out[0, 0, 0], ndi.gaussian_filter(stack[0, 0, 0].astype(np.float32), 1.0), rtol=1e-5
    )


def test_filters_dask_lazy_and_equal():
    stack = _rand()
    lazy = st.apply_filters(da.from_array(stack, chunks=(1, 1, 1, 9, 10)), ["median", "gaussian"])
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), st.apply_filters(stack, ["median", "gaussian"]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"filters": "mean"}, "unknown filter"),
        ({"filters": []}, "empty"),
        ({"filters": "median", "median_size": [3, 3, 3]}, "3 values but the stack has 2 time"),
        ({"filters": "median", "median_size": 0}, "median_size must be >= 1"),
        ({"filters": "gaussian", "gaussian_sigma": -1}, "gaussian_sigma must be >= 0"),
        ({"filters": "median", "channel_overrides": {5: {}}}, "channel.*5.*2 channel"),
        ({"filters": "median", "channel_overrides": {0: {"size": 3}}}, "unknown keys"),
    ],
)
def test_filters_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        st.apply_filters(_rand(), **kwargs)


# ----------------------------------------------------------------------------- histograms
def test_histogram_matching_makes_quantiles_match_reference():
    base, _ = make_bleedthrough_stack(n_t=1, n_z=2, shape=(48, 48))
    stack = np.concatenate([base, 0.6 * base, base**1.5 + 0.1])  # bleached, non-linear
    out = st.match_histograms_across_time(stack, reference_t=0)
    q = np.linspace(0.05, 0.95, 19)
    for c in range(2):
        ref_q = np.quantile(stack[0, :, c], q)
        for t in (1, 2):
            before = np.abs(np.quantile(stack[t, :, c], q) - ref_q).max()
            after = np.abs(np.quantile(out[t, :, c], q) - ref_q).max()
            assert after < 0.01 * ref_q.max() < before
    np.testing.assert_array_equal(out[0], stack[0])  # the reference is untouched
    lazy = st.match_histograms_across_time(da.from_array(stack, chunks=(1, 1, 1, 48, 48)))
    np.testing.assert_allclose(lazy.compute(), out)


def test_histogram_matching_bad_input():
    with pytest.raises(ValueError, match="at least 2 time points"):
        st.match_histograms_across_time(_rand((1, 2, 1, 4, 4)))
    with pytest.raises(ValueError, match="reference_t=2 is out of range"):
        st.match_histograms_across_time(_rand(), reference_t=2)


# ----------------------------------------------------------------------------- projection
def test_max_z_project_keeps_z_and_dtype():
    stack = (_rand() * 100).astype(np.uint16)
    out = st.max_z_project(stack, zrange=(1, 99))
    assert out.shape == (2, 1, 2, 9, 10) and out.dtype == np.uint16
    np.testing.assert_array_equal(out[:, 0], stack[:, 1:].max(axis=1))
    lazy = st.max_z_project(da.from_array(stack))
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), stack.max(axis=1, keepdims=True))
    with pytest.raises(ValueError, match="selects no slice"):
        st.max_z_project(stack, zrange=(3, 5))


# ----------------------------------------------------------------------------- registration
def _scene(shape=(64, 64), pad=16, noise=0.0, seed=0):
    """A two-channel plane (bleed-through sample) larger than the field of view."""
    big, _ = make_bleedthrough_stack(
        n_t=1,
        n_z=1,
        shape=(shape[0] + 2 * pad, shape[1] + 2 * pad),
        noise_sigma=0.0,
        random_state=seed,
    )
    return big[0, 0]  # (2, Y+2p, X+2p)


def _view(scene, shift, pad=16, noise=0.0, rng=None):
    """What the camera sees when the sample moved by ``shift`` (y, x): a cropped shift."""
    moved = np.stack([ndi.shift(ch, shift, order=3, mode="nearest") for ch in scene])
    out = moved[:, pad:-pad, pad:-pad]
    if noise:
        out = out + rng.normal(0, noise, out.shape)
    return out.astype(np.float32)


@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_register_stack_recovers_known_shifts_and_undoes_them(noise):
    rng = np.random.default_rng(3)
    scene = _scene()
    true = np.array([[0.0, 0.0], [1.3, -0.7], [-2.45, 3.15], [3.8, 2.2]])
    stack = np.stack([np.stack([_view(scene, d, noise=noise, rng=rng)] * 2) for d in true])
    out, shifts = st.register_stack(
        stack, registration_channel=0, return_shifts=True, interpolation_order=3
    )
    np.testing.assert_allclose(shifts, -true, atol=0.1)  # subpixel: 0.1 px
    assert np.abs(shifts + true).max() < (0.01 if noise == 0 else 0.05)
    inner = (slice(None), slice(None), slice(None), slice(8, -8), slice(8, -8))
    ref = np.broadcast_to(stack[:1], stack.shape)
    before = np.abs(stack - ref)[inner].max()
    after = np.abs(out - ref)[inner].max()
    assert after < 0.05 * before + 4 * noise  # the shift is undone (both channels)


def test_register_stack_reference_t_zrange_and_dask():
    scene = _scene()
    true = np.array([[0.5, 0.5], [0.0, 0.0], [-1.0, 2.0]])
    planes = np.stack([_view(scene, d) for d in true])  # (T, C, Y, X)
    stack = np.stack([planes, planes * 0.2], axis=1)  # Z=2
    shifts = run(
        st.estimate_time_shifts(stack, registration_channel=1, reference_t=1, zrange=(0, 1))
    )
    np.testing.assert_allclose(shifts, -(true - true[1]), atol=0.02)
    pre = run(
        st.estimate_time_shifts(
            da.from_array(stack, chunks=(1, 1, 1, 32, 32)),
            registration_channel=1,
            reference_t=1,
            pre_median_filter=True,
        )
    )
    np.testing.assert_allclose(pre, -(true - true[1]), atol=0.05)
    lazy, lazy_shifts = st.register_stack(
        da.from_array(stack, chunks=(1, 1, 1, 64, 64)),
        registration_channel=1,
        reference_t=1,
        return_shifts=True,
    )
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(
        lazy_shifts,
        st.register_stack(stack, registration_channel=1, reference_t=1, return_shifts=True)[1],
    )


@pytest.mark.parametrize("mode", ["first", "neighbor"])
def test_z_drift_recovers_known_shifts(mode):
    scene = _scene(seed=4)
    drift = np.cumsum(np.random.default_rng(5).uniform(-1.2, 1.2, (6, 2)), axis=0)
    drift -= drift[0]
    profile = np.exp(-0.5 * ((np.arange(6) - 2.5) / 2.5) ** 2)  # dimmer away from focus
    vol = np.stack([p * _view(scene, d) for p, d in zip(profile, drift, strict=True)])
    stack = np.stack([vol, vol])  # T=2: (T, Z, C, Y, X)
    out, shifts = st.correct_intra_stack_z_drift(
        stack,
        reference_mode=mode,
        neighbor_window_size=5,
        return_shifts=True,
        interpolation_order=3,
    )
    assert shifts.shape == (2, 6, 2)
    np.testing.assert_allclose(shifts[0], -drift, atol=0.1)
    inner = (slice(8, -8), slice(8, -8))
    aligned = out[0] / profile[:, None, None, None]
    err = np.abs(aligned - aligned[:1])[(slice(None), slice(None), *inner)].max()
    assert err < 0.05 * np.abs(vol / profile[:, None, None, None] - vol[:1] / profile[0]).max()


def test_z_drift_mean_mode_no_drift_gives_zero_and_bad_options():
    vol = np.stack([_view(_scene(), (0.0, 0.0))] * 3)[None]
    for mode in ("mean", "full_projection"):
        shifts = run(st.estimate_z_drift(vol, reference_mode=mode))
        assert np.abs(shifts).max() < 1e-3
    with pytest.raises(ValueError, match="unknown reference_mode"):
        st.correct_intra_stack_z_drift(vol, reference_mode="middle")
    with pytest.raises(ValueError, match="odd and >= 3"):
        st.correct_intra_stack_z_drift(vol, neighbor_window_size=4)
    with pytest.raises(ValueError, match="registration_channel=2 is out of range"):
        st.correct_intra_stack_z_drift(vol, registration_channel=2)
    with pytest.raises(ValueError, match="unknown method"):
        st.register_stack(np.concatenate([vol, vol]), registration_channel=0, method="sift")
    with pytest.raises(ValueError, match=r"shifts must have shape \(T, 2\)"):
        st.apply_shifts(vol, np.zeros((3, 3)))


def test_pystackreg_method_when_installed():
    pytest.importorskip("pystackreg")
    scene = _scene()
    true = np.array([[0.0, 0.0], [1.0, -2.0]])
    stack = np.stack([_view(scene, d) for d in true])[:, None]
    _, shifts = st.register_stack(
        stack, registration_channel=0, method="pystackreg", return_shifts=True
    )
    np.testing.assert_allclose(shifts, -true, atol=0.5)


def test_steps_report_progress():
    with pytest.warns(RuntimeWarning, match="no clear translation"):  # slices of pure noise
        tool = st.STACK_TOOLS["z-drift"]
        steps = list(iter(tool.function(_rand((2, 2, 1, 16, 16)), tool.options())))
    assert (steps[-1].done, steps[-1].total) == (2, 2) and all(e.total > 0 for e in steps)


def test_pcc_only_method_is_limited_by_upsample_factor():
    scene = _scene()
    true = np.array([[0.0, 0.0], [1.3, -0.7]])
    stack = np.stack([_view(scene, d) for d in true])[:, None]
    shifts = run(
        st.estimate_time_shifts(
            stack, registration_channel=0, method="phase_cross_correlation_only", upsample_factor=20
        )
    )
    np.testing.assert_allclose(shifts, -true, atol=0.5)


@given(
    shape=hs.tuples(
        hs.integers(1, 2),
        hs.integers(1, 3),
        hs.integers(1, 2),
        hs.integers(3, 9),
        hs.integers(3, 9),
    ),
    size=hs.integers(1, 4),
    sigma=hs.floats(0.0, 2.0),
    apply_3d=hs.booleans(),
)
def test_filters_match_scipy_property(shape, size, sigma, apply_3d):
    stack = np.random.default_rng(sum(shape)).random(shape).astype(np.float32)
    out = st.apply_filters(
        stack, ["median", "gaussian"], median_size=size, gaussian_sigma=sigma, apply_3d=apply_3d
    )
    zs, zg = (size, sigma) if apply_3d else (1, 0.0)
    for t, c in np.ndindex(shape[0], shape[2]):
        vol = stack[t, :, c]
        expected = ndi.gaussian_filter(
            ndi.median_filter(vol, size=(zs, size, size)), (zg, sigma, sigma)
        )
        np.testing.assert_allclose(out[t, :, c], expected, atol=1e-6)


# ----------------------------------------------------------------------------- NaN pixels
NAN_AT = (1, 1, 0, 12, 9)  # (t, z, c, y, x)
NAN_TOOLS = {
    "filter median 2-D": (lambda a: st.apply_filters(a, "median", median_size=3), 1),
    "filter gaussian 2-D": (lambda a: st.apply_filters(a, "gaussian", gaussian_sigma=1.0), 4),
    "filter median+gaussian 3-D": (
        lambda a: st.apply_filters(a, ["median", "gaussian"], apply_3d=True, gaussian_sigma=0.7),
        4,
    ),
    "match-histograms": (st.match_histograms_across_time, None),
    "apply_shifts (integer)": (
        lambda a: st.apply_shifts(a, np.array([[0.0, 0.0], [2.0, -3.0]])),
        1,
    ),
    "register": (lambda a: st.register_stack(a, registration_channel=0), 2),
    "z-drift": (lambda a: st.correct_intra_stack_z_drift(a, reference_mode="first"), 2),
}


def _nan_stack():
    scene = _scene(shape=(32, 32), seed=7)
    planes = np.stack([_view(scene, d, noise=0.01, rng=RNG) for d in ((0, 0), (0.6, -1.2))])
    return np.stack([planes, 0.8 * planes], axis=1)  # (T=2, Z=2, C=2, 32, 32)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", sorted(NAN_TOOLS))
def test_nonfinite_pixel_stays_and_does_not_shift_others(name, bad):
    fn, reach = NAN_TOOLS[name]
    clean = _nan_stack()
    stack = clean.copy()
    stack[NAN_AT] = bad
    with np.errstate(invalid="raise"):  # nothing computes with the non-finite value
        out, ref = fn(stack), fn(clean)
    assert stack[NAN_AT] == bad or np.isnan(stack[NAN_AT])  # the input is untouched
    bad_out = ~np.isfinite(out)
    assert bad_out.sum() == 1  # exactly one pixel, in the same plane, keeps its value
    where = np.argwhere(bad_out)[0]
    assert tuple(where[:3]) == NAN_AT[:3]
    assert np.isnan(out[tuple(where)]) if np.isnan(bad) else out[tuple(where)] == bad
    if reach is None:  # histogram matching: every other pixel moves by < one quantile step
        assert tuple(where) == NAN_AT
        step = np.ptp(clean[0, :, 0]) / clean[0, :, 0].size
        assert np.abs(out - ref)[~bad_out].max() < 5 * step
        return
    assert np.abs(where[3:] - np.array(NAN_AT[3:])).max() <= 3  # moved with its plane
    far = np.ones(out.shape, bool)  # pixels out of reach of the bad one equal the clean run
    y, x = where[3:]
    far[NAN_AT[:3]][max(y - reach, 0) : y + reach + 1, max(x - reach, 0) : x + reach + 1] = False
    if "3-D" in name:
        far[NAN_AT[0], :, NAN_AT[2]][
            :, max(y - reach, 0) : y + reach + 1, max(x - reach, 0) : x + reach + 1
        ] = False
    np.testing.assert_allclose(out[far], ref[far], atol=0.02 * np.abs(ref).max())
    near = ~far & ~bad_out  # and its neighbours stay within the range of the data
    assert np.all(np.abs(out[near]) <= 1.5 * np.abs(clean).max())


def test_max_z_keeps_a_nan_pixel_marked():
    stack = _rand((2, 3, 1, 4, 5))
    stack[0, 1, 0, 2, 3] = np.nan
    out = st.max_z_project(stack)
    assert np.isnan(out[0, 0, 0, 2, 3]) and np.isnan(out).sum() == 1  # marked, not hidden
    np.testing.assert_array_equal(out[1], stack[1].max(axis=0, keepdims=True))
    lazy = st.max_z_project(da.from_array(stack, chunks=(1, 3, 1, 4, 5)))
    np.testing.assert_array_equal(lazy.compute(), out)
