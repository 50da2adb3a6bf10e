"""Shared helpers for the benchmark scripts: timing, peak memory, result rows.

Contract: every ``bench_*.py`` prints its own table and writes its rows with
:func:`save_rows` to ``bench_output/<name>.json``, and its headline rows (one per tool and
case: our time, peak memory and accuracy vs the reference's, and the ratio) built with
:func:`summary_row` and written with :func:`save_summary` to
``bench_output/<name>.summary.json``. ``run_all.py`` prints the summary rows of every
benchmark as one table and, with ``--write-docs``, writes ``docs/benchmarks.md`` (the
summary plus each benchmark's full table).
"""

from __future__ import annotations

import argparse
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


def quick_run(doc: str, quick_help: str) -> bool:
    """Parse a benchmark's command line (its ``--help`` is the first line of ``doc``):
    whether ``--quick`` (``quick_help`` says what it shortens) was given."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser.parse_args().quick


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


#: Columns of the one summary table, in order.
SUMMARY_COLUMNS = (
    "tool", "case", "data", "ours s", "ours peak MB", "ours accuracy", "reference",
    "reference s", "reference peak MB", "reference accuracy", "time ratio ref/ours",
)  # fmt: skip


def _fmt(value: Any, digits: int = 3) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if abs(value) < 10**digits else round(value)
    return value


def summary_row(
    tool: str,
    case: str,
    *,
    data: str,
    ours_s: float | None,
    ours_peak_mb: float | None = None,
    ours_accuracy: str | None = None,
    reference: str = "",
    reference_s: float | str | None = None,
    reference_peak_mb: float | None = None,
    reference_accuracy: str | None = None,
) -> dict[str, Any]:
    """One row of the summary table (``reference_s`` may say "not available").

    Accuracies are short strings naming their metric (e.g. ``"|alpha-truth| 2e-4"``,
    ``"ARI 0.99"``). The ratio is reference time / our time (> 1: we are faster).
    """
    ratio = ""
    if isinstance(reference_s, int | float) and ours_s:
        ratio = f"{reference_s / ours_s:.2f}x"
    row = {
        "tool": tool,
        "case": case,
        "data": data,
        "ours s": _fmt(ours_s),
        "ours peak MB": _fmt(ours_peak_mb),
        "ours accuracy": ours_accuracy,
        "reference": reference,
        "reference s": _fmt(reference_s) if reference_s is not None else "",
        "reference peak MB": _fmt(reference_peak_mb),
        "reference accuracy": reference_accuracy,
        "time ratio ref/ours": ratio,
    }
    return {k: ("" if v is None else v) for k, v in row.items()}


def save_summary(name: str, rows: list[dict[str, Any]]) -> Path:
    """Write this benchmark's summary rows (see :func:`summary_row`) for run_all.py."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.summary.json"
    path.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return path
