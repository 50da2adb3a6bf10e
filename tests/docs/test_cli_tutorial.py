"""docs/cli.md: the python blocks run and print what their comments say, and every
``$ napari-unmix ...`` line of the console blocks runs in-process with the exit code and
one-line error message shown below it (none shown: exit code 0)."""

import contextlib
import io
import re
import shlex
from pathlib import Path

from napari_unmix import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _console(block: str, capsys) -> int:
    lines = [line for line in block.strip().splitlines() if line.strip()]
    n = 0
    for i, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        argv = shlex.split(line[2:])
        assert argv[0] == "napari-unmix", line
        expected = []
        for follow in lines[i + 1 :]:
            if follow.startswith("$ "):
                break
            expected.append(follow)
        capsys.readouterr()
        code = cli.main(argv[1:])
        err = capsys.readouterr().err.strip().splitlines()
        if expected:
            assert code == 1 and err[-1:] == expected, (line, err)
        else:
            assert code == 0, (line, err)
        n += 1
    return n


def test_cli_doc_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```(python|console)\n(.*?)```", DOC.read_text(), flags=re.S)
    namespace: dict = {}
    n_commands = 0
    for kind, block in blocks:
        if kind == "console":
            n_commands += _console(block, capsys)
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(DOC), "exec"), namespace)
        expected = re.findall(r"^print\(.*\)\s+# (.*)$", block, flags=re.M)
        assert out.getvalue().strip().splitlines() == expected
    assert n_commands == 7
    for name in ("beads_nnls_spectra.csv", "cell.csv", "cell.png", "tissue_maps_report/report.md"):
        assert (tmp_path / name).exists(), name
    assert not (tmp_path / "beads_x.ome.tif").exists()
