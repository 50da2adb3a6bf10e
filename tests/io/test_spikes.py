"""Spike tables and stimulus files: every format, one cell per column/dataset, clear errors."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from napari_unmix import load_ste
from napari_unmix.io.spikes import read_spike_table, read_stimulus

CELLS = {"cell_a": np.array([0.1, 0.25, 1.5]), "cell_b": np.array([0.3])}


def _check(table):
    assert list(table) == list(CELLS)
    for k, v in CELLS.items():
        np.testing.assert_allclose(table[k], v)


def test_csv_ragged_columns(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("cell_a,cell_b\n0.1,0.3\n0.25,\n1.5,\n")
    _check(read_spike_table(p))
    p2 = tmp_path / "noheader.csv"
    p2.write_text("0.1,0.3\n0.25,nan\n")
    assert list(read_spike_table(p2)) == ["cell 0", "cell 1"]
    p.write_text("cell_a\n0.1\nabc\n")
    with pytest.raises(ValueError, match=r"line 3.*'abc' is not a number"):
        read_spike_table(p)


def test_npy_npz_hdf5(tmp_path):
    padded = np.full((3, 2), np.nan)
    padded[:, 0], padded[0, 1] = CELLS["cell_a"], 0.3
    np.save(tmp_path / "s.npy", padded)
    t = read_spike_table(tmp_path / "s.npy")
    assert list(t) == ["cell 0", "cell 1"] and t["cell 1"].tolist() == [0.3]
    np.savez(tmp_path / "s.npz", **CELLS)
    _check(read_spike_table(tmp_path / "s.npz"))
    with h5py.File(tmp_path / "s.h5", "w") as f:
        for k, v in CELLS.items():
            f[k] = v
    _check(read_spike_table(tmp_path / "s.h5"))


@pytest.mark.parametrize("reader", [read_spike_table, read_stimulus, load_ste])
def test_unreadable_files_say_why(tmp_path, reader):
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty \(0 bytes\)"):
        reader(empty)
    text = tmp_path / "text.npy"
    text.write_text("time,cell\n0.1,1\n")
    with pytest.raises(ValueError, match="is not a NumPy .npy file.*starts with 'time,cel'"):
        reader(text)
    with pytest.raises(FileNotFoundError):
        reader(tmp_path / "missing.npy")


def test_stimulus_is_lazy(tmp_path):
    stim = np.random.default_rng(0).standard_normal((50, 4, 3)).astype(np.float32)
    np.save(tmp_path / "stim.npy", stim)
    with h5py.File(tmp_path / "stim.h5", "w") as f:
        f["movie"] = stim
    a, b = read_stimulus(tmp_path / "stim.npy"), read_stimulus(tmp_path / "stim.h5")
    assert isinstance(a, np.memmap) and hasattr(b, "compute")
    np.testing.assert_array_equal(np.asarray(a), b.compute())
    np.save(tmp_path / "flat.npy", stim[0])
    with pytest.raises(ValueError, match="arrays with 3 axes|stimulus movie"):
        read_stimulus(tmp_path / "flat.npy")
