"""Exact whole-volume alpha mask of dask volumes, in bounded passes over the blocks.

The numbers are those of :func:`napari_unmix.core.bleedthrough.exact._whole_volume_mask` followed
by its seeded mask subsample (bit for bit), computed without holding the volume:

1. the seeded bracket sample (drawn by the caller) gives, for each needed percentile, a
   value window ``[lo, hi]`` that holds its two order statistics with a wide margin;
2. one pass over the blocks (source and target together) returns per block the extremes,
   per window the counts below / equal to ``lo`` / equal to ``hi`` / above, and the values
   strictly inside; the exact order statistics follow from the counts and an
   ``np.partition`` of the inside values (a missed window, practically never, costs one
   more pass with the window opened on the missed side);
3. one pass counts the mask voxels per block (source-only and strict mask);
4. one pass returns the mask voxels, or only the seeded picks of the mask when it holds
   more than ``max_alpha_voxels``: the same ordinals as the numpy path draws, since the
   flattened blocks are consecutive C-order runs.

Memory: one block per worker, the voxels inside the windows (≈ ``12·sqrt(q/m)`` of the
volume per percentile ``q`` for a sample of ``m`` voxels) and at most
``max_alpha_voxels`` mask voxels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .exact import (
    _check_finite,
    _check_percentile,
    _choose_mask,
    _constant_source,
    _lerp,
    _pick_mask_voxels,
    _prep,
    _ranks,
)

Window = tuple[Any, Any]  # (lo, hi) in the volume's dtype; None: open on that side


def _window(ks: np.ndarray, n: int, guess: np.ndarray) -> Window:
    """Values of the sorted sample ``guess`` around the order statistics ``ks`` (margin as
    in ``_bracket``: six standard deviations of a sample quantile, plus two ranks)."""
    m = guess.size
    r0, r1 = ks[0] / max(n - 1, 1), ks[1] / max(n - 1, 1)
    margin = 6.0 * np.sqrt(max(min(r0, 1 - r0), 1.0 / m) / m) + 2.0 / m
    lo = guess[int(np.floor((r0 - margin) * (m - 1)))] if r0 - margin > 0 else None
    hi = guess[int(np.ceil((r1 + margin) * (m - 1)))] if r1 + margin < 1 else None
    return lo, hi


def _count_window(v: np.ndarray, win: Window) -> tuple[np.ndarray, np.ndarray]:
    """(below lo, equal lo, equal hi, above hi) counts and the values strictly inside."""
    lo, hi = win
    counts = np.zeros(4, np.int64)
    inside = np.ones(v.shape, bool)
    if lo is not None:
        counts[0], counts[1] = np.count_nonzero(v < lo), np.count_nonzero(v == lo)
        inside &= v > lo
    if hi is not None:
        counts[2], counts[3] = np.count_nonzero(v == hi), np.count_nonzero(v > hi)
        inside &= v < hi
    return counts, v[inside]


def _block_windows(s: np.ndarray, t: np.ndarray, s_wins: list, t_wins: list) -> tuple:
    s, t = s.reshape(-1), t.reshape(-1)
    ext = np.array([s.min(), s.max(), t.min(), t.max()])
    return (
        ext,
        [_count_window(s, w) for w in s_wins],
        [_count_window(t, w) for w in t_wins],
    )


def _resolve(ks: np.ndarray, win: Window, parts: list, dtype: np.dtype) -> tuple[Any, Window]:
    """The order statistics ``ks`` from the blocks' window counts, or None and a wider window."""
    lo, hi = win
    below, eq_lo, eq_hi, _ = np.sum([c for c, _ in parts], axis=0)
    if lo is not None and hi is not None and lo == hi:
        eq_hi = 0  # one value: its voxels were counted twice
    inner = np.concatenate([v for _, v in parts]) if parts else np.zeros(0, dtype)
    a1 = below + eq_lo
    a2 = a1 + inner.size
    a3 = a2 + eq_hi
    if ks[0] < below or ks[1] >= a3:  # missed: open the window on the missed side(s)
        return None, (None if ks[0] < below else lo, None if ks[1] >= a3 else hi)
    out = np.empty(len(ks), dtype)
    need = []
    for j, k in enumerate(ks):
        if k < a1:
            out[j] = lo
        elif k < a2:
            need.append((j, int(k - a1)))
        else:
            out[j] = hi
    if need:
        rel = np.array([r for _, r in need])
        vals = np.partition(inner, rel)[rel]
        for (j, _), v in zip(need, vals, strict=True):
            out[j] = v
    return out, win


def _flat_blocks(source: Any, target: Any) -> tuple[list, list]:
    """Matching 1-D C-order blocks of both volumes (dask delayed objects)."""
    import dask.array as da

    s1 = da.asarray(source).reshape(-1)
    t1 = da.asarray(target).reshape(-1)
    if not hasattr(target, "dask"):  # a numpy target takes the dask source's blocks
        t1 = t1.rechunk(s1.chunks)
    elif s1.chunks != t1.chunks:
        s1 = s1.rechunk(t1.chunks)
    return list(s1.to_delayed().ravel()), list(t1.to_delayed().ravel())


def _compute_blocks(func: Any, sb: list, tb: list, *args: Any, per_block: Any = None) -> list:
    """``func(s_block, t_block, *args, *per_block[i])`` for the blocks ``i`` in
    ``per_block`` (a dict; default all blocks), in one ``dask.compute``."""
    import dask

    todo = per_block if per_block is not None else dict.fromkeys(range(len(sb)), ())
    tasks = [dask.delayed(func)(sb[i], tb[i], *args, *extra) for i, extra in todo.items()]
    return list(dask.compute(*tasks))


def _exact_stats(sb: list, tb: list, n: int, dtypes: tuple, reqs: dict, guess: tuple) -> tuple:
    """Extremes of both volumes and the exact order statistics ``reqs`` (name -> (which, ks))."""
    wins = {name: _window(ks, n, guess[w]) for name, (w, ks) in reqs.items()}
    stats: dict[str, Any] = {}
    ext = None
    while len(stats) < len(reqs):
        todo = [name for name in reqs if name not in stats]
        names = [[k for k in todo if reqs[k][0] == w] for w in (0, 1)]
        res = _compute_blocks(
            _block_windows, sb, tb, [wins[k] for k in names[0]], [wins[k] for k in names[1]]
        )
        if ext is None:
            e = np.array([r[0] for r in res])
            ext = ((e[:, 0].min(), e[:, 1].max()), (e[:, 2].min(), e[:, 3].max()))
            for which, label in ((0, "source"), (1, "target")):
                _check_finite(label, ext[which], dtypes[which])
        for w in (0, 1):
            for i, name in enumerate(names[w]):
                parts = [r[1 + w][i] for r in res]
                stats[name], wins[name] = _resolve(reqs[name][1], wins[name], parts, dtypes[w])
                if stats[name] is None:
                    del stats[name]
    return tuple((float(a), float(b)) for a, b in ext), stats


def _block_masks(s: Any, t: Any, prep_kw: dict, picks: Any = None, use_strict: Any = None):
    """Mask sizes of one block, or (picks given) its mask values / the picked ones."""
    pre = prep_kw["preprocess"]
    cs = _prep(s.reshape(-1), prep_kw["bg_s"], pre)
    mask = cs >= prep_kw["s_thr"]
    t_thr = prep_kw["t_thr"]
    ct = None
    if t_thr is not None or use_strict is not None:
        ct = _prep(t.reshape(-1), prep_kw["bg_t"], pre)
    strict = None if t_thr is None else mask & (ct <= t_thr)
    if use_strict is None:
        return int(np.count_nonzero(mask)), None if strict is None else int(strict.sum())
    chosen = strict if use_strict else mask
    xs, ys = cs[chosen], ct[chosen]
    return (xs, ys) if isinstance(picks, bool) else (xs[picks], ys[picks])


def whole_volume_mask_dask(
    source: Any,
    target: Any,
    guess: tuple[np.ndarray, np.ndarray],
    *,
    rng: np.random.Generator,
    max_voxels: int,
    background_percentile: float,
    preprocess: bool,
    signal_percentile: float,
    target_low_percentile: float | None,
    min_voxels: int,
) -> tuple[np.ndarray, np.ndarray, float, float, dict, bool]:
    """The numpy path's mask values (already subsampled), backgrounds, report, subsampled?"""
    sp = _check_percentile("signal_percentile", signal_percentile)
    tp = _check_percentile("target_low_percentile", target_low_percentile)
    bp = _check_percentile("background_percentile", background_percentile)
    n, f32 = int(np.prod(source.shape)), np.float32
    dtypes = (np.dtype(source.dtype), np.dtype(target.dtype))
    g = (np.sort(guess[0]), np.sort(guess[1]))
    ks_bg, frac_bg = _ranks(n, bp)
    ks_sig, frac_sig = _ranks(n, sp)
    reqs = {"sig": (0, ks_sig)}
    if preprocess:
        reqs.update(bg_s=(0, ks_bg), bg_t=(1, ks_bg))
    if tp is not None:
        ks_tp, frac_tp = _ranks(n, tp)
        reqs["tp"] = (1, ks_tp)
    sb, tb = _flat_blocks(source, target)
    (ext_s, _), stats = _exact_stats(sb, tb, n, dtypes, reqs, g)
    bg_s = bg_t = 0.0
    if preprocess:
        bg_s = float(f32(_lerp(stats["bg_s"].astype(f32), frac_bg)))
        bg_t = float(f32(_lerp(stats["bg_t"].astype(f32), frac_bg)))
    if not ext_s[1] > max(ext_s[0], bg_s):
        raise _constant_source()
    s_thr = _lerp(_prep(stats["sig"], bg_s, preprocess), frac_sig)
    t_thr = None if tp is None else _lerp(_prep(stats["tp"], bg_t, preprocess), frac_tp)
    kw = {"preprocess": preprocess, "bg_s": bg_s, "bg_t": bg_t, "s_thr": s_thr, "t_thr": t_thr}
    counts = _compute_blocks(_block_masks, sb, tb, kw)
    n_src = sum(c[0] for c in counts)
    n_strict = None if t_thr is None else sum(c[1] for c in counts)
    use_strict, info = _choose_mask(n_src, n_strict, sp, tp, s_thr, t_thr, int(min_voxels))
    per_block = np.array([c[1] if use_strict else c[0] for c in counts], np.int64)
    pick = _pick_mask_voxels(rng, int(per_block.sum()), max_voxels)
    starts = np.concatenate([[0], np.cumsum(per_block)])
    if pick is None:
        local = [True] * len(sb)  # every mask voxel of every block
    else:
        cut = np.searchsorted(pick, starts)
        local = [pick[cut[i] : cut[i + 1]] - starts[i] for i in range(len(sb))]
    todo = {
        i: (local[i], use_strict)
        for i in range(len(sb))
        if per_block[i] and (pick is None or local[i].size)
    }
    vals = _compute_blocks(_block_masks, sb, tb, kw, per_block=todo)
    xs = np.concatenate([v[0] for v in vals]) if vals else np.zeros(0, f32)
    ys = np.concatenate([v[1] for v in vals]) if vals else np.zeros(0, f32)
    return xs, ys, bg_s, bg_t, info, pick is not None
