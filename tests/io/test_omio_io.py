import os
from pathlib import Path

import numpy as np
import pytest

from napari_unmix.io.omio_io import UnreadableImageError, check_output_path, read_image, write_image


@pytest.fixture
def stack():
    rng = np.random.default_rng(0)
    return rng.random((2, 3, 2, 16, 20), dtype=np.float32)


def test_round_trip_float32_bit_identical(tmp_path, stack):
    meta_in = {"physical_size": (1.5, 0.3, 0.2), "extra": {"spectral_units": "nm"}}
    out = write_image(tmp_path / "x.ome.tif", stack, channel_names=["GFP", "RFP"], **meta_in)
    assert out == tmp_path / "x.ome.tif"
    back, meta = read_image(out)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, stack)
    assert meta["physical_size"] == pytest.approx((1.5, 0.3, 0.2))
    assert meta["channel_names"] == ["GFP", "RFP"]
    assert meta["spectral_units"] == "nm"
    assert sorted(os.listdir(tmp_path)) == ["x.ome.tif"]  # no temp files, no renamed copies


@pytest.mark.parametrize("name", ["plain.tif", "result_v2.tiff", "odd name.ome.tif"])
def test_written_name_is_the_one_asked_for(tmp_path, stack, name):
    write_image(tmp_path / name, stack)
    assert sorted(os.listdir(tmp_path)) == [name]


def test_uint16_round_trip(tmp_path):
    data = (np.arange(2 * 8 * 8).reshape(1, 1, 2, 8, 8) * 1000 % 65535).astype(np.uint16)
    write_image(tmp_path / "u.ome.tif", data)
    back, _ = read_image(tmp_path / "u.ome.tif")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, data)


def test_never_overwrites_unless_asked(tmp_path, stack):
    p = write_image(tmp_path / "x.ome.tif", stack)
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_image(p, stack * 2)
    assert p.read_bytes() == before
    write_image(p, stack * 2, overwrite=True)
    np.testing.assert_array_equal(read_image(p)[0], stack * 2)


def test_failed_write_leaves_old_file_and_no_debris(tmp_path, stack, monkeypatch):
    import omio

    p = write_image(tmp_path / "x.ome.tif", stack)
    before = p.read_bytes()

    def boom(*args, **kwargs):
        Path(args[0]).write_bytes(b"half")  # a half-written temporary file
        raise RuntimeError("disk full")

    monkeypatch.setattr(omio, "imwrite", boom)
    with pytest.raises(OSError, match="disk full"):
        write_image(p, stack * 3, overwrite=True)
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["x.ome.tif"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_image(tmp_path / "nope.tif")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "data.png"
    p.write_bytes(b"\x89PNG")
    with pytest.raises(ValueError, match="unsupported file type"):
        read_image(p)


def test_truncated_tiff(tmp_path, stack):
    p = write_image(tmp_path / "x.ome.tif", stack)
    bad = tmp_path / "truncated.ome.tif"
    bad.write_bytes(p.read_bytes()[:300])
    with pytest.raises(UnreadableImageError, match="truncated.ome.tif"):
        read_image(bad)


def test_garbage_tiff(tmp_path):
    p = tmp_path / "g.tif"
    p.write_bytes(b"not a tiff at all" * 10)
    with pytest.raises(UnreadableImageError, match="cannot read 'g.tif'"):
        read_image(p)


def test_zero_size_and_bad_shape_write_nothing(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        write_image(tmp_path / "z.ome.tif", np.zeros((1, 1, 0, 4, 4), np.float32))
    with pytest.raises(ValueError, match="5-D TZCYX"):
        write_image(tmp_path / "z.ome.tif", np.zeros((4, 4), np.float32))
    assert os.listdir(tmp_path) == []


def test_check_output_path_refuses_input_and_missing_folder(tmp_path):
    inp = tmp_path / "in.tif"
    inp.write_bytes(b"x")
    with pytest.raises(ValueError, match="is the input file"):
        check_output_path(inp, inputs=(inp,), overwrite=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.tif")


def test_plain_3d_tiff_reads_as_channels(tmp_path):
    import tifffile

    tifffile.imwrite(tmp_path / "p.tif", np.zeros((5, 8, 9), np.uint16))
    data, _ = read_image(tmp_path / "p.tif")
    assert data.shape == (1, 1, 5, 8, 9)


def test_read_is_quiet_and_writes_nothing_next_to_input(tmp_path, stack, capfd):
    p = write_image(tmp_path / "x.ome.tif", stack)
    read_image(p)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert sorted(os.listdir(tmp_path)) == ["x.ome.tif"]
