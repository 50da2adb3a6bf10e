"""MkDocs hook (see mkdocs.yml): fill ``docs/api.md`` from ``napari_unmix._EXPORTS``.

The page holds the marker ``<!-- api-reference -->``; this hook replaces it with one
mkdocstrings block (``::: module.name``) per public name, grouped under the ``# comment``
headings of the ``_EXPORTS`` dict in ``src/napari_unmix/__init__.py``. The source file is
parsed as text (nothing is imported), so the reference lists exactly the names a user gets
from ``import napari_unmix`` and never goes stale when a tool adds names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

MARKER = "<!-- api-reference -->"
INIT = Path(__file__).resolve().parents[1] / "src" / "napari_unmix" / "__init__.py"
_HEADING = re.compile(r"^\s*#\s*(.+?)\s*(\(issue[^)]*\))?\s*$")
_ENTRY = re.compile(r"""^\s*["'](\w+)["']\s*:\s*["']([\w.]+)["']\s*,?\s*(#.*)?$""")


def public_names(source: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return ``[(group heading, [(name, module), ...]), ...]`` in the order of ``_EXPORTS``."""
    text = INIT.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text)
    node = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.AnnAssign | ast.Assign)
        and any(getattr(t, "id", None) == "_EXPORTS" for t in _targets(n))
    )
    lines = text.splitlines()[node.lineno - 1 : node.end_lineno]
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for line in lines:
        entry = _ENTRY.match(line)
        if entry:
            if not groups:
                groups.append(("Other", []))
            groups[-1][1].append((entry.group(1), entry.group(2)))
            continue
        heading = _HEADING.match(line)
        if heading and not line.lstrip().startswith("_EXPORTS"):
            groups.append((heading.group(1)[:1].upper() + heading.group(1)[1:], []))
    return [(title, names) for title, names in groups if names]


def _targets(node: ast.AST) -> list[ast.expr]:
    return [node.target] if isinstance(node, ast.AnnAssign) else list(node.targets)


def render() -> str:
    """Markdown for the marker: a heading per group and a ``:::`` block per name."""
    parts = []
    for title, names in public_names():
        parts.append(f"## {title}\n")
        parts.extend(f"::: {module}.{name}\n" for module, name in ((m, n) for n, m in names))
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:  # MkDocs hook signature
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
