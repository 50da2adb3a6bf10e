"""Every dock widget in the manifest opens from napari's Plugins menu (the npe2 path)."""

from pathlib import Path

import pytest
import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "src" / "napari_unmix" / "napari.yaml"
WIDGETS = [
    w["display_name"] for w in yaml.safe_load(MANIFEST.read_text())["contributions"]["widgets"]
]


@pytest.mark.parametrize("name", WIDGETS)
def test_widget_opens_from_plugins_menu(make_napari_viewer, name):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-unmix", name)
    assert widget is not None
    assert dock.name.startswith(name)
