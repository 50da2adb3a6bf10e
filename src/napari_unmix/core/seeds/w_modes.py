"""W seeds (maps) from H seeds (spectra): the :data:`W_MODES` registry and :func:`w_from_h`."""

from __future__ import annotations

import numpy as np

from ..nnls import nnls
from ..registry import Method, Registry
from ..validate import check_int

__all__ = ["W_MODES", "w_from_h"]


def _w_nnls(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    return nnls(X, H)[0]


def _w_selective(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    P = np.maximum(X @ H.T, 0.0)
    out = np.empty_like(P)
    for j in range(H.shape[0]):
        others = np.delete(P, j, axis=1)
        c = others.max(axis=1) if others.shape[1] else 0.0
        out[:, j] = P[:, j] ** 2 / (P[:, j] + c + 1e-12)
    return out


def _w_h_weighted(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    lo, hi = H.min(axis=1, keepdims=True), H.max(axis=1, keepdims=True)
    g = np.exp((H - lo) / np.maximum(hi - lo, 1e-12)) - 1.0
    return X @ g.T / np.maximum(g.sum(axis=1), 1e-12)


def _w_average(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    return np.repeat(X.mean(axis=1, keepdims=True), H.shape[0], axis=1)


def _w_empty(X: np.ndarray, H: np.ndarray, rng) -> np.ndarray:
    return 1.0 + 1e-3 * rng.random((X.shape[0], H.shape[0]))


#: W-from-H mode -> function (X pixels×C, H k×C, rng) -> W pixels×k, label, doc
W_MODES = Registry(
    "W mode",
    [
        Method("nnls", _w_nnls, "joint NNLS",
               "NNLS of every pixel against all seeded spectra; column k (default)."),
        Method("selective_score", _w_selective, "selective score",
               "t²/(t + c + eps), t = max(x·h_k, 0), c = max over the other seeds."),
        Method("h_weighted", _w_h_weighted, "H-weighted channel mean",
               "channel mean weighted by g = exp((h − min h)/(max h − min h)) − 1."),
        Method("average", _w_average, "mean image", "the mean image."),
        Method("empty", _w_empty, "homogeneous", "a near-constant map."),
    ],
)  # fmt: skip


def w_from_h(
    cube: np.ndarray,
    H: np.ndarray,
    /,
    *,
    mode: str = "nnls",
    downsample: int = 1,
    random_state: int = 0,
) -> np.ndarray:
    """Maps (k × Y × X) from spectra with one of :data:`W_MODES`; NaN pixels give 0.

    ``downsample`` > 1 block-averages the image first (faster) and repeats the result back.

    Examples
    --------
    >>> cube = np.stack([np.ones((4, 4)), np.zeros((4, 4))])
    >>> w_from_h(cube, np.array([[1.0, 0.0]]), downsample=2)[0, 0].tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    update = W_MODES.resolve(mode).function
    f = check_int("downsample", downsample, minimum=1)
    C, ny, nx = cube.shape
    data = np.asarray(cube, dtype=np.float64)
    if f > 1:
        py, px = (-ny) % f, (-nx) % f
        data = np.pad(data, ((0, 0), (0, py), (0, px)), mode="edge")
        data = data.reshape(C, data.shape[1] // f, f, data.shape[2] // f, f)
        data = np.nanmean(data, axis=(2, 4)) if np.isnan(data).any() else data.mean(axis=(2, 4))
    X = data.reshape(C, -1).T
    good = np.isfinite(X).all(axis=1)
    W = np.zeros((X.shape[0], H.shape[0]))
    rng = np.random.default_rng(random_state)
    W[good] = update(X[good], np.asarray(H, dtype=np.float64), rng)
    W = W.T.reshape(H.shape[0], *data.shape[1:])
    if f > 1:
        W = np.repeat(np.repeat(W, f, axis=1), f, axis=2)[:, :ny, :nx]
    return W
