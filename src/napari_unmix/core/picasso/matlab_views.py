"""The MATLAB PICASSO iteration, noise-aware: its MI step on two independently noisy views.

The loop is the one of :mod:`.matlab`: every sweep estimates, for every ordered pair
(sink ``i``, source ``j``), ``alpha_ij = argmin_a MI(v_i - a v_j, v_j)`` and applies
``C = I - step_size * alpha`` to the state. On shot-noise-limited images that MI sees the
source's noise twice (``-a`` times in the corrected sink, once in the source), so the
published step under-subtracts (see :mod:`.noise`). Here the MI step is the one of
``source_sink_n``: the state is kept as the two checkerboard views of
:func:`~.noise.checkerboard_smoothed` (smoothing from the measured noise), the corrected
sink is built in one view and compared with the source in the other (both ways round,
:func:`~.sourcesink.pair_objective`), with the histogram MI of
:class:`~napari_unmix.core.mi.FixedBinnedMI` on unclipped values; each coefficient is
searched over ``[-alpha_clip, alpha_clip]`` by a coarse grid and Brent
(:func:`~.sourcesink.line_search`).

What stays of the published scheme: the pairwise coefficients of the current state,
the damped update (``step_size``), the clip of each coefficient to ``alpha_clip`` and the
stop on the largest ``|alpha|`` of a sweep (``tolerance``). What goes: the block binning
and quantised MI (the views replace them), the clipping of the state at zero and the
negativity rule (both turn zero-mean noise into an offset); the views stay linear, so the
fit's transforms replay exactly as the plain loop's (:func:`~.matlab.replay`). On data
whose noise is negligible the views are not split (both are the pixels, as
``source_sink_n`` does): the MI on pixels instead of ~1000 quantised blocks is what makes
the scheme accurate there (crosstalk 0.08 -> 0.01 on the scenario table at 100 photons).

Each MI is evaluated on a subset of the pixels (most of the time goes into those
histograms): every sweep takes the next of disjoint seeded subsets of
:data:`SWEEP_PIXELS` pixels, so the damped update averages the estimates over all pixels
(the smoothed views' neighbouring pixels carry much the same information). The loop
stops when the largest ``|alpha|`` of a sweep is below ``tolerance``, or at the noise
floor (the estimates only jitter around zero): with subsets, once it has not reached a
new low for ``2 / step_size`` sweeps, after ``2 / step_size`` more sweeps on one fixed
subset of :data:`FINAL_PIXELS` (which settle the state on one sample); without (at most
:data:`SWEEP_PIXELS` pixels), when it has not reached a new low for ``4 / step_size``
sweeps. On the scenario table (0.5 photons, 256², 12 scenes) this is as accurate as
every sweep on all pixels and 3-4x faster; on 512² images about 10x.
"""

from __future__ import annotations

import numpy as np

from ..mi import FixedBinnedMI
from ..progress import Progress, Steps
from .matlab import MatlabFit
from .noise import checkerboard_smoothed
from .sourcesink import alpha_standard_error, line_search, pair_objective

__all__ = ["FINAL_PIXELS", "SWEEP_PIXELS", "iter_matlab_views", "split_views"]

#: pixels per MI evaluation while the coefficients approach the noise floor (chosen on
#: the scenario table, ``benchmarks/bench_picasso_scenarios.py``)
SWEEP_PIXELS = 16_384
#: pixels of the final sweeps at the noise floor (all of a 256² plane)
FINAL_PIXELS = 65_536


def split_views(
    prepared: np.ndarray, sigma: float, max_pixels: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The two checkerboard views of normalised planes, at most ``max_pixels`` seeded pixels.

    Parameters
    ----------
    prepared : ndarray, shape (N, P, Y, X)
        Normalised, background-subtracted channels (unclipped).
    sigma : float
        Gaussian smoothing of each view (pixels), see :func:`~.noise.auto_split_sigma`;
        0 (negligible noise): both views are the pixels themselves.

    Returns
    -------
    (ndarray, ndarray), each shape (N, n), float32

    Examples
    --------
    >>> a, b = split_views(np.ones((2, 1, 8, 8)), 1.0, 10, np.random.default_rng(0))
    >>> a.shape, b.shape
    ((2, 10), (2, 10))
    >>> a, b = split_views(np.ones((2, 1, 8, 8)), 0.0, 10, np.random.default_rng(0))
    >>> a is b  # not split: one view, evaluated once
    True
    """
    if sigma > 0:
        a, b = checkerboard_smoothed(prepared, sigma)
    else:
        a = b = np.asarray(prepared, np.float32).reshape(prepared.shape[0], -1)
    if a.shape[1] > max_pixels:
        pick = np.sort(rng.choice(a.shape[1], int(max_pixels), replace=False))
        a, b = a[:, pick], b[:, pick]
    a = np.ascontiguousarray(a)
    return (a, a) if sigma <= 0 else (a, np.ascontiguousarray(b))


def _sweep_alphas(
    a: np.ndarray, b: np.ndarray, window: np.ndarray, *, mi_bins: int, xatol: float
) -> np.ndarray:
    """``alpha[i, j]`` for every ordered pair (sink i, source j) of the views' state,
    each searched over ``[-window[i, j], window[i, j]]``."""
    n = a.shape[0]
    alpha = np.zeros((n, n))
    # every source is binned once per sweep and view, not once per sink
    mi_b = [FixedBinnedMI(v, bins=mi_bins) for v in b]
    mi_a = mi_b if b is a else [FixedBinnedMI(v, bins=mi_bins) for v in a]
    for i in range(n):
        for j in range(n):
            if i != j:
                lines = [(a[i], a[j], mi_b[j])]  # sink and source in a, the MI against b
                if b is not a:  # and the other way round
                    lines.append((b[i], b[j], mi_a[j]))
                objective = pair_objective(lines, mi_bins)
                w = float(window[i, j])
                alpha[i, j] = line_search(objective, -w, w, grid=11, xatol=xatol)
    return alpha


def _pixel_subsets(n: int, sweep_pixels: int, rng: np.random.Generator) -> np.ndarray | None:
    """A seeded order of the ``n`` pixels whose consecutive runs of about ``sweep_pixels``
    are the sweeps' subsets (disjoint, spatially spread); None when one run holds them all."""
    return rng.permutation(n) if n > sweep_pixels else None


def iter_matlab_views(
    views: tuple[np.ndarray, np.ndarray],
    /,
    *,
    max_iter: int,
    tolerance: float,
    step_size: float,
    alpha_clip: float,
    mi_bins: int,
    sweep_pixels: int = SWEEP_PIXELS,
    final_pixels: int = FINAL_PIXELS,
    random_state: int | np.random.Generator | None = 0,
) -> Steps:
    """Run the noise-aware PICASSO iteration; yield a
    :class:`~napari_unmix.core.progress.Progress` after each sweep (``partial``: the
    :class:`~.matlab.MatlabFit` so far).

    Parameters
    ----------
    views : (ndarray, ndarray), each shape (N, n)
        Two measurements of the same ``n`` pixels of the normalised channels with
        independent noise (:func:`split_views`).
    max_iter, tolerance, step_size, alpha_clip, mi_bins
        :class:`~napari_unmix.core.picasso.PicassoOptions` fields (defaults there).
    sweep_pixels : int
        Pixels per MI evaluation while the coefficients approach the noise floor: each
        sweep takes the next of the disjoint seeded subsets of this size, so the damped
        update averages over all pixels.
    final_pixels : int
        Pixels (one fixed seeded subset) of the final ``ceil(2 / step_size)`` sweeps,
        which start at the noise floor.
    random_state : int, Generator or None
        Seed of the pixel subsets.

    Returns (as the generator's return value)
    -------
    MatlabFit
        ``alpha_se`` holds the standard error of every pairwise coefficient of the
        final state (``[sink, source]``, normalised units).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.exponential(size=(2, 20000)) * (rng.random((2, 20000)) < 0.3)
    >>> x = np.array([[1.0, 0.0], [0.3, 1.0]]) @ f   # channel 0 bleeds into 1
    >>> from napari_unmix.core.progress import run
    >>> kw = dict(max_iter=200, tolerance=1e-3, step_size=0.5, alpha_clip=0.5, mi_bins=32)
    >>> fit = run(iter_matlab_views((x, x), **kw))
    >>> (np.round(np.linalg.inv(fit.matrix), 1) + 0.0).tolist()  # + 0.0: no -0.0
    [[1.0, 0.0], [0.3, 1.0]]
    """
    a = np.asarray(views[0], dtype=np.float32)
    b = a if views[1] is views[0] else np.asarray(views[1], dtype=np.float32)
    if a.shape != b.shape:
        raise ValueError(f"the two views must have one shape, got {a.shape} and {b.shape}")
    sweep_pixels, final_pixels = int(sweep_pixels), int(final_pixels)
    if sweep_pixels < 1 or final_pixels < 1:
        raise ValueError(f"pixel counts must be >= 1, got {sweep_pixels=} and {final_pixels=}")
    n, n_pix = a.shape
    same = b is a
    order = _pixel_subsets(n_pix, sweep_pixels, np.random.default_rng(random_state))
    if order is not None:  # the subsets are then contiguous runs of the reordered views
        a = a[:, order]
        b = a if same else b[:, order]
    k = -(-n_pix // sweep_pixels)
    runs = [slice(s * n_pix // k, (s + 1) * n_pix // k) for s in range(k)]
    fit = MatlabFit(matrix=np.eye(n))
    window = np.full((n, n), float(alpha_clip))
    # Brent's precision: at the noise floor the sweeps' estimates jitter by ~1e-3, finer
    # steps only cost MI evaluations (2.5 x tolerance chosen on the scenario table)
    xatol = max(2.5 * float(tolerance), 1e-5)
    patience = int(np.ceil(4 / step_size))  # sweeps the damped update averages over
    # with pixel subsets the floor counts as reached after half that, and as many sweeps
    # on the final pixels settle the state there
    settle = int(np.ceil(2 / step_size))
    best, since_best = np.inf, 0
    final_left = None  # sweeps left on the final pixels, once at the noise floor
    for it in range(max_iter):
        run = runs[it % k] if final_left is None else slice(0, final_pixels)
        a_run = a[:, run]
        alpha = _sweep_alphas(
            a_run, a_run if same else b[:, run], window, mi_bins=mi_bins, xatol=xatol
        )
        # the next residual is about (1 - step_size) times this one: search a few times
        # that around zero (a coefficient on the window's edge widens it again)
        window = np.clip(3 * np.abs(alpha), 0.02, alpha_clip)
        t_it = np.eye(n) - step_size * alpha
        a = np.einsum("ij,jn->in", t_it.astype(np.float32), a)  # linear: no clip, no BLAS
        b = a if same else np.einsum("ij,jn->in", t_it.astype(np.float32), b)
        fit.matrix = t_it @ fit.matrix
        fit.transforms.append(t_it)
        max_alpha = float(np.max(np.abs(alpha)))
        fit.max_alpha.append(max_alpha)
        fit.iterations = it + 1
        yield Progress(it + 1, max_iter, f"max |alpha| {max_alpha:.3g}", fit)
        # stop at the tolerance, or at the noise floor: no new smallest max |alpha| for
        # `patience` sweeps (the estimates only jitter around zero any more); with pixel
        # subsets, the floor starts the final sweeps on one fixed set of pixels
        best, since_best = (max_alpha, 0) if max_alpha < best else (best, since_best + 1)
        if final_left is not None:
            final_left -= 1
        elif since_best >= settle and k > 1:
            final_left = settle
        floor = since_best >= patience if final_left is None else final_left <= 0
        if (tolerance > 0 and max_alpha < tolerance) or floor:
            fit.converged = True
            break
    if order is not None:  # the final sweeps' pixels, in their order: the standard
        # errors compare blocks of the image
        keep = np.argsort(order[:final_pixels])
        a = a[:, keep]
        b = a if same else b[:, keep]
    pairs = [(j, i) for i in range(n) for j in range(n) if i != j]  # (source, sink)
    se = alpha_standard_error(
        a, b, np.zeros((n, n)), pairs, mi_bins=mi_bins, clip=lambda v: v, lower=-alpha_clip
    )
    fit.alpha_se = se.T
    return fit
