"""Spectral grouping of the ROI suggester: fingerprints, clustering, representatives, scoring.

Used by :func:`napari_unmix.core.suggest.find.find_suggestions`; the registries
:data:`GROUPINGS` and :data:`REPRESENTATIVES` drive the method choices of the API and the
widget. :func:`score_against_truth` compares suggestions with known abundance maps (tests,
demo, benchmark).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.hierarchy import cut_tree, linkage

from ..registry import Method, Registry

__all__ = [
    "GROUPINGS",
    "REPRESENTATIVES",
    "box_iou",
    "box_spectra",
    "choose_group_count",
    "dedupe_groups",
    "fingerprint_noise",
    "fingerprints",
    "merge_ratio",
    "mixture_residuals",
    "noise_dof",
    "pick_representatives",
    "prune_mixtures",
    "score_against_truth",
]


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with many (``(y0, x0, y1, x1)``, half-open).

    Examples
    --------
    >>> box_iou(np.array([0, 0, 2, 2]), np.array([[0, 0, 2, 2], [1, 1, 3, 3], [5, 5, 6, 6]]))
    array([1.        , 0.14285714, 0.        ])
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if boxes.size == 0:
        return np.zeros(0)
    ih = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iw = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ih * iw
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


# ----------------------------------------------------------------------------- grouping
def box_spectra(cube: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Mean spectrum (C,) of the cube inside every box, float32, shape (n, C); NaN pixels
    are skipped (a box of NaN pixels only gives NaN).

    Examples
    --------
    >>> box_spectra(np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4), np.array([[0, 0, 2, 2]]))
    array([[ 2.5, 18.5]], dtype=float32)
    """
    out = np.empty((len(boxes), cube.shape[0]), np.float32)
    for i, (y0, x0, y1, x1) in enumerate(boxes):  # one slice per box, not per pixel
        part = np.asarray(cube[:, y0:y1, x0:x1], np.float32)
        bad = np.isnan(part[0])
        if bad.any():
            part = part[:, ~bad] if (~bad).any() else np.full((len(part), 1), np.nan, np.float32)
        out[i] = part.reshape(len(part), -1).mean(axis=1)
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, np.finfo(np.float32).tiny)


def fingerprints(spectra: np.ndarray, /, *, gradient: bool = True) -> np.ndarray:
    """Unit-norm spectral fingerprints; with ``gradient`` the unit-norm first derivative is appended.

    The result has unit norm, so Euclidean distances (Ward) and cosines order pairs alike.

    Examples
    --------
    >>> fp = fingerprints(np.array([[1.0, 2.0, 1.0]]), gradient=True)
    >>> fp.shape, round(float(np.linalg.norm(fp)), 6)
    ((1, 6), 1.0)
    """
    spectra = np.asarray(spectra, np.float64)
    fp = _unit(spectra)
    if gradient and spectra.shape[1] > 1:
        fp = np.concatenate([fp, _unit(np.gradient(spectra, axis=1))], axis=1) / np.sqrt(2)
    return fp


def fingerprint_noise(
    spectra: np.ndarray, channel_noise: np.ndarray, n_pixels: np.ndarray, /, *, gradient: bool
) -> np.ndarray:
    """Expected noise (root of the summed variance) of each box's fingerprint.

    A box mean of ``n`` pixels has channel noise ``channel_noise / sqrt(n)``; dividing by the
    spectrum's norm gives the noise of its unit fingerprint, and the first derivative
    (central differences) carries half the variance over the derivative's norm.

    Examples
    --------
    >>> fingerprint_noise(np.array([[3.0, 4.0]]), np.array([1.0, 1.0]), np.array([4]),
    ...                   gradient=False).round(3).tolist()
    [0.141]
    """
    s = np.asarray(spectra, np.float64)
    var = float(np.sum(np.asarray(channel_noise, np.float64) ** 2)) / np.maximum(n_pixels, 1)
    tiny = np.finfo(np.float64).tiny
    out = var / np.maximum(np.sum(s * s, axis=1), tiny)
    if gradient and s.shape[1] > 1:
        g = np.gradient(s, axis=1)
        out = (out + 0.5 * var / np.maximum(np.sum(g * g, axis=1), tiny)) / 2.0
    return np.sqrt(out)


#: A Ward merge counts as a real spectral difference when its height exceeds this many
#: times the height two boxes of one spectrum reach by noise alone (the most: few channels).
NOISE_MERGE = 2.0
#: With ``dof`` independent noisy channels the noise-only height is a chi variable with
#: relative spread ``1 / sqrt(2 dof)``: a merge is real above ``1 + NOISE_Z / sqrt(2 dof)``
#: times the noise-only height (at most :data:`NOISE_MERGE`).
NOISE_Z = 4.0
#: Most groups the noise cut may make before mixtures are pruned.
AUTO_MAX_GROUPS = 24
#: A group whose mean spectrum is a non-negative combination of one or two other groups'
#: mean spectra up to this relative residual is a mixture, not a component of its own.
MIXTURE_RESIDUAL = 0.05


def noise_dof(channel_noise: np.ndarray, /) -> float:
    """Effective number of independent noisy channels, ``(Σσ²)² / Σσ⁴`` (unit-free).

    Examples
    --------
    >>> noise_dof(np.ones(10)), round(noise_dof(np.array([1.0, 1.0, 10.0])), 2)
    (10.0, 1.04)
    """
    v = np.asarray(channel_noise, np.float64) ** 2
    total = float(np.sum(v * v))
    return float(np.sum(v) ** 2 / total) if total > 0 else 1.0


def merge_ratio(dof: float | None) -> float:
    """How many times the noise-only merge height a real difference must reach:
    ``min(NOISE_MERGE, 1 + NOISE_Z / sqrt(2 dof))`` (:data:`NOISE_MERGE` without ``dof``).

    Examples
    --------
    >>> merge_ratio(None), merge_ratio(2.0), round(merge_ratio(128.0), 2)
    (2.0, 2.0, 1.25)
    """
    if dof is None:
        return NOISE_MERGE
    return float(min(NOISE_MERGE, 1.0 + NOISE_Z / np.sqrt(2.0 * max(dof, 1.0))))


def choose_group_count(
    fp: np.ndarray,
    noise: np.ndarray,
    /,
    *,
    max_groups: int = AUTO_MAX_GROUPS,
    dof: float | None = None,
) -> int:
    """Number of spectral groups: the Ward merges that noise cannot explain, plus one.

    Two boxes of one spectrum differ by noise only; in the Ward tree their merge height is
    about ``sqrt(2) * noise``, with a relative spread ``1 / sqrt(2 dof)`` over ``dof``
    independent noisy channels (:func:`noise_dof`). Every merge higher than
    :func:`merge_ratio` times that (median noise of the fingerprints) joins spectra that
    differ, so the tree is cut there (at most ``max_groups`` groups). This errs on the side
    of more groups: boxes on mixtures form groups of their own, which
    :func:`prune_mixtures` removes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> centres = np.eye(4)[[0, 0, 1, 1, 2, 2, 3, 3] * 3]
    >>> fp = centres + rng.normal(0, 0.01, centres.shape)
    >>> choose_group_count(fp, np.full(len(fp), 0.02))
    4
    >>> choose_group_count(fp[:, :1] * 0 + 1 + rng.normal(0, 0.01, (24, 1)), np.full(24, 0.02))
    1
    """
    n = len(fp)
    if n < 2:
        return n
    heights = linkage(fp, method="ward")[:, 2]
    floor = max(merge_ratio(dof) * np.sqrt(2.0) * float(np.median(noise)), 1e-9)
    return int(min(max_groups, 1 + np.sum(heights > floor)))


def mixture_residuals(centres: np.ndarray, /) -> np.ndarray:
    """Relative residual of every unit row of ``centres`` by the best non-negative
    combination of one or two of the other rows (closed form over all pairs).

    A box straddling two objects, or a group split off a component by noise, is such a
    combination; a pure component among many (as many components as channels) may be
    close to a combination of several others, but not of two.

    Examples
    --------
    >>> c = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.6, 0.8, 0], [0, 0, 1.0]])
    >>> mixture_residuals(c).round(3).tolist()
    [0.8, 0.6, 0.0, 1.0]
    """
    c = _unit(np.asarray(centres, np.float64))
    m = len(c)
    g = c @ c.T
    gp = np.clip(g, 0.0, None)
    best = 1.0 - gp**2  # one other row: the projection onto it
    np.fill_diagonal(best, np.inf)
    best = best.min(axis=1)
    # two other rows j, l for target i: solve [[1, g_jl], [g_jl, 1]] (a, b) = (g_ij, g_il)
    gij, gil, gjl = g[:, :, None], g[:, None, :], g[None, :, :]
    det = 1.0 - gjl**2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (gij - gjl * gil) / det
        b = (gil - gjl * gij) / det
        r2 = 1.0 - (a * gij + b * gil)
    idx = np.arange(m)
    ok = (a >= 0) & (b >= 0) & (det > 1e-9)
    ok &= (idx[:, None, None] != idx[None, :, None]) & (idx[:, None, None] != idx[None, None, :])
    r2 = np.where(ok, r2, np.inf).reshape(m, -1).min(axis=1) if m > 2 else np.full(m, np.inf)
    return np.sqrt(np.clip(np.minimum(best, r2), 0.0, None))


def prune_mixtures(
    spectra: np.ndarray,
    fp: np.ndarray,
    labels: np.ndarray,
    /,
    *,
    threshold: float = MIXTURE_RESIDUAL,
) -> np.ndarray:
    """Merge away groups whose mean spectrum is a mixture of the other groups' spectra.

    Repeatedly, the group whose unit mean spectrum one or two other groups' unit mean
    spectra fit best by a non-negative combination (:func:`mixture_residuals`) is dropped
    while that relative residual is below ``threshold``; the boxes of dropped groups join
    the remaining group of the closest fingerprint centre. Returns labels ``0 .. m-1``.

    Examples
    --------
    >>> s = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.5, 0.5, 0], [0, 0, 1.0]])
    >>> prune_mixtures(s, s, np.arange(4)).tolist()
    [0, 1, 0, 2]
    """
    labels = np.asarray(labels).copy()
    alive = list(np.unique(labels))
    while len(alive) > 2:
        resid = mixture_residuals(np.stack([spectra[labels == g].mean(axis=0) for g in alive]))
        i = int(np.argmin(resid))
        if resid[i] >= threshold:
            break
        labels[labels == alive.pop(i)] = -1
    dead = labels < 0
    if dead.any():
        centres = _unit(np.stack([fp[labels == g].mean(axis=0) for g in alive]))
        labels[dead] = np.asarray(alive)[np.argmax(fp[dead] @ centres.T, axis=1)]
    return np.searchsorted(np.asarray(alive), labels)


def _ward(fp: np.ndarray, n_groups: int, threshold: float) -> np.ndarray:
    if len(fp) == 1:
        return np.zeros(1, int)
    return cut_tree(linkage(fp, method="ward"), n_clusters=n_groups).ravel().astype(int)


def _greedy(fp: np.ndarray, n_groups: int, threshold: float) -> np.ndarray:
    labels = np.empty(len(fp), int)
    sums: list[np.ndarray] = []
    for i, f in enumerate(fp):  # candidates brightest first
        cos = [float(_unit(s) @ f) for s in sums]
        best = int(np.argmax(cos)) if cos else -1
        if best >= 0 and cos[best] >= threshold:
            labels[i] = best
            sums[best] = sums[best] + f
        else:
            labels[i] = len(sums)
            sums.append(f.copy())
    return labels


#: Groupings: ``function(fingerprints, n_groups, threshold) -> labels``.
GROUPINGS = Registry(
    "grouping",
    [
        Method(
            "hierarchical", _ward, "Ward (hierarchical)", "Ward linkage cut at exactly max_groups"
        ),
        Method(
            "greedy",
            _greedy,
            "Greedy cosine",
            "brightest first, join the most similar group if cosine >= similarity_threshold",
        ),
    ],
)


def _trimmed_centre(fp: np.ndarray) -> np.ndarray:
    """Unit centre of a group's fingerprints, trimmed: the mean of the members at or above
    the median cosine to the current centre (3 rounds), so that boxes on mixtures (usually a
    minority) pull it less."""
    c = _unit(fp.mean(axis=0))
    for _ in range(3):
        sim = fp @ c
        c = _unit(fp[sim >= np.median(sim)].mean(axis=0))
    return c


def _distinctive(fp: np.ndarray, centres: np.ndarray, own: int) -> np.ndarray:
    sim = fp @ centres.T
    others = np.delete(sim, own, axis=1)
    return sim[:, own] - (others.max(axis=1) if others.size else 0.0)


def _typical(fp: np.ndarray, centres: np.ndarray, own: int) -> np.ndarray:
    return fp @ centres[own]


#: Representative rules: ``function(fingerprints, group centres, own group) -> rank``.
REPRESENTATIVES = Registry(
    "representative",
    [
        Method(
            "distinctive",
            _distinctive,
            "Most distinctive",
            "largest margin between the cosine to the own group's (trimmed) centre and to the "
            "nearest other centre: a box straddling two structures lies between centres",
        ),
        Method(
            "typical",
            _typical,
            "Most typical",
            "highest cosine to the own group's (trimmed) centre",
        ),
    ],
)


def dedupe_groups(boxes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Keep-mask dropping boxes that overlap a brighter box of the same group."""
    keep = np.ones(len(boxes), bool)
    for i in range(len(boxes)):
        prev = np.nonzero(keep[:i] & (labels[:i] == labels[i]))[0]
        if prev.size and np.any(box_iou(boxes[i], boxes[prev]) > 0):
            keep[i] = False
    return keep


def pick_representatives(
    fp: np.ndarray,
    labels: np.ndarray,
    candidates: np.ndarray,
    /,
    *,
    max_groups: int,
    max_rois_per_group: int,
    representative: str = "distinctive",
) -> tuple[np.ndarray, np.ndarray]:
    """Choose the ROIs of every group among ``candidates`` (indices, brightest first).

    Groups are ordered by size (most candidates first; ties: the brightest box) and at most
    ``max_groups`` are kept; within each, the ``max_rois_per_group`` best boxes by the
    ``representative`` rule (:data:`REPRESENTATIVES`), with group centres trimmed so that
    boxes on mixtures pull them less.

    Returns
    -------
    idx : int array
        Chosen indices into ``fp``.
    groups : int array
        New group label (0, 1, ...) of each chosen box.

    Examples
    --------
    >>> fp = np.array([[1.0, 0.0], [0.0, 1.0], [0.99, 0.14], [0.6, 0.8]])
    >>> idx, g = pick_representatives(fp, np.array([0, 1, 0, 1]), np.arange(4),
    ...                               max_groups=2, max_rois_per_group=1)
    >>> idx.tolist(), g.tolist()
    ([0, 1], [0, 1])
    """
    if representative not in REPRESENTATIVES:
        raise ValueError(
            f"representative must be one of {sorted(REPRESENTATIVES)}, got {representative=}"
        )
    kept_labels = labels[candidates]
    order = list(dict.fromkeys(kept_labels.tolist()))  # brightest first
    sizes = np.bincount(kept_labels)
    order = sorted(order, key=lambda g: -sizes[g])[:max_groups]  # stable: ties by brightness
    centres = np.stack([_trimmed_centre(fp[candidates[kept_labels == g]]) for g in order])
    idx_parts, group_parts = [], []
    for new, old in enumerate(order):
        members = candidates[kept_labels == old]
        rank = REPRESENTATIVES[representative].function(fp[members], centres, new)
        best = members[np.argsort(-rank, kind="stable")[:max_rois_per_group]]
        idx_parts.append(best)
        group_parts.append(np.full(len(best), new))
    return np.concatenate(idx_parts).astype(int), np.concatenate(group_parts).astype(int)


# ----------------------------------------------------------------------------- scoring
def score_against_truth(
    boxes: np.ndarray,
    groups: np.ndarray,
    abundances: np.ndarray,
    /,
    *,
    dominance: float = 0.6,
    min_abundance: float = 0.1,
) -> dict[str, Any]:
    """Compare suggestions with ground-truth abundance maps (k × Y × X).

    A box is *dominated* by component ``j`` when ``j`` holds at least ``dominance`` of the
    summed true abundance inside it. A component is *found* when some box is dominated by
    it; a group is *pure* when all its boxes are dominated by the same component. A box
    on empty background is dominated by nothing: the dominating component's mean
    abundance inside the box must be at least ``min_abundance`` × its maximum.

    Returns
    -------
    dict
        ``dominant`` (per box, -1 if none), ``components_found`` (sorted list),
        ``n_found``, ``n_groups``, ``n_pure_groups``.

    Examples
    --------
    >>> ab = np.zeros((2, 10, 10)); ab[0, :5] = 1; ab[1, 5:] = 1
    >>> s = score_against_truth(np.array([[0, 0, 4, 4], [6, 0, 9, 9]]), np.array([0, 0]), ab)
    >>> s["components_found"], s["n_pure_groups"]
    ([0, 1], 0)
    """
    boxes = np.asarray(boxes, int).reshape(-1, 4)
    groups = np.asarray(groups, int).reshape(-1)
    dominant = np.full(len(boxes), -1, int)
    peak = np.asarray(abundances, np.float64).reshape(len(abundances), -1).max(axis=1)
    for i, (y0, x0, y1, x1) in enumerate(boxes):
        mass = np.asarray(abundances[:, y0:y1, x0:x1], np.float64).sum(axis=(1, 2))
        j = int(np.argmax(mass))
        mean_j = mass[j] / max((y1 - y0) * (x1 - x0), 1)
        if mass[j] > 0 and mass[j] >= dominance * mass.sum() and mean_j >= min_abundance * peak[j]:
            dominant[i] = j
    found = sorted({int(d) for d in dominant if d >= 0})
    pure = 0
    for g in np.unique(groups):
        members = dominant[groups == g]
        pure += int(members[0] >= 0 and np.all(members == members[0]))
    return {
        "dominant": dominant.tolist(),
        "components_found": found,
        "n_found": len(found),
        "n_groups": len(np.unique(groups)),
        "n_pure_groups": pure,
    }
