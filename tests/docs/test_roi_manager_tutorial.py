"""The python code blocks of docs/roi_manager.md run as written."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "roi_manager.md"


def test_roi_manager_tutorial_code_runs():
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the tutorial has no python code block"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert namespace["res"].W.shape == (4, 128, 128)
    assert "images/roi_manager.png" in text and (DOC.parent / "images/roi_manager.png").exists()
