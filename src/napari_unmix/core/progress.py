"""One progress protocol for every long computation.

A long computation is a generator that yields :class:`Progress` events and *returns* its
result; :func:`run` drives one to its end for scripts (optionally passing each event to a
callback), the docks wrap the same generator in a ``thread_worker`` and throttle what they
draw, and one generator drives another with ``yield from``.

Examples
--------
>>> def work(n):
...     total = 0
...     for i in range(n):
...         total += i
...         yield Progress(i + 1, n, "adding")
...     return total
>>> run(work(4))
6
>>> seen = []
>>> run(work(2), seen.append)
1
>>> [e.fraction for e in seen]
[0.5, 1.0]
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

__all__ = ["Progress", "Steps", "run", "run_form"]


@dataclass(frozen=True)
class Progress:
    """One progress event: ``done`` of ``total`` steps (``total`` None: unknown), a short
    message, and optionally a partial result (e.g. the current maps, for a live preview)."""

    done: float = 0
    total: float | None = None
    message: str = ""
    partial: Any = None

    @property
    def fraction(self) -> float | None:
        """``done / total`` in 0..1, or None when the total is unknown."""
        if not self.total:
            return None
        return min(max(float(self.done) / float(self.total), 0.0), 1.0)

    def __str__(self) -> str:
        head = f"{self.done:g}/{self.total:g}" if self.total else f"{self.done:g}"
        return f"{head} {self.message}".strip()


#: The type of a long computation: yields :class:`Progress`, returns the result.
Steps = Generator[Progress, None, Any]


def run(steps: Steps, callback: Callable[[Progress], Any] | None = None) -> Any:
    """Drive ``steps`` to its end and return its return value; ``callback(event)`` per event.

    Examples
    --------
    >>> def g():
    ...     yield Progress(1, 1)
    ...     return "done"
    >>> run(g())
    'done'
    """
    while True:
        try:
            event = next(steps)
        except StopIteration as stop:
            return stop.value
        if callback is not None:
            callback(event)


def run_form[**P, R](
    steps: Callable[P, Generator[Any, None, R]], name: str, doc: str, returns: Any = None
) -> Callable[P, R]:
    """The plain function of a generator function: the same signature (shown by ``help()``
    and IDEs), runs it to the end with :func:`run`. ``doc`` is its docstring (a one-line
    ``doc`` gets a note pointing to the generator's parameters), ``returns`` its return
    annotation.

    Examples
    --------
    >>> def iter_sum(n: int, /, *, start: int = 0) -> Steps:
    ...     yield Progress(1, 1)
    ...     return start + n
    >>> add = run_form(iter_sum, "add", "Add.", "int")
    >>> add(2, start=1), list(inspect.signature(add).parameters)
    (3, ['n', 'start'])
    """

    @functools.wraps(steps)
    def _plain(*args: Any, **kwargs: Any) -> Any:
        return run(steps(*args, **kwargs))

    sig = inspect.signature(steps)
    _plain.__signature__ = sig.replace(  # type: ignore[attr-defined]
        return_annotation=sig.empty if returns is None else returns
    )
    _plain.__name__ = _plain.__qualname__ = name
    if "\n" not in doc.strip():
        doc = (
            f"{doc}\n\n    The parameters are those of :func:`{steps.__name__}` (shown by "
            "``help()``);\n    this runs it to the end and returns its result.\n    "
        )
    _plain.__doc__ = doc
    del _plain.__wrapped__  # type: ignore[attr-defined]
    return _plain
