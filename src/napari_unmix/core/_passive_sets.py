"""Passive-set bookkeeping of the block principal pivoting solver (:mod:`~napari_unmix.core.nnls`).

Every column (pixel) of a pivoting round has a passive set ``S`` (the components it may
use), held as an integer code (bit ``j`` set: component ``j`` passive; :func:`_code_dtype`).
On ``S`` the pivoting needs the unconstrained solution ``w_S = G_SS⁻¹ b_S``, off ``S`` the
gradient ``(G w − b)``; both are linear in ``b``, so one k × k matrix per passive set
(:class:`_Pivots`, computed in one batched eigendecomposition and cached) gives them in one
product. :func:`_pivot_products` applies it to columns sorted by code (one small product
per distinct set on a contiguous slice; no Python loop over pixels).
"""

from __future__ import annotations

import numpy as np


def _code_dtype(k: int) -> np.dtype:
    """The smallest unsigned integer dtype with ``k`` bits (Python integers past 64)."""
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if k <= 8 * np.dtype(dtype).itemsize:
            return np.dtype(dtype)
    return np.dtype(object)


def _pack(mask: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Codes of the columns of a k × m boolean array (bit ``j`` from row ``j``)."""
    k = mask.shape[0]
    if dtype.kind == "O":
        codes = mask[0].astype(dtype)
        for j in range(1, k):
            codes |= mask[j].astype(dtype) << j
        return codes
    weights = np.left_shift(dtype.type(1), np.arange(k, dtype=dtype))
    return np.einsum("j,jm->m", weights, mask.view(np.uint8))  # exact: integers


def _bit(code: np.ndarray, j: int) -> np.ndarray:
    """Bit ``j`` of every code (0 or 1; in the codes' dtype unless Python integers)."""
    bit = (code >> code.dtype.type(j)) & code.dtype.type(1)
    return bit.astype(np.uint8) if code.dtype.kind == "O" else bit


def _highest_bits(mask: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """For every column of a k × m boolean array with a True entry, the code of its last
    True row alone (the backup rule's single exchange)."""
    last = mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0)
    if dtype.kind == "O":
        return np.array([1 << int(j) for j in last], dtype=object)
    return np.left_shift(dtype.type(1), last.astype(dtype))


class _Pivots:
    """Pivoting matrices of the passive sets of ``G``, cached per set.

    The entry for a passive set ``S`` is the k × k matrix ``A`` with ``A b`` equal to
    ``scale · w`` on ``S`` (``w`` the unconstrained solution on ``S``, zero elsewhere) and to
    the gradient ``G w − b`` off ``S``. ``scale`` is the power of two nearest to
    ``max diag G``: it puts the solution on the gradient's scale so that one tolerance
    serves both, and scaling by a power of two is exact (``A b / scale`` is ``w`` to the
    last bit). Dependent spectra (a singular block) get the least-norm solution.
    """

    def __init__(self, G: np.ndarray) -> None:
        self.G = G
        d = float(np.diag(G).max(initial=0.0)) if G.size else 0.0
        self.scale = float(2.0 ** np.round(np.log2(d))) if d > 0 else 1.0
        self.cache: dict[int, np.ndarray] = {}

    def many(self, codes: list[int]) -> list[np.ndarray]:
        """The entries of the passive sets with these codes; the missing ones from one
        batched eigendecomposition.

        Each block ``G[S, S]`` is padded to k × k with ``max diag G[S, S]`` on the other
        diagonal entries (so the largest eigenvalue, which sets the cut of dependent
        directions, is that of the block), inverted, and cut back to ``S × S``.
        """
        todo = sorted({c for c in codes if c not in self.cache})
        if todo:
            G, k = self.G, len(self.G)
            P = np.array([[(c >> j) & 1 for j in range(k)] for c in todo], dtype=bool)
            both = P[:, :, None] & P[:, None, :]
            blocks = np.where(both, G, 0.0)
            pad = np.max(np.where(P, np.diagonal(G), 0.0), axis=1)
            pad[pad <= 0] = 1.0
            diag = np.arange(k)
            blocks[:, diag, diag] += np.where(P, 0.0, pad[:, None])
            vals, vecs = np.linalg.eigh(blocks)
            cut = vals.max(axis=1, keepdims=True) * 1e-12
            inv = np.where(vals > cut, 1.0 / np.where(vals > cut, vals, 1.0), 0.0)
            Ms = np.matmul(vecs * inv[:, None, :], vecs.transpose(0, 2, 1))
            Ms *= both
            grad = np.matmul(G, Ms)
            grad[:, diag, diag] -= 1.0
            As = np.where(P[:, :, None], self.scale * Ms, grad)
            self.cache.update(zip(todo, As, strict=True))
        return [self.cache[c] for c in codes]


def _pivot_products(pivots: _Pivots, B: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``A_S b`` for every column, ``S`` its passive set, for columns **sorted** by their
    ``codes``: one k × k by k × m product per run of equal sets."""
    bounds = [0, *(np.flatnonzero(codes[1:] != codes[:-1]) + 1).tolist(), B.shape[1]]
    sets = pivots.many(codes[bounds[:-1]].tolist())
    V = np.empty_like(B)
    for A, a, b in zip(sets, bounds[:-1], bounds[1:], strict=True):
        np.matmul(A, B[:, a:b], out=V[:, a:b])
    return V


def _count(mask: np.ndarray) -> np.ndarray:
    """Number of True entries per column of a k × n boolean array (uint8 below 255 rows)."""
    dtype = np.uint8 if mask.shape[0] < 255 else np.int32
    return mask.view(np.uint8).sum(axis=0, dtype=dtype)
