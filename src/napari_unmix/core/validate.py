"""Generic checks of option values and arrays, with messages that say what to change.

Tools call these at the top of their public functions, so that ``n_bootstrap=-3``,
``min_denominator=-1``, a constant or empty cube, or a NaN in a spectral axis is answered
by one clear message instead of a silent result or a traceback from a library.

Examples
--------
>>> check_int("n_bootstrap", 100, minimum=0)
100
>>> check_int("n_bootstrap", -3, minimum=0)
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: n_bootstrap must be an integer >= 0, got n_bootstrap=-3
>>> check_number("min_denominator", -1.0, minimum=0.0)
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: min_denominator must be a number >= 0, got min_denominator=-1.0
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from dask import is_dask_collection

__all__ = [
    "DataTypeError",
    "OptionError",
    "check_array",
    "check_axis",
    "check_int",
    "check_not_constant",
    "check_not_empty",
    "check_number",
    "check_option_types",
    "check_sizes",
]


class OptionError(TypeError, ValueError):
    """A bad option value: of the wrong type (``k=2.5``) or out of its range (``k=-3``).

    Both a TypeError and a ValueError, so callers may catch either; the message always
    names the option and the value (``"k must be an integer >= 1, got k=2.5"``).
    """


class DataTypeError(TypeError, ValueError):
    """An array whose dtype cannot be used (complex, object, strings): what to convert.

    Both a TypeError and a ValueError, like :class:`OptionError`.
    """


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in {minimum:g}..{maximum:g}"
    if minimum is not None:
        return f" >= {minimum:g}"
    if maximum is not None:
        return f" <= {maximum:g}"
    return ""


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an int within ``[minimum, maximum]``, or an :class:`OptionError`.

    bool and non-integral floats (``2.5``) are refused; ``3.0`` and numpy ints are fine.

    Examples
    --------
    >>> check_int("k", np.int64(3), minimum=1), check_int("k", 3.0)
    (3, 3)
    """
    ok = isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and float(value).is_integer()
    )
    if isinstance(value, bool | np.bool_) or not ok:
        raise OptionError(
            f"{name} must be an integer{_range_text(minimum, maximum)}, got {name}={value!r}"
        )
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise OptionError(
            f"{name} must be an integer{_range_text(minimum, maximum)}, got {name}={value!r}"
        )
    return v


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
) -> float:
    """``value`` as a finite float within the range (``strict``: above ``minimum``).

    Examples
    --------
    >>> check_number("window", 5, minimum=0, strict=True)
    5.0
    >>> check_number("window", 0, minimum=0, strict=True)
    Traceback (most recent call last):
    ...
    napari_unmix.core.validate.OptionError: window must be a number > 0, got window=0
    """
    text = _range_text(minimum, maximum)
    if strict and minimum is not None:
        text = text.replace(f">= {minimum:g}", f"> {minimum:g}")
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise OptionError(f"{name} must be a number{text}, got {name}={value!r}")
    v = float(value)
    low = minimum is not None and (v <= minimum if strict else v < minimum)
    if not np.isfinite(v) or low or (maximum is not None and v > maximum):
        raise OptionError(f"{name} must be a number{text}, got {name}={value!r}")
    return v


def check_not_empty(name: str, data: Any) -> None:
    """A ValueError when ``data`` has no elements (an axis of length 0).

    Examples
    --------
    >>> check_not_empty("cube", np.zeros((3, 0, 4)))
    Traceback (most recent call last):
    ...
    ValueError: cube is empty (shape (3, 0, 4)); give data with at least one pixel
    """
    if 0 in tuple(np.shape(data)):
        raise ValueError(
            f"{name} is empty (shape {tuple(np.shape(data))}); give data with at least one pixel"
        )


def check_not_constant(name: str, values: np.ndarray, *, what: str = "cluster") -> None:
    """A ValueError when every finite value of ``values`` is the same (nothing to ``what``).

    Examples
    --------
    >>> check_not_constant("cube", np.ones((2, 3, 3)))
    Traceback (most recent call last):
    ...
    ValueError: cube is constant (every value is 1); there is nothing to cluster
    """
    v = np.asarray(values)
    finite = v[np.isfinite(v)] if v.dtype.kind == "f" else v.reshape(-1)
    if finite.size and finite.min() == finite.max():
        raise ValueError(
            f"{name} is constant (every value is {finite.flat[0]:g}); there is nothing to {what}"
        )


def check_axis(name: str, axis: Any, n: int | None = None) -> np.ndarray:
    """A finite, strictly monotonic 1-D axis (of length ``n``) as float64.

    The one spectral-axis rule: real numbers (a row or column vector is flattened), one
    per channel, finite, strictly increasing or decreasing.

    Examples
    --------
    >>> check_axis("spectral_axis", [3, 2, 1]).tolist()
    [3.0, 2.0, 1.0]
    >>> check_axis("spectral_axis", [1.0, np.nan, 3.0])
    Traceback (most recent call last):
    ...
    ValueError: spectral_axis has 1 NaN or infinite value(s) (first at index 1); give finite values
    >>> check_axis("the axis", [1, 1, 2])
    Traceback (most recent call last):
    ...
    ValueError: the axis is not strictly increasing or decreasing (values [1.0, 1.0, 2.0]); give one distinct value per channel, in order
    """
    if np.asarray(axis).dtype.kind == "c":
        raise ValueError(f"{name} holds complex numbers; give real values")
    try:
        a = np.asarray(axis, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a list of numbers; got {str(axis)[:80]!r}") from None
    if a.ndim != 1:
        if a.ndim and a.size != max(a.shape):
            raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
        a = a.reshape(-1)
    if n is not None and a.size != int(n):
        raise ValueError(
            f"{name} has {a.size} values but the image has {n} channels; give one value per channel"
        )
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s) (first at index "
            f"{int(np.argmax(bad))}); give finite values"
        )
    d = np.diff(a)
    if a.size > 1 and not ((d > 0).all() or (d < 0).all()):
        shown = a[:6].tolist()
        raise ValueError(
            f"{name} is not strictly increasing or decreasing (values {shown}"
            f"{' ...' if a.size > 6 else ''}); give one distinct value per channel, in order"
        )
    return a


def check_array(
    name: str,
    data: Any,
    *,
    finite: bool = False,
    nonnegative: bool = False,
    allow_empty: bool = False,
) -> None:
    """A :class:`DataTypeError` / ValueError when ``data`` is not a usable real-valued array.

    Refuses complex, object and string arrays (with what to convert), empty arrays (unless
    ``allow_empty``), and with ``finite`` NaN / inf, with ``nonnegative`` negative values.
    A dask array is checked by dtype and shape only (its values are not computed).

    Examples
    --------
    >>> check_array("cube", np.ones((2, 3), np.complex64))
    Traceback (most recent call last):
    ...
    napari_unmix.core.validate.DataTypeError: cube must hold real numbers, got dtype complex64; take np.abs(...) or .real first
    >>> check_array("cube", np.array([[1.0, np.nan]]), finite=True)
    Traceback (most recent call last):
    ...
    ValueError: cube has 1 NaN or infinite value(s); fill or mask them first (e.g. np.nan_to_num)
    """
    dtype = getattr(data, "dtype", None)
    if dtype is None:
        data = np.asarray(data)
        dtype = data.dtype
    kind = np.dtype(dtype).kind
    if kind not in "biuf":
        hint = {
            "c": "take np.abs(...) or .real first",
            "O": "convert it first, e.g. np.asarray(data, dtype=np.float32)",
        }.get(kind, "convert it to a numeric dtype first")
        raise DataTypeError(f"{name} must hold real numbers, got dtype {dtype}; {hint}")
    if not allow_empty:
        check_not_empty(name, data)
    if is_dask_collection(data) or not (finite or nonnegative):
        return
    values = np.asarray(data)
    if finite and kind == "f":
        n_bad = int(np.count_nonzero(~np.isfinite(values)))
        if n_bad:
            raise ValueError(
                f"{name} has {n_bad} NaN or infinite value(s); fill or mask them first "
                "(e.g. np.nan_to_num)"
            )
    if nonnegative and kind in "if" and values.size and np.nanmin(values) < 0:
        raise ValueError(
            f"{name} has negative values (min {np.nanmin(values):g}); this method needs "
            "non-negative data: subtract a smaller background or clip at 0 first"
        )


_SIMPLE_TYPES = {
    "int": "int",
    "int|None": "int",
    "float": "float",
    "float|None": "float",
    "bool": "bool",
}


def check_option_types(func: Any, values: dict[str, Any]) -> None:
    """An :class:`OptionError` naming the option when a value does not have its annotated type.

    Checks the parameters of ``func`` annotated ``int``, ``float`` (or ``... | None``)
    and ``bool`` against ``values`` (e.g. ``locals()`` at the top of ``func``): an int
    option takes integers (and integral floats such as ``3.0``), a float option any real
    number, a bool option True / False (or 0 / 1).

    Examples
    --------
    >>> def fit(cube, /, *, max_iter: int = 10, tol: float = 1e-4):
    ...     check_option_types(fit, locals())
    >>> fit(None, max_iter="many")
    Traceback (most recent call last):
    ...
    napari_unmix.core.validate.OptionError: max_iter must be an integer, got max_iter='many'
    """
    import inspect

    for name, param in inspect.signature(func).parameters.items():
        if name not in values:
            continue
        ann = param.annotation
        ann = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
        kind = _SIMPLE_TYPES.get(str(ann).replace(" ", ""))
        value = values[name]
        if kind is None or (value is None and "None" in str(ann)):
            continue
        check_type(name, value, kind)


def check_type(name: str, value: Any, kind: str) -> None:
    """The rule of :func:`check_option_types` for one value of ``kind`` "int", "float" or
    "bool" (its type only, not its range)."""
    if kind == "int":
        ok = not isinstance(value, bool) and (
            isinstance(value, numbers.Integral)
            or (isinstance(value, numbers.Real) and float(value).is_integer())
        )
        what = "an integer"
    elif kind == "float":
        ok = not isinstance(value, bool) and isinstance(value, numbers.Real)
        what = "a number"
    else:
        ok = isinstance(value, bool | np.bool_) or value in (0, 1)
        what = "True or False"
    if not ok:
        raise OptionError(f"{name} must be {what}, got {name}={value!r}")


def check_sizes(values: Mapping[str, Any]) -> None:
    """Counts (``n_*``, ``grid``, ``batch``) >= 1, a ``shape`` of positive ints, and
    ``*_sigma`` values >= 0, each by its name in ``values``.

    Examples
    --------
    >>> check_sizes({"n_t": 2, "shape": (8, 8), "noise_sigma": 0.1})
    >>> check_sizes({"n_t": -3})
    Traceback (most recent call last):
    ...
    napari_unmix.core.validate.OptionError: n_t must be an integer >= 1, got n_t=-3
    """
    for name, value in values.items():
        if name == "shape":
            if not isinstance(value, tuple | list) or len(value) != 2:
                raise ValueError(f"shape must be (height, width), got shape={value!r}")
            for v in value:
                check_int("shape", v, minimum=1)
        elif name.endswith("sigma"):
            check_number(name, value, minimum=0.0)
        else:
            check_int(name, value, minimum=1)
