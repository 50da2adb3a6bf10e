"""Many cells of one recording, recovery settings on a held-out model cell, bad ensembles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_unmix import STNMF
from napari_unmix.api.stnmf import resolve_settings, stnmf_recording_file
from napari_unmix.cli import main
from napari_unmix.core.progress import run
from napari_unmix.core.scenarios.stnmf import (
    ModelCell,
    make_cell,
    make_recording,
    match_subunits,
)


@pytest.fixture(scope="module")
def recording():
    """Two model cells seen through one stimulus movie, as spike counts per frame."""
    cell = ModelCell(grid=10, n_subunits=3)
    stim, counts, truth = make_recording(cell, n_spikes=4000, random_state=4)
    rng = np.random.default_rng(1)
    other = rng.poisson(0.05, counts.shape)  # a cell unrelated to the stimulus
    return stim, {"model": counts, "unrelated": other, "silent": np.zeros_like(counts)}, truth


def test_cells_of_a_recording(recording):
    stim, table, truth = recording
    events = []
    from napari_unmix.api.stnmf import iter_stnmf_cells

    res = run(iter_stnmf_cells(stim, table, r=6, num_iter=100, pixel_size=30), events.append)
    assert [c.name for c in res] == ["model", "unrelated", "silent"]
    finished = [e for e in events if e.partial is not None]
    assert [(e.done, e.total) for e in finished] == [(1, 3), (2, 3), (3, 3)]
    assert [e.partial for e in finished] == res
    model, unrelated, silent = res
    corr = match_subunits(model.stnmf.modules, truth["subunits"])
    assert (corr >= 0.8).sum() == 3 and model.stnmf.num_subunits in (3, 4)  # 4: a split
    assert unrelated.error is None and unrelated.stnmf.num_subunits == 0
    assert silent.stnmf is None and "spikes" in silent.error
    row = model.row()
    assert row["subunits"] == model.stnmf.num_subunits and 100 < row["diameter_um"] < 190


def test_recovery_beats_reference_on_held_out_cell():
    """The default model cell (seed not used for tuning) at 20,000 spikes."""
    ste, truth = make_cell(n_spikes=20000, random_state=12345)
    ours = STNMF(ste, r=20, num_iter=300, **resolve_settings("recovery"))
    ref = STNMF(ste, r=20, num_iter=300, **resolve_settings("reference"))
    n_ours = int((match_subunits(ours.modules, truth["subunits"]) >= 0.8).sum())
    n_ref = int((match_subunits(ref.modules, truth["subunits"]) >= 0.8).sum())
    assert n_ours >= 6 and n_ours >= 2 * max(n_ref, 1)
    assert ours.num_subunits <= 8  # noise modules are not called subunits
    # unit-free: the same cell in another stimulus unit gives the same subunits
    scaled = STNMF(ste * np.float32(250), r=20, num_iter=300, **resolve_settings("recovery"))
    assert scaled.num_subunits == ours.num_subunits
    np.testing.assert_allclose(scaled.moransi, ours.moransi, atol=1e-3)


def test_bad_ensembles_have_clear_messages():
    ste = np.random.default_rng(0).choice(np.float32([-1, 1]), (6, 6, 100))
    with pytest.raises(ValueError, match="zero everywhere"):
        STNMF(np.zeros((6, 6, 100), np.float32), r=3)
    with pytest.raises(ValueError, match="overflow float32"):
        STNMF(ste * np.float32(1e30), r=3)
    # the recovery settings divide by the SD first: a stimulus in units of 1e30 just works
    big = STNMF(ste * np.float32(1e30), r=3, num_iter=5, **resolve_settings("recovery"))
    assert np.all(np.isfinite(big.modules))
    with pytest.raises(ValueError, match="NaN"):
        STNMF(np.full((6, 6, 100), np.inf), r=3)


def test_recording_file_and_cli(tmp_path, recording):
    stim, table, _ = recording
    np.save(tmp_path / "stim.npy", stim)
    times = {k: (np.repeat(np.arange(v.size), v) + 0.5) / 60 for k, v in table.items()}
    n = max(len(t) for t in times.values())
    with open(tmp_path / "spikes.csv", "w") as fh:
        fh.write(",".join(times) + "\n")
        for i in range(n):
            fh.write(",".join(f"{t[i]:.6f}" if i < len(t) else "" for t in times.values()) + "\n")
    out = tmp_path / "out"
    code = main([
        "stnmf", str(tmp_path / "stim.npy"), str(out), "--spikes", str(tmp_path / "spikes.csv"),
        "--frame-rate", "60", "--cells", "model", "silent", "--r", "6", "--num-iter", "100",
        "--pixel-size", "30", "--no-figure", "--quiet",
    ])  # fmt: skip
    assert code == 0
    rows = json.loads((out / "cells.json").read_text())
    assert [r["cell"] for r in rows] == ["model", "silent"]
    assert rows[0]["subunits"] in (3, 4) and rows[0]["spikes"] > 3000 and rows[1]["error"]
    assert (out / "model.ome.tif").exists() and (out / "model.csv").exists()
    assert (out / "cells.csv").read_text().startswith("cell,spikes,subunits,diameter_um")
    with pytest.raises(FileExistsError):
        stnmf_recording_file(
            tmp_path / "stim.npy", out, spikes=tmp_path / "spikes.csv", frame_rate=60,
            cells=["model"], r=6, num_iter=10, figure=False,
        )  # fmt: skip
