"""STNMF compute: sparse semi-NMF of spike-triggered ensembles, ensembles, module properties.

* :mod:`.options` — :class:`StnmfOptions` (the factorisation), :data:`SETTINGS` with
  :class:`StnmfSettingsOptions`, :class:`StnmfRecordingOptions`;
* :mod:`.updates` — products through the Gram matrix, AF-HALS, :data:`INITS`,
  :data:`FORMULATIONS`;
* :mod:`.solver` — :func:`iter_sparse_seminmf` / :func:`sparse_seminmf`;
* :mod:`.ensemble` — from a stimulus movie and spikes to an ensemble; the memory guard;
* :mod:`.props` — Moran's I, outlines, Gaussian fits, coverage.

Examples
--------
>>> import numpy as np
>>> v = np.random.default_rng(0).standard_normal((16, 300))
>>> sparse_seminmf(v, 3, num_iter=2).modules.shape
(16, 3)
"""

from __future__ import annotations

from . import ensemble, props
from .ensemble import *  # noqa: F403 (its __all__)
from .options import (
    SETTINGS,
    StnmfFitOptions,
    StnmfOptions,
    StnmfRecordingOptions,
    StnmfSettingsOptions,
    settings_values,
)
from .solver import RelativeChange, SemiNMFResult, init_modules, iter_sparse_seminmf, sparse_seminmf
from .updates import (
    FORMULATIONS,
    INITS,
    afhals,
    gram,
    products_direct,
    products_gram,
    reference_rho,
    residual_from_products,
    solve_weights,
)

__all__ = [
    *ensemble.__all__,
    "FORMULATIONS",
    "INITS",
    "SETTINGS",
    "RelativeChange",
    "SemiNMFResult",
    "StnmfFitOptions",
    "StnmfOptions",
    "StnmfRecordingOptions",
    "StnmfSettingsOptions",
    "afhals",
    "gram",
    "init_modules",
    "iter_sparse_seminmf",
    "products_direct",
    "products_gram",
    "props",
    "reference_rho",
    "residual_from_products",
    "settings_values",
    "solve_weights",
    "sparse_seminmf",
]
