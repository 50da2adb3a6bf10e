"""Correlation surfaces and their maxima for :func:`~._translation.estimate_translation`:
the overlap ZNCC, windowed plain / phase correlation peaks, and :data:`NORMALIZATIONS`."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage as ndi

from ..registry import Method, Registry

__all__ = ["NORMALIZATIONS"]


def _plane(image: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares plane ``a + b y + c x``: coefficients and basis."""
    ny, nx = image.shape
    y, x = np.mgrid[0:ny, 0:nx]
    basis = np.stack([np.ones(image.size), (y.ravel() - ny / 2) / ny, (x.ravel() - nx / 2) / nx])
    w = weight.ravel()
    gram = (basis * w) @ basis.T
    try:
        coef = np.linalg.solve(gram, (basis * w) @ image.ravel())
    except np.linalg.LinAlgError:
        coef = np.zeros(3)
    return coef, basis


def _detrend(image: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Image minus its weighted least-squares plane ``a + b y + c x``."""
    coef, basis = _plane(image, weight)
    return image - (coef @ basis).reshape(image.shape)


def _hann(shape: tuple[int, int]) -> np.ndarray:
    return np.outer(np.hanning(shape[0] + 2)[1:-1], np.hanning(shape[1] + 2)[1:-1])


def _signed(index: np.ndarray, n: int) -> np.ndarray:
    return np.where(index > n // 2, index - n, index)


def _peaks(surface: np.ndarray, k: int) -> np.ndarray:
    """Signed (y, x) integer positions of the ``k`` highest local maxima (periodic)."""
    local = ndi.maximum_filter(surface, size=3, mode="wrap") == surface
    flat = np.flatnonzero(local)
    best = flat[np.argsort(surface.flat[flat])[::-1][:k]]
    iy, ix = np.unravel_index(best, surface.shape)
    return np.stack([_signed(iy, surface.shape[0]), _signed(ix, surface.shape[1])], axis=1)


def _overlap(shape: tuple[int, int], s: np.ndarray):
    """Slices of reference and moving that meet when moving is shifted by integer ``s``."""
    ref_sl, mov_sl = [], []
    for n, d in zip(shape, (int(s[0]), int(s[1])), strict=True):
        ref_sl.append(slice(max(d, 0), n + min(d, 0)))
        mov_sl.append(slice(max(-d, 0), n - max(d, 0)))
    return tuple(ref_sl), tuple(mov_sl)


def _zncc(ref, mov, ref_ok, mov_ok, s) -> float:
    """Zero-mean normalised cross-correlation on the valid overlap at integer shift ``s``."""
    rs, ms = _overlap(ref.shape, s)
    ok = ref_ok[rs] & mov_ok[ms]
    if ok.sum() < 16:
        return -1.0
    a, b = ref[rs][ok], mov[ms][ok]
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else -1.0


def _zncc_surface(a, b, ok_a, ok_b, bound) -> tuple[np.ndarray, np.ndarray]:
    """ZNCC of ``a`` and ``b`` on their valid overlap for every integer shift, by FFT.

    Masked normalised cross-correlation (Padfield 2012): every sum over the overlap is
    a correlation of zero-padded images and masks. Returns ``(zncc, n)`` with
    ``zncc[i, j]`` the score at the shift ``(i, j)`` (negative indices wrap, as in
    ``ifft2``) and ``n`` the number of valid overlap pixels there. Zero padding by
    ``bound`` (+ 1) pixels is enough for shifts up to ``bound`` not to wrap.
    """
    shape = tuple(
        sp_fft.next_fast_len(n + min(int(np.ceil(m)) + 2, n - 1), real=True)
        for n, m in zip(a.shape, bound, strict=True)
    )
    # single precision: the images have no ramp and little mean, so the sums below do
    # not cancel catastrophically, and the FFTs take half the time
    ma, mb = ok_a.astype(np.float32), ok_b.astype(np.float32)
    fa, fb = (a * ok_a).astype(np.float32), (b * ok_b).astype(np.float32)

    def ft(x):
        return sp_fft.rfft2(x, shape)

    def corr(x_ft, y_ft):  # sum_x x(p) y(p - s) for every s
        return sp_fft.irfft2(x_ft * np.conj(y_ft), shape).astype(np.float64)

    ma_ft, fa_ft, fb_ft = ft(ma), ft(fa), ft(fb)
    mb_ft = ma_ft if ok_a is ok_b or np.array_equal(ok_a, ok_b) else ft(mb)
    n = np.round(corr(ma_ft, mb_ft))
    sa, sb = corr(fa_ft, mb_ft), corr(ma_ft, fb_ft)
    saa, sbb = corr(ft(fa * fa), mb_ft), corr(ma_ft, ft(fb * fb))
    sab = corr(fa_ft, fb_ft)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = sab - sa * sb / n
        var = (saa - sa**2 / n) * (sbb - sb**2 / n)
        zncc = np.where((n >= 16) & (var > 0), num / np.sqrt(np.abs(var)), -1.0)
    return np.clip(zncc, -1.0, 1.0), n


def _climb(score_at, s: tuple[int, int]) -> tuple[int, int]:
    """Steepest ascent of ``score_at`` over integer shifts from ``s`` to a local maximum."""
    for _ in range(64):
        around = [(s[0] + dy, s[1] + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        best = max(around, key=score_at)
        if best == s:
            break
        s = best
    return s


def _surface_maxima(a, b, ok_a, ok_b, bound, penalised, k: int = 8):
    """Local maxima (the ``k`` best) of the penalised ZNCC surface within ``bound``."""
    zncc, n = _zncc_surface(a, b, ok_a, ok_b, bound)
    iy = _signed(np.arange(zncc.shape[0]), zncc.shape[0])[:, None]
    ix = _signed(np.arange(zncc.shape[1]), zncc.shape[1])[None, :]
    rank = np.where(
        (np.abs(iy) <= bound[0]) & (np.abs(ix) <= bound[1]) & (n >= 16), penalised(zncc, n), -np.inf
    )
    local = (ndi.maximum_filter(rank, size=3, mode="wrap") == rank) & np.isfinite(rank)
    flat = np.flatnonzero(local)
    best = flat[np.argsort(rank.flat[flat])[::-1][:k]]
    py, px = np.unravel_index(best, rank.shape)
    maxima = list(zip(iy[py, 0].tolist(), ix[0, px].tolist(), strict=True))
    if not maxima:
        maxima = [(0, 0)]

    def score_of(s):
        return float(zncc[s[0] % zncc.shape[0], s[1] % zncc.shape[1]])

    def rank_of(s):
        return float(rank[s[0] % rank.shape[0], s[1] % rank.shape[1]])

    return maxima, score_of, rank_of


def _candidate_maxima(
    ref, mov, hp_ref, hp_mov, ref_ok, mov_ok, bound, penalised, n_candidates, *, surfaces
):
    """Peaks of windowed (plain and/or phase) correlation surfaces, each climbed to the
    local maximum of the overlap ZNCC; the alternative to the full ZNCC surface."""
    window = _hann(ref.shape)
    a = _detrend(ref, ref_ok) * window * ref_ok
    b = _detrend(mov, mov_ok) * window * mov_ok
    cross = np.fft.fft2(a) * np.conj(np.fft.fft2(b))
    surfaces = []
    for name in surfaces:
        spectrum = cross / np.maximum(np.abs(cross), 1e-12 * np.abs(cross).max())
        surfaces.append(np.fft.ifft2(spectrum if name == "phase" else cross).real)
    candidates = np.concatenate([_peaks(sf, n_candidates) for sf in surfaces] + [np.zeros((1, 2))])
    candidates = np.unique(candidates[(np.abs(candidates) <= bound).all(axis=1)], axis=0)
    cache: dict[tuple[int, int], float] = {}

    def score_of(s: tuple[int, int]) -> float:
        if s not in cache:
            inside = abs(s[0]) <= bound[0] and abs(s[1]) <= bound[1]
            cache[s] = _zncc(hp_ref, hp_mov, ref_ok, mov_ok, s) if inside else -2.0
        return cache[s]

    def rank_of(s: tuple[int, int]) -> float:
        return float(
            penalised(score_of(s), (ref.shape[0] - abs(s[0])) * (ref.shape[1] - abs(s[1])))
        )

    maxima = {_climb(score_of, tuple(int(v) for v in c)) for c in candidates}
    return maxima, score_of, rank_of


def _zncc_maxima(ref, mov, hp_ref, hp_mov, ref_ok, mov_ok, bound, penalised, n_candidates):
    """Maxima of the full overlap-ZNCC surface (the default)."""
    return _surface_maxima(hp_ref, hp_mov, ref_ok, mov_ok, bound, penalised)


#: Which correlation surfaces propose the candidate shifts:
#: ``function(ref, mov, hp_ref, hp_mov, ref_ok, mov_ok, bound, penalised, n_candidates)``
#: returns ``(maxima, score_of, rank_of)``.
NORMALIZATIONS = Registry(
    "normalization",
    [
        Method("zncc", _zncc_maxima, "ZNCC", "the full overlap-ZNCC surface"),
        Method(
            "both",
            partial(_candidate_maxima, surfaces=("plain", "phase")),
            "Plain and phase",
            "peaks of the windowed plain and phase correlations, climbed on the ZNCC",
        ),
        Method(
            "phase",
            partial(_candidate_maxima, surfaces=("phase",)),
            "Phase",
            "peaks of the windowed phase correlation, climbed on the ZNCC",
        ),
        Method(
            "plain",
            partial(_candidate_maxima, surfaces=("plain",)),
            "Plain",
            "peaks of the windowed plain correlation, climbed on the ZNCC",
        ),
    ],
)
