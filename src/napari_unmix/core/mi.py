"""Histogram mutual information, fast enough to sit inside a 1-D optimiser.

One evaluation is one pass of integer binning plus one ``np.bincount`` over the joint bin
index — no ``np.histogram2d`` and no Python loop over voxels. When one variable stays fixed
across many evaluations (``x`` while searching ``alpha`` in ``MI(x, y - alpha*x)``), bin it
once with :class:`FixedBinnedMI`.

Bins span each variable's own [min, max] range, equally spaced. MI is in nats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "FixedBinnedMI",
    "bin_indices",
    "clogc_table",
    "line_mi_rows",
    "mutual_information",
    "mutual_information_from_indices",
]


def _cells(bins: int, offset: float | None) -> tuple[int, float]:
    """How a range maps to bin indices: ``index = trunc(t * cells + shift)`` for the value's
    position ``t`` in [0, 1] of the range. Without ``offset``: ``bins`` bins covering the
    range; with it: bins one ``range / (bins - 1)`` wide, their edges moved by ``offset``
    of a bin (the first and last bin then lie partly outside the range)."""
    if offset is None:
        return bins, 0.0
    if not 0.0 <= offset < 1.0:
        raise ValueError(f"offset must be in [0, 1), got {offset=}")
    return bins - 1, float(offset)


def bin_indices(values: np.ndarray, bins: int, offset: float | None = None) -> np.ndarray:
    """Equal-width bin index (0..bins-1) of every value over its own [min, max] range.

    ``offset`` (a fraction of a bin) shifts the bin edges, for histograms averaged over
    shifted grids (see :class:`FixedBinnedMI`).

    A constant input maps to bin 0. NaNs are not allowed (filter them first).

    Examples
    --------
    >>> bin_indices(np.array([0.0, 0.49, 0.5, 1.0]), 2).tolist()
    [0, 0, 1, 1]
    """
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins=}")
    v = np.asarray(values, dtype=np.float64).ravel()
    lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        return np.zeros(v.shape, dtype=np.intp)
    cells, shift = _cells(bins, offset)
    t = v - lo
    t *= cells / (hi - lo)
    if shift:
        t += shift
    idx = t.astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)
    return idx


_CLOGC = np.zeros(1)


def clogc_table(n: int) -> np.ndarray:
    """Lookup table ``c * log(c)`` for counts ``c = 0..n`` (grown on demand, shared).

    Entry 0 is 0 (the limit of c·log c). Used by every histogram MI in the package.

    Examples
    --------
    >>> clogc_table(3)[:4].round(4).tolist()
    [0.0, 0.0, 1.3863, 3.2958]
    """
    global _CLOGC
    if _CLOGC.size <= n:
        c = np.arange(max(n + 1, 2 * _CLOGC.size), dtype=np.float64)
        c[0] = 1.0
        _CLOGC = c * np.log(c)
    return _CLOGC


def mutual_information_from_indices(
    ix: np.ndarray, iy: np.ndarray, bins_x: int, bins_y: int
) -> float:
    """Plug-in MI (nats) of two integer-binned variables from their joint bin counts.

    ``MI = log n + (Σ c_xy log c_xy - Σ c_x log c_x - Σ c_y log c_y) / n`` over the
    counts ``c``, with ``c log c`` looked up in a table (no logarithms per evaluation).

    Examples
    --------
    >>> i = np.array([0, 1, 0, 1])
    >>> round(mutual_information_from_indices(i, i, 2, 2), 6)  # log(2): one bit
    0.693147
    """
    n = ix.size
    joint = np.bincount(ix * bins_y + iy, minlength=bins_x * bins_y).reshape(bins_x, bins_y)
    table = clogc_table(n)
    h = table[joint].sum() - table[joint.sum(axis=1)].sum() - table[joint.sum(axis=0)].sum()
    return float(max(np.log(n) + h / n, 0.0)) if n else 0.0


def mutual_information(x: np.ndarray, y: np.ndarray, *, bins: int = 64) -> float:
    """Histogram mutual information (nats) between two equally long arrays.

    Parameters
    ----------
    x, y : ndarray
        Samples (any shape, same size); NaNs must be removed first.
    bins : int
        Equal-width bins per variable over its own range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random(20000)
    >>> mutual_information(x, rng.random(20000), bins=16) < 0.1 < mutual_information(x, 2 * x)
    True
    """
    x = np.asarray(x).ravel()
    y = np.asarray(y).ravel()
    if x.size != y.size:
        raise ValueError(f"x and y must have the same size, got {x.size} and {y.size}")
    if x.size == 0:
        raise ValueError("mutual information of empty arrays")
    return mutual_information_from_indices(bin_indices(x, bins), bin_indices(y, bins), bins, bins)


class FixedBinnedMI:
    """MI between a fixed variable ``x`` and many candidates ``y``, binning ``x`` once.

    ``mi(y)`` evaluates one candidate; ``mi.along(y, d, alphas)`` evaluates the whole
    family ``y - a*d`` for many ``a`` in a few vectorised passes (one ``bincount`` for
    all of them), which is what a grid search over ``a`` needs.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> s, t = rng.random(50000), rng.random(50000)
    >>> mi = FixedBinnedMI(s, bins=32)
    >>> y = t + 0.4 * s
    >>> mi(y - 0.4 * s) < mi(y - 0.2 * s) < mi(y)
    True
    >>> bool(np.allclose(mi.along(y, s, [0.4, 0.2]), [mi(y - 0.4 * s), mi(y - 0.2 * s)]))
    True
    """

    #: at most this many values binned at once by :meth:`along` (bounds its memory)
    chunk_values = 262_144

    def __init__(self, x: np.ndarray, *, bins: int = 64, offset: float | None = None) -> None:
        self.bins = int(bins)
        self.offset = offset
        self._cells, self._shift = _cells(self.bins, offset)
        self.ix = bin_indices(x, self.bins, offset)
        self.n = self.ix.size
        self._row = self.ix * self.bins  # joint-index offset of every x value
        self._table = clogc_table(self.n)
        self._hx = float(self._table[np.bincount(self.ix, minlength=self.bins)].sum())
        self._log_n = float(np.log(self.n)) if self.n else 0.0

    def _from_joint(self, joint: np.ndarray) -> np.ndarray:
        """MI of every (rows, bins*bins) joint count array (last axis: x-major)."""
        table, b = self._table, self.bins
        joint = joint.reshape(-1, b, b)
        h = table[joint].sum(axis=(1, 2)) - table[joint.sum(axis=1)].sum(axis=1)
        return np.maximum(self._log_n + (h - self._hx) / self.n, 0.0)

    def __call__(self, y: np.ndarray) -> float:
        iy = bin_indices(y, self.bins, self.offset)
        if iy.size != self.n:
            raise ValueError(f"y has {iy.size} values, x has {self.n}")
        iy += self._row
        return float(self._from_joint(np.bincount(iy, minlength=self.bins**2))[0])

    def line(self, base: np.ndarray, d: np.ndarray, a: float) -> float:
        """``self(base - a*d)`` in the dtype of ``base``, in reused work buffers.

        For searches that evaluate one line many times (no temporaries per call).
        ``base`` and ``d`` are 1-D arrays of one dtype (float32 halves the memory
        traffic; bin edges then follow float32 rounding).

        Examples
        --------
        >>> x = np.arange(1000.0)
        >>> mi = FixedBinnedMI(x, bins=8)
        >>> mi.line(x, x, 0.5) == mi(x - 0.5 * x)
        True
        """
        n, b = self.n, self.bins
        buf = getattr(self, "_buf", None)
        if buf is None or buf.dtype != base.dtype:
            self._buf = buf = np.empty(n, dtype=base.dtype)
            self._ibuf = np.empty(n, dtype=np.intp)
            # rows b + 1 wide: the range's maximum may land in bin b (one past the last);
            # it is folded into bin b - 1 on the counts instead of clipping every index
            self._row_wide = self.ix * (b + 1)
        ibuf = self._ibuf
        np.multiply(d, base.dtype.type(-a), out=buf)
        buf += base
        lo, hi = buf.min(), buf.max()
        if hi > lo:
            buf -= lo
            buf *= base.dtype.type(self._cells / (float(hi) - float(lo)))
            if self._shift:
                buf += base.dtype.type(self._shift)
            np.copyto(ibuf, buf, casting="unsafe")
        else:
            ibuf.fill(0)
        ibuf += self._row_wide
        wide = np.bincount(ibuf, minlength=b * (b + 1)).reshape(b, b + 1)
        joint = wide[:, :b].copy()
        joint[:, b - 1] += wide[:, b:].sum(axis=1)  # anything past the last bin is in it
        return float(self._from_joint(joint)[0])

    def along(self, y: np.ndarray, d: np.ndarray, alphas: Sequence[float]) -> np.ndarray:
        """``[self(y - a*d) for a in alphas]``, vectorised (same bins, same values).

        Examples
        --------
        >>> x = np.arange(1000.0)
        >>> FixedBinnedMI(x, bins=8).along(x, x, [0.0, 1.0]).round(3).tolist()
        [2.079, 0.0]
        """
        y = np.asarray(y, dtype=np.float64).ravel()
        d = np.asarray(d, dtype=np.float64).ravel()
        if y.size != self.n or d.size != self.n:
            raise ValueError(f"y and d must have {self.n} values, got {y.size} and {d.size}")
        a_all = np.asarray(alphas, dtype=np.float64).ravel()
        b, out = self.bins, np.empty(a_all.size)
        step = max(1, self.chunk_values // max(self.n, 1))
        for c in range(0, a_all.size, step):  # a loop over chunks of alphas, not values
            a = a_all[c : c + step]
            v = np.multiply.outer(-a, d)
            v += y
            lo, hi = v.min(axis=1), v.max(axis=1)
            span = hi - lo
            scale = np.divide(self._cells, span, out=np.zeros_like(span), where=span > 0)
            v -= lo[:, None]
            v *= scale[:, None]
            if self._shift:
                v += self._shift
            idx = v.astype(np.intp)
            np.minimum(idx, b - 1, out=idx)
            idx += self._row
            idx += (np.arange(a.size, dtype=np.intp) * b * b)[:, None]
            joint = np.bincount(idx.ravel(), minlength=a.size * b * b)
            out[c : c + a.size] = self._from_joint(joint)
        return out


def line_mi_rows(
    x: np.ndarray,
    y: np.ndarray,
    alphas: Sequence[float],
    *,
    bins: int,
    chunk_values: int = 262_144,
    offset: float | None = None,
) -> np.ndarray:
    """``MI(x[r], y[r] - a*x[r])`` for every row ``r`` and every ``a``, vectorised.

    Many short samples at once (e.g. bootstrap resamples): each row is binned over its
    own ranges exactly as :class:`FixedBinnedMI` bins one sample, and one ``bincount``
    per chunk of rows counts every joint histogram.

    Parameters
    ----------
    x, y : ndarray, shape (R, m)
        R samples of m paired values (no NaN), float32 or float64.
    alphas : sequence of float, length G
    bins : int
        Bins per variable.
    chunk_values : int
        At most about this many values are binned at once (bounds the memory).
    offset : float, optional
        Bin edges shifted by this fraction of a bin (as :func:`bin_indices`).

    Returns
    -------
    ndarray, shape (R, G)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s, t = rng.random((2, 3, 500))
    >>> rows = line_mi_rows(s, t + 0.3 * s, [0.0, 0.3], bins=8)
    >>> ref = [FixedBinnedMI(s[1], bins=8).along(t[1] + 0.3 * s[1], s[1], [0.0, 0.3])]
    >>> rows.shape, bool(np.allclose(rows[1], ref[0]))
    ((3, 2), True)
    """
    x = np.atleast_2d(np.asarray(x))
    y = np.atleast_2d(np.asarray(y))
    if x.shape != y.shape:
        raise ValueError(f"x and y must have one shape, got {x.shape} and {y.shape}")
    b = int(bins)
    if b < 2:
        raise ValueError(f"bins must be >= 2, got {bins=}")
    a = np.asarray(alphas, dtype=np.float64).ravel()
    n_rows, m = x.shape
    g = a.size
    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    span = (hi - lo).astype(np.float64)
    cells, shift = _cells(b, offset)
    scale = np.divide(cells, span, out=np.zeros_like(span), where=span > 0)
    ix = np.minimum(((x - lo) * scale + shift).astype(np.intp), b - 1)
    table = clogc_table(m)
    hx = table[np.stack([np.bincount(r, minlength=b) for r in ix])].sum(axis=1)
    out = np.empty((n_rows, g))
    # float32 halves the memory traffic (bin edges then follow float32 rounding)
    x32, y32 = x.astype(np.float32, copy=False), y.astype(np.float32, copy=False)
    a32 = a.astype(np.float32)
    step = max(1, chunk_values // max(g * m, 1))
    for c in range(0, n_rows, step):  # a loop over chunks of rows, not values
        xr, yr = x32[c : c + step], y32[c : c + step]
        k = xr.shape[0]
        v = np.multiply(a32[None, :, None], xr[:, None, :])  # (k, G, m), float32 traffic
        np.subtract(yr[:, None, :], v, out=v)
        vlo, vhi = v.min(axis=2, keepdims=True), v.max(axis=2, keepdims=True)
        vs = np.divide(np.float32(cells), vhi - vlo, out=np.zeros_like(vlo), where=vhi > vlo)
        v -= vlo
        v *= vs
        if shift:
            v += np.float32(shift)
        idx = v.astype(np.intp)
        np.minimum(idx, b - 1, out=idx)
        idx += (ix[c : c + k] * b)[:, None, :]
        idx += (np.arange(k * g, dtype=np.intp) * b * b).reshape(k, g, 1)
        joint = np.bincount(idx.ravel(), minlength=k * g * b * b).reshape(k, g, b, b)
        h = table[joint].sum(axis=(2, 3)) - table[joint.sum(axis=2)].sum(axis=2)
        out[c : c + k] = np.log(m) + (h - hx[c : c + k, None]) / m
    return np.maximum(out, 0.0)
