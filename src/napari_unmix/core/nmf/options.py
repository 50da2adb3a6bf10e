"""The options of the NNMF tools, written once: the fit, seeded NNMF, random NNMF.

:class:`NmfOptions` holds what every NNMF fit takes (solver, iteration cap, tolerance, L1
sparsity, random state); :class:`SeededNmfOptions` adds how a seeded fit treats slices and
large images, :class:`RandomNmfOptions` the unseeded start. The API functions
take these as explicit keywords with the class attributes as defaults, the CLI builds its
flags and the dock its controls from them (:mod:`napari_unmix.core.options`). The number
of components ``k`` is an argument (it depends on the data), not an option. The seeds'
options are :class:`~napari_unmix.core.seeds.SeedOptions`.

Examples
--------
>>> NmfOptions.max_iter, NmfOptions.tol, NmfOptions.solver
(1000, 1e-06, 'auto')
>>> NmfOptions(max_iter=0)
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: need max_iter >= 1, tol >= 0 and l1_W >= 0, got max_iter=0, tol=1e-06, l1_W=0.0
"""

from __future__ import annotations

from dataclasses import dataclass

from ..options import Options, option
from ..validate import OptionError, check_int, check_number
from .init import INITS
from .solvers import SOLVERS

__all__ = ["SLICE_MODES", "NmfOptions", "RandomNmfOptions", "SeededNmfOptions"]

#: how a seeded fit treats the Z/T slices of a 4-D cube (the strategies are in
#: :mod:`napari_unmix.api.nmf.seeded`)
SLICE_MODES = ("per_slice", "reference")


@dataclass(frozen=True)
class NmfOptions(Options):
    """Options of every NNMF fit (:func:`~napari_unmix.core.nmf.fit_nmf` and the API)."""

    solver: str = option("auto", label="Solver", choices=SOLVERS, advanced=True,
                         doc="NNMF update rule (auto: HALS, exact when slow)")  # fmt: skip
    max_iter: int = option(1000, label="Max iterations", bounds=(1, None),
                           doc="iteration cap (then a ConvergenceWarning)")  # fmt: skip
    tol: float = option(
        1e-6, label="Tolerance", bounds=(0, None), doc="relative precision of the stop rule"
    )
    l1_W: float = option(0.0, flag="--l1-w", label="Sparsity (L1 on W)", advanced=True,
                         doc="L1 sparsity on the maps (0 = none)")  # fmt: skip
    random_state: int = option(
        0, label="Random state", doc="seed of every random draw", bounds=(0, None), advanced=True
    )

    def __post_init__(self) -> None:
        # the registry's and one message for the three iteration controls (the wording
        # scripts and tests know)
        SOLVERS.resolve(self.solver)
        max_iter = check_int("max_iter", self.max_iter)
        tol = check_number("tol", self.tol)
        l1_W = check_number("l1_W", self.l1_W)
        if max_iter < 1 or not tol >= 0 or not l1_W >= 0:
            raise OptionError(
                f"need max_iter >= 1, tol >= 0 and l1_W >= 0, got {max_iter=}, {tol=}, {l1_W=}"
            )
        super().__post_init__()

    def fit_kwargs(self) -> dict:
        """The keywords of :func:`~napari_unmix.core.nmf.iter_nmf` (solver, max_iter, tol, l1_W)."""
        return {n: getattr(self, n) for n in ("solver", "max_iter", "tol", "l1_W")}


@dataclass(frozen=True)
class SeededNmfOptions(NmfOptions):
    """Seeded NNMF (:func:`~napari_unmix.api.nmf.seeded_nnmf`): the fit plus 4-D / sampling."""

    slice_mode: str = option("per_slice", label="4-D handling", choices=SLICE_MODES,
                             doc="fit every slice, or one + NNLS", advanced=True)  # fmt: skip
    reference_slice: int = option(0, bounds=(0, None), label="Reference slice",
                                  doc="slice fitted in reference mode", advanced=True)  # fmt: skip
    max_pixels: int | None = option(None, label="Fit on pixels", bounds=(1, None), advanced=True,
                                    doc="fit on a sample, then NNLS of all (dask)")  # fmt: skip
    anchor: float = option(3.0, label="Seed anchor", bounds=(0, None), advanced=True,
                           doc="keeps spectra near the seeds (0 = plain NNMF)")  # fmt: skip

    def fit_kwargs(self) -> dict:
        """:meth:`NmfOptions.fit_kwargs` plus the seed ``anchor``."""
        return super().fit_kwargs() | {"anchor": self.anchor}


@dataclass(frozen=True)
class RandomNmfOptions(NmfOptions):
    """Unseeded NNMF (:func:`~napari_unmix.api.nmf.random_nnmf`): the fit plus its start."""

    init: str = option("nndsvda", label="Start", doc="unseeded start", choices=INITS)
