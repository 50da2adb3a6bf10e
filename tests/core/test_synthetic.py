import numpy as np
import pytest

from napari_unmix.core import synthetic


def test_bleedthrough_model_holds(bleed_stack):
    data, truth = bleed_stack
    s, t = truth["source"], truth["target"]
    np.testing.assert_allclose(data[:, :, 0], s + truth["background"], atol=1e-6)
    np.testing.assert_allclose(data[:, :, 1], t + 0.35 * s + truth["background"], atol=1e-6)
    # source and target are different structures (otherwise alpha is not identifiable)
    assert np.corrcoef(s.ravel(), t.ravel())[0, 1] < 0.3


def test_bleedthrough_per_t_and_uint16():
    data, truth = synthetic.make_bleedthrough_stack(
        n_t=3, n_z=1, shape=(32, 32), alpha_per_t=[0.1, 0.2, 0.3], dtype="uint16", noise_sigma=0
    )
    assert data.dtype == np.uint16
    assert truth["alpha"] == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="alpha_per_t has 2 values"):
        synthetic.make_bleedthrough_stack(n_t=3, alpha_per_t=[0.1, 0.2])


def test_generators_are_deterministic():
    a, _ = synthetic.make_picasso_mix(shape=(32, 32), random_state=3)
    b, _ = synthetic.make_picasso_mix(shape=(32, 32), random_state=3)
    c, _ = synthetic.make_picasso_mix(shape=(32, 32), random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_picasso_mixing_is_known():
    data, truth = synthetic.make_picasso_mix(n_channels=4, shape=(48, 48), noise_sigma=0)
    M = truth["mixing"]
    assert np.allclose(np.diag(M), 1)
    off = M[~np.eye(4, dtype=bool)]
    assert off.min() >= 0.1 and off.max() <= 0.4
    F = truth["fluorophores"]
    np.testing.assert_allclose(data, np.einsum("ij,tzjyx->tziyx", M, F), atol=1e-5)


def test_bead_cube_truth():
    cube, truth = synthetic.make_bead_cube(shape=(64, 64), n_channels=48, noise_sigma=0)
    H, W = truth["spectra"], truth["abundances"]
    Hn = H / np.linalg.norm(H, axis=1, keepdims=True)
    cos = Hn @ Hn.T
    assert cos[0, 1] == pytest.approx(0.9, abs=0.01)  # the hard, similar pair
    model = (
        np.einsum("kc,kyx->cyx", H, W)
        + truth["background_spectrum"][:, None, None] * truth["background_map"]
    )
    np.testing.assert_allclose(cube, model, atol=1e-5)
    # the weak component is 4x dimmer than the brightest
    assert W[3].max() == pytest.approx(0.25 * W[:3].max(), rel=0.15)
    # the similar pair overlaps spatially
    assert ((W[0] > 0.2) & (W[1] > 0.2)).sum() > 0


def test_ste_shape_and_sta_centre():
    ste, truth = synthetic.make_ste(n_spikes=5000, grid=16)
    assert ste.shape == (16, 16, 5000)
    assert set(np.unique(ste)) <= {-1.0, 1.0}
    sta = ste.mean(axis=-1)
    peak = np.unravel_index(np.argmax(sta), sta.shape)
    # the spike-triggered average peaks within the subunit cluster
    assert np.hypot(*(np.array(peak) - truth["centers"].mean(axis=0))) < 3
    np.testing.assert_allclose(truth["diameters"], 4 * truth["sigma"] * truth["pixel_size"])


def test_gaussian_blobs_matches_direct_formula():
    centers = np.array([[5.0, 7.0], [10.0, 3.0]])
    sig, amp = np.array([2.0, 1.5]), np.array([1.0, 0.5])
    img = synthetic.gaussian_blobs((16, 12), centers, sig, amp)
    yy, xx = np.mgrid[0:16, 0:12]
    direct = sum(
        a * np.exp(-((yy - c[0]) ** 2 + (xx - c[1]) ** 2) / (2 * s**2))
        for c, s, a in zip(centers, sig, amp, strict=True)
    )
    np.testing.assert_allclose(img, direct, atol=1e-6)
