"""docs/bleedthrough.md: every python code block runs, in order, in one namespace."""

from docs.test_docs_code import ROOT, _code_blocks


def test_tutorial_code_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    blocks = _code_blocks(ROOT / "docs" / "bleedthrough.md")
    for i, code in enumerate(blocks):
        exec(compile(code, f"bleedthrough.md[block {i}]", "exec"), namespace)
    assert len(blocks) >= 5
    out = capsys.readouterr().out
    assert "alpha = " in out and "per time point" in out
