"""Hyperspectral maps: band intensity, band ratio and cluster maps of a (C, Y, X) cube.

* :func:`band_intensity` / :func:`band_ratio` are pixel-wise and stay lazy on dask cubes.
* :func:`iter_cluster_map` clusters the pixel spectra (or their PCA scores) with a method
  from :data:`CLUSTER_METHODS` (k-means, Ward, Gaussian mixture), optionally cleans the
  map spatially, and returns a :class:`ClusterResult` with mean ± sd spectra per cluster.
  It is a generator yielding ``(stage, fraction)`` so widgets can show progress;
  :func:`cluster_pixels` runs it to the end.
* :func:`iter_cluster_map_chunked` does the same for a dask cube larger than memory: the
  features and the clustering are fitted on a bounded, seeded sample of pixels, then every
  chunk is labelled (nearest centroid, or the mixture's prediction) with the cluster
  spectra summed in the same pass; only the label image is held in memory.
* :func:`choose_k` scores a range of k (silhouette and inertia) for the user to decide.

Labels are 1..k (0 = pixels left out, e.g. non-finite spectra), ordered by first
appearance in raster order, so a given seed always gives the same label image.

Examples
--------
>>> from napari_unmix.core.synthetic import make_two_region_cube
>>> cube, truth = make_two_region_cube()
>>> res = cluster_pixels(cube, n_clusters=2, random_state=0)
>>> res.labels.shape, sorted(np.unique(res.labels).tolist())
((30, 30), [1, 2])
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from dask import is_dask_collection as _is_dask
from scipy import ndimage

from .validate import check_array, check_int, check_not_constant

__all__ = [
    "CLEANUPS",
    "CLUSTER_METHODS",
    "ClusterResult",
    "band_intensity",
    "band_ratio",
    "choose_k",
    "cluster_colors",
    "cluster_pixels",
    "cluster_spectra",
    "iter_cluster_map",
    "iter_cluster_map_chunked",
    "pixel_features",
]


def _check_cube(cube, axis=None):
    if getattr(cube, "ndim", 0) != 3:
        raise ValueError(
            f"expected a hyperspectral cube (C, Y, X), got shape {getattr(cube, 'shape', None)}; "
            "for per-pixel spectra as rows use cube_from_rows(rows, image_shape)"
        )
    if axis is not None:
        axis = np.asarray(axis, dtype=np.float64).reshape(-1)
        if axis.size != cube.shape[0]:
            raise ValueError(
                f"spectral axis has {axis.size} values but the cube {cube.shape[0]} channels "
                f"({cube.shape=}); give one axis value per channel"
            )
        return axis
    return None


# ----------------------------------------------------------------------------- band maps
def band_channels(axis: np.ndarray, target: float, window: float, /) -> np.ndarray:
    """Indices of the channels within ``target ± window`` (at least the nearest one).

    Examples
    --------
    >>> band_channels(np.array([1600.0, 1650, 1660, 1700]), 1655, 6).tolist()
    [1, 2]
    """
    axis = np.asarray(axis, dtype=np.float64)
    lo, hi = float(np.min(axis)), float(np.max(axis))
    if not lo <= target <= hi:
        raise ValueError(
            f"target {target:g} is outside the spectral axis {lo:g}..{hi:g}; choose a band "
            "inside the measured range"
        )
    if window < 0:
        raise ValueError(f"window must be >= 0 (half width in axis units), got {window=}")
    idx = np.flatnonzero(np.abs(axis - target) <= window)
    return idx if idx.size else np.array([int(np.argmin(np.abs(axis - target)))])


def band_intensity(cube, axis: np.ndarray, target: float, /, *, window: float = 5.0):
    """Mean intensity over the channels in ``target ± window``: a (Y, X) float32 map.

    Dask cubes give a lazy dask map.

    Examples
    --------
    >>> cube = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
    >>> band_intensity(cube, np.array([1.0, 2.0, 3.0]), 2.5, window=0.5).tolist()
    [[6.0, 7.0], [8.0, 9.0]]
    """
    axis = _check_cube(cube, axis)
    idx = band_channels(axis, target, window)
    sub = cube[int(idx[0]) : int(idx[-1]) + 1]  # contiguous: a slice (cheap on dask)
    return sub.astype(np.float32).mean(axis=0)


def band_ratio(
    cube,
    axis: np.ndarray,
    numerator: float,
    denominator: float,
    /,
    *,
    window: float = 5.0,
    denominator_window: float | None = None,
    min_denominator: float = 1e-6,
):
    """Ratio of two band intensities; NaN where ``|denominator| <= min_denominator``.

    Returns ``(ratio, valid)``: the (Y, X) float32 ratio map and a boolean map of the
    pixels where it is defined. Both are lazy for dask cubes.

    Examples
    --------
    >>> cube = np.array([[[2.0, 1.0]], [[1.0, 0.0]]])  # 2 channels, 1×2 pixels
    >>> r, ok = band_ratio(cube, np.array([1.0, 2.0]), 1.0, 2.0, window=0)
    >>> r.tolist(), ok.tolist()
    ([[2.0, nan]], [[True, False]])
    """
    axis = _check_cube(cube, axis)
    if not min_denominator >= 0:  # (a negative one would divide by zero)
        raise ValueError(f"min_denominator must be >= 0, got {min_denominator!r}")
    num = band_intensity(cube, axis, numerator, window=window)
    dw = window if denominator_window is None else denominator_window
    den = band_intensity(cube, axis, denominator, window=dw)
    valid = abs(den) > min_denominator
    xp = _dask_array_module() if _is_dask(cube) else np
    safe = xp.where(valid, den, 1.0)
    ratio = xp.where(valid, num / safe, np.nan).astype(np.float32)
    return ratio, valid


def _dask_array_module():
    import dask.array as da

    return da


# ----------------------------------------------------------------------------- features
def _pixel_rows(cube) -> tuple[np.ndarray, np.ndarray]:
    """(Y*X, C) float32 rows of a cube and the mask of rows with finite values."""
    rows = np.asarray(cube, dtype=np.float32).reshape(cube.shape[0], -1).T
    finite = np.isfinite(rows).all(axis=1)
    return rows, finite


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
    fit_rows = _subsample(rows, max_samples, random_state)
    pca = PCA(n_components=n_components, random_state=random_state).fit(fit_rows)
    scores = pca.transform(rows).astype(np.float32)
    return scores, {
        "features": "pca",
        "n_components": n_components,
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
    }


def _subsample(rows: np.ndarray, max_samples: int, random_state: int) -> np.ndarray:
    n = rows.shape[0]
    if n <= max_samples:
        return rows
    idx = np.sort(np.random.default_rng(random_state).choice(n, max_samples, replace=False))
    return rows[idx]


# ----------------------------------------------------------------------------- methods
def _kmeans(X, k, *, random_state, n_init=1, **_):
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(X)
    return km.labels_, {"inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}


def _nearest_centroid(X, centroids):
    d2 = (X * X).sum(1)[:, None] - 2 * X @ centroids.T + (centroids * centroids).sum(1)[None]
    return np.argmin(d2, axis=1)


def _ward(X, k, *, random_state, max_samples=5000, connectivity=None, image_shape=None, **_):
    from sklearn.cluster import AgglomerativeClustering

    n = X.shape[0]
    if connectivity == "grid":  # spatially constrained Ward on every pixel (sparse graph)
        from sklearn.feature_extraction.image import grid_to_graph

        if image_shape is None or int(np.prod(image_shape)) != n:
            raise ValueError("connectivity='grid' needs every pixel (no masked pixels)")
        graph = grid_to_graph(*image_shape)
        model = AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=graph)
        return model.fit_predict(X), {"mode": "grid connectivity", "n_fit": n}
    if n <= max_samples:
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
        return labels, {"mode": "all pixels", "n_fit": n}
    idx = np.sort(np.random.default_rng(random_state).choice(n, max_samples, replace=False))
    sub = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X[idx])
    centroids = np.stack([X[idx][sub == j].mean(axis=0) for j in range(k)])
    return _nearest_centroid(X, centroids), {
        "mode": "subsample + nearest centroid",
        "n_fit": int(max_samples),
    }


def _gmm(X, k, *, random_state, covariance_type="diag", max_samples=20000, **_):
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(
        n_components=k, covariance_type=covariance_type, random_state=random_state, reg_covar=1e-5
    ).fit(_subsample(X, max_samples, random_state))
    return gm.predict(X), {
        "covariance_type": covariance_type,
        "converged": bool(gm.converged_),
        "n_fit": int(min(max_samples, X.shape[0])),
    }


class _Method(NamedTuple):
    fn: Callable[..., tuple[np.ndarray, dict[str, Any]]]
    label: str
    doc: str


#: Clustering methods: name -> function(features, k, random_state=..., **options).
CLUSTER_METHODS: dict[str, _Method] = {
    "kmeans": _Method(
        _kmeans, "k-means", "Fast, round clusters; options: n_init (default 1, k-means++ start)."
    ),
    "ward": _Method(
        _ward,
        "Hierarchical (Ward)",
        "Ward linkage on a seeded subsample (max_samples, default 5000) then nearest-centroid "
        "assignment of every pixel; connectivity='grid' clusters every pixel with a "
        "spatial neighbour graph instead.",
    ),
    "gmm": _Method(
        _gmm,
        "Gaussian mixture",
        "Elliptical clusters of different widths; fitted on max_samples pixels; "
        "options: covariance_type ('diag', 'full', ...).",
    ),
}


# ----------------------------------------------------------------------------- clean-up
def _majority(labels, k, *, size=3, **_):
    votes = np.stack(
        [
            ndimage.uniform_filter((labels == j).astype(np.float32), size, mode="nearest")
            for j in range(1, k + 1)
        ]
    )
    out = (np.argmax(votes, axis=0) + 1).astype(labels.dtype)
    return np.where(labels > 0, out, 0)


def _prune_components(labels, k, *, min_size=10, **_):
    from skimage.measure import label as cc_label

    small = np.zeros(labels.shape, bool)
    for j in range(1, k + 1):  # a handful of classes, each vectorised
        comp = cc_label(labels == j, connectivity=1)
        sizes = np.bincount(comp.ravel())
        sizes[0] = 0
        small |= (sizes[comp] < min_size) & (comp > 0)
    keep = (labels > 0) & ~small
    if not keep.any():
        return labels
    _, (iy, ix) = ndimage.distance_transform_edt(~keep, return_indices=True)
    return np.where(labels > 0, labels[iy, ix], 0)


#: Spatial clean-ups of a label image: name -> function(labels, k, **options).
CLEANUPS: dict[str, _Method] = {
    "majority": _Method(_majority, "Majority filter", "Most frequent label in a size×size window."),
    "components": _Method(
        _prune_components,
        "Prune small components",
        "Connected pieces smaller than min_size pixels take the nearest larger region's label.",
    ),
}


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


# ----------------------------------------------------------------------------- clustering
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


def _first_appearance_order(labels: np.ndarray, k: int) -> np.ndarray:
    """Map raw labels 0..k-1 to 1..k by first appearance in raster order."""
    _, first = np.unique(labels, return_index=True)
    order = np.unique(labels)[np.argsort(first)]
    remap = np.zeros(k, np.int32)
    remap[order] = np.arange(1, order.size + 1)
    return remap[labels]


@dataclass
class ClusterResult:
    """Result of a cluster map.

    Attributes
    ----------
    labels : (Y, X) int32, 1..k (0 = left out)
    mean_spectra, sd_spectra : (k, C) float32 — per-cluster mean ± sd of the spectra
    counts : (k,) int — pixels per cluster
    embedding : (d, Y, X) float32 — the features that were clustered (spectra or scores)
    report : dict — method, options, features, clean-up, fit details
    """

    labels: np.ndarray
    mean_spectra: np.ndarray
    sd_spectra: np.ndarray
    counts: np.ndarray
    embedding: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(self.mean_spectra.shape[0])


def _check_method(method: str, cleanup: str | None) -> None:
    if method not in CLUSTER_METHODS:
        raise ValueError(
            f"unknown clustering method {method!r}; choose one of {sorted(CLUSTER_METHODS)}"
        )
    if cleanup is not None and cleanup not in CLEANUPS:
        raise ValueError(
            f"cleanup={cleanup!r} is not a known clean-up; use None or one of {sorted(CLEANUPS)}"
        )


def _check_k(n_clusters: Any, n_valid: int, where: str, hint: str) -> None:
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int | np.integer):
        raise ValueError(f"n_clusters must be an integer, got {n_clusters!r}")
    if not 1 <= n_clusters <= n_valid:
        raise ValueError(f"n_clusters={n_clusters} but {where} has {n_valid} usable pixels; {hint}")


def _cluster_report(method, k, opts, fit_info, feat_info, cleanup, cleanup_options,
                    random_state, n_valid, n_total, counts) -> dict[str, Any]:  # fmt: skip
    return {
        "method": method,
        "method_label": CLUSTER_METHODS[method].label,
        "n_clusters": k,
        "method_options": opts,
        "fit": fit_info,
        "features": feat_info,
        "cleanup": cleanup,
        "cleanup_options": dict(cleanup_options or {}),
        "random_state": random_state,
        "n_pixels_clustered": n_valid,
        "n_pixels_left_out": int(n_total - n_valid),
        "counts": np.asarray(counts).astype(int).tolist(),
    }


def iter_cluster_map(
    cube,
    /,
    *,
    n_clusters: int,
    method: str = "kmeans",
    n_components: int | None = None,
    cleanup: str | None = None,
    cleanup_options: dict[str, Any] | None = None,
    random_state: int = 0,
    **method_options: Any,
) -> Generator[tuple[str, float], None, ClusterResult]:
    """Cluster the pixel spectra of a (C, Y, X) cube, yielding ``(stage, fraction)``.

    Returns (as the generator's return value) a :class:`ClusterResult`.

    Parameters
    ----------
    n_clusters : int
        Number of clusters (required: use :func:`choose_k` to pick one).
    method : {"kmeans", "ward", "gmm"}
        See :data:`CLUSTER_METHODS`.
    n_components : int or None
        Cluster PCA scores with this many components instead of the raw spectra.
    cleanup : {None, "majority", "components"}
        Spatial clean-up (see :data:`CLEANUPS`), options in ``cleanup_options``
        (``size`` for the majority filter, ``min_size`` for components).
    random_state : int
        Seed of every random step (initialisation, subsamples).
    **method_options
        Passed to the method (e.g. ``max_samples``, ``connectivity="grid"`` for Ward).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_two_region_cube
    >>> gen = iter_cluster_map(make_two_region_cube()[0], n_clusters=2)
    >>> [stage for stage, _ in gen]
    ['features', 'clustering', 'clean-up', 'spectra']
    """
    cube = np.asarray(cube)
    _check_cube(cube)
    _check_method(method, cleanup)
    rows, finite = _pixel_rows(cube)
    n_valid = int(finite.sum())
    _check_k(n_clusters, n_valid, "the image", "choose 1 <= n_clusters <= number of pixels")
    yield "features", 0.1
    feats, feat_info = pixel_features(
        rows[finite], n_components=n_components, random_state=random_state
    )
    yield "clustering", 0.3
    opts = dict(method_options)
    if method == "ward" and n_valid == rows.shape[0]:
        opts.setdefault("image_shape", cube.shape[1:])
    raw, fit_info = CLUSTER_METHODS[method].fn(feats, n_clusters, random_state=random_state, **opts)
    labels = np.zeros(rows.shape[0], np.int32)
    labels[finite] = _first_appearance_order(np.asarray(raw), n_clusters)
    labels = labels.reshape(cube.shape[1:])
    yield "clean-up", 0.8
    if cleanup is not None:
        labels = CLEANUPS[cleanup].fn(labels, n_clusters, **(cleanup_options or {}))
    yield "spectra", 0.9
    mean, sd, counts = cluster_spectra(rows, labels, n_clusters)
    if n_valid == rows.shape[0]:
        embedding = np.ascontiguousarray(feats.T, dtype=np.float32)
    else:
        embedding = np.zeros((feats.shape[1], rows.shape[0]), np.float32)
        embedding[:, finite] = feats.T
    report = _cluster_report(
        method, n_clusters, {k: v for k, v in opts.items() if k != "image_shape"}, fit_info,
        feat_info, cleanup, cleanup_options, random_state, n_valid, rows.shape[0], counts,
    )  # fmt: skip
    return ClusterResult(
        labels=labels,
        mean_spectra=mean,
        sd_spectra=sd,
        counts=counts,
        embedding=embedding.reshape((-1, *cube.shape[1:])),
        report=report,
    )


def _predictor(method: str, feats: np.ndarray, raw: np.ndarray, k: int, fit: Any):
    """``predict(features) -> raw labels 0..k-1`` for pixels outside the fitted sample."""
    if method == "gmm":
        return fit.predict
    centroids = np.stack(
        [feats[raw == j].mean(axis=0) if (raw == j).any() else feats[0] for j in range(k)]
    ).astype(np.float32)
    return lambda X: _nearest_centroid(X, centroids)


def _sample_pixels(cube, max_samples: int, random_state: int) -> np.ndarray:
    """(m, C) float32 spectra of a seeded sample of pixels, gathered exactly from ``cube``."""
    _, y, x = cube.shape
    n = y * x
    m = min(int(max_samples), n)
    idx = np.sort(np.random.default_rng(random_state).choice(n, m, replace=False))
    ys, xs = np.divmod(idx, x)
    picked = cube.transpose(1, 2, 0).vindex[ys, xs] if _is_dask(cube) else cube[:, ys, xs].T
    return np.asarray(picked, dtype=np.float32)


def _block_stats(block, transform, predict, k: int):
    """Labels 1..k (0 = non-finite) and per-label sums of one (C, y, x) block."""
    c = block.shape[0]
    rows = np.asarray(block, dtype=np.float32).reshape(c, -1).T
    fin = np.isfinite(rows).all(axis=1)
    lab = np.zeros(rows.shape[0], np.int32)
    if fin.any():
        lab[fin] = predict(transform(rows[fin])) + 1
    return lab.reshape(block.shape[1:]), _label_sums(rows, lab, k)


def _label_sums(rows: np.ndarray, lab: np.ndarray, k: int):
    sums, sq, counts = np.zeros((k, rows.shape[1])), np.zeros((k, rows.shape[1])), np.zeros(k)
    for j in range(k):  # k is small; vectorised over pixels
        sub = rows[lab == j + 1].astype(np.float64)
        sums[j], sq[j], counts[j] = sub.sum(axis=0), (sub * sub).sum(axis=0), sub.shape[0]
    return sums, sq, counts


def _blockwise(cube, fn, batch: int):
    """Run ``fn(block, (y0, x0))`` over the (C-whole) chunks of ``cube``, ``batch`` at a
    time; yields (fraction done, results of the batch)."""
    import dask

    cube = cube.rechunk({0: -1})
    starts_y = np.cumsum((0, *cube.chunks[1][:-1]))
    starts_x = np.cumsum((0, *cube.chunks[2][:-1]))
    blocks = cube.to_delayed()[0]
    todo = [
        (blocks[i, j], (int(y0), int(x0)))
        for i, y0 in enumerate(starts_y)
        for j, x0 in enumerate(starts_x)
    ]
    for b in range(0, len(todo), batch):
        part = todo[b : b + batch]
        out = dask.compute(*[dask.delayed(fn)(blk, pos) for blk, pos in part])
        yield (b + len(part)) / len(todo), [(pos, r) for (_, pos), r in zip(part, out, strict=True)]


def iter_cluster_map_chunked(
    cube,
    /,
    *,
    n_clusters: int,
    method: str = "kmeans",
    n_components: int | None = None,
    cleanup: str | None = None,
    cleanup_options: dict[str, Any] | None = None,
    max_samples: int = 20000,
    random_state: int = 0,
    **method_options: Any,
) -> Generator[tuple[str, float], None, ClusterResult]:
    """Cluster a (C, Y, X) dask cube larger than memory, chunk by chunk.

    The PCA (``n_components``) and the clustering are fitted on ``max_samples`` pixels
    drawn with ``random_state`` (gathered exactly from the cube); then each chunk is
    read once, labelled (nearest centroid of the fitted clusters; the mixture's own
    prediction for "gmm") and its spectra summed per cluster. Memory: the label image,
    the sample and a few chunks. Labels are 1..k in order of first appearance in
    raster order, as :func:`iter_cluster_map`; with ``cleanup`` the spectra are summed
    in a second pass over the cleaned labels. ``embedding`` is a lazy dask array.
    Yields ``(stage, fraction)``; returns a :class:`ClusterResult`.

    Examples
    --------
    >>> import dask.array as da
    >>> from napari_unmix.core.synthetic import make_two_region_cube
    >>> cube, truth = make_two_region_cube(shape=(40, 40))
    >>> gen = iter_cluster_map_chunked(da.from_array(cube, chunks=(50, 20, 20)), n_clusters=2,
    ...                                max_samples=500)
    >>> while True:
    ...     try:
    ...         _ = next(gen)
    ...     except StopIteration as stop:
    ...         res = stop.value
    ...         break
    >>> res.labels.shape, res.counts.sum(), res.report["fit"]["n_sample"]
    ((40, 40), np.int64(1600), 500)
    """
    import dask.array as da

    if not _is_dask(cube):
        cube = da.from_array(np.asarray(cube))
    _check_cube(cube)
    _check_method(method, cleanup)
    if method_options.get("connectivity") is not None:
        raise ValueError("connectivity needs every pixel at once; use iter_cluster_map")
    if int(max_samples) < 1:
        raise ValueError(f"max_samples must be >= 1, got {max_samples}")
    yield "sample", 0.0
    sample = _sample_pixels(cube, max_samples, random_state)
    sample = sample[np.isfinite(sample).all(axis=1)]
    _check_k(n_clusters, sample.shape[0], "the sample", "raise max_samples or lower n_clusters")
    k, c = int(n_clusters), cube.shape[0]
    feats, feat_info = pixel_features(
        sample, n_components=n_components, max_samples=sample.shape[0], random_state=random_state
    )
    if n_components is None:
        transform = lambda rows: rows  # noqa: E731
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=n_components, random_state=random_state).fit(sample)
        transform = lambda rows: pca.transform(rows).astype(np.float32)  # noqa: E731
    yield "clustering", 0.1
    opts = {k_: v for k_, v in method_options.items() if k_ != "max_samples"}
    if method == "gmm":
        from sklearn.mixture import GaussianMixture

        fitted = GaussianMixture(
            n_components=k, covariance_type=opts.get("covariance_type", "diag"),
            random_state=random_state, reg_covar=1e-5,
        ).fit(feats)  # fmt: skip
        raw = fitted.predict(feats)
        fit_info = {"covariance_type": opts.get("covariance_type", "diag"),
                    "converged": bool(fitted.converged_)}  # fmt: skip
    else:
        raw, fit_info = CLUSTER_METHODS[method].fn(
            feats, k, random_state=random_state, max_samples=feats.shape[0], **opts
        )
        fitted = None
    predict = _predictor(method, feats, np.asarray(raw), k, fitted)
    fit_info = {**fit_info, "n_sample": int(sample.shape[0]), "mode": "sample + chunk labels"}
    labels = np.zeros(cube.shape[1:], np.int32)
    sums, sq, counts = np.zeros((k, c)), np.zeros((k, c)), np.zeros(k)
    batch = 8

    def label_block(block, pos):
        return _block_stats(block, transform, predict, k)

    for frac, results in _blockwise(cube, label_block, batch):
        for (y0, x0), (lab, (s1, s2, n)) in results:
            labels[y0 : y0 + lab.shape[0], x0 : x0 + lab.shape[1]] = lab
            sums, sq, counts = sums + s1, sq + s2, counts + n
        yield "labelling", 0.1 + 0.7 * frac
    valid = labels > 0
    order = np.zeros(k + 1, np.int32)  # raw label -> label by first appearance
    if valid.any():
        seen = labels[valid] - 1
        _, first = np.unique(seen, return_index=True)
        present = np.unique(seen)[np.argsort(first)]
        rest = np.setdiff1d(np.arange(k), present)
        order[1:][np.concatenate([present, rest])] = np.arange(1, k + 1)
    labels = order[labels]
    perm = np.argsort(order[1:])  # new label j+1 <- old raw label perm[j]
    sums, sq, counts = sums[perm], sq[perm], counts[perm]
    if cleanup is not None:
        yield "clean-up", 0.8
        labels = CLEANUPS[cleanup].fn(labels, k, **(cleanup_options or {}))

        def resum(block, pos):
            y0, x0 = pos
            lab = labels[y0 : y0 + block.shape[1], x0 : x0 + block.shape[2]].ravel()
            return _label_sums(np.asarray(block, np.float32).reshape(c, -1).T, lab, k)

        sums, sq, counts = np.zeros((k, c)), np.zeros((k, c)), np.zeros(k)
        for _, results in _blockwise(cube, resum, batch):
            for _, (s1, s2, n) in results:
                sums, sq, counts = sums + s1, sq + s2, counts + n
    yield "spectra", 0.95
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], 0.0)
        sd = np.sqrt(np.maximum(sq / np.maximum(counts, 1)[:, None] - mean**2, 0.0))
    d = feats.shape[1]
    embedding = cube.rechunk({0: -1}).map_blocks(
        lambda b: transform(np.asarray(b, np.float32).reshape(c, -1).T).T.reshape(d, *b.shape[1:]),
        chunks=((d,), *cube.rechunk({0: -1}).chunks[1:]),
        dtype=np.float32,
    )
    report = _cluster_report(
        method, k, opts, fit_info, feat_info, cleanup, cleanup_options, random_state,
        int(valid.sum()), labels.size, counts,
    )  # fmt: skip
    report.update(max_samples=int(max_samples), chunked=True)
    return ClusterResult(
        labels=labels,
        mean_spectra=mean.astype(np.float32),
        sd_spectra=sd.astype(np.float32),
        counts=counts.astype(int),
        embedding=embedding,
        report=report,
    )


def cluster_pixels(cube, /, **kwargs: Any) -> ClusterResult:
    """Run :func:`iter_cluster_map` to the end and return its :class:`ClusterResult`."""
    gen = iter_cluster_map(cube, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def choose_k(
    cube,
    /,
    *,
    k_range: range | list[int] = range(2, 9),
    method: str = "kmeans",
    n_components: int | None = None,
    sample_size: int = 5000,
    random_state: int = 0,
) -> dict[str, Any]:
    """Score several numbers of clusters; the suggestion is reported, never applied.

    For every k: the silhouette (higher is better) and the within-cluster sum of squares
    (inertia; the "elbow" is where its decrease slows down most), computed on a seeded
    subsample of ``sample_size`` pixels.

    Returns
    -------
    dict
        ``k``, ``silhouette``, ``inertia`` (lists), ``best_silhouette_k``, ``elbow_k``.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_two_region_cube
    >>> choose_k(make_two_region_cube()[0], k_range=[2, 3, 4])["best_silhouette_k"]
    2
    """
    from .metrics import silhouette

    check_array("cube", cube)
    check_int("sample_size", sample_size, minimum=2)
    if method not in CLUSTER_METHODS:
        raise ValueError(f"unknown method={method!r}; choose one of {sorted(CLUSTER_METHODS)}")
    cube = np.asarray(cube)
    _check_cube(cube)
    check_not_constant("cube", cube)
    ks = sorted({int(k) for k in k_range})
    rows, finite = _pixel_rows(cube)
    rows = _subsample(rows[finite], sample_size, random_state)
    # unit-free: cluster rows scaled to a max of 1 (k-means overflows float32 at 1e30);
    # the inertia is reported back in the data's units
    scale = float(np.abs(rows).max()) if rows.size else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    rows = rows / scale
    if not ks or ks[0] < 2 or ks[-1] >= rows.shape[0]:
        raise ValueError(f"k_range must lie within 2..{rows.shape[0] - 1}, got {ks}")
    feats, _ = pixel_features(rows, n_components=n_components, random_state=random_state)
    sil, inertia = [], []
    for k in ks:
        raw, _ = CLUSTER_METHODS[method].fn(feats, k, random_state=random_state)
        sil.append(silhouette(feats, raw, sample_size=None))
        cent = np.stack(
            [feats[raw == j].mean(0) if (raw == j).any() else feats[0] for j in range(k)]
        )
        inertia.append(float(((feats - cent[raw]) ** 2).sum()) * scale**2)
    elbow = ks[0]
    if len(ks) >= 3:
        curvature = np.diff(inertia, 2)  # largest bend of the decreasing inertia curve
        elbow = ks[int(np.argmax(curvature)) + 1]
    return {
        "k": ks,
        "method": method,
        "silhouette": sil,
        "inertia": inertia,
        "best_silhouette_k": ks[int(np.argmax(sil))],
        "elbow_k": elbow,
        "sample_size": int(rows.shape[0]),
        "random_state": random_state,
    }
