"""The "Apply a saved result to files" dock: a report and a folder -> a batch with progress."""

import json

import numpy as np

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
    worker = widget.run()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=60000):
        pass
    assert widget.summary.counts() == {"done": 2, "skipped": 0, "failed": 1}
    assert widget.progress.value() == widget.progress.maximum() == 3
    log = widget.log.toPlainText()
    assert "failed broken.tif" in log and "2 done, 0 skipped, 1 failed" in log
    got = read_image(tmp_path / "out" / "n1_unmix.ome.tif")[0]
    by_hand = tmp_path / "hand.ome.tif"
    alpha = json.loads((tmp_path / "first_u.ome.tif.json").read_text())["alpha"]
    unmix(new / "n1.ome.tif", by_hand, alpha=alpha, verbose=False)
    np.testing.assert_array_equal(got, read_image(by_hand)[0])
    assert widget.run_button.isEnabled()
