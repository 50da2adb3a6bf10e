"""docs/files.md: every python code block runs, in order, on the shipped sample files."""

from tutorial import run_tutorial


def test_tutorial_code_runs(tmp_path, monkeypatch, capsys):
    _, out = run_tutorial("files.md", tmp_path, monkeypatch, capsys, min_blocks=5)
    assert "sibling file 'wavelength.json' cm-1" in out
    assert "argument '600:1800:60'" in out and "wavenumber_cm-1,A,B" in out
    assert "alpha DRAQ5 -> GFAP = " in out and "3 done, 0 skipped, 0 failed" in out
    assert sorted(p.name for p in (tmp_path / "new_unmixed").glob("*.tif")) == [
        f"field{i}_picasso.ome.tif" for i in range(3)
    ]
