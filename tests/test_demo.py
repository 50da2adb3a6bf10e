"""The demo entry point runs the foundation part end to end and writes its outputs."""

import json

from napari_unmix.demo import demo_modules, main


def test_demo_samples_writes_outputs(tmp_path, capsys):
    assert demo_modules()[0] == "samples"
    assert main(["--output", str(tmp_path), "--only", "samples"]) == 0
    out = capsys.readouterr().out
    assert "round trip identical: True" in out
    files = {p.name for p in (tmp_path / "samples").iterdir()}
    assert {
        "bleedthrough.ome.tif",
        "bleedthrough.ome.tif.json",
        "bead_cube.png",
        "ste.npy",
    } <= files
    rep = json.loads((tmp_path / "samples" / "bleedthrough.ome.tif.json").read_text())
    assert rep["ground_truth"]["alpha"] == 0.35
