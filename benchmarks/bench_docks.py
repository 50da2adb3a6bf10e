"""Dock versus script: the time of a run started from a dock over the same API call.

For each case a visible napari viewer (under Xvfb when there is no display) opens a sample,
the tool's dock is added, and one run is timed from ``dock.start()`` until the dock has
shown its results (``finished``); the same computation is then timed as a script runs it,
``core.progress.run(dock.steps(dock.read_inputs(), dock.current_options()))`` — the generator
the dock runs is the API's. The ratio dock / API is the cost of the GUI (progress drawing,
previews, adding layers); the goal is at most 1.3x. "dock+paint s" also counts the paint
that follows (napari's canvas, the results panel's plot): the events pending once the
results are shown are processed before the clock stops. Each time is the median of
``--repeat`` runs after one warm-up run. The large case (NNLS of a 512 x 512 x 64 cube)
shows the dock's fixed cost (adding layers, painting under software OpenGL) against a
longer computation.

Run: ``PYTHONPATH=src python benchmarks/bench_docks.py [--quick]`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from statistics import median
from typing import Any

from _common import machine, print_table, save_rows, save_summary, summary_row


def _bleedthrough(viewer: Any) -> Any:
    from napari_unmix.widgets.bleedthrough import BleedthroughWidget

    viewer.open_sample("napari-unmix", "bleedthrough")
    return BleedthroughWidget(viewer)


def _picasso(viewer: Any) -> Any:
    from napari_unmix.widgets.picasso import PicassoWidget

    viewer.open_sample("napari-unmix", "picasso")
    return PicassoWidget(viewer)


def _large_bead_cube(viewer: Any) -> None:
    """The bead-cube sample's layer, 512 x 512 pixels instead of 128 x 128."""
    from napari_unmix._sample_data import bead_cube_sample
    from napari_unmix.core.synthetic import make_bead_cube

    _, meta, _ = bead_cube_sample()[0]
    cube, truth = make_bead_cube(shape=(512, 512))
    meta = {**meta, "metadata": {**meta["metadata"], "ground_truth": truth}}
    viewer.add_image(cube, **meta)


def _nmf(method: str, *, large: bool = False) -> Callable[[Any], Any]:
    def make(viewer: Any) -> Any:
        from napari_unmix.widgets.nnmf import NNMFWidget

        if large:
            _large_bead_cube(viewer)
        else:
            viewer.open_sample("napari-unmix", "bead_cube")
        dock = NNMFWidget(viewer)
        if hasattr(dock, "prepare_benchmark"):
            dock.prepare_benchmark(method)
        return dock

    return make


#: case -> (tool, sample, function making the dock in a viewer)
CASES: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "bleed-through": ("bleed-through", "bleedthrough 2ch", _bleedthrough),
    "PICASSO": ("PICASSO", "picasso 3ch", _picasso),
    "seeded NNMF": ("NNMF", "bead cube", _nmf("seeded_nnmf")),
    "fixed-H NNLS": ("NNLS", "bead cube", _nmf("nnls")),
    "fixed-H NNLS (large)": ("NNLS", "bead cube 512x512x64", _nmf("nnls", large=True)),
}


def _wait(app: Any, done: Callable[[], bool], timeout: float = 600.0) -> None:
    t0 = time.perf_counter()
    while not done():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the dock did not finish")


def time_dock(dock: Any, app: Any) -> tuple[float, float]:
    """Seconds from Run to results shown, and to the paint that follows."""
    box: list[Any] = []
    dock.finished.connect(box.append)
    dock.failed.connect(lambda text: box.append(RuntimeError(text)))
    t0 = time.perf_counter()
    dock.start()
    _wait(app, lambda: bool(box) and not dock.running)
    dt = time.perf_counter() - t0
    for _ in range(3):  # the paint events the results posted
        app.processEvents()
    painted = time.perf_counter() - t0
    dock.finished.disconnect(box.append)
    if isinstance(box[0], Exception):
        raise box[0]
    return dt, painted


def time_api(dock: Any) -> float:
    """Seconds of the same generator run as a script runs it."""
    from napari_unmix.core.progress import run

    inputs, options = dock.read_inputs(), dock.current_options()
    t0 = time.perf_counter()
    run(dock.steps(inputs, options))
    return time.perf_counter() - t0


def run_case(name: str, repeat: int) -> dict[str, Any]:
    import napari
    from qtpy.QtWidgets import QApplication

    tool, data, make = CASES[name]
    viewer = napari.Viewer(show=True)
    app = QApplication.instance()
    try:
        dock = make(viewer)
        if not hasattr(dock, "steps") or not hasattr(dock, "current_options"):
            return {"case": name, "note": "dock not on the ToolDock skeleton"}
        viewer.window.add_dock_widget(dock)
        app.processEvents()
        time_dock(dock, app)  # warm-up
        docks, paints, apis = [], [], []
        for _ in range(repeat):  # interleaved, so load changes hit both alike
            dt, painted = time_dock(dock, app)
            docks.append(dt)
            paints.append(painted)
            apis.append(time_api(dock))
    finally:
        viewer.close()
    d, p, a = median(docks), median(paints), median(apis)
    nan = float("nan")
    return {"tool": tool, "case": name, "data": data, "dock s": d, "dock+paint s": p,
            "api s": a, "dock/api": d / a if a else nan,
            "dock+paint/api": p / a if a else nan}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed run per case")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("_BENCH_DOCKS_XVFB"):
        if shutil.which("xvfb-run") is None:
            raise SystemExit("bench_docks needs a display or xvfb-run (make system-deps)")
        env = {**os.environ, "_BENCH_DOCKS_XVFB": "1", "QT_API": os.environ.get("QT_API", "pyqt6")}
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, *sys.argv]
        raise SystemExit(subprocess.call(cmd, env=env))
    repeat = 1 if args.quick else args.repeat
    rows = [run_case(name, repeat) for name in CASES]
    print(f"# dock vs API ({machine()})")
    print_table(rows)
    save_rows("docks", rows)
    summary = [
        summary_row(
            r["tool"],
            f"dock run ({r['case']})",
            data=r["data"],
            ours_s=r["dock s"],
            ours_accuracy=f"dock/API {r['dock/api']:.2f}x",
            reference="same API call",
            reference_s=r["api s"],
        )
        for r in rows
        if "dock s" in r
    ]
    save_summary("docks", summary)


if __name__ == "__main__":
    main()
