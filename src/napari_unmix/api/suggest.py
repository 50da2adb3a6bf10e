"""Script entry point of the ROI suggester: :func:`suggest_rois`.

Examples
--------
>>> from napari_unmix import make_bead_cube, suggest_rois
>>> cube, truth = make_bead_cube(shape=(64, 64), n_channels=32)
>>> res = suggest_rois(cube, max_groups=3)
>>> res.boxes.shape, res.report["tool"]
((3, 4), 'suggest_rois')
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from ..core.options import takes_options
from ..core.report import describe_array, start_report
from ..core.suggest import (
    GROUPINGS,
    PROJECTIONS,
    REPRESENTATIVES,
    Suggestions,
    SuggestOptions,
    find_suggestions,
)
from ..core.validate import check_array

__all__ = ["SuggestOptions", "Suggestions", "suggest_rois"]


def _check(cube: Any) -> np.ndarray:
    if not hasattr(cube, "shape") or len(cube.shape) != 3:
        shape = getattr(cube, "shape", None)
        raise ValueError(
            f"expected a C×Y×X cube (3 dimensions), got shape={shape}; for a 2-D image stack "
            "its channels first, for Z/T data pass one slice (e.g. cube[t, z])"
        )
    if cube.shape[1] < 4 or cube.shape[2] < 4:
        raise ValueError(f"the image is too small for ROIs: {cube.shape=} (need Y, X >= 4)")
    data = np.asarray(cube)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"the cube must hold real numbers, got dtype {data.dtype}")
    if data.dtype.kind == "f":
        if np.isinf(data).any():
            raise ValueError(
                "the cube contains infinite values; replace them (e.g. by NaN, which marks "
                "pixels to ignore)"
            )
        nan_px = np.isnan(data).any(axis=0)
        if nan_px.all():
            raise ValueError("every pixel of the cube is NaN; nothing to suggest")
    return data


@takes_options(SuggestOptions)
def suggest_rois(
    cube: Any,
    /,
    *,
    name: str | None = None,
    warn: bool = True,
    options: SuggestOptions,
) -> Suggestions:
    """Suggest seed ROIs in a C×Y×X cube and group them by spectral similarity.

    Parameters
    ----------
    cube : array (C, Y, X)
        Hyperspectral cube, channels first (numpy or dask; read into memory).
    projection : {"average", "balanced", "multiband", "max", "current_frame"}
        How channels become one response map (see ``core.suggest.PROJECTIONS``).
    processed : bool
        Work on the per-channel local-background-subtracted cube instead of the raw one.
    local_background_sigma : float or None
        Gaussian sigma (px) of the illumination background removed from the response map.
        None (default): ``BACKGROUND_PER_RADIUS`` (0.7) times the typical object radius
        estimated from the image (LoG scale-space peaks,
        :func:`napari_unmix.core.background.object_scale`); the value used is in
        ``estimated``.
    binning : int
        Block-mean spatial binning before peak finding (2–4 speeds up large images).
    peak_sigma : float
        Gaussian smoothing (binned px) before local maxima are taken.
    peak_threshold : float
        Highest level of the threshold sweep, relative to the map maximum; the sweep goes
        down to ~8 % so structures 3–5× dimmer are still found.
    min_area : int
        Smallest connected component kept (binned px²).
    min_diagonal : float
        Drop boxes whose diagonal is shorter (px); 0 keeps all.
    max_groups : int or None
        Number of spectral groups (hierarchical: exactly this many when there are enough
        candidates; greedy: at most this many, largest groups first). None (default):
        chosen from the data (hierarchical: the Ward tree is cut where merges join spectra
        that differ by more than their noise can explain — ``1 + 4 / sqrt(2 dof)`` times,
        at most 2×, with ``dof`` the effective number of noisy channels — at most 24
        groups, then groups whose mean spectrum is a non-negative mixture of one or two
        other groups' (relative residual < 5 %) are merged away, see :func:`napari_unmix.core.suggest.groups.choose_group_count` and
        :func:`~napari_unmix.core.suggest.groups.prune_mixtures`; greedy: as many as the
        similarity threshold makes).
    max_rois_per_group : int
        ROIs returned per group (chosen by ``representative``).
    pool_factor : int
        The candidate pool is capped at ``max_groups × max_rois_per_group × pool_factor``
        boxes (``max_groups`` = 24 when None), brightest first.
    gradient_fingerprint : bool
        Fingerprint = unit spectrum + unit first derivative (shoulders and slopes count).
    hierarchical : bool
        Ward linkage cut at ``max_groups`` (True) or greedy cosine grouping (False).
    similarity_threshold : float
        Greedy grouping: join the most similar group if the cosine is at least this.
    merge_duplicates : bool
        Drop a box that overlaps a brighter box of the same group.
    representative : {"distinctive", "typical"}
        Which boxes of a group are returned: the most distinctive (largest margin between
        the cosine to the own group's centre and to the nearest other centre; avoids boxes
        on the overlap of two structures) or the most typical (closest to the centre).
    frame : int
        Channel used by ``projection="current_frame"``.
    n_bands : int
        Bands of ``projection="multiband"``.
    name : str, optional
        Input name for the report.
    warn : bool
        Issue the notes (no candidates, too few candidates) as ``UserWarning``; the widget
        passes False and shows them as notifications.

    Returns
    -------
    Suggestions
        ``boxes`` (n×4, ``(y0, x0, y1, x1)``), ``groups``, ``spectra`` (n×C, the cube's
        unit), ``scores``, ``response``, ``parameters``, ``estimated`` (settings estimated
        from the data), ``notes`` and ``report``. A cube without structure gives zero boxes
        and a "no candidates" note (and a warning), not an error. NaN pixels are ignored
        (with a note); the result does not depend on the data's unit.

    Raises
    ------
    ValueError
        Not a C×Y×X cube, an image smaller than 4×4, infinite values, every pixel NaN, or
        a setting out of range.

    Warns
    -----
    UserWarning
        No candidates, or fewer candidates than ``max_groups``.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, _ = make_bead_cube(shape=(64, 64), n_channels=32)
    >>> res = suggest_rois(cube, max_groups=2, max_rois_per_group=2)
    >>> sorted(set(res.groups.tolist())), res.spectra.shape[1]
    ([0, 1], 32)
    """
    check_array("cube", cube)
    params = options.as_dict()
    data = _check(cube)
    t0 = time.perf_counter()
    res = find_suggestions(data, options=options)
    seconds = time.perf_counter() - t0
    report = start_report(
        "suggest_rois", params, {"cube": describe_array(cube, name=name, axes="CYX")}
    )
    report["method"] = {
        "projection": PROJECTIONS[options.projection].doc,
        "grouping": GROUPINGS["hierarchical" if options.hierarchical else "greedy"].doc,
        "representative": REPRESENTATIVES[options.representative].doc,
    }
    report["result"] = {
        "n_rois": len(res),
        "n_groups": res.n_groups,
        "boxes_y0x0y1x1": res.boxes,
        "groups": res.groups,
        "scores": res.scores,
    }
    report["estimated"] = dict(res.estimated)
    report["notes"] = list(res.notes)
    report["seconds"] = round(seconds, 4)
    res.report = report
    for note in res.notes if warn else []:
        warnings.warn(note, UserWarning, stacklevel=2)
    return res
