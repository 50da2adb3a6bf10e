"""One options object per tool: each field's type, default, range, label and doc, written once.

A tool's options are a frozen dataclass deriving from :class:`Options`, defined next to the
tool's core, whose fields are made with :func:`option`. Everything else reads from it:

- array-level API functions take explicit keyword arguments whose defaults are the class
  attributes (``alpha_method: str = BleedthroughOptions.alpha_method``), so ``help()`` and
  IDEs show the real default and it is written once; they build the object with
  :meth:`Options.pick` (``BleedthroughOptions.pick(locals())``), which validates every field;
- the command line builds flags, types, choices and help (with the default) from
  :meth:`Options.specs` (:mod:`napari_unmix.cli`);
- the docks build their forms from the same specs (:mod:`napari_unmix.widgets._form`).

Validation is one rule per field: the type from the annotation (``int`` refuses ``2.5`` and
``True``; ``float`` accepts integers), the closed range ``bounds`` (``None`` = open end),
``choices`` (a sequence or a :class:`~napari_unmix.core.registry.Registry`). Errors are
:class:`~napari_unmix.core.validate.OptionError` naming the field, the value and what is
allowed.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class DemoOptions(Options):
...     k: int = option(3, label="Components", doc="number of components", bounds=(1, None))
...     solver: str = option("hals", label="Solver", doc="update rule", choices=("hals", "mu"))
>>> DemoOptions.k
3
>>> DemoOptions(k=4).k
4
>>> DemoOptions(k=0)
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: k must be an integer >= 1, got k=0
>>> [s.name for s in DemoOptions.specs()]
['k', 'solver']
>>> DemoOptions.pick({"k": 5, "solver": "mu", "other": 1}).as_dict()
{'k': 5, 'solver': 'mu'}
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .validate import OptionError, check_int, check_number, check_option_types

__all__ = ["OptionSpec", "Options", "option", "takes_options"]

_MISSING = dataclasses.MISSING


@dataclass(frozen=True)
class OptionSpec:
    """What the API, the CLI and a dock need to know about one option.

    ``type`` is the resolved annotation; ``base`` the plain type behind ``X | None`` /
    ``tuple[X, ...]`` (used for CLI parsing and dock widgets); ``optional`` whether ``None``
    is allowed; ``multiple`` whether the value is a tuple of ``base``.
    """

    name: str
    default: Any
    label: str
    doc: str
    type: Any = Any
    base: type | None = None
    optional: bool = False
    multiple: bool = False
    bounds: tuple[float | None, float | None] | None = None
    choices: Any = None
    advanced: bool = False
    flag: str | None = None
    unit: str = ""

    @property
    def choice_names(self) -> list[str] | None:
        """The allowed values as a list (a registry's keys), or None."""
        if self.choices is None:
            return None
        return list(self.choices)

    def help(self) -> str:
        """One line for ``--help`` and tooltips: the doc, allowed values, the default."""
        parts = [self.doc.rstrip(".")]
        if self.bounds is not None:
            lo, hi = self.bounds
            if lo is not None and hi is not None:
                parts.append(f"{lo}..{hi}")
            elif lo is not None:
                parts.append(f">= {lo}")
            elif hi is not None:
                parts.append(f"<= {hi}")
        unit = f" {self.unit}" if self.unit else ""
        parts.append(
            f"default {self.default!r}{unit}" if self.default is not None else "default: none"
        )
        return "; ".join(parts)


def option(
    default: Any,
    *,
    label: str,
    doc: str,
    bounds: tuple[float | None, float | None] | None = None,
    choices: Any = None,
    advanced: bool = False,
    flag: str | None = None,
    unit: str = "",
) -> Any:
    """A dataclass field carrying the option's metadata (see :class:`OptionSpec`).

    ``flag`` overrides the command-line flag (default ``--field-name``); ``advanced`` puts the
    field in a dock's collapsed section. Defaults must be immutable (numbers, strings,
    tuples, None).
    """
    if isinstance(default, list | dict | set):
        raise TypeError(f"option defaults must be immutable, got {default!r}")
    meta = {
        "label": label,
        "doc": doc,
        "bounds": bounds,
        "choices": choices,
        "advanced": advanced,
        "flag": flag,
        "unit": unit,
    }
    return dataclasses.field(default=default, metadata={"option": meta})


def _unwrap(tp: Any) -> tuple[Any, bool, bool]:
    """``(base, optional, multiple)`` of an annotation."""
    optional = False
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        tp = args[0] if len(args) == 1 else Any
        origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return str, optional, False
    if origin in (tuple, Sequence):
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        inner_base, _, _ = _unwrap(inner)
        return inner_base, optional, True
    return (tp if isinstance(tp, type) else None), optional, False


def _check_scalar(spec: OptionSpec, value: Any) -> Any:
    """One value against the field's type, bounds and choices (the wording of
    :func:`~napari_unmix.core.validate.check_int` / ``check_number``)."""
    base, name = spec.base, spec.name
    lo, hi = spec.bounds if spec.bounds is not None else (None, None)
    if base is bool:
        if not isinstance(value, bool | np.bool_):
            raise OptionError(f"{name} must be True or False, got {name}={value!r}")
        return bool(value)
    if base is int:
        return check_int(name, value, minimum=lo, maximum=hi)
    if base is float:
        return check_number(name, value, minimum=lo, maximum=hi)
    if base is str:
        if not isinstance(value, str):
            raise OptionError(f"{name} must be a string, got {name}={value!r}")
        names = spec.choice_names
        if names is not None and value not in names:
            near = difflib.get_close_matches(value, names, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise OptionError(f"{name} must be one of {names}, got {name}={value!r}{hint}")
    return value


@dataclass(frozen=True)
class Options:
    """Base of every tool's options; see the module docstring."""

    _specs_cache: ClassVar[dict[type, tuple[OptionSpec, ...]]] = {}

    def __post_init__(self) -> None:
        for spec in self.specs():
            value = getattr(self, spec.name)
            object.__setattr__(self, spec.name, self.check(spec, value))

    @classmethod
    def check(cls, spec: OptionSpec, value: Any) -> Any:
        """The validated (and normalised) value of one field; OptionError if not allowed."""
        if value is None:
            if spec.optional or spec.default is None:
                return None
            raise OptionError(f"{spec.name} must not be None (default {spec.default!r})")
        if spec.base is None:
            return value
        if spec.multiple:
            if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                return (_check_scalar(spec, value),)
            return tuple(_check_scalar(spec, v) for v in value)
        return _check_scalar(spec, value)

    @classmethod
    def specs(cls) -> tuple[OptionSpec, ...]:
        """One :class:`OptionSpec` per field, in definition order."""
        cached = Options._specs_cache.get(cls)
        if cached is not None:
            return cached
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("option")
            if meta is None:
                continue
            base, optional, multiple = _unwrap(hints.get(f.name, Any))
            out.append(
                OptionSpec(
                    name=f.name,
                    default=f.default if f.default is not _MISSING else None,
                    type=hints.get(f.name, Any),
                    base=base,
                    optional=optional,
                    multiple=multiple,
                    **meta,
                )
            )
        Options._specs_cache[cls] = tuple(out)
        return Options._specs_cache[cls]

    @classmethod
    def spec(cls, name: str) -> OptionSpec:
        """The spec of one field."""
        for s in cls.specs():
            if s.name == name:
                return s
        raise KeyError(name)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{name: default}`` of every field."""
        return {s.name: s.default for s in cls.specs()}

    @classmethod
    def pick(cls, values: Mapping[str, Any]) -> Options:
        """Build from the fields found in ``values`` (e.g. a function's ``locals()``)."""
        names = {s.name for s in cls.specs()}
        return cls(**{k: v for k, v in values.items() if k in names})

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any], *, where: str = "") -> Options:
        """Build from keyword arguments, refusing unknown names with a suggestion."""
        names = [s.name for s in cls.specs()]
        for key in kwargs:
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                place = f"{where}: " if where else ""
                raise OptionError(
                    f"{place}unknown option {key!r}{hint} (options: {', '.join(names)})"
                )
        return cls(**kwargs)

    def as_dict(self) -> dict[str, Any]:
        """``{name: value}`` of every field (for reports and sidecars)."""
        return {s.name: getattr(self, s.name) for s in self.specs()}


def _refuse_unknown(key: str, names: Sequence[str], where: str) -> None:
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise OptionError(f"{where}: unknown option {key!r}{hint} (options: {', '.join(names)})")


def takes_options(
    *classes: type[Options], exclude: Sequence[str] = (), check_types: bool = False
) -> Any:
    """Decorator: the function's keyword options are generated from the options class(es).

    The decorated function is written ``def f(data, /, *, ..., options: X)`` and receives one
    validated ``X``; callers pass the fields as keywords (``f(data, k=3)``), an ``options=``
    object, or both (keywords win). ``help()``, IDEs and ``inspect.signature`` show every field
    as an explicit keyword with its default, so several functions that take the same
    options do not restate their signatures, and a default is written only in ``X``.
    Unknown keywords are refused with a suggestion.

    A parameter the function declares itself keeps its place and kind (e.g. a positional
    ``channels`` or a required ``registration_channel``) and, when it is a field, its value
    also goes into the options. ``exclude``: fields the function does not take (left at
    their defaults). With several classes (``takes_options(A, B)``) the keywords are the
    fields of all of them (a name shared by several goes to each) and ``options`` is the
    tuple ``(A(...), B(...))``. ``check_types``: the keywords' types are checked first with
    :func:`~napari_unmix.core.validate.check_option_types` (its wording, e.g. "must be an
    integer, got", where the class would name the range too).

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class FitOptions(Options):
    ...     max_iter: int = option(100, label="Iterations", doc="cap", bounds=(1, None))
    >>> @takes_options(FitOptions)
    ... def fit(x, /, *, options):
    ...     return x * options.max_iter
    >>> fit(2), fit(2, max_iter=3), fit(2, options=FitOptions(max_iter=4))
    (200, 6, 8)
    >>> list(inspect.signature(fit).parameters)
    ['x', 'max_iter', 'options']
    >>> fit(2, max_iters=3)
    Traceback (most recent call last):
    ...
    napari_unmix.core.validate.OptionError: fit: unknown option 'max_iters'; did you mean 'max_iter'? (options: max_iter)
    """
    specs: dict[str, OptionSpec] = {}
    for cls in classes:
        for s in cls.specs():
            if s.name not in exclude:
                specs.setdefault(s.name, s)
    names = list(specs)
    single = len(classes) == 1
    kinds = classes[0] if single else tuple

    def build(fields: dict[str, Any], given: Any) -> Any:
        if given is not None and not (
            isinstance(given, kinds) if single else len(given) == len(classes)
        ):
            what = (
                classes[0].__name__
                if single
                else "tuple of " + ", ".join(c.__name__ for c in classes)
            )
            raise OptionError(f"options must be a {what}, got {type(given).__name__}")
        bases = (given,) if single else (given or (None,) * len(classes))
        out = []
        for cls, base in zip(classes, bases, strict=True):
            own = {s.name for s in cls.specs()}
            values = {k: v for k, v in fields.items() if k in own}
            if base is None:
                out.append(cls(**values))
            elif not isinstance(base, cls):
                raise OptionError(f"options must be a {cls.__name__}, got {type(base).__name__}")
            else:
                out.append(dataclasses.replace(base, **values) if values else base)
        return out[0] if single else tuple(out)

    def decorate(func: Any) -> Any:
        sig = inspect.signature(func)
        own = [p for p in sig.parameters.values() if p.name != "options"]
        own_names = {p.name for p in own}
        head = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        tail = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        generated = [
            inspect.Parameter(
                s.name, inspect.Parameter.KEYWORD_ONLY, default=s.default, annotation=s.type
            )
            for s in specs.values()
            if s.name not in own_names
        ]
        holder = inspect.Parameter(
            "options",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=(classes[0] if single else tuple) | None,
        )

        @functools.wraps(func)
        def _with_options(*args: Any, **kwargs: Any) -> Any:
            given = kwargs.pop("options", None)
            fields = {p.name: v for p, v in zip(head, args, strict=False) if p.name in specs}
            for k in list(kwargs):
                if k in specs:
                    fields[k] = kwargs[k] if k in own_names else kwargs.pop(k)
                elif k not in own_names:
                    _refuse_unknown(k, names, func.__name__)
            if check_types:
                check_option_types(_with_options, fields)
            return func(*args, options=build(fields, given), **kwargs)

        _with_options.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[*head, *tail, *generated, holder]
        )
        del _with_options.__wrapped__  # type: ignore[attr-defined]
        return _with_options

    return decorate
