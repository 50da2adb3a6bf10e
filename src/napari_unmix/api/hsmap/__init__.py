"""Hyperspectral mapping for scripts: intensity, ratio and cluster maps, metrics, reports.

Array-level functions (``intensity_map``, ``ratio_map``, ``cluster_map``, ``map_metrics``,
:mod:`.maps`) take a (C, Y, X) cube and return their result with a provenance report;
per-pixel spectra stored as rows (CSV / HDF5) become a cube with :func:`read_pixel_spectra`
or :func:`cube_from_rows` (:mod:`.rows`); :func:`write_map_report` writes the figures,
``metrics.json`` and a short ``report.md`` into a folder and :func:`map_report_file` maps a
cube file (:mod:`.report`).

Examples
--------
>>> from napari_unmix import make_two_region_cube, cluster_map, map_metrics, ratio_map
>>> cube, truth = make_two_region_cube()
>>> axis = truth["spectral_axis"]
>>> ratio, rep = ratio_map(cube, axis, 1655, 1742, window=10)
>>> bool((np.abs(ratio[:, :15]) > 2).all() and (np.abs(ratio[:, 15:] - 1) < 0.3).all())
True
>>> res = cluster_map(cube, 2, random_state=0)
>>> m = map_metrics(res.labels, truth["labels"], embedding=res.embedding)
>>> m["ari"], m["silhouette"] > 0.6
(1.0, True)
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the doctest above)

from ...core.hsmap import ClusterOptions, ClusterResult, MapOptions, MapResult, choose_k
from ...core.preprocess import Preprocessing
from .maps import cluster_map, intensity_map, iter_cluster_map, map_metrics, ratio_map
from .report import map_report_file, write_map_report
from .rows import cube_from_rows, read_pixel_spectra

__all__ = [
    "ClusterOptions",
    "ClusterResult",
    "MapOptions",
    "MapResult",
    "Preprocessing",
    "choose_k",
    "cluster_map",
    "cube_from_rows",
    "intensity_map",
    "iter_cluster_map",
    "map_metrics",
    "map_report_file",
    "ratio_map",
    "read_pixel_spectra",
    "write_map_report",
]
