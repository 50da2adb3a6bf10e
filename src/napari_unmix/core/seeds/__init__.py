"""Seeds for NNMF and NNLS: H rows (spectra) and W columns (maps) from ROIs and knowledge.

A component is described by a :class:`ComponentSeed` (ROI masks, a known spectrum, a
Gaussian resonance model, spectral-information "resonance" settings, a fixed map, flags);
:func:`prepare_seeds` turns a list of them into a :class:`SeedSet` (``H0``, ``W0``, locks,
provenance) that the solvers take and that a "Test seeds" preview shows. Masks are plain
boolean Y×X arrays (no napari types), so a widget rasterises its shapes and calls this.

Examples
--------
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(48, 48), n_channels=32)
>>> masks = truth["abundances"] > 0.5 * truth["abundances"].max(axis=(1, 2), keepdims=True)
>>> comps = [ComponentSeed(name=n, masks=[m]) for n, m in zip(truth["names"], masks)]
>>> seeds = prepare_seeds(cube, comps)
>>> seeds.H0.shape, seeds.W0.shape, seeds.names[0]
((4, 32), (4, 48, 48), 'lipid')
"""

from __future__ import annotations

from .background import BACKGROUND_MAPS, BACKGROUND_SUBTRACTIONS
from .options import RESIDUAL_RANKS, SeedOptions
from .prepare import prepare_seeds
from .spectra import audit_seeds, band_image, gaussian_spectrum, mask_spectrum, resample_spectrum
from .types import ComponentSeed, SeedSet
from .w_modes import W_MODES, w_from_h

__all__ = [
    "BACKGROUND_MAPS",
    "BACKGROUND_SUBTRACTIONS",
    "RESIDUAL_RANKS",
    "W_MODES",
    "ComponentSeed",
    "SeedOptions",
    "SeedSet",
    "audit_seeds",
    "band_image",
    "gaussian_spectrum",
    "mask_spectrum",
    "prepare_seeds",
    "resample_spectrum",
    "w_from_h",
]
