"""Fixtures of the reliability suite: tiny inputs on disk and a folder nobody can write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest


def _writable(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder the test process cannot write into (chmod 0555; /sys when run as root)."""
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    try:
        if not _writable(d):
            yield d
            return
        for candidate in (Path("/sys"), Path("/proc/sys")):
            if candidate.is_dir() and not _writable(candidate):
                yield candidate
                return
        pytest.skip("no folder on this machine refuses writes to this user")
    finally:
        d.chmod(0o755)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small inputs: a 12-channel bead cube with its spectra, a 2-channel stack, an STE."""
    from napari_unmix.core.synthetic import make_bead_cube, make_bleedthrough_stack, make_ste
    from napari_unmix.io.omio_io import write_image
    from napari_unmix.io.spectra import write_spectra_csv

    d = tmp_path_factory.mktemp("inputs")
    cube, truth = make_bead_cube(shape=(16, 16), n_channels=12, random_state=0)
    axis = truth["spectral_axis"]
    beads = write_image(
        d / "beads.ome.tif",
        cube[None, None],
        extra={"spectral_axis": axis.tolist(), "spectral_units": "nm"},
    )
    lib = write_spectra_csv(d / "library.csv", axis, truth["spectra"], truth["names"])
    stack, _ = make_bleedthrough_stack(n_t=1, n_z=2, shape=(16, 16))
    two = write_image(d / "two.ome.tif", stack)
    ste, _ = make_ste(n_spikes=300, grid=6, random_state=0)
    np.save(d / "ste.npy", ste)
    return {"dir": d, "beads": beads, "library": lib, "two": two, "ste": d / "ste.npy"}
