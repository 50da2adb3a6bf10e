"""docs/stack_tools.md: every ```python block runs, in order, and prints what the text says."""

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "stack_tools.md"


def test_tutorial_code_runs_and_prints_true():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    printed = out.getvalue().split()
    assert "False" not in printed and printed.count("True") >= 3
    assert "(3, 5, 2, 128, 128) float32" in out.getvalue()
    assert namespace["code"] == 0
