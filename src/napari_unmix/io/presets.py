"""NNMF presets: seeds, ROI geometry, table rows, settings and spectral axis as JSON.

A preset lets a user (or the ROI manager) restore a whole seeded-NNMF set-up on another
file. The file is versioned JSON::

    {
      "schema": "napari-unmix/nnmf-preset",
      "version": 1,
      "spectral_axis": [2800.0, ...] or null,
      "spectral_units": "cm-1" | "nm" | null,
      "seeds": [{"name": ..., "spectrum": [...] | null, "gaussian": {...} | null,
                 "resonance": {...} | null, "background": false,
                 "lock_h": false, "lock_w": false}, ...],
      "rois": [{"type": "polygon", "vertices": [[y, x], ...], "component": "lipid"}, ...],
      "rows": [{...}, ...],          # free-form table rows of the ROI manager
      "settings": {...}              # solver, max_iter, tol, w_mode, ... (free-form)
    }

Masks and W maps are not stored (they belong to one image); ROIs are stored as geometry
and rasterised again on the new image.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.report import to_jsonable
from .sidecar import write_json

__all__ = ["PRESET_SCHEMA", "PRESET_VERSION", "ROI_TYPES", "load_preset", "save_preset"]

PRESET_SCHEMA = "napari-unmix/nnmf-preset"
PRESET_VERSION = 1
#: shape types a preset stores (napari Shapes layer names)
ROI_TYPES = ("rectangle", "ellipse", "polygon", "path", "line")
_SEED_KEYS = ("name", "spectrum", "gaussian", "resonance", "background", "lock_h", "lock_w")
_STATE_KEYS = ("seeds", "rois", "rows", "settings", "spectral_axis", "spectral_units")


def _seed_dict(seed: Any, i: int) -> dict[str, Any]:
    d = dict(seed.__dict__) if hasattr(seed, "__dataclass_fields__") else dict(seed)
    for key in ("masks", "w_map"):
        value = d.pop(key, None)
        if value is not None and (key != "masks" or len(value)):
            raise ValueError(
                f"seed {i} ({d.get('name', '')!r}) has {key}: presets store ROI geometry "
                "('rois'), not pixel masks or maps; drop them before saving"
            )
    unknown = set(d) - set(_SEED_KEYS)
    if unknown:
        raise ValueError(f"seed {i} has unknown keys {sorted(unknown)}; allowed: {_SEED_KEYS}")
    if d.get("spectrum") is not None:
        s = np.asarray(d["spectrum"], dtype=np.float64)
        if s.ndim != 1 or not np.isfinite(s).all():
            raise ValueError(f"seed {i}: spectrum must be a finite 1-D array")
        d["spectrum"] = s
    return d


def _roi_dict(roi: Any, i: int) -> dict[str, Any]:
    if not isinstance(roi, dict) or not {"type", "vertices", "component"} <= set(roi):
        raise ValueError(f"roi {i} must be a dict with 'type', 'vertices' and 'component'")
    if roi["type"] not in ROI_TYPES:
        raise ValueError(f"roi {i}: type {roi['type']!r} is not one of {ROI_TYPES}")
    v = np.asarray(roi["vertices"], dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 2 or v.shape[0] < 1 or not np.isfinite(v).all():
        raise ValueError(
            f"roi {i}: vertices must be finite N x 2 (y, x) coordinates, got {v.shape}"
        )
    return {**roi, "vertices": v}


def save_preset(path: str | os.PathLike, state: dict[str, Any], *, overwrite: bool = False) -> Path:
    """Write an NNMF preset (see the module docstring for the layout).

    Parameters
    ----------
    path : str or PathLike
        A ``.json`` file.
    state : dict
        Keys ``seeds`` (ComponentSeed objects or dicts), ``rois``, ``rows``, ``settings``,
        ``spectral_axis``, ``spectral_units``; all optional.
    overwrite : bool
        Replace an existing file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "preset.json"
    >>> state = {"seeds": [{"name": "lipid", "lock_h": True}],
    ...          "rois": [{"type": "rectangle", "vertices": [[0, 0], [0, 5], [5, 5], [5, 0]],
    ...                    "component": "lipid"}],
    ...          "settings": {"solver": "hals", "max_iter": 300}}
    >>> _ = save_preset(p, state)
    >>> back = load_preset(p)
    >>> back["seeds"][0]["name"], back["rois"][0]["vertices"].shape, back["settings"]["max_iter"]
    ('lipid', (4, 2), 300)
    """
    unknown = set(state) - set(_STATE_KEYS)
    if unknown:
        raise ValueError(f"unknown preset keys {sorted(unknown)}; allowed: {_STATE_KEYS}")
    doc = {
        "schema": PRESET_SCHEMA,
        "version": PRESET_VERSION,
        "spectral_axis": state.get("spectral_axis"),
        "spectral_units": state.get("spectral_units"),
        "seeds": [_seed_dict(s, i) for i, s in enumerate(state.get("seeds", []))],
        "rois": [_roi_dict(r, i) for i, r in enumerate(state.get("rois", []))],
        "rows": list(state.get("rows", [])),
        "settings": dict(state.get("settings", {})),
    }
    if doc["spectral_axis"] is not None:
        doc["spectral_axis"] = np.asarray(doc["spectral_axis"], dtype=np.float64).reshape(-1)
    try:
        json.dumps(to_jsonable(doc), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"the preset holds a value JSON cannot store: {err}") from err
    return write_json(path, doc, overwrite=overwrite)


def load_preset(path: str | os.PathLike) -> dict[str, Any]:
    """Read an NNMF preset; arrays (axis, spectra, vertices) come back as numpy arrays.

    Raises
    ------
    ValueError
        Not a preset, a newer version, or malformed seeds / ROIs (the message says which).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no preset at {str(path)!r}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name!r} is not valid JSON ({err})") from err
    if not isinstance(doc, dict) or doc.get("schema") != PRESET_SCHEMA:
        raise ValueError(f"{path.name!r} is not an napari-unmix NNMF preset (no {PRESET_SCHEMA!r})")
    version = doc.get("version")
    if not isinstance(version, int) or version > PRESET_VERSION:
        raise ValueError(
            f"{path.name!r} has preset version {version!r}; this napari-unmix reads up to "
            f"{PRESET_VERSION}: update napari-unmix"
        )
    out = {key: doc.get(key) for key in _STATE_KEYS}
    out["version"] = version
    if out["spectral_axis"] is not None:
        out["spectral_axis"] = np.asarray(out["spectral_axis"], dtype=np.float64)
    out["seeds"] = [_seed_dict(s, i) for i, s in enumerate(out["seeds"] or [])]
    out["rois"] = [_roi_dict(r, i) for i, r in enumerate(out["rois"] or [])]
    out["rows"] = list(out["rows"] or [])
    out["settings"] = dict(out["settings"] or {})
    return out
