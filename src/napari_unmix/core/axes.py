"""Axis handling: bring any image to the canonical TZCYX order and back.

Fluorescence stacks are handled as five-dimensional ``TZCYX`` arrays (OME order).
Inputs with fewer dimensions are expanded with length-1 axes by explicit, named rules:
either the caller names the axes (``axes="ZCYX"``), or the number of dimensions picks
one of :data:`DEFAULT_AXES`. Works on numpy and dask arrays alike (views, no copies).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "CANONICAL",
    "CHANNEL_AXES",
    "DEFAULT_AXES",
    "from_tzcyx",
    "infer_axes",
    "resolve_axes",
    "to_tzcyx",
    "validate_axes",
    "validate_tzcyx",
]

#: The canonical axis order for fluorescence stacks (OME order).
CANONICAL = "TZCYX"

#: Axes assumed for an input without axis names, by number of dimensions.
#: A 3-D array is read as channels (``CYX``): unmixing tools work across channels, and a
#: plain 3-D TIFF without metadata is most often a channel stack. Pass ``axes="ZYX"`` (or
#: ``"TYX"``) when it is not.
DEFAULT_AXES: dict[int, str] = {2: "YX", 3: "CYX", 4: "ZCYX", 5: "TZCYX"}

#: Axes assumed for one channel without axis names (a napari layer of one channel, as the
#: plugin's reader opens few-channel files): a 3-D single-channel layer is a z-stack.
CHANNEL_AXES: dict[int, str] = {2: "YX", 3: "ZYX", 4: "TZYX", 5: "TZCYX"}


def validate_axes(axes: str, ndim: int) -> str:
    """Check an axis string against the array's number of dimensions.

    Parameters
    ----------
    axes : str
        Axis letters, a subset of ``"TZCYX"`` in any order, each at most once, which
        must include ``Y`` and ``X``. Case-insensitive.
    ndim : int
        Number of dimensions of the array the axes describe.

    Returns
    -------
    str
        The upper-case axis string.

    Raises
    ------
    ValueError
        If a letter is unknown or repeated, ``Y``/``X`` are missing, or the length does
        not match ``ndim``.

    Examples
    --------
    >>> validate_axes("zcyx", 4)
    'ZCYX'
    """
    if not isinstance(axes, str):
        raise TypeError(f"axes must be a string of axis letters such as 'CYX', got {axes!r}")
    axes_u = str(axes).upper()
    unknown = sorted(set(axes_u) - set(CANONICAL))
    if unknown:
        raise ValueError(f"unknown axis letter(s) {unknown} in {axes=}; use letters from 'TZCYX'")
    if len(set(axes_u)) != len(axes_u):
        raise ValueError(f"repeated axis letter in {axes=}; each of T, Z, C, Y, X at most once")
    if "Y" not in axes_u or "X" not in axes_u:
        raise ValueError(f"{axes=} must contain 'Y' and 'X' (images are at least 2-D)")
    if len(axes_u) != ndim:
        raise ValueError(
            f"{axes=} names {len(axes_u)} axes but the array has {ndim} dimensions; "
            "give one letter per dimension"
        )
    return axes_u


def infer_axes(ndim: int) -> str:
    """Return the default axis string for an array with ``ndim`` dimensions.

    Examples
    --------
    >>> infer_axes(3)
    'CYX'
    """
    try:
        return DEFAULT_AXES[ndim]
    except KeyError:
        raise ValueError(
            f"cannot interpret a {ndim}-D array as an image: expected 2 to 5 dimensions "
            f"({', '.join(DEFAULT_AXES.values())}); pass axes=... for other layouts"
        ) from None


def resolve_axes(ndim: int, axes: Any = None, *, channels: bool = True) -> str:
    """The axes of an image: ``axes`` when they name each of its ``ndim`` dimensions, else
    the default by number of dimensions (:data:`DEFAULT_AXES` with ``channels``, else
    :data:`CHANNEL_AXES`).

    This is the one rule for napari layers (``axes`` = ``layer.metadata.get("axes")``):
    the layer adapter of the docks and the writer both use it.

    Examples
    --------
    >>> resolve_axes(4, "zcyx"), resolve_axes(3, "QYX"), resolve_axes(3, channels=False)
    ('ZCYX', 'CYX', 'ZYX')
    """
    if isinstance(axes, str):
        try:
            return validate_axes(axes, ndim)
        except ValueError:
            pass
    table = DEFAULT_AXES if channels else CHANNEL_AXES
    if ndim not in table:
        raise ValueError(
            f"cannot interpret a {ndim}-D image: expected {', '.join(table.values())} "
            "(or name its axes, e.g. metadata['axes'] = 'TZCYX')"
        )
    return table[ndim]


def to_tzcyx(data: Any, axes: str | None = None) -> Any:
    """Return a TZCYX view of ``data``.

    Parameters
    ----------
    data : array-like
        numpy or dask array with 2 to 5 dimensions.
    axes : str, optional
        Names of the axes of ``data`` (e.g. ``"ZCYX"``, ``"CTYX"``). Default: by number of
        dimensions from :data:`DEFAULT_AXES`.

    Returns
    -------
    array
        Five-dimensional array (same type as ``data``) in ``TZCYX`` order; missing axes have
        length 1. No data are copied.

    Examples
    --------
    >>> import numpy as np
    >>> to_tzcyx(np.zeros((2, 8, 9))).shape
    (1, 1, 2, 8, 9)
    >>> to_tzcyx(np.zeros((3, 2, 8, 9)), axes="CTYX").shape
    (2, 1, 3, 8, 9)
    """
    if not hasattr(data, "ndim"):
        data = np.asarray(data)
    if data.ndim == 0 or 0 in data.shape:
        raise ValueError(f"the image is empty ({data.shape=}); nothing to process")
    axes_u = infer_axes(data.ndim) if axes is None else validate_axes(axes, data.ndim)
    missing = [a for a in CANONICAL if a not in axes_u]
    full = axes_u + "".join(missing)
    expanded = data.reshape(tuple(data.shape) + (1,) * len(missing))
    order = [full.index(a) for a in CANONICAL]
    return expanded.transpose(order)


def from_tzcyx(data: Any, axes: str) -> Any:
    """Return ``data`` (TZCYX) rearranged to ``axes``, dropping axes not named.

    The dropped axes must have length 1.

    Examples
    --------
    >>> import numpy as np
    >>> from_tzcyx(np.zeros((1, 1, 2, 8, 9)), "CYX").shape
    (2, 8, 9)
    """
    validate_axes(axes, len(axes) if isinstance(axes, str) else -1)
    validate_tzcyx(data)
    axes_u = validate_axes(axes, len(axes))
    dropped = [a for a in CANONICAL if a not in axes_u]
    for a in dropped:
        n = data.shape[CANONICAL.index(a)]
        if n != 1:
            raise ValueError(
                f"cannot drop axis {a!r} of length {n} ({data.shape=}); keep it in axes"
            )
    order = [CANONICAL.index(a) for a in axes_u] + [CANONICAL.index(a) for a in dropped]
    moved = data.transpose(order)
    return moved.reshape(moved.shape[: len(axes_u)])


def validate_tzcyx(data: Any, *, min_channels: int = 1, name: str = "data") -> None:
    """Raise a clear ``ValueError`` unless ``data`` is a non-empty 5-D TZCYX array.

    Examples
    --------
    >>> import numpy as np
    >>> validate_tzcyx(np.zeros((1, 1, 2, 4, 4)), min_channels=2)
    >>> validate_tzcyx(np.zeros((4, 4)))
    Traceback (most recent call last):
    ...
    ValueError: data must be a 5-D TZCYX array, got data.shape=(4, 4); convert it with napari_unmix.core.axes.to_tzcyx(data, axes=...)
    """
    shape = tuple(getattr(data, "shape", ()))
    if len(shape) != 5:
        raise ValueError(
            f"{name} must be a 5-D TZCYX array, got {name}.shape={shape}; "
            "convert it with napari_unmix.core.axes.to_tzcyx(data, axes=...)"
        )
    if 0 in shape:
        raise ValueError(f"{name} is empty ({name}.shape={shape})")
    kind = np.dtype(getattr(data, "dtype", np.float32)).kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers, got dtype {data.dtype}; convert it first "
            "(e.g. np.abs(data) for complex, np.asarray(data, dtype=np.float32) for object)"
        )
    if shape[2] < min_channels:
        raise ValueError(
            f"{name} has {shape[2]} channel(s) but at least {min_channels} are needed "
            f"({name}.shape={shape}, axes TZCYX)"
        )
