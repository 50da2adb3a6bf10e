"""The static import-layer contract (pyproject.toml [tool.importlinter]), run by import-linter.

demos > widgets (and the npe2 reader/writer glue) > cli > api > io, plot > core; core imports
no GUI, plotting or OMIO; io and plot no Qt; no circles between sibling modules. Lazy
imports inside functions count. (tests/test_layering.py checks at run time what a fresh
``import napari_unmix`` loads.)
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(contract: str) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is missing: `make install` installs import-linter (test extra)")
    return subprocess.run(
        [exe, "--no-cache", "--contract", contract],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "contract",
    [
        "layers",
        "core-headless",
        "io-plot-no-qt",
        "no-circles",
    ],
)
def test_import_contract_is_kept(contract):
    run = _lint_imports(contract)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
