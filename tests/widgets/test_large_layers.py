"""OME-Zarr stores open as lazy (dask) layers; widget results on them stay lazy."""

import dask.array as da
import numpy as np

from napari_unmix._reader import get_zarr_reader, read_zarr_layers
from napari_unmix.api.bleedthrough import unmix_array
from napari_unmix.api.picasso import unmix_picasso_array
from napari_unmix.core.synthetic import make_bleedthrough_stack
from napari_unmix.io.zarr_io import write_zarr
from napari_unmix.widgets.bleedthrough import BleedthroughWidget

TIMEOUT = 60_000


def test_reader_hook_accepts_only_zarr_folders(tmp_path):
    assert get_zarr_reader(str(tmp_path / "missing.zarr")) is None
    assert get_zarr_reader(str(tmp_path)) is None  # a folder, but not a store
    store = write_zarr(tmp_path / "s.ome.zarr", np.ones((1, 1, 2, 4, 4), np.float32))
    assert get_zarr_reader(str(store)) is read_zarr_layers
    assert get_zarr_reader([str(store), str(tmp_path / "x.tif")]) is None


def test_open_store_lazily_and_correct_it_in_the_widget(make_napari_viewer, qtbot, tmp_path):
    data, _ = make_bleedthrough_stack(
        n_t=2, n_z=2, shape=(64, 64), n_cells=4, random_state=2, noise_sigma=0.0
    )
    report = {"tool": "made by the test"}
    path, size = tmp_path / "cells.ome.zarr", (2.0, 0.5, 0.5)
    store = write_zarr(path, data, physical_size=size, channel_names=["src", "tgt"], report=report)
    viewer = make_napari_viewer()
    src, tgt = viewer.open(str(store), plugin="napari-unmix")
    assert [src.name, tgt.name] == ["cells.ome.zarr [src]", "cells.ome.zarr [tgt]"]
    assert isinstance(src.data, da.Array) and isinstance(tgt.data, da.Array)
    np.testing.assert_allclose(src.scale, [1.0, 2.0, 0.5, 0.5])
    assert src.metadata["report"] == {"tool": "made by the test"}

    w = BleedthroughWidget(viewer)
    qtbot.addWidget(w)
    w.source.value, w.target.value = src, tgt
    w.method.value = "linear_fit"
    w.n_bootstrap.value = 0
    with qtbot.waitSignal(w.applied, timeout=TIMEOUT) as blocker:
        w.apply_button.clicked.emit()
    (new,) = blocker.args[0]
    assert isinstance(new.data, da.Array)  # a lazy layer: planes computed when shown
    assert new.data.chunksize[-2:] == (64, 64)
    ref, rep = unmix_array(data, method="linear_fit", n_bootstrap=0)
    assert new.metadata["bleedthrough_report"]["alpha"] == rep["alpha"]
    np.testing.assert_allclose(new.data.compute(), ref[:, :, 1], rtol=1e-6)
    np.testing.assert_allclose(new.scale, tgt.scale)


def test_picasso_widget_on_dask_layers_gives_lazy_layers(make_napari_viewer, qtbot):
    from napari_unmix.core.synthetic import make_picasso_mix
    from napari_unmix.widgets.picasso import PicassoWidget

    data, _ = make_picasso_mix(shape=(64, 64))
    viewer = make_napari_viewer()
    for c in range(3):
        viewer.add_image(da.from_array(data[0, 0, c], chunks=(64, 64)), name=f"ch{c}")
    widget = PicassoWidget(viewer)
    widget.max_iter.setValue(20)
    worker = widget.run(start=False)
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        worker.start()
    out = viewer.layers["unmixed_ch1"].data
    assert isinstance(out, da.Array)  # computed plane by plane when shown
    ref, _ = unmix_picasso_array(data, implementation="source_sink_n", max_iter=20)
    np.testing.assert_allclose(out.compute(), ref[0, 0, 1], rtol=1e-5, atol=1e-5)
