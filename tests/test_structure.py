"""tools/structure.py finds nothing: no module > 500 lines, no function > 120 code lines,
no public ``**kwargs``, no import circles."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _structure():
    spec = importlib.util.spec_from_file_location("structure", ROOT / "tools" / "structure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_structure_violations():
    assert _structure().violations() == []
