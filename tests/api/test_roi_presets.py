"""A ROI-manager preset re-run from a script and the CLI gives the dock's seeds and result."""

from __future__ import annotations

import numpy as np
import pytest

from napari_unmix import cli
from napari_unmix.api.nmf import iter_seeded_nnmf, nnmf_file, seeded_nnmf_file
from napari_unmix.api.rois import ResonanceRow, RoiModel, preset_seeds, rectangle
from napari_unmix.core.progress import run
from napari_unmix.core.synthetic import make_bead_cube
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.presets import save_preset

#: the analysis dock's settings saved with a preset (ROI manager -> "Save preset")
SETTINGS = {"w_mode": "nnls", "rank_by": "max_intensity", "overwrite": False,
            "background_projection": "estimate", "max_iter": 80, "tol": 1e-4}  # fmt: skip


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    d = tmp_path_factory.mktemp("roi_presets")
    cube, truth = make_bead_cube(shape=(48, 48), n_channels=24)
    axis = truth["spectral_axis"]
    src = write_image(
        d / "beads.ome.tif", cube[None, None],
        extra={"spectral_axis": axis.tolist(), "spectral_units": "cm-1"},
    )  # fmt: skip
    model = RoiModel(cube, spectral_axis=axis, spectral_units="cm-1")
    A = truth["abundances"]
    boxes, rows = [], []
    for j in range(3):
        y, x = np.unravel_index(np.argmax(A[j]), A[j].shape)
        boxes.append(rectangle(y - 1, x - 1, y + 1, x + 1))
        rows.append({"name": truth["names"][j], "component": j})
    boxes.append(rectangle(0, 0, 3, 3))
    rows.append({"name": "bg", "component": 9, "background": True})
    model.set_shapes(boxes, ["rectangle"] * 4, rows)
    model.add_gaussian(center=float(axis[np.argmax(truth["spectra"][3])]), fwhm=60.0,
                       name="gauss", component=3)  # fmt: skip
    model.resonances.append(ResonanceRow(component=4, position=float(axis[5]), width=20.0))
    state = model.to_state()
    state["settings"]["analysis"] = SETTINGS
    preset = save_preset(d / "preset.json", state)
    return d, src, cube, model, preset


def _dock_result(cube, model):
    """What the analysis dock's Run computes (widgets.nnmf: seeded NNMF from the rows)."""
    from napari_unmix.api.rois.preset import rank_components, seed_options

    comps, bg = model.components()
    return run(
        iter_seeded_nnmf(
            cube, rank_components(comps, SETTINGS["rank_by"]), max_iter=80, tol=1e-4,
            spectral_axis=model.spectral_axis, spectral_units="cm-1",
            seed_options=seed_options(SETTINGS), background_masks=bg,
        )
    )  # fmt: skip


def test_preset_seeds_are_the_models_components(scene):
    _, _, cube, model, preset = scene
    seeds = preset_seeds(preset, cube)
    comps, bg = model.components()
    assert [c.name for c in seeds.components] == [c.name for c in comps]
    for a, b in zip(seeds.components, comps, strict=True):
        assert [m.tolist() for m in a.masks] == [m.tolist() for m in b.masks]
        assert a.gaussian == b.gaussian
    assert seeds.components[4].resonance["rank_by"] == "max_intensity"
    assert len(seeds.background_masks) == len(bg) == 1
    assert seeds.seed_options.w_mode == "nnls" and seeds.settings == SETTINGS
    assert seeds.seed_options.residual_rank == "max_intensity"
    np.testing.assert_allclose(seeds.spectral_axis, model.spectral_axis)
    # a 4-D stack: the ROIs are placed on the reference slice
    assert len(preset_seeds(preset, np.stack([cube, cube]), reference_slice=1).components) == 5
    with pytest.raises(ValueError, match="shape"):
        preset_seeds(preset, cube[:, :20])


def test_preset_from_script_and_cli_gives_the_dock_result(scene, capsys):
    d, src, cube, model, preset = scene
    ref = _dock_result(cube, model)
    paths = seeded_nnmf_file(src, d / "script.ome.tif", preset=preset, max_iter=80, tol=1e-4)
    W = read_image(paths["W"])[0][0, 0]
    np.testing.assert_allclose(W, ref.W, rtol=1e-4, atol=1e-5)
    argv = ["nnmf", str(src), str(d / "cli.ome.tif"), "--preset", str(preset),
            "--max-iter", "80", "--tol", "1e-4", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    np.testing.assert_allclose(read_image(d / "cli.ome.tif")[0][0, 0], W, rtol=1e-6, atol=1e-7)
    # exactly one source of seeds; a preset carries its own locks
    with pytest.raises(ValueError, match="not both"):
        seeded_nnmf_file(src, d / "x.ome.tif", d / "lib.csv", preset=preset)
    with pytest.raises(ValueError, match="lock applies to a seeds CSV"):
        seeded_nnmf_file(src, d / "x.ome.tif", preset=preset, lock=["gauss"])
    with pytest.raises(ValueError, match="not both"):
        nnmf_file(src, d / "x.ome.tif", preset=preset, k=3)
    with pytest.raises(FileNotFoundError, match="no such preset file"):
        seeded_nnmf_file(src, d / "x.ome.tif", preset=d / "missing.json")
