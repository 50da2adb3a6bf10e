"""Structure limits of the source tree (docs/architecture.md): module and function sizes,
public ``**kwargs``, and import circles between modules of ``napari_unmix``.

Usage: ``python tools/structure.py [PATH_PREFIX ...]`` prints the violations (of the whole
tree, or of modules whose path starts with a prefix) and exits 1 if there are any;
:func:`violations` is what ``tests/test_structure.py`` checks.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "napari_unmix"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 120


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        rel = p.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _code_lines(node: ast.AST, source: list[str]) -> int:
    """Lines of a function without its docstring and blank lines."""
    start, end = node.lineno, node.end_lineno or node.lineno
    skip: set[int] = set()
    body = getattr(node, "body", [])
    first = body[0] if body else None
    value = getattr(first, "value", None)
    if (
        isinstance(first, ast.Expr)
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
    ):
        skip = set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return sum(1 for i in range(start, end + 1) if i not in skip and source[i - 1].strip())


def _public(name: str) -> bool:
    return not name.startswith("_")


def _imports(name: str, path: Path, tree: ast.AST, known: set[str]) -> set[str]:
    """Modules of the package that a module imports (at its top or inside functions)."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):  # lazy imports inside functions count too
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                out.add(full if full in known else mod)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in known and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def violations(prefixes: tuple[str, ...] = ()) -> list[str]:
    """Every violation as one line ``path: what``."""
    mods = _modules()
    known = set(mods)
    graph: dict[str, set[str]] = {}
    out = []
    for name, path in mods.items():
        text = path.read_text()
        source = text.splitlines()
        tree = ast.parse(text)
        rel = str(path.relative_to(ROOT.parents[1]))
        mine = not prefixes or rel.startswith(prefixes)
        # packages' __init__ re-exports from submodules: not an edge of a circle
        graph[name] = set() if path.name == "__init__.py" else _imports(name, path, tree, known)
        if not mine:
            continue
        if len(source) > MAX_MODULE_LINES:
            out.append(f"{rel}: {len(source)} lines (limit {MAX_MODULE_LINES})")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(node, source)
                if n > MAX_FUNCTION_LINES:
                    out.append(
                        f"{rel}:{node.lineno} {node.name}: {n} code lines (limit {MAX_FUNCTION_LINES})"
                    )
                if (
                    node.args.kwarg is not None
                    and _public(node.name)
                    and not node.name.startswith("__")
                ):
                    out.append(
                        f"{rel}:{node.lineno} {node.name}: public function takes **{node.args.kwarg.arg}"
                    )
    for comp in _cycles(graph):
        if not prefixes or any(
            str(mods[m].relative_to(ROOT.parents[1])).startswith(prefixes) for m in comp
        ):
            out.append("import circle: " + " <-> ".join(comp))
    return out


if __name__ == "__main__":
    found = violations(tuple(sys.argv[1:]))
    print("\n".join(found) if found else "no violations")
    raise SystemExit(1 if found else 0)
