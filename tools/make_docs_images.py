"""Regenerate the screenshots in ``docs/images/`` from the sample data (``make docs-images``).

Each shot opens a fresh napari viewer, loads a sample from *File > Open Sample >
napari-unmix*, docks a plugin widget, runs it the way a user would (pressing its button and
waiting for the worker), and saves the whole window (canvas and docks) as a PNG. Run it
under a virtual display::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/make_docs_images.py [--only NAME ...]

A shot is a function in ``SHOTS``: add one when a tool gets a dock widget.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

import napari
from qtpy.QtCore import QEventLoop, QTimer
from qtpy.QtWidgets import QApplication, QScrollArea

PLUGIN = "napari-unmix"
OUT = Path(__file__).resolve().parents[1] / "docs" / "images"
WINDOW = (1500, 920)


def wait_for(signal, start: Callable[[], object] | None = None, *, timeout_s: float = 300) -> None:
    """Run ``start()`` and block (processing Qt events) until ``signal`` is emitted."""
    loop = QEventLoop()
    signal.connect(lambda *_: loop.quit())
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    if start is not None:
        start()
    loop.exec()
    if not timer.isActive():
        raise TimeoutError(f"no {signal} within {timeout_s} s")
    timer.stop()


def settle(seconds: float = 1.0) -> None:
    """Let napari finish drawing (layers, plots, dock resizing)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def dock(viewer: napari.Viewer, name: str):
    """Dock the widget the manifest contributes as ``name``, made as the Plugins menu does."""
    from npe2 import PluginManager

    manifest = PluginManager.instance().get_manifest(PLUGIN)
    (contribution,) = (w for w in manifest.contributions.widgets if w.display_name == name)
    widget = contribution.get_callable()(viewer)
    viewer.window.add_dock_widget(widget, name=name, area="right")
    return widget


def shot_bleedthrough(viewer: napari.Viewer) -> None:
    """Two-channel sample, the dock's default run (mi_min): corrected target, results panel."""
    viewer.open_sample(PLUGIN, "bleedthrough")
    w = dock(viewer, "Bleed-through correction")
    w.form.set_values({"n_bootstrap": 50})
    wait_for(w.finished, w.start)
    viewer.dims.set_point(1, 2)


def shot_suggest(viewer: napari.Viewer) -> None:
    """Bead cube, four groups: suggested ROIs in the ROIs Shapes layer."""
    viewer.open_sample(PLUGIN, "bead_cube")
    w = dock(viewer, "ROI suggester")
    w.form.set_values({"max_groups": 4})
    wait_for(w.finished, w.start)
    # show the maximum over all channels (a thick slice), so every component's beads show
    cube = viewer.layers["bead cube"]
    n_channels = cube.data.shape[0]
    viewer.dims.set_point(0, (n_channels - 1) / 2)
    viewer.dims.thickness = (n_channels, *viewer.dims.thickness[1:])
    cube.projection_mode = "max"
    rois = viewer.layers["ROIs"]
    rois.edge_width = [2] * len(rois.data)


def shot_stnmf(viewer: napari.Viewer) -> None:
    """Sparse model cell: modules, outlines and the module table."""
    viewer.open_sample(PLUGIN, "ste_sparse")
    w = dock(viewer, "STNMF")
    w.form.set_values({"num_iter": 300, "pixel_size": 30.0})
    worker = w.start()
    wait_for(worker.finished)


def shot_picasso(viewer: napari.Viewer) -> None:
    """Three mixed channels, the default implementation: unmixed layers and the matrix."""
    viewer.open_sample(PLUGIN, "picasso")
    w = dock(viewer, "PICASSO unmixing")
    wait_for(w.finished, w.start)
    scroll = w.findChild(QScrollArea)  # show the results panel's matrices
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())


def shot_hsmap(viewer: napari.Viewer) -> None:
    """Two-region Raman cube: a two-cluster map scored against the painted truth."""
    viewer.open_sample(PLUGIN, "two_region")
    w = dock(viewer, "Hyperspectral maps")
    w.cube.value = viewer.layers["two-region cube"]
    if "two-region truth" in viewer.layers:
        w.truth.value = viewer.layers["two-region truth"]
    w.n_clusters.value = 2
    worker = w.run_cluster()
    wait_for(worker.finished)
    settle(0.5)
    scroll = w.findChild(QScrollArea)  # show the results panel: spectra and metrics
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())


def shot_stack_tools(viewer: napari.Viewer) -> None:
    """Two-channel stack: the Stack tools dock after a max-z projection of both channels."""
    viewer.open_sample(PLUGIN, "bleedthrough")
    w = dock(viewer, "Stack tools")  # preselects the sample's two channels
    w.chooser.value = "max-z"
    wait_for(w.finished, w.start)  # results shown, inputs hidden
    viewer.dims.set_current_step(1, 0)  # the projections have one z plane
    viewer.reset_view()


def shot_reapply(viewer: napari.Viewer) -> None:
    """An alpha estimated on one stack re-applied to a folder of new stacks (one unreadable)."""
    import atexit
    import shutil
    import tempfile

    from napari_unmix.api.bleedthrough import unmix
    from napari_unmix.core.synthetic import make_bleedthrough_stack
    from napari_unmix.io.omio_io import write_image

    root = Path(tempfile.mkdtemp(prefix="experiment_"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    data, _ = make_bleedthrough_stack(n_t=1, n_z=4, shape=(96, 96))
    first = write_image(root / "control.ome.tif", data)
    unmix(first, root / "control_corrected.ome.tif", verbose=False)
    new = root / "day2"
    new.mkdir()
    for i in range(4):
        write_image(new / f"cell_{i + 1:02d}.ome.tif", data * (1 + 0.2 * i))
    (new / "notes.tif").write_bytes(b"II*\x00not an image")
    viewer.open_sample(PLUGIN, "bleedthrough")
    w = dock(viewer, "Apply a saved result to files")
    w.report.setText(str(root / "control_corrected.ome.tif.json"))
    w.inputs.setText(str(new))
    w.output_dir.setText(str(root / "day2_corrected"))
    wait_for(w.finished, w.start)


SHOTS: dict[str, Callable[[napari.Viewer], None]] = {
    "napari_stack_tools": shot_stack_tools,
    "napari_bleedthrough": shot_bleedthrough,
    "napari_picasso": shot_picasso,
    "napari_suggest": shot_suggest,
    "napari_stnmf": shot_stnmf,
    "napari_hsmap": shot_hsmap,
    "napari_reapply": shot_reapply,
}
# shots made by a tool's own script (``main(path)`` opens and closes its viewer)
SCRIPTS: dict[str, str] = {"roi_manager": "screenshot_roi_manager"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="only these shots (PNG names without .png)")
    parser.add_argument("--output", type=Path, default=OUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    failed = []
    for name, shot in SHOTS.items():
        if args.only and name not in args.only:
            continue
        viewer = napari.Viewer(show=True, title="napari-unmix")
        viewer.window.resize(*WINDOW)
        try:
            shot(viewer)
            settle()
            path = args.output / f"{name}.png"
            viewer.screenshot(str(path), canvas_only=False, flash=False)
            print(f"wrote {path}")
        except Exception as err:  # report and go on with the other shots
            print(f"{name}: FAILED: {err!r}", file=sys.stderr)
            failed.append(name)
        finally:
            viewer.close()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for name, module in SCRIPTS.items():
        if args.only and name not in args.only:
            continue
        try:
            print(f"wrote {import_module(module).main(args.output / f'{name}.png')}")
        except Exception as err:
            print(f"{name}: FAILED: {err!r}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
