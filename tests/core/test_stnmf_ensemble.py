"""From a recording to an ensemble: equality with a direct computation, STA, memory guard."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import dask.array as da
import numpy as np
import pytest

from napari_unmix.core.scenarios.stnmf import ModelCell, make_recording
from napari_unmix.core.stnmf import (
    bin_spikes,
    check_ensemble_values,
    ensemble_axes,
    spike_triggered_average,
    spike_triggered_ensemble,
    stnmf_memory,
    temporal_filter_from_sta,
)


def _direct(stim, times, frame_rate, lag, filt):
    """One spike at a time, the textbook way: frame index = floor(t * rate)."""
    frames = []
    for t in times:
        i = int(np.floor(t * frame_rate))
        if i >= stim.shape[0] or i - lag - (len(filt) - 1) < 0:
            continue
        frames.append(sum(f * stim[i - lag - k].astype(np.float64) for k, f in enumerate(filt)))
    return np.stack(frames, axis=-1)


@pytest.mark.parametrize("as_dask", [False, True])
@pytest.mark.parametrize("filt", [[1.0], [0.5, 1.0, -0.25]])
def test_ensemble_from_spike_times_equals_direct(as_dask, filt):
    rng = np.random.default_rng(3)
    stim = rng.choice(np.float32([-1, 1]), (300, 5, 4))
    times = np.sort(rng.uniform(0, 300 / 60, 200))
    times = np.append(times, times[:5])  # several spikes in one frame
    src = da.from_array(stim, chunks=(37, 5, 4)) if as_dask else stim
    ens = spike_triggered_ensemble(src, times, frame_rate=60, lag=2, temporal_filter=filt)
    direct = _direct(stim, np.sort(times), 60, 2, filt)
    assert ens.shape == direct.shape and ens.shape[:2] == (5, 4)
    # same multiset of frames (the ensemble is ordered by frame, not by spike)
    key = lambda a: a.reshape(-1, a.shape[-1]).T[np.lexsort(a.reshape(-1, a.shape[-1]))]  # noqa: E731
    np.testing.assert_allclose(key(ens), key(direct), atol=1e-6)
    # the same with latency in seconds, and with frame times
    np.testing.assert_array_equal(
        spike_triggered_ensemble(stim, times, frame_rate=60, latency=2 / 60, temporal_filter=filt),
        spike_triggered_ensemble(
            stim, times, frame_times=np.arange(300) / 60, lag=2, temporal_filter=filt
        ),
    )


def test_counts_and_binning():
    assert bin_spikes([0.0, 0.49, 0.5, np.nan, -1, 2.0], 2, frame_rate=2).tolist() == [2, 1]
    with pytest.raises(ValueError, match="frame_rate"):
        bin_spikes([0.1], 3)
    with pytest.raises(ValueError, match="non-negative integers"):
        spike_triggered_ensemble(np.zeros((3, 2, 2)), [0, 1.5, 0])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        spike_triggered_ensemble(np.zeros((3, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match="stimulus movie"):
        spike_triggered_ensemble(np.zeros((3, 2)), [0, 1, 0])


def test_sta_and_temporal_filter_recover_the_model():
    rng = np.random.default_rng(0)
    stim = rng.standard_normal((20000, 3, 3))
    filt = np.array([0.2, 1.0, 0.5, -0.3])  # lag 0 .. 3
    drive = sum(f * np.roll(stim[:, 1, 1], k) for k, f in enumerate(filt))
    counts = rng.poisson(0.2 * np.exp(drive - drive.max() / 3))
    sta = spike_triggered_average(stim, counts, n_lags=6)
    assert sta.shape == (6, 3, 3)
    assert np.unravel_index(np.abs(sta).argmax(), sta.shape)[1:] == (1, 1)
    est = temporal_filter_from_sta(sta)
    target = np.append(filt, [0, 0]) / np.linalg.norm(filt)
    assert np.corrcoef(est, target)[0, 1] > 0.95


def test_ensemble_axes_rule():
    assert ensemble_axes((20, 20, 20000)) == (0, 1, 2)
    assert ensemble_axes((20000, 20, 30)) == (1, 2, 0)
    with pytest.raises(ValueError, match="equally long"):
        ensemble_axes((40, 40, 20))


def test_value_checks():
    v = np.random.default_rng(0).standard_normal((9, 50)).astype(np.float32)
    check_ensemble_values(v)
    with pytest.raises(ValueError, match="zero everywhere"):
        check_ensemble_values(np.zeros((9, 50)))
    with pytest.raises(ValueError, match=r"constant \(2 everywhere\)"):
        check_ensemble_values(np.full((9, 50), 2.0))
    with pytest.raises(ValueError, match="overflow float32.*rescale"):
        check_ensemble_values(v * np.float32(1e30))


def test_memory_estimate_names_the_issue_case():
    # an ensemble of shape (8, 4000, 8) read as (x, y, spikes): 32,000 stixels, 8 spikes
    assert stnmf_memory(32000, 8, 2) > 8 * 32000**2


_UNDER_LIMIT = textwrap.dedent(
    """
    import resource, time
    import numpy as np
    from napari_unmix import STNMF
    from napari_unmix.core.stnmf import STNMFMemoryError
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.RLIM_INFINITY))
    ste = np.random.default_rng(0).standard_normal((8, 4000, 8)).astype(np.float32)
    t0 = time.perf_counter()
    try:
        STNMF(ste, r=2)
    except STNMFMemoryError as err:
        print("REFUSED", err)
    """
)


def test_oversized_request_fails_fast_under_a_memory_limit():
    proc = subprocess.run(
        [sys.executable, "-c", _UNDER_LIMIT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "REFUSED" in out
    assert "(8, 4000, 8)" in out and "32000 × 32000 Gram matrix" in out
    assert "np.moveaxis(ste, 1, -1)" in out  # the long axis is spikes


def test_recording_ensemble_matches_model_truth():
    cell = ModelCell(grid=10, n_subunits=3)
    stim, counts, truth = make_recording(cell, n_spikes=3000, random_state=2)
    ens = spike_triggered_ensemble(stim, counts)
    assert ens.shape == (10, 10, counts.sum())
    sta = ens.mean(axis=-1)
    rf = truth["subunits"].sum(axis=0)
    assert np.corrcoef(sta.ravel(), rf.ravel())[0, 1] > 0.8
