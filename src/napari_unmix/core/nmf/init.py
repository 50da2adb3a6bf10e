"""NNMF initialisations without seeds: NNDSVD(a) and random, and the :data:`INITS` registry."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Method, Registry
from ..validate import check_int

__all__ = ["INITS", "nndsvd_init", "random_init"]


def nndsvd_init(
    X: np.ndarray, k: int, /, *, variant: str = "nndsvda", random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative double SVD initialisation (Boutsidis & Gallopoulos, 2008).

    ``variant="nndsvda"`` fills the zeros with ``sqrt(mean(X) / k)`` (the scale of one
    factor's entries, so ``W H`` keeps the data's scale whatever its unit; scikit-learn fills
    with ``mean(X)``, which on raw counts makes the start far too large); ``"nndsvd"``
    leaves them at 0.

    Examples
    --------
    >>> W, H = nndsvd_init(np.random.default_rng(0).random((50, 10)), 3)
    >>> W.shape, H.shape, bool((W >= 0).all() and (H >= 0).all())
    ((50, 3), (3, 10), True)
    """
    from sklearn.utils.extmath import randomized_svd

    X = np.asarray(X, dtype=np.float64)
    if variant not in ("nndsvd", "nndsvda"):
        raise ValueError(f"variant must be 'nndsvd' or 'nndsvda', got {variant!r}")
    k = _check_rank(X, k)
    U, S, Vt = randomized_svd(X, k, random_state=random_state)
    W = np.zeros((X.shape[0], k))
    H = np.zeros((k, X.shape[1]))
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0] = np.sqrt(S[0]) * np.abs(Vt[0])
    for j in range(1, k):
        x, y = U[:, j], Vt[j]
        xp, xn = np.maximum(x, 0), np.maximum(-x, 0)
        yp, yn = np.maximum(y, 0), np.maximum(-y, 0)
        mp = np.linalg.norm(xp) * np.linalg.norm(yp)
        mn = np.linalg.norm(xn) * np.linalg.norm(yn)
        u, v, m = (xp, yp, mp) if mp >= mn else (xn, yn, mn)
        lam = np.sqrt(S[j] * m)
        if m > 0:
            W[:, j] = lam * u / np.linalg.norm(u)
            H[j] = lam * v / np.linalg.norm(v)
    W[W < 1e-12] = 0
    H[H < 1e-12] = 0
    if variant == "nndsvda":
        avg = np.sqrt(max(float(X.mean()), 0.0) / k)
        W[W == 0] = avg
        H[H == 0] = avg
    return W, H


def random_init(
    X: np.ndarray, k: int, /, *, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random factors scaled to the data (``sqrt(mean(X) / k)``), reproducible.

    Examples
    --------
    >>> W, H = random_init(np.ones((4, 3)), 2, random_state=1)
    >>> W.shape, H.shape
    ((4, 2), (2, 3))
    """
    X = np.asarray(X, dtype=np.float64)
    k = _check_rank(X, k)
    rng = np.random.default_rng(random_state)
    scale = np.sqrt(max(float(X.mean()), 1e-12) / k)
    return rng.random((X.shape[0], k)) * scale, rng.random((k, X.shape[1])) * scale


def _check_rank(X: np.ndarray, k: Any) -> int:
    """``k`` as an int between 1 and min(pixels, channels) of the 2-D ``X``, or a clear error."""
    k = check_int("k", k)
    if X.ndim != 2:
        raise ValueError(f"X must be pixels x channels, got {X.shape=}")
    if not 1 <= k <= min(X.shape):
        raise ValueError(
            f"k must be between 1 and min(pixels, channels) = {min(X.shape)} for X of shape "
            f"{X.shape}, got {k=}"
        )
    return int(k)


def _nndsvda(X: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    return nndsvd_init(X, k, variant="nndsvda", random_state=random_state)


def _nndsvd(X: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    return nndsvd_init(X, k, variant="nndsvd", random_state=random_state)


def _random(X: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    return random_init(X, k, random_state=random_state)


#: unseeded start -> function(X, k, random_state) -> (W0, H0)
INITS = Registry(
    "init",
    [
        Method("nndsvda", _nndsvda, "NNDSVDa", "NNDSVD with zeros filled at the data's scale."),
        Method("nndsvd", _nndsvd, "NNDSVD", "non-negative double SVD, zeros kept."),
        Method("random", _random, "random", "uniform random factors at the data's scale."),
    ],
)
