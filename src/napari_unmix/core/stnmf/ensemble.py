"""From a recording to spike-triggered ensembles: binning, STA, temporal filter, memory.

A recording is a stimulus movie ``(t, x, y)`` (numpy, a memory map or a dask array) and,
per cell, spike times (seconds) or spike counts per frame. The ensemble of a cell stacks,
for every spike, the stimulus frame(s) that drove it; STNMF factorises it. Nothing here
loops over frames in Python: only the frames that precede spikes are gathered (one fancy
index per tap of the temporal filter), so a long movie is read only where the cell fired,
and a dask movie stays lazy until the ensemble is asked for.

STNMF needs memory for the ensemble (stixels × spikes) and for a stixels × stixels Gram
matrix: :func:`stnmf_memory` estimates it and :func:`check_memory` refuses a request the
machine cannot hold, before anything large is allocated, naming the shape.

Examples
--------
>>> stim = np.arange(5 * 2 * 2, dtype=np.float32).reshape(5, 2, 2)
>>> counts = np.array([0, 1, 0, 2, 0])
>>> spike_triggered_ensemble(stim, counts, lag=1)[0, 0]
array([0., 8., 8.], dtype=float32)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..validate import check_array, check_int
from .options import StnmfRecordingOptions

__all__ = [
    "STNMFMemoryError",
    "available_memory",
    "bin_spikes",
    "check_ensemble_values",
    "check_memory",
    "check_stimulus",
    "ensemble_axes",
    "format_bytes",
    "spike_counts",
    "spike_triggered_average",
    "spike_triggered_ensemble",
    "stnmf_memory",
    "temporal_filter_from_sta",
]


class STNMFMemoryError(MemoryError):
    """A request would need more memory than the machine (or the process limit) allows."""


# ----------------------------------------------------------------------------- memory
def format_bytes(n: float, /) -> str:
    """``n`` bytes in binary units.

    Examples
    --------
    >>> format_bytes(8 * 32000**2)
    '7.6 GiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def stnmf_memory(n_stixels: int, n_spikes: int, r: int, /, *, dtype: str = "float32") -> int:
    """Peak bytes STNMF needs: ensemble copy, Gram matrix (and its float64 copy), weights.

    The ``n × n`` Gram matrix ``V Vᵀ`` is held once in ``dtype`` and once in float64
    during the initialisation, so an ensemble with more stixels than spikes (a
    mis-oriented one) costs far more than its own size.

    Examples
    --------
    >>> format_bytes(stnmf_memory(8 * 4000, 8, 2))  # (8, 4000, 8) read as (x, y, spikes)
    '11.4 GiB'
    """
    item = np.dtype(dtype).itemsize
    n, m = int(n_stixels), int(n_spikes)
    return item * (2 * n * m + n * n + 2 * r * m) + 8 * n * n


def available_memory() -> int:
    """Bytes this process may still allocate: free RAM, capped by its address-space limit."""
    free = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            free = 2**62
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = 0
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmSize:"):
                        used = int(line.split()[1]) * 1024
            free = min(free, max(soft - used, 0))
    except (ImportError, OSError, ValueError):
        pass
    return int(free)


def check_memory(nbytes: int, /, *, what: str, fraction: float = 0.8) -> None:
    """Raise :class:`STNMFMemoryError` if ``nbytes`` exceed ``fraction`` of what is free.

    ``what`` says what needs the memory (it starts the message).

    Examples
    --------
    >>> check_memory(1024, what="a small array")
    >>> check_memory(2**70, what="STNMF of 10⁶ stixels")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    napari_unmix.core.stnmf.ensemble.STNMFMemoryError: STNMF of 10⁶ stixels needs about ...
    """
    free = available_memory()
    if nbytes > fraction * free:
        raise STNMFMemoryError(
            f"{what} needs about {format_bytes(nbytes)}, but only {format_bytes(free)} "
            "can be allocated"
        )


def ensemble_axes(shape: tuple[int, ...], /) -> tuple[int, int, int]:
    """Axis order (x, y, spikes) of a 3-D ensemble by the rule *the longest axis is spikes*.

    Returns the permutation that moves the spikes axis last (x and y keep their order).
    Ties between the longest axes are an error: say the axes explicitly.

    Examples
    --------
    >>> ensemble_axes((20000, 20, 20)), ensemble_axes((20, 20, 20000))
    ((1, 2, 0), (0, 1, 2))
    """
    if len(shape) != 3:
        raise ValueError(f"an ensemble has 3 axes (x, y, spikes), got {shape=}")
    longest = int(np.argmax(shape))
    if sorted(shape)[-1] == sorted(shape)[-2]:
        raise ValueError(
            f"cannot tell the spikes axis of an ensemble of shape {tuple(shape)}: two axes are "
            "equally long; choose the axes explicitly"
        )
    rest = [i for i in range(3) if i != longest]
    return (rest[0], rest[1], longest)


def check_ensemble_values(
    v: np.ndarray, /, *, dtype: str = "float32", overflow: bool = True, source_dtype: Any = None
) -> None:
    """Clear errors for an ensemble STNMF cannot factorise: zero, constant, or too large.

    ``v`` is stixels × spikes without NaN. Values whose squares summed over the spikes
    overflow ``dtype`` (e.g. a stimulus in units of 1e30) would turn the Gram matrix
    into inf (checked unless ``overflow=False``: for an ensemble that is rescaled first).

    Examples
    --------
    >>> check_ensemble_values(np.zeros((4, 10)))
    Traceback (most recent call last):
    ...
    ValueError: the ensemble is zero everywhere (4 stixels × 10 spikes): ...
    """
    n, m = v.shape
    lo, hi = float(np.min(v)), float(np.max(v))
    if lo == hi:
        what = "zero everywhere" if hi == 0 else f"constant ({hi:g} everywhere)"
        src = "" if source_dtype is None else f", input dtype {np.dtype(source_dtype)}"
        raise ValueError(
            f"the ensemble is {what} ({n} stixels × {m} spikes{src}): it holds no stimulus "
            "structure to factorise; check that the stimulus and the spikes belong together "
            "and that the stimulus is not blank"
        )
    if not overflow:
        return
    peak = max(abs(lo), abs(hi))
    limit = float(np.finfo(dtype).max)
    if peak * peak * m > limit / 16:
        raise ValueError(
            f"ensemble values up to {peak:.3g} overflow {dtype} in the Gram matrix V Vᵀ "
            f"({m} spikes); rescale the stimulus (e.g. divide by its contrast, "
            f"{peak:.3g}) or use dtype='float64'"
        )


# ----------------------------------------------------------------------------- spikes
def bin_spikes(
    spike_times: Any, n_frames: int, /, *, frame_rate: float | None = None, frame_times: Any = None
) -> np.ndarray:
    """Spike counts per frame (int64, length ``n_frames``) from spike times.

    Frame ``i`` spans ``[frame_times[i], frame_times[i + 1])`` (the last frame one median
    frame interval long); with ``frame_rate`` instead, frame ``i`` starts at
    ``i / frame_rate`` seconds. Spikes outside the movie are dropped. NaN times (padding
    of a table) are ignored.

    Examples
    --------
    >>> bin_spikes([0.01, 0.02, 0.26, 9.0], 4, frame_rate=4).tolist()
    [2, 1, 0, 0]
    """
    t = np.asarray(spike_times, np.float64).ravel()
    t = t[np.isfinite(t)]
    if frame_times is not None:
        edges = np.asarray(frame_times, np.float64).ravel()
        if edges.shape[0] != n_frames:
            raise ValueError(f"expected {n_frames} frame times (one per frame), got {edges.size}")
        if n_frames > 1 and np.any(np.diff(edges) <= 0):
            raise ValueError("frame_times must increase strictly")
        step = float(np.median(np.diff(edges))) if n_frames > 1 else 1.0
        edges = np.append(edges, edges[-1] + step)
    elif frame_rate is not None:
        if not frame_rate > 0:
            raise ValueError(f"frame_rate must be > 0 (frames per second), got {frame_rate=}")
        edges = np.arange(n_frames + 1) / float(frame_rate)
    else:
        raise ValueError("spike times need frame_rate (Hz) or frame_times (s) to be binned")
    return np.histogram(t, bins=edges)[0].astype(np.int64)


def spike_counts(
    spikes: Any,
    n_frames: int,
    /,
    *,
    frame_rate: float | None = None,
    frame_times: Any = None,
) -> np.ndarray:
    """Counts per frame: ``spikes`` are counts if no ``frame_rate``/``frame_times``, else times."""
    if frame_rate is None and frame_times is None:
        counts = np.asarray(spikes)
        if counts.shape != (n_frames,):
            raise ValueError(
                f"expected spike counts per frame of shape ({n_frames},), got {counts.shape}; "
                "for spike times pass frame_rate= (Hz) or frame_times= (s)"
            )
        if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts % 1):
            raise ValueError("spike counts must be non-negative integers")
        return counts.astype(np.int64)
    return bin_spikes(spikes, n_frames, frame_rate=frame_rate, frame_times=frame_times)


def check_stimulus(stimulus: Any, /) -> Any:
    """The stimulus movie (t, x, y) as an array with ``shape`` (dask and memory maps kept)."""
    stim = stimulus if hasattr(stimulus, "shape") and hasattr(stimulus, "dtype") else None
    if stim is None or isinstance(stim, np.ndarray):
        check_array("stimulus", stimulus)
        stim = np.asarray(stimulus)
    if stim.ndim != 3:
        raise ValueError(f"expected a stimulus movie (t, x, y), got shape {tuple(stim.shape)}")
    return stim


def _lag_frames(lag: int, latency: float | None, frame_rate: float | None) -> int:
    if latency is not None:
        if frame_rate is None:
            raise ValueError("latency (s) needs frame_rate (Hz); or give lag in frames")
        lag = round(latency * frame_rate)
    if lag < 0:
        raise ValueError(f"the lag must be >= 0 frames, got {lag}")
    return int(lag)


def _gather(stim: Any, idx: np.ndarray) -> np.ndarray:
    """Frames ``stim[idx]`` as float64 numpy (dask and memory maps read only those)."""
    if idx.size == 0:
        return np.zeros((0, *stim.shape[1:]))
    order = np.argsort(idx, kind="stable")
    out = np.empty((idx.size, *stim.shape[1:]), np.float64)
    picked = stim[idx[order]]
    out[order] = picked.compute() if hasattr(picked, "compute") else np.asarray(picked)
    return out


def spike_triggered_ensemble(
    stimulus: Any,
    spikes: Any,
    /,
    *,
    frame_rate: float | None = StnmfRecordingOptions.frame_rate,
    frame_times: Any = None,
    lag: int = StnmfRecordingOptions.lag,
    latency: float | None = StnmfRecordingOptions.latency,
    temporal_filter: Any = None,
    dtype: str = "float32",
    max_bytes: int | None = None,
) -> np.ndarray:
    """The spike-triggered ensemble (x, y, m) of one cell from a stimulus movie (t, x, y).

    Parameters
    ----------
    stimulus : (t, x, y) array (numpy, memory map or dask)
        Stimulus frames; only the frames that precede spikes are read.
    spikes : 1-D array
        Spike counts per frame (length t), or with ``frame_rate`` / ``frame_times`` spike
        times in seconds.
    frame_rate : float, optional
        Frames per second; frame ``i`` starts at ``i / frame_rate`` s.
    frame_times : (t,) array, optional
        Onset of every frame (s), for stimuli with uneven frame times.
    lag : int
        Frames between a stimulus frame and the spikes it drives.
    latency : float, optional
        The same in seconds (needs ``frame_rate``); overrides ``lag``.
    temporal_filter : (tau,) array, optional
        Weights of the ``tau`` frames up to the spike frame, most recent first: every
        ensemble frame is ``Σₖ f[k] · stimulus[t − lag − k]`` (see
        :func:`temporal_filter_from_sta`). Default: the single frame ``t − lag``.
    dtype : str
        dtype of the ensemble.
    max_bytes : int, optional
        Refuse ensembles larger than this (default: what the machine can allocate).

    Returns
    -------
    ndarray (x, y, m)
        A frame with n spikes appears n times; spikes whose filter window starts before
        the movie are dropped.

    Examples
    --------
    >>> stim = np.zeros((6, 3, 3), np.float32); stim[2, 1, 1] = 1
    >>> spike_triggered_ensemble(stim, [0.26, 0.30, 0.31], frame_rate=10, lag=1)[1, 1]
    array([0., 1., 1.], dtype=float32)
    """
    check_int("lag", lag, minimum=0)
    stim = check_stimulus(stimulus)
    t = int(stim.shape[0])
    counts = spike_counts(spikes, t, frame_rate=frame_rate, frame_times=frame_times)
    lag = _lag_frames(lag, latency, frame_rate)
    filt = np.ones(1) if temporal_filter is None else np.asarray(temporal_filter, np.float64)
    if filt.ndim != 1 or filt.size == 0 or not np.all(np.isfinite(filt)):
        raise ValueError(f"temporal_filter must be a finite 1-D array, got shape {filt.shape}")
    first = lag + filt.size - 1
    bins = np.nonzero(counts[first:])[0] + first
    m = int(counts[bins].sum())
    nbytes = m * int(np.prod(stim.shape[1:])) * np.dtype(dtype).itemsize
    what = f"the ensemble of {m} spikes × {stim.shape[1]} × {stim.shape[2]} stixels"
    if max_bytes is not None and nbytes > max_bytes:
        raise STNMFMemoryError(f"{what} needs {format_bytes(nbytes)} > max_bytes")
    check_memory(nbytes + bins.size * 8 * int(np.prod(stim.shape[1:])), what=what)
    frames = np.zeros((bins.size, *stim.shape[1:]), np.float64)
    for k, fk in enumerate(filt):  # one gather per filter tap, never per frame
        frames += fk * _gather(stim, bins - lag - k)
    ens = np.repeat(frames.astype(dtype), counts[bins], axis=0)
    return np.moveaxis(ens, 0, -1)


def spike_triggered_average(
    stimulus: Any,
    spikes: Any,
    /,
    *,
    n_lags: int = 1,
    frame_rate: float | None = None,
    frame_times: Any = None,
) -> np.ndarray:
    """Spike-triggered average over ``n_lags`` frames before the spikes: (n_lags, x, y).

    Lag ``k`` is the mean of ``stimulus[t − k]`` over spikes (``k = 0``: the spike frame).
    The mean stimulus is subtracted, so an unbiased white-noise movie gives zero where
    the cell does not look.

    Examples
    --------
    >>> stim = np.random.default_rng(0).choice([-1.0, 1.0], (400, 2, 2))
    >>> counts = (stim[:, 0, 0] > 0).astype(int)  # fires on a bright stixel (0, 0)
    >>> sta = spike_triggered_average(stim, np.roll(counts, 2), n_lags=3)
    >>> int(np.abs(sta[:, 0, 0]).argmax())
    2
    """
    check_int("n_lags", n_lags, minimum=1)
    stim = check_stimulus(stimulus)
    t = int(stim.shape[0])
    counts = spike_counts(spikes, t, frame_rate=frame_rate, frame_times=frame_times)
    if n_lags < 1 or n_lags > t:
        raise ValueError(f"n_lags must be in 1..{t}, got {n_lags=}")
    bins = np.nonzero(counts[n_lags - 1 :])[0] + n_lags - 1
    w = counts[bins].astype(np.float64)
    if w.sum() == 0:
        raise ValueError("no spikes inside the movie: nothing to average")
    mean = stim.mean(axis=0)
    mean = np.asarray(mean.compute() if hasattr(mean, "compute") else mean, np.float64)
    sta = np.stack([np.tensordot(w, _gather(stim, bins - k), axes=1) for k in range(n_lags)])
    return sta / w.sum() - mean


def temporal_filter_from_sta(sta: np.ndarray, /) -> np.ndarray:
    """Temporal filter (n_lags,) of a space-time STA (n_lags, x, y): its rank-1 time course.

    The leading singular vector of the STA as lags × stixels, signed so that the lag of
    largest magnitude is positive and scaled to unit norm; pass it as
    ``temporal_filter`` to :func:`spike_triggered_ensemble`. Stixels with a NaN or inf
    (from such a stimulus) are left out.

    Examples
    --------
    >>> f = np.array([0.1, 1.0, -0.3])
    >>> sta = f[:, None, None] * np.ones((1, 2, 2))
    >>> np.round(temporal_filter_from_sta(-sta), 3)
    array([ 0.095,  0.953, -0.286])
    """
    check_array("sta", sta)
    a = np.asarray(sta, np.float64)
    if a.ndim != 3:
        raise ValueError(f"expected an STA of shape (n_lags, x, y), got {a.shape}")
    if not np.any(a):
        raise ValueError("the STA is zero: no temporal filter to estimate")
    a = np.where(np.isfinite(a), a, 0.0)  # non-finite stixels (NaN / inf stimulus) left out
    u = np.linalg.svd(a.reshape(a.shape[0], -1), full_matrices=False)[0][:, 0]
    return u * np.sign(u[np.abs(u).argmax()])
