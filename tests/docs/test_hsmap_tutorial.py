"""docs/hsmap.md: every python block runs, in order, in one namespace, and says what it says."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "hsmap.md"


def test_hsmap_tutorial_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name} block {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "ARI 1.000" in out
    assert "needs 930 pixels but there are 900" in out
    assert "'report.md'" in out
    assert namespace["metrics"]["silhouette"] >= 0.6
    assert namespace["scores"]["best_silhouette_k"] == 2
