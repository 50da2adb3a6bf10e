"""Passive-set bookkeeping of the block principal pivoting solver (:mod:`~napari_unmix.core.nnls`).

Every column (pixel) of a pivoting round has a passive set ``S`` (the components it may
use). On ``S`` the pivoting needs the unconstrained solution ``w_S = G_SS⁻¹ b_S``, off ``S``
the gradient ``(G w − b)``; both are linear in ``b``, so one k × k matrix per passive set
(:class:`_Pivots`, computed in one batched eigendecomposition and cached) gives them in one
product. :func:`_pivot_products` applies it to columns sorted by passive set (one small
product per distinct set on a contiguous slice; no Python loop over pixels).
"""

from __future__ import annotations

import numpy as np


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
        self.cache: dict[bytes, np.ndarray] = {}

    def many(self, passive: np.ndarray) -> list[np.ndarray]:
        """The entries of the passive sets in the columns of ``passive`` (k × m bool);
        the missing ones from one batched eigendecomposition.

        Each block ``G[S, S]`` is padded to k × k with ``max diag G[S, S]`` on the other
        diagonal entries (so the largest eigenvalue, which sets the cut of dependent
        directions, is that of the block), inverted, and cut back to ``S × S``.
        """
        keys = [col.tobytes() for col in passive.T]
        todo = sorted({key: i for i, key in enumerate(keys) if key not in self.cache}.values())
        if todo:
            G, k = self.G, len(self.G)
            P = passive[:, todo].T  # m × k
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
            for i, A in zip(todo, As, strict=True):
                self.cache[keys[i]] = A
        return [self.cache[key] for key in keys]


def _codes(passive: np.ndarray) -> np.ndarray:
    """One small integer per column identifying its passive set."""
    k = passive.shape[0]
    if k > 16:  # too many bits for a code: number the distinct bit patterns instead
        packed = np.packbits(passive, axis=0, bitorder="little")
        keys = np.ascontiguousarray(packed.T).view(np.dtype((np.void, packed.shape[0])))
        return np.unique(keys.ravel(), return_inverse=True)[1].ravel()
    dtype = np.uint8 if k <= 8 else np.uint16
    codes = passive[0].astype(dtype)
    for j in range(1, k):
        codes |= passive[j].astype(dtype) << dtype(j)
    return codes


def _pivot_products(
    pivots: _Pivots, B: np.ndarray, passive: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """``A_S b`` for every column, ``S`` its passive set (``codes``: :func:`_codes`), for
    columns **sorted** by passive set: one k × k by k × m product per run of equal sets."""
    n = B.shape[1]
    starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    bounds = [0, *starts.tolist(), n]
    V = np.empty_like(B)
    for A, a, b in zip(pivots.many(passive[:, bounds[:-1]]), bounds[:-1], bounds[1:], strict=True):
        np.matmul(A, B[:, a:b], out=V[:, a:b])
    return V


def _count(mask: np.ndarray) -> np.ndarray:
    """Number of True entries per column of a k × n boolean array (row-wise adds)."""
    out = mask[0].astype(np.int16)
    for row in mask[1:]:
        out += row
    return out
