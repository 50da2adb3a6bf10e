"""Large-data paths: dask equals numpy, results stay lazy, ``output_format="ome-zarr"``."""

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from dask.callbacks import Callback

from napari_unmix.api.bleedthrough import unmix, unmix_array
from napari_unmix.core.bleedthrough import apply_correction
from napari_unmix.core.synthetic import make_bleedthrough_stack
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.sidecar import read_sidecar
from napari_unmix.io.zarr_io import read_zarr, write_zarr

SMALL = {"n_t": 2, "n_z": 2, "shape": (96, 80), "n_cells": 4, "random_state": 2}


def _no_compute(dsk, keys, **kwargs):
    raise AssertionError(f"computed {len(dsk)} tasks")


class _Computes(Callback):
    """Every graph dask runs, to show that the full result is never computed."""

    def __init__(self):
        super().__init__()
        self.graphs = []

    def _start(self, dsk):
        self.graphs.append(set(dsk))


def _planes(arr):
    return arr.chunksize[3:] == arr.shape[3:]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_apply_correction_dask_is_lazy_and_equals_numpy(bidirectional):
    data, _ = make_bleedthrough_stack(alpha_reverse=0.1 * bidirectional, **SMALL)
    kw = {"alpha_reverse": [0.1, 0.12] if bidirectional else None}
    ref = apply_correction(data, [0.35, 0.3], **kw)
    lazy_in = da.from_array(data, chunks=(1, 1, 1, 48, 80))  # half planes: rechunked
    with dask.config.set(scheduler=_no_compute):
        lazy = apply_correction(lazy_in, [0.35, 0.3], **kw)
    assert isinstance(lazy, da.Array) and _planes(lazy)
    assert lazy.chunksize[:3] == (1, 1, 1)
    np.testing.assert_allclose(lazy.compute(), ref, rtol=1e-6, atol=1e-6)


# (the reverse direction has a tiny mask: mi_min says so; the parity is what is tested)
@pytest.mark.filterwarnings("ignore::napari_unmix.core.bleedthrough.AlphaReliabilityWarning")
def test_unmix_array_dask_same_alpha_never_computes_the_result():
    data, _ = make_bleedthrough_stack(**SMALL)
    ref, ref_rep = unmix_array(data, method="mi_min", bidirectional=True, n_bootstrap=5)
    lazy_in = da.from_array(data, chunks=(1, 1, 2, 96, 80))
    with _Computes() as log:
        lazy, rep = unmix_array(lazy_in, method="mi_min", bidirectional=True, n_bootstrap=5)
    assert isinstance(lazy, da.Array) and _planes(lazy)
    final = {k for k in lazy.__dask_graph__() if isinstance(k, tuple) and k[0] == lazy.name}
    assert final and not any(final & g for g in log.graphs)  # only samples were computed
    assert rep["alpha_by_t"] == ref_rep["alpha_by_t"]  # same seeded sample, same estimate
    assert rep["alpha_reverse_by_t"] == ref_rep["alpha_reverse_by_t"]
    np.testing.assert_allclose(lazy.compute(), ref, rtol=1e-5, atol=1e-6)


def test_unmix_ome_zarr_output_equals_ome_tiff_output(tmp_path):
    data, truth = make_bleedthrough_stack(**SMALL)
    src = write_image(tmp_path / "in.ome.tif", data, physical_size=(2.0, 0.3, 0.3))
    kw = {"verbose": False, "n_bootstrap": 0, "method": "linear_fit"}
    tif = unmix(src, tmp_path / "out.ome.tif", **kw)
    zar = unmix(src, tmp_path / "out.ome.zarr", output_format="ome-zarr", **kw)
    lazy, meta = read_zarr(zar)
    np.testing.assert_array_equal(lazy.compute(), read_image(tif)[0])
    assert meta["physical_size"] == (2.0, 0.3, 0.3)
    side = read_sidecar(zar)  # sibling out.ome.zarr.json ...
    assert side == meta["report"]  # ... and the same report inside the store
    assert side["output_format"] == "ome-zarr" and side["output_path"] == str(zar)
    assert side["inputs"]["data"]["array_type"] == "dask.Array"
    assert abs(side["alpha"] - truth["alpha"]) < 0.03
    assert side["alpha"] == read_sidecar(tif)["alpha"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        unmix(src, zar, output_format="ome-zarr", **kw)


def test_unmix_reads_zarr_input_lazily_for_either_output(tmp_path):
    data, _ = make_bleedthrough_stack(**SMALL)
    src = write_zarr(tmp_path / "in.ome.zarr", data, channel_names=["src", "tgt"])
    ref, _ = unmix_array(data, n_bootstrap=0, output_dtype="uint16")
    a = unmix(
        src, tmp_path / "a.zarr", verbose=False, n_bootstrap=0, output_dtype="uint16",
        output_format="OME-Zarr", compression_level=3,
    )  # fmt: skip
    b = unmix(src, tmp_path / "b.ome.tif", verbose=False, n_bootstrap=0, output_dtype="uint16")
    np.testing.assert_array_equal(read_zarr(a)[0].compute(), ref)
    np.testing.assert_array_equal(read_image(b)[0], ref)
    assert read_zarr(a)[1]["channel_names"] == ["src", "tgt"]
    assert zarr.open_group(str(a), mode="r")["0"].compressors  # level 3 -> compressed


def test_unmix_bad_output_format(tmp_path):
    data, _ = make_bleedthrough_stack(**SMALL)
    src = write_zarr(tmp_path / "in.zarr", data)
    with pytest.raises(ValueError, match="output_format must be one of"):
        unmix(src, tmp_path / "o.h5", output_format="hdf5", verbose=False)
    with pytest.raises(ValueError, match=r"must end in \.ome\.zarr or \.zarr"):
        unmix(src, tmp_path / "o.ome.tif", output_format="ome-zarr", verbose=False)
    with pytest.raises(ValueError, match="is the input"):
        unmix(src, src, output_format="ome-zarr", verbose=False, overwrite=True)


def test_cli_writes_ome_zarr(tmp_path):
    from napari_unmix import cli
    from napari_unmix.api.picasso import unmix_picasso_array
    from napari_unmix.core.synthetic import make_picasso_mix

    data, _ = make_bleedthrough_stack(**SMALL)
    src = write_zarr(tmp_path / "in.ome.zarr", data)
    out = tmp_path / "out.ome.zarr"
    argv = ["unmix", str(src), str(out), "--output-format", "ome-zarr", "--n-bootstrap", "0"]
    assert cli.main([*argv, "--quiet", "--compression-level", "1"]) == 0
    np.testing.assert_array_equal(read_zarr(out)[0].compute(), unmix_array(data, n_bootstrap=0)[0])
    mix, _ = make_picasso_mix(shape=(48, 48))
    msrc = write_zarr(tmp_path / "mix.ome.zarr", mix)
    mout = tmp_path / "mix_out.ome.zarr"
    argv = ["picasso", str(msrc), str(mout), "--output-format", "ome-zarr", "--max-iter", "3"]
    assert cli.main([*argv, "--quiet"]) == 0
    assert cli.main([*argv, "--quiet"]) == 1  # exists
    assert cli.main([*argv, "--quiet", "--overwrite"]) == 0
    ref, _ = unmix_picasso_array(mix, max_iter=3)
    np.testing.assert_allclose(read_zarr(mout)[0].compute(), ref, rtol=1e-5, atol=1e-6)
