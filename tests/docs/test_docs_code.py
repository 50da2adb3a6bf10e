"""Every ```python block of the docs pages and the README runs.

A page with its own test (``tests/docs/test_<page>_tutorial.py`` naming ``<page>.md``) is
run there, with its checks; every other page runs here: its blocks in order, in one
namespace, in a temporary folder (so files the examples write land there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)


def _code_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def _has_own_test(page: Path) -> bool:
    own = HERE / f"test_{page.stem}_tutorial.py"
    return own.exists() and f"{page.name}" in own.read_text(encoding="utf-8")


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GENERIC = [p for p in PAGES if _code_blocks(p) and not _has_own_test(p)]


@pytest.mark.parametrize("page", GENERIC, ids=[p.name for p in GENERIC])
def test_page_code_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, code in enumerate(_code_blocks(page)):
        exec(compile(code, f"{page.name}[python block {i}]", "exec"), namespace)


def test_every_page_with_code_is_tested():
    for page in PAGES:
        if _code_blocks(page):
            assert page in GENERIC or _has_own_test(page), page


def test_readme_example_is_short():
    (example,) = _code_blocks(ROOT / "README.md")
    assert len(example.strip().splitlines()) <= 10
