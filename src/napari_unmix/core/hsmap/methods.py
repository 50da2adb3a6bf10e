"""Clustering methods, spatial clean-ups and pixel features of the cluster maps.

:data:`CLUSTER_METHODS` and :data:`CLEANUPS` are :class:`~napari_unmix.core.registry.Registry`
lists; each entry's ``options`` class holds the method's own options (k-means starts, Ward's
subsample and connectivity, the mixture's covariance), validated when a map is computed.
A method is ``function(features, k, options, *, random_state, image_shape)`` returning raw
labels 0..k-1 and a dict of fit details; a clean-up is ``function(labels, k, options)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from ..options import Options, option
from ..registry import Method, Registry

__all__ = [
    "CLEANUPS",
    "CLUSTER_METHODS",
    "ComponentsOptions",
    "GmmOptions",
    "KMeansOptions",
    "MajorityOptions",
    "WardOptions",
    "cluster_colors",
    "cluster_spectra",
    "pixel_features",
]


# ----------------------------------------------------------------------------- features
def pixel_rows(cube) -> tuple[np.ndarray, np.ndarray]:
    """(Y*X, C) float32 rows of a cube and the mask of rows with finite values."""
    rows = np.asarray(cube, dtype=np.float32).reshape(cube.shape[0], -1).T
    finite = np.isfinite(rows).all(axis=1)
    return rows, finite


def subsample(rows: np.ndarray, max_samples: int, random_state: int) -> np.ndarray:
    """At most ``max_samples`` rows, drawn without replacement with ``random_state``."""
    n = rows.shape[0]
    if n <= max_samples:
        return rows
    idx = np.sort(np.random.default_rng(random_state).choice(n, max_samples, replace=False))
    return rows[idx]


def pixel_features(
    rows: np.ndarray,
    /,
    *,
    n_components: int | None = None,
    max_samples: int = 20000,
    random_state: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Pixel embeddings: the spectra themselves, or their PCA scores.

    PCA is fitted on a seeded subsample of at most ``max_samples`` rows and applied to all.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(100, 10)).astype(np.float32)
    >>> F, info = pixel_features(X, n_components=3)
    >>> F.shape, len(info["explained_variance_ratio"])
    ((100, 3), 3)
    """
    if n_components is None:
        return rows, {"features": "spectra"}
    from sklearn.decomposition import PCA

    n, c = rows.shape
    if not 1 <= n_components <= min(n, c):
        raise ValueError(
            f"n_components must be between 1 and min(pixels, channels) = {min(n, c)}, "
            f"got {n_components}"
        )
    fit_rows = subsample(rows, max_samples, random_state)
    pca = PCA(n_components=n_components, random_state=random_state).fit(fit_rows)
    scores = pca.transform(rows).astype(np.float32)
    return scores, {
        "features": "pca",
        "n_components": n_components,
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
    }


# ----------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class KMeansOptions(Options):
    """Options of k-means."""

    n_init: int = option(1, label="k-means starts", doc="k-means++ starts", bounds=(1, None))


@dataclass(frozen=True)
class WardOptions(Options):
    """Options of Ward clustering."""

    max_samples: int = option(5000, label="Ward sample", doc="pixels Ward is fitted on",
                              bounds=(2, None))  # fmt: skip
    connectivity: str | None = option(
        None, label="connectivity", doc="'grid': every pixel, with a spatial neighbour graph",
        choices=("grid",),
    )  # fmt: skip


@dataclass(frozen=True)
class GmmOptions(Options):
    """Options of the Gaussian mixture."""

    covariance_type: str = option("diag", label="covariance", doc="covariance of each component",
                                  choices=("diag", "full", "tied", "spherical"))  # fmt: skip
    max_samples: int = option(20000, label="mixture sample", doc="pixels the mixture is fitted on",
                              bounds=(1, None))  # fmt: skip


def nearest_centroid(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of every row (squared Euclidean distance)."""
    d2 = (X * X).sum(1)[:, None] - 2 * X @ centroids.T + (centroids * centroids).sum(1)[None]
    return np.argmin(d2, axis=1)


def _kmeans(X, k, opts: KMeansOptions, *, random_state, image_shape=None):
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=opts.n_init, random_state=random_state).fit(X)
    return km.labels_, {"inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}


def _ward(X, k, opts: WardOptions, *, random_state, image_shape=None):
    from sklearn.cluster import AgglomerativeClustering

    n = X.shape[0]
    if opts.connectivity == "grid":  # spatially constrained Ward on every pixel (sparse graph)
        from sklearn.feature_extraction.image import grid_to_graph

        if image_shape is None or int(np.prod(image_shape)) != n:
            raise ValueError("connectivity='grid' needs every pixel (no masked pixels)")
        graph = grid_to_graph(*image_shape)
        model = AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=graph)
        return model.fit_predict(X), {"mode": "grid connectivity", "n_fit": n}
    if n <= opts.max_samples:
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
        return labels, {"mode": "all pixels", "n_fit": n}
    idx = np.sort(np.random.default_rng(random_state).choice(n, opts.max_samples, replace=False))
    sub = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X[idx])
    centroids = np.stack([X[idx][sub == j].mean(axis=0) for j in range(k)])
    return nearest_centroid(X, centroids), {
        "mode": "subsample + nearest centroid",
        "n_fit": int(opts.max_samples),
    }


def fit_gmm(X, k, opts: GmmOptions, *, random_state):
    """A Gaussian mixture of ``k`` components fitted on (a sample of) ``X``, and fit details."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(
        n_components=k, covariance_type=opts.covariance_type, random_state=random_state,
        reg_covar=1e-5,
    ).fit(subsample(X, opts.max_samples, random_state))  # fmt: skip
    return gm, {"covariance_type": opts.covariance_type, "converged": bool(gm.converged_)}


def _gmm(X, k, opts: GmmOptions, *, random_state, image_shape=None):
    gm, info = fit_gmm(X, k, opts, random_state=random_state)
    return gm.predict(X), {**info, "n_fit": int(min(opts.max_samples, X.shape[0]))}


#: Clustering methods: ``function(features, k, options, *, random_state, image_shape)``.
CLUSTER_METHODS = Registry(
    "clustering method",
    [
        Method("kmeans", _kmeans, "k-means", "Fast, round clusters (k-means++ start).",
               KMeansOptions),
        Method(
            "ward",
            _ward,
            "Hierarchical (Ward)",
            "Ward linkage on a seeded subsample (max_samples) then nearest-centroid "
            "assignment of every pixel; connectivity='grid' clusters every pixel with a "
            "spatial neighbour graph instead.",
            WardOptions,
        ),
        Method("gmm", _gmm, "Gaussian mixture",
               "Elliptical clusters of different widths; fitted on max_samples pixels.",
               GmmOptions),
    ],
)  # fmt: skip


# ----------------------------------------------------------------------------- clean-up
@dataclass(frozen=True)
class MajorityOptions(Options):
    """Options of the majority filter."""

    size: int = option(3, label="window", doc="side of the voting window (px)", bounds=(1, None))


@dataclass(frozen=True)
class ComponentsOptions(Options):
    """Options of the small-component pruning."""

    min_size: int = option(10, label="smallest piece", bounds=(1, None),
                           doc="pieces smaller than this (px) are relabelled")  # fmt: skip


def _majority(labels, k, opts: MajorityOptions):
    votes = np.stack(
        [
            ndimage.uniform_filter((labels == j).astype(np.float32), opts.size, mode="nearest")
            for j in range(1, k + 1)
        ]
    )
    out = (np.argmax(votes, axis=0) + 1).astype(labels.dtype)
    return np.where(labels > 0, out, 0)


def _prune_components(labels, k, opts: ComponentsOptions):
    from skimage.measure import label as cc_label

    small = np.zeros(labels.shape, bool)
    for j in range(1, k + 1):  # a handful of classes, each vectorised
        comp = cc_label(labels == j, connectivity=1)
        sizes = np.bincount(comp.ravel())
        sizes[0] = 0
        small |= (sizes[comp] < opts.min_size) & (comp > 0)
    keep = (labels > 0) & ~small
    if not keep.any():
        return labels
    _, (iy, ix) = ndimage.distance_transform_edt(~keep, return_indices=True)
    return np.where(labels > 0, labels[iy, ix], 0)


#: Spatial clean-ups of a label image: ``function(labels, k, options)``.
CLEANUPS = Registry(
    "clean-up",
    [
        Method("majority", _majority, "Majority filter",
               "Most frequent label in a size×size window.", MajorityOptions),
        Method("components", _prune_components, "Prune small components",
               "Connected pieces smaller than min_size pixels take the nearest larger "
               "region's label.", ComponentsOptions),
    ],
)  # fmt: skip


def cluster_colors(k: int) -> np.ndarray:
    """RGBA colours (k, 4) in [0, 1] for labels 1..k, shared by napari and the figures.

    Examples
    --------
    >>> cluster_colors(2).shape
    (2, 4)
    """
    base = np.array(
        [
            [0.12, 0.47, 0.71], [1.00, 0.50, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16],
            [0.58, 0.40, 0.74], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.50, 0.50, 0.50],
            [0.74, 0.74, 0.13], [0.09, 0.75, 0.81],
        ]
    )  # fmt: skip
    rgb = base[np.arange(k) % len(base)]
    return np.concatenate([rgb, np.ones((k, 1))], axis=1)


def cluster_spectra(rows: np.ndarray, labels: np.ndarray, k: int, /):
    """Mean, sd and pixel count of the spectra of clusters 1..k.

    Examples
    --------
    >>> m, s, n = cluster_spectra(np.array([[1.0], [3.0], [5.0]]), np.array([1, 1, 2]), 2)
    >>> m.ravel().tolist(), s.ravel().tolist(), n.tolist()
    ([2.0, 5.0], [1.0, 0.0], [2, 1])
    """
    lab = np.asarray(labels).ravel()
    rows = np.asarray(rows)
    c = rows.shape[1]
    mean = np.zeros((k, c))
    sd = np.zeros((k, c))
    counts = np.zeros(k, int)
    for j in range(k):  # one vectorised pass per cluster (k is small), no pixel loop
        sub = rows[lab == j + 1]
        counts[j] = sub.shape[0]
        if counts[j]:
            mean[j] = sub.mean(axis=0, dtype=np.float64)
            sd[j] = sub.std(axis=0, dtype=np.float64)
    return mean.astype(np.float32), sd.astype(np.float32), counts
