"""Batch mode: one ``--output-dir`` call over a folder versus one CLI call per file.

A folder of N small stacks (2 × 3 × 2 × 64 × 64 float32 OME-TIFF) is processed with
``napari-unmix max-z`` and ``napari-unmix unmix --alpha 0.3`` twice: once as one batch
call (``napari-unmix CMD folder --output-dir out``, one process) and once as N separate
``python -m napari_unmix.cli CMD in out`` processes (the obvious baseline: a shell loop).
Both outputs are compared file by file (they must be identical). Reported: wall time
per stack and the ratio (separate / batch). No reference package has a batch mode.

Run: ``PYTHONPATH=src python benchmarks/bench_batch.py [--quick]``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import _common
from _common import machine, print_table, save_rows, save_summary, summary_row

ROOT = Path(__file__).resolve().parents[1]


def _make_folder(folder: Path, n: int) -> None:
    from napari_unmix.io.omio_io import write_image

    rng = np.random.default_rng(0)
    folder.mkdir()
    for i in range(n):
        data = (rng.random((2, 3, 2, 64, 64)) * 1000).astype(np.float32)
        write_image(folder / f"stack{i:02d}.ome.tif", data)


def _cli(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "napari_unmix.cli", *args, "--quiet"]
    subprocess.run(cmd, check=True, env=env, capture_output=True)


def _same(a: Path, b: Path) -> bool:
    from napari_unmix.io.omio_io import read_image

    return all(
        np.array_equal(read_image(f)[0], read_image(b / f.name)[0]) for f in sorted(a.glob("*.tif"))
    )


def main() -> None:
    quick = _common.quick_run(__doc__, "5 stacks instead of 20")
    n = 5 if quick else 20
    rows, summary = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw = tmp / "raw"
        _make_folder(raw, n)
        for command, options in (("max-z", []), ("unmix", ["--alpha", "0.3"])):
            batch_out, loop_out = tmp / f"{command}_batch", tmp / f"{command}_loop"
            t0 = time.perf_counter()
            _cli(command, str(raw), "--output-dir", str(batch_out), *options)
            t_batch = time.perf_counter() - t0
            loop_out.mkdir()
            suffix = "_" + command.replace("-", "_")
            t0 = time.perf_counter()
            for f in sorted(raw.glob("*.ome.tif")):
                stem = f.name[: -len(".ome.tif")]
                _cli(command, str(f), str(loop_out / f"{stem}{suffix}.ome.tif"), *options)
            t_loop = time.perf_counter() - t0
            same = _same(batch_out, loop_out)
            rows.append(
                {
                    "command": command,
                    "stacks": n,
                    "batch s": round(t_batch, 2),
                    "separate calls s": round(t_loop, 2),
                    "batch s/stack": round(t_batch / n, 3),
                    "separate s/stack": round(t_loop / n, 3),
                    "ratio separate/batch": round(t_loop / t_batch, 1),
                    "identical outputs": same,
                }
            )
            summary.append(
                summary_row(
                    "batch",
                    f"{command}, {n} stacks",
                    data="2x3x2x64x64 float32 OME-TIFF",
                    ours_s=t_batch,
                    ours_accuracy=f"outputs identical: {same}",
                    reference=f"{n} separate CLI calls",
                    reference_s=t_loop,
                )
            )
    print(machine())
    print_table(rows)
    save_rows("bench_batch", rows)
    save_summary("bench_batch", summary)


if __name__ == "__main__":
    main()
