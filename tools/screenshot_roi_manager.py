"""Screenshot of the ROI manager workflow: bead cube, ROIs, seeded NNMF, result docks.

Run under Xvfb from the repository root::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/screenshot_roi_manager.py

and it writes ``docs/images/roi_manager.png`` (or the path given as first argument).
"""

from __future__ import annotations

import sys
from pathlib import Path

import napari
import numpy as np
from qtpy.QtCore import QEventLoop, QTimer
from scipy.ndimage import binary_erosion

from napari_unmix.api.rois import rectangle
from napari_unmix.widgets.roi_manager import RoiManagerWidget


def _boxes(truth, half=3):
    """A box inside a pure region of every component and one in the empty background."""
    A = truth["abundances"]
    out = []
    for j in range(A.shape[0]):
        pure = binary_erosion(
            (A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.02), iterations=half
        )
        ys, xs = np.nonzero(pure)
        b = np.argmax(A[j][ys, xs])
        out.append(rectangle(ys[b] - half, xs[b] - half, ys[b] + half, xs[b] + half))
    ys, xs = np.nonzero(binary_erosion(A.max(0) < 0.01, iterations=5))
    y, x = ys[len(ys) // 2], xs[len(xs) // 2]
    return out, rectangle(y - 4, x - 4, y + 4, x + 4)


def main(out: Path) -> Path:
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open_sample("napari-unmix", "bead_cube")
    truth = viewer.layers["bead cube"].metadata["ground_truth"]
    viewer.dims.set_current_step(0, 20)
    manager = RoiManagerWidget(viewer)
    viewer.window.add_dock_widget(manager, name="ROI manager", area="right")
    boxes, bg = _boxes(truth)
    for j, box in enumerate(boxes):
        manager.new_component.setValue(j)
        manager.roi_layer.add_rectangles([box])
        manager.edit_row(manager.model.rows()[j], "name", truth["names"][j])
    manager.new_component.setValue(len(boxes))
    manager.roi_layer.add_rectangles([bg])
    manager.mark_background([len(boxes)])
    manager.edit_row(manager.model.rows()[len(boxes)], "name", "background")
    nnmf = manager.open_analysis()
    nnmf.apply_settings({"method": "seeded_nnmf", "tol": 1e-4, "max_iter": 300})
    worker = nnmf.run(start=False)
    loop = QEventLoop()
    worker.finished.connect(loop.quit)
    worker.start()
    loop.exec()
    viewer.layers["bead cube"].visible = False
    viewer.layers.selection.active = manager.roi_layer
    res = nnmf.last_result
    A, S = truth["abundances"], truth["spectra"]
    for j, name in enumerate(res.names):
        r = np.corrcoef(res.W[j].ravel(), A[j].ravel())[0, 1]
        c = S[j] @ res.H[j] / np.linalg.norm(S[j]) / np.linalg.norm(res.H[j])
        print(f"{name}: W Pearson {r:.4f}, H cosine {c:.4f}")
    y, x = np.unravel_index(np.argmax(A[2]), A[2].shape)
    nnmf.results_widget.show_pixel(int(y), int(x))
    viewer.reset_view()
    for _ in range(5):
        QTimer.singleShot(100, loop.quit)
        loop.exec()
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(out), canvas_only=False, flash=False)
    viewer.close()
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images/roi_manager.png")
    print(main(target))
