"""Fault tests: writers killed at seeded random moments leave no partial file under a final
name, and the next write into the folder leaves no temporary behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from napari_unmix.io.safety import StaleTemporaryWarning, is_temporary

# Writes JSON sidecars, spectra CSVs, OME-TIFFs (OMIO) and OME-Zarr stores in turn, each
# with content derived from its index only, until killed.
_WRITER = r"""
import sys
from pathlib import Path
import numpy as np
from napari_unmix.io.omio_io import write_image
from napari_unmix.io.sidecar import write_json
from napari_unmix.io.spectra import write_spectra_csv
from napari_unmix.io.zarr_io import write_zarr
import dask.array, omio, zarr  # imported before "ready": the kills hit writes, not imports

folder = Path(sys.argv[1])

def data(i):
    return (np.arange(2 * 3 * 256 * 256, dtype=np.float32).reshape(1, 2, 3, 256, 256) + i)

print("ready", flush=True)
for i in range(10_000):
    kind = i % 4  # the quick writers first: a multiscale OME-Zarr store takes ~1 s
    if kind == 0:
        write_json(folder / f"out{i}.json", {"i": i, "values": list(range(20_000))})
    elif kind == 1:
        write_spectra_csv(folder / f"out{i}.csv", np.arange(2000.0), np.full((3, 2000), i))
    elif kind == 2:
        write_image(folder / f"out{i}.ome.tif", data(i))
    else:
        write_zarr(folder / f"out{i}.ome.zarr", data(i), compression=None)
"""


def _expected(i: int) -> np.ndarray:
    return np.arange(2 * 3 * 256 * 256, dtype=np.float32).reshape(1, 2, 3, 256, 256) + i


def _check_complete(path) -> None:
    """Every file under a final name is a whole, correct result."""
    from napari_unmix.io.omio_io import read_image
    from napari_unmix.io.spectra import read_spectra_csv
    from napari_unmix.io.zarr_io import read_zarr

    i = int(path.name[3:].split(".")[0])
    if path.name.endswith(".ome.zarr"):
        np.testing.assert_array_equal(read_zarr(path)[0].compute(), _expected(i))
    elif path.name.endswith(".ome.tif"):
        np.testing.assert_array_equal(read_image(path)[0], _expected(i))
    elif path.suffix == ".json":
        assert json.loads(path.read_text()) == {"i": i, "values": list(range(20_000))}
    else:
        axis, spectra, _ = read_spectra_csv(path)
        assert axis.size == 2000 and (spectra == i).all()


# (signal, delay after the writer is ready): seeded, a few per signal (time budget)
_rng = np.random.default_rng(21)
_KILLS = [
    ("SIGKILL", float(_rng.uniform(0.3, 2.5))),
    ("SIGKILL", float(_rng.uniform(0.3, 2.5))),
    ("SIGTERM", float(_rng.uniform(0.3, 2.5))),
    ("SIGINT", float(_rng.uniform(0.3, 2.5))),
]


def test_killed_writers_leave_no_partial_file_and_no_stale_temporaries(tmp_path):
    procs = []
    for n, (sig, delay) in enumerate(_KILLS):
        folder = tmp_path / f"run{n}_{sig}"
        folder.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append((proc, folder, sig, delay))
    for proc, *_ in procs:  # all started; kill each at its moment
        assert proc.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    for proc, _, sig, delay in sorted(procs, key=lambda p: p[3]):
        time.sleep(max(0.0, delay - (time.monotonic() - t0)))
        proc.send_signal(getattr(signal, sig))
    finals = 0
    for proc, folder, sig, _ in procs:
        proc.wait(timeout=60)
        proc.stdout.close()
        assert proc.returncode != 0, f"{sig}: the writer ended by itself"
        for path in folder.iterdir():
            if not is_temporary(path.name):
                _check_complete(path)
                finals += 1
        # the next write into that folder removes what the killed run left
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from napari_unmix.io.sidecar import write_json

            write_json(folder / "next.json", {"ok": True})
        assert all(issubclass(w.category, StaleTemporaryWarning) for w in caught)
        left = [p.name for p in folder.iterdir() if is_temporary(p.name)]
        assert left == [], f"{sig}: temporaries left after the next write: {left}"
    assert finals > 0  # the kills happened while the writers were writing


@pytest.mark.parametrize("compute_fails", [True])
def test_failed_lazy_write_leaves_nothing(tmp_path, compute_fails):
    """A dask computation that fails half-way through a Zarr write leaves no store."""
    import dask.array as da

    from napari_unmix.io.zarr_io import write_zarr

    def boom(block):
        if block.flat[0] >= 2:
            raise RuntimeError("reader failed")
        return block

    data = da.arange(4 * 16 * 16, chunks=256, dtype=np.float32).reshape(4, 1, 1, 16, 16)
    data = data.map_blocks(boom) if compute_fails else data
    with pytest.raises(RuntimeError, match="reader failed"):
        write_zarr(tmp_path / "out.ome.zarr", data, scheduler="threads")
    assert list(tmp_path.iterdir()) == []
