"""docs/suggest.md: every python block runs, in order, in one namespace."""

from docs.tutorial import run_blocks


def test_suggest_tutorial_runs(capsys):
    namespace = run_blocks("suggest.md", min_blocks=5)
    assert namespace["score"]["n_found"] == 4
    assert "hierarchical=True gradient=True: 4/4 found" in capsys.readouterr().out
