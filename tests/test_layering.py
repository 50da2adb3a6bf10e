"""The compute core and the script API never load GUI packages or omio at import time."""

import subprocess
import sys

FORBIDDEN = (
    "napari",
    "qtpy",
    "magicgui",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "omio",
    "matplotlib",
)


def test_core_and_api_import_no_gui():
    code = (
        "import sys, pkgutil, importlib\n"
        "import napari_unmix, napari_unmix.core, napari_unmix.api\n"
        "for pkg in (napari_unmix.core, napari_unmix.api):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
        "for name in napari_unmix._EXPORTS:\n"
        "    getattr(napari_unmix, name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip()
    assert loaded == "", f"core/api imported GUI or I/O packages: {loaded}"


def test_public_exports_resolve():
    import napari_unmix

    for name in napari_unmix.__all__:
        assert getattr(napari_unmix, name) is not None, name
    assert set(napari_unmix._EXPORTS) <= set(dir(napari_unmix))


def test_io_and_plot_import_no_gui():
    """io/ and plot/ load no napari, Qt or magicgui (io no matplotlib, and omio only lazily)."""
    code = (
        "import sys, pkgutil, importlib\n"
        "import napari_unmix.io, napari_unmix.plot\n"
        "for pkg in (napari_unmix.io, napari_unmix.plot):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.strip().split(","))
    assert not loaded & (set(FORBIDDEN) - {"matplotlib"}), sorted(loaded & set(FORBIDDEN))
