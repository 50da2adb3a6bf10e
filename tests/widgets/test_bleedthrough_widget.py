"""Bleed-through dock widget: estimate, apply, and bad input as notifications."""

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


def test_estimate_then_apply_two_layers(two_layers, qtbot):
    viewer, src, tgt, _, truth = two_layers
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    assert w.source.value is src and w.target.value is tgt
    w.method.value = "linear_fit"
    w.n_bootstrap.value = 20
    with qtbot.waitSignal(w.estimated, timeout=TIMEOUT) as blocker:
        w.estimate_button.clicked.emit()
    rep = blocker.args[0]
    assert abs(rep["alpha"] - truth["alpha"]) < 0.01
    assert "alpha = 0.35" in w.result.value and "95% CI" in w.result.value
    assert len(w.figure.axes) >= 1  # the scatter is drawn
    before = tgt.data.copy()
    with qtbot.waitSignal(w.applied, timeout=TIMEOUT) as blocker:
        w.apply_button.clicked.emit()
    (new,) = blocker.args[0]
    assert new.name == "tgt corrected" and new.data.shape == tgt.data.shape
    np.testing.assert_allclose(new.scale, tgt.scale)
    assert new.colormap.name == "magenta"
    assert "bleedthrough_report" in new.metadata
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
    w.alpha_mode.value = "fixed"
    w.method.value = "manual"
    w.alpha.value = 0.35
    w.bidirectional.value = True
    w.alpha_reverse.value = 0.1
    with qtbot.waitSignal(w.applied, timeout=TIMEOUT) as blocker:
        w.apply_button.clicked.emit()
    new = blocker.args[0]
    assert [n.name for n in new] == ["cyx [C1] corrected", "cyx [C0] corrected"]
    assert new[0].data.shape == (64, 64)
    np.testing.assert_allclose(new[0].scale, (0.3, 0.3))


def _expect_error(w, qtbot, match, *, apply=False):
    with qtbot.waitSignal(w.failed, timeout=TIMEOUT) as blocker:
        (w.apply_button if apply else w.estimate_button).clicked.emit()
    assert match in blocker.args[0]


def test_bad_input_is_a_notification(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    one = viewer.add_image(np.ones((1, 16, 16), np.float32), name="one channel")
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    w.source.value = w.target.value = one
    _expect_error(w, qtbot, "only one channel")
    two = viewer.add_image(np.random.default_rng(0).random((2, 16, 16)), name="two")
    w.source.value = w.target.value = two
    w.target_channel.value = 0
    _expect_error(w, qtbot, "same")
    w.target_channel.value = 1
    w.method.value = "manual"
    w.alpha_mode.value = "fixed"
    w.alpha.value = -0.2
    _expect_error(w, qtbot, ">= 0", apply=True)
    nan = viewer.add_image(np.full((2, 16, 16), np.nan, np.float32), name="nan")
    w.source.value = w.target.value = nan
    w.method.value = "mean_ratio"
    w.alpha_mode.value = "reference_t"
    _expect_error(w, qtbot, "NaN")  # raised in the worker, shown as a notification
    assert w.worker is None or not w.worker.is_running


@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
def test_an_unreliable_estimate_is_said_in_the_dock(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    data, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(96, 96))  # a 185-voxel mask
    viewer.add_image(data[:, :, 0], name="src")
    viewer.add_image(data[:, :, 1], name="tgt")
    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    w.method.value = "mi_min"
    with qtbot.waitSignal(w.estimated, timeout=TIMEOUT) as blocker:
        w.estimate_button.clicked.emit()
    est = blocker.args[0]["forward"]["estimates"][0]
    assert est["reliable"] is False and est["alpha"] != 0.5
    assert "95% CI" in w.result.value and "⚠ t=0: mi_min:" in w.result.value
