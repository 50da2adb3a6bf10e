"""Spectral preprocessing of hyperspectral cubes, vectorised over all pixels at once.

Every step works on the whole cube (C×Y×X) — internally on the pixel matrix
(pixels × channels) — never in a loop over pixels. The steps are chained by a frozen
:class:`Preprocessing` pipeline whose settings go into every report (``to_dict``).

Steps (in this order): crop of the spectral range, baseline removal (``"poly"``: iterative
modified polynomial; ``"asls"``: asymmetric least squares, Eilers & Boelens 2005),
normalisation (``"area"``, ``"max"``, ``"vector"``, ``"snv"``), spatial Gaussian smoothing.

Examples
--------
>>> from napari_unmix.core.synthetic import make_two_region_cube
>>> cube, truth = make_two_region_cube(shape=(8, 8))
>>> pipe = Preprocessing(crop=(1000, 1800), baseline="poly", normalise="snv")
>>> out, axis = pipe.apply(cube, truth["spectral_axis"])
>>> out.shape == (axis.size, 8, 8), bool(abs(float(out.mean())) < 1e-5)
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from dask import is_dask_collection
from scipy import ndimage

from ._stacks import nan_safe
from .options import Options, option
from .registry import Method, Registry
from .validate import OptionError

__all__ = [
    "BASELINES",
    "NORMALISATIONS",
    "AslsOptions",
    "PolyOptions",
    "Preprocessing",
    "baseline_asls",
    "baseline_poly",
    "crop_spectral",
    "normalise",
    "smooth_spatial",
]


def _rows(cube):
    """(C, Y, X) -> (Y*X, C) float32 view/copy."""
    return np.asarray(cube, dtype=np.float32).reshape(cube.shape[0], -1).T


def _per_spectrum(fn: Callable[[np.ndarray], np.ndarray], cube):
    """Apply ``fn`` (rows in, rows out, same channel count) to a (C, Y, X) cube.

    Dask cubes stay lazy: every block holds the full spectral axis.
    """

    def block(b):
        return fn(_rows(b)).T.reshape(b.shape).astype(np.float32)

    if is_dask_collection(cube):
        cube = cube.rechunk({0: -1})
        return cube.map_blocks(block, dtype=np.float32)
    return block(np.asarray(cube))


# ----------------------------------------------------------------------------- crop
def crop_spectral(cube, axis: np.ndarray, limits: tuple[float, float], /):
    """Keep the channels whose axis value lies within ``limits`` (inclusive).

    Examples
    --------
    >>> cube = np.zeros((5, 2, 2)); axis = np.array([600.0, 900, 1200, 1500, 1800])
    >>> c, a = crop_spectral(cube, axis, (900, 1500))
    >>> c.shape, a.tolist()
    ((3, 2, 2), [900.0, 1200.0, 1500.0])
    """
    axis = np.asarray(axis, dtype=np.float64)
    lo, hi = sorted(float(v) for v in limits)
    keep = np.flatnonzero((axis >= lo) & (axis <= hi))
    if keep.size < 2:
        raise ValueError(
            f"crop {limits} keeps {keep.size} channel(s) of the axis "
            f"{axis.min():g}..{axis.max():g}; widen the range"
        )
    return cube[keep[0] : keep[-1] + 1], axis[keep[0] : keep[-1] + 1]


# ----------------------------------------------------------------------------- baselines
def _vandermonde(axis: np.ndarray, degree: int) -> np.ndarray:
    t = np.asarray(axis, dtype=np.float64)
    t = (t - t.mean()) / max(float(np.ptp(t)) / 2, 1e-12)  # well conditioned on [-1, 1]
    return np.vander(t, degree + 1)


def baseline_poly(rows: np.ndarray, /, *, axis: np.ndarray, degree: int = 3, n_iter: int = 30):
    """Iterative modified polynomial baseline (Lieber & Mahadevan-Jansen) of every row.

    Each iteration fits a polynomial of ``degree`` to all spectra at once (one least-squares
    solve with many right-hand sides) and clips the spectra to the fit, so peaks stop pulling
    the baseline up.

    Returns
    -------
    baseline : ndarray, shape like ``rows`` (pixels × channels), float32

    Examples
    --------
    >>> ax = np.linspace(0, 1, 50); base = 1 + 2 * ax
    >>> peak = np.exp(-0.5 * ((ax - 0.5) / 0.03) ** 2)
    >>> b = baseline_poly((base + peak)[None], axis=ax, degree=1)
    >>> bool(np.abs(b - base).max() < 0.05)
    True
    """
    if degree < 0 or n_iter < 1:
        raise ValueError(f"need degree >= 0 and n_iter >= 1, got {degree=}, {n_iter=}")
    work = np.array(rows, dtype=np.float32)  # a copy: the input is never modified
    V = _vandermonde(axis, degree)
    if V.shape[0] != work.shape[1]:
        raise ValueError(f"axis has {V.shape[0]} values but the spectra {work.shape[1]} channels")
    proj = np.linalg.pinv(V).T.astype(np.float32)  # (C, degree+1): coefficients = work @ proj
    Vt = V.T.astype(np.float32)
    for _ in range(n_iter):
        np.minimum(work, (work @ proj) @ Vt, out=work)
    return (work @ proj) @ Vt


def _pentadiagonal_solve(diag, lam_bands, rhs):
    """Solve (diag(w) + lam DᵀD) z = rhs for many spectra at once (banded Cholesky).

    ``diag`` and ``rhs`` are (C, pixels): channel-major, so every step below works on one
    contiguous row of all pixels. ``lam_bands`` are the three constant bands of lam DᵀD
    (main, first, second off-diagonal). The loop runs over channels, vectorised over pixels.
    """
    c = rhs.shape[0]
    b0, b1, b2 = lam_bands
    l0 = np.empty_like(rhs)
    l1 = np.zeros_like(rhs)  # l1[i] = L[i, i-1]
    l2 = np.zeros_like(rhs)  # l2[i] = L[i, i-2]
    for i in range(c):
        if i >= 2:
            np.divide(b2[i - 2], l0[i - 2], out=l2[i])
            l1[i] = (b1[i - 1] - l2[i] * l1[i - 1]) / l0[i - 1]
        elif i == 1:
            l1[i] = b1[0] / l0[0]
        l0[i] = np.sqrt(diag[i] + b0[i] - l1[i] ** 2 - l2[i] ** 2)
    z = np.empty_like(rhs)
    for i in range(c):  # forward: L y = rhs
        acc = rhs[i].copy()
        if i >= 1:
            acc -= l1[i] * z[i - 1]
        if i >= 2:
            acc -= l2[i] * z[i - 2]
        z[i] = acc / l0[i]
    for i in range(c - 1, -1, -1):  # backward: Lᵀ x = y
        acc = z[i].copy()
        if i + 1 < c:
            acc -= l1[i + 1] * z[i + 1]
        if i + 2 < c:
            acc -= l2[i + 2] * z[i + 2]
        z[i] = acc / l0[i]
    return z


def baseline_asls(rows: np.ndarray, /, *, lam: float = 1e5, p: float = 0.01, n_iter: int = 10):
    """Asymmetric least-squares baseline (Eilers & Boelens 2005) of every row at once.

    Minimises ``Σ w (y - z)² + lam Σ (Δ²z)²`` with weights ``p`` above and ``1 - p`` below
    the baseline, re-weighted ``n_iter`` times; each solve is one banded Cholesky
    factorisation vectorised over all pixels.

    Examples
    --------
    >>> ax = np.linspace(0, 1, 100); base = 1 + ax
    >>> peak = np.exp(-0.5 * ((ax - 0.5) / 0.02) ** 2)
    >>> b = baseline_asls((base + peak)[None], lam=1e4, p=0.01)
    >>> bool(np.abs(b - base).max() < 0.05)
    True
    """
    if lam <= 0 or not 0 < p < 1 or n_iter < 1:
        raise ValueError(f"need lam > 0, 0 < p < 1 and n_iter >= 1, got {lam=}, {p=}, {n_iter=}")
    y = np.asarray(rows, dtype=np.float64).T.copy()  # channel-major (C, pixels)
    c = y.shape[0]
    if c < 3:
        raise ValueError(f"AsLS needs at least 3 channels, got {c}")
    D = np.diff(np.eye(c), 2, axis=0)
    DtD = lam * (D.T @ D)
    bands = (np.diag(DtD).copy(), np.diag(DtD, -1).copy(), np.diag(DtD, -2).copy())
    w = np.ones_like(y)
    z = y
    for _ in range(n_iter):
        z = _pentadiagonal_solve(w, bands, w * y)
        w = np.where(y > z, p, 1 - p)
    return z.T.astype(np.float32)


@dataclass(frozen=True)
class PolyOptions(Options):
    """Options of the polynomial baseline."""

    degree: int = option(3, label="degree", doc="polynomial degree", bounds=(0, None))
    n_iter: int = option(30, label="iterations", doc="clipping iterations", bounds=(1, None))


@dataclass(frozen=True)
class AslsOptions(Options):
    """Options of the asymmetric least-squares baseline."""

    lam: float = option(1e5, label="stiffness", doc="smoothness penalty", bounds=(0.0, None))
    p: float = option(0.01, label="asymmetry", doc="weight above the baseline", bounds=(0.0, 1.0))
    n_iter: int = option(10, label="iterations", doc="re-weighting rounds", bounds=(1, None))


#: Baseline methods: ``function(rows, axis, options)`` returning the baseline rows.
BASELINES = Registry(
    "baseline",
    [
        Method(
            "poly",
            lambda r, axis, o: baseline_poly(r, axis=axis, degree=o.degree, n_iter=o.n_iter),
            "Polynomial (iterative)",
            "Low-order polynomial clipped under the peaks; `degree` 2-5.",
            PolyOptions,
        ),
        Method(
            "asls",
            lambda r, axis, o: baseline_asls(r, lam=o.lam, p=o.p, n_iter=o.n_iter),
            "Asymmetric least squares",
            "Smooth baseline under the peaks; larger `lam` = stiffer, `p` ~0.001-0.05.",
            AslsOptions,
        ),
    ],
)


# ----------------------------------------------------------------------------- normalisation
def _safe_divide(rows, scale):
    """``rows / scale``; a zero scale gives 0, a NaN scale (a spectrum with NaN) NaN."""
    scale = np.asarray(scale, dtype=np.float64)
    ok = ~(np.abs(scale) <= 1e-12)  # NaN stays "ok": a NaN spectrum stays NaN
    return np.where(ok, rows / np.where(ok, scale, 1.0), 0.0)


def _norm_area(rows, axis):
    widths = np.abs(np.gradient(np.asarray(axis, dtype=np.float64)))
    return _safe_divide(rows, (np.abs(rows) * widths).sum(axis=1, keepdims=True))


def _norm_snv(rows, axis):
    centred = rows - rows.mean(axis=1, keepdims=True)
    return _safe_divide(centred, rows.std(axis=1, keepdims=True))


#: Normalisations: ``function(rows, axis)`` returning normalised rows (float64).
NORMALISATIONS = Registry(
    "normalisation",
    [
        Method("area", _norm_area, "Area", "Divide by the integrated absolute intensity."),
        Method(
            "max",
            lambda r, axis: _safe_divide(r, np.abs(r).max(axis=1, keepdims=True)),
            "Maximum",
            "Divide by the largest absolute value.",
        ),
        Method(
            "vector",
            lambda r, axis: _safe_divide(r, np.linalg.norm(r, axis=1, keepdims=True)),
            "Vector (L2)",
            "Divide by the Euclidean norm.",
        ),
        Method(
            "snv", _norm_snv, "SNV", "Standard normal variate: subtract the mean, divide by the sd."
        ),
    ],
)


def normalise(cube, axis: np.ndarray, /, *, method: str = "vector"):
    """Normalise every spectrum of a (C, Y, X) cube; zero spectra stay zero.

    Examples
    --------
    >>> cube = np.array([[[3.0]], [[4.0]]])
    >>> normalise(cube, np.array([1.0, 2.0]), method="vector").ravel().tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    if method not in NORMALISATIONS:
        raise ValueError(
            f"unknown normalisation {method!r}; choose one of {sorted(NORMALISATIONS)}"
        )
    fn = NORMALISATIONS[method].function
    return _per_spectrum(lambda r: fn(r.astype(np.float64), axis), cube)


def smooth_spatial(cube, /, *, sigma: float):
    """Gaussian smoothing of every channel image (Y, X) with ``sigma`` pixels.

    Dask cubes stay lazy (overlapping blocks). A NaN or inf pixel stays as it is and is
    smoothed as the mean of its finite neighbours, so it does not spread.

    Examples
    --------
    >>> cube = np.zeros((1, 5, 5), np.float32); cube[0, 2, 2] = 1
    >>> round(float(smooth_spatial(cube, sigma=1).sum()), 4)
    1.0
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0 pixels, got {sigma=}")
    if sigma == 0:
        return cube

    def block(b):
        return nan_safe(
            lambda a: ndimage.gaussian_filter(a, sigma=(0, sigma, sigma), mode="reflect"),
            np.asarray(b, dtype=np.float32),
        )

    if is_dask_collection(cube):
        depth = int(np.ceil(4 * sigma))
        return cube.map_overlap(
            block, depth={0: 0, 1: depth, 2: depth}, boundary="reflect", dtype=np.float32
        )
    return block(cube)


# ----------------------------------------------------------------------------- pipeline
@dataclass(frozen=True)
class Preprocessing(Options):
    """A frozen preprocessing pipeline: crop -> baseline -> normalise -> spatial smoothing.

    Parameters
    ----------
    crop : (float, float) or None
        Spectral range to keep, in axis units.
    baseline : {"none", "poly", "asls"}
    baseline_params : tuple of (name, value)
        E.g. ``(("degree", 3),)`` for "poly", ``(("lam", 1e5), ("p", 0.01))`` for "asls"
        (the baseline's options class in :data:`BASELINES`).
    normalise : {"none", "area", "max", "vector", "snv"}
    spatial_sigma : float
        Gaussian sigma in pixels (0 = off).

    Examples
    --------
    >>> Preprocessing(normalise="area").to_dict()["normalise"]
    'area'
    """

    crop: tuple[float, ...] | None = option(
        None, label="crop range", doc="spectral range to keep (axis units)"
    )
    baseline: str = option(
        "none", label="baseline", doc="baseline removal", choices=("none", *BASELINES)
    )
    baseline_params: tuple = option(
        (), label="baseline options", doc="(name, value) pairs of the baseline", advanced=True
    )
    normalise: str = option(
        "none", label="normalise", doc="normalisation of every spectrum",
        choices=("none", *NORMALISATIONS),
    )  # fmt: skip
    spatial_sigma: float = option(
        0.0, label="spatial sigma (px)", doc="Gaussian smoothing of every channel image",
        bounds=(0.0, None), unit="px",
    )  # fmt: skip

    def __post_init__(self):
        if self.baseline != "none" and self.baseline not in BASELINES:
            raise OptionError(
                f"unknown baseline {self.baseline!r}; use 'none' or {sorted(BASELINES)}"
            )
        if self.normalise != "none" and self.normalise not in NORMALISATIONS:
            raise OptionError(
                f"unknown normalisation normalise={self.normalise!r}; use 'none' or "
                f"{sorted(NORMALISATIONS)}"
            )
        super().__post_init__()
        if self.baseline != "none":
            self.baseline_options()  # validates the parameters

    def baseline_options(self) -> Options:
        """The baseline's options object from ``baseline_params``."""
        return BASELINES[self.baseline].options.from_kwargs(
            dict(self.baseline_params), where=f"baseline {self.baseline!r}"
        )

    @property
    def is_identity(self) -> bool:
        return (
            self.crop is None
            and self.baseline == "none"
            and self.normalise == "none"
            and self.spatial_sigma == 0
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings for a report (``baseline_params`` as a dict)."""
        out = self.as_dict()
        out["baseline_params"] = dict(self.baseline_params)
        return out

    def apply(self, cube, axis: np.ndarray, /):
        """Run the pipeline on a (C, Y, X) cube (numpy or dask); returns ``(cube, axis)``."""
        axis = np.asarray(axis, dtype=np.float64)
        if cube.ndim != 3 or cube.shape[0] != axis.size:
            raise ValueError(
                f"expected a (C, Y, X) cube with C = {axis.size} (the axis length), got "
                f"{cube.shape=}"
            )
        if self.crop is not None:
            cube, axis = crop_spectral(cube, axis, self.crop)
        if self.baseline != "none":
            fn, params = BASELINES[self.baseline].function, self.baseline_options()
            cube = _per_spectrum(lambda r: r - fn(r, axis, params), cube)
        if self.normalise != "none":
            cube = normalise(cube, axis, method=self.normalise)
        if self.spatial_sigma > 0:
            cube = smooth_spatial(cube, sigma=self.spatial_sigma)
        if not is_dask_collection(cube):
            cube = np.asarray(cube, dtype=np.float32)
        return cube, axis
