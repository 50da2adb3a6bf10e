"""Cluster maps of a cube on disk: chunked (bounded sample + chunk labels) vs in memory.

The two-region cube (200 wavenumbers, noise 0.05) at 512×512 (``--quick``: 192×192) is
written once as an OME-Zarr store (64×64 chunks of all bands). Each case runs in a fresh
process so its peak memory (``ru_maxrss``) is its own:

* **in memory** (the obvious baseline): read the whole cube, ``cluster_map`` on numpy
  (k-means on every pixel);
* **chunked**: ``read_lazy`` + ``cluster_map`` on the dask cube (k-means fitted on 20000
  seeded pixels, every chunk labelled once, cluster spectra summed in the same pass).

Reported: wall time, peak memory (the process's, interpreter and imports included, about
150 MB), ARI against the true regions, agreement of the two maps.
No reference package clusters a cube chunk by chunk.

Run: ``PYTHONPATH=src python benchmarks/bench_cluster_chunked.py [--quick]``
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row


def _run(conn, store: str, lazy: bool) -> None:
    from napari_unmix.api.hsmap import cluster_map
    from napari_unmix.io.zarr_io import read_lazy

    t0 = time.perf_counter()
    data, _ = read_lazy(store)
    cube = data[0, 0] if lazy else np.asarray(data[0, 0].compute())
    res = cluster_map(cube, 2, random_state=0)
    conn.send((time.perf_counter() - t0, peak_rss_mb(), res.labels))
    conn.close()


def _make(conn, store: str, side: int) -> None:
    from napari_unmix.core.synthetic import make_two_region_cube
    from napari_unmix.io.zarr_io import write_zarr

    cube, truth = make_two_region_cube(shape=(side, side), n_channels=200)
    write_zarr(store, cube[None, None], chunks=(1, 1, 200, 64, 64))
    conn.send((truth["labels"], cube.nbytes / 2**20))
    conn.close()


def _in_child(target, *args):
    """Run ``target(conn, *args)`` in a fresh process (its own peak memory; the parent
    never holds the cube, whose pages a child would otherwise count from the start)."""
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=target, args=(child, *args))
    proc.start()
    out = parent.recv()
    proc.join()
    return out


def main() -> None:
    from napari_unmix.core.metrics import adjusted_rand_index

    quick = _common.quick_run(__doc__, "192x192 instead of 512x512")
    side = 192 if quick else 512
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "cube.ome.zarr")
        truth_labels, mb = _in_child(_make, store, side)
        t_mem, peak_mem, lab_mem = _in_child(_run, store, False)
        t_lazy, peak_lazy, lab_lazy = _in_child(_run, store, True)
    truth = {"labels": truth_labels}
    data = f"{side}x{side}x200 float32 ({mb:.0f} MB), OME-Zarr 64x64 chunks"
    rows = [
        {
            "case": case,
            "data": data,
            "s": round(t, 2),
            "peak MB": round(p),
            "ARI vs truth": round(adjusted_rand_index(truth["labels"], lab), 4),
        }
        for case, t, p, lab in (
            ("in memory (k-means on all pixels)", t_mem, peak_mem, lab_mem),
            ("chunked (20000-pixel fit, chunk labels)", t_lazy, peak_lazy, lab_lazy),
        )
    ]
    agree = adjusted_rand_index(lab_mem, lab_lazy)
    print(machine())
    print_table(rows)
    print(f"ARI between the two maps: {agree:.4f}")
    save_rows("bench_cluster_chunked", rows)
    save_summary(
        "bench_cluster_chunked",
        [
            summary_row(
                "hsmap",
                "cluster map of a cube on disk, chunked",
                data=data,
                ours_s=t_lazy,
                ours_peak_mb=peak_lazy,
                ours_accuracy=f"ARI {rows[1]['ARI vs truth']}",
                reference="in memory (obvious baseline)",
                reference_s=t_mem,
                reference_peak_mb=peak_mem,
                reference_accuracy=f"ARI {rows[0]['ARI vs truth']}",
            )
        ],
    )


if __name__ == "__main__":
    main()
