"""Out-of-core bleed-through: a TZCYX OME-Zarr stack several times larger than the memory bound.

Full size: 12 x 32 x 2 x 2048 x 2048 uint16 = 6.4 GB on disk, memory bound 2 GB (3.2x
smaller than the data). ``--quick``: 8 x 16 x 2 x 1024 x 1024 = 0.54 GB, bound 384 MB
(1.4x: a quick try that the pipeline runs and stays bounded, not the 3x figure).

Each step runs in a fresh process (``ru_maxrss`` is per process) with the same dask
threaded scheduler:

1. *make*: a synthetic stack with known alpha = 0.35 (cells from
   ``make_bleedthrough_stack`` tiled over the plane and shifted per plane, camera offset
   and noise), written chunk by chunk as OME-Zarr (uncompressed, one chunk per plane);
2. *copy*: the floor — every plane read from the input store and written to a new one
   (``da.store(da.from_zarr(...))``: a plain numpy read + write of the same data);
3. *ours*: ``unmix(input.ome.zarr, output.ome.zarr, output_format="ome-zarr",
   output_dtype="same")`` — estimate alpha on the reference time point (exact
   whole-volume percentiles and mask, read in block passes), sampled diagnostics,
   corrected stack written chunk by chunk.

Printed: time, throughput (input MB/s), peak RSS against the bound, the time ratio
ours / copy, and alpha against the truth; the output is checked on a few planes against
a numpy correction with the reported alpha. The address space of the copy and ours
processes is capped (unless ``--no-rlimit``) with ``resource.setrlimit(RLIMIT_AS)`` at
the bound plus a 512 MB allowance for virtual reservations that are never touched
(thread stacks, allocator arenas; about 360 MB seen), so exceeding it fails the run.
Stores go to ``--workdir`` (default: the system temporary folder) and are deleted
afterwards; free space is checked first.

Usage: ``python benchmarks/bench_outofcore.py [--quick] [--no-rlimit] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import machine, print_table, save_rows, save_summary, summary_row  # noqa: E402

ALPHA = 0.35
SIZES = {
    "full": {"shape": (12, 32, 2, 2048, 2048), "bound_mb": 2048},
    "quick": {"shape": (8, 16, 2, 1024, 1024), "bound_mb": 384},
}
VIRTUAL_ALLOWANCE_MB = 512  # RLIMIT_AS headroom: virtual reservations never touched (~360 MB seen)


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _peak_vm_mb() -> float | None:
    """Peak virtual size (VmPeak, Linux), what RLIMIT_AS limits; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------- children
def _make(dst: str, shape: tuple[int, ...]) -> dict:
    import dask.array as da
    import numpy as np

    from napari_unmix.core.synthetic import make_bleedthrough_stack
    from napari_unmix.io.zarr_io import write_zarr

    n_c, ny, nx = shape[2:]
    tile, _ = make_bleedthrough_stack(
        n_t=1, n_z=1, shape=(256, 256), n_cells=10, alpha=ALPHA, noise_sigma=0.0,
        background=0.0, random_state=0,
    )  # fmt: skip
    reps = (-(-ny // 256), -(-nx // 256))
    base = np.stack([np.tile(tile[0, 0, c], reps)[:ny, :nx] for c in range(n_c)])

    def plane(block, block_info=None):
        t, z, c = block_info[None]["chunk-location"][:3]
        rng = np.random.default_rng((t, z, c))
        img = np.roll(base[c], (37 * t + 13 * z, 29 * t + 7 * z), axis=(0, 1)) * 3000.0
        img += 100.0 + rng.integers(0, 24, size=img.shape, dtype=np.uint16)
        return img.astype(np.uint16)[None, None, None]

    lazy = da.zeros(shape, dtype=np.uint16, chunks=(1, 1, 1, ny, nx)).map_blocks(
        plane, dtype=np.uint16
    )
    t0 = time.perf_counter()
    write_zarr(dst, lazy, compression=None, physical_size=(1.0, 0.2, 0.2))
    return {"time_s": time.perf_counter() - t0}


def _copy(src: str, dst: str) -> dict:
    import dask.array as da
    import zarr

    t0 = time.perf_counter()
    arr = zarr.open_group(src, mode="r")["0"]
    out = zarr.create_array(
        dst, shape=arr.shape, chunks=arr.chunks, dtype=arr.dtype, compressors=None, zarr_format=2
    )
    da.store(da.from_zarr(arr), out, lock=False)
    return {"time_s": time.perf_counter() - t0}


def _ours(src: str, dst: str) -> dict:
    from napari_unmix.api.bleedthrough import unmix

    t0 = time.perf_counter()
    unmix(src, dst, output_format="ome-zarr", output_dtype="same", verbose=False)
    elapsed = time.perf_counter() - t0
    rep = json.loads(Path(dst + ".json").read_text())
    return {"time_s": elapsed, "alpha": rep["alpha"]}


def _child(step: str, src: str, dst: str, shape: str, rlimit_mb: str) -> None:
    if int(rlimit_mb) > 0:
        import resource

        limit = int(rlimit_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import dask

    dask.config.set(scheduler="threads")
    dims = tuple(int(v) for v in shape.split("x"))
    out = {"make": lambda: _make(dst, dims), "copy": lambda: _copy(src, dst),
           "ours": lambda: _ours(src, dst)}[step]()  # fmt: skip
    out["peak_rss_mb"] = _peak_rss_mb()
    out["peak_vm_mb"] = _peak_vm_mb()
    print("RESULT " + json.dumps(out), flush=True)


def _run(step: str, src: Path, dst: Path, shape: tuple, rlimit_mb: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--child", step, str(src), str(dst),
           "x".join(map(str, shape)), str(rlimit_mb)]  # fmt: skip
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{step} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def _check_output(src: Path, dst: Path, alpha: float) -> float:
    """Largest difference between the written output and numpy on a few planes."""
    import numpy as np

    from napari_unmix.io.zarr_io import read_zarr

    a, _ = read_zarr(src)
    b, _ = read_zarr(dst)
    worst = 0.0
    for t, z in ((0, 0), (a.shape[0] - 1, a.shape[1] // 2)):
        s, g = (np.asarray(a[t, z, c], np.float32) for c in (0, 1))
        ref = np.clip(np.rint(np.clip(g - np.float32(alpha) * s, 0, None)), 0, 65535)
        worst = max(worst, float(np.abs(np.asarray(b[t, z, 1], np.float32) - ref).max()))
        worst = max(worst, float(np.abs(np.asarray(b[t, z, 0], np.float32) - s).max()))
    return worst


def _du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:7])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small stack, to try it")
    parser.add_argument(
        "--no-rlimit", dest="rlimit", action="store_false", help="do not cap RLIMIT_AS"
    )
    parser.add_argument("--workdir", default=None, help="folder for the stores (default /tmp)")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    shape, bound = size["shape"], size["bound_mb"]
    nbytes = 2 * int(__import__("math").prod(shape))
    base = Path(args.workdir or tempfile.gettempdir())
    free = shutil.disk_usage(base).free
    print(f"machine: {machine()}; stack {shape} uint16 = {nbytes / 1e9:.2f} GB; "
          f"memory bound {bound} MB; free in {base}: {free / 1e9:.1f} GB", flush=True)  # fmt: skip
    if free < 3.2 * nbytes:
        print(f"not enough free disk in {base} (need {3.2 * nbytes / 1e9:.1f} GB); use --workdir")
        return 1
    work = Path(tempfile.mkdtemp(prefix="bench-outofcore-", dir=base))
    src, copy, out = work / "in.ome.zarr", work / "copy.zarr", work / "out.ome.zarr"
    rlimit = bound + VIRTUAL_ALLOWANCE_MB if args.rlimit else 0
    try:
        made = _run("make", src, src, shape)
        print(
            f"made the input in {made['time_s']:.1f} s ({_du_mb(src):.0f} MB on disk)", flush=True
        )
        cp = _run("copy", src, copy, shape, rlimit)
        shutil.rmtree(copy)
        print(f"copy: {cp['time_s']:.1f} s, peak RSS {cp['peak_rss_mb']:.0f} MB", flush=True)
        ours = _run("ours", src, out, shape, rlimit)
        print(f"ours: {ours['time_s']:.1f} s, peak RSS {ours['peak_rss_mb']:.0f} MB, "
              f"peak virtual {ours['peak_vm_mb']} MB", flush=True)  # fmt: skip
        worst = _check_output(src, out, ours["alpha"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    case = f"{'x'.join(map(str, shape))} uint16 {nbytes / 1e9:.2f} GB, bound {bound} MB"
    mb = nbytes / 1e6
    rows = []
    for label, r in (("plain read+write copy (floor)", cp), ("ours: unmix -> ome-zarr", ours)):
        rows.append({
            "benchmark": "out-of-core bleed-through", "case": case, "method": label,
            "time_s": round(r["time_s"], 2), "MB_per_s": round(mb / r["time_s"], 1),
            "peak_rss_mb": round(r["peak_rss_mb"]),
            "peak_virtual_mb": round(r["peak_vm_mb"] or 0) or "n/a",
            "data/peak_rss": round(mb / r["peak_rss_mb"], 2),
            "within_bound": r["peak_rss_mb"] <= bound,
            "rlimit_as_mb": rlimit or "not set",
        })  # fmt: skip
    rows[1]["ratio_vs_copy"] = round(ours["time_s"] / cp["time_s"], 2)
    rows[1]["alpha (truth 0.35)"] = round(ours["alpha"], 4)
    rows[1]["max |out - numpy|"] = worst
    print_table(rows)
    save_rows("bench_outofcore", rows)
    acc = f"|alpha-truth| {abs(ours['alpha'] - ALPHA):.1e}; max |out-numpy| {worst:g}"
    save_summary("bench_outofcore", [
        summary_row(
            "bleed-through, out of core", f"unmix() OME-Zarr -> OME-Zarr, bound {bound} MB",
            data=case, ours_s=ours["time_s"], ours_peak_mb=ours["peak_rss_mb"],
            ours_accuracy=acc, reference="plain read+write copy (floor)",
            reference_s=cp["time_s"], reference_peak_mb=cp["peak_rss_mb"],
        )
    ])  # fmt: skip
    return 0 if all(r["within_bound"] for r in rows) and worst <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
