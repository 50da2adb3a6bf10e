"""Script API for hyperspectral unmixing: fixed-H NNLS, seeded NNMF, random NNMF and PCA.

All of them take a cube ``C × Y × X`` (or ``slices × C × Y × X``) and return one
:class:`UnmixResult` with ``W`` (maps), ``H`` (spectra), ``residual``, ``relative_error``,
``n_iter``, ``converged``, ``seeds``, ``params`` and a provenance ``report``. The long
solvers have generator forms (``iter_seeded_nnmf``, ``iter_random_nnmf``) that yield
:class:`~napari_unmix.core.progress.Progress` events and return the result, for progress
bars and cancel buttons; the plain functions run them to the end
(:func:`napari_unmix.core.progress.run`). The file-level functions (``*_file``) read an
image file and write maps, spectra and a report.

Modules: :mod:`.nnls` (fixed H), :mod:`.seeded`, :mod:`.random` (and PCA), :mod:`.methods`
(the :data:`METHODS` registry the dock and ``nnmf_file`` choose from), :mod:`.files`,
:mod:`.result`, :mod:`.common` (private helpers).

Examples
--------
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
>>> res = nnls_unmix(cube, truth["spectra"])
>>> res.W.shape, res.H.shape, res.residual.shape
((4, 32, 32), (4, 24), (32, 32))
"""

from __future__ import annotations

from .common import load_spectra
from .files import nnls_unmix_file, nnmf_file, random_nnmf_file, seeded_nnmf_file
from .methods import METHODS, SEEDED, iter_method
from .nnls import nnls_unmix, seeded_nnls
from .random import iter_random_nnmf, pca, random_nnmf
from .result import UnmixResult, save_result
from .seeded import iter_seeded_nnmf, seeded_nnmf

__all__ = [
    "METHODS",
    "SEEDED",
    "UnmixResult",
    "iter_method",
    "iter_random_nnmf",
    "iter_seeded_nnmf",
    "load_spectra",
    "nnls_unmix",
    "nnls_unmix_file",
    "nnmf_file",
    "pca",
    "random_nnmf",
    "random_nnmf_file",
    "save_result",
    "seeded_nnls",
    "seeded_nnmf",
    "seeded_nnmf_file",
]
