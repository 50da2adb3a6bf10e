"""One registry shape for every method list: name -> function, label, doc, options.

Estimators, seed modes, solvers, clustering methods, implementations: each list is one
:class:`Registry` of :class:`Method` entries next to the code it names. The API validates a
name with :meth:`Registry.resolve` (a clear error with the allowed names), the CLI takes its
``choices`` from the keys, the docks fill their dropdowns from :meth:`Registry.labels`.
Adding a method is one entry.

Examples
--------
>>> def double(x):
...     return 2 * x
>>> OPS = Registry("operation", [Method("double", double, "Double", "multiply by two")])
>>> OPS.resolve("double").function(3)
6
>>> list(OPS)
['double']
>>> OPS.resolve("tripple")
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: unknown operation 'tripple'; choose one of ['double']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .validate import OptionError

__all__ = ["Method", "Registry"]


@dataclass(frozen=True)
class Method:
    """One entry: ``name`` (the value users type), the function, a dropdown label, a one-line
    doc, and optionally the method's own options class (see :mod:`.options`)."""

    name: str
    function: Callable[..., Any]
    label: str
    doc: str
    options: type | None = None


class Registry(Mapping[str, Method]):
    """An ordered, read-only ``{name: Method}``; ``kind`` names the list in error messages."""

    def __init__(self, kind: str, methods: Iterable[Method]) -> None:
        self.kind = kind
        self._methods: dict[str, Method] = {}
        for m in methods:
            if m.name in self._methods:
                raise ValueError(f"{kind} {m.name!r} is registered twice")
            self._methods[m.name] = m

    def __getitem__(self, name: str) -> Method:
        return self._methods[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._methods)

    def __len__(self) -> int:
        return len(self._methods)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._methods)})"

    def resolve(self, name: Any) -> Method:
        """The entry called ``name``, or an OptionError listing the allowed names."""
        if isinstance(name, str) and name in self._methods:
            return self._methods[name]
        names = list(self._methods)
        near = difflib.get_close_matches(name, names, n=1) if isinstance(name, str) else []
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise OptionError(f"unknown {self.kind} {name!r}; choose one of {names}{hint}")

    def labels(self) -> dict[str, str]:
        """``{label: name}`` for a dropdown."""
        return {m.label: m.name for m in self._methods.values()}

    def functions(self) -> Mapping[str, Callable[..., Any]]:
        """``{name: function}``, for callers that only dispatch."""
        return {n: m.function for n, m in self._methods.items()}
