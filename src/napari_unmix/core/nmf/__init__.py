"""NNMF ``X ≈ W H`` with per-component locks, its options, solvers, stop rule and starts.

The pieces (one module each): :mod:`.options` (:class:`NmfOptions` and the seeded / random
variants, every default written once), :mod:`.solvers` (the block updates and the
:data:`SOLVERS` registry), :mod:`.stop` (the scale-free :func:`stop_rule`), :mod:`.init`
(NNDSVD / random starts, :data:`INITS`), :mod:`.fit` (:func:`iter_nmf` / :func:`fit_nmf`).
Exact fixed-H NNLS is :mod:`napari_unmix.core.nnls`, the seeds :mod:`napari_unmix.core.seeds`.
"""

from __future__ import annotations

from .fit import NMFFit, fit_nmf, iter_nmf, objective
from .init import INITS, nndsvd_init, random_init
from .options import SLICE_MODES, NmfOptions, RandomNmfOptions, SeededNmfOptions
from .solvers import SOLVERS
from .stop import STOP_WINDOW, stop_rule

#: the defaults of :class:`NmfOptions` under their former names (read, not restated)
DEFAULT_SOLVER = NmfOptions.solver
DEFAULT_TOL = NmfOptions.tol
DEFAULT_MAX_ITER = NmfOptions.max_iter

__all__ = [
    "DEFAULT_MAX_ITER",
    "DEFAULT_SOLVER",
    "DEFAULT_TOL",
    "INITS",
    "SLICE_MODES",
    "SOLVERS",
    "STOP_WINDOW",
    "NMFFit",
    "NmfOptions",
    "RandomNmfOptions",
    "SeededNmfOptions",
    "fit_nmf",
    "iter_nmf",
    "nndsvd_init",
    "objective",
    "random_init",
    "stop_rule",
]
