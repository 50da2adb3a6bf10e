"""docs/suggest.md: every python block runs, in order, in one namespace."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "suggest.md"


def test_suggest_tutorial_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert namespace["score"]["n_found"] == 4
    assert "hierarchical=True gradient=True: 4/4 found" in capsys.readouterr().out
