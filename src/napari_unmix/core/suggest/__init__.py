"""ROI suggester: find seed regions in a C×Y×X cube and group them by spectral similarity.

Three steps, driven by :class:`SuggestOptions` (:mod:`.find`); candidates in :mod:`.candidates`,
grouping in :mod:`.groups`:

1. **Response map** — a projection of the cube (:data:`PROJECTIONS`), minus a
   Gaussian-blurred copy (``local_background_sigma``) to remove illumination gradients,
   negatives clipped, then normalised for local contrast.
2. **Candidates** — block-mean binning, Gaussian peak smoothing, local maxima, and a
   multi-threshold sweep (8 levels from ``peak_threshold`` down to ~8 % of the maximum,
   with a percentile floor dropping from the 75th to the 15th percentile of the positive
   values). At each level: connected components, per peak a core box (pixels above 72 % of
   the peak), IoU de-duplication. The pool is capped and ranked by peak brightness.
3. **Spectral grouping** — fingerprints of the box-mean spectra (optionally with their
   first derivative), Ward linkage cut at exactly ``max_groups`` clusters, or greedy
   cosine grouping.

Nothing here imports napari, Qt or matplotlib; :func:`napari_unmix.suggest_rois` adds the
provenance report and input validation for scripts.

Examples
--------
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(64, 64), n_channels=32)
>>> res = find_suggestions(cube, max_groups=4)
>>> res.boxes.shape[1], len(set(res.groups.tolist()))
(4, 4)
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the doctests of the package)

from .candidates import (
    BACKGROUND_PER_RADIUS,
    CANDIDATE_SNR,
    CORE_FRACTION,
    PROJECTIONS,
    box_contrast_snr,
    candidate_boxes,
    channel_noise,
    processed_cube,
    response_maps,
)
from .find import Suggestions, SuggestOptions, find_suggestions
from .groups import (
    AUTO_MAX_GROUPS,
    GROUPINGS,
    REPRESENTATIVES,
    box_iou,
    box_spectra,
    choose_group_count,
    dedupe_groups,
    fingerprint_noise,
    fingerprints,
    pick_representatives,
    prune_mixtures,
    score_against_truth,
)

__all__ = [
    "AUTO_MAX_GROUPS",
    "BACKGROUND_PER_RADIUS",
    "CANDIDATE_SNR",
    "CORE_FRACTION",
    "GROUPINGS",
    "PROJECTIONS",
    "REPRESENTATIVES",
    "SuggestOptions",
    "Suggestions",
    "box_contrast_snr",
    "box_iou",
    "box_spectra",
    "candidate_boxes",
    "channel_noise",
    "choose_group_count",
    "dedupe_groups",
    "find_suggestions",
    "fingerprint_noise",
    "fingerprints",
    "pick_representatives",
    "processed_cube",
    "prune_mixtures",
    "response_maps",
    "score_against_truth",
]
