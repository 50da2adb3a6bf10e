"""docs/large_data.md: every python code block runs, in order, in one namespace."""

import re

import pytest

from tutorial import run_tutorial


def test_tutorial_code_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    _, out = run_tutorial("large_data.md", tmp_path, monkeypatch, capsys, min_blocks=4)
    alpha = float(re.search(r"alpha = ([0-9.]+) \(truth 0.35\)", out).group(1))
    assert abs(alpha - 0.35) < 0.03
    assert "Array (2, 2, 2, 96, 96) chunks (1, 1, 1, 96, 96)" in out
    assert "['GFP', 'RFP'] (2.0, 0.2, 0.2) True" in out
    assert "identical: True" in out
    assert (tmp_path / "single_thread.ome.zarr").is_dir()
