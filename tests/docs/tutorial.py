"""Run the python blocks of a docs page, in order, in one namespace (the tutorial tests)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def run_blocks(page: str, *, min_blocks: int = 1) -> dict:
    """Execute every ```python block of ``docs/<page>``; returns the shared namespace."""
    path = DOCS / page
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= min_blocks, f"{page} has {len(blocks)} python blocks"
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{path.name} block {i + 1}", "exec"), namespace)
    return namespace
