"""Candidate boxes of the ROI suggester: response maps, the threshold sweep, noise tests.

:data:`PROJECTIONS` (a :class:`~napari_unmix.core.registry.Registry`) turns the cube into
one or a few response maps; :func:`candidate_boxes` finds boxes on each by the
multi-threshold sweep; :func:`box_contrast_snr` drops boxes on noise.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import block_reduce

from ..background import pixel_noise, smooth_background
from ..registry import Method, Registry
from .groups import box_iou

__all__ = [
    "BACKGROUND_PER_RADIUS",
    "CANDIDATE_SNR",
    "CORE_FRACTION",
    "PROJECTIONS",
    "box_contrast_snr",
    "candidate_boxes",
    "channel_noise",
    "processed_cube",
    "response_maps",
]

#: Fraction of a peak's value that defines its core (the box is the core's bounding box).
CORE_FRACTION = 0.72
#: Box padding (binned pixels) around a peak's core.
BOX_PAD = 2
#: IoU at or above which a box is a duplicate of an accepted box of the same blob / any level.
IOU_SAME_BLOB = 0.60
IOU_ACROSS_SWEEP = 0.45
#: Number of threshold levels in the sweep, lowest relative level, percentile floors.
N_LEVELS = 8
LOWEST_LEVEL = 0.08
PERCENTILE_FLOORS = (75.0, 15.0)
#: With ``local_background_sigma=None`` the sigma is this many times the object radius
#: estimated from the image (:func:`napari_unmix.core.background.object_scale`); chosen on
#: the scenario table of ``benchmarks/bench_suggest_scenarios.py``.
BACKGROUND_PER_RADIUS = 0.7
#: A candidate box is kept when its mean contrast over the local background (average
#: projection) is at least this many times the noise of a mean over its pixels: boxes on
#: noise are dropped before grouping.
CANDIDATE_SNR = 5.0


# ----------------------------------------------------------------------------- projections
def _average(cube: np.ndarray, *, frame: int, n_bands: int) -> np.ndarray:
    return cube.mean(axis=0, dtype=np.float32)[None]


def _balanced(cube: np.ndarray, *, frame: int, n_bands: int) -> np.ndarray:
    flat = cube.reshape(cube.shape[0], -1)
    lo, hi = np.percentile(flat, [1, 99], axis=1)
    span = np.maximum(hi - lo, np.finfo(np.float32).tiny)
    norm = (flat - lo[:, None]) / span[:, None]  # each channel contrast-normalised
    weights = norm.var(axis=1)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    out = (weights[:, None] * norm).sum(axis=0) / weights.sum()
    return out.reshape(1, *cube.shape[1:]).astype(np.float32)


def _multiband(cube: np.ndarray, *, frame: int, n_bands: int) -> np.ndarray:
    bands = np.array_split(np.arange(cube.shape[0]), min(n_bands, cube.shape[0]))
    return np.stack([cube[b].mean(axis=0, dtype=np.float32) for b in bands])


def _max(cube: np.ndarray, *, frame: int, n_bands: int) -> np.ndarray:
    return cube.max(axis=0)[None].astype(np.float32)


def _current_frame(cube: np.ndarray, *, frame: int, n_bands: int) -> np.ndarray:
    if not 0 <= frame < cube.shape[0]:
        raise ValueError(f"frame must be in 0..{cube.shape[0] - 1}, got {frame=}")
    return cube[frame][None].astype(np.float32)


#: Projections: ``function(cube, frame=, n_bands=) -> (bands, Y, X)``.
PROJECTIONS = Registry(
    "projection",
    [
        Method("average", _average, "Average", "mean over all channels"),
        Method(
            "balanced",
            _balanced,
            "Balanced",
            "each channel contrast-normalised (1st-99th percentile), averaged with weights "
            "proportional to its spatial variance",
        ),
        Method(
            "multiband",
            _multiband,
            "Multi-band",
            "channel axis split into `n_bands` bands, candidates found per band and merged",
        ),
        Method("max", _max, "Maximum", "maximum over channels"),
        Method("current_frame", _current_frame, "Current frame", "the channel given by `frame`"),
    ],
)


def _local_background(img: np.ndarray, sigma: float) -> np.ndarray:
    return ndi.gaussian_filter(img, sigma, mode="nearest") if sigma > 0 else np.zeros_like(img)


def processed_cube(cube: np.ndarray, *, local_background_sigma: float = 8.0) -> np.ndarray:
    """Per-channel local-background-subtracted cube (negatives clipped), float32.

    Examples
    --------
    >>> processed_cube(np.ones((2, 8, 8), np.float32)).max()
    np.float32(0.0)
    """
    sigma = (0, local_background_sigma, local_background_sigma)
    bg = ndi.gaussian_filter(cube, sigma, mode="nearest") if local_background_sigma > 0 else 0
    return np.clip(cube - bg, 0, None).astype(np.float32)


def response_maps(
    cube: np.ndarray,
    /,
    *,
    projection: str = "average",
    local_background_sigma: float = 8.0,
    frame: int = 0,
    n_bands: int = 3,
) -> np.ndarray:
    """Response maps (bands × Y × X) of a C×Y×X cube: projection, background, contrast.

    Each map is the projection minus its Gaussian blur (``local_background_sigma`` px),
    clipped at zero, divided by the local RMS of the result (sigma ``2 ×
    local_background_sigma``, floored at 10 % of its maximum so flat noise stays low),
    and scaled to a maximum of 1.

    Examples
    --------
    >>> cube = np.zeros((3, 32, 32), np.float32); cube[:, 10:14, 10:14] = 1
    >>> m = response_maps(cube)
    >>> m.shape, float(m.max()), bool(m[0, 12, 12] > 0.5 > m[0, 25, 25])
    ((1, 32, 32), 1.0, True)
    """
    return response_and_brightness(
        cube,
        projection=projection,
        local_background_sigma=local_background_sigma,
        frame=frame,
        n_bands=n_bands,
    )[0]


def response_and_brightness(
    cube: np.ndarray, *, projection: str, local_background_sigma: float, frame: int, n_bands: int
) -> tuple[np.ndarray, np.ndarray]:
    """Response maps and brightness maps (background-subtracted projection, no contrast step)."""
    if projection not in PROJECTIONS:
        raise ValueError(f"projection must be one of {sorted(PROJECTIONS)}, got {projection=}")
    maps = PROJECTIONS[projection].function(cube, frame=frame, n_bands=n_bands)
    out = np.empty_like(maps, dtype=np.float32)
    bright = np.empty_like(maps, dtype=np.float32)
    for i, m in enumerate(maps):  # a few bands at most
        r = np.clip(m - _local_background(m, local_background_sigma), 0, None)
        bright[i] = r / max(float(r.max()), np.finfo(np.float32).tiny)
        if local_background_sigma > 0:
            rms = np.sqrt(ndi.gaussian_filter(r * r, 2 * local_background_sigma, mode="nearest"))
            r = r / np.maximum(rms, 0.1 * float(rms.max()) + np.finfo(np.float32).tiny)
        top = float(r.max())
        out[i] = r / top if top > 0 else r
    return out, bright


# ----------------------------------------------------------------------------- candidates
def _sweep_levels(smooth: np.ndarray, peak_threshold: float) -> np.ndarray:
    top = float(smooth.max())
    pos = smooth[smooth > 0]
    rel = np.linspace(peak_threshold, LOWEST_LEVEL, N_LEVELS) * top
    floors = np.percentile(pos, np.linspace(*PERCENTILE_FLOORS, N_LEVELS)) if pos.size else rel
    return np.maximum(rel, floors)


def candidate_boxes(
    response: np.ndarray,
    /,
    *,
    binning: int = 1,
    peak_sigma: float = 1.0,
    peak_threshold: float = 0.65,
    min_area: int = 3,
    min_diagonal: float = 0.0,
    max_candidates: int | None = None,
    brightness: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate boxes on one response map by the multi-threshold sweep.

    With ``max_candidates`` the sweep stops after the first level that brings the count
    to at least that many: a lower level can only add peaks dimmer than every box found
    so far (and re-cut boxes of peaks already found), which the brightness-ranked pool
    cap would drop anyway. This keeps large noisy images fast.

    Returns
    -------
    boxes : (n, 4) int array
        ``(y0, x0, y1, x1)`` at full resolution, brightest first.
    scores : (n,) float32 array
        Peak value of each box on the smoothed, binned brightness (or response) map.

    Examples
    --------
    >>> img = np.zeros((40, 40), np.float32); img[8:14, 8:14] = 1; img[25:30, 25:30] = 0.25
    >>> boxes, scores = candidate_boxes(img)
    >>> boxes.tolist(), [round(float(v), 2) for v in scores]
    ([[7, 7, 15, 15], [24, 24, 31, 31]], [0.99, 0.25])
    """
    b = max(int(binning), 1)
    small = block_reduce(response, (b, b), np.mean) if b > 1 else response
    smooth = ndi.gaussian_filter(small, peak_sigma) if peak_sigma > 0 else small
    if not np.any(smooth > 0):
        return np.zeros((0, 4), int), np.zeros(0, np.float32)
    if brightness is None:
        bright = smooth
    else:
        bright = block_reduce(brightness, (b, b), np.mean) if b > 1 else brightness
        bright = ndi.gaussian_filter(bright, peak_sigma) if peak_sigma > 0 else bright
    is_peak = (smooth == ndi.maximum_filter(smooth, size=3)) & (smooth > 0)
    peak_y, peak_x = np.nonzero(is_peak)
    peak_v = smooth[peak_y, peak_x]
    order = np.argsort(-peak_v, kind="stable")  # brightest first
    peak_y, peak_x, peak_v = peak_y[order], peak_x[order], peak_v[order]
    # level at which each peak's core was last computed; its core cannot change while
    # CORE_FRACTION * value stays above that level, so it is not recomputed (same boxes)
    done_at = np.full(len(peak_v), np.inf)  # inf: not computed yet
    shape = np.array(smooth.shape * 2)
    accepted = np.zeros((0, 4), int)
    scores: list[float] = []
    for level in _sweep_levels(smooth, peak_threshold):
        labels, n = ndi.label(smooth >= level)
        if n == 0:
            continue
        areas = np.bincount(labels.ravel(), minlength=n + 1)
        objects = ndi.find_objects(labels)
        peak_lab = labels[peak_y, peak_x]
        todo = (peak_lab > 0) & (areas[peak_lab] >= min_area)
        todo &= ~(CORE_FRACTION * peak_v >= done_at)  # False while done_at is inf
        done_at[todo] = level
        blob_of = np.full(len(accepted), -1)  # blob (at this level) of every accepted box
        for j in np.nonzero(todo)[0]:  # brightest first
            lab = int(peak_lab[j])
            sl = objects[lab - 1]
            blob = labels[sl] == lab
            core_lab, _ = ndi.label(blob & (smooth[sl] >= CORE_FRACTION * peak_v[j]))
            ys, xs = np.nonzero(
                core_lab == core_lab[peak_y[j] - sl[0].start, peak_x[j] - sl[1].start]
            )
            box = np.clip(
                np.array(
                    [
                        ys.min() + sl[0].start - BOX_PAD,
                        xs.min() + sl[1].start - BOX_PAD,
                        ys.max() + sl[0].start + 1 + BOX_PAD,
                        xs.max() + sl[1].start + 1 + BOX_PAD,
                    ]
                ),
                0,
                shape,
            )
            # duplicates: IoU >= 0.60 with a box of the same blob (this level) or >= 0.45
            # with any other accepted box (other blobs, earlier levels)
            limit = np.where(blob_of == lab, IOU_SAME_BLOB, IOU_ACROSS_SWEEP)
            if np.any(box_iou(box, accepted) >= limit):
                continue
            accepted = np.vstack([accepted, box[None]])
            blob_of = np.append(blob_of, lab)
            scores.append(float(bright[peak_y[j], peak_x[j]]))
        if max_candidates is not None and len(accepted) >= max_candidates:
            break
    if not len(accepted):
        return np.zeros((0, 4), int), np.zeros(0, np.float32)
    boxes = accepted * b
    boxes[:, 2:] = np.minimum(boxes[:, 2:], response.shape)
    diag = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    keep = diag >= min_diagonal
    order = np.argsort(-np.asarray(scores)[keep], kind="stable")
    return boxes[keep][order].astype(int), np.asarray(scores, np.float32)[keep][order]


def merge_bands(per_band: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Union of the bands' candidates, brightest first, spatial duplicates suppressed."""
    boxes = np.concatenate([bx for bx, _ in per_band]) if per_band else np.zeros((0, 4), int)
    scores = np.concatenate([s for _, s in per_band]) if per_band else np.zeros(0, np.float32)
    order = np.argsort(-scores, kind="stable")
    b = boxes[order].astype(np.float64)
    # all pairwise IoUs at once (n is the capped pool), then the greedy pass over n only
    ih = np.clip(
        np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None
    )
    iw = np.clip(
        np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None
    )
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    inter = ih * iw
    overlap = inter / np.maximum(area[:, None] + area[None, :] - inter, 1e-12) >= IOU_ACROSS_SWEEP
    keep = np.zeros(len(b), bool)
    for i in range(len(b)):
        keep[i] = not np.any(overlap[i, :i] & keep[:i])
    return boxes[order[keep]].reshape(-1, 4), scores[order[keep]]


def unit_free(cube: np.ndarray) -> tuple[np.ndarray, float]:
    """float32 copy divided by the largest finite magnitude, and that scale: every step
    after this is unit-free, and 1e30 or 1e-30 data neither overflow nor underflow."""
    arr = np.asarray(cube)
    if arr.size == 0 or (arr.dtype.kind == "f" and np.isnan(arr).all()):
        scale = 0.0
    else:  # no copy of the cube: the largest magnitude from the max and the min
        scale = max(float(np.nanmax(arr)), -float(np.nanmin(arr)))
    if not 0 < scale < np.inf:
        scale = 1.0
    scale = float(2.0 ** np.round(np.log2(scale)))  # a power of two: the division is exact
    return (arr / scale).astype(np.float32), scale


def fill_nan(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NaN pixels (NaN in any channel) replaced by the channel medians, and their mask."""
    bad = np.isnan(data).any(axis=0)
    if not bad.any():
        return data, bad
    filled = data.copy()
    filled[:, bad] = np.median(data[:, ~bad], axis=1)[:, None]
    return filled, bad


def channel_noise(data: np.ndarray, /, *, max_pixels: int = 65536) -> np.ndarray:
    """Per-channel pixel noise of a C×Y×X cube from horizontal neighbour differences (MAD),
    on at most ``max_pixels`` pixels (whole rows).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = channel_noise(rng.normal(0, [[[1.0]], [[3.0]]], (2, 64, 64)))
    >>> bool(np.allclose(noise, [1.0, 3.0], rtol=0.1))
    True
    """
    step = max(1, data.shape[1] * data.shape[2] // max_pixels)
    d = np.diff(np.asarray(data[:, ::step], np.float64), axis=2).reshape(len(data), -1)
    med = np.median(d, axis=1, keepdims=True)
    return 1.4826 * np.median(np.abs(d - med), axis=1) / np.sqrt(2.0)


def box_contrast_snr(image: np.ndarray, boxes: np.ndarray, /, *, radius: float) -> np.ndarray:
    """Signal-to-noise ratio of every box's mean contrast on a 2-D image.

    Contrast is the image minus its smooth background with the objects (of ``radius`` px)
    excluded (:func:`napari_unmix.core.background.smooth_background`); the noise of a box
    mean is the image's pixel noise over the root of the box's pixel count (summed-area
    table, no loop over pixels).

    Examples
    --------
    >>> img = np.random.default_rng(0).normal(0, 1, (64, 64)); img[10:20, 10:20] += 3
    >>> snr = box_contrast_snr(img, np.array([[10, 10, 20, 20], [40, 40, 50, 50]]), radius=5)
    >>> bool(snr[0] > 20), bool(abs(snr[1]) < 3)
    (True, True)
    """
    img = np.asarray(image, np.float64)
    contrast = img - smooth_background(img, radius=radius)
    table = np.pad(contrast.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    y0, x0, y1, x1 = np.asarray(boxes, int).reshape(-1, 4).T
    n = np.maximum((y1 - y0) * (x1 - x0), 1)
    total = table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]
    return total / n / (pixel_noise(img) / np.sqrt(n))
