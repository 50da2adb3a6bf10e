"""Lazy readers (OME-Zarr, OME-TIFF) and the chunk-wise, atomic OME-Zarr writer."""

import json

import dask
import dask.array as da
import numpy as np
import pytest
import zarr

from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.zarr_io import (
    check_zarr_output_path,
    is_zarr_path,
    read_lazy,
    read_tiff_lazy,
    read_zarr,
    write_zarr,
)


def _stack(dtype=np.float32, shape=(2, 3, 2, 8, 9), seed=0):
    return (np.random.default_rng(seed).random(shape) * 1000).astype(dtype)


#: metadata every round trip writes (physical size z, y, x; two channels; spectral units)
META = {"physical_size": (2.0, 0.5, 0.25), "extra": {"spectral_units": "nm"}}


def _no_compute(dsk, keys, **kwargs):
    raise AssertionError("something was computed")


def test_round_trip_numpy_with_metadata_and_report(tmp_path):
    data = _stack(np.uint16)
    kw = {
        "time_increment": 3.0,
        "channel_names": ["GFP", "RFP"],
        "report": {"tool": "test", "alpha": 0.35},
    }
    out = write_zarr(tmp_path / "s.ome.zarr", data, **kw, **META)
    lazy, meta = read_zarr(out)
    assert isinstance(lazy, da.Array) and lazy.dtype == np.uint16
    assert lazy.chunksize == (1, 1, 1, 8, 9)  # one Y×X plane per chunk
    np.testing.assert_array_equal(lazy.compute(), data)
    assert meta["physical_size"] == (2.0, 0.5, 0.25) and meta["time_increment"] == 3.0
    assert meta["unit"] == "micron" and meta["channel_names"] == ["GFP", "RFP"]
    assert meta["spectral_units"] == "nm" and meta["report"] == {"tool": "test", "alpha": 0.35}
    # a valid NGFF 0.4 image: tczyx axes and OMERO channel labels
    attrs = zarr.open_group(str(out), mode="r").attrs.asdict()
    ms = attrs["multiscales"][0]
    assert ms["version"] == "0.4" and [a["name"] for a in ms["axes"]] == list("tczyx")
    assert [c["label"] for c in attrs["omero"]["channels"]] == ["GFP", "RFP"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_dask_input_is_written_chunk_by_chunk_and_matches(tmp_path):
    data = _stack()
    lazy = da.from_array(data, chunks=(1, 3, 2, 8, 9))  # not plane chunks: rechunked
    out = write_zarr(tmp_path / "d.zarr", lazy, compression="lz4", compression_level=5)
    back, _ = read_zarr(out)
    np.testing.assert_array_equal(back.compute(), data)
    arr = zarr.open_group(str(out), mode="r")["0"]
    assert arr.chunks == (1, 1, 1, 8, 9) and arr.shape == (2, 2, 3, 8, 9)


def test_write_is_atomic_and_never_overwrites(tmp_path):
    data = _stack()
    path = write_zarr(tmp_path / "a.ome.zarr", data)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_zarr(path, data)

    def boom(block):
        raise RuntimeError("disk full")

    failing = da.from_array(data + 1, chunks=(1, 1, 1, 8, 9)).map_blocks(boom, dtype=data.dtype)
    with pytest.raises(RuntimeError, match="disk full"):
        write_zarr(path, failing, overwrite=True)
    np.testing.assert_array_equal(read_zarr(path)[0].compute(), data)  # old store intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ome.zarr"]  # no temp store
    write_zarr(path, data + 1, overwrite=True)
    np.testing.assert_array_equal(read_zarr(path)[0].compute(), data + 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ome.zarr"]


def test_tiff_is_read_lazily_and_equals_omio(tmp_path):
    data = _stack(np.uint16)
    kw = {"channel_names": ["a", "b"], "compression_level": 3}
    p = write_image(tmp_path / "s.ome.tif", data, **kw, **META)
    with dask.config.set(scheduler=_no_compute):  # opening reads no pixels
        lazy, meta = read_tiff_lazy(p)
    ref, ref_meta = read_image(p)
    assert isinstance(lazy, da.Array) and lazy.chunksize[3:] == (8, 9)
    np.testing.assert_array_equal(lazy.compute(), ref)
    for key in ("physical_size", "channel_names", "time_increment", "spectral_units"):
        assert meta[key] == ref_meta[key], key
    assert read_lazy(p)[0].shape == data.shape


def test_plain_zarr_array_and_other_writers(tmp_path):
    raw = _stack(shape=(3, 8, 9))
    z = zarr.create_array(str(tmp_path / "plain.zarr"), shape=raw.shape, dtype=raw.dtype)
    z[:] = raw
    lazy, meta = read_zarr(tmp_path / "plain.zarr")  # 3-D: CYX by default
    assert lazy.shape == (1, 1, 3, 8, 9) and meta["channel_names"] == ["C0", "C1", "C2"]
    assert read_zarr(tmp_path / "plain.zarr", axes="ZYX")[0].shape == (1, 3, 1, 8, 9)
    # NGFF 0.5 (Zarr v3, attributes under "ome") written by hand, with a global scale
    g = zarr.open_group(str(tmp_path / "v05.ome.zarr"), mode="w")
    g.create_array("s0", shape=raw.shape, dtype=raw.dtype)[:] = raw
    g.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": [{"name": "c", "type": "channel"}]
                + [{"name": n, "type": "space", "unit": "nanometer"} for n in "yx"],
                "datasets": [
                    {
                        "path": "s0",
                        "coordinateTransformations": [{"type": "scale", "scale": [1, 2, 4]}],
                    }
                ],
                "coordinateTransformations": [{"type": "scale", "scale": [1, 10, 10]}],
            }
        ],
    }
    lazy, meta = read_zarr(tmp_path / "v05.ome.zarr")
    np.testing.assert_array_equal(lazy[0, 0].compute(), raw)
    assert meta["physical_size"] == (1.0, 20.0, 40.0) and meta["unit"] == "nanometer"


def test_interoperates_with_ome_zarr_package(tmp_path):
    ome_zarr_reader = pytest.importorskip("ome_zarr.reader")
    from ome_zarr.io import parse_url

    data = _stack()
    out = write_zarr(tmp_path / "o.ome.zarr", data, channel_names=["x", "y"])
    node = next(iter(ome_zarr_reader.Reader(parse_url(str(out)))()))
    assert node.metadata["channel_names"] == ["x", "y"]
    np.testing.assert_array_equal(np.asarray(node.data[0]), data.transpose(0, 2, 1, 3, 4))


def test_bad_inputs_say_what_to_change(tmp_path):
    data = _stack()
    with pytest.raises(ValueError, match=r"\.ome\.zarr or \.zarr"):
        write_zarr(tmp_path / "x.tif", data)
    with pytest.raises(ValueError, match="5-D TZCYX"):
        write_zarr(tmp_path / "x.zarr", data[0])
    with pytest.raises(ValueError, match="compression must be one of"):
        write_zarr(tmp_path / "x.zarr", data, compression="gzip")
    with pytest.raises(ValueError, match="2 channel names for 3"):
        write_zarr(tmp_path / "x.zarr", _stack(shape=(1, 1, 3, 4, 4)), channel_names=["a", "b"])
    with pytest.raises(FileNotFoundError, match="output folder"):
        check_zarr_output_path(tmp_path / "no" / "x.zarr")
    (tmp_path / "f.zarr").write_text("not a store")
    with pytest.raises(ValueError, match="is a file"):
        check_zarr_output_path(tmp_path / "f.zarr", overwrite=True)
    with pytest.raises(ValueError, match="is a file"):
        read_zarr(tmp_path / "f.zarr")
    with pytest.raises(FileNotFoundError, match="no such Zarr store"):
        read_zarr(tmp_path / "missing.zarr")
    zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    with pytest.raises(ValueError, match="without OME-Zarr 'multiscales'"):
        read_zarr(tmp_path / "g.zarr")
    out = write_zarr(tmp_path / "ok.zarr", data)
    with pytest.raises(ValueError, match="level=1 is out of range"):
        read_zarr(out, level=1)
    assert is_zarr_path("a/b.ome.zarr/") and not is_zarr_path("a.ome.tif")
    json.dumps(read_zarr(out)[1]["zarr_attrs"])  # attributes are plain JSON


# ----------------------------------------------------------------------- resolution levels
def _reference_levels(data, n):
    """Each level from the one before: 2x2 mean for floats, the top-left sample otherwise."""
    out = [data]
    for _ in range(1, n):
        prev = out[-1]
        ny, nx = prev.shape[-2] // 2, prev.shape[-1] // 2
        if data.dtype.kind == "f":
            blocks = prev[..., : 2 * ny, : 2 * nx].reshape(*prev.shape[:-2], ny, 2, nx, 2)
            out.append(blocks.astype(np.float64).mean(axis=(-3, -1)).astype(data.dtype))
        else:
            out.append(prev[..., : 2 * ny : 2, : 2 * nx : 2])
    return out


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("yx", [(40, 24), (27, 13)])
def test_levels_mean_or_nearest_without_reading_back(tmp_path, dtype, lazy, yx, monkeypatch):
    data = _stack(dtype, shape=(2, 2, 3, *yx))
    src = da.from_array(data, chunks=(1, 2, 1, 7, yx[1])) if lazy else data
    # every level comes from the data being written: the store is never read back
    monkeypatch.setattr(da, "from_zarr", lambda *a, **k: pytest.fail("level 0 was re-read"))
    out = write_zarr(tmp_path / "m.ome.zarr", src, physical_size=(2.0, 0.5, 0.25), levels=3)
    monkeypatch.undo()
    from napari_unmix.io.zarr_io import read_zarr_levels

    levels, meta = read_zarr_levels(out)
    assert meta["levels"] == 3
    for got, want in zip(levels, _reference_levels(data, 3), strict=True):
        assert got.dtype == data.dtype and got.chunksize == (1, 1, 1, *got.shape[-2:])
        np.testing.assert_allclose(got.compute(), want, rtol=1e-6)
    ms = zarr.open_group(str(out), mode="r").attrs["multiscales"][0]["datasets"]
    assert [d["coordinateTransformations"][0]["scale"][-2:] for d in ms] == [
        [0.5, 0.25],
        [1.0, 0.5],
        [2.0, 1.0],
    ]


def test_levels_keep_labels_and_auto_rule(tmp_path):
    tiles = np.arange(16, dtype=np.int32).reshape(1, 1, 1, 4, 4)
    labels = np.repeat(np.repeat(tiles, 256, 3), 256, 4)  # 1024 x 1024: levels 1024, 512, 256
    out = write_zarr(tmp_path / "lab.ome.zarr", da.from_array(labels), levels="auto")
    from napari_unmix.io.zarr_io import auto_levels, read_zarr_levels

    levels, meta = read_zarr_levels(out)
    assert meta["levels"] == auto_levels(labels.shape) == 3
    for lv in levels[1:]:
        assert set(np.unique(lv.compute())) <= set(range(16))


def test_levels_with_chunks_splitting_planes_equal_whole_plane_levels(tmp_path):
    from napari_unmix.io.zarr_io import read_zarr_levels

    data = _stack(np.float32, shape=(1, 2, 2, 32, 20))
    whole = write_zarr(tmp_path / "w.zarr", data, levels=3)
    split = write_zarr(tmp_path / "s.zarr", da.from_array(data), chunks=(1, 1, 1, 8, 20), levels=3)
    for a, b in zip(read_zarr_levels(whole)[0], read_zarr_levels(split)[0], strict=True):
        np.testing.assert_array_equal(a.compute(), b.compute())


@pytest.mark.parametrize("bad", [0, -1, "all", 2.5])
def test_levels_refused_before_writing(tmp_path, bad):
    with pytest.raises(ValueError, match="levels must be an int >= 1 or 'auto'"):
        write_zarr(tmp_path / "x.zarr", _stack(), levels=bad)
    assert not any(tmp_path.iterdir())  # refused up front: no store, no temporary
