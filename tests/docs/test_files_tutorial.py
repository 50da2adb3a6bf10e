"""docs/files.md: every python code block runs, in order, on the shipped sample files."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "files.md"


def test_tutorial_code_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{DOC.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "sibling file 'wavelength.json' cm-1" in out
    assert "argument '600:1800:60'" in out and "wavenumber_cm-1,A,B" in out
    assert "alpha DRAQ5 -> GFAP = " in out and "3 done, 0 skipped, 0 failed" in out
    assert sorted(p.name for p in (tmp_path / "new_unmixed").glob("*.tif")) == [
        f"field{i}_picasso.ome.tif" for i in range(3)
    ]
