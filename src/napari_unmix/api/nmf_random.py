"""Unseeded factorisations of hyperspectral cubes: random-start NNMF and PCA."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np

from ..core.nmf import (
    DEFAULT_MAX_ITER,
    DEFAULT_SOLVER,
    DEFAULT_TOL,
    iter_nmf,
    nndsvd_init,
    random_init,
    run_to_end,
)
from ..core.report import describe_array, start_report
from ..core.validate import check_option_types
from ._nmf_common import (
    INITS,
    _assemble,
    _axis,
    _check_cube,
    _check_exclude,
    _check_k,
    _check_nmf_options,
    _check_signal,
    _fit_part,
    _flatten,
    _names,
    _slices,
    _unflatten,
)
from .nmf_result import UnmixResult

__all__ = ["iter_random_nnmf", "pca", "random_nnmf"]


def iter_random_nnmf(
    cube: Any,
    k: int,
    /,
    *,
    init: str = "nndsvda",
    solver: str = DEFAULT_SOLVER,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    l1_W: float = 0.0,
    exclude: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    random_state: int = 0,
) -> Generator[tuple[int, float], None, UnmixResult]:
    """Generator form of :func:`random_nnmf` (yields ``(iteration, objective)``)."""
    check_option_types(iter_random_nnmf, locals())
    _check_nmf_options(solver, max_iter, tol, l1_W, "per_slice")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    cube, is4d = _check_cube(cube)
    C, ny, nx = cube.shape[-3:]
    k = _check_k(k, C)
    axis = _axis(spectral_axis, C)
    ex = _check_exclude(exclude, (ny, nx))
    names = _names(names, k)
    nmf_opts = {"solver": solver, "max_iter": int(max_iter), "tol": float(tol), "l1_W": l1_W}
    parts = []
    for data in _slices(cube, is4d):
        X, good = _flatten(data, ex)
        Xg = X[good]
        _check_signal(Xg)
        if k > Xg.shape[0]:
            raise ValueError(f"k={k} components but only {Xg.shape[0]} usable pixels")
        if init == "random":
            W0, H0 = random_init(Xg, k, random_state=random_state)
        else:
            W0, H0 = nndsvd_init(Xg, k, variant=init, random_state=random_state)
        fit = yield from iter_nmf(Xg, W0, H0, **nmf_opts)
        parts.append(_fit_part(X, good, fit, (ny, nx)))
    out = _assemble(parts, is4d, is4d)
    params = {"method": "random_nnmf", "k": k, "init": init, "random_state": random_state,
              **nmf_opts, "names": names, "spectral_units": spectral_units}  # fmt: skip
    report = start_report("random_nnmf", params, {"cube": describe_array(cube)})
    report.update(relative_error=out["relative_error"], n_iter=out["n_iter"],
                  converged=out["converged"], H=out["H"])  # fmt: skip
    return UnmixResult(
        out["W"], out["H"], out["residual"], out["relative_error"], out["n_iter"],
        out["converged"], None, params, report, names, axis, spectral_units, out["history"],
    )  # fmt: skip


def random_nnmf(cube: Any, k: int, /, **kwargs: Any) -> UnmixResult:
    """Unseeded NNMF (exploratory first pass): NNDSVD(a) or random init, then HALS / MU.

    Keyword arguments as :func:`iter_random_nnmf`: ``init`` ("nndsvda", "nndsvd",
    "random"), ``solver``, ``max_iter``, ``tol``, ``l1_W``, ``exclude``, ``names``,
    ``spectral_axis``, ``spectral_units``, ``random_state`` (reproducible).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_bead_cube
    >>> cube, _ = make_bead_cube(shape=(32, 32), n_channels=24)
    >>> res = random_nnmf(cube, 5, random_state=0)
    >>> res.W.shape, res.relative_error < 0.2
    ((5, 32, 32), True)
    """
    return run_to_end(iter_random_nnmf(cube, k, **kwargs))


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
        parts.append(
            {
                "W": _unflatten(scores, good, (ny, nx)),
                "H": model.components_,
                "residual": _unflatten(np.sqrt(r2)[:, None], good, (ny, nx))[0],
                "num": float(r2.sum()),
                "den": float((X[good] ** 2).sum()),
                "n_iter": 0,
                "converged": True,
                "history": [],
            }
        )
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
