"""Provenance records: what ran, on what, with which settings and versions.

Every result of the package carries such a record (``result.report`` or the second item
of a returned tuple); file-level functions write it as a JSON sidecar.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["describe_array", "package_versions", "start_report", "to_jsonable"]

_VERSIONED = ("napari-unmix", "numpy", "scipy", "scikit-learn", "scikit-image", "dask")


def package_versions() -> dict[str, str]:
    """Versions of this package and of the numerical libraries it computes with.

    Examples
    --------
    >>> "numpy" in package_versions()
    True
    """
    return dict(_versions())  # a copy: reports may be edited


@functools.cache
def _versions() -> dict[str, str]:
    # read once per process: parsing the installed packages' metadata costs tens of ms,
    # as much as a whole fixed-H NNLS of a 256 x 256 cube
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe_array(
    data: Any, *, name: str | None = None, axes: str | None = None
) -> dict[str, Any]:
    """Shape, dtype, type and (optionally) name and axes of an input array.

    Examples
    --------
    >>> describe_array(np.zeros((2, 3), np.uint16), name="img")
    {'shape': [2, 3], 'dtype': 'uint16', 'array_type': 'numpy.ndarray', 'name': 'img'}
    """
    desc: dict[str, Any] = {
        "shape": [int(s) for s in data.shape],
        "dtype": str(data.dtype),
        "array_type": f"{type(data).__module__.split('.')[0]}.{type(data).__name__}",
    }
    if name is not None:
        desc["name"] = name
    if axes is not None:
        desc["axes"] = axes
    return desc


def start_report(
    tool: str, params: Mapping[str, Any], inputs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Begin a provenance record for one run of ``tool``.

    Parameters
    ----------
    tool : str
        Name of the tool / function (e.g. ``"bleedthrough"``).
    params : mapping
        Every setting of the run, defaults included.
    inputs : mapping, optional
        Input name -> description (see :func:`describe_array`) or file path.

    Examples
    --------
    >>> rep = start_report("demo", {"k": 3}, {"data": describe_array(np.zeros(4))})
    >>> sorted(rep)
    ['created', 'inputs', 'parameters', 'tool', 'versions']
    """
    return {
        "tool": tool,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "parameters": to_jsonable(dict(params)),
        "inputs": to_jsonable(dict(inputs or {})),
    }


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths, tuples and NaN to JSON-safe Python values.

    Non-finite floats become ``None`` (JSON has no NaN).

    Examples
    --------
    >>> to_jsonable({"a": np.float32(0.5), "b": np.arange(3), "c": float("nan")})
    {'a': 0.5, 'b': [0, 1, 2], 'c': None}
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if hasattr(obj, "tolist"):
        return to_jsonable(obj.tolist())
    return repr(obj)
