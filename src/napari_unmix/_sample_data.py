"""npe2 sample data (File > Open Sample): real files shipped in ``sample_data/``, and
synthetic data sets with known ground truth (in ``layer.metadata["ground_truth"]``).

The real files and their sources and licences are listed in ``sample_data/README.md``;
:func:`sample_path` finds them in an installed package or a source checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .core import synthetic

__all__ = [
    "SAMPLE_FILES",
    "bead_cube_sample",
    "bleedthrough_sample",
    "picasso_brain_sample",
    "picasso_sample",
    "raman_axis_sample",
    "sample_path",
    "ste_sample",
    "ste_sparse_sample",
    "two_region_sample",
]

LayerDataTuple = tuple[Any, dict[str, Any], str]

#: Files in ``sample_data/`` (shipped in the wheel as package data), name -> description.
SAMPLE_FILES = {
    "picasso_gfap_draq5.ome.tif": "real 2-channel image (GFAP / DRAQ5), PICASSO paper, CC BY 4.0",
    "raman/raman_cube.tif": "synthetic Raman cube, plain TIFF without an axis",
    "raman/wavelength.json": "its spectral axis in the reference GUI package's format",
    "raman/raman_library_spectra.csv": "the cube's two spectra (axis column + 2 columns)",
}


def sample_path(name: str) -> Path:
    """Path of a file in ``sample_data/`` (see :data:`SAMPLE_FILES`).

    Examples
    --------
    >>> sample_path("raman/wavelength.json").name
    'wavelength.json'
    """
    from importlib.resources import files

    if name not in SAMPLE_FILES:
        raise ValueError(f"unknown sample file {name!r}; choose one of {sorted(SAMPLE_FILES)}")
    path = Path(str(files("napari_unmix") / "sample_data" / name))
    if not path.is_file():
        raise FileNotFoundError(f"sample file {name!r} is missing from the installation ({path})")
    return path


def _file_sample(name: str, key: str) -> list[LayerDataTuple]:
    from ._reader import layers_from_image
    from .io.omio_io import read_image

    path = sample_path(name)
    data, meta = read_image(path)
    layers = layers_from_image(data, meta, name=path.name, source_path=str(path))
    for _, kwargs, _ in layers:
        kwargs["metadata"] = {**kwargs["metadata"], "sample": key}
    return layers


def picasso_brain_sample() -> list[LayerDataTuple]:
    """Real two-channel image of the PICASSO paper (GFAP green, DRAQ5 magenta), 256 × 256.

    A crop of ``m1_e0_GFAPgreenDRAQmagenta.tif`` from the napari-PICASSO 0.3.0 source
    distribution (Seo et al., Nat Commun 13, 2475 (2022), CC BY 4.0): no ground truth,
    real bleed-through between the two stains.
    """
    return _file_sample("picasso_gfap_draq5.ome.tif", "picasso_brain")


def raman_axis_sample() -> list[LayerDataTuple]:
    """A plain-TIFF Raman cube (60 channels) whose axis comes from ``wavelength.json``
    beside it (``layer.metadata["spectral_axis_source"]`` says so)."""
    return _file_sample("raman/raman_cube.tif", "raman_axis")


def bleedthrough_sample() -> list[LayerDataTuple]:
    """Two-channel TZCYX stack; channel 0 bleeds into channel 1 with alpha = 0.35."""
    data, truth = synthetic.make_bleedthrough_stack()
    meta = {
        "axes": "TZYX",
        "channel_axes": "TZCYX",
        "ground_truth": truth,
        "sample": "bleedthrough",
    }
    return [
        (
            data,
            {
                "channel_axis": 2,
                "name": ["source (C0)", "target (C1)"],
                "axis_labels": ("t", "z", "y", "x"),
                "colormap": ["green", "magenta"],
                "blending": "additive",
                "metadata": meta,
            },
            "image",
        )
    ]


def picasso_sample() -> list[LayerDataTuple]:
    """Three fluorophores mixed by a known 3×3 matrix (off-diagonals 0.1–0.4)."""
    data, truth = synthetic.make_picasso_mix(n_channels=3)
    return [
        (
            data,
            {
                "channel_axis": 2,
                "name": [f"mixed C{i}" for i in range(data.shape[2])],
                "axis_labels": ("t", "z", "y", "x"),
                "colormap": ["cyan", "magenta", "yellow"],
                "blending": "additive",
                "metadata": {"axes": "TZYX", "ground_truth": truth, "sample": "picasso"},
            },
            "image",
        )
    ]


def bead_cube_sample() -> list[LayerDataTuple]:
    """Hyperspectral bead cube (C×Y×X) with four known spectra and abundance maps."""
    cube, truth = synthetic.make_bead_cube()
    return [
        (
            cube,
            {
                "name": "bead cube",
                "axis_labels": ("c", "y", "x"),
                "colormap": "gray",
                "metadata": {
                    "axes": "CYX",
                    "spectral_axis": truth["spectral_axis"],
                    "spectral_units": truth["spectral_units"],
                    "ground_truth": truth,
                    "sample": "bead_cube",
                },
            },
            "image",
        )
    ]


def _ste_layer(ste: np.ndarray, truth: dict[str, Any], name: str, key: str) -> LayerDataTuple:
    """An ensemble (x, y, m) as one image layer, spikes first (``metadata["ste_axes"]``)."""
    meta = {"ste_axes": "mxy", "ground_truth": truth, "sample": key}
    size = truth["pixel_size"]
    style = {"axis_labels": ("spike", "x", "y"), "colormap": "gray", "scale": (1.0, size, size)}
    return np.moveaxis(ste, -1, 0), {"name": name, **style, "metadata": meta}, "image"


def ste_sample() -> list[LayerDataTuple]:
    """Spike-triggered stimulus ensemble of a model cell with 7 Gaussian subunits.

    The default model cell of :mod:`napari_unmix.core.scenarios.stnmf` (rectified
    subunits, a thresholded output) at 20,000 spikes: the STNMF dock's defaults find its 7
    subunits. The layer holds the ensemble as (m, x, y), one stimulus frame per spike, so
    napari scrolls through spikes; ``metadata["ste_axes"]`` says so.
    """
    from .core.scenarios.stnmf import make_cell

    ste, truth = make_cell(n_spikes=20000)
    return [_ste_layer(ste, truth, "spike-triggered ensemble", "ste")]


def ste_sparse_sample() -> list[LayerDataTuple]:
    """Ensemble of a sparsely firing model cell (thresholded output) with 7 subunits.

    Same layout as :func:`ste_sample` (spikes first, ``metadata["ste_axes"] == "mxy"``);
    here STNMF separates the subunits (see ``docs/stnmf.md``).
    """
    ste, truth = synthetic.make_ste_sparse(n_spikes=20000)
    return [_ste_layer(ste, truth, "spike-triggered ensemble (sparse cell)", "ste_sparse")]


def two_region_sample() -> list[LayerDataTuple]:
    """Raman-like two-region cube (200 wavenumbers, 600–1800 cm⁻¹) and its truth labels."""
    cube, truth = synthetic.make_two_region_cube()
    meta = {
        "axes": "CYX",
        "spectral_axis": truth["spectral_axis"],
        "spectral_units": truth["spectral_units"],
        "ground_truth": truth,
        "sample": "two_region",
    }
    return [
        (
            cube,
            {
                "name": "two-region cube",
                "colormap": "gray",
                "axis_labels": ("c", "y", "x"),
                "metadata": meta,
            },
            "image",
        ),
        (
            truth["labels"],
            {
                "name": "two-region truth",
                "metadata": {"ground_truth": truth, "sample": "two_region"},
            },
            "labels",
        ),
    ]
