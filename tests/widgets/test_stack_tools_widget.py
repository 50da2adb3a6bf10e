"""The Stack tools dock and the viewer helpers, in a real viewer (under Xvfb)."""

import numpy as np
import pytest

from napari_unmix.io.omio_io import write_image
from napari_unmix.widgets.stack_tools import StackToolsWidget


@pytest.fixture
def viewer_with_sample(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "bleedthrough")
    return viewer


def _start(qtbot, widget):
    from contracts.docks import run_dock

    return run_dock(widget, qtbot)


def test_max_z_adds_new_layers_with_scale_and_report(viewer_with_sample, qtbot):
    viewer = viewer_with_sample
    inputs = list(viewer.layers)
    before = [np.asarray(ly.data).copy() for ly in inputs]
    widget = StackToolsWidget(viewer)
    assert list(widget.layers.value) == inputs  # preselected: the sample's channels
    widget.chooser.value = "max-z"
    _start(qtbot, widget)
    new = [ly for ly in viewer.layers if " · max-z · " in ly.name]
    assert len(new) == 2
    for src, out, data in zip(inputs, new, before, strict=True):
        assert out.data.shape == (data.shape[0], 1, *data.shape[2:])
        np.testing.assert_array_equal(out.data[:, 0], data.max(axis=1))
        np.testing.assert_allclose(out.scale, src.scale)
        assert tuple(out.axis_labels) == ("t", "z", "y", "x")
        assert out.metadata["report"]["tool"] == "stack_tools.max-z"
        np.testing.assert_array_equal(src.data, data)  # input untouched


def test_viewer_helpers_reuse_viewer_and_apply_scale(make_napari_viewer, tmp_path):
    from napari_unmix.viewer_helpers import (
        show_all_channels_in_napari,
        show_unmixed_channels_in_napari,
    )

    viewer = make_napari_viewer()
    data = np.random.default_rng(0).random((2, 3, 2, 16, 16)).astype(np.float32)
    path = write_image(
        tmp_path / "s.ome.tif", data, physical_size=(2.0, 0.4, 0.4), time_increment=3.0
    )
    assert show_all_channels_in_napari(path) is viewer
    assert [ly.name for ly in viewer.layers] == ["Channels | C0", "Channels | C1"]
    np.testing.assert_allclose(viewer.layers[0].scale, [3.0, 2.0, 0.4, 0.4])
    assert tuple(viewer.layers[0].axis_labels) == ("t", "z", "y", "x")
    np.testing.assert_array_equal(viewer.layers[1].data, data[:, :, 1])
    show_all_channels_in_napari(path)  # re-run: layers updated, not duplicated
    assert len(viewer.layers) == 2
    show_unmixed_channels_in_napari(path, source_channel=1, target_channel=0)
    assert viewer.layers[-1].name == "Unmixed | target C0"
    with pytest.raises(ValueError, match="target_channel=5 is out of range"):
        show_unmixed_channels_in_napari(path, target_channel=5)


def test_cancel_stops_the_worker_without_adding_layers(viewer_with_sample, qtbot, monkeypatch):
    from napari_unmix.core.progress import Progress

    def endless(*_args, **_kwargs):
        while True:
            yield Progress(0, 1)

    monkeypatch.setattr("napari_unmix.widgets.stack_tools.iter_stack_tool", endless)
    viewer = viewer_with_sample
    widget = StackToolsWidget(viewer)
    worker = widget.start()
    assert widget.cancel_button.isEnabled() and not widget.run_button.isEnabled()
    with qtbot.waitSignal(worker.finished, timeout=30000):
        widget.cancel()
    qtbot.waitUntil(lambda: not widget.running, timeout=5000)
    assert len(viewer.layers) == 2 and widget.run_button.isEnabled()
    assert widget.status.text() == "cancelled" and widget.progress.maximum() == 1
