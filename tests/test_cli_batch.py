"""Batches on the command line: folders, globs, a corrupt file, skip / overwrite, summary."""

import json

import numpy as np
import pytest

from napari_unmix import cli
from napari_unmix.io.omio_io import read_image, write_image


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "raw"
    d.mkdir()
    rng = np.random.default_rng(0)
    stacks = {}
    for i in range(3):
        data = (rng.random((1, 3, 2, 16, 16)) * 100).astype(np.float32)
        stacks[f"s{i}"] = data
        write_image(d / f"s{i}.ome.tif", data)
    (d / "corrupt.tif").write_bytes(b"II*\x00" + b"\x00" * 40)  # a TIFF header, no image
    (d / "notes.txt").write_text("not an input")  # not taken from a folder
    return d, stacks


def _err(capsys):
    return capsys.readouterr().err.strip().splitlines()


def test_folder_batch_keeps_going_and_summarises(folder, tmp_path, capsys):
    d, stacks = folder
    out = tmp_path / "out"
    assert cli.main(["max-z", str(d), "--output-dir", str(out)]) == 1  # one input failed
    err = _err(capsys)
    assert "napari-unmix max-z: 3 done, 0 skipped, 1 failed" in err
    failed = [line for line in err if line.strip().startswith("failed")]
    assert len(failed) == 1 and "corrupt.tif" in failed[0] and "cannot read" in failed[0]
    for name, data in stacks.items():
        back, _ = read_image(out / f"{name}_max_z.ome.tif")
        np.testing.assert_array_equal(back, data.max(axis=1, keepdims=True))
        rep = json.loads((out / f"{name}_max_z.ome.tif.json").read_text())
        assert rep["tool"] == "stack_tools.max-z"

    # again: existing outputs are skipped and say how to replace them
    assert cli.main(["max-z", str(d / "s*.ome.tif"), "--output-dir", str(out)]) == 0
    err = _err(capsys)
    assert "napari-unmix max-z: 0 done, 3 skipped, 0 failed" in err
    assert sum("pass --overwrite to replace" in line for line in err) >= 3
    argv = ["max-z", str(d / "s0.ome.tif"), str(d / "s1.ome.tif"), "--output-dir", str(out)]
    assert cli.main([*argv, "--overwrite", "--quiet"]) == 0
    assert _err(capsys)[0] == "napari-unmix max-z: 2 done, 0 skipped, 0 failed"


def test_batch_usage_errors(folder, tmp_path, capsys):
    d, _ = folder
    a, b = str(d / "s0.ome.tif"), str(d / "s1.ome.tif")
    assert cli.main(["max-z", a, b, str(tmp_path / "x.ome.tif")]) == 2  # 3 paths, no --output-dir
    assert "give --output-dir" in _err(capsys)[-1]
    assert cli.main(["max-z", str(d), "--output-dir", str(d)]) == 1  # outputs among inputs
    assert "holds inputs" in _err(capsys)[-1]
    assert cli.main(["max-z", str(tmp_path / "none*.tif"), "--output-dir", str(tmp_path)]) == 1
    assert "no file matches" in _err(capsys)[-1]


def test_single_file_exists_message_names_the_flag(folder, tmp_path, capsys):
    d, _ = folder
    out = tmp_path / "o.ome.tif"
    assert cli.main(["max-z", str(d / "s0.ome.tif"), str(out), "--quiet"]) == 0
    assert cli.main(["max-z", str(d / "s0.ome.tif"), str(out), "--quiet"]) == 1
    line = _err(capsys)[-1]
    assert "--overwrite" in line and "overwrite=True" not in line


def test_spectra_file_refused_by_content_and_nnmf_to_ome_zarr(tmp_path, capsys):
    from napari_unmix.core.synthetic import make_bead_cube
    from napari_unmix.io.zarr_io import read_zarr_levels

    cube, truth = make_bead_cube(shape=(16, 16), n_channels=12)
    extra = {"spectral_axis": truth["spectral_axis"].tolist(), "spectral_units": "cm-1"}
    src = write_image(tmp_path / "beads.ome.tif", cube[None, None], extra=extra)
    out = tmp_path / "maps.ome.tif"
    assert cli.main(["nnls", str(src), str(out), str(src), "--quiet"]) == 1  # a TIFF as CSV
    (line,) = _err(capsys)
    assert "is a TIFF image, not a spectra CSV" in line and line.isprintable()

    store = tmp_path / "fit.ome.zarr"
    argv = ["nnmf", str(src), str(store), "--k", "3", "--max-iter", "300"]  # converges
    assert cli.main([*argv, "--output-format", "ome-zarr", "--quiet"]) == 0
    levels, meta = read_zarr_levels(store)
    assert levels[0].shape == (1, 1, 3, 16, 16) and meta["report"]["tool"] == "random_nnmf"
    assert meta["report"]["output_format"] == "ome-zarr"
    assert (tmp_path / "fit_spectra.csv").read_text().startswith("wavenumber_cm-1,")
