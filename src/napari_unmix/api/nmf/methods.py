"""The hyperspectral unmixing methods as one registry: seeded NNMF, fixed-H NNLS, random
NNMF, PCA.

:data:`METHODS` is what the analysis dock's dropdown, :func:`~napari_unmix.api.nmf.nnmf_file`
and the CLI choose from. Every entry's function is a generator
``(cube, seeds_or_k, options) -> Steps`` that yields
:class:`~napari_unmix.core.progress.Progress` events and returns the
:class:`~napari_unmix.api.nmf.UnmixResult`; ``options`` is a flat mapping from which each
method takes the keywords its API function has (:func:`iter_method`).

Examples
--------
>>> list(METHODS)
['seeded_nnmf', 'nnls', 'random_nnmf', 'pca']
>>> sorted(SEEDED)
['nnls', 'seeded_nnmf']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ...core.nmf import RandomNmfOptions, SeededNmfOptions
from ...core.progress import Progress, Steps
from ...core.registry import Method, Registry
from ...core.seeds import SeedOptions
from .nnls import seeded_nnls
from .random import iter_random_nnmf, pca
from .seeded import iter_seeded_nnmf

__all__ = ["METHODS", "SEEDED", "iter_method"]


def _keywords(func: Callable, options: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``options`` that ``func`` takes as keywords."""
    params = inspect.signature(func).parameters
    return {
        k: v for k, v in options.items() if k in params and params[k].kind.name == "KEYWORD_ONLY"
    }


def _seeded_nnmf(cube: Any, seeds: Any, options: Mapping[str, Any]) -> Steps:
    return (yield from iter_seeded_nnmf(cube, seeds, **_keywords(iter_seeded_nnmf, options)))


def _nnls(cube: Any, seeds: Any, options: Mapping[str, Any]) -> Steps:
    yield Progress(0, None, "fixed-H NNLS")
    return seeded_nnls(cube, seeds, **_keywords(seeded_nnls, options))


def _random_nnmf(cube: Any, k: Any, options: Mapping[str, Any]) -> Steps:
    return (yield from iter_random_nnmf(cube, k, **_keywords(iter_random_nnmf, options)))


def _pca(cube: Any, k: Any, options: Mapping[str, Any]) -> Steps:
    yield Progress(0, None, "PCA")
    return pca(cube, k, **_keywords(pca, options))


#: method -> generator (cube, seeds or k, options), label, doc, options class
METHODS = Registry(
    "method",
    [
        Method(
            "seeded_nnmf",
            _seeded_nnmf,
            "seeded NNMF",
            "NNMF started from the ROI / spectrum / resonance seeds (k = their count).",
            SeededNmfOptions,
        ),
        Method(
            "nnls",
            _nnls,
            "fixed-H NNLS",
            "Exact NNLS of every pixel against the seed spectra (H kept fixed).",
            SeedOptions,
        ),
        Method(
            "random_nnmf",
            _random_nnmf,
            "random NNMF",
            "Unseeded NNMF (NNDSVDa init), a first look at k components.",
            RandomNmfOptions,
        ),
        Method(
            "pca",
            _pca,
            "PCA",
            "Principal components (scores can be negative).",
            RandomNmfOptions,
        ),
    ],
)

#: the methods whose second argument is seeds (the others take k)
SEEDED = frozenset({"seeded_nnmf", "nnls"})


def iter_method(method: str, cube: Any, seeds_or_k: Any, /, options: Mapping[str, Any]) -> Steps:
    """Run one of :data:`METHODS` (a generator): ``seeds_or_k`` are the seeds of a seeded
    method (:data:`SEEDED`), else ``k``; ``options`` a flat mapping of keywords (each
    method takes those its function has)."""
    return (yield from METHODS.resolve(method).function(cube, seeds_or_k, options))
