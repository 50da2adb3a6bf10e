"""The spectral axis of an image, from wherever the user keeps it: one place for every reader.

Sources, in the order they are tried (the first that gives an axis wins):

1. an explicit argument (``spectral_axis=`` of a file-level function, ``--spectral-axis``
   on the command line): values, ``"start:stop:n"``, or a file (``.json``, ``.csv``,
   ``.txt``, ENVI ``.hdr``);
2. the image file itself: napari-unmix's OME annotation or Zarr attributes, an ENVI
   header's ``wavelength``, OME channel emission wavelengths, ImageJ / TIFF tags
   (numeric channel labels, or a ``wavelength`` / ``spectral_axis`` entry);
3. a sibling file next to the image (see :data:`SIBLING_NAMES`): the reference GUI
   package's ``wavelength.json`` (``{"spectral_unit": "cm^-1", "custom_values": [...]}``)
   or a one-column CSV/TXT;
4. none: channel indices (``spectral_axis_source`` says so).

:func:`attach_spectral_axis` puts the result into a reader's metadata as
``spectral_axis``, ``spectral_units`` and ``spectral_axis_source`` (a short text naming
where the axis came from, copied into every report). An axis must have one value per
channel, be finite and strictly monotonic; otherwise the message names the source.

Examples
--------
>>> parse_spectral_axis("500:530:4").values.tolist()
[500.0, 510.0, 520.0, 530.0]
>>> normalize_units("cm^-1"), normalize_units("Nanometers"), normalize_units("")
('cm-1', 'nm', None)
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core import validate
from ..core.units import normalize_units
from ._ome import ome_pixels

__all__ = [
    "AXIS_FILE_EXTENSIONS",
    "MIN_CHANNELS_FROM_CHANNEL_TAGS",
    "NO_AXIS",
    "SIBLING_NAMES",
    "SpectralAxis",
    "attach_spectral_axis",
    "axis_from_tiff",
    "check_axis",
    "image_stem",
    "normalize_units",
    "parse_spectral_axis",
    "read_axis_file",
    "resolve_spectral_axis",
]

#: Files next to an image read as its spectral axis (``{stem}``: the image name without
#: its extension), most specific first. A per-image file must fit the image (one value
#: per channel); a folder-wide one is skipped for images with another channel count.
SIBLING_NAMES = (
    "{stem}_wavelength.json",
    "{stem}_spectral_axis.csv",
    "{stem}_spectral_axis.txt",
    "wavelength.json",
    "spectral_axis.csv",
    "spectral_axis.txt",
)
#: Endings of files :func:`read_axis_file` reads.
AXIS_FILE_EXTENSIONS = (".json", ".csv", ".txt", ".tsv", ".hdr")
#: Per-channel tags (OME emission wavelengths, ImageJ channel labels) count as a spectral
#: axis only from this many channels on: a 3-channel confocal image with emission
#: wavelengths stays a fluorescence image (one layer per channel).
MIN_CHANNELS_FROM_CHANNEL_TAGS = 9
#: ``spectral_axis_source`` when no source gave an axis.
NO_AXIS = "none (channel index)"

_RANGE = re.compile(r"^\s*([-+0-9.eE]+)\s*:\s*([-+0-9.eE]+)\s*(?::\s*([0-9]+))?\s*$")
_IMAGE_ENDINGS = (".ome.tiff", ".ome.tif", ".ome.zarr", ".tiff", ".tif", ".zarr", ".lsm",
                  ".czi", ".hdr", ".img", ".raw", ".dat", ".bsq", ".bil", ".bip")  # fmt: skip


@dataclass(frozen=True)
class SpectralAxis:
    """A spectral axis: values (None: channel indices), units and where it came from."""

    values: np.ndarray | None
    units: str | None
    source: str

    def to_metadata(self) -> dict[str, Any]:
        """The reader-metadata keys (``spectral_axis`` only when there is one)."""
        out: dict[str, Any] = {"spectral_axis_source": self.source}
        if self.values is not None:
            out["spectral_axis"] = self.values.tolist()
            out["spectral_units"] = self.units
        return out


def check_axis(values: Any, n_channels: int | None, *, source: str) -> np.ndarray:
    """A validated 1-D float axis (:func:`napari_unmix.core.validate.check_axis`).

    Examples
    --------
    >>> check_axis([3, 2, 1], 3, source="test").tolist()
    [3.0, 2.0, 1.0]
    >>> check_axis([1, 1, 2], 3, source="test")
    Traceback (most recent call last):
    ...
    ValueError: the spectral axis from test is not strictly increasing or decreasing (values [1.0, 1.0, 2.0]); give one distinct value per channel, in order
    """
    return validate.check_axis(f"the spectral axis from {source}", values, n_channels)


def _read_json_axis(path: Path) -> tuple[Any, str | None]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path.name!r} is not a JSON file ({err})") from None
    if isinstance(obj, list):
        return obj, None
    if not isinstance(obj, dict):
        raise ValueError(f"{path.name!r}: expected a list or an object, got {type(obj).__name__}")
    units = obj.get("spectral_unit", obj.get("spectral_units", obj.get("unit")))
    for key in ("custom_values", "spectral_axis", "wavelength", "wavelengths", "values"):
        if key in obj:
            return obj[key], units
    raise ValueError(
        f"{path.name!r} has no axis values; expected the reference format "
        '{"spectral_unit": "cm^-1", "custom_values": [...]} (or a plain list)'
    )


def _read_column_axis(path: Path) -> tuple[Any, str | None]:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ValueError(f"{path.name!r} is a binary file, not a text file of axis values")
    text = raw.decode("utf-8", errors="replace")
    rows = list(csv.reader(text.splitlines(), delimiter="\t" if "\t" in text else ","))
    rows = [[c.strip() for c in r if c.strip()] for r in rows]
    rows = [r for r in rows if r]
    units = None
    if rows and not is_number(rows[0][0]):
        units = rows[0][0]
        rows = rows[1:]
    if any(len(r) != 1 for r in rows):
        if len(rows) == 1:  # one row of values
            rows = [[c] for c in rows[0]]
        else:
            raise ValueError(
                f"{path.name!r}: a spectral-axis file holds one column of values "
                "(an optional header, e.g. 'wavenumber_cm-1', then one value per channel)"
            )
    values = []
    for i, (cell,) in enumerate(rows):
        if not is_number(cell):
            raise ValueError(f"{path.name!r}: row {i + 1} is not a number: {cell[:40]!r}")
        values.append(float(cell))
    return values, units


def is_number(text: str) -> bool:
    """True when ``text`` reads as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_axis_file(path: str | os.PathLike) -> tuple[np.ndarray, str | None]:
    """Axis values and units (or None) from a ``.json``, ``.csv``/``.txt`` or ENVI ``.hdr`` file.

    A JSON file is the reference GUI package's ``wavelength.json``
    (``{"spectral_unit": ..., "custom_values": [...]}``) or a plain list; a CSV/TXT file
    holds one column (an optional header naming the units, e.g. ``wavenumber_cm-1``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "wavelength.json"
    >>> _ = p.write_text('{"spectral_unit": "cm^-1", "custom_values": [2850, 2900, 2950]}')
    >>> axis, units = read_axis_file(p)
    >>> axis.tolist(), units
    ([2850.0, 2900.0, 2950.0], 'cm-1')
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such spectral-axis file: {str(path)!r}")
    ext = path.suffix.lower()
    if ext == ".json":
        values, units = _read_json_axis(path)
    elif ext == ".hdr":
        from .envi import read_envi_header

        header = read_envi_header(path)
        if "wavelength" not in header:
            raise ValueError(f"the ENVI header {path.name!r} has no 'wavelength' entry")
        values, units = header["wavelength"], header.get("wavelength units")
    elif ext in (".csv", ".txt", ".tsv"):
        values, units = _read_column_axis(path)
    else:
        raise ValueError(
            f"cannot read a spectral axis from {path.name!r}; give a file ending in "
            f"{', '.join(AXIS_FILE_EXTENSIONS)} or 'start:stop:n'"
        )
    return check_axis(values, None, source=repr(path.name)), normalize_units(units)


def parse_spectral_axis(
    value: Any, *, n_channels: int | None = None, units: str | None = None
) -> SpectralAxis | None:
    """An explicit axis: values, ``"start:stop:n"`` (``"start:stop"`` with ``n_channels``)
    or a file path; None for None.

    ``units`` (e.g. from ``--spectral-units``) wins over units the file names.

    Examples
    --------
    >>> ax = parse_spectral_axis("600:1800", n_channels=3, units="cm-1")
    >>> ax.values.tolist(), ax.units, ax.source
    ([600.0, 1200.0, 1800.0], 'cm-1', "argument '600:1800'")
    >>> parse_spectral_axis([1, 2, 3]).source
    'argument (3 values)'
    """
    if value is None:
        return None
    if isinstance(value, SpectralAxis):
        values, file_units, source = value.values, value.units, value.source
    elif isinstance(value, str | os.PathLike) and not (
        isinstance(value, str) and _RANGE.match(value)
    ):
        path = Path(value)
        if not path.exists():
            raise FileNotFoundError(
                f"spectral axis {str(value)!r} is neither an existing file nor 'start:stop:n'"
            )
        values, file_units = read_axis_file(path)
        source = f"file {str(path)!r}"
    elif isinstance(value, str):
        m = _RANGE.match(value)
        start, stop, n = float(m.group(1)), float(m.group(2)), m.group(3)
        if n is None and n_channels is None:
            raise ValueError(f"spectral axis {value!r}: give 'start:stop:n' (n = channels)")
        count = int(n) if n is not None else int(n_channels)
        values, file_units, source = np.linspace(start, stop, count), None, f"argument {value!r}"
    else:
        values, file_units = value, None
        source = f"argument ({np.size(value)} values)"
    axis = check_axis(values, n_channels, source=source)
    return SpectralAxis(axis, normalize_units(units) or file_units, source)


def image_stem(path: str | os.PathLike) -> str:
    """The name of an image without its ending (``a.ome.tif`` -> ``a``).

    Examples
    --------
    >>> image_stem("run/cells.ome.tif"), image_stem("scan.hdr"), image_stem("x.ome.zarr/")
    ('cells', 'scan', 'x')
    """
    path = Path(str(path).rstrip("/\\"))
    name = path.name
    for end in _IMAGE_ENDINGS:
        if name.lower().endswith(end):
            return name[: -len(end)]
    return path.stem


def _from_siblings(path: Path, n_channels: int) -> SpectralAxis | None:
    folder, stem = path.parent, image_stem(path)
    for pattern in SIBLING_NAMES:
        cand = folder / pattern.format(stem=stem)
        if cand.is_file() and cand.resolve() != path.resolve():
            values, units = read_axis_file(cand)
            source = f"sibling file {cand.name!r}"
            if "{stem}" not in pattern and values.size != n_channels:
                continue  # a folder-wide file for other images (e.g. a 2-channel one beside)
            return SpectralAxis(check_axis(values, n_channels, source=source), units, source)
    return None


def _numbers(items: Any) -> list[float] | None:
    """Floats from labels such as ``"2850"``, ``"500 nm"`` or ``"1450.5 cm-1"``, else None."""
    out = []
    for item in items:
        m = re.match(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)", str(item))
        if m is None:
            return None
        out.append(float(m.group(1)))
    return out


def _label_units(label: Any) -> str | None:
    rest = re.sub(r"^\s*[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?", "", str(label)).strip()
    return normalize_units(rest) if rest else None


def axis_from_tiff(path: str | os.PathLike, n_channels: int) -> tuple[Any, str | None, str] | None:
    """(values, units, source) from a TIFF's tags, or None.

    Reads, in order: napari-unmix's OME annotation; OME channel ``EmissionWavelength``
    (nm); ImageJ metadata (a ``wavelength``/``spectral_axis`` entry, or numeric
    ``Labels`` such as ``"2850"`` / ``"500 nm"``, one per channel). The per-channel tags
    count from :data:`MIN_CHANNELS_FROM_CHANNEL_TAGS` channels on.
    """
    import tifffile

    try:
        with tifffile.TiffFile(path) as tf:
            ome = tf.ome_metadata if tf.is_ome else None
            ij = tf.imagej_metadata if tf.is_imagej else None
    except Exception:  # not a TIFF tifffile reads: no tags to look at
        return None
    if ome:
        pixels, extra = ome_pixels(ome)
        if "spectral_axis" in extra:
            return extra["spectral_axis"], extra.get("spectral_units"), "OME metadata"
        chans = pixels.get("Channel", [])
        chans = chans if isinstance(chans, list) else [chans]
        waves = [c.get("EmissionWavelength") for c in chans if isinstance(c, dict)]
        enough = n_channels >= MIN_CHANNELS_FROM_CHANNEL_TAGS
        if enough and len(waves) == n_channels and all(w is not None for w in waves):
            unit = chans[0].get("EmissionWavelengthUnit", "nm")
            return [float(w) for w in waves], unit, "OME channel emission wavelengths"
    if ij:
        for key in ("spectral_axis", "wavelength", "wavelengths", "Wavelength"):
            if key in ij:
                raw = ij[key]
                vals = _numbers(raw.replace(";", ",").split(",") if isinstance(raw, str) else raw)
                if vals:
                    units = ij.get("spectral_units", ij.get("wavelength_units"))
                    return vals, units, f"ImageJ metadata {key!r}"
        labels = ij.get("Labels")
        enough = n_channels >= MIN_CHANNELS_FROM_CHANNEL_TAGS
        if enough and isinstance(labels, list | tuple) and len(labels) == n_channels:
            vals = _numbers(labels)
            if vals is not None:
                return vals, _label_units(labels[0]), "ImageJ channel labels"
    return None


def resolve_spectral_axis(
    path: str | os.PathLike | None,
    meta: dict[str, Any],
    n_channels: int,
    *,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
) -> SpectralAxis:
    """The spectral axis of an image: explicit > the file's metadata > sibling file > none.

    Parameters
    ----------
    path : path or None
        The image file (used for TIFF tags and sibling files).
    meta : dict
        The reader's metadata; ``spectral_axis`` / ``spectral_units`` /
        ``spectral_axis_source`` in it are what the file itself stores.
    n_channels : int
        Channels of the image (the axis needs one value per channel).
    spectral_axis, spectral_units
        Explicit axis (values, ``"start:stop:n"`` or a file) and units; they win.

    Examples
    --------
    >>> resolve_spectral_axis(None, {}, 4).source
    'none (channel index)'
    >>> resolve_spectral_axis(None, {"spectral_axis": [1, 2]}, 2, spectral_units="nm").units
    'nm'
    """
    explicit = parse_spectral_axis(spectral_axis, n_channels=n_channels, units=spectral_units)
    if explicit is not None:
        return explicit
    units = normalize_units(spectral_units)
    found: tuple[Any, Any, str] | None = None
    if meta.get("spectral_axis") is not None:
        found = (
            meta["spectral_axis"],
            meta.get("spectral_units"),
            meta.get("spectral_axis_source") or "file metadata",
        )
    p = None if path is None else Path(path)
    if found is None and p is not None and p.is_file() and p.suffix.lower() in (".tif", ".tiff"):
        found = axis_from_tiff(p, n_channels)
    if found is not None:
        values, file_units, source = found
        axis = check_axis(values, n_channels, source=source)
        return SpectralAxis(axis, units or normalize_units(file_units), source)
    if p is not None:
        sib = _from_siblings(p, n_channels)
        if sib is not None:
            return SpectralAxis(sib.values, units or sib.units, sib.source)
    return SpectralAxis(None, units or normalize_units(meta.get("spectral_units")), NO_AXIS)


def attach_spectral_axis(
    path: str | os.PathLike | None,
    meta: dict[str, Any],
    n_channels: int,
    *,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
) -> dict[str, Any]:
    """A copy of ``meta`` with ``spectral_axis``, ``spectral_units`` and
    ``spectral_axis_source`` from :func:`resolve_spectral_axis`.

    Without an axis the copy has no ``spectral_axis`` key (so the reader's rule "a
    spectral axis makes a hyperspectral layer" keeps working) but ``spectral_units``
    when given.

    Examples
    --------
    >>> attach_spectral_axis(None, {"axes": "TZCYX"}, 3, spectral_axis="1:3:3")["spectral_axis"]
    [1.0, 2.0, 3.0]
    """
    found = resolve_spectral_axis(
        path, meta, n_channels, spectral_axis=spectral_axis, spectral_units=spectral_units
    )
    out = {k: v for k, v in meta.items() if k not in ("spectral_axis", "spectral_units")}
    out.update(found.to_metadata())
    if found.values is None and found.units is not None:
        out["spectral_units"] = found.units
    return out
