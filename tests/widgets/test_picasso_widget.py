"""PICASSO dock widget through a real viewer: run, result layers, manual sliders, bad input."""

import numpy as np

from napari_unmix.core.picasso import crosstalk_metrics
from napari_unmix.widgets.picasso import PicassoWidget


def _run(widget, qtbot):
    worker = widget.run(start=False)
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        worker.start()


def test_run_on_sample_adds_unmixed_layers(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso")
    widget = PicassoWidget(viewer)
    assert widget.layer_list.count() == 3 and len(widget.checks) == 6
    assert widget.pixel_bin_size.value() == 4  # 128² sample: ~1000 blocks
    truth = viewer.layers[0].metadata["ground_truth"]
    inputs = [layer.data.copy() for layer in viewer.layers]
    _run(widget, qtbot)
    names = [f"unmixed_mixed C{i}" for i in range(3)]
    assert all(n in viewer.layers for n in names)
    out = np.stack([np.asarray(viewer.layers[n].data)[0, 0] for n in names])
    assert crosstalk_metrics(out, truth["fluorophores"][0, 0])["crosstalk"] < 0.01
    layer = viewer.layers[names[0]]
    assert "unmixing_matrix_by_t" in layer.metadata["report"]["result"]
    np.testing.assert_array_equal(layer.scale, viewer.layers["mixed C0"].scale)
    for before, src in zip(inputs, viewer.layers[:3], strict=True):
        np.testing.assert_array_equal(before, src.data)  # inputs untouched
    assert "mixing" in widget.matrix_label.text()

    # manual mode: one slider per relation, starting from the estimate, live re-unmixing
    widget.manual.setChecked(True)
    assert len(widget.sliders) == 6
    np.testing.assert_allclose(widget.manual_alphas()[0, 1], truth["mixing"][1, 0], atol=0.01)
    manual = viewer.layers["manual_mixed C1"]
    before = np.asarray(manual.data).copy()
    widget.sliders[(0, 1)].setValue(0)
    assert not np.allclose(before, manual.data)
    assert manual.metadata["manual_alpha"][0][1] == 0


def test_only_sink_relations_from_the_grid(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso")
    widget = PicassoWidget(viewer)
    widget.sinks_edit.setText("2")
    widget.neutral_edit.setText("1")
    widget.roles_button.click()
    assert widget.source_sink_matrix().tolist() == [[1, 0, -1], [0, 1, 0], [0, 0, 1]]
    widget.none_button.click()
    widget.checks[(0, 2)].setChecked(True)
    assert widget.source_sink_matrix().tolist() == [[1, 0, -1], [0, 1, 0], [0, 0, 1]]
    _run(widget, qtbot)
    mix = widget.result.mixing[0]
    assert mix[2, 0] > 0 and mix[0, 2] == 0 and mix[1, 0] == 0


def test_bad_input_shows_an_error_and_adds_nothing(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((32, 32)), name="single")
    errors = []
    monkeypatch.setattr("napari_unmix.widgets.picasso.show_error", errors.append)
    widget = PicassoWidget(viewer)
    widget.run()
    assert errors and "one channel" in errors[0]
    assert [layer.name for layer in viewer.layers] == ["single"]


def test_one_multichannel_cyx_layer(make_napari_viewer, qtbot):
    from napari_unmix.core.synthetic import make_picasso_mix

    data, truth = make_picasso_mix(n_channels=3, shape=(64, 64), random_state=1)
    viewer = make_napari_viewer()
    viewer.add_image(data[0, 0], name="cyx", metadata={"axes": "CYX"})
    widget = PicassoWidget(viewer)
    assert len(widget.checks) == 6
    _run(widget, qtbot)
    out = viewer.layers["unmixed_cyx"].data
    assert out.shape == (3, 64, 64)
    assert crosstalk_metrics(out, truth["fluorophores"][0, 0])["crosstalk"] < 0.02
