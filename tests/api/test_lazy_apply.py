"""Every pixel-wise apply step: dask in -> lazy dask out, equal to numpy to float32 precision.

"Lazy" is checked with a dask scheduler that raises: building the result computes
nothing. Estimation (a bounded sample) runs before, outside that check.
"""

import dask
import dask.array as da
import numpy as np
import pytest

from napari_unmix.api.nmf import nnls_unmix
from napari_unmix.api.picasso import unmix_picasso, unmix_picasso_array
from napari_unmix.core.hsmap import band_intensity, band_ratio
from napari_unmix.core.nnls import nnls_maps
from napari_unmix.core.picasso import apply_picasso, apply_unmixing, estimate_picasso
from napari_unmix.core.synthetic import make_bead_cube, make_picasso_mix, make_two_region_cube
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.sidecar import read_sidecar
from napari_unmix.io.zarr_io import read_zarr, write_zarr


def _no_compute(dsk, keys, **kwargs):
    raise AssertionError(f"a full compute was attempted ({len(dsk)} tasks)")


def _close(lazy, ref):
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), ref, rtol=2e-6, atol=2e-6 * np.nanmax(np.abs(ref)))


@pytest.fixture(scope="module")
def mix():
    return make_picasso_mix(shape=(64, 64), n_t=2, n_z=2)


@pytest.mark.parametrize("implementation", ["source_sink_n", "matlab_3c"])
def test_picasso_apply_is_lazy_and_equals_numpy(mix, implementation):
    data, _ = mix
    result = estimate_picasso(data, implementation=implementation, max_iter=20)
    ref = apply_picasso(data, result)
    lazy_in = da.from_array(data, chunks=(1, 1, 1, 64, 64))
    with dask.config.set(scheduler=_no_compute):
        lazy = apply_picasso(lazy_in, result)
    assert lazy.chunksize == (1, 1, 3, 64, 64)  # whole C×Y×X planes per (t, z)
    _close(lazy, ref)


def test_apply_unmixing_per_t_matrix_lazy(mix):
    data, truth = mix
    inv = np.linalg.inv(truth["mixing"])
    mats = np.stack([inv, 0.5 * inv])
    ref = apply_unmixing(data, mats, output_dtype="uint16")
    with dask.config.set(scheduler=_no_compute):
        lazy = apply_unmixing(
            da.from_array(data, chunks=(1, 2, 3, 32, 64)), mats, output_dtype="uint16"
        )
    assert lazy.chunksize[3:] == (64, 64)
    np.testing.assert_array_equal(lazy.compute(), ref)


def test_unmix_picasso_array_dask_same_matrix(mix):
    data, _ = mix
    ref, rep = unmix_picasso_array(data, implementation="source_sink_n", max_iter=20)
    lazy, lazy_rep = unmix_picasso_array(
        da.from_array(data, chunks=(1, 1, 1, 64, 64)), implementation="source_sink_n", max_iter=20
    )
    np.testing.assert_array_equal(
        lazy_rep["result"]["unmixing_matrix_by_t"], rep["result"]["unmixing_matrix_by_t"]
    )
    _close(lazy, ref)


def test_unmix_picasso_ome_zarr_output(tmp_path, mix):
    data, _ = mix
    src = write_zarr(tmp_path / "mix.ome.zarr", data, channel_names=["a", "b", "c"])
    kw = {"implementation": "source_sink_n", "max_iter": 20, "verbose": False}
    zar = unmix_picasso(src, output_format="ome-zarr", **kw)
    assert zar.name == "mix_picasso.ome.zarr"
    tif = unmix_picasso(src, tmp_path / "mix.ome.tif", **kw)
    lazy, meta = read_zarr(zar)
    np.testing.assert_array_equal(lazy.compute(), read_image(tif)[0])
    assert meta["channel_names"] == ["a", "b", "c"]
    assert read_sidecar(zar) == meta["report"]
    assert meta["report"]["output_format"] == "ome-zarr"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        unmix_picasso(src, zar, output_format="ome-zarr", **kw)


def test_nnls_maps_and_nnls_unmix_lazy():
    cube, truth = make_bead_cube(shape=(48, 40), n_channels=24)
    H = np.asarray(truth["spectra"], np.float64)
    W_ref, r_ref = nnls_maps(cube, H)
    lazy_cube = da.from_array(cube, chunks=(8, 24, 40))
    with dask.config.set(scheduler=_no_compute):
        W, r = nnls_maps(lazy_cube, H)
        res = nnls_unmix(lazy_cube, H)
    assert W.chunksize == (H.shape[0], 24, 40)  # all channels in a chunk, Y×X as given
    _close(W, W_ref)
    _close(r, r_ref)
    _close(res.W, nnls_unmix(cube, H).W)


def test_hsmap_band_maps_lazy():
    cube, truth = make_two_region_cube(shape=(32, 24))
    axis = truth["spectral_axis"]
    a, b = float(axis[40]), float(axis[150])
    lazy_cube = da.from_array(cube, chunks=(50, 32, 24))
    with dask.config.set(scheduler=_no_compute):
        inten = band_intensity(lazy_cube, axis, a, window=10.0)
        ratio, valid = band_ratio(lazy_cube, axis, a, b, window=10.0)
    assert inten.chunksize == (32, 24)
    _close(inten, band_intensity(cube, axis, a, window=10.0))
    r_ref, v_ref = band_ratio(cube, axis, a, b, window=10.0)
    np.testing.assert_array_equal(valid.compute(), v_ref)
    _close(ratio, r_ref)


def test_omio_tiff_input_lazy_picasso(tmp_path, mix):
    data, _ = mix
    src = write_image(tmp_path / "in.ome.tif", data)
    out = unmix_picasso(
        src, tmp_path / "o.ome.zarr", output_format="ome-zarr", implementation="source_sink_n",
        max_iter=20, verbose=False,
    )  # fmt: skip
    ref, _ = unmix_picasso_array(data, implementation="source_sink_n", max_iter=20)
    np.testing.assert_allclose(read_zarr(out)[0].compute(), ref, rtol=1e-6, atol=1e-6)


def test_nnls_result_saved_as_ome_zarr_from_a_lazy_cube(tmp_path):
    from napari_unmix.api.nmf import save_result

    cube, truth = make_bead_cube(shape=(40, 32), n_channels=24)
    store = write_zarr(tmp_path / "cube.ome.zarr", cube[None, None])
    lazy_cube = read_zarr(store)[0][0, 0]  # C × Y × X, dask
    res = nnls_unmix(lazy_cube, truth["spectra"], names=["a", "b", "c", "d"])
    out = save_result(res, tmp_path / "maps.ome.zarr", output_format="ome-zarr")
    assert out["H"].name == "maps_spectra.csv"
    W, meta = read_zarr(out["W"])
    ref = nnls_unmix(cube, truth["spectra"])
    np.testing.assert_allclose(W[0, 0].compute(), ref.W, rtol=1e-6, atol=1e-6)
    assert meta["channel_names"] == ["a", "b", "c", "d"]
    assert read_sidecar(out["W"]) == meta["report"]
    assert meta["report"]["relative_error"] is None  # lazy: not computed by the export
    with pytest.raises(ValueError, match="output_format must be one of"):
        res.save(tmp_path / "x.h5", output_format="hdf5")


def test_nnls_unmix_file_ome_zarr_equals_ome_tiff(tmp_path):
    from napari_unmix.api.nmf import nnls_unmix_file
    from napari_unmix.io.spectra import write_spectra_csv

    cube, truth = make_bead_cube(shape=(32, 32), n_channels=16)
    axis = truth["spectral_axis"]
    src = write_image(tmp_path / "beads.ome.tif", cube[None, None], extra={"spectral_axis": axis})
    lib = write_spectra_csv(tmp_path / "lib.csv", axis, truth["spectra"], truth["names"])
    tif = nnls_unmix_file(src, tmp_path / "maps.ome.tif", lib)
    zar = nnls_unmix_file(src, tmp_path / "lazy.ome.zarr", lib, output_format="ome-zarr")
    assert zar["H"].name == "lazy_spectra.csv" and zar["H"].exists()
    W, meta = read_zarr(zar["W"])
    np.testing.assert_allclose(W.compute(), read_image(tif["W"])[0], rtol=1e-6, atol=1e-6)
    assert meta["channel_names"] == list(truth["names"])
    assert read_sidecar(zar["W"])["output_format"] == "ome-zarr"
