"""Synthetic data with known ground truth, for the sample menu, tests, demos and benchmarks.

Every generator is deterministic given ``random_state`` and returns ``(data, truth)``:
the measured array and a dict with everything that made it (mixing coefficients, pure
signals, spectra, abundance maps, subunits).

Examples
--------
>>> data, truth = make_bleedthrough_stack(n_t=2, n_z=2, shape=(32, 32))
>>> data.shape, truth["alpha"]
((2, 2, 2, 32, 32), 0.35)
"""

from __future__ import annotations

from .fluorescence import gaussian_blobs, make_bleedthrough_stack, make_picasso_mix
from .hyperspectral import (
    bead_cube_labels,
    make_bead_cube,
    make_similar_bead_cube,
    make_two_region_cube,
    resonance_spectrum,
)
from .stnmf import make_ste, make_ste_sparse

__all__ = [
    "bead_cube_labels",
    "gaussian_blobs",
    "make_bead_cube",
    "make_bleedthrough_stack",
    "make_picasso_mix",
    "make_similar_bead_cube",
    "make_ste",
    "make_ste_sparse",
    "make_two_region_cube",
    "resonance_spectrum",
]
