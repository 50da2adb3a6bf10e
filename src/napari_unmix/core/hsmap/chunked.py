"""Cluster maps of a dask cube larger than memory, chunk by chunk.

The features and the clustering are fitted on a bounded, seeded sample of pixels, then
every chunk is labelled (nearest centroid, or the mixture's prediction) with the cluster
spectra summed in the same pass; only the label image is held in memory.
"""

from __future__ import annotations

import numpy as np
from dask import is_dask_collection

from ..options import takes_options
from ..progress import Progress, Steps
from .cluster import (
    ClusterOptions,
    ClusterResult,
    check_cluster_args,
    check_k,
    cluster_report,
    with_sample_size,
)
from .maps import check_cube
from .methods import CLEANUPS, CLUSTER_METHODS, fit_gmm, nearest_centroid, pixel_features

__all__ = ["CHUNKED_MAX_SAMPLES", "iter_cluster_map_chunked"]

#: Pixels the features and the clustering of a dask cube are fitted on (``max_samples=None``).
CHUNKED_MAX_SAMPLES = 20000


def _sample_pixels(cube, max_samples: int, random_state: int) -> np.ndarray:
    """(m, C) float32 spectra of a seeded sample of pixels, gathered exactly from ``cube``."""
    _, y, x = cube.shape
    n = y * x
    m = min(int(max_samples), n)
    idx = np.sort(np.random.default_rng(random_state).choice(n, m, replace=False))
    ys, xs = np.divmod(idx, x)
    picked = (
        cube.transpose(1, 2, 0).vindex[ys, xs] if is_dask_collection(cube) else cube[:, ys, xs].T
    )
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


def _blockwise(cube, fn, batch: int = 8):
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


def _fit_sample(sample, k: int, opts: ClusterOptions, method_opts):
    """Features transform, ``predict(features) -> raw labels``, features and fit details."""
    rs = opts.random_state
    feats, feat_info = pixel_features(
        sample, n_components=opts.n_components, max_samples=sample.shape[0], random_state=rs
    )
    if opts.n_components is None:
        transform = lambda rows: rows  # noqa: E731
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=opts.n_components, random_state=rs).fit(sample)
        transform = lambda rows: pca.transform(rows).astype(np.float32)  # noqa: E731
    if opts.method == "gmm":
        fitted, fit_info = fit_gmm(feats, k, method_opts, random_state=rs)
        return transform, fitted.predict, feats, feat_info, fit_info
    raw, fit_info = CLUSTER_METHODS[opts.method].function(feats, k, method_opts, random_state=rs)
    raw = np.asarray(raw)
    centroids = np.stack(
        [feats[raw == j].mean(axis=0) if (raw == j).any() else feats[0] for j in range(k)]
    ).astype(np.float32)
    return transform, (lambda X: nearest_centroid(X, centroids)), feats, feat_info, fit_info


def _relabel(labels, sums, sq, counts, k: int):
    """Labels 1..k renumbered by first appearance in raster order, the sums permuted alike."""
    valid = labels > 0
    order = np.zeros(k + 1, np.int32)  # raw label -> label by first appearance
    if valid.any():
        seen = labels[valid] - 1
        _, first = np.unique(seen, return_index=True)
        present = np.unique(seen)[np.argsort(first)]
        rest = np.setdiff1d(np.arange(k), present)
        order[1:][np.concatenate([present, rest])] = np.arange(1, k + 1)
    perm = np.argsort(order[1:])  # new label j+1 <- old raw label perm[j]
    return order[labels], sums[perm], sq[perm], counts[perm]


def _resum(cube, labels, k: int):
    """Per-label sums of the spectra under ``labels``, one more pass over the chunks."""
    c = cube.shape[0]

    def one(block, pos):
        y0, x0 = pos
        lab = labels[y0 : y0 + block.shape[1], x0 : x0 + block.shape[2]].ravel()
        return _label_sums(np.asarray(block, np.float32).reshape(c, -1).T, lab, k)

    sums, sq, counts = np.zeros((k, c)), np.zeros((k, c)), np.zeros(k)
    for _, results in _blockwise(cube, one):
        for _, (s1, s2, n) in results:
            sums, sq, counts = sums + s1, sq + s2, counts + n
    return sums, sq, counts


@takes_options(ClusterOptions)
def iter_cluster_map_chunked(cube, /, *, n_clusters: int, options: ClusterOptions) -> Steps:
    """Cluster a (C, Y, X) dask cube larger than memory, chunk by chunk.

    The PCA (``n_components``) and the clustering are fitted on ``max_samples`` pixels
    (None: :data:`CHUNKED_MAX_SAMPLES`) drawn with ``random_state`` (gathered exactly from
    the cube); then each chunk is read once, labelled (nearest centroid of the fitted
    clusters; the mixture's own prediction for "gmm") and its spectra summed per cluster.
    Memory: the label image, the sample and a few chunks. Labels are 1..k in order of
    first appearance in raster order, as :func:`~.cluster.iter_cluster_map`; with
    ``cleanup`` the spectra are summed in a second pass over the cleaned labels.
    ``embedding`` is a lazy dask array. Yields Progress events; returns a
    :class:`~.cluster.ClusterResult`.

    Examples
    --------
    >>> import dask.array as da
    >>> from napari_unmix.core.progress import run
    >>> from napari_unmix.core.synthetic import make_two_region_cube
    >>> cube, truth = make_two_region_cube(shape=(40, 40))
    >>> res = run(iter_cluster_map_chunked(da.from_array(cube, chunks=(50, 20, 20)),
    ...                                    n_clusters=2, max_samples=500))
    >>> res.labels.shape, res.counts.sum(), res.report["fit"]["n_sample"]
    ((40, 40), np.int64(1600), 500)
    """
    import dask.array as da

    opts = check_cluster_args(options)
    if not is_dask_collection(cube):
        cube = da.from_array(np.asarray(cube))
    check_cube(cube)
    if opts.connectivity is not None:
        raise ValueError("connectivity needs every pixel at once; use iter_cluster_map")
    n_sample = CHUNKED_MAX_SAMPLES if opts.max_samples is None else int(opts.max_samples)
    yield Progress(0.0, 1, "sample")
    sample = _sample_pixels(cube, n_sample, opts.random_state)
    sample = sample[np.isfinite(sample).all(axis=1)]
    check_k(n_clusters, sample.shape[0], "the sample", "raise max_samples or lower n_clusters")
    k, c = int(n_clusters), cube.shape[0]
    yield Progress(0.1, 1, "clustering")
    method_opts = with_sample_size(opts.method_options(exclude=("max_samples",)), sample.shape[0])
    transform, predict, feats, feat_info, fit_info = _fit_sample(sample, k, opts, method_opts)
    fit_info = {**fit_info, "n_sample": int(sample.shape[0]), "mode": "sample + chunk labels"}
    labels = np.zeros(cube.shape[1:], np.int32)
    sums, sq, counts = np.zeros((k, c)), np.zeros((k, c)), np.zeros(k)
    for frac, results in _blockwise(cube, lambda b, pos: _block_stats(b, transform, predict, k)):
        for (y0, x0), (lab, (s1, s2, n)) in results:
            labels[y0 : y0 + lab.shape[0], x0 : x0 + lab.shape[1]] = lab
            sums, sq, counts = sums + s1, sq + s2, counts + n
        yield Progress(0.1 + 0.7 * frac, 1, "labelling")
    n_valid = int((labels > 0).sum())
    labels, sums, sq, counts = _relabel(labels, sums, sq, counts, k)
    if opts.cleanup is not None:
        yield Progress(0.8, 1, "clean-up")
        labels = CLEANUPS[opts.cleanup].function(labels, k, opts.cleanup_settings())
        sums, sq, counts = _resum(cube, labels, k)
    yield Progress(0.95, 1, "spectra")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], 0.0)
        sd = np.sqrt(np.maximum(sq / np.maximum(counts, 1)[:, None] - mean**2, 0.0))
    d = feats.shape[1]
    whole = cube.rechunk({0: -1})
    embedding = whole.map_blocks(
        lambda b: transform(np.asarray(b, np.float32).reshape(c, -1).T).T.reshape(d, *b.shape[1:]),
        chunks=((d,), *whole.chunks[1:]),
        dtype=np.float32,
    )
    report = cluster_report(opts, k, method_opts, fit_info, feat_info, n_valid, labels.size, counts)
    report.update(max_samples=n_sample, chunked=True)
    return ClusterResult(
        labels=labels,
        mean_spectra=mean.astype(np.float32),
        sd_spectra=sd.astype(np.float32),
        counts=counts.astype(int),
        embedding=embedding,
        report=report,
    )
