"""Every dock opened with every sample at 1280 x 800 (issue #16): the window stays within
the screen, opening and layer changes raise no error notification, and each dock offers the
sample's layers it can use. Each dock's two runs are in its own test_<tool>_dock.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import napari_unmix
from contracts.docks import ErrorLog, check_fits_screen

MANIFEST = yaml.safe_load((Path(napari_unmix.__file__).parent / "napari.yaml").read_text())
DOCKS = [w["display_name"] for w in MANIFEST["contributions"]["widgets"]]
SAMPLES = [s["key"] for s in MANIFEST["contributions"]["sample_data"]]


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_every_dock_opens_on_the_sample(make_napari_viewer, qtbot, sample):
    viewer = make_napari_viewer(show=True)
    with ErrorLog() as log:
        viewer.open_sample("napari-unmix", sample)
        for name in DOCKS:
            dock, _ = viewer.window.add_plugin_dock_widget("napari-unmix", name)
            qtbot.wait(50)
            # layer events while the dock is open: a new layer and a removed one
            layer = viewer.add_image(viewer.layers[0].data, name="copy")
            viewer.layers.remove(layer)
            qtbot.wait(50)
            check_fits_screen(viewer)
            viewer.window.remove_dock_widget(dock)
    assert not log.errors, log.errors


@pytest.mark.slow
def test_roi_manager_and_unmix_dock_together_fit(make_napari_viewer, qtbot):
    """The issue's case: the Unmix dock next to the ROI manager on the bead cube."""
    viewer = make_napari_viewer(show=True)
    with ErrorLog() as log:
        viewer.open_sample("napari-unmix", "bead_cube")
        viewer.window.add_plugin_dock_widget("napari-unmix", "ROI manager")
        viewer.window.add_plugin_dock_widget("napari-unmix", "Unmix (NNMF / NNLS)")
        qtbot.wait(100)
        check_fits_screen(viewer)
    assert not log.errors, log.errors
