"""benchmarks/run_all.py tabulates the saved outputs into one table and docs/benchmarks.md."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_collect_only_writes_one_summary_table(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        from _common import summary_row
    finally:
        sys.path.remove(str(BENCH))
    row = summary_row(
        "bleed-through, out of core", "unmix()", data="6.4 GB", ours_s=20.0,
        ours_peak_mb=300.0, ours_accuracy="|alpha-truth| 1e-3", reference="copy",
        reference_s=10.0, reference_peak_mb=150.0,
    )  # fmt: skip
    assert row["time ratio ref/ours"] == "0.50x"
    (tmp_path / "bench_outofcore.summary.json").write_text(json.dumps([row]))
    (tmp_path / "bench_outofcore.json").write_text(json.dumps([{"case": "x", "time_s": 20}]))
    run = {"date": "2026-01-01 00:00 UTC", "command": "python benchmarks/run_all.py --quick"}
    (tmp_path / "run_info.json").write_text(json.dumps(run))
    docs = tmp_path / "benchmarks.md"
    out = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--collect-only", "--write-docs",
         "--docs", str(docs)],
        env={**os.environ, "BENCH_OUTPUT": str(tmp_path)}, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "=== summary" in out.stdout and "0.50x" in out.stdout
    text = docs.read_text()
    assert "2026-01-01 00:00 UTC" in text and "`--quick`" in text and "memory" in text
    assert "| bleed-through, out of core | unmix() | 6.4 GB | 20.0 | 300.0 |" in text
    assert "| nnmf | (no summary rows: see its full table) |" in text
    assert "## bench_outofcore" in text
