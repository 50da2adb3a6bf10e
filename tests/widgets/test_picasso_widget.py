"""PICASSO dock behaviour beyond the dock contract: the source → sink grid and its roles,
one multi-channel layer in, per-channel layers out (the contract is in docks/)."""

import numpy as np

from contracts.docks import run_dock
from napari_unmix.core.picasso import crosstalk_metrics
from napari_unmix.widgets.picasso import PicassoWidget


def test_only_sink_relations_from_the_grid(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso")
    widget = PicassoWidget(viewer)
    grid = widget.grid
    grid.sinks_edit.setText("2")
    grid.neutral_edit.setText("1")
    grid.roles_button.click()
    assert grid.matrix().tolist() == [[1, 0, -1], [0, 1, 0], [0, 0, 1]]
    grid.none_button.click()
    grid.checks[(0, 2)].setChecked(True)
    assert grid.matrix().tolist() == [[1, 0, -1], [0, 1, 0], [0, 0, 1]]
    done = run_dock(widget, qtbot)
    mix = done.run.result.mixing[0]
    assert mix[2, 0] > 0 and mix[0, 2] == 0 and mix[1, 0] == 0
    assert list(widget.manual.sliders) == [(0, 2)]


def test_bad_roles_go_to_the_status_line(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso")
    widget = PicassoWidget(viewer)
    widget.grid.sinks_edit.setText("7")
    with qtbot.waitSignal(widget.failed, timeout=2000):
        widget.grid.roles_button.click()
    assert widget.status.text().startswith("roles:")


def test_one_multichannel_cyx_layer(make_napari_viewer, qtbot):
    from napari_unmix.core.synthetic import make_picasso_mix

    data, truth = make_picasso_mix(n_channels=3, shape=(64, 64), random_state=1)
    viewer = make_napari_viewer()
    viewer.add_image(data[0, 0], name="cyx", metadata={"axes": "CYX"})
    widget = PicassoWidget(viewer)
    assert [ly.name for ly in widget.channels.selected()] == ["cyx"]
    assert len(widget.grid.checks) == 6
    run_dock(widget, qtbot)
    out = np.stack([viewer.layers[f"cyx · PICASSO · C{c}"].data for c in range(3)])
    assert out.shape == (3, 64, 64)
    assert crosstalk_metrics(out, truth["fluorophores"][0, 0])["crosstalk"] < 0.02
    assert not viewer.layers["cyx"].visible


def test_published_loop_fields_follow_the_loop(make_napari_viewer, qtbot):
    """qn / negativity threshold / clip every / block size are editable only when the
    published MATLAB loop runs (the others would refuse or ignore them)."""
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso")
    widget = PicassoWidget(viewer)
    form = widget.form

    def editable():
        return {name: form.field(name).enabled for name in ("qn", "pixel_bin_size")}

    form.field("implementation").value = "source_sink_n"
    assert editable() == {"qn": False, "pixel_bin_size": False}
    form.field("implementation").value = "matlab_3c"  # noise aware by default
    assert editable() == {"qn": False, "pixel_bin_size": False}
    assert "unused" in form.field("qn").tooltip
    form.field("noise_aware").value = False
    assert editable() == {"qn": True, "pixel_bin_size": True}
    form.field("noise_aware").value = None
    form.field("reference_compatible").value = True
    assert editable() == {"qn": True, "pixel_bin_size": True}
    assert "unused" not in form.field("qn").tooltip
