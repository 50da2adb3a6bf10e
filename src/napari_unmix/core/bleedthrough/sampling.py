"""Voxel sampling, the estimation preprocessing and the alpha mask (sample-sized data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .exact import _check_percentile, _combine_masks, _gather, _is_dask

__all__ = ["make_alpha_mask", "prepare_source_target_for_alpha", "sample_voxels"]


def sample_voxels(
    *volumes: Any, max_voxels: int | None = 500_000, random_state: Any = 0
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The same seeded voxels from equally shaped numpy or dask arrays, as 1-D numpy.

    Parameters
    ----------
    *volumes : array-like
        Arrays of one shape (e.g. the source and target ``ZYX`` volume of one time point).
    max_voxels : int or None
        At most this many voxels: one drawn uniformly in each of ``max_voxels``
        consecutive strata of the C-order volume (strata differ in size by at most one
        voxel; no repeats; spread over the whole volume). ``None`` or a volume no larger than this: every voxel, no
        randomness.
    random_state : int, numpy Generator or None
        Seed of the subsample.

    Returns
    -------
    values : list of ndarray
        One 1-D array per volume, in the volume's dtype.
    flat_index : ndarray or None
        C-order indices of the sampled voxels (None when every voxel was taken).

    Examples
    --------
    >>> a = np.arange(100.0).reshape(10, 10)
    >>> (va, vb), idx = sample_voxels(a, 2 * a, max_voxels=5, random_state=0)
    >>> va.size, bool(np.all(vb == 2 * va)), bool(np.all(va == idx))
    (5, True, True)
    """
    if not volumes:
        raise ValueError("give at least one array to sample from")
    shape = tuple(volumes[0].shape)
    for v in volumes[1:]:
        if tuple(v.shape) != shape:
            raise ValueError(f"arrays to sample must have one shape, got {shape} and {v.shape}")
    n = int(np.prod(shape))
    if n == 0:
        raise ValueError(f"nothing to sample from an empty array ({shape=})")
    dask_in = any(_is_dask(v) for v in volumes)
    if max_voxels is None or n <= int(max_voxels):
        flat = None
        picked = [v.reshape(-1) for v in volumes]
    else:
        if int(max_voxels) < 1:
            raise ValueError(f"max_alpha_voxels must be >= 1, got {max_voxels=}")
        # jittered stratified sample: cut the C-order volume into k strata of floor(n/k)
        # or ceil(n/k) voxels and draw one voxel uniformly in each. Every voxel's chance
        # is ~k/n, the sample covers the whole volume, comes out sorted without repeats,
        # and costs O(k) instead of O(n).
        k = int(max_voxels)
        rng = np.random.default_rng(random_state)
        edges = (np.arange(k + 1, dtype=np.int64) * n) // k
        flat = edges[:-1] + (rng.random(k) * np.diff(edges)).astype(np.int64)
        picked = [_gather(v, flat) for v in volumes]
    if dask_in:
        import dask

        picked = list(dask.compute(*picked))
    return [np.asarray(p).reshape(-1) for p in picked], flat


def prepare_source_target_for_alpha(
    source_volume: Any,
    target_volume: Any,
    *,
    background_percentile: float = 1.0,
    preprocess_alpha_inputs: bool = True,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """float32 copies of source and target, minus a low percentile each, clipped at 0.

    Used only for estimating alpha; the correction is applied to the measured data.
    Signature as in the ``spectral-unmixing`` package.

    Returns
    -------
    (source_prepared, target_prepared, source_background, target_background)

    Examples
    --------
    >>> s, t, bs, bt = prepare_source_target_for_alpha(
    ...     np.array([1.0, 2.0, 5.0]), np.array([3.0, 3.0, 4.0]), background_percentile=0)
    >>> s.tolist(), t.tolist(), bs, bt
    ([0.0, 1.0, 4.0], [0.0, 0.0, 1.0], 1.0, 3.0)
    """
    bg_pct = _check_percentile("background_percentile", background_percentile)
    s = np.array(source_volume, dtype=np.float32)  # a copy: inputs are never modified
    t = np.array(target_volume, dtype=np.float32)
    if s.shape != t.shape:
        raise ValueError(f"source and target must have one shape, got {s.shape} and {t.shape}")
    if s.size == 0:
        raise ValueError("source and target are empty; nothing to estimate alpha from")
    if not preprocess_alpha_inputs:
        return s, t, 0.0, 0.0
    out = []
    for v in (s, t):
        bg = float(np.percentile(v, bg_pct))
        np.subtract(v, np.float32(bg), out=v)
        np.maximum(v, 0.0, out=v)
        out.append(bg)
    return s, t, out[0], out[1]


def make_alpha_mask(
    source: Any,
    target: Any = None,
    *,
    signal_percentile: float = 99.0,
    target_low_percentile: float | None = None,
    min_voxels: int = 16,
) -> tuple[np.ndarray, dict]:
    """Bright-source voxels (optionally with a low target) for estimating alpha.

    The mask is ``source >= percentile(source, signal_percentile)``, intersected with
    ``target <= percentile(target, target_low_percentile)`` when that is given. If the
    stricter mask has fewer than ``min_voxels`` voxels, the source-only mask is used and
    ``details["mask_fallback_used"]`` is True. Signature as in ``spectral-unmixing``.

    Examples
    --------
    >>> mask, info = make_alpha_mask(np.arange(100.0), signal_percentile=90, min_voxels=5)
    >>> int(mask.sum()), info["mask_strategy"]
    (10, 'source_only')
    """
    sp = _check_percentile("signal_percentile", signal_percentile)
    tp = _check_percentile("target_low_percentile", target_low_percentile)
    min_voxels = int(min_voxels)
    if min_voxels < 1:
        raise ValueError(f"min_mask_voxels must be >= 1, got {min_voxels}")
    source = np.asarray(source)
    s_thr = float(np.percentile(source, sp))
    mask = source >= s_thr
    t_thr, strict = None, None
    if target is not None and tp is not None:
        target = np.asarray(target)
        if target.shape != source.shape:
            raise ValueError(f"source and target shapes differ: {source.shape} vs {target.shape}")
        t_thr = float(np.percentile(target, tp))
        strict = mask & (target <= t_thr)
    return _combine_masks(mask, strict, sp, tp, s_thr, t_thr, min_voxels)
