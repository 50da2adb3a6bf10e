"""The iterative PICASSO scheme of the published MATLAB code, for 3 or N channels.

One iteration estimates, for every ordered pair (sink ``i``, source ``j``), the
coefficient ``alpha_ij = argmin_a MI(v_i - a v_j, v_j)`` on block-binned, quantised
images, and applies ``C = I - step_size * alpha`` to the images. This module holds the
loop on already normalised channels; :mod:`napari_unmix.core.picasso` does the
normalisation, the bookkeeping of units and the application to whole stacks.

Differences to the published code / the ``spectral-unmixing`` port, each selectable:

* ``update="sequential"`` reproduces the reference, where the rows of ``C`` are applied
  one after another (row 2 already sees the updated row 1); ``"simultaneous"`` applies
  ``C`` as one matrix. Either way the matrix reported is the one actually applied.
* ``tolerance > 0`` stops when the largest ``|alpha|`` of a sweep falls below it
  (the reference always runs ``max_iter`` iterations; ``tolerance=0`` does the same).
* MI values are quantised with integer arithmetic wide enough for any ``qn`` (the
  reference casts to int8, which wraps around above ``qn=127``).

The state is kept as block-binned images, updated linearly (binning is linear); the full
resolution images are only touched when the scheme clips them at zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..mi import clogc_table
from ..progress import Progress, Steps
from .neldermead import nelder_mead_1d, nelder_mead_steps

__all__ = [
    "MatlabFit",
    "bin_planes",
    "estimate_all_alphas",
    "iter_matlab_picasso",
    "nelder_mead_1d",
    "nelder_mead_steps",
    "quantised_mi_bits",
    "replay",
]

_LN2 = float(np.log(2.0))


def bin_planes(planes: np.ndarray, factor: int) -> np.ndarray:
    """Block sums of ``factor``×``factor`` pixels per Y–X plane, flattened per channel.

    Parameters
    ----------
    planes : ndarray, shape (N, P, Y, X)
        N channels of P planes; rows/columns beyond a multiple of ``factor`` are dropped
        (as MATLAB's ``pixelBin``).
    factor : int
        Block size.

    Returns
    -------
    ndarray, shape (N, P * (Y // factor) * (X // factor)), float64

    Examples
    --------
    >>> bin_planes(np.ones((1, 1, 4, 5)), 2).tolist()
    [[4.0, 4.0, 4.0, 4.0]]
    """
    n, p, y, x = planes.shape
    hy, wx = (y // factor) * factor, (x // factor) * factor
    crop = np.asarray(planes[:, :, :hy, :wx], dtype=np.float64)
    blocks = crop.reshape(n, p, hy // factor, factor, wx // factor, factor).sum(axis=(3, 5))
    return blocks.reshape(n, -1)


def _quantise(values: np.ndarray, qn: int) -> np.ndarray:
    """Symmetric quantisation to integers in [0, 2qn]: trunc(qn * v / max|v|) + qn."""
    scale = np.abs(values).max()
    if not scale > 1e-12:
        return np.full(values.shape, qn, dtype=np.intp)
    out = (qn * values / scale).astype(np.intp)
    out += qn
    return out


def _sum_c_log_c(codes: np.ndarray) -> float:
    """Σ c·log(c) over the counts c of the distinct values of ``codes`` (sort-based)."""
    n = codes.size
    s = np.sort(codes)
    flags = np.ones(n + 1, dtype=bool)
    np.not_equal(s[1:], s[:-1], out=flags[1:n])
    idx = np.flatnonzero(flags)
    return float(clogc_table(n)[idx[1:] - idx[:-1]].sum())


def quantised_mi_bits(a: np.ndarray, b: np.ndarray, qn: int) -> float:
    """MATLAB-style MI (bits) of two vectors quantised to ``2*qn + 1`` symmetric levels.

    Examples
    --------
    >>> x = np.array([-1.0, -0.5, 0.5, 1.0])
    >>> quantised_mi_bits(x, x, 100)  # 4 distinct values: 2 bits
    2.0
    """
    return _PairMI(a, b, qn)(0.0)


class _PairMI:
    """MI(sink - a·source, source) in bits, with the source quantised once.

    For ``qn <= 127`` the joint codes fit 16 bits, which halves the cost of the sort
    that counts them (the hot loop of the MATLAB scheme).
    """

    def __init__(self, sink: np.ndarray, source: np.ndarray, qn: int) -> None:
        self.sink, self.source, self.qn = sink, source, qn
        self.width = 2 * qn + 1
        self.small = self.width**2 <= 65535
        self.dtype = np.uint16 if self.small else np.intp
        self.isrc = _quantise(source, qn).astype(self.dtype)
        self.n = self.isrc.size
        self.table = clogc_table(self.n)
        self.h_src = float(self.table[np.bincount(self.isrc, minlength=self.width)].sum())
        self.log_n = float(np.log(self.n))
        self.flags = np.ones(self.n + 1, dtype=bool)
        self.w = self.dtype(self.width)

    def __call__(self, a: float) -> float:
        v = self.sink - a * self.source
        scale = np.abs(v).max()
        if scale > 1e-12:
            q = (self.qn * v / scale).astype(np.int16 if self.small else np.intp)
            q += self.qn
            isnk = q.view(np.uint16) if self.small else q
        else:
            isnk = np.full(self.n, self.qn, dtype=self.dtype)
        h_snk = self.table[np.bincount(isnk, minlength=self.width)].sum()
        codes = isnk * self.w
        codes += self.isrc
        codes.sort()
        np.not_equal(codes[1:], codes[:-1], out=self.flags[1 : self.n])
        idx = self.flags.nonzero()[0]
        joint = self.table[idx[1:] - idx[:-1]].sum()
        return float((self.log_n - (h_snk + self.h_src - joint) / self.n) / _LN2)


class _BatchPairMI:
    """Quantised MI of many (sink, source) pairs at once, one candidate alpha per row.

    ``rows`` index the pairs (a pair may appear in several rows, one per candidate).
    All rows are quantised together; the joint codes of one row fit 16 bits for
    ``qn <= 127``, so one row-wise sort of a ``uint16`` array counts every joint
    histogram. Work buffers are allocated once and reused (fresh large temporaries
    cost page faults on every call).
    """

    def __init__(self, sinks: np.ndarray, sources: np.ndarray, qn: int, max_rows: int) -> None:
        self.sinks, self.sources, self.qn = sinks, sources, qn
        self.width = w = 2 * qn + 1
        k, n = sources.shape
        self.n = n
        isrc = np.stack([_quantise(row, qn) for row in sources])
        self.small = w * w <= 65536
        self.isrc = isrc.astype(np.uint16 if self.small else np.int64)
        self.table = clogc_table(n)
        counts = np.bincount((isrc + w * np.arange(k)[:, None]).ravel(), minlength=k * w)
        self.h_src = self.table[counts].reshape(k, w).sum(axis=1)
        self.log_n = float(np.log(n))
        r = int(max_rows)
        self._v = np.empty((r, n))
        self._t = np.empty((r, n))
        self._q = np.empty((r, n), dtype=np.int64)
        self._c = np.empty((r, n), dtype=self.isrc.dtype)
        self._flags = np.ones((r, n + 1), dtype=bool)
        self._slot = np.arange(r, dtype=np.int64)[:, None] * w

    def __call__(self, rows: np.ndarray, alphas: np.ndarray) -> np.ndarray:
        m, w, n = rows.size, self.width, self.n
        v, t, q, c = self._v[:m], self._t[:m], self._q[:m], self._c[:m]
        np.take(self.sources, rows, axis=0, out=t)
        t *= alphas[:, None]
        np.take(self.sinks, rows, axis=0, out=v)
        v -= t  # sink - alpha * source
        np.abs(v, out=t)
        scale = t.max(axis=1)
        ok = scale > 1e-12
        if not ok.all():  # a vanishing row quantises to the middle level
            v[~ok] = 0.0
            scale[~ok] = 1.0
        v *= self.qn
        v /= scale[:, None]
        np.copyto(q, v, casting="unsafe")  # truncation toward zero, as astype
        q += self.qn
        q += self._slot[:m]  # row-offset sink levels: one bincount for all rows
        h_snk = self.table[np.bincount(q.reshape(-1), minlength=m * w)]
        h_snk = h_snk.reshape(m, w).sum(axis=1)
        q -= self._slot[:m]
        q *= w
        if self.small:  # per-row joint codes in 16 bits, sorted row by row
            np.copyto(c, q, casting="unsafe")
            c += self.isrc[rows]
            c.sort(axis=1)
            flags = self._flags[:m]
            np.not_equal(c[:, 1:], c[:, :-1], out=flags[:, 1:n])
            idx = flags.reshape(-1).nonzero()[0]
            # runs spanning a row end have length 1 and add 1*log(1) = 0
            run_row = idx[:-1] // (n + 1)
        else:
            q += self.isrc[rows]
            q += self._slot[:m] * w
            codes = q.reshape(-1)
            codes.sort()
            flags = np.ones(codes.size + 1, dtype=bool)
            np.not_equal(codes[1:], codes[:-1], out=flags[1:-1])
            idx = flags.nonzero()[0]
            run_row = codes[idx[:-1]] // (w * w)
        joint = np.bincount(run_row, weights=self.table[idx[1:] - idx[:-1]], minlength=m)
        return (self.log_n - (h_snk + self.h_src[rows] - joint) / n) / _LN2


def estimate_all_alphas(
    binned: np.ndarray, *, qn: int, alpha_clip: float, negativity_threshold: float
) -> np.ndarray:
    """``alpha[i, j]`` for every ordered pair (sink i, source j), searches run in lockstep.

    Each pair follows the steps of :func:`estimate_pair_alpha`; only the MI evaluations
    of all pairs still searching are computed together (MI values agree with the
    one-pair computation to rounding).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> b = rng.exponential(size=(3, 1024))
    >>> kw = dict(qn=100, alpha_clip=0.5, negativity_threshold=1.0)
    >>> a = estimate_all_alphas(b, **kw)
    >>> bool(abs(a[0, 1] - estimate_pair_alpha(b[0], b[1], **kw)) < 1e-12)
    True
    """
    n = binned.shape[0]
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    sinks = binned[[i for i, _ in pairs]]
    sources = binned[[j for _, j in pairs]]
    batch = _BatchPairMI(sinks, sources, qn, max_rows=len(pairs))
    norms = np.sqrt(np.einsum("kn,kn->k", sinks, sinks) * np.einsum("kn,kn->k", sources, sources))
    dots = np.einsum("kn,kn->k", sinks, sources)
    searches, pending = {}, {}
    for k in range(len(pairs)):
        alpha0 = float(dots[k] / norms[k]) if norms[k] > 1e-12 else 0.0
        searches[k] = nelder_mead_steps(0.1 * alpha0)
        pending[k] = next(searches[k])
    found: dict[int, float] = {}
    seen: dict[int, dict[float, float]] = {k: {} for k in searches}

    def advance(k: int, value: float) -> None:
        # a point this search has already evaluated (a shrink onto the inside
        # contraction point) is answered from memory: the same value, one MI less
        try:
            x = searches[k].send(value)
            while x in seen[k]:
                x = searches[k].send(seen[k][x])
            pending[k] = x
        except StopIteration as stop:
            found[k] = stop.value
            del pending[k]

    while pending:
        rows = np.fromiter(pending, dtype=np.intp)
        values = batch(rows, np.array([pending[k] for k in rows]))
        for k, value in zip(rows.tolist(), values.tolist(), strict=True):
            seen[k][pending[k]] = value
            advance(k, value)
    alpha = np.zeros((n, n))
    for k, (i, j) in enumerate(pairs):
        a = found[k] if np.isfinite(found[k]) else 0.0
        a = min(max(a, -alpha_clip), alpha_clip)
        if _negativity(binned[i] - a * binned[j]) > negativity_threshold:
            a /= 10.0
        alpha[i, j] = a
    return alpha


def _negativity(values: np.ndarray) -> float:
    """Negative mass fraction Σ|v<0| / Σ|v| (0 for an all-zero vector)."""
    total = float(np.sum(np.abs(values)))
    return float(-np.sum(values[values < 0]) / total) if total > 1e-12 else 0.0


def estimate_pair_alpha(
    sink: np.ndarray,
    source: np.ndarray,
    *,
    qn: int,
    alpha_clip: float,
    negativity_threshold: float,
) -> float:
    """One PICASSO coefficient: Nelder–Mead on the quantised MI from 0.1 × cosine.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s, t = rng.exponential(size=(2, 4000))
    >>> kw = dict(qn=100, alpha_clip=0.5, negativity_threshold=1.0)
    >>> estimate_pair_alpha(t + 0.3 * s, s, **kw) > estimate_pair_alpha(t, s, **kw)
    True
    """
    norm = float(np.sqrt(np.dot(sink, sink) * np.dot(source, source)))
    alpha0 = float(np.dot(sink, source)) / norm if norm > 1e-12 else 0.0
    alpha = nelder_mead_1d(_PairMI(sink, source, qn), 0.1 * alpha0)
    alpha = alpha if np.isfinite(alpha) else 0.0
    alpha = min(max(alpha, -alpha_clip), alpha_clip)
    if _negativity(sink - alpha * source) > negativity_threshold:
        alpha /= 10.0
    return alpha


def _sequential_matrix(c: np.ndarray) -> np.ndarray:
    """The matrix the reference really applies when it updates rows one after another."""
    n = c.shape[0]
    total = np.eye(n)
    for row in range(n):  # N tiny N×N products
        step = np.eye(n)
        step[row] = c[row]
        total = step @ total
    return total


@dataclass
class MatlabFit:
    """Result of the PICASSO loop on normalised channels.

    ``matrix`` is the cumulative linear transform applied (``transforms`` multiplied in
    order); ``clip_after`` lists the iterations after which the state was clipped at
    zero, so :func:`replay` reproduces the loop's state exactly.
    """

    matrix: np.ndarray
    transforms: list[np.ndarray] = field(default_factory=list)
    clip_after: list[int] = field(default_factory=list)
    max_alpha: list[float] = field(default_factory=list)
    iterations: int = 0
    converged: bool = False
    #: noise-aware loop only: standard error of every pairwise alpha of the final state
    #: (``[sink, source]``, normalised units), see :mod:`.matlab_views`
    alpha_se: np.ndarray | None = None

    @property
    def history(self) -> list[float]:
        """The largest |alpha| of every sweep."""
        return self.max_alpha


def iter_matlab_picasso(
    prepared: np.ndarray,
    /,
    *,
    update: str,
    max_iter: int,
    tolerance: float,
    step_size: float,
    qn: int,
    pixel_bin_size: int,
    alpha_clip: float,
    negativity_threshold: float,
    clip_every_n_iterations: int,
) -> Steps:
    """Run the PICASSO iteration; yield a :class:`~napari_unmix.core.progress.Progress`
    after each sweep (``partial``: the :class:`MatlabFit` so far).

    Parameters
    ----------
    prepared : ndarray, shape (N, P, Y, X)
        Normalised channels (P planes each), non-negative.
    update : {"simultaneous", "sequential"}
        How the incremental matrix is applied (see the module notes).
    clip_every_n_iterations : int
        Clip the state at zero after iterations 1, n+1, 2n+1, ... (0: never).
    max_iter, tolerance, step_size, qn, pixel_bin_size, alpha_clip, negativity_threshold
        :class:`~napari_unmix.core.picasso.PicassoOptions` fields (defaults there).

    Returns (as the generator's return value)
    -------
    MatlabFit
    """
    n = prepared.shape[0]
    full = np.asarray(prepared, dtype=np.float32)
    binned = bin_planes(full, pixel_bin_size)
    since_clip = np.eye(n)
    fit = MatlabFit(matrix=np.eye(n))
    for it in range(max_iter):
        alpha = estimate_all_alphas(
            binned, qn=qn, alpha_clip=alpha_clip, negativity_threshold=negativity_threshold
        )
        c = np.eye(n) - step_size * alpha
        t_it = _sequential_matrix(c) if update == "sequential" else c
        binned = np.einsum("ij,jn->in", t_it, binned)  # no BLAS threads for 3xN·Nx1000
        since_clip = t_it @ since_clip
        fit.matrix = t_it @ fit.matrix
        fit.transforms.append(t_it)
        max_alpha = float(np.max(np.abs(alpha)))
        fit.max_alpha.append(max_alpha)
        fit.iterations = it + 1
        if clip_every_n_iterations > 0 and it % clip_every_n_iterations == 0:
            full = _apply(full, since_clip, clip=True)
            since_clip = np.eye(n)
            binned = bin_planes(full, pixel_bin_size)
            fit.clip_after.append(it)
        yield Progress(it + 1, max_iter, f"max |alpha| {max_alpha:.3g}", fit)
        if tolerance > 0 and max_alpha < tolerance:
            fit.converged = True
            break
    return fit


def _apply(channels: np.ndarray, matrix: np.ndarray, *, clip: bool) -> np.ndarray:
    """``matrix`` applied along the first axis of ``channels`` (float32), optionally clipped."""
    m = matrix.astype(np.float32)
    # one einsum pass over the channels (BLAS tensordot stalls on a loaded machine)
    out = np.einsum("ij,j...->i...", m, np.asarray(channels, dtype=np.float32))
    if clip:
        np.maximum(out, 0, out=out)
    return out


def replay(channels: np.ndarray, fit: MatlabFit) -> np.ndarray:
    """Apply the loop's transforms and clips to ``channels`` (first axis = channels).

    Pixel-wise, so it works block by block. The result is the loop's final state for the
    data the loop ran on, clipped at zero as the reference returns it.

    Examples
    --------
    >>> fit = MatlabFit(matrix=np.eye(2), transforms=[np.array([[1.0, -0.5], [0, 1]])])
    >>> replay(np.ones((2, 1)), fit).ravel().tolist()
    [0.5, 1.0]
    """
    state = np.asarray(channels, dtype=np.float32)
    pending = np.eye(fit.matrix.shape[0])
    clips = set(fit.clip_after)
    for it, t_it in enumerate(fit.transforms):
        pending = t_it @ pending
        if it in clips:
            state = _apply(state, pending, clip=True)
            pending = np.eye(pending.shape[0])
    return _apply(state, pending, clip=True)
