"""Spectral units: one table of spellings, symbols and labels.

The package spells units ``"cm-1"``, ``"nm"``, ``"um"``, ``"ev"`` (None: channel index).
Readers normalise what files say with :func:`normalize_units`; figures, docks and CSV
headers take their text from :func:`axis_label`, :func:`unit_symbol` and
:func:`axis_column`, so a unit is worded the same everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UNITS", "axis_column", "axis_label", "normalize_units", "unit_symbol"]

#: unit -> (symbol, quantity, CSV column of the axis (None: spectral_axis_<unit>), spellings)
UNITS: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "cm-1": ("cm⁻¹", "Raman shift", "wavenumber_cm-1",
             ("cm-1", "cm^-1", "1/cm", "cm⁻¹", "/cm", "wavenumber", "wavenumbers",
              "raman shift", "wavenumber_cm-1", "wavenumber (cm-1)")),
    "nm": ("nm", "wavelength", "wavelength_nm",
           ("nm", "nanometer", "nanometers", "nanometre", "nanometres", "wavelength_nm")),
    "um": ("µm", "wavelength", None,
           ("um", "µm", "μm", "micrometer", "micrometers", "micron", "microns")),
    "ev": ("eV", "energy", None, ("ev", "electronvolt", "electron volts")),
}  # fmt: skip
_NO_UNITS = ("", "none", "unknown", "index", "channel", "channels", "band", "bands")


def normalize_units(units: Any) -> str | None:
    """Spectral units in the package's spelling ("cm-1", "nm", "um", "ev"), else as given.

    Empty, "unknown" or "index" give None (channel index).

    Examples
    --------
    >>> normalize_units("1/cm"), normalize_units("Micrometers"), normalize_units("GHz")
    ('cm-1', 'um', 'GHz')
    """
    if units is None:
        return None
    text = str(units).strip()
    low = text.lower()
    if low in _NO_UNITS:
        return None
    for name, entry in UNITS.items():
        if low in entry[3]:
            return name
    return text


def unit_symbol(units: str | None) -> str:
    """The unit as printed after a number ("cm⁻¹", "nm"; "channel" for None).

    Examples
    --------
    >>> unit_symbol("cm-1"), unit_symbol(None), unit_symbol("GHz")
    ('cm⁻¹', 'channel', 'GHz')
    """
    if not units:
        return "channel"
    return UNITS[units][0] if units in UNITS else str(units)


def axis_label(units: str | None) -> str:
    """The x-axis label of a spectrum plot ("Raman shift (cm⁻¹)"; "channel" for None).

    Examples
    --------
    >>> axis_label("cm-1"), axis_label("nm"), axis_label(None)
    ('Raman shift (cm⁻¹)', 'wavelength (nm)', 'channel')
    """
    if not units:
        return "channel"
    if units in UNITS:
        symbol, quantity, _, _ = UNITS[units]
        return f"{quantity} ({symbol})"
    return f"spectral axis ({units})"


def axis_column(units: str | None, *, has_axis: bool = True) -> str:
    """The header of the axis column of a spectra CSV.

    The unit's column name when it has one, else ``"channel"`` without an axis,
    ``"spectral_axis"`` for an axis without units, ``"spectral_axis_<units>"`` otherwise.

    Examples
    --------
    >>> axis_column("cm-1"), axis_column(None), axis_column(None, has_axis=False)
    ('wavenumber_cm-1', 'spectral_axis', 'channel')
    """
    column = UNITS[units][2] if units in UNITS else None
    if column:
        return column
    if not has_axis:
        return "channel"
    return f"spectral_axis_{units}" if units else "spectral_axis"
