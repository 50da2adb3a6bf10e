"""The ROI suggester's driver: :class:`SuggestOptions`, :class:`Suggestions` and
:func:`find_suggestions` (response map -> candidates -> spectral groups)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..background import object_scale
from ..options import Options, OptionSpec, option, takes_options
from ..result import Result, ResultLayer
from ..validate import OptionError
from . import groups as grouping
from .candidates import (
    BACKGROUND_PER_RADIUS,
    CANDIDATE_SNR,
    PROJECTIONS,
    box_contrast_snr,
    candidate_boxes,
    channel_noise,
    fill_nan,
    merge_bands,
    processed_cube,
    response_and_brightness,
    unit_free,
)

__all__ = ["SuggestOptions", "Suggestions", "find_suggestions"]


@dataclass(frozen=True)
class SuggestOptions(Options):
    """Options of the ROI suggester (see :func:`napari_unmix.suggest_rois` for each)."""

    projection: str = option("average", label="projection", doc="how channels become one response map",
                             choices=PROJECTIONS)  # fmt: skip
    processed: bool = option(False, label="use background-subtracted data",
                             doc="work on the per-channel background-subtracted cube")  # fmt: skip
    local_background_sigma: float | None = option(
        None, label="local background σ (px)",
        doc="Gaussian sigma of the background removed from the response map (None: estimated)",
        bounds=(0.0, None), unit="px",
    )  # fmt: skip
    binning: int = option(1, label="binning", doc="block-mean binning before peak finding",
                          bounds=(1, None), advanced=True)  # fmt: skip
    peak_sigma: float = option(1.0, label="peak smoothing σ", doc="smoothing before local maxima",
                               bounds=(0.0, None), advanced=True)  # fmt: skip
    peak_threshold: float = option(0.65, label="peak threshold",
                                   doc="top of the threshold sweep, relative to the maximum",
                                   bounds=(0.0, 1.0))  # fmt: skip
    min_area: int = option(3, label="min area (px²)", doc="smallest connected component kept",
                           bounds=(1, None), advanced=True)  # fmt: skip
    min_diagonal: float = option(0.0, label="min diagonal (px)", doc="drop shorter boxes",
                                 bounds=(0.0, None), advanced=True)  # fmt: skip
    max_groups: int | None = option(None, label="groups", doc="spectral groups (None: from the data)",
                                    bounds=(1, None))  # fmt: skip
    max_rois_per_group: int = option(1, label="ROIs per group", doc="ROIs returned per group",
                                     bounds=(1, None))  # fmt: skip
    pool_factor: int = option(16, label="pool factor", doc="candidate pool per wanted ROI",
                              bounds=(1, None), advanced=True)  # fmt: skip
    gradient_fingerprint: bool = option(True, label="gradient fingerprint",
                                        doc="fingerprint with the first derivative", advanced=True)  # fmt: skip
    hierarchical: bool = option(True, label="hierarchical (Ward)",
                                doc="Ward grouping (else greedy cosine)")  # fmt: skip
    similarity_threshold: float = option(0.82, label="similarity (greedy)",
                                         doc="greedy grouping: smallest cosine to join",
                                         bounds=(-1.0, 1.0), advanced=True)  # fmt: skip
    merge_duplicates: bool = option(True, label="merge duplicates",
                                    doc="drop boxes overlapping a brighter box of the group", advanced=True)  # fmt: skip
    representative: str = option("distinctive", label="ROIs per group are the",
                                 doc="which boxes represent a group", choices=grouping.REPRESENTATIVES)  # fmt: skip
    frame: int = option(0, label="frame", doc="channel of projection='current_frame'",
                        bounds=(0, None), advanced=True)  # fmt: skip
    n_bands: int = option(3, label="bands", doc="bands of projection='multiband'",
                          bounds=(1, None), advanced=True)  # fmt: skip

    @classmethod
    def check(cls, spec: OptionSpec, value: Any) -> Any:
        """The base rules, after the ranges they cannot say (open ends, a cosine) with the
        wording the suggester has always used."""
        rule = _OWN_RANGES.get(spec.name)
        real = isinstance(value, int | float) and not isinstance(value, bool)
        if rule is not None and real and not rule[0](value):
            raise OptionError(rule[1].format(value))
        return super().check(spec, value)


_OWN_RANGES = {
    "local_background_sigma": (
        lambda v: np.isfinite(v) and v >= 0,
        "local_background_sigma must be >= 0 px (or None: estimated from the image), got {!r}",
    ),
    "peak_threshold": (lambda v: 0 < v <= 1, "peak_threshold must be in (0, 1], got {!r}"),
    "similarity_threshold": (
        lambda v: -1 <= v <= 1,
        "similarity_threshold is a cosine in [-1, 1], got {!r}",
    ),
}


@dataclass
class Suggestions:
    """Suggested ROIs and their spectral groups.

    Attributes
    ----------
    boxes : (n, 4) int array
        ``(y0, x0, y1, x1)`` in full-resolution pixels, half-open (``y1``/``x1`` excluded).
    groups : (n,) int array
        Group label per box, ``0 .. n_groups-1``; group 0 holds the brightest box.
    spectra : (n, C) float32 array
        Mean spectrum of the (raw or processed) cube inside each box.
    scores : (n,) float32 array
        Peak brightness of each box on the response map (the ranking key).
    response : (Y, X) float32 array
        The response map (first band for ``projection="multiband"``), at full resolution.
    parameters : dict
        Every setting of the run.
    notes : list of str
        What the user should know (no candidates, fewer candidates than groups, ...).
    estimated : dict
        Settings estimated from the data when left at None: ``object_radius`` (px),
        ``local_background_sigma`` (px), ``n_groups``; and ``nan_pixels``.
    report : dict
        Provenance record (filled by :func:`napari_unmix.suggest_rois`).
    """

    boxes: np.ndarray
    groups: np.ndarray
    spectra: np.ndarray
    scores: np.ndarray
    response: np.ndarray
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    estimated: dict[str, Any] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        """Number of distinct groups."""
        return len(np.unique(self.groups))

    def __len__(self) -> int:
        return len(self.boxes)

    def to_result(self, source: str = "") -> Result:
        """A Shapes layer of the boxes (rectangle corners; ``extra["groups"]``) and the
        response map, with the report."""
        rects = [
            np.array([[y0, x0], [y0, x1], [y1, x1], [y1, x0]], dtype=float)
            for y0, x0, y1, x1 in np.asarray(self.boxes).reshape(-1, 4)
        ]
        layers = [
            ResultLayer("suggested ROIs", rects, kind="shapes", axes="YX", role="rois",
                        extra={"groups": np.asarray(self.groups)}),
            ResultLayer("response", self.response, colormap="gray", axes="YX", role="response"),
        ]  # fmt: skip
        return Result("suggest", layers, report=self.report, source=source,
                      tables={"spectra": self.spectra, "scores": self.scores})  # fmt: skip


@takes_options(SuggestOptions)
def find_suggestions(cube: np.ndarray, /, *, options: SuggestOptions) -> Suggestions:
    """Suggest seed ROIs in a C×Y×X cube and group them by spectral similarity.

    See :func:`napari_unmix.suggest_rois` for the parameters (this is its validated core,
    without the provenance report and warnings). ``local_background_sigma=None`` uses
    :data:`BACKGROUND_PER_RADIUS` times the object radius estimated from the image;
    ``max_groups=None`` chooses the group count by
    :func:`~napari_unmix.core.suggest.groups.choose_group_count` (at most
    :data:`~napari_unmix.core.suggest.groups.AUTO_MAX_GROUPS`) and merges mixtures away
    (:func:`~napari_unmix.core.suggest.groups.prune_mixtures`). The spectra are in the cube's unit; everything else does
    not depend on it.
    """
    o = options
    params = o.as_dict()
    raw, scale = unit_free(cube)
    filled, nan_px = fill_nan(raw)
    estimated: dict[str, Any] = {"nan_pixels": int(nan_px.sum())}
    sigma = o.local_background_sigma
    mean_image = filled.mean(axis=0, dtype=np.float64)
    if sigma is None:
        radius = object_scale(mean_image)
        sigma = BACKGROUND_PER_RADIUS * radius
        estimated.update(object_radius=round(radius, 2), local_background_sigma=round(sigma, 2))
    else:
        radius = max(sigma / BACKGROUND_PER_RADIUS, 1.5)
    data = processed_cube(filled, local_background_sigma=sigma) if o.processed else filled
    maps, bright = response_and_brightness(
        data,
        projection=o.projection,
        local_background_sigma=sigma,
        frame=o.frame,
        n_bands=o.n_bands,
    )
    kw = {
        "binning": o.binning,
        "peak_sigma": o.peak_sigma,
        "peak_threshold": o.peak_threshold,
        "min_area": o.min_area,
        "min_diagonal": o.min_diagonal,
    }
    pool = (o.max_groups or grouping.AUTO_MAX_GROUPS) * o.max_rois_per_group * o.pool_factor
    boxes, scores = merge_bands(
        [
            candidate_boxes(m, max_candidates=pool, brightness=bm, **kw)
            for m, bm in zip(maps, bright, strict=True)
        ]
    )
    boxes, scores = boxes[:pool], scores[:pool]
    notes: list[str] = []
    significant = box_contrast_snr(mean_image, boxes, radius=radius) >= CANDIDATE_SNR
    if len(boxes) and not significant.all():
        estimated["boxes_on_noise"] = int((~significant).sum())
        boxes, scores = boxes[significant], scores[significant]
    if nan_px.any():
        notes.append(f"{int(nan_px.sum())} NaN pixel(s) ignored (filled for the response map)")
    n_c = cube.shape[0]
    spectra = grouping.box_spectra(np.where(nan_px, np.nan, data) if nan_px.any() else data, boxes)
    usable = np.isfinite(spectra).all(axis=1)  # a box of NaN pixels only
    boxes, scores, spectra = boxes[usable], scores[usable], spectra[usable]
    if len(boxes) == 0:
        notes.append(
            "no candidates: the response map has no structure above the thresholds; "
            "lower peak_threshold or min_area, or use another projection"
        )
        empty = np.zeros((0, 4), int), np.zeros(0, int), np.zeros((0, n_c), np.float32)
        return Suggestions(
            *empty, np.zeros(0, np.float32), maps[0], params, notes, estimated=estimated
        )
    fp = grouping.fingerprints(spectra, gradient=o.gradient_fingerprint)
    if o.max_groups is None:
        n_pixels = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        sigma_c = channel_noise(data)
        noise = grouping.fingerprint_noise(
            spectra, sigma_c, n_pixels, gradient=o.gradient_fingerprint
        )
        dof = grouping.noise_dof(sigma_c)
        n_groups = grouping.choose_group_count(fp, noise, dof=dof) if o.hierarchical else len(boxes)
    else:
        n_groups = min(o.max_groups, len(boxes))
        if n_groups < o.max_groups:
            notes.append(
                f"only {len(boxes)} candidates for max_groups={o.max_groups}: made {n_groups} groups; "
                "lower peak_threshold/min_area or ask for fewer groups"
            )
    method = "hierarchical" if o.hierarchical else "greedy"
    labels = grouping.GROUPINGS[method].function(fp, n_groups, o.similarity_threshold)
    if o.max_groups is None:
        labels = grouping.prune_mixtures(spectra, fp, labels) if o.hierarchical else labels
        estimated["n_groups"] = int(labels.max()) + 1
    keep = (
        grouping.dedupe_groups(boxes, labels) if o.merge_duplicates else np.ones(len(boxes), bool)
    )
    idx, groups = grouping.pick_representatives(
        fp,
        labels,
        np.nonzero(keep)[0],
        max_groups=o.max_groups or len(boxes),
        max_rois_per_group=o.max_rois_per_group,
        representative=o.representative,
    )
    return Suggestions(
        boxes[idx].astype(int),
        groups,
        (spectra[idx] * np.float32(scale)).astype(np.float32),
        scores[idx].astype(np.float32),
        maps[0],
        params,
        notes,
        estimated=estimated,
    )
