"""Seeds: ROI means, files, Gaussians, resonance seeds, W-from-H modes, fallback, audit."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix.core.seeds import (
    W_MODES,
    ComponentSeed,
    audit_seeds,
    gaussian_spectrum,
    mask_spectrum,
    prepare_seeds,
    resample_spectrum,
    w_from_h,
)
from napari_unmix.core.synthetic import make_bead_cube


@pytest.fixture(scope="module")
def beads():
    cube, truth = make_bead_cube(shape=(64, 64), n_channels=48)
    A = truth["abundances"]
    masks = [(A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.05) for j in range(4)]
    background = A.max(0) < 0.01
    return cube, truth, masks, background


def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_mask_spectrum_pools_masks_and_skips_nan():
    cube = np.arange(18.0).reshape(2, 3, 3)
    cube[:, 0, 0] = np.nan
    a = np.zeros((3, 3), bool)
    a[0, :2] = True
    b = np.zeros((3, 3), bool)
    b[2, 2] = True
    assert mask_spectrum(cube, [a, b]).tolist() == [(1 + 8) / 2, (10 + 17) / 2]
    with pytest.raises(ValueError, match="empty"):
        mask_spectrum(cube, [np.zeros((3, 3), bool)])
    with pytest.raises(ValueError, match="does not match"):
        mask_spectrum(cube, [np.ones((2, 2), bool)])
    with pytest.raises(ValueError, match="NaN"):
        mask_spectrum(cube, [np.eye(3, dtype=bool) & a])


def test_resample_holds_edges_and_warns():
    with pytest.warns(UserWarning, match="outside"):
        s, out = resample_spectrum([10, 20], [1.0, 3.0], [0, 15, 30])
    assert out and s.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="lengths"):
        resample_spectrum([1, 2, 3], [1.0, 2.0], [1.0])


def test_roi_seeds_keep_amplitude_and_background_subtraction_cleans_them(beads):
    cube, truth, masks, background = beads
    comps = [ComponentSeed(name=n, masks=[m]) for n, m in zip(truth["names"], masks, strict=True)]
    raw = prepare_seeds(cube, comps)
    sub = prepare_seeds(cube, comps, background_masks=[background])
    for j in range(4):
        assert _cos(sub.H0[j], truth["spectra"][j]) >= _cos(raw.H0[j], truth["spectra"][j]) - 1e-3
    assert _cos(sub.H0[3], truth["spectra"][3]) > 0.98
    # physical amplitude: the weak component's seed is ~4x dimmer
    assert sub.H0[3].max() < 0.5 * sub.H0[0].max()
    np.testing.assert_allclose(sub.W0.reshape(4, -1).max(axis=1), 1.0)
    assert sub.subtract_spectrum is not None and raw.subtract_spectrum is None


def test_gaussian_and_given_spectra(beads):
    cube, truth, _, _ = beads
    ax = truth["spectral_axis"]
    comps = [
        {"name": "a", "spectrum": truth["spectra"][0], "lock_h": True},
        {"name": "b", "gaussian": {"center": 2935.0, "fwhm": 60.0, "amplitude": 1.0}},
    ]
    s = prepare_seeds(cube, comps, spectral_axis=ax)
    assert np.array_equal(s.H0[0], truth["spectra"][0]) and s.lock_H.tolist() == [True, False]
    np.testing.assert_allclose(s.H0[1], gaussian_spectrum(ax, center=2935.0, fwhm=60.0))
    assert s.provenance[1]["H"].startswith("Gaussian")


def test_resonance_seeds_unique_pixels_and_band_image(beads):
    cube, truth, _, background = beads
    ax = truth["spectral_axis"]
    comps = [
        ComponentSeed(name="protein", resonance={"position": 2935, "width": 15, "n_pixels": 100}),
        ComponentSeed(
            name="weak",
            resonance={"position": 3015, "width": 15, "n_pixels": 100, "rank_by": "score"},
        ),
        ComponentSeed(name="g", resonance={"position": 2850, "width": 10, "gaussian": True}),
    ]
    s = prepare_seeds(cube, comps, spectral_axis=ax, background_masks=[background])
    assert _cos(s.H0[0], truth["spectra"][2]) > 0.95
    assert _cos(s.H0[1], truth["spectra"][3]) > 0.9
    assert s.H0[2].argmax() == np.abs(ax - 2850).argmin()
    assert "band mean" in s.provenance[0]["W"]
    # the band-mean image correlates with the protein map
    r = np.corrcoef(s.W0[0].ravel(), truth["abundances"][2].ravel())[0, 1]
    assert r > 0.8
    with pytest.raises(ValueError, match="no channel within"):
        prepare_seeds(cube, [{"resonance": {"position": 5000, "width": 1}}], spectral_axis=ax)


@pytest.mark.parametrize("mode", sorted(W_MODES))
def test_w_modes(beads, mode):
    cube, truth, _, _ = beads
    W = w_from_h(cube, truth["spectra"], mode=mode, downsample=3)
    assert W.shape == (4, 64, 64) and np.isfinite(W).all() and (W >= 0).all()
    if mode in ("nnls", "selective_score"):
        r = np.corrcoef(W[0].ravel(), truth["abundances"][0].ravel())[0, 1]
        assert r > 0.8
    with pytest.raises(ValueError, match="unknown W mode"):
        w_from_h(cube, truth["spectra"], mode="magic")


def test_overwrite_and_fixed_w(beads):
    cube, truth, masks, _ = beads
    w = np.ones((64, 64))
    comps = [
        ComponentSeed(name="a", masks=[masks[0]], w_map=w, lock_w=True),
        ComponentSeed(name="b", masks=[masks[1]], resonance={"position": 2900, "width": 20}),
    ]
    kept = prepare_seeds(cube, comps, spectral_axis=truth["spectral_axis"])
    over = prepare_seeds(cube, comps, spectral_axis=truth["spectral_axis"], overwrite=True)
    assert np.array_equal(kept.W0[0], w) and np.array_equal(over.W0[0], w)  # locked: kept
    assert "band mean" in kept.provenance[1]["W"] and "map from H" in over.provenance[1]["W"]


def test_residual_fallback_fills_missing_component(beads):
    cube, truth, masks, background = beads
    comps = [
        ComponentSeed(name=n, masks=[m]) for n, m in zip(truth["names"][:3], masks[:3], strict=True)
    ]
    comps.append(ComponentSeed(name="unknown"))
    with pytest.warns(UserWarning, match="unknown"):
        s = prepare_seeds(cube, comps, background_masks=[background])
    assert s.provenance[3]["filled"] and "residual" in s.provenance[3]["H"]
    assert _cos(s.H0[3], truth["spectra"][3]) > 0.9
    assert (s.H0[3] >= 0).all()


def test_random_fallback_is_reproducible():
    flat = np.ones((6, 8, 8))
    comps = [{"name": "c", "spectrum": np.ones(6)}, {"name": "missing"}]
    with pytest.warns(UserWarning, match="missing"):
        a = prepare_seeds(flat, comps, random_state=3)
    with pytest.warns(UserWarning, match="missing"):
        b = prepare_seeds(flat, comps, random_state=3)
    assert "random" in a.provenance[1]["H"]
    assert np.array_equal(a.H0, b.H0)


def test_background_component_map_is_locked_only_on_request(beads):
    cube, _truth, masks, background = beads
    comps = [
        ComponentSeed(name="lipid", masks=[masks[0]]),
        ComponentSeed(name="bg", masks=[background], background=True),
    ]
    s = prepare_seeds(cube, comps, background_projection="min", background_smooth=2)
    assert s.lock_W.tolist() == [False, False] and s.background.tolist() == [False, True]
    assert "Minimum background map" in s.provenance[1]["W"]
    comps[1] = ComponentSeed(name="bg", masks=[background], background=True, lock_w=True)
    s = prepare_seeds(cube, comps)
    assert s.lock_W.tolist() == [False, True] and "(fixed)" in s.provenance[1]["W"]
    assert "Estimated" in s.provenance[1]["W"]


def test_audit_and_bad_input(beads):
    cube, _truth, _masks, _ = beads
    with pytest.raises(ValueError, match="'neg' has negative"):
        audit_seeds(np.array([[1.0, -0.5]]), ["neg"])
    with pytest.raises(ValueError, match="'x' has NaN"):
        audit_seeds(np.array([[1.0, np.inf]]), ["x"])
    with pytest.raises(ValueError, match="48 channels"):
        prepare_seeds(cube, [np.ones(10)])
    with pytest.raises(ValueError, match="only 48 channels"):
        prepare_seeds(cube, [np.ones(48)] * 49)
    with pytest.raises(ValueError, match="empty"):
        prepare_seeds(cube, [{"masks": [np.zeros((64, 64), bool)]}])
    with pytest.raises(ValueError, match="every pixel"):
        prepare_seeds(np.full((3, 4, 4), np.nan), [np.ones(3)])
    with pytest.raises(ValueError, match="C x Y x X"):
        prepare_seeds(cube[0], [np.ones(48)])


def test_integer_cube_is_not_wrapped():
    cube = np.full((4, 8, 8), 100, np.uint16)
    cube[:, :4] = 10
    m = np.zeros((8, 8), bool)
    m[:4] = True
    s = prepare_seeds(cube, [{"masks": [~m]}], background_masks=[m])
    np.testing.assert_allclose(s.H0[0], 90.0, rtol=1e-6)  # 100 - 10, not wrapped
    with pytest.raises(ValueError, match="all zero"):  # 10 - 100 clipped at 0, not 65446
        prepare_seeds(
            cube,
            [{"name": "dark", "masks": [m]}],
            background_masks=[~m],
            background_subtraction="constant",
        )
