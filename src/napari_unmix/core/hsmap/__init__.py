"""Hyperspectral maps: band intensity, band ratio and cluster maps of a (C, Y, X) cube.

* :func:`band_intensity` / :func:`band_ratio` (:mod:`.maps`) are pixel-wise and stay lazy
  on dask cubes; :class:`MapOptions` holds their options.
* :func:`iter_cluster_map` (:mod:`.cluster`) clusters the pixel spectra (or their PCA
  scores) with a method from :data:`CLUSTER_METHODS` (k-means, Ward, Gaussian mixture),
  optionally cleans the map spatially (:data:`CLEANUPS`), and returns a
  :class:`ClusterResult` with mean ± sd spectra per cluster. It is a generator yielding
  :class:`~napari_unmix.core.progress.Progress` events; :func:`cluster_pixels` runs it to
  the end. :class:`ClusterOptions` holds its options.
* :func:`iter_cluster_map_chunked` (:mod:`.chunked`) does the same for a dask cube larger
  than memory.
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

import numpy as np  # noqa: F401  (the doctest above)

from .chunked import iter_cluster_map_chunked
from .cluster import ClusterOptions, ClusterResult, choose_k, cluster_pixels, iter_cluster_map
from .maps import MapOptions, MapResult, band_channels, band_intensity, band_ratio
from .methods import (
    CLEANUPS,
    CLUSTER_METHODS,
    ComponentsOptions,
    GmmOptions,
    KMeansOptions,
    MajorityOptions,
    WardOptions,
    cluster_colors,
    cluster_spectra,
    pixel_features,
)

__all__ = [
    "CLEANUPS",
    "CLUSTER_METHODS",
    "ClusterOptions",
    "ClusterResult",
    "ComponentsOptions",
    "GmmOptions",
    "KMeansOptions",
    "MajorityOptions",
    "MapOptions",
    "MapResult",
    "WardOptions",
    "band_channels",
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
