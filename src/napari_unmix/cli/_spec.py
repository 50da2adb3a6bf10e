"""The shapes of the command table: :class:`Command` (one sub-command) and :class:`Option`
(one flag), and :func:`options_from` which makes the flags of a tool's options class."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

__all__ = ["Command", "Option", "opt", "options_from"]

PROG = "napari-unmix"


@dataclass(frozen=True)
class Option:
    """One command-line option: its flag, the API keyword it feeds, argparse settings."""

    flag: str
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    keyword: str = ""

    @property
    def dest(self) -> str:
        return self.keyword or self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Command:
    """One sub-command: ``target(*prefix, input_path, output_path, **options)``."""

    help: str
    target: str  # "module:function", imported when the command runs
    options: tuple[Option, ...] = ()
    prefix: tuple[Any, ...] = ()
    progress: bool = False  # the target accepts progress=callable(done, total)
    overwrite: bool = True  # the target accepts overwrite=bool
    keywords: dict[str, Any] = field(default_factory=dict)  # fixed extra keywords
    verbose: str = ""  # name of the target's print-progress keyword (set to not --quiet)
    args: tuple[tuple[str, str], ...] = ()  # extra positional (name, help) after output_path
    output_help: str = "output OME-TIFF (a JSON report is written next to it)"
    input_help: str = "input image file"
    spectral: bool = False  # the target takes spectral_axis / spectral_units
    input_extensions: tuple[str, ...] = ()  # batch folders: these endings too (besides images)


def opt(
    flag: str,
    help: str,
    *,
    type: Any = None,
    choices: Any = None,
    nargs: Any = None,
    action: Any = None,
    metavar: str | None = None,
    required: bool = False,
    default: Any = None,
    keyword: str = "",
) -> Option:
    """Shorthand for :class:`Option`; the keyword is the flag in snake case."""
    given = {
        "type": type,
        "choices": choices,
        "nargs": nargs,
        "action": action,
        "metavar": metavar,
        "required": required or None,
        "default": default,
    }
    return Option(flag, help, {k: v for k, v in given.items() if v is not None}, keyword)


def options_from(
    options: Any,
    *,
    exclude: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> tuple[Option, ...]:
    """The flags of a tool's options class (:class:`~napari_unmix.core.options.Options`).

    Flag ``--field-name`` (or the field's ``flag``), the field's type, its choices (a
    registry's keys), ``nargs="+"`` for tuples, ``--x`` / ``--no-x`` for booleans, and help
    from its doc with the default. ``only`` keeps those fields (in that order).

    Examples
    --------
    >>> from napari_unmix.core.nmf import NmfOptions
    >>> o, = options_from(NmfOptions, only=("max_iter",))
    >>> o.flag, o.dest, o.kwargs["type"].__name__, o.help == NmfOptions.spec("max_iter").help()
    ('--max-iter', 'max_iter', 'int', True)
    """
    specs = {s.name: s for s in options.specs()}
    names = list(only) if only is not None else [n for n in specs if n not in exclude]
    out = []
    for name in names:
        s = specs[name]
        flag = s.flag or "--" + name.lower().replace("_", "-")
        text = s.help().replace("%", "%%")
        if s.base is bool and not s.multiple:
            out.append(Option(flag, text, {"action": argparse.BooleanOptionalAction}, name))
            continue
        kw: dict[str, Any] = {}
        if s.base in (int, float, str):
            kw["type"] = s.base
        if s.choice_names is not None:
            kw["choices"] = s.choice_names
        if s.multiple:
            kw["nargs"] = "+"
        out.append(Option(flag, text, kw, name))
    return tuple(out)


class _OneOrMore(argparse.Action):
    """``nargs="+"`` that keeps one value as a scalar (``--alpha 0.3`` -> 0.3)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values[0] if len(values) == 1 else list(values))


def _choices(where: str) -> list[str] | None:
    """Keys of a registry ``"module:NAME"`` for ``choices=``; None (no check here, the API
    validates) if it cannot be imported."""
    module, _, attr = where.partition(":")
    try:
        return list(getattr(import_module(module), attr))
    except (ImportError, AttributeError):
        return None
