"""RoiModel without a viewer: masks from shapes, rows, components, presets."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix.api.rois import ResonanceRow, RoiModel, rectangle, shape_mask
from napari_unmix.core.seeds import prepare_seeds
from napari_unmix.core.synthetic import make_bead_cube
from napari_unmix.io.presets import load_preset, save_preset


@pytest.fixture(scope="module")
def cube():
    return make_bead_cube(shape=(32, 32), n_channels=16)


def _model(cube):
    data, truth = cube
    return RoiModel(data, spectral_axis=truth["spectral_axis"], spectral_units="cm-1")


def test_shape_masks_match_napari_convention():
    m = shape_mask(rectangle(1, 2, 5, 8), "rectangle", (8, 10))
    assert m.sum() == 5 * 7 and m[1, 2] and m[5, 8] and not m[6, 8]
    poly = shape_mask(np.array([[0, 0], [0, 6], [6, 0]]), "polygon", (8, 8))
    assert poly[0, 0] and not poly[6, 6]
    ell = shape_mask(rectangle(0, 0, 6, 6), "ellipse", (8, 8))
    assert ell[3, 3] and not ell[0, 0]
    assert not shape_mask(np.array([[0, 0], [5, 5]]), "line", (8, 8)).any()


def test_components_group_rows_and_background(cube):
    data, truth = cube
    model = _model(cube)
    model.set_shapes(
        [rectangle(2, 2, 5, 5), rectangle(10, 10, 12, 12), rectangle(20, 20, 24, 24)],
        ["rectangle"] * 3,
        [
            {"name": "a", "component": 1},
            {"name": "b", "component": 1},
            {"name": "bg", "background": True},
        ],
    )
    model.add_gaussian(center=2950, fwhm=40, name="g", component=3)
    comps, bg = model.components()
    assert [c.name for c in comps] == ["a", "g"] and len(comps[0].masks) == 2
    assert comps[1].gaussian["center"] == 2950 and len(bg) == 1
    assert model.missing_seeds() == []
    # a background ROI not flagged for subtraction becomes a background component
    model.set_drawn(2, subtract=False)
    comps, bg = model.components()
    assert [c.background for c in comps] == [True, False, False] and bg == []
    # seeds prepared by the core from these rows
    seeds = prepare_seeds(data, comps, spectral_axis=truth["spectral_axis"])
    assert seeds.k == 3 and np.isfinite(seeds.H0).all()


def test_rows_removed_shapes_and_errors(cube):
    model = _model(cube)
    with pytest.raises(ValueError, match="no ROI"):
        model.components()
    model.set_shapes([rectangle(2, 2, 4, 4), rectangle(8, 8, 9, 9)], ["rectangle"] * 2)
    model.set_drawn(1, show=False)
    model.set_shapes([rectangle(8, 8, 9, 9)], ["rectangle"], removed=[0])
    assert model.drawn_opts == [{"show": False, "subtract": True}]
    model.set_shapes([rectangle(100, 100, 110, 110)], ["rectangle"])
    with pytest.raises(ValueError, match="outside the image"):
        model.components()
    with pytest.raises(ValueError, match="C x Y x X"):
        RoiModel(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="no background ROI"):
        model.processed(model.cube)


def test_resonance_rows_and_w_maps(cube):
    model = _model(cube)
    model.resonances.append(ResonanceRow(component=0, position=3015, width=20, gaussian=True))
    model.resonances.append(ResonanceRow(component=1, position=2850, width=15, n_pixels=20))
    model.add_background_map(projection="min", component=2, lock=True)
    rows = model.rows()
    assert [r["kind"] for r in rows] == ["dummy", "resonance"] and rows[1]["locked"]
    assert model.row_spectrum(rows[0]) is None  # W-only row: no fake spectrum
    assert model.row_spectrum(rows[1]).argmax() == np.abs(model.axis - 3015).argmin()
    comps, _ = model.components()
    assert comps[0].resonance["gaussian"] and comps[2].lock_w and comps[2].background
    assert model.missing_seeds() == ["background (min)"]


def test_state_round_trip_through_preset_file(cube, tmp_path):
    model = _model(cube)
    model.set_shapes([rectangle(2, 2, 6, 6)], ["ellipse"], [{"name": "x", "component": 2}])
    axis = np.linspace(2790, 3110, 40)
    assert not model.add_spectrum(axis, np.exp(-(((axis - 2900) / 30) ** 2)), name="f", component=0)
    model.add_w_map(np.ones((32, 32)), name="w", component=1)
    path = save_preset(tmp_path / "p.json", model.to_state())
    other = RoiModel(cube[0])
    other.load_state(load_preset(path))
    assert other.to_state() == model.to_state()
    np.testing.assert_allclose(other.row_spectrum(1), model.row_spectrum(1))
    with pytest.raises(ValueError, match="shape"):
        RoiModel(cube[0][:, :16]).load_state(load_preset(path))
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not an napari-unmix NNMF preset"):
        load_preset(tmp_path / "x.json")


def test_estimated_background_map_excludes_the_beads_and_is_not_locked():
    data, truth = make_bead_cube(shape=(64, 64), n_channels=16)
    model = RoiModel(data)
    model.add_background_map(component=4)  # default: "estimate"
    comps, _ = model.components()
    w = comps[0].w_map
    assert comps[0].background and not comps[0].lock_w
    beads = truth["abundances"].max(axis=0) > 0.5
    # the channel mean holds the beads; the estimate follows the true background gradient
    assert np.corrcoef(w[beads], truth["background_map"][beads])[0, 1] > 0.9
    with pytest.raises(ValueError, match="projection must be one of"):
        model.add_background_map(projection="median", component=5)


def test_processed_view_subtracts_the_scaled_background():
    data, truth = make_bead_cube(shape=(64, 64), n_channels=16)
    model = RoiModel(data)
    empty = np.argwhere(truth["abundances"].max(axis=0) < 0.005)
    y, x = empty[len(empty) // 2]
    model.set_shapes([rectangle(y - 2, x - 2, y + 2, x + 2)], ["rectangle"], [{"background": True}])
    level = model.background_level()
    true = truth["background_map"] / truth["background_map"][model.mask(0)].mean()
    assert np.median(np.abs(level - true)) < 0.1 * true.mean()  # the gradient, not a constant
    assert np.corrcoef(level.ravel(), true.ravel())[0, 1] > 0.95
    out = model.processed(data)
    background = truth["abundances"].max(axis=0) < 0.005
    assert abs(float(out[:, background].mean())) < 0.05 * float(data[:, background].mean())
