"""Shared helpers for the benchmark scripts: timing, peak memory, result rows.

Contract: every ``bench_*.py`` prints its own table and writes its rows with
:func:`save_rows` to ``bench_output/<name>.json``; ``run_all.py`` collects them into one
table and ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUTPUT = Path(os.environ.get("BENCH_OUTPUT", Path(__file__).resolve().parents[1] / "bench_output"))


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Median wall time (s) of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB, from ru_maxrss)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> str:
    """One-line machine description for the tables."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def save_rows(name: str, rows: list[dict[str, Any]]) -> Path:
    """Write this benchmark's rows as JSON for run_all.py."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.json"
    path.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return path


def print_table(rows: list[dict[str, Any]]) -> None:
    """Print rows as a fixed-width table."""
    if not rows:
        print("(no rows)")
        return
    cols = list(dict.fromkeys(k for r in rows for k in r))
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(width[c]) for c in cols))
    print("-+-".join("-" * width[c] for c in cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")).ljust(width[c]) for c in cols))
