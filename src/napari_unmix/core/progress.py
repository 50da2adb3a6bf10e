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

__all__ = ["Progress", "Steps", "run", "runs"]


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


def runs(steps: Callable[..., Steps], name: str, doc: str, returns: Any = None) -> Callable:
    """The script form of the long computation ``steps``: a function called ``name``, with
    ``steps``' parameters (``help()`` and IDEs show them), that returns :func:`run` of it.

    Examples
    --------
    >>> def iter_count(n, /, *, step=1):
    ...     yield Progress(n, n)
    ...     return n * step
    >>> count = runs(iter_count, "count", "Count to the end.", returns=int)
    >>> count(3, step=2), str(inspect.signature(count))
    (6, '(n, /, *, step=1) -> int')
    """

    @functools.wraps(steps)
    def _script(*args: Any, **kwargs: Any) -> Any:
        return run(steps(*args, **kwargs))

    sig = inspect.signature(steps)
    _script.__signature__ = sig.replace(  # type: ignore[attr-defined]
        return_annotation=sig.empty if returns is None else returns
    )
    _script.__name__ = _script.__qualname__ = name
    _script.__doc__ = doc
    del _script.__wrapped__
    return _script
