"""Quality metrics of cluster maps: silhouette, and agreement with a ground-truth mask.

The contingency table, the confusion matrix and the adjusted Rand index are scikit-learn's;
the silhouette is computed with chunked matrix products (no pixel loops), checked against
scikit-learn on known labelings.

Examples
--------
>>> truth = np.array([1, 1, 2, 2, 2])
>>> pred = np.array([5, 5, 7, 7, 5])
>>> m = agreement(pred, truth)
>>> m["accuracy"], m["matching"]
(0.8, {'5': 1, '7': 2})
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "adjusted_rand_index",
    "agreement",
    "confusion_matrix",
    "contingency",
    "silhouette",
]


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"labelings differ in size: {a.size} vs {b.size}")
    return a, b


def contingency(a: np.ndarray, b: np.ndarray, /) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contingency table of two labelings: ``table[i, j]`` = #(a == ua[i] and b == ub[j]).

    Returns ``(table, ua, ub)`` with the sorted unique labels of ``a`` and ``b``
    (:func:`sklearn.metrics.cluster.contingency_matrix`).

    Examples
    --------
    >>> contingency(np.array([0, 0, 1]), np.array([3, 4, 4]))[0].tolist()
    [[1, 1], [0, 1]]
    """
    from sklearn.metrics.cluster import contingency_matrix

    a, b = _pair(a, b)
    table = contingency_matrix(a, b)
    return np.asarray(table), np.unique(a), np.unique(b)


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, /, *, labels=None) -> np.ndarray:
    """Confusion matrix ``C[i, j]`` = #(truth == labels[i] and pred == labels[j]).

    :func:`sklearn.metrics.confusion_matrix` (rows: truth).

    Examples
    --------
    >>> confusion_matrix(np.array([1, 1, 2]), np.array([1, 2, 2])).tolist()
    [[1, 1], [0, 1]]
    """
    from sklearn.metrics import confusion_matrix as sk_confusion

    truth, pred = _pair(truth, pred)
    return sk_confusion(truth, pred, labels=labels)


def adjusted_rand_index(a: np.ndarray, b: np.ndarray, /) -> float:
    """Adjusted Rand index of two labelings (1 = identical partitions, ~0 = chance):
    :func:`sklearn.metrics.adjusted_rand_score`.

    Examples
    --------
    >>> adjusted_rand_index(np.array([0, 0, 1, 1]), np.array([5, 5, 3, 3]))
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    a, b = _pair(a, b)
    return float(adjusted_rand_score(a, b))


def silhouette(
    features: np.ndarray,
    labels: np.ndarray,
    /,
    *,
    sample_size: int | None = 10000,
    random_state: int = 0,
    chunk: int = 1024,
) -> float:
    """Mean silhouette coefficient (Euclidean) on a seeded subsample of rows.

    The distances are computed chunk by chunk with float32 matrix products (rows are
    centred first, which keeps the expansion ``|a|² + |b|² - 2a·b`` accurate) and summed
    per cluster with a one-hot product, so 10,000 samples take about a second.

    Parameters
    ----------
    features : (n, d) array
        Pixel embeddings (spectra or PCA scores).
    labels : (n,) array
        Cluster of every row; needs 2 <= #clusters <= #samples - 1.
    sample_size : int or None
        Rows drawn without replacement (seeded) when ``n`` is larger; None = all rows.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> round(silhouette(X, np.array([0, 0, 1, 1])), 4)
    0.98
    """
    X = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels).ravel()
    if X.ndim != 2 or X.shape[0] != labels.size:
        raise ValueError(f"need features (n, d) and labels (n,), got {X.shape=}, {labels.shape=}")
    n = labels.size
    if sample_size is not None and n > sample_size:
        idx = np.sort(np.random.default_rng(random_state).choice(n, sample_size, replace=False))
        X, labels = X[idx], labels[idx]
        n = sample_size
    X = (X - X.mean(axis=0)).astype(np.float32)
    uniq, inv = np.unique(labels, return_inverse=True)
    k = uniq.size
    if not 2 <= k <= n - 1:
        raise ValueError(f"silhouette needs 2 <= number of clusters <= samples - 1, got {k=}, {n=}")
    onehot = np.zeros((n, k), np.float32)
    onehot[np.arange(n), inv] = 1.0
    counts = onehot.sum(axis=0)
    sq = (X * X).sum(axis=1, dtype=np.float64).astype(np.float32)[:, None]
    one = np.ones_like(sq)
    # |a-b|² = [a, |a|², 1]·[-2b, 1, |b|²]: one GEMM gives the squared distances
    left = np.hstack([X, sq, one])
    right = np.hstack([-2.0 * X, one, sq])
    score = np.empty(n)
    for start in range(0, n, chunk):
        sl = slice(start, min(start + chunk, n))
        d2 = left[sl] @ right.T
        np.maximum(d2, 0, out=d2)
        np.sqrt(d2, out=d2)
        sums = (d2 @ onehot).astype(np.float64)  # (chunk, k) distance sums per cluster
        own = inv[sl]
        rows = np.arange(sums.shape[0])
        own_count = counts[own] - 1
        a = np.where(own_count > 0, sums[rows, own] / np.maximum(own_count, 1), 0.0)
        mean_other = sums / counts
        mean_other[rows, own] = np.inf
        b = mean_other.min(axis=1)
        s = (b - a) / np.maximum(a, b)
        score[sl] = np.where(own_count > 0, np.nan_to_num(s), 0.0)  # singleton -> 0
    return float(score.mean())


def agreement(pred: np.ndarray, truth: np.ndarray, /, *, ignore_label: int | None = 0):
    """Compare a cluster map with a ground-truth mask after optimal label matching.

    Clusters are matched one-to-one to truth classes by the Hungarian algorithm
    (maximum total overlap); unmatched clusters count as errors. Pixels where
    ``truth == ignore_label`` (unpainted) are left out.

    Returns
    -------
    dict
        ``accuracy``, ``ari``, ``per_class`` (truth label -> precision, recall, iou,
        matched cluster), ``mean_iou``, ``confusion`` (rows: truth classes, columns:
        clusters, in ``classes`` / ``clusters`` order), ``matching`` (cluster -> class),
        ``n_pixels`` compared.

    Examples
    --------
    >>> m = agreement(np.array([2, 2, 1, 1]), np.array([1, 1, 2, 0]))
    >>> m["accuracy"], m["per_class"]["2"]["iou"]
    (1.0, 1.0)
    """
    pred = np.asarray(pred).ravel()
    truth = np.asarray(truth).ravel()
    if pred.shape != truth.shape:
        raise ValueError(
            f"cluster map and truth mask differ in size ({pred.size} vs {truth.size} pixels); "
            "use a mask of the same Y×X shape"
        )
    keep = truth != ignore_label if ignore_label is not None else np.ones(truth.size, bool)
    if not keep.any():
        raise ValueError("the truth mask has no labelled pixels (all equal ignore_label)")
    pred, truth = pred[keep], truth[keep]
    table, clusters, classes = contingency(pred, truth)  # rows: clusters, cols: classes
    rows, cols = linear_sum_assignment(-table)
    matching = {int(clusters[r]): int(classes[c]) for r, c in zip(rows, cols, strict=True)}
    matched = np.full(clusters.size, -1)
    matched[rows] = cols
    n = truth.size
    correct = int(table[rows, cols].sum())
    per_class: dict[str, Any] = {}
    for j, cls in enumerate(classes):
        r = np.flatnonzero(matched == j)
        tp = int(table[r[0], j]) if r.size else 0
        n_pred = int(table[r[0]].sum()) if r.size else 0
        n_true = int(table[:, j].sum())
        per_class[str(int(cls))] = {
            "cluster": int(clusters[r[0]]) if r.size else None,
            "precision": tp / n_pred if n_pred else 0.0,
            "recall": tp / n_true if n_true else 0.0,
            "iou": tp / (n_pred + n_true - tp) if (n_pred + n_true - tp) else 0.0,
            "n_pixels": n_true,
        }
    return {
        "n_pixels": int(n),
        "accuracy": correct / n,
        "ari": adjusted_rand_index(pred, truth),
        "per_class": per_class,
        "mean_iou": float(np.mean([v["iou"] for v in per_class.values()])),
        "matching": {str(k): v for k, v in matching.items()},
        "classes": classes.tolist(),
        "clusters": clusters.tolist(),
        "confusion": table.T.tolist(),
    }
