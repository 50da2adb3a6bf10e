"""The stack-tools demo runs on the sample and recovers the known drift."""

import json

from napari_unmix.demo import main


def test_stack_tools_demo(tmp_path, capsys):
    assert main(["--output", str(tmp_path), "--only", "stack_tools"]) == 0
    assert "stack_tools register" in capsys.readouterr().out
    folder = tmp_path / "stack_tools"
    assert {p.name for p in folder.iterdir()} >= {
        "stack_tools_result.ome.tif",
        "stack_tools_result.ome.tif.json",
        "stack_tools.png",
    }
    rep = json.loads((folder / "stack_tools_result.ome.tif.json").read_text())
    assert rep["errors_px"]["z_drift"] < 0.1 and rep["errors_px"]["time"] < 0.1
