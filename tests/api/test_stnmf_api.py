"""STNMF script class: stnmf-compatible names, masking, bad input, STE builder, loaders."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from scipy.optimize import linear_sum_assignment

from napari_unmix import STNMF, load_ste, spike_triggered_ensemble
from napari_unmix.api.stnmf import PixelSizeWarning
from napari_unmix.core.synthetic import make_ste_sparse


@pytest.fixture(scope="module")
def fitted():
    ste, truth = make_ste_sparse(n_spikes=15000, grid=12, random_state=1)
    return STNMF(ste, r=10, num_iter=150, pixel_size=30), ste, truth


def test_attributes_and_truth(fitted):
    s, _ste, truth = fitted
    assert s.modules.shape == (10, 12, 12) and s.weights.shape == (10, 15000)
    assert s.num_subunits == len(s.localized) == len(s.outlines) == len(s.diameters)
    assert s.num_subunits >= 5
    # localized modules come first, sorted by |mean weight|
    assert list(s.localized) == list(range(s.num_subunits))
    mean = np.abs(s.weights[: s.num_subunits].mean(axis=1))
    assert np.all(np.diff(mean) <= 1e-7)
    # flipsign: every mean weight is non-negative
    assert np.all(s.weights.mean(axis=1) >= 0)
    np.testing.assert_allclose(np.linalg.norm(s.subunits, axis=(1, 2)), 1, rtol=1e-5)
    assert np.linalg.norm(s.ratios) == pytest.approx(1.0)
    c = np.corrcoef(truth["subunits"].reshape(7, -1), s.subunits.reshape(s.num_subunits, -1))
    c = c[:7, 7:]
    i, j = linear_sum_assignment(-c)
    good = c[i, j] >= 0.8
    assert good.sum() >= 5
    # diameters of the well-recovered subunits near 4·sigma·pixel_size = 144 µm
    d = s.diameters[j[good]]
    assert np.median(d) == pytest.approx(truth["diameters"][0], rel=0.2)
    assert np.all(s.polarities == 1)
    assert 0 < s.coverage <= 1
    assert s.sta_diameter > np.median(d)
    info = s.modules_info
    assert info.shape == (10,) and info.localized.sum() == s.num_subunits
    assert s.res == pytest.approx(s.residual(), rel=1e-4)


def test_report_and_plot(fitted):
    s, _, _ = fitted
    rep = s.report
    assert rep["tool"] == "stnmf" and rep["parameters"]["r"] == 10
    assert rep["size_units"] == "µm"
    fig = s.plot()
    assert len(fig.axes) >= 10


def test_masked_stixels():
    ste, _ = make_ste_sparse(n_spikes=3000, grid=10, random_state=2)
    ste = ste.copy()
    ste[0, 0, 5] = np.nan
    s = STNMF(ste, r=4, num_iter=5)
    assert np.isnan(s.modules[:, 0, 0]).all() and np.isfinite(s.modules[:, 1:]).all()
    assert np.isnan(s.sta[0, 0])
    masked = np.ma.masked_array(ste, mask=~np.isfinite(ste))
    s2 = STNMF(masked, r=4, num_iter=5)
    np.testing.assert_allclose(np.nan_to_num(s2.modules), np.nan_to_num(s.modules), atol=1e-5)


def test_refactorize_and_callbacks():
    ste, _ = make_ste_sparse(n_spikes=2000, grid=10, random_state=3)
    seen = []

    def cb(self, i, callback_data=None, **kw):
        seen.append((i, self.res))
        callback_data["last"] = i
        return i < 4

    data = {}
    s = STNMF(ste, r=4, num_iter=50, callbacks=cb, factorize=False)
    s.factorize(callback_data=data)
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4] and data["last"] == 4
    s.factorize(num_iter=3, callback=[])
    assert s.n_iter == 3
    s.reseed(5)
    s.init("random")
    s.init(np.ones((4, 10, 10)))
    with pytest.raises(ValueError, match="shape"):
        s.init(np.ones((3, 10, 10)))


def test_bad_input():
    ste = np.ones((5, 5, 40), np.float32)
    with pytest.raises(ValueError, match="x, y, spikes"):
        STNMF(np.ones((5, 40)))
    with pytest.raises(ValueError, match="r <= spikes"):
        STNMF(np.ones((5, 5, 3)), r=4)
    with pytest.raises(ValueError, match="NaN"):
        STNMF(np.full((5, 5, 40), np.nan))
    with pytest.raises(ValueError, match="method"):
        STNMF(ste, method="SemiNMF")
    with pytest.raises(ValueError, match="pixel_size"):
        STNMF(ste, r=2, pixel_size=-1, factorize=False)
    s = STNMF(np.random.default_rng(0).standard_normal((6, 6, 50)), r=2, num_iter=2)
    with pytest.warns(PixelSizeWarning, match="pixel_size"):
        s.diameters  # noqa: B018


def test_spike_triggered_ensemble():
    rng = np.random.default_rng(0)
    stim = rng.choice([-1.0, 1.0], size=(50, 4, 4))
    counts = rng.poisson(0.5, 50)
    counts[:2] = 0
    ens = spike_triggered_ensemble(stim, counts, lag=1)
    assert ens.shape == (4, 4, counts[1:].sum())
    first = np.nonzero(counts)[0][0]
    np.testing.assert_array_equal(ens[..., 0], stim[first - 1])
    times = np.repeat(np.arange(50) + 0.5, counts)
    by_time = spike_triggered_ensemble(stim, times, frame_times=np.arange(50.0), lag=1)
    np.testing.assert_array_equal(by_time, ens)
    filt = spike_triggered_ensemble(stim, counts, temporal_filter=[1.0, -0.5])
    k = np.nonzero(counts[1:])[0][0] + 1
    np.testing.assert_allclose(filt[..., 0], stim[k] - 0.5 * stim[k - 1])
    with pytest.raises(ValueError, match="non-negative integers"):
        spike_triggered_ensemble(stim, counts - 1.5)
    with pytest.raises(ValueError, match="movie"):
        spike_triggered_ensemble(stim[0], counts)


def test_loaders(tmp_path):
    ste = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.save(tmp_path / "a.npy", ste)
    np.savez(tmp_path / "b.npz", ste=ste, other=np.zeros(3))
    scipy.io.savemat(tmp_path / "c.mat", {"ste": ste, "fs": 10.0})
    for name in ("a.npy", "b.npz", "c.mat"):
        np.testing.assert_array_equal(load_ste(tmp_path / name), ste)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["grp/ste"] = ste
    np.testing.assert_array_equal(load_ste(tmp_path / "d.h5", key="grp/ste"), ste)
    with pytest.raises(ValueError, match="cannot read"):
        load_ste(tmp_path / "x.tif")
    np.savez(tmp_path / "e.npz", a=ste, b=ste)
    with pytest.raises(ValueError, match="key="):
        load_ste(tmp_path / "e.npz")
