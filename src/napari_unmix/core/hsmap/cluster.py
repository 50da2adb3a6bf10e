"""Cluster maps of a (C, Y, X) cube held in memory, and the choice of k.

:func:`iter_cluster_map` clusters the pixel spectra (or their PCA scores) with a method of
:data:`~.methods.CLUSTER_METHODS`, optionally cleans the map spatially, and returns a
:class:`ClusterResult` with mean ± sd spectra per cluster; it yields
:class:`~napari_unmix.core.progress.Progress` events. :func:`cluster_pixels` runs it to
the end. :func:`choose_k` scores a range of k (silhouette and inertia) for the user to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..options import Options, OptionSpec, option, takes_options
from ..progress import Progress, Steps, run_form
from ..result import Result, ResultLayer
from ..validate import OptionError, check_array, check_int, check_not_constant
from .maps import check_cube
from .methods import (
    CLEANUPS,
    CLUSTER_METHODS,
    cluster_colors,
    cluster_spectra,
    pixel_features,
    pixel_rows,
    subsample,
)

__all__ = ["ClusterOptions", "ClusterResult", "choose_k", "cluster_pixels", "iter_cluster_map"]

#: The fields of :class:`ClusterOptions` that belong to one method (None: the method's default).
METHOD_FIELDS = ("n_init", "max_samples", "connectivity", "covariance_type")


@dataclass(frozen=True)
class ClusterOptions(Options):
    """Options of the cluster maps (the number of clusters is an argument of its own).

    The method options (``n_init``, ``max_samples``, ``connectivity``, ``covariance_type``)
    are None by default: the chosen method's own default (its ``options`` class in
    :data:`~.methods.CLUSTER_METHODS`); giving one the method does not take is an error.
    """

    method: str = option("kmeans", label="clustering", doc="clustering method",
                         choices=CLUSTER_METHODS)  # fmt: skip
    n_components: int | None = option(
        None, label="PCA components", doc="cluster PCA scores of this many components",
        bounds=(1, None),
    )  # fmt: skip
    cleanup: str | None = option(None, label="spatial clean-up",
                                 doc="spatial clean-up of the labels", choices=CLEANUPS)  # fmt: skip
    cleanup_options: Mapping[str, Any] | None = option(
        None, label="clean-up options", doc="options of the clean-up (size, min_size)",
        advanced=True,
    )  # fmt: skip
    random_state: int = option(
        0, label="random seed", doc="seed of every random step", bounds=(0, None), advanced=True
    )
    n_init: int | None = option(None, label="k-means starts", doc="k-means starts",
                                bounds=(1, None), advanced=True)  # fmt: skip
    max_samples: int | None = option(
        None, label="fit sample", doc="pixels the method (or a dask cube's fit) uses",
        bounds=(1, None), advanced=True,
    )  # fmt: skip
    connectivity: str | None = option(None, label="connectivity", doc="Ward: 'grid'",
                                      choices=("grid",), advanced=True)  # fmt: skip
    covariance_type: str | None = option(
        None, label="covariance", doc="Gaussian mixture covariance",
        choices=("diag", "full", "tied", "spherical"), advanced=True,
    )  # fmt: skip

    @classmethod
    def check(cls, spec: OptionSpec, value: Any) -> Any:
        """The base rules; an unknown method or clean-up with the messages they have always had."""
        if spec.name == "method" and value not in CLUSTER_METHODS:
            raise OptionError(
                f"unknown clustering method {value!r}; choose one of {sorted(CLUSTER_METHODS)}"
            )
        if spec.name == "cleanup" and value is not None and value not in CLEANUPS:
            raise OptionError(
                f"cleanup={value!r} is not a known clean-up; use None or one of {sorted(CLEANUPS)}"
            )
        return super().check(spec, value)

    def method_options(self, *, exclude: tuple[str, ...] = ()) -> Options:
        """The chosen method's own options object, from the method fields given
        (``max_samples`` is left out for a method fitted on every pixel, e.g. k-means)."""
        entry = CLUSTER_METHODS[self.method]
        if "max_samples" not in entry.options.defaults():
            exclude = (*exclude, "max_samples")
        given = {n: getattr(self, n) for n in METHOD_FIELDS if n not in exclude}
        given = {n: v for n, v in given.items() if v is not None}
        return entry.options.from_kwargs(given, where=f"method {self.method!r}")

    def given(self) -> dict[str, Any]:
        """The fields a report records: all but the method options left at None (the
        chosen method's own default)."""
        return {k: v for k, v in self.as_dict().items() if v is not None or k not in METHOD_FIELDS}

    def cleanup_settings(self) -> Options | None:
        """The clean-up's options object (None without a clean-up)."""
        if self.cleanup is None:
            return None
        return CLEANUPS[self.cleanup].options.from_kwargs(
            dict(self.cleanup_options or {}), where=f"cleanup {self.cleanup!r}"
        )


def check_cluster_args(opts: ClusterOptions) -> ClusterOptions:
    """``opts``, after checking the method's and the clean-up's own options."""
    opts.method_options(), opts.cleanup_settings()  # validates both
    return opts


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

    def to_result(self, source: str = "") -> Result:
        """A Labels layer ``clusters (k=<k>)`` in the cluster colours (``extra["colors"]``:
        label -> RGBA), the report, and the spectra as tables."""
        colors = {j + 1: tuple(c) for j, c in enumerate(cluster_colors(self.n_clusters))}
        tables = {"mean_spectra": self.mean_spectra, "sd_spectra": self.sd_spectra,
                  "counts": self.counts}  # fmt: skip
        if "spectral_axis" in self.report:
            tables["spectral_axis"] = np.asarray(self.report["spectral_axis"])
        layer = ResultLayer(
            f"clusters (k={self.n_clusters})", self.labels, kind="labels", blending="translucent",
            axes="YX", role="clusters", extra={"colors": colors},
        )  # fmt: skip
        return Result("hsmap", [layer], report=self.report, source=source, tables=tables)


def check_k(n_clusters: Any, n_valid: int, where: str, hint: str) -> None:
    """n_clusters an integer in 1..n_valid, else ValueError with ``hint``."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int | np.integer):
        raise ValueError(f"n_clusters must be an integer, got {n_clusters!r}")
    if not 1 <= n_clusters <= n_valid:
        raise ValueError(f"n_clusters={n_clusters} but {where} has {n_valid} usable pixels; {hint}")


def cluster_report(opts: ClusterOptions, k, method_opts, fit_info, feat_info, n_valid, n_total,
                   counts) -> dict[str, Any]:  # fmt: skip
    """The clustering part of a cluster map's report."""
    cleanup = opts.cleanup_settings()
    return {
        "method": opts.method,
        "method_label": CLUSTER_METHODS[opts.method].label,
        "n_clusters": k,
        "method_options": method_opts.as_dict(),
        "fit": fit_info,
        "features": feat_info,
        "cleanup": opts.cleanup,
        "cleanup_options": cleanup.as_dict() if cleanup is not None else {},
        "random_state": opts.random_state,
        "n_pixels_clustered": n_valid,
        "n_pixels_left_out": int(n_total - n_valid),
        "counts": np.asarray(counts).astype(int).tolist(),
    }


def first_appearance_order(labels: np.ndarray, k: int) -> np.ndarray:
    """Map raw labels 0..k-1 to 1..k by first appearance in raster order."""
    _, first = np.unique(labels, return_index=True)
    order = np.unique(labels)[np.argsort(first)]
    remap = np.zeros(k, np.int32)
    remap[order] = np.arange(1, order.size + 1)
    return remap[labels]


@takes_options(ClusterOptions)
def iter_cluster_map(cube, /, *, n_clusters: int, options: ClusterOptions) -> Steps:
    """Cluster the pixel spectra of a (C, Y, X) cube, yielding Progress events.

    Returns (as the generator's return value) a :class:`ClusterResult`.

    Parameters
    ----------
    n_clusters : int
        Number of clusters (required: use :func:`choose_k` to pick one).
    method : {"kmeans", "ward", "gmm"}
        See :data:`~.methods.CLUSTER_METHODS`.
    n_components : int or None
        Cluster PCA scores with this many components instead of the raw spectra.
    cleanup : {None, "majority", "components"}
        Spatial clean-up (see :data:`~.methods.CLEANUPS`), options in ``cleanup_options``
        (``size`` for the majority filter, ``min_size`` for components).
    random_state : int
        Seed of every random step (initialisation, subsamples).
    n_init, max_samples, connectivity, covariance_type
        The method's options (see :class:`ClusterOptions`; None: the method's default).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_two_region_cube
    >>> gen = iter_cluster_map(make_two_region_cube()[0], n_clusters=2)
    >>> [event.message for event in gen]
    ['features', 'clustering', 'clean-up', 'spectra']
    """
    opts = check_cluster_args(options)
    cube = np.asarray(cube)
    check_cube(cube)
    rows, finite = pixel_rows(cube)
    n_valid = int(finite.sum())
    check_k(n_clusters, n_valid, "the image", "choose 1 <= n_clusters <= number of pixels")
    yield Progress(0.1, 1, "features")
    feats, feat_info = pixel_features(
        rows[finite], n_components=opts.n_components, random_state=opts.random_state
    )
    yield Progress(0.3, 1, "clustering")
    method_opts = opts.method_options()
    shape = cube.shape[1:] if n_valid == rows.shape[0] else None
    raw, fit_info = CLUSTER_METHODS[opts.method].function(
        feats, n_clusters, method_opts, random_state=opts.random_state, image_shape=shape
    )
    labels = np.zeros(rows.shape[0], np.int32)
    labels[finite] = first_appearance_order(np.asarray(raw), n_clusters)
    labels = labels.reshape(cube.shape[1:])
    yield Progress(0.8, 1, "clean-up")
    if opts.cleanup is not None:
        labels = CLEANUPS[opts.cleanup].function(labels, n_clusters, opts.cleanup_settings())
    yield Progress(0.9, 1, "spectra")
    mean, sd, counts = cluster_spectra(rows, labels, n_clusters)
    if n_valid == rows.shape[0]:
        embedding = np.ascontiguousarray(feats.T, dtype=np.float32)
    else:
        embedding = np.zeros((feats.shape[1], rows.shape[0]), np.float32)
        embedding[:, finite] = feats.T
    report = cluster_report(
        opts, n_clusters, method_opts, fit_info, feat_info, n_valid, rows.shape[0], counts
    )
    return ClusterResult(
        labels=labels,
        mean_spectra=mean,
        sd_spectra=sd,
        counts=counts,
        embedding=embedding.reshape((-1, *cube.shape[1:])),
        report=report,
    )


cluster_pixels = run_form(
    iter_cluster_map,
    "cluster_pixels",
    """Run :func:`iter_cluster_map` to the end and return its :class:`ClusterResult`
    (example: :mod:`napari_unmix.core.hsmap`).""",
    "ClusterResult",
)


def choose_k(
    cube,
    /,
    *,
    k_range: range | list[int] = range(2, 9),
    method: str = ClusterOptions.method,
    n_components: int | None = ClusterOptions.n_components,
    sample_size: int = 5000,
    random_state: int = ClusterOptions.random_state,
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
    from ..metrics import silhouette

    check_array("cube", cube)
    check_int("sample_size", sample_size, minimum=2)
    if method not in CLUSTER_METHODS:
        raise ValueError(f"unknown method={method!r}; choose one of {sorted(CLUSTER_METHODS)}")
    cube = np.asarray(cube)
    check_cube(cube)
    check_not_constant("cube", cube)
    ks = sorted({int(k) for k in k_range})
    rows, finite = pixel_rows(cube)
    rows = subsample(rows[finite], sample_size, random_state)
    # unit-free: cluster rows scaled to a max of 1 (k-means overflows float32 at 1e30);
    # the inertia is reported back in the data's units
    scale = float(np.abs(rows).max()) if rows.size else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    rows = rows / scale
    if not ks or ks[0] < 2 or ks[-1] >= rows.shape[0]:
        raise ValueError(f"k_range must lie within 2..{rows.shape[0] - 1}, got {ks}")
    feats, _ = pixel_features(rows, n_components=n_components, random_state=random_state)
    entry = CLUSTER_METHODS[method]
    sil, inertia = [], []
    for k in ks:
        raw, _ = entry.function(feats, k, entry.options(), random_state=random_state)
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


def with_sample_size(method_opts: Options, n: int) -> Options:
    """``method_opts`` fitting on ``n`` samples (for methods with a ``max_samples``)."""
    if "max_samples" in type(method_opts).defaults():
        return replace(method_opts, max_samples=int(n))
    return method_opts
