"""OME metadata shared by the readers: the napari-unmix annotation, OME-XML pixels, and
the reader-metadata dict every reader returns."""

from __future__ import annotations

import contextlib
import json
from typing import Any

#: Key of napari-unmix's JSON annotation (OME map annotation, Zarr attributes).
ANNOTATION_KEY = "napari_unmix"


def ome_pixels(ome_xml: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Pixels attributes, napari-unmix annotation) from OME-XML, or empty dicts."""
    if not ome_xml:
        return {}, {}
    import tifffile

    try:
        tree = tifffile.xml2dict(ome_xml)
    except Exception:  # malformed XML: no metadata, but the pixels are still readable
        return {}, {}
    ome = tree.get("OME", {})
    image = ome.get("Image", {})
    image = image[0] if isinstance(image, list) else image
    pixels = image.get("Pixels", {}) if isinstance(image, dict) else {}
    extra: dict[str, Any] = {}
    maps = (ome.get("StructuredAnnotations") or {}).get("MapAnnotation", [])
    for m in maps if isinstance(maps, list) else [maps]:
        entries = ((m or {}).get("Value") or {}).get("M", [])
        for e in entries if isinstance(entries, list) else [entries]:
            if isinstance(e, dict) and e.get("K") == ANNOTATION_KEY:
                with contextlib.suppress(ValueError, TypeError):
                    extra = json.loads(e.get("value", ""))
    return pixels, extra


def ome_sizes(pixels: dict[str, Any]) -> dict[str, float | tuple[float, float, float]]:
    """``physical_size`` (z, y, x) and ``time_increment`` from OME Pixels attributes (1.0
    where missing)."""
    size = tuple(float(pixels.get(f"PhysicalSize{a}") or 1.0) for a in "ZYX")
    return {"physical_size": size, "time_increment": float(pixels.get("TimeIncrement") or 1.0)}


def _channel_names(extra: dict[str, Any], n_c: int, fallback: Any = None) -> list[str]:
    """Names stored by napari-unmix, else ``fallback`` (all given), else C0, C1, ..."""
    names = extra.get("channel_names")
    if not (isinstance(names, list) and len(names) == n_c):
        names = fallback if isinstance(fallback, list) and len(fallback) == n_c else None
    if names is not None and all(c not in (None, "") for c in names):
        return [str(c) for c in names]
    return [f"C{i}" for i in range(n_c)]


def image_metadata(
    extra: dict[str, Any],
    n_c: int,
    *,
    physical_size: tuple[float, float, float],
    unit: str,
    time_increment: float,
    source: str = "OME metadata",
    channel_names: Any = None,
) -> dict[str, Any]:
    """The reader-metadata dict (see :func:`napari_unmix.io.omio_io.read_image`).

    ``extra`` is napari-unmix's stored annotation: its ``channel_names`` win over
    ``channel_names`` (the file's own), and its ``spectral_axis`` / ``spectral_units`` are
    copied with ``spectral_axis_source`` = ``source``.
    """
    meta: dict[str, Any] = {
        "axes": "TZCYX",
        "physical_size": tuple(float(v) for v in physical_size),
        "unit": str(unit),
        "time_increment": float(time_increment),
        "channel_names": _channel_names(extra, n_c, channel_names),
        "extra": extra,
    }
    for key in ("spectral_axis", "spectral_units"):
        if key in extra:
            meta[key] = extra[key]
    if "spectral_axis" in extra:
        meta["spectral_axis_source"] = source
    return meta
