"""prepare_seeds reports the pixels a resonance seed averaged (for the seed preview)."""

import numpy as np

from napari_unmix.core.seeds import ComponentSeed, prepare_seeds
from napari_unmix.core.synthetic import make_bead_cube


def test_resonance_seed_pixels_in_provenance():
    cube, truth = make_bead_cube(shape=(48, 48), n_channels=32)
    axis = truth["spectral_axis"]
    comps = [
        ComponentSeed(name="weak", resonance={"position": 3015.0, "width": 15.0, "n_pixels": 30}),
        ComponentSeed(name="g", resonance={"position": 2935.0, "width": 20.0, "gaussian": True}),
    ]
    seeds = prepare_seeds(cube, comps, spectral_axis=axis)
    pix = seeds.provenance[0]["seed_pixels"]
    assert pix.shape == (30, 2) and pix.dtype.kind == "i"
    # they are the brightest pixels of the band, and their mean is the H seed
    band = np.abs(axis - 3015.0) <= 15.0
    img = cube[band].mean(axis=0)
    assert img[pix[:, 0], pix[:, 1]].min() >= np.sort(img.ravel())[-30] - 1e-6
    np.testing.assert_allclose(seeds.H0[0], cube[:, pix[:, 0], pix[:, 1]].mean(axis=1), rtol=1e-5)
    assert "seed_pixels" not in seeds.provenance[1]  # a Gaussian H seed averages no pixels
