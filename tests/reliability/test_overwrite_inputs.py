"""``--overwrite`` never destroys an input: the two cases of issue 21, from scripts and the CLI."""

from __future__ import annotations

import shutil

import pytest

import napari_unmix as nu
from napari_unmix.cli import main
from napari_unmix.io.safety import OutputIsInputError, is_temporary


@pytest.fixture
def work(tmp_path, files):
    for key in ("beads", "library"):
        shutil.copy(files[key], tmp_path / files[key].name)
    return tmp_path


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_nnls_output_equal_to_spectra_refused_api(work):
    before = _snapshot(work)
    with pytest.raises(OutputIsInputError, match=r"library\.csv.*would be lost"):
        nu.nnls_unmix_file(
            work / "beads.ome.tif", work / "library.csv", work / "library.csv", overwrite=True
        )
    assert _snapshot(work) == before


def test_nnls_output_equal_to_spectra_refused_cli(work, capsys):
    before = _snapshot(work)
    code = main(["nnls", str(work / "beads.ome.tif"), str(work / "library.csv"),
                 str(work / "library.csv"), "--overwrite", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "library.csv" in err and "would be lost" in err and "Traceback" not in err
    assert _snapshot(work) == before


def test_nnmf_seeds_equal_to_companion_csv_refused_api(work):
    seeds = shutil.copy(work / "library.csv", work / "out_spectra.csv")
    before = _snapshot(work)
    with pytest.raises(OutputIsInputError, match=r"out_spectra\.csv.*would be lost"):
        nu.nnmf_file(
            work / "beads.ome.tif", work / "out.ome.tif", seeds=seeds, overwrite=True, max_iter=5
        )
    assert _snapshot(work) == before


def test_nnmf_seeds_equal_to_companion_csv_refused_cli(work, capsys):
    shutil.copy(work / "library.csv", work / "out_spectra.csv")
    before = _snapshot(work)
    code = main(["nnmf", str(work / "beads.ome.tif"), str(work / "out.ome.tif"), "--seeds",
                 str(work / "out_spectra.csv"), "--overwrite", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "out_spectra.csv" in err and "would be lost" in err
    assert _snapshot(work) == before


def test_existing_output_message_works_for_scripts_and_cli(work, capsys):
    (work / "maps.ome.tif").write_bytes(b"previous result")
    with pytest.raises(
        FileExistsError, match=r"overwrite=True \(--overwrite on the command line\)"
    ):
        nu.nnls_unmix_file(work / "beads.ome.tif", work / "maps.ome.tif", work / "library.csv")
    code = main(["nnls", str(work / "beads.ome.tif"), str(work / "maps.ome.tif"),
                 str(work / "library.csv"), "--quiet"])  # fmt: skip
    assert code == 1 and "--overwrite" in capsys.readouterr().err


def test_overwrite_of_outputs_still_works_and_leaves_no_temporaries(work):
    args = (work / "beads.ome.tif", work / "maps.ome.tif", work / "library.csv")
    first = nu.nnls_unmix_file(*args)
    second = nu.nnls_unmix_file(*args, overwrite=True)
    assert first == second
    assert not [p for p in work.iterdir() if is_temporary(p.name)]


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_linked_input_refused(work, kind):
    link = work / "alias.ome.tif"
    if kind == "symlink":
        link.symlink_to(work / "beads.ome.tif")
    else:
        link.hardlink_to(work / "beads.ome.tif")
    with pytest.raises(OutputIsInputError, match="beads.ome.tif"):
        nu.unmix(work / "beads.ome.tif", link, overwrite=True, verbose=False)
