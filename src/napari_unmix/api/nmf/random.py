"""Unseeded factorisations of hyperspectral cubes: random-start NNMF and PCA."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...core.nmf import INITS, RandomNmfOptions, iter_nmf
from ...core.options import takes_options
from ...core.progress import Steps, run_form
from ...core.report import describe_array, start_report
from ...core.validate import check_option_types
from .common import (
    _assemble,
    _axis,
    _check_cube,
    _check_exclude,
    _check_k,
    _check_signal,
    _fit_part,
    _flatten,
    _names,
    _part,
    _result,
    _slices,
    _unflatten,
)
from .result import UnmixResult

__all__ = ["iter_random_nnmf", "pca", "random_nnmf"]


@takes_options(RandomNmfOptions)
def iter_random_nnmf(
    cube: Any,
    k: int,
    /,
    *,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    options: RandomNmfOptions,
) -> Steps:
    """Unseeded NNMF (exploratory first pass): NNDSVD(a) or random init, then HALS / MU.

    The generator form (yields :class:`~napari_unmix.core.progress.Progress` events,
    returns the :class:`~napari_unmix.api.nmf.UnmixResult`); :func:`random_nnmf` runs it
    to the end. ``init`` is one of :data:`~napari_unmix.core.nmf.INITS`; ``solver``,
    ``max_iter``, ``tol``, ``l1_W`` and ``random_state`` (reproducible) as in
    :func:`~napari_unmix.api.nmf.seeded_nnmf`.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, _ = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = random_nnmf(cube, 5, random_state=0)
    >>> res.W.shape, res.relative_error < 0.2
    ((5, 32, 32), True)
    """
    opts = options
    start = INITS.resolve(opts.init).function
    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    k = _check_k(k, C)
    axis = _axis(spectral_axis, C)
    ex = _check_exclude(exclude, (ny, nx))
    names = _names(names, k)
    parts = []
    for data in _slices(cube, is4d):
        X, good = _flatten(data, ex)
        Xg = X[good]
        _check_signal(Xg)
        if k > Xg.shape[0]:
            raise ValueError(f"k={k} components but only {Xg.shape[0]} usable pixels")
        W0, H0 = start(Xg, k, opts.random_state)
        fit = yield from iter_nmf(Xg, W0, H0, **opts.fit_kwargs())
        parts.append(_fit_part(X, good, fit, (ny, nx)))
    out = _assemble(parts, is4d, is4d)
    params = {"method": "random_nnmf", **opts.as_dict(), "names": names,
              "spectral_units": spectral_units}  # fmt: skip
    report = start_report("random_nnmf", params, {"cube": describe_array(cube)})
    report.update(relative_error=out["relative_error"], n_iter=out["n_iter"],
                  converged=out["converged"], H=out["H"])  # fmt: skip
    return _result(out, None, params, report, names, axis, spectral_units)


random_nnmf = run_form(
    iter_random_nnmf, "random_nnmf", "Unseeded NNMF: NNDSVD(a) or random init, then HALS / MU.",
    "UnmixResult",
)  # fmt: skip


def pca(
    cube: Any,
    k: int,
    /,
    *,
    exclude: np.ndarray | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    random_state: int = 0,
) -> UnmixResult:
    """Principal components (scikit-learn PCA): ``W`` = scores, ``H`` = components.

    Scores and components can be negative; the data mean is part of the model (stored in
    ``report["mean_spectrum"]``), the residual is that of mean + k components.

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, _ = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = pca(cube, 3)
    >>> res.H.shape, len(res.report["explained_variance_ratio"])
    ((3, 24), 3)
    """
    check_option_types(pca, locals())
    from sklearn.decomposition import PCA

    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    k = _check_k(k, C)
    axis = _axis(spectral_axis, C)
    ex = _check_exclude(exclude, (ny, nx))
    parts, ratios, means = [], [], []
    for data in _slices(cube, is4d):
        X, good = _flatten(data, ex)
        model = PCA(n_components=k, random_state=random_state)
        scores = model.fit_transform(X[good])
        rec = scores @ model.components_ + model.mean_
        r2 = ((X[good] - rec) ** 2).sum(axis=1)
        part = _part(X, good, scores, model.components_, (ny, nx))
        # the residual of mean + k components (the mean is part of the model)
        part.update(residual=_unflatten(np.sqrt(r2)[:, None], good, (ny, nx))[0],
                    num=float(r2.sum()), den=float((X[good] ** 2).sum()))  # fmt: skip
        parts.append(part)
        ratios.append(model.explained_variance_ratio_)
        means.append(model.mean_)
    out = _assemble(parts, is4d, is4d)
    names = [f"PC{j + 1}" for j in range(k)]
    params = {
        "method": "pca",
        "k": k,
        "random_state": random_state,
        "spectral_units": spectral_units,
    }
    report = start_report("pca", params, {"cube": describe_array(cube)})
    report.update(
        relative_error=out["relative_error"],
        explained_variance_ratio=ratios[0] if not is4d else ratios,
        mean_spectrum=means[0] if not is4d else means,
        H=out["H"],
    )
    return UnmixResult(
        out["W"], out["H"], out["residual"], out["relative_error"], 0, True, None, params,
        report, names, axis, spectral_units,
    )  # fmt: skip
