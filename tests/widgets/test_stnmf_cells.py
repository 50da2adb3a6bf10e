"""STNMF dock on a recording: a stimulus layer + a spike-time file, several cells, per-cell
results, a failed cell, the axes rule, and a status that never stays "running…"."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_unmix.core.scenarios.stnmf import ModelCell, make_population, match_subunits

FRAME_RATE = 50.0


@pytest.fixture(scope="module")
def population():
    cell = ModelCell(n_subunits=3)
    return make_population(3, n_frames=30000, grid=16, cell=cell, random_state=5)


def _spike_csv(path, counts):
    """Spike times (s) per cell, one column each, ragged; plus a cell that never fires."""
    times = {k: (np.repeat(np.arange(v.size), v) + 0.25) / FRAME_RATE for k, v in counts.items()}
    times["silent"] = np.array([])
    n = max(len(t) for t in times.values())
    lines = [",".join(times)]
    lines += [
        ",".join(f"{t[i]:.5f}" if i < len(t) else "" for t in times.values()) for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _dock(viewer, qtbot):
    from napari_unmix.widgets.stnmf import STNMFWidget

    w = STNMFWidget(viewer)
    qtbot.addWidget(w)
    w.form.set_values({"r": 6, "num_iter": 200, "pixel_size": 30.0})
    return w


def test_dock_runs_several_cells(make_napari_viewer, qtbot, tmp_path, population):
    stim, counts, truths = population
    viewer = make_napari_viewer()
    layer = viewer.add_image(stim, name="stimulus", scale=(1, 30, 30))
    before = np.array(layer.data, copy=True)
    w = _dock(viewer, qtbot)
    w.open_spikes(_spike_csv(tmp_path / "spikes.csv", counts))
    assert w.checked_cells() == ["cell 0", "cell 1", "cell 2", "silent"]
    assert "time, x, y" in w.axes_label.value
    w.cell_list.item(2).setCheckState(Qt.CheckState.Unchecked)  # cells 0, 1 and silent
    w.recording_form.set_values({"frame_rate": FRAME_RATE})
    progress = []
    worker = w.start()
    worker.yielded.connect(progress.append)
    # wait on the dock: a finished signal may come before a wait connects
    qtbot.waitUntil(lambda: not w.running, timeout=120000)
    assert set(w.cell_results) == {"cell 0", "cell 1", "silent"}
    # progress per cell, in order
    cells_seen = [e.message for e in progress if e.partial is None]
    first = [next(i for i, m in enumerate(cells_seen) if f"'cell {k}'" in m) for k in (0, 1)]
    assert first[0] < first[1]
    matched = 0
    for k in (0, 1):
        res = w.cell_results[f"cell {k}"].stnmf
        corr = match_subunits(res.modules, truths[k]["subunits"])
        matched += int((corr >= 0.8).sum())
        assert (corr >= 0.8).sum() >= 2 and 2 <= res.num_subunits <= 4
        for part in ("STA", "modules", "outlines"):
            assert f"cell {k} · STNMF · {part}" in viewer.layers
        outlines = viewer.layers[f"cell {k} · STNMF · outlines"]
        assert list(outlines.properties["kind"]).count("subunit") == res.num_subunits
    assert matched >= 5  # of the 6 true subunits of the two cells
    assert w.cell_results["silent"].error and "spikes" in w.cell_results["silent"].error
    assert "2 of 3 cells done" in w.status.text() and "silent" in w.status.text()
    table = w.panel.table
    headers = [table.horizontalHeaderItem(j).toolTip() for j in range(table.columnCount())]
    assert "diameter (µm)" in headers and "moransi" not in headers
    assert w.panel.cells_table.rowCount() == 3
    w.panel.show_cell(1)
    assert w.result is w.cell_results["cell 1"].stnmf
    w.panel.show_cell(0)
    assert w.result is w.cell_results["cell 0"].stnmf
    paths = w.export(tmp_path / "out")
    rows = json.loads(paths["cells_json"].read_text())
    assert [r["cell"] for r in rows] == ["cell 0", "cell 1", "silent"]
    assert rows[0]["subunits"] == w.cell_results["cell 0"].stnmf.num_subunits
    assert 80 < rows[0]["diameter_um"] < 200  # truth: 4 sigma = 144 µm
    assert paths["cells_csv"].read_text().startswith("cell,spikes,subunits,diameter_um")
    np.testing.assert_array_equal(layer.data, before)  # the stimulus is not modified


def test_axes_rule_and_failed_run_status(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    viewer.add_image(rng.standard_normal((6, 7, 300)).astype(np.float32), name="xym")
    w = _dock(viewer, qtbot)
    w.layer_picker.value = viewer.layers["xym"]
    assert "(x, y, spikes): 300 spikes" in w.axes_label.value
    # a blank ensemble fails in the worker: the status says so, not "running…"
    viewer.add_image(np.zeros((300, 6, 6), np.float32), name="blank")
    assert w.layer_picker.value.name == "xym"  # the choice is kept
    w.layer_picker.value = viewer.layers["blank"]
    assert "(spikes, x, y): 300 spikes" in w.axes_label.value
    assert w.start() is not None
    # the worker fails at once, maybe before a signal could be awaited: wait on the state
    qtbot.waitUntil(lambda: not w.running, timeout=60000)
    assert "zero everywhere" in w.status.text() and "running" not in w.status.text()
    assert w.run_button.isEnabled() and not w.cancel_button.isEnabled()
    assert w.progress.maximum() == 1  # not left busy
    w.open_spikes("/nonexistent/spikes.csv")
    assert "cannot read" in w.status.text()
