"""A :class:`~napari_unmix.api.rois.RoiModel` as a JSON-safe preset state, and back.

The layout is that of :func:`napari_unmix.io.presets.save_preset`: ``rois`` (geometry +
features + display options), ``rows`` (dummy rows), ``seeds`` (per component: name,
flags, and the spectrum / Gaussian / resonance when one is given without ROIs, for
scripts), ``settings`` (image shape, resonance rows, background subtraction) and the
spectral axis. The ROI manager dock adds its own settings (``all_slices``, ``analysis``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from .schema import ROI_COLUMNS, DummyRow, ResonanceRow

__all__ = ["model_state", "restore_state"]


def _seed_record(c: Any) -> dict[str, Any]:
    spectrum = None if c.spectrum is None else np.asarray(c.spectrum).tolist()
    return {
        "name": c.name, "spectrum": spectrum, "gaussian": c.gaussian, "resonance": c.resonance,
        "background": bool(c.background), "lock_h": bool(c.lock_h), "lock_w": bool(c.lock_w),
    }  # fmt: skip


def _roi_record(model: Any, i: int) -> dict[str, Any]:
    f = model.features.iloc[i]
    return {
        "type": model.shape_types[i],
        "vertices": model.shapes[i].tolist(),
        "name": str(f["name"]),
        "component": int(f["component"]),
        "background": bool(f["background"]),
        "auto": bool(f["auto"]),
        "group": int(f["group"]),
        **model.drawn_opts[i],
    }


def model_state(model: Any) -> dict[str, Any]:
    """State of ``model`` (a ``RoiModel``) in the layout of the module docstring."""
    try:
        comps, _ = model.components()
    except ValueError:
        comps = []
    axis = model.spectral_axis
    return {
        "spectral_axis": None if axis is None else axis.tolist(),
        "spectral_units": model.spectral_units,
        "seeds": [_seed_record(c) for c in comps],
        "rois": [_roi_record(model, i) for i in range(len(model.shapes))],
        "rows": [
            {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(d).items()}
            for d in model.dummies
        ],
        "settings": {
            "image_shape": list(model.cube.shape),
            "resonances": [asdict(r) for r in model.resonances],
            "subtract_background": model.subtract_background,
        },
    }


def restore_state(model: Any, state: dict[str, Any]) -> None:
    """Restore the rows of ``model`` from :func:`model_state` (or a loaded preset); the
    cube stays and its shape must match the one the state was made on."""
    settings = state.get("settings") or {}
    shape = tuple(settings.get("image_shape", model.cube.shape))
    if shape[1:] != model.cube.shape[1:] or shape[0] != model.cube.shape[0]:
        raise ValueError(
            f"the preset was made on an image of shape {shape}, this one is "
            f"{model.cube.shape}; open the matching image"
        )
    if state.get("spectral_axis") is not None:
        ax = np.asarray(state["spectral_axis"], dtype=np.float64).reshape(-1)
        if ax.size != model.cube.shape[0]:
            raise ValueError(f"the preset's spectral axis has {ax.size} values, not {shape[0]}")
        model.spectral_axis = ax
        model.spectral_units = state.get("spectral_units")
    rois = state.get("rois") or []
    model.set_shapes(
        [np.asarray(r["vertices"]) for r in rois],
        [r["type"] for r in rois],
        [{k: r[k] for k in ROI_COLUMNS if k in r} for r in rois],
    )
    model.drawn_opts = [
        {"show": r.get("show", True), "subtract": r.get("subtract", True)} for r in rois
    ]
    model.dummies = []
    for d in state.get("rows") or []:
        d = dict(d)
        for key in ("spectrum", "w_map"):
            if d.get(key) is not None:
                d[key] = np.asarray(d[key], dtype=np.float64)
        model.dummies.append(DummyRow(**d))
    model.resonances = [ResonanceRow(**r) for r in settings.get("resonances", [])]
    model.subtract_background = bool(settings.get("subtract_background", True))
