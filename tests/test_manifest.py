"""The npe2 manifest is valid, names the distribution, and ships inside the wheel."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_npe2_validate():
    npe2 = shutil.which("npe2", path=str(Path(sys.executable).parent)) or "npe2"
    out = subprocess.run([npe2, "validate", "napari-unmix"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout


def test_manifest_ids_and_symlink():
    top = ROOT / "napari.yaml"
    assert top.is_symlink() and top.resolve() == (ROOT / "src/napari_unmix/napari.yaml").resolve()
    man = yaml.safe_load(top.read_text())
    assert man["name"] == "napari-unmix"
    ids = [c["id"] for c in man["contributions"]["commands"]]
    assert all(i.startswith("napari-unmix.") for i in ids)
    assert len(ids) == len(set(ids))
    # every command points at an importable callable
    import importlib

    for c in man["contributions"]["commands"]:
        mod, _, attr = c["python_name"].partition(":")
        assert callable(getattr(importlib.import_module(mod), attr)), c["python_name"]


@pytest.mark.slow
def test_wheel_contains_manifest(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    wheel = next(tmp_path.glob("napari_unmix-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "napari_unmix/napari.yaml" in names
    from napari_unmix._sample_data import SAMPLE_FILES  # the sample files ship too

    for name in (*SAMPLE_FILES, "README.md"):
        assert f"napari_unmix/sample_data/{name}" in names, name
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "napari_unmix:napari.yaml" in zipfile.ZipFile(wheel).read(entry).decode()
