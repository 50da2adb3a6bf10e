"""docs/stnmf.md: its python code blocks run, in order, in one namespace."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "stnmf.md"


def test_tutorial_code_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "(20, 20, 20000)" in out
    assert namespace["s"].num_subunits >= 3
    assert int((namespace["corr"] >= 0.8).sum()) >= 2
    assert namespace["best"].sparsity in (1.7, 2.5)
    assert namespace["ens"].shape[:2] == (16, 16)
    # the recovery settings of section 4 find every subunit of the tutorial's cell
    assert namespace["rec"].num_subunits == 7
    cells = namespace["cells"]
    assert [c.name for c in cells] == ["cell 0", "cell 1"]
    assert all(c.error is None and c.stnmf.num_subunits >= 2 for c in cells)
