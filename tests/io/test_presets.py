"""NNMF presets: round trip of seeds, ROI geometry, rows, settings; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_unmix.core.seeds import ComponentSeed, prepare_seeds
from napari_unmix.io.presets import PRESET_VERSION, load_preset, save_preset


def _state():
    return {
        "spectral_axis": np.linspace(2800, 3100, 6),
        "spectral_units": "cm-1",
        "seeds": [
            ComponentSeed(name="lipid", lock_h=True, spectrum=np.arange(6.0)),
            ComponentSeed(name="protein", resonance={"position": 2935, "width": 20}),
            {"name": "bg", "background": True},
        ],
        "rois": [
            {"type": "polygon", "vertices": [[1, 1], [1, 6], [6, 3]], "component": "lipid"},
            {
                "type": "ellipse",
                "vertices": np.array([[2.0, 2], [2, 4], [4, 4], [4, 2]]),
                "component": 2,
            },
        ],
        "rows": [{"component": "lipid", "rois": 1, "color": "#ff0000"}],
        "settings": {"solver": "hals", "max_iter": 300, "tol": 1e-5, "w_mode": "nnls"},
    }


def test_round_trip_and_use(tmp_path):
    p = save_preset(tmp_path / "p.json", _state())
    back = load_preset(p)
    assert back["version"] == PRESET_VERSION and back["spectral_units"] == "cm-1"
    np.testing.assert_allclose(back["spectral_axis"], _state()["spectral_axis"])
    assert [s["name"] for s in back["seeds"]] == ["lipid", "protein", "bg"]
    np.testing.assert_array_equal(back["seeds"][0]["spectrum"], np.arange(6.0))
    assert back["seeds"][1]["resonance"] == {"position": 2935, "width": 20}
    assert back["rois"][1]["vertices"].shape == (4, 2) and back["rois"][1]["component"] == 2
    assert back["rows"] == _state()["rows"] and back["settings"]["tol"] == 1e-5
    # the loaded seeds feed prepare_seeds directly (plus masks rasterised from the ROIs)
    cube = np.random.default_rng(0).random((6, 8, 8))
    mask = np.zeros((8, 8), bool)
    mask[2:5, 2:5] = True
    seeds = [dict(back["seeds"][0]), {**back["seeds"][1], "masks": [mask]}, back["seeds"][2]]
    seeds[2] = {**seeds[2], "masks": [~mask]}
    s = prepare_seeds(cube, seeds, spectral_axis=back["spectral_axis"])
    assert s.k == 3 and s.lock_H.tolist() == [True, False, False]
    with pytest.raises(FileExistsError):
        save_preset(p, _state())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"seeds": [{"name": "a", "masks": [np.ones((2, 2), bool)]}]}, "ROI geometry"),
        ({"seeds": [{"name": "a", "colour": 1}]}, "unknown keys"),
        ({"rois": [{"type": "star", "vertices": [[0, 0]], "component": 0}]}, "not one of"),
        ({"rois": [{"type": "polygon", "vertices": [0, 1], "component": 0}]}, "N x 2"),
        ({"rois": [{"type": "polygon"}]}, "'type', 'vertices' and 'component'"),
        ({"extra": 1}, "unknown preset keys"),
        ({"settings": {"f": object()}}, None),
    ],
)
def test_bad_state(tmp_path, change, match):
    state = {**_state(), **change}
    if match is None:  # unknown objects become their repr: still valid JSON
        save_preset(tmp_path / "ok.json", state)
        return
    with pytest.raises(ValueError, match=match):
        save_preset(tmp_path / "p.json", state)


def test_bad_files(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(ValueError, match="not an napari-unmix NNMF preset"):
        load_preset(tmp_path / "a.json")
    (tmp_path / "b.json").write_text(
        json.dumps({"schema": "napari-unmix/nnmf-preset", "version": PRESET_VERSION + 1})
    )
    with pytest.raises(ValueError, match="update napari-unmix"):
        load_preset(tmp_path / "b.json")
    (tmp_path / "c.json").write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_preset(tmp_path / "c.json")
    with pytest.raises(FileNotFoundError):
        load_preset(tmp_path / "missing.json")
