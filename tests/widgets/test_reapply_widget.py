"""The "Apply a saved result to files" dock: a report and a folder -> a batch with progress."""

import json

import numpy as np

from contracts.docks import run_dock
from napari_unmix.api.bleedthrough import unmix
from napari_unmix.core.synthetic import make_bleedthrough_stack
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.widgets.reapply import ReapplyWidget


def test_dock_reapplies_a_report_to_a_folder(make_napari_viewer, qtbot, tmp_path):
    data, _ = make_bleedthrough_stack(n_t=1, n_z=1, shape=(48, 48))
    first = write_image(tmp_path / "first.ome.tif", data)
    unmix(first, tmp_path / "first_u.ome.tif", verbose=False)
    new = tmp_path / "new"
    new.mkdir()
    for i in range(2):
        write_image(new / f"n{i}.ome.tif", data * (1 + i))
    (new / "broken.tif").write_bytes(b"II*\x00broken")
    widget = ReapplyWidget(make_napari_viewer())
    widget.report.setText(str(tmp_path / "first_u.ome.tif.json"))
    widget.inputs.setText(str(new))
    widget.output_dir.setText(str(tmp_path / "out"))
    run_dock(widget, qtbot)
    assert widget.batch.counts() == {"done": 2, "skipped": 0, "failed": 1}
    assert widget.progress.value() == widget.progress.maximum()
    panel = widget.results.current
    assert panel.statuses() == {"broken.tif": "failed", "n0.ome.tif": "done", "n1.ome.tif": "done"}
    assert "2 done, 0 skipped, 1 failed" in panel.headline.text()
    got = read_image(tmp_path / "out" / "n1_unmix.ome.tif")[0]
    by_hand = tmp_path / "hand.ome.tif"
    alpha = json.loads((tmp_path / "first_u.ome.tif.json").read_text())["alpha"]
    unmix(new / "n1.ome.tif", by_hand, alpha=alpha, verbose=False)
    np.testing.assert_array_equal(got, read_image(by_hand)[0])
    assert widget.run_button.isEnabled()
    run_dock(widget, qtbot)  # again: the outputs exist, so they are skipped; same panel
    assert widget.batch.counts() == {"done": 0, "skipped": 2, "failed": 1}
    assert len(widget.results.runs()) == 2
    assert widget.results.current.statuses()["n0.ome.tif"] == "skipped"


def test_dock_refuses_missing_fields_and_bad_reports(make_napari_viewer, qtbot, tmp_path):
    widget = ReapplyWidget(make_napari_viewer())
    assert widget.start() is None
    assert "give a report, the inputs and an output folder" in widget.status.text()
    (tmp_path / "r.json").write_text("{}")
    widget.report.setText(str(tmp_path / "r.json"))
    widget.inputs.setText(str(tmp_path))
    widget.output_dir.setText(str(tmp_path / "out"))
    assert widget.start() is None and widget.status.text()
    assert not widget.running and not (tmp_path / "out").exists()
