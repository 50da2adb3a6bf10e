"""Run every ``bench_*.py`` in this folder (each in its own process) and print one table.

Usage: ``python benchmarks/run_all.py [--stnmf-python PATH] [--only NAME ...] [--quick]
[--write-docs] [--collect-only]`` (``make bench`` does this with the bench virtualenvs).

The one table has a row per tool and case (from each benchmark's ``save_summary``): our
time, peak memory and accuracy against the ground truth, the reference package's, and
the time ratio. ``--write-docs`` writes it, the machine description, the date and every
benchmark's full table to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import OUTPUT, SUMMARY_COLUMNS, machine, print_table  # noqa: E402

DOCS = HERE.parent / "docs" / "benchmarks.md"
_VERSIONS = ("napari-unmix", "numpy", "scipy", "scikit-learn", "dask", "zarr",
             "spectral-unmixing", "foodspec")  # fmt: skip


def machine_description() -> dict[str, str]:
    """CPU, cores, memory, OS, Python, BLAS and package versions of this run."""
    cpu = platform.processor() or platform.machine()
    mem = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = next(ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln)
        kb = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in ln)
        mem = f"{int(kb.split()[1]) / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        pass
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        )
    except Exception:  # threadpoolctl missing or unhappy: leave it out
        pass
    versions = []
    for name in _VERSIONS:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return {
        "machine": machine(),
        "cpu": cpu,
        "memory": mem,
        "os": platform.platform(),
        "blas": blas,
        "packages": ", ".join(versions),
    }


def _md_table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> str:
    if not rows:
        return "(no rows)\n"
    cols = cols or list(dict.fromkeys(k for r in rows for k in r))

    def cell(v: Any) -> str:
        return str("" if v is None else v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def collect(stems: list[str], failed: list[str]) -> tuple[list[dict], dict[str, list[dict]]]:
    """Summary rows (a placeholder for a benchmark without any) and every full table."""
    summary, tables = [], {}
    for stem in stems:
        full, short = OUTPUT / f"{stem}.json", OUTPUT / f"{stem}.summary.json"
        if full.exists():
            tables[stem] = json.loads(full.read_text())
        if short.exists():
            summary.extend(json.loads(short.read_text()))
        else:
            note = "failed" if stem in failed else "no summary rows: see its full table"
            summary.append({"tool": stem.removeprefix("bench_"), "case": f"({note})"})
    return summary, tables


def write_docs(path: Path, summary: list[dict], tables: dict, info: dict, run: dict) -> Path:
    """``docs/benchmarks.md``: machine, date, the summary table, every full table."""
    now, argv = run["date"], run["command"]
    parts = [
        "# Benchmarks\n",
        "Written by `benchmarks/run_all.py --write-docs` (run by `make bench`); do not edit "
        "by hand. Every tool is timed side by side with its reference package on the same "
        "synthetic data with known ground truth, in the same run. Ratios are reference time "
        "/ our time (above 1: we are faster). Peak memory is `ru_maxrss` of the process "
        "that ran the case. A reference that could not be installed or run says "
        '"not available".\n',
        (
            "> This run used `--quick` (reduced sizes): a trial that everything runs, not the "
            "reference figures; `make bench` gives the full sizes.\n"
            if "--quick" in argv
            else ""
        ),
        f"- date: {now}\n- command: `{argv}`\n"
        + "".join(f"- {k}: {v}\n" for k, v in info.items() if v),
        "## Summary\n",
        _md_table(summary, list(SUMMARY_COLUMNS)),
    ]
    for stem, rows in tables.items():
        parts += [f"## {stem}\n", _md_table(rows)]
    path.write_text("\n".join(parts))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stnmf-python", default=None, help="python of the stnmf reference venv")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (e.g. bench_nnmf)")
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOCS.name}")
    parser.add_argument("--docs", type=Path, default=DOCS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--collect-only", action="store_true", help="run nothing: tabulate the saved outputs"
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if args.stnmf_python:
        env["STNMF_PYTHON"] = args.stnmf_python
    scripts = [s for s in sorted(HERE.glob("bench_*.py")) if not args.only or s.stem in args.only]
    failed, stems = [], []
    for script in scripts:
        stems.append(script.stem)
        if args.collect_only:
            continue
        for old in (OUTPUT / f"{script.stem}.json", OUTPUT / f"{script.stem}.summary.json"):
            old.unlink(missing_ok=True)  # never report a previous run's numbers
        print(f"\n=== {script.stem} ===", flush=True)
        t0 = time.perf_counter()
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        code = subprocess.run(cmd, env=env).returncode
        print(f"=== {script.stem}: exit {code}, {time.perf_counter() - t0:.0f} s ===", flush=True)
        if code != 0:
            failed.append(script.stem)
    run_file = OUTPUT / "run_info.json"
    if args.collect_only and run_file.exists():
        run = json.loads(run_file.read_text())  # when and how the outputs were measured
    else:
        run = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "python benchmarks/run_all.py " + " ".join(sys.argv[1:]),
        }
        if not args.collect_only:
            OUTPUT.mkdir(parents=True, exist_ok=True)
            run_file.write_text(json.dumps(run) + "\n")
    summary, tables = collect(stems, failed)
    info = machine_description()
    print(f"\n=== summary ({info['machine']}; {info['cpu']}) ===")
    print_table([{c: r.get(c, "") for c in SUMMARY_COLUMNS} for r in summary])
    if failed:
        print(f"failed: {', '.join(failed)}")
    if args.write_docs:
        print(f"wrote {write_docs(args.docs, summary, tables, info, run)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
