"""Passive-set bookkeeping of the block principal pivoting solver (:mod:`~napari_unmix.core.nnls`).

Every column (pixel) of a pivoting round has a passive set (the components it may use);
:func:`_solve` gives every column its unconstrained solution on that set with one small
k × k (pseudo-)inverse per distinct set (:class:`_Inverses`, computed in one batched
eigendecomposition and cached), without a Python loop over pixels.
"""

from __future__ import annotations

import numpy as np

#: above this many distinct passive sets in one solve, the per-set products are replaced
#: by one gathered product (k passes over the columns instead of a Python loop over sets)
MANY_SETS = 16


class _Inverses:
    """Embedded (pseudo-)inverses of the passive blocks of ``G``, cached per passive set.

    The entry for a passive set ``S`` is the k × k matrix holding ``inv(G[S, S])`` on
    ``S × S`` and zeros elsewhere, so ``M @ B`` is the unconstrained solution on ``S``
    (zeros on the active components) for any number of right-hand sides in one product,
    much faster than a LAPACK solve with tens of thousands of right-hand sides. Dependent
    spectra (a singular block) get the least-norm solution.
    """

    def __init__(self, G: np.ndarray) -> None:
        self.G = G
        self.cache: dict[bytes, np.ndarray] = {}

    def get(self, passive: np.ndarray) -> np.ndarray:
        key = passive.tobytes()
        M = self.cache.get(key)
        if M is None:
            idx = np.flatnonzero(passive)
            M = np.zeros_like(self.G)
            if idx.size:
                vals, vecs = np.linalg.eigh(self.G[np.ix_(idx, idx)])
                keep = vals > vals.max(initial=0.0) * 1e-12
                M[np.ix_(idx, idx)] = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
            self.cache[key] = M
        return M

    def many(self, passive: np.ndarray) -> np.ndarray:
        """The entries of the passive sets in the columns of ``passive`` (k × m bool),
        stacked (m × k × k); the missing ones from one batched eigendecomposition.

        Each block ``G[S, S]`` is padded to k × k with ``max diag G[S, S]`` on the other
        diagonal entries (so the largest eigenvalue, which sets the cut of dependent
        directions, is that of the block), inverted, and cut back to ``S × S``.
        """
        keys = [col.tobytes() for col in passive.T]
        todo = [i for i, key in enumerate(keys) if key not in self.cache]
        if todo:
            P = passive[:, todo].T  # m × k
            both = P[:, :, None] & P[:, None, :]
            blocks = np.where(both, self.G, 0.0)
            pad = np.max(np.where(P, np.diagonal(self.G), 0.0), axis=1)
            pad[pad <= 0] = 1.0
            diag = np.arange(len(self.G))
            blocks[:, diag, diag] += np.where(P, 0.0, pad[:, None])
            vals, vecs = np.linalg.eigh(blocks)
            cut = vals.max(axis=1, keepdims=True) * 1e-12
            inv = np.where(vals > cut, 1.0 / np.where(vals > cut, vals, 1.0), 0.0)
            Ms = np.matmul(vecs * inv[:, None, :], vecs.transpose(0, 2, 1))
            Ms *= both
            for i, M in zip(todo, Ms, strict=True):
                self.cache[keys[i]] = M
        return np.stack([self.cache[key] for key in keys])


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


def _solve(inverses: _Inverses, B: np.ndarray, passive: np.ndarray) -> np.ndarray:
    """Unconstrained solutions on every column's passive set (zeros elsewhere).

    Columns are sorted by passive set (a stable radix sort of small integer codes; no
    Python loop over pixels), then each distinct set costs one k × k by k × m product on
    a contiguous slice.
    """
    n = B.shape[1]
    codes = _codes(passive)
    if (codes == codes[0]).all():
        return inverses.get(passive[:, 0]) @ B
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    bounds = [0, *(np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1), n]
    Ms = inverses.many(passive[:, order[bounds[:-1]]])
    if len(bounds) - 1 > MANY_SETS:  # many small groups: one gathered product, no loop
        which = np.empty(n, np.intp)
        which[order] = np.repeat(np.arange(len(Ms)), np.diff(bounds))
        W = np.zeros_like(B)
        for j in range(B.shape[0]):  # W[:, p] += M_p[:, j] B[j, p]
            W += Ms[:, :, j][which].T * B[j]
        return W
    Bs = B[:, order]
    Ws = np.empty_like(Bs)
    for M, a, b in zip(Ms, bounds[:-1], bounds[1:], strict=True):
        np.matmul(M, Bs[:, a:b], out=Ws[:, a:b])
    W = np.empty_like(Ws)
    W[:, order] = Ws
    return W


def _count(mask: np.ndarray) -> np.ndarray:
    """Number of True entries per column of a k × n boolean array (row-wise adds)."""
    out = mask[0].astype(np.int16)
    for row in mask[1:]:
        out += row
    return out
