"""Demo: the ROI manager's path without a viewer — ROIs -> preset -> seeds -> seeded NNMF.

Draws rectangles on the bead cube the way a user would (one per component inside a pure
bead, one on the background), saves them as a preset, reloads it into a fresh ROI model
(the same state) and turns it into seeds (:func:`~napari_unmix.api.rois.preset_seeds`,
what ``nnmf --preset`` does), runs seeded NNMF from them and compares with the truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import binary_erosion

from ..api.nmf import seeded_nnmf
from ..core.synthetic import make_bead_cube


def roi_boxes(truth: dict, *, half: int = 2) -> tuple[list[np.ndarray], np.ndarray]:
    """A (2·half+1)² box inside a pure region of every component, and a background box."""
    from ..api.rois import rectangle

    A = truth["abundances"]
    boxes = []
    for j in range(A.shape[0]):
        pure = (A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.02)
        core = np.where(binary_erosion(pure, iterations=half), A[j], 0)
        y, x = np.unravel_index(np.argmax(core), core.shape)
        boxes.append(rectangle(y - half, x - half, y + half, x + half))
    empty = np.argwhere(binary_erosion(A.max(0) < 0.01, iterations=4))
    y, x = empty[len(empty) // 2]
    return boxes, rectangle(y - 3, x - 3, y + 3, x + 3)


def run(output_dir: Path) -> list[dict]:
    from ..api.rois import RoiModel, preset_seeds
    from ..io.presets import load_preset, save_preset
    from ..plot.figure import save_figure
    from ..plot.nmf import result_figure

    output_dir.mkdir(parents=True, exist_ok=True)
    cube, truth = make_bead_cube()
    axis, names = truth["spectral_axis"], truth["names"]
    model = RoiModel(cube, spectral_axis=axis, spectral_units="cm-1")
    boxes, bg = roi_boxes(truth)
    rows = [{"name": n, "component": j} for j, n in enumerate(names)]
    rows.append({"name": "background", "component": len(names), "background": True})
    model.set_shapes([*boxes, bg], ["rectangle"] * (len(boxes) + 1), rows)
    preset = save_preset(output_dir / "roi_manager_preset.json", model.to_state(), overwrite=True)

    again = RoiModel(cube)
    again.load_state(load_preset(preset))
    same = again.to_state() == model.to_state()
    seeds = preset_seeds(preset, cube)
    res = seeded_nnmf(
        cube, seeds.components, spectral_axis=seeds.spectral_axis, spectral_units="cm-1",
        tol=1e-4, seed_options=seeds.seed_options, background_masks=seeds.background_masks,
    )  # fmt: skip
    res.save(output_dir / "roi_manager_W.ome.tif", overwrite=True)
    save_figure(
        result_figure(res, true_spectra=truth["spectra"]),
        output_dir / "roi_manager.png",
        overwrite=True,
    )
    A, S = truth["abundances"], truth["spectra"]
    r = [np.corrcoef(res.W[j].ravel(), A[j].ravel())[0, 1] for j in range(len(names))]
    c = [
        S[j] @ res.H[j] / np.linalg.norm(S[j]) / np.linalg.norm(res.H[j]) for j in range(len(names))
    ]
    return [
        {
            "tool": "roi_manager",
            "result": f"5 drawn ROIs (1 background) -> preset (restored: {same}) -> seeded NNMF, "
            f"{res.n_iter} it, rel. error {res.relative_error:.3f}",
            "vs ground truth": "W Pearson "
            + ", ".join(f"{v:.3f}" for v in r)
            + "; H cosine "
            + ", ".join(f"{v:.4f}" for v in c),
        }
    ]
