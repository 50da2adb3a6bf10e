"""Run the python blocks of a docs page in order, in one namespace (the tutorial tests)."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def run_tutorial(page: str, tmp_path, monkeypatch, capsys, *, min_blocks: int) -> tuple[dict, str]:
    """Execute every ```python block of ``docs/<page>`` in ``tmp_path``; (namespace, stdout)."""
    doc = DOCS / page
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= min_blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{doc.name}[block {i}]", "exec"), namespace)
    return namespace, capsys.readouterr().out
