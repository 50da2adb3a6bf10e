"""The bleed-through dock (issue #16): the dock contract on every sample that fits it, the
data-aware default (mi_min), the checks in the status line and the results panel, the
estimate-only action, Cancel, one guard for both actions, bad input before computing."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.docks import ErrorLog, check_dock_runs, run_dock
from napari_unmix.api.bleedthrough_result import RECOMMENDED_METHOD, BleedthroughEstimate
from napari_unmix.core.result import Result
from napari_unmix.core.synthetic import make_bleedthrough_stack
from napari_unmix.widgets._layer_policy import tool_layers
from napari_unmix.widgets.bleedthrough import BleedthroughDock

TIMEOUT = 120_000


def _dock(viewer):
    dock = BleedthroughDock(viewer)
    viewer.window.add_dock_widget(dock, name="Bleed-through correction", area="right")
    return dock


@pytest.fixture
def sample_dock(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-unmix", "bleedthrough")
    return _dock(viewer)


@pytest.mark.parametrize("sample", ["bleedthrough", "picasso", "picasso_brain"])
def test_dock_contract_on_every_two_channel_sample(make_napari_viewer, qtbot, sample):
    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-unmix", sample)
    dock = _dock(viewer)
    first, second = viewer.layers[0], viewer.layers[1]
    assert dock.source.value is first and dock.target.value is second  # preselected
    results = check_dock_runs(viewer, dock, qtbot)
    assert all(isinstance(r, Result) for r in results)
    assert [ly.name for ly in tool_layers(viewer, "bleed-through")] == [
        f"{second.name} · bleed-through · C1"
    ]
    assert not first.visible and not second.visible  # inputs hidden, not deleted
    assert len(dock.results.runs()) == 2


def test_sample_defaults_to_the_least_biased_estimator(sample_dock, qtbot):
    dock = sample_dock
    assert RECOMMENDED_METHOD == "mi_min" and dock.form.values()["method"] == "mi_min"
    result = run_dock(dock, qtbot)
    alpha = result.report["alpha"]
    assert abs(alpha - 0.35) < 0.05  # mean_ratio: 0.53
    lo, hi = result.report["forward"]["ci95_by_t"][0]
    assert lo < alpha < hi  # (the interval covers noise, not the touching cells' bias)
    status = dock.status.text()
    assert f"alpha {alpha:.3f} (95% CI {lo:.3f}–{hi:.3f})" in status
    assert "estimators disagree" in status and "dependence remains" not in status
    layer = dock.viewer.layers["target (C1) · bleed-through · C1"]
    assert layer.colormap.name == "magenta" and layer.metadata["report"]["alpha"] == alpha
    np.testing.assert_allclose(layer.scale, dock.viewer.layers["target (C1)"].scale)
    panel = dock.results.current
    text = panel.plain()
    assert "alpha = 0.389" in text and "95% CI" in text and "mean_ratio 0.533" in text
    assert "Pearson r" in text and "⚠ the estimators disagree" in text


def test_mean_ratio_overcorrection_is_said(sample_dock, qtbot):
    dock = sample_dock
    dock.form.field("method").value = "mean_ratio"
    run_dock(dock, qtbot)
    assert "estimators disagree, dependence remains" in dock.status.text()
    assert "over-correction" in dock.status.toolTip()
    assert "over-correction" in dock.results.current.plain()


def test_reset_goes_back_to_the_dock_default(sample_dock):
    dock = sample_dock
    dock.form.field("method").value = "linear_fit"
    dock.reset_settings()
    assert dock.form.values()["method"] == "mi_min"


def test_estimate_only_fills_the_panel_and_adds_no_layer(sample_dock, qtbot):
    from napari_unmix.widgets._theme import theme_colors

    dock = sample_dock
    names = [ly.name for ly in dock.viewer.layers]
    with qtbot.waitSignal(dock.finished, timeout=TIMEOUT) as sig:
        assert dock.estimate() is not None
        assert dock.start() is None and dock.estimate() is None  # one guard for both
    qtbot.waitUntil(lambda: not dock.running, timeout=TIMEOUT)
    assert isinstance(sig.args[0], BleedthroughEstimate)
    assert [ly.name for ly in dock.viewer.layers] == names
    assert all(ly.visible for ly in dock.viewer.layers)
    panel = dock.results.current
    assert "estimate only" in panel.plain() and "alpha = 0.389" in panel.plain()
    scatter, compare = panel.figure.axes[:2]
    assert scatter.get_xlabel() == "source − background (a.u.)"
    assert compare.get_xlabel().startswith("alpha")
    bg = theme_colors(dock.viewer)["background"]
    assert panel.figure.get_facecolor()[:3] == pytest.approx(
        tuple(int(bg[i : i + 2], 16) / 255 for i in (1, 3, 5)), abs=0.01
    )
    assert dock.run_button.isEnabled() and dock.estimate_button.isEnabled()


def test_cancel_says_cancelled(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    data, _ = make_bleedthrough_stack(n_t=12, n_z=4, shape=(160, 160))
    viewer.add_image(data[:, :, 0], name="src")
    viewer.add_image(data[:, :, 1], name="tgt")
    dock = _dock(viewer)
    dock.form.field("alpha_mode").value = "per_t"
    assert dock.start() is not None
    qtbot.waitUntil(lambda: "t=" in dock.status.text(), timeout=TIMEOUT)  # a step shown
    dock.cancel()
    qtbot.waitUntil(lambda: not dock.running, timeout=TIMEOUT)
    qtbot.wait(300)  # late progress events must not overwrite it
    assert dock.status.text().startswith("cancelled")
    assert not tool_layers(viewer, "bleed-through")
    assert dock.run_button.isEnabled() and dock.estimate_button.isEnabled()


def _refused(dock, qtbot, text):
    """Run is refused before any worker starts, with ``text`` in the status line."""
    with qtbot.waitSignal(dock.failed, timeout=2000):
        assert dock.start() is None
    assert text in dock.status.text() and not dock.running


def test_bad_input_in_the_status_line_before_computing(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    dock = _dock(viewer)
    _refused(dock, qtbot, "open a two-channel image first")
    viewer.add_image(np.ones((16, 16), np.float32), name="plane")
    assert dock.source.value is dock.target.value
    _refused(dock, qtbot, "only one channel")
    two = viewer.add_image(np.random.default_rng(0).random((2, 16, 16)), name="two")
    dock.source.value = dock.target.value = two
    assert not dock.form.field("source_channel").native.isHidden()
    dock.form.field("target_channel").value = 0
    _refused(dock, qtbot, "must differ")


def test_multichannel_layer_bidirectional_manual(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    data, _ = make_bleedthrough_stack(n_t=1, n_z=3, shape=(48, 48), alpha_reverse=0.1)
    layer = viewer.add_image(data[0], name="zcyx", scale=(2, 1, 0.3, 0.3))
    layer.metadata["axes"] = "ZCYX"
    dock = _dock(viewer)
    assert dock.source.value is layer and dock.target.value is layer
    dock.form.set_values({"method": "manual", "bidirectional": True})
    assert not dock.manual.native.isHidden() and not dock.alpha_reverse.native.isHidden()
    dock.alpha.value, dock.alpha_reverse.value = 0.35, 0.1
    with ErrorLog() as log:
        for _ in range(2):
            run_dock(dock, qtbot)
    assert not log.errors
    new = tool_layers(viewer, "bleed-through")
    assert [ly.name for ly in new] == ["zcyx · bleed-through · C1", "zcyx · bleed-through · C0"]
    assert new[0].data.shape == (3, 48, 48)
    np.testing.assert_allclose(new[0].scale, (2, 0.3, 0.3))
    assert "(given)" in dock.results.current.plain()
