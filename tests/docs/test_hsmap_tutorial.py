"""docs/hsmap.md: every python block runs, in order, in one namespace, and says what it says."""

from docs.tutorial import run_blocks


def test_hsmap_tutorial_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = run_blocks("hsmap.md", min_blocks=8)
    out = capsys.readouterr().out
    assert "ARI 1.000" in out
    assert "needs 930 pixels but there are 900" in out
    assert "'report.md'" in out
    assert namespace["metrics"]["silhouette"] >= 0.6
    assert namespace["scores"]["best_silhouette_k"] == 2
