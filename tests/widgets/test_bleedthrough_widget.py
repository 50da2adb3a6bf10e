"""Bleed-through dock: estimate, apply, and bad input in the status line."""

import numpy as np
import pytest

from napari_unmix.core.synthetic import make_bleedthrough_stack
from napari_unmix.widgets.bleedthrough import BleedthroughWidget

TIMEOUT = 60_000


@pytest.fixture
def two_layers(make_napari_viewer):
    viewer = make_napari_viewer()
    data, truth = make_bleedthrough_stack(
        n_t=2, n_z=2, shape=(64, 64), n_cells=4, random_state=2, noise_sigma=0.0
    )
    src = viewer.add_image(data[:, :, 0], name="src", scale=(1, 2, 0.5, 0.5), colormap="green")
    tgt = viewer.add_image(data[:, :, 1], name="tgt", scale=(1, 2, 0.5, 0.5), colormap="magenta")
    return viewer, src, tgt, data, truth


def _finish(w, qtbot, *, estimate=False):
    with qtbot.waitSignal(w.finished, timeout=TIMEOUT) as blocker:
        (w.estimate_button if estimate else w.run_button).click()
    qtbot.waitUntil(lambda: not w.running, timeout=TIMEOUT)
    return blocker.args[0]


def test_estimate_then_apply_two_layers(two_layers, qtbot):
    viewer, src, tgt, _, truth = two_layers
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    assert w.source.value is src and w.target.value is tgt
    w.form.set_values({"method": "linear_fit", "n_bootstrap": 20})
    est = _finish(w, qtbot, estimate=True)
    assert abs(est.report["alpha"] - truth["alpha"]) < 0.01
    assert "alpha 0.35" in w.status.text() and "95% CI" in w.status.text()
    assert len(w.results.current.figure.axes) >= 1  # the scatter is drawn
    before = tgt.data.copy()
    result = _finish(w, qtbot)
    (new,) = [viewer.layers[n] for n in result.layer_names()]
    assert new.name == "tgt · bleed-through · C1" and new.data.shape == tgt.data.shape
    np.testing.assert_allclose(new.scale, tgt.scale)
    assert new.colormap.name == "magenta"
    assert new.metadata["report"]["forward"]["method"] == "linear_fit"
    np.testing.assert_array_equal(tgt.data, before)  # input layer untouched
    r = np.corrcoef(np.asarray(new.data).ravel(), truth["target"].ravel())[0, 1]
    assert r > 0.99


def test_apply_on_multichannel_layer_bidirectional(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    data, _ = make_bleedthrough_stack(
        n_t=1, n_z=1, shape=(64, 64), alpha_reverse=0.1, n_cells=4, random_state=2
    )
    layer = viewer.add_image(data[0, 0], name="cyx", scale=(1, 0.3, 0.3))  # C, Y, X
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    w.source.value = w.target.value = layer
    w.form.set_values({"alpha_mode": "fixed", "method": "manual", "bidirectional": True})
    w.alpha.value, w.alpha_reverse.value = 0.35, 0.1
    result = _finish(w, qtbot)
    new = [viewer.layers[n] for n in result.layer_names()]
    assert [n.name for n in new] == ["cyx · bleed-through · C1", "cyx · bleed-through · C0"]
    assert new[0].data.shape == (64, 64)
    np.testing.assert_allclose(new[0].scale, (0.3, 0.3))


def _expect_error(w, qtbot, match, *, estimate=True):
    with qtbot.waitSignal(w.failed, timeout=TIMEOUT) as blocker:
        (w.estimate_button if estimate else w.run_button).click()
    assert match in blocker.args[0]
    assert match in w.status.toolTip()


def test_bad_input_is_one_status_line(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    one = viewer.add_image(np.ones((1, 16, 16), np.float32), name="one channel")
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    w.source.value = w.target.value = one
    _expect_error(w, qtbot, "only one channel")
    two = viewer.add_image(np.random.default_rng(0).random((2, 16, 16)), name="two")
    w.source.value = w.target.value = two
    w.form.field("target_channel").value = 0
    _expect_error(w, qtbot, "must differ")
    w.form.field("target_channel").value = 1
    assert w.alpha.min == 0.0  # a negative coefficient cannot be entered
    nan = viewer.add_image(np.full((2, 16, 16), np.nan, np.float32), name="nan")
    w.source.value = w.target.value = nan
    w.form.set_values({"method": "mean_ratio", "alpha_mode": "reference_t"})
    _expect_error(w, qtbot, "NaN")  # raised in the worker, shown in the status line
    qtbot.waitUntil(lambda: not w.running, timeout=TIMEOUT)


@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
def test_an_unreliable_estimate_is_said_in_the_dock(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    data, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(96, 96))  # a 185-voxel mask
    viewer.add_image(data[:, :, 0], name="src")
    viewer.add_image(data[:, :, 1], name="tgt")
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    assert w.form.values()["method"] == "mi_min"
    est = _finish(w, qtbot, estimate=True).report["forward"]["estimates"][0]
    assert est["reliable"] is False and est["alpha"] != 0.5
    assert "estimate unreliable" in w.status.text()
    text = w.results.current.plain()
    assert "95% CI" in text and "⚠ mi_min:" in text
