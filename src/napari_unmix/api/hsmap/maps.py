"""Array-level hyperspectral maps: intensity, ratio and cluster maps of a cube, and metrics.

Each takes a (C, Y, X) cube (numpy, or dask for a lazy result) and returns its result with
a provenance report; the options and their defaults are :class:`MapOptions`,
:class:`ClusterOptions` and :class:`Preprocessing` of :mod:`napari_unmix.core`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dask import is_dask_collection

from ...core import hsmap as core
from ...core.hsmap import ClusterOptions, MapOptions, MapResult
from ...core.hsmap.maps import check_cube
from ...core.metrics import agreement, silhouette
from ...core.options import takes_options
from ...core.preprocess import Preprocessing
from ...core.progress import Progress, Steps, run_form
from ...core.report import describe_array, start_report
from ...core.validate import check_array, check_axis, check_int, check_not_constant, check_not_empty

__all__ = ["cluster_map", "intensity_map", "iter_cluster_map", "map_metrics", "ratio_map"]


def _pipeline(preprocessing) -> Preprocessing:
    if preprocessing is None:
        return Preprocessing()
    if isinstance(preprocessing, Preprocessing):
        return preprocessing
    if isinstance(preprocessing, dict):
        opts = dict(preprocessing)
        if isinstance(opts.get("baseline_params"), dict):
            opts["baseline_params"] = tuple(opts["baseline_params"].items())
        return Preprocessing(**opts)
    raise ValueError(
        f"preprocessing must be None, a dict or a Preprocessing, got {type(preprocessing).__name__}"
    )


def _prepare(cube, axis, preprocessing):
    check_cube(cube)
    check_array("cube", cube)
    if axis is None:
        axis = np.arange(cube.shape[0], dtype=np.float64)
    axis = check_axis("spectral axis", check_cube(cube, axis))
    pipe = _pipeline(preprocessing)
    if not pipe.is_identity:
        cube, axis = pipe.apply(cube, axis)
    return cube, axis, pipe


def intensity_map(
    cube, axis, target: float, /, *, window: float = MapOptions.window, preprocessing=None
) -> MapResult:
    """Mean intensity in ``target ± window`` (axis units) at every pixel.

    Parameters
    ----------
    cube : (C, Y, X) array (numpy or dask: a dask cube gives a lazy map)
    axis : (C,) array
        Spectral axis (cm⁻¹, nm, ...).
    target, window : float
        Band centre and half width; a window narrower than the channel spacing uses the
        nearest channel.
    preprocessing : Preprocessing, dict or None
        Applied first (see :class:`napari_unmix.core.preprocess.Preprocessing`).

    Returns
    -------
    MapResult
        ``(map, report)``: the (Y, X) float32 map and the report (``to_result()`` for display).
    """
    opts = MapOptions(window=window)
    report = start_report(
        "intensity_map",
        {"target": target, "window": window},
        {"cube": describe_array(cube, axes="CYX")},
    )
    cube, axis, pipe = _prepare(cube, axis, preprocessing)
    idx = core.band_channels(axis, target, window)
    image = core.band_intensity(cube, axis, target, window=opts.window)
    report["preprocessing"] = pipe.to_dict()
    report["band"] = {"channels": [int(idx[0]), int(idx[-1])], "axis_values": axis[idx].tolist()}
    return MapResult(image, report)


def ratio_map(
    cube,
    axis,
    numerator: float,
    denominator: float,
    /,
    *,
    window: float = MapOptions.window,
    denominator_window: float | None = MapOptions.denominator_window,
    min_denominator: float = MapOptions.min_denominator,
    preprocessing=None,
) -> MapResult:
    """Ratio of the bands at ``numerator`` and ``denominator`` (each mean ± its window).

    Pixels where ``|denominator band| <= min_denominator`` are NaN (masked); for a numpy
    cube, a denominator that is ~0 at every pixel is an error.

    Returns
    -------
    MapResult
        ``(ratio, report)``: the (Y, X) float32 ratio (dask for a dask cube), NaN where
        masked, and the report (``n_masked`` for numpy input).
    """
    opts = MapOptions.pick(locals())
    report = start_report(
        "ratio_map",
        {"numerator": numerator, "denominator": denominator, **opts.as_dict()},
        {"cube": describe_array(cube, axes="CYX")},
    )
    cube, axis, pipe = _prepare(cube, axis, preprocessing)
    ratio, valid = core.band_ratio(cube, axis, numerator, denominator, **opts.as_dict())
    report["preprocessing"] = pipe.to_dict()
    if isinstance(valid, np.ndarray):
        n_valid = int(valid.sum())
        if n_valid == 0:
            raise ValueError(
                f"the denominator band at {denominator:g} is ~0 (<= {min_denominator:g}) at every "
                "pixel; choose a band with signal, or lower min_denominator"
            )
        report["n_masked"] = int(valid.size - n_valid)
    else:
        report["n_masked"] = "not computed (lazy dask result)"
    return MapResult(ratio, report)


@takes_options(ClusterOptions)
def iter_cluster_map(
    cube,
    n_clusters: int,
    /,
    *,
    spectral_axis=None,
    preprocessing=None,
    options: ClusterOptions,
) -> Steps:
    """Generator form of :func:`cluster_map`: yields Progress events, returns the result.

    Widgets run it in a worker thread (progress, cancel); scripts use :func:`cluster_map`.
    """
    given = options.given()
    report = start_report(
        "cluster_map",
        {"n_clusters": n_clusters, **given},
        {"cube": describe_array(cube, axes="CYX")},
    )
    yield Progress(0.0, 1, "preprocessing")
    lazy = is_dask_collection(cube)
    if lazy and not _pipeline(preprocessing).is_identity:
        raise ValueError(
            "preprocessing of a dask cube is not supported here; preprocess it first, or "
            "pass a numpy cube"
        )
    cube, axis, pipe = _prepare(cube, spectral_axis, preprocessing)
    if not lazy:
        cube = np.asarray(cube)
        check_not_constant("cube", cube)
    steps = core.iter_cluster_map_chunked if lazy else core.iter_cluster_map
    result = yield from steps(cube, n_clusters=n_clusters, options=options)
    report.update(result.report)
    report["preprocessing"] = pipe.to_dict()
    report["spectral_axis"] = axis.tolist()
    result.report = report
    return result


cluster_map = run_form(
    iter_cluster_map,
    "cluster_map",
    """Cluster the pixel spectra of a (C, Y, X) cube into ``n_clusters`` regions.

    A dask cube (e.g. from ``read_lazy`` of an OME-Zarr store or ENVI file) is never
    loaded whole: the clustering is fitted on ``max_samples`` seeded pixels (default
    20000) and the labels are computed chunk by chunk
    (:func:`napari_unmix.core.hsmap.iter_cluster_map_chunked`).

    Keyword options (:class:`napari_unmix.core.hsmap.ClusterOptions`): ``method``
    ("kmeans", "ward", "gmm"), ``n_components`` (cluster PCA scores), ``cleanup``
    ("majority", "components") with ``cleanup_options``, ``random_state`` and the method's
    options (``n_init`` for k-means, ``max_samples``, ``connectivity="grid"`` for Ward,
    ``covariance_type`` for GMM); ``spectral_axis`` and ``preprocessing`` (applied first).

    Returns
    -------
    ClusterResult
        ``labels`` (Y×X, 1..k), ``mean_spectra`` ± ``sd_spectra`` (on the preprocessed
        axis, in ``report["spectral_axis"]``), ``counts``, ``embedding``, ``report``.
    """,
    "ClusterResult",
)


def map_metrics(
    labels,
    truth=None,
    /,
    *,
    embedding=None,
    sample_size: int | None = 10000,
    random_state: int = 0,
    ignore_label: int | None = 0,
) -> dict[str, Any]:
    """Quality of a cluster map: silhouette, and agreement with a truth mask if given.

    Parameters
    ----------
    labels : (Y, X) int array
        Cluster map (0 = left out).
    truth : (Y, X) int array, optional
        Ground truth (e.g. painted Labels); pixels equal to ``ignore_label`` are skipped.
    embedding : (d, Y, X) array, optional
        What was clustered (``ClusterResult.embedding`` or the cube): enables the
        silhouette, on a seeded subsample of ``sample_size`` pixels.

    Returns
    -------
    dict
        ``n_clusters``, ``cluster_sizes``, ``silhouette`` (or None), and with ``truth``:
        ``accuracy``, ``ari``, ``per_class`` (precision, recall, IoU), ``mean_iou``,
        ``confusion``, ``matching`` (Hungarian).
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be a (Y, X) image, got {labels.shape=}")
    if labels.dtype.kind not in "iuf":
        raise TypeError(f"labels must be an integer label image, got dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise ValueError(
            f"labels must be whole numbers (an integer label image); this {labels.dtype} "
            "image has fractions, NaN or inf"
        )
    check_not_empty("labels", labels)
    if sample_size is not None:
        check_int("sample_size", sample_size, minimum=2)
    used = labels > 0
    uniq, counts = np.unique(labels[used], return_counts=True)
    out: dict[str, Any] = {
        "n_clusters": int(uniq.size),
        "cluster_sizes": {str(int(u)): int(c) for u, c in zip(uniq, counts, strict=True)},
        "silhouette": None,
    }
    if embedding is not None:
        lazy = is_dask_collection(embedding)
        emb = embedding if lazy else np.asarray(embedding)
        if emb.ndim != 3 or emb.shape[1:] != labels.shape:
            raise ValueError(
                f"embedding must be (d, Y, X) with Y×X = {labels.shape}, got {emb.shape=}"
            )
        if uniq.size >= 2 and lazy:  # gather only the sampled pixels of a lazy embedding
            ys, xs = np.nonzero(used)
            n = min(sample_size or ys.size, ys.size)
            pick = np.sort(np.random.default_rng(random_state).choice(ys.size, n, replace=False))
            ys, xs = ys[pick], xs[pick]
            feats = np.asarray(emb.transpose(1, 2, 0).vindex[ys, xs])
            out["silhouette"] = silhouette(feats, labels[ys, xs], sample_size=None)
            out["silhouette_sample_size"] = int(n)
        elif uniq.size >= 2:
            feats = emb.reshape(emb.shape[0], -1).T[used.ravel()]
            out["silhouette"] = silhouette(
                feats, labels[used], sample_size=sample_size, random_state=random_state
            )
            out["silhouette_sample_size"] = int(min(sample_size or feats.shape[0], feats.shape[0]))
    if truth is not None:
        truth = np.asarray(truth)
        if truth.shape != labels.shape:
            raise ValueError(
                f"truth mask shape {truth.shape} differs from the cluster map {labels.shape}"
            )
        out.update(agreement(labels, truth, ignore_label=ignore_label))
    return out
