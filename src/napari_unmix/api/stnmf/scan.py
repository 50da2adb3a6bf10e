"""Choose the sparsity of an STNMF without ground truth: :func:`select_sparsity`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core.stnmf import StnmfOptions
from .model import STNMF

__all__ = ["select_sparsity"]

_O = StnmfOptions


def select_sparsity(
    ste: Any,
    /,
    *,
    sparsities: tuple[float, ...] = (1.7, 2.5, 3.5, 5.0),
    r: int = _O.r,
    num_iter: int = _O.num_iter,
    pixel_size: float = _O.pixel_size,
    options: StnmfOptions | None = None,
) -> tuple[STNMF, list[dict[str, float]]]:
    """Factorise once per sparsity and keep the run with the most total localization.

    The score of a run is the sum of Moran's I over its localized modules (how many
    subunits, and how compact): too little sparsity leaves subunits mixed with noise,
    too much merges or erases them. No ground truth is used. The Gram matrix is computed
    once and shared, so the scan costs a few single runs of the Gram solver. ``r``,
    ``num_iter`` and ``pixel_size`` are those of :class:`STNMF`; ``options`` (a
    :class:`~napari_unmix.core.stnmf.StnmfOptions`) sets any other keyword of the class
    (``init``, ``seed``, ``moransi_threshold``, ``smoothing``, ...).

    Returns the best :class:`STNMF` and one row per sparsity (``sparsity``,
    ``num_subunits``, ``score``, ``residual``).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_ste_sparse
    >>> ste, _ = make_ste_sparse(n_spikes=1500, grid=10)
    >>> best, rows = select_sparsity(ste, sparsities=(1.7, 3.0), r=6, num_iter=10)
    >>> len(rows), best.sparsity in (1.7, 3.0)
    (2, True)
    """
    if not sparsities:
        raise ValueError("give at least one sparsity")
    given = (options or StnmfOptions()).as_dict()
    init = given.pop("init")
    stnmf = {k: v for k, v in given.items() if k not in ("alpha", "eps", "sparsity")}
    stnmf.update(r=r, num_iter=num_iter, pixel_size=pixel_size)
    rows, best, best_score, g = [], None, -np.inf, None
    for sp in sparsities:
        s = STNMF(ste, **stnmf, sparsity=sp, init=None, factorize=False)
        if g is None:
            g = s.gram
        s._g = g
        s.init(init)
        s.factorize()
        score = float(s.moransi[s.localized].sum())
        rows.append(
            {"sparsity": sp, "num_subunits": s.num_subunits, "score": score, "residual": s.res}
        )
        if score > best_score:
            best, best_score = s, score
    return best, rows
