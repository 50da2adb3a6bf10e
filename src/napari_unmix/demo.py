"""``python -m napari_unmix.demo``: run every tool on the built-in sample data.

Writes OME-TIFF results, JSON sidecars and PNG figures to the output folder and prints a
summary table: what ran, the key numbers against the known ground truth, and the time.
"""

from __future__ import annotations

import argparse
import pkgutil
import sys
import time
import traceback
from importlib import import_module
from pathlib import Path

from . import demos


def demo_modules() -> list[str]:
    """Names of the demo modules in run order."""
    found = sorted(
        m.name for m in pkgutil.iter_modules(demos.__path__) if not m.name.startswith("_")
    )
    return [m for m in demos.ORDER if m in found] + [m for m in found if m not in demos.ORDER]


def format_table(rows: list[dict]) -> str:
    """Render rows (dicts with the same keys) as a fixed-width text table.

    Examples
    --------
    >>> print(format_table([{"tool": "a", "seconds": "0.1"}]))
    tool | seconds
    -----+--------
    a    | 0.1
    """
    if not rows:
        return "(no rows)"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    line = " | ".join(c.ljust(width[c]) for c in cols).rstrip()
    sep = "-+-".join("-" * width[c] for c in cols)
    body = [" | ".join(str(r.get(c, "")).ljust(width[c]) for c in cols).rstrip() for r in rows]
    return "\n".join([line, sep, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo_output", help="output folder (created)")
    parser.add_argument("--only", nargs="*", help="run only these demos")
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rows, failed = [], []
    for name in demo_modules():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        print(f"[demo] {name} ...", file=sys.stderr, flush=True)
        try:
            results = import_module(f"{demos.__name__}.{name}").run(out / name)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            results = [{"tool": name, "result": "FAILED (see traceback above)"}]
        dt = time.perf_counter() - t0
        for r in results:
            rows.append({"tool": r.pop("tool", name), **r, "seconds": f"{dt:.1f}"})
    print(
        format_table(
            [
                {k: r.get(k, "") for k in ("tool", "result", "vs ground truth", "seconds")}
                for r in rows
            ]
        )
    )
    print(f"\noutputs in {out.resolve()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
