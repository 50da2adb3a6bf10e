"""Run every ``bench_*.py`` in this folder (each in its own process) and print one table.

Usage: ``python benchmarks/run_all.py [--stnmf-python PATH] [--only NAME ...]``
(``make bench`` does this with the bench virtualenvs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import OUTPUT, machine, print_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stnmf-python", default=None, help="python of the stnmf reference venv")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (e.g. bench_nnmf)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.stnmf_python:
        env["STNMF_PYTHON"] = args.stnmf_python
    scripts = sorted(HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        if args.only and script.stem not in args.only:
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], env=env).returncode != 0:
            failed.append(script.stem)
    rows = []
    for path in sorted(OUTPUT.glob("bench_*.json")):
        rows.extend(json.loads(path.read_text()))
    print(f"\n=== summary ({machine()}) ===")
    print_table(rows)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
