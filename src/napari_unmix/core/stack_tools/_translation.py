"""Robust 2-D translation between two images: a masked ZNCC peak, checked, refined.

:func:`estimate_translation` is what every registration method of
:mod:`napari_unmix.core.stack_tools.registration` builds on. It cannot be fooled by contrast, offset
or ramps, and one NaN or inf pixel does not stop it:

1. **Masking**: non-finite pixels (and pixels outside ``reference_mask`` /
   ``moving_mask``) get weight 0 everywhere below; they are filled with the mean of
   their finite neighbours only so that filters do not spread them.
2. **Preparation**: both images lose the same ramp (the mean slope of their
   least-squares planes: a ramp that moves with the sample goes, and the images still
   match exactly at the true shift) and are smoothed by a 1 px Gaussian (shot noise).
   Offsets and gains do not matter to the score below.
3. **Score of every shift**: the zero-mean normalised cross-correlation (ZNCC) of the two
   images *on their valid overlap*, for every integer shift at once (masked
   normalised cross-correlation by FFT, Padfield 2012). Unlike a plain
   cross-correlation it does not grow with the overlap, which is what made a smooth,
   bright image lock onto the "largest overlap" peak before.
4. **Plausibility check**: local maxima within ``max_shift`` (default 45 % of the image)
   are ranked by their score minus three standard errors of chance correlation for
   their overlap (a small overlap matches by chance more easily). The best is
   *plausible* when it is significant (Fisher's z of its score at least three standard
   errors of unrelated images, with the number of independent samples measured on the
   images: a smooth texture has few) and beats the
   next distinct maximum (more than 2 px away) by ``min_margin``; otherwise the
   fallback is zero shift (no correction) with a ``RuntimeWarning``: a wrong shift does
   more harm than none.
5. **Sub-pixel**: Gauss-Newton (Lucas-Kanade) on ``gain * moving(x - s) + offset =
   reference`` over the valid overlap (cubic splines, both images smoothed by a 1 px
   Gaussian against noise; within about 2x the Cramer-Rao bound on the scenario
   table; it may move up to 4 px from the whole-pixel peak, which is broad on smooth
   textures), or, for ``refine="dft"``, the maximum of the plain cross-correlation of the
   two overlapping parts, upsampled by a local DFT (precision ``1 / upsample_factor``).

The alternatives ``normalization="plain"`` / ``"phase"`` / ``"both"`` take the peaks of
windowed (Hann) plain and/or phase-normalised correlation surfaces instead and climb from
each to the local maximum of the overlap ZNCC; ``benchmarks/bench_registration.py``
compares them with the default (``"zncc"``), which is never worse and finds peaks the
windowed surfaces miss (large shifts on ramps).

Shifts are ``(y, x)``: ``ndimage.shift(moving, shift)`` lands on ``reference``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from ._stacks import fill_nonfinite
from ._surfaces import NORMALIZATIONS, _detrend, _hann, _overlap, _plane

__all__ = ["NORMALIZATIONS", "TranslationEstimate", "estimate_translation"]

#: Overlap scores are computed on images smoothed by a Gaussian of _LOWPASS_SIGMA px
#: (against shot noise), after a common ramp was removed. No high-pass: its border
#: extension differs between the two frames and misled the scores on smooth textures.
_LOWPASS_SIGMA = 1.0

#: Chance-correlation standard errors taken off every score before maxima are ranked;
#: the standard error of the ZNCC of unrelated images is 1 / sqrt(independent samples),
#: here with the 4 pi sigma^2 pixels per sample of white noise after the low-pass (the
#: significance test measures the samples on the images: _pixels_per_sample).
_OVERLAP_PENALTY = 3.0
_PIXELS_PER_SAMPLE = 4 * np.pi * _LOWPASS_SIGMA**2

#: How far (px) the least-squares step may move from the whole-pixel peak: a smooth
#: texture has a broad, noisy peak that is often off by a pixel or two.
_LS_REACH = 4.0


def _pixels_per_sample(images, masks) -> float:
    """Pixels per independent sample of the smoothed images: 2 pi var(f) / var(grad f)
    (the area of a Gaussian correlation peak; 4 pi sigma^2 for white noise smoothed by
    sigma), never less than for smoothed white noise."""
    ratios = []
    for im, ok in zip(images, masks, strict=True):
        gy, gx = np.gradient(im)
        grad = (gy[ok] ** 2 + gx[ok] ** 2).mean()
        ratios.append(2 * np.pi * im[ok].var() / grad if grad > 0 else _PIXELS_PER_SAMPLE)
    return max(_PIXELS_PER_SAMPLE, float(np.mean(ratios)))


#: Sigma (px) of the Gaussian applied to both images before the least-squares step.
_REFINE_SIGMA = 1.0


@dataclass(frozen=True)
class TranslationEstimate:
    """Result of :func:`estimate_translation`."""

    shift: np.ndarray  # (y, x)
    score: float  # ZNCC on the overlap at the chosen integer shift
    runner_up: float  # ZNCC of the next-best distinct local maximum (-1: none)
    plausible: bool


def _fill(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Non-finite / masked pixels replaced by the mean of their valid neighbours."""
    return fill_nonfinite(image, ~valid)


def _common_ramp(a, b, ok_a, ok_b) -> tuple[np.ndarray, np.ndarray]:
    """Both images minus the same ramp (the mean of their two plane slopes).

    A ramp that moves with the sample is removed, and because both lose the same linear
    function, the images still match exactly at the true shift (a shifted ramp is the
    ramp plus a constant, which the ZNCC ignores); planes fitted to each image alone
    differ with the content in view and would not.
    """
    (ca, basis), (cb, _) = _plane(a, ok_a), _plane(b, ok_b)
    ramp = (0.5 * (ca[1:] + cb[1:]) @ basis[1:]).reshape(a.shape)
    return a - ramp - ca[0], b - ramp - cb[0]  # own means off too: no float32 cancellation


def _refine_ls(ref, mov, ref_ok, mov_ok, start, *, max_iter: int = 20) -> np.ndarray:
    """Gauss-Newton on ``gain * mov(x - s) + offset = ref`` over the valid overlap.

    Pixels whose spline support touches an invalid pixel, or that fall outside either
    image, have no weight. Returns ``start`` when it does not converge within
    ``_LS_REACH`` px of it (flat images, too little overlap).
    """
    coeffs = ndi.spline_filter(_fill(mov, mov_ok), order=3, mode="nearest")
    reach = 2 + int(np.ceil(3 * _REFINE_SIGMA))  # spline support + smoothing
    # pixels near the border or a masked pixel were smoothed with other content
    bad_mov = ~ndi.binary_erosion(mov_ok, iterations=reach, border_value=1)
    ref_ok = ndi.binary_erosion(ref_ok, iterations=reach, border_value=0)
    start = np.asarray(start, np.float64)
    s, gain, offset = start.copy(), 1.0, 0.0
    yy, xx = np.ogrid[0 : ref.shape[0], 0 : ref.shape[1]]
    for _ in range(max_iter):
        inside = (
            (yy - s[0] >= reach)
            & (yy - s[0] <= ref.shape[0] - 1 - reach)
            & (xx - s[1] >= reach)
            & (xx - s[1] <= ref.shape[1] - 1 - reach)
        )
        use = inside & ref_ok
        if bad_mov.any():  # masked pixels of the moving image, where they land
            use &= ~(ndi.shift(bad_mov.astype(np.float32), s, order=1, cval=1) > 0)
        if use.sum() < 32:
            return start
        warped = ndi.shift(coeffs, s, order=3, mode="nearest", prefilter=False)
        gy, gx = np.gradient(warped)
        w = warped[use]
        jac = np.stack([-gain * gy[use], -gain * gx[use], w, np.ones_like(w)], axis=1)
        rhs = ref[use] - (gain * w + offset)
        try:  # normal equations: a 4 x 4 system
            step = np.linalg.solve(jac.T @ jac, jac.T @ rhs)
        except np.linalg.LinAlgError:  # flat image: nothing to align on
            return start
        s, gain, offset = s + step[:2], gain + step[2], offset + step[3]
        if not np.all(np.isfinite(s)) or np.abs(s - start).max() > _LS_REACH:
            return start
        if np.abs(step[:2]).max() < 1e-4:
            break
    return s


def _refine_dft(cross: np.ndarray, peak: np.ndarray, factor: int) -> np.ndarray:
    """Maximum of the inverse DFT of ``cross`` on a 1/factor grid within 1 px of ``peak``."""
    if factor <= 1:
        return peak.astype(np.float64)
    n = 2 * factor + 1
    offsets = (np.arange(n) - factor) / factor
    ky = np.fft.fftfreq(cross.shape[0])
    kx = np.fft.fftfreq(cross.shape[1])
    ey = np.exp(2j * np.pi * np.outer(peak[0] + offsets, ky))  # (n, M)
    ex = np.exp(2j * np.pi * np.outer(kx, peak[1] + offsets))  # (N, n)
    local = (ey @ cross @ ex).real
    iy, ix = np.unravel_index(np.argmax(local), local.shape)
    return peak + np.array([offsets[iy], offsets[ix]])


def estimate_translation(
    reference: np.ndarray,
    moving: np.ndarray,
    /,
    *,
    reference_mask: np.ndarray | None = None,
    moving_mask: np.ndarray | None = None,
    normalization: str = "zncc",
    max_shift: float | None = None,
    n_candidates: int = 4,
    min_margin: float = 0.02,
    refine: str = "lsq",
    upsample_factor: int = 1,
    warn: bool = True,
) -> TranslationEstimate:
    """Shift ``(y, x)`` that moves ``moving`` onto ``reference``; see the module doc.

    Parameters
    ----------
    reference, moving : 2-D arrays of the same shape
        Any values; non-finite pixels are ignored.
    reference_mask, moving_mask : bool arrays, optional
        True where a pixel may be used (combined with the finite pixels).
    normalization : {"zncc", "plain", "phase", "both"}
        ``"zncc"`` (default): every shift scored on the overlap (step 3 above); the
        others: candidates from windowed plain / phase-normalised correlation surfaces.
    n_candidates : int
        Peaks taken from each surface (not used by ``"zncc"``).
    max_shift : float, optional
        Largest accepted shift per axis in pixels (default: 45 % of the image size).
    min_margin : float
        ZNCC margin by which the best local maximum must beat the next one.
    refine : {"lsq", "dft", "none"}
        Sub-pixel step: least squares with gain and offset, upsampled DFT, or none.
    upsample_factor : int
        Precision 1/upsample_factor px of ``refine="dft"``.
    warn : bool
        Warn (``RuntimeWarning``) when the pair is ambiguous and zero shift is returned.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = ndi.gaussian_filter(rng.random((48, 48)), 2) + 100.0  # low contrast, offset
    >>> mov = ndi.shift(ref, (3.4, -2.2), mode="nearest")
    >>> mov[10, 10] = np.nan
    >>> np.round(estimate_translation(ref, mov).shift, 2).tolist()
    [-3.4, 2.2]
    """
    ref = np.asarray(reference, np.float64)
    mov = np.asarray(moving, np.float64)
    if ref.ndim != 2 or ref.shape != mov.shape:
        raise ValueError(
            f"reference and moving must be 2-D images of the same shape, got "
            f"{ref.shape=} and {mov.shape=}"
        )
    find_maxima = NORMALIZATIONS.resolve(normalization).function
    ref_ok, mov_ok = np.isfinite(ref), np.isfinite(mov)
    if reference_mask is not None:
        ref_ok &= np.asarray(reference_mask, bool)
    if moving_mask is not None:
        mov_ok &= np.asarray(moving_mask, bool)
    zero = np.zeros(2)
    if ref_ok.sum() < 16 or mov_ok.sum() < 16:
        return TranslationEstimate(zero, 0.0, 0.0, False)
    ref, mov = _fill(ref, ref_ok), _fill(mov, mov_ok)
    # overlap scores: offsets and gains do not change a ZNCC, a common ramp is removed
    hp_ref, hp_mov = (
        ndi.gaussian_filter(im, _LOWPASS_SIGMA, mode="nearest")
        for im in _common_ramp(ref, mov, ref_ok, mov_ok)
    )
    bound = 0.45 * np.array(ref.shape) if max_shift is None else np.full(2, float(max_shift))
    per_sample = _pixels_per_sample((hp_ref, hp_mov), (ref_ok, mov_ok))

    def penalised(score, n):
        """ZNCC minus _OVERLAP_PENALTY standard errors of chance correlation: a small
        overlap can match by chance, so a maximum there must correlate better to win."""
        return score - _OVERLAP_PENALTY / np.sqrt(np.maximum(n, 1) / _PIXELS_PER_SAMPLE)

    maxima, score_of, rank_of = find_maxima(
        ref, mov, hp_ref, hp_mov, ref_ok, mov_ok, bound, penalised, n_candidates
    )
    ranked = sorted(maxima, key=rank_of, reverse=True)
    peak, score = np.array(ranked[0], np.float64), score_of(ranked[0])
    others = [m for m in ranked[1:] if max(abs(m[0] - ranked[0][0]), abs(m[1] - ranked[0][1])) > 2]
    runner_up = score_of(others[0]) if others else -1.0
    margin = rank_of(ranked[0]) - (rank_of(others[0]) if others else -1.0)
    rs, ms = _overlap(ref.shape, peak)
    n_overlap = int((ref_ok[rs] & mov_ok[ms]).sum())
    # significant: Fisher's z of the score at least 3 standard errors of unrelated images
    samples = max(n_overlap / per_sample - 3, 1.0)
    significant = np.arctanh(min(score, 0.999999)) * np.sqrt(samples) >= 3
    plausible = bool(significant and margin >= min_margin)
    if not plausible:
        if warn:
            warnings.warn(
                f"no clear translation between the images (best overlap correlation "
                f"{score:.3f} at {peak.tolist()} px, next {runner_up:.3f}); using zero "
                "shift. Try a channel with more structure, a median pre-filter, or "
                "fewer z-slices in the projection.",
                RuntimeWarning,
                stacklevel=3,
            )
        return TranslationEstimate(zero, score, runner_up, False)
    if refine == "lsq":
        # both images smoothed alike: the shift is kept, the noise (and the pull of
        # interpolated noise towards whole or half pixels) is not; the start is the
        # vertex of a parabola through the scores around the peak (fewer iterations)
        p0 = (int(peak[0]), int(peak[1]))
        start = peak.copy()
        for axis in (0, 1):
            step = np.eye(2, dtype=int)[axis]
            lo, hi = score_of(tuple(p0 - step)), score_of(tuple(p0 + step))
            curve = lo - 2 * score + hi
            if curve < 0:
                start[axis] += float(np.clip(0.5 * (lo - hi) / curve, -0.5, 0.5))
        shift = _refine_ls(
            ndi.gaussian_filter(ref, _REFINE_SIGMA, mode="nearest"),
            ndi.gaussian_filter(mov, _REFINE_SIGMA, mode="nearest"),
            ref_ok,
            mov_ok,
            start,
        )
        if np.any(np.abs(shift) > bound + 0.5):  # the bound holds for the refinement too
            shift = start
    elif refine == "dft":
        # the overlap at the integer peak: what is left is less than a pixel, so content
        # that enters or leaves at the borders does not pull the sub-pixel peak
        rs, ms = _overlap(ref.shape, peak)
        a, b = ref[rs], mov[ms]
        ok_a, ok_b = ref_ok[rs], mov_ok[ms]
        win = _hann(a.shape)
        cross = np.fft.fft2(_detrend(a, ok_a) * win * ok_a) * np.conj(
            np.fft.fft2(_detrend(b, ok_b) * win * ok_b)
        )
        shift = peak + _refine_dft(cross, np.zeros(2), int(upsample_factor))
    elif refine == "none":
        shift = peak.astype(np.float64)
    else:
        raise ValueError(f"unknown {refine=}; choose 'lsq', 'dft' or 'none'")
    return TranslationEstimate(np.asarray(shift, np.float64), score, runner_up, plausible)
