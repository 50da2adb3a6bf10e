"""The same code on a ``dask.distributed`` cluster: 2 worker processes, identical results.

One module-scoped ``LocalCluster`` (2 processes, 1 thread each) serves every test here
and is shut down at the end. Inputs are read lazily from files (OME-Zarr, OME-TIFF), so
the workers read the chunks themselves, as on a real cluster with a shared file system.
"""

import numpy as np
import pytest

from napari_unmix.api.bleedthrough import unmix, unmix_array
from napari_unmix.core.synthetic import make_bleedthrough_stack
from napari_unmix.io.omio_io import write_image
from napari_unmix.io.zarr_io import read_lazy, read_zarr, write_zarr

distributed = pytest.importorskip("distributed")

SMALL = {"n_t": 2, "n_z": 2, "shape": (64, 48), "n_cells": 4, "random_state": 2}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        host="127.0.0.1",
        memory_limit="1GiB",
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_unmix_file_on_cluster_equals_single_machine(client, tmp_path):
    data, _ = make_bleedthrough_stack(**SMALL)
    src = write_zarr(tmp_path / "in.ome.zarr", data)
    kw = {"verbose": False, "n_bootstrap": 0, "bidirectional": True, "method": "linear_fit"}
    local = unmix(src, tmp_path / "local.ome.zarr", output_format="ome-zarr", **kw)

    def transitions():
        return sum(client.run(lambda dask_worker: dask_worker.state.transition_counter).values())

    before = transitions()
    remote = unmix(
        src, tmp_path / "cluster.ome.zarr", output_format="ome-zarr", scheduler=client, **kw
    )
    (a, meta_a), (b, meta_b) = read_zarr(local), read_zarr(remote)
    np.testing.assert_array_equal(a.compute(), b.compute())  # bit-identical
    assert meta_a["report"]["alpha_by_t"] == meta_b["report"]["alpha_by_t"]
    assert transitions() > before + 2 * a.npartitions  # the chunks ran on the workers


def test_active_client_and_tiff_input(client, tmp_path):
    data, _ = make_bleedthrough_stack(**SMALL)
    tif = write_image(tmp_path / "in.ome.tif", data)
    lazy, _ = read_lazy(tif)  # tifffile-backed: pickled by path to the workers
    ref, ref_rep = unmix_array(data, n_bootstrap=0, alpha_mode="per_t")
    with client.as_current():
        out, rep = unmix_array(lazy, n_bootstrap=0, alpha_mode="per_t")
        result = client.compute(out).result()
    np.testing.assert_array_equal(result, ref)
    assert rep["alpha_by_t"] == ref_rep["alpha_by_t"]


def test_picasso_and_nnls_on_cluster(client, tmp_path):
    import dask.array as da

    from napari_unmix.api.nmf import nnls_unmix
    from napari_unmix.api.picasso import unmix_picasso
    from napari_unmix.core.synthetic import make_bead_cube, make_picasso_mix

    mix, _ = make_picasso_mix(shape=(48, 48), n_t=2)
    src = write_zarr(tmp_path / "mix.ome.zarr", mix)
    kw = {"implementation": "source_sink_n", "max_iter": 10, "verbose": False}
    local = unmix_picasso(src, tmp_path / "l.ome.zarr", output_format="ome-zarr", **kw)
    remote = unmix_picasso(
        src, tmp_path / "r.ome.zarr", output_format="ome-zarr", scheduler=client, **kw
    )
    np.testing.assert_array_equal(read_zarr(local)[0].compute(), read_zarr(remote)[0].compute())

    cube, truth = make_bead_cube(shape=(32, 32), n_channels=16)
    ref = nnls_unmix(cube, truth["spectra"])
    lazy = nnls_unmix(da.from_array(cube, chunks=(16, 16, 32)), truth["spectra"])
    W = client.compute(lazy.W).result()
    np.testing.assert_allclose(W, ref.W, rtol=1e-6, atol=1e-6)
