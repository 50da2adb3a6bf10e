"""docs/large_data.md: every python code block runs, in order, in one namespace."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "large_data.md"


def test_tutorial_code_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{DOC.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    alpha = float(re.search(r"alpha = ([0-9.]+) \(truth 0.35\)", out).group(1))
    assert abs(alpha - 0.35) < 0.03
    assert "Array (2, 2, 2, 96, 96) chunks (1, 1, 1, 96, 96)" in out
    assert "['GFP', 'RFP'] (2.0, 0.2, 0.2) True" in out
    assert "identical: True" in out
    assert (tmp_path / "single_thread.ome.zarr").is_dir()
