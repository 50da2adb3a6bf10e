"""The PICASSO dock on the shared skeleton (#16): preselection, runs twice on every sample
that fits, names and hidden inputs, matrices in the results panel, live preview, one worker."""

from __future__ import annotations

import time

import numpy as np
import pytest

from contracts.docks import check_dock_runs, run_dock
from napari_unmix.core.picasso import RECOMMENDED_IMPLEMENTATION, crosstalk_metrics
from napari_unmix.widgets.picasso import PicassoWidget


@pytest.fixture
def sample_dock(make_napari_viewer):
    """The dock opened first, then its own sample (the order that ticked one layer)."""
    viewer = make_napari_viewer()
    dock = PicassoWidget(viewer)
    viewer.window.add_dock_widget(dock)
    viewer.open_sample("napari-unmix", "picasso")
    return dock


def test_all_channels_of_the_sample_are_ticked(sample_dock):
    dock = sample_dock
    assert [ly.name for ly in dock.channels.selected()] == [f"mixed C{i}" for i in range(3)]
    assert dock.form.values()["implementation"] == RECOMMENDED_IMPLEMENTATION
    assert dock.form.values()["pixel_bin_size"] == 4  # 128² sample: ~1000 blocks a plane
    assert len(dock.grid.checks) == 6 and dock.grid.names == ["C0", "C1", "C2"]
    assert not dock.grid.isHidden()


def test_dock_opened_after_the_sample_ticks_it_too(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((16, 16)), name="unrelated")
    viewer.open_sample("napari-unmix", "picasso")
    dock = PicassoWidget(viewer)
    assert [ly.name for ly in dock.channels.selected()] == [f"mixed C{i}" for i in range(3)]


@pytest.mark.parametrize("sample", ["picasso", "picasso_brain", "bleedthrough"])
def test_runs_twice_on_every_fitting_sample(make_napari_viewer, qtbot, sample):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", sample)
    dock = PicassoWidget(viewer)
    viewer.window.add_dock_widget(dock)
    inputs = list(viewer.layers)
    assert len(dock.channels.selected()) >= 1
    if sample != "picasso":
        dock.form.field("max_iter").value = 20
    runs = check_dock_runs(viewer, dock, qtbot)
    mine = [ly for ly in viewer.layers if "PICASSO · " in ly.name]
    assert len(mine) == runs[-1].stack.data.shape[2]  # the first run's layers were replaced
    assert all(ly.visible for ly in mine) and not any(ly.visible for ly in inputs)
    assert len({ly.colormap.name for ly in mine}) == len(mine)
    assert len(dock.results.runs()) == 2


def test_names_panel_and_accuracy_on_the_sample(sample_dock, qtbot):
    dock, viewer = sample_dock, sample_dock.viewer
    truth = viewer.layers["mixed C0"].metadata["ground_truth"]
    done = run_dock(dock, qtbot)
    names = [f"mixed · PICASSO · C{i}" for i in range(3)]
    assert [ly.name for ly in viewer.layers if "PICASSO" in ly.name] == names
    assert [viewer.layers[n].colormap.name for n in names] == ["cyan", "magenta", "yellow"]
    out = np.stack([np.asarray(viewer.layers[n].data)[0, 0] for n in names])
    assert out.shape == (3, 128, 128)
    assert crosstalk_metrics(out, truth["fluorophores"][0, 0])["crosstalk"] < 0.01
    np.testing.assert_array_equal(viewer.layers[names[0]].scale, viewer.layers["mixed C0"].scale)
    assert "unmixing_matrix_by_t" in viewer.layers[names[1]].metadata["report"]["result"]
    panel = dock.results.current
    assert panel.mixing.horizontalHeaderItem(0).text() == "C0 dye"
    assert panel.mixing.verticalHeaderItem(2).text() == "C2"
    cell = panel.mixing.item(1, 0).text()  # C1 records some of the C0 dye ± its error
    value, _, se = cell.partition("\n± ")
    assert abs(float(value) - truth["mixing"][1, 0]) < 0.02 and float(se) >= 0
    np.testing.assert_allclose(panel.unmixing.values(), done.run.result.matrix[0], atol=1e-3)
    assert "converged" in panel.line.text()
    assert dock.live.isHidden()  # the live estimate goes once the result is shown


def test_live_matrix_preview_is_throttled(sample_dock, qtbot, monkeypatch):
    dock = sample_dock
    shown = []
    monkeypatch.setattr(dock.live, "set_matrix", lambda m, *a, **k: shown.append(m.copy()))
    dock.form.field("tolerance").value = 0.0  # every sweep up to max_iter
    dock.form.field("max_iter").value = 60
    t0 = time.perf_counter()
    done = run_dock(dock, qtbot)
    elapsed = time.perf_counter() - t0
    assert done.run.result.iterations == [60]
    assert 1 <= len(shown) <= 1 + elapsed / 0.5 and len(shown) < 60  # at most every 0.5 s
    assert shown[0].shape == (3, 3)


def test_second_run_while_running_is_refused(sample_dock, qtbot):
    dock = sample_dock
    first = dock.start()
    assert first is not None and dock.start() is None
    qtbot.waitUntil(lambda: not dock.running, timeout=120_000)
    assert len(dock.results.runs()) == 1


def test_manual_alphas_keep_working(sample_dock, qtbot):
    dock, viewer = sample_dock, sample_dock.viewer
    truth = viewer.layers["mixed C0"].metadata["ground_truth"]
    run_dock(dock, qtbot)
    dock.manual.enabled.setChecked(True)
    assert len(dock.manual.sliders) == 6
    np.testing.assert_allclose(dock.manual.alphas()[0, 1], truth["mixing"][1, 0], atol=0.01)
    manual = viewer.layers["mixed · PICASSO · manual C1"]
    assert manual.visible and not viewer.layers["mixed · PICASSO · C1"].visible
    before = np.asarray(manual.data).copy()
    dock.manual.sliders[(0, 1)].setValue(0)
    assert not np.allclose(before, manual.data)
    assert manual.metadata["manual_alpha"][0][1] == 0
    dock.manual.enabled.setChecked(False)
    assert not manual.visible and viewer.layers["mixed · PICASSO · C1"].visible
    run_dock(dock, qtbot)  # a re-run replaces the manual layers with the new results
    assert "mixed · PICASSO · manual C1" not in viewer.layers


def test_bad_input_one_status_line_before_computing(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((32, 32)), name="single")
    dock = PicassoWidget(viewer)
    with qtbot.waitSignal(dock.failed, timeout=2000):
        assert dock.start() is None
    assert "only one channel" in dock.status.text() and not dock.running
    assert [ly.name for ly in viewer.layers] == ["single"]


def test_three_channel_implementation_refuses_two_channels(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-unmix", "picasso_brain")
    dock = PicassoWidget(viewer)
    dock.form.field("implementation").value = "matlab_3c"
    assert dock.grid.isHidden()
    with qtbot.waitSignal(dock.failed, timeout=2000):
        assert dock.start() is None
    assert "exactly 3 channels" in dock.status.text()


def test_user_ticks_are_kept(sample_dock):
    dock, viewer = sample_dock, sample_dock.viewer
    dock.channels.select([viewer.layers["mixed C0"], viewer.layers["mixed C2"]])
    viewer.add_image(np.zeros((8, 8)), name="later")
    assert [ly.name for ly in dock.channels.selected()] == ["mixed C0", "mixed C2"]
    assert dock.grid.names == ["C0", "C2"]


def test_spike_ensemble_is_not_read_as_20000_channels(make_napari_viewer, qtbot):
    """The STNMF sample (spikes first) once built a 20000 x 20000 grid and took all memory."""
    viewer = make_napari_viewer()
    ste = np.zeros((500, 8, 8), dtype=np.float32)
    viewer.add_image(ste, name="ensemble", metadata={"ste_axes": "mxy"})
    dock = PicassoWidget(viewer)
    assert dock.grid.names == [] and dock.grid.isHidden()
    with qtbot.waitSignal(dock.failed, timeout=2000):
        assert dock.start() is None
    assert "spike-triggered ensemble" in dock.status.text()


def test_many_channels_get_no_grid_but_every_relation(make_napari_viewer):
    from napari_unmix.widgets.picasso._channels import MAX_GRID_CHANNELS

    n = MAX_GRID_CHANNELS + 4
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((n, 16, 16), dtype=np.float32), name="many", metadata={"axes": "CYX"})
    dock = PicassoWidget(viewer)
    dock.form.field("implementation").value = "source_sink_n"
    assert len(dock.grid.names) == n and dock.grid.checks == {}
    m = dock.grid.matrix()
    assert m.shape == (n, n) and (np.diag(m) == 1).all() and (m.sum() == n - (n * n - n))
    assert len(dock.grid.relations()) == n * (n - 1)


def test_matlab_scheme_runs_with_the_form_defaults_and_refuses_a_changed_qn(sample_dock, qtbot):
    """The form's defaults (and its block size) pass the noise-aware loop's rule; a qn
    the noise-aware loop would ignore is refused with the reason."""
    dock = sample_dock
    dock.form.field("implementation").value = "matlab_3c"
    dock.form.field("max_iter").value = 3
    with qtbot.waitSignal(dock.finished, timeout=60000):
        dock.start()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    assert len(dock.results.runs()) == 1
    dock.form.field("qn").value = 50
    with qtbot.waitSignal(dock.failed, timeout=60000):
        dock.start()
    qtbot.waitUntil(lambda: not dock.running, timeout=60000)
    assert "only the published MATLAB loop" in dock.status.text()
